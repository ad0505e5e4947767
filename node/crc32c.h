/* SPDX-License-Identifier: GPL-2.0-only */
/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every capnet datagram.
 * The same CRC as iSCSI and ext4 metadata, so any implementation can verify a capture. */
#ifndef CAPNET_CRC32C_H
#define CAPNET_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Continues a CRC: crc is a finished CRC32C value (0 to start), so
 * crc32c(crc32c(0, a, na), b, nb) == crc32c(0, a || b, na + nb).
 * Uses the SSE4.2 crc32 instruction when the CPU has it, the table otherwise.
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table-driven path, always available; crc32c() must agree with it. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* True when crc32c() uses the CPU's instruction. */
bool crc32c_hw_available(void);

#endif /* CAPNET_CRC32C_H */
