/* SPDX-License-Identifier: GPL-2.0-only */
/* The AP log ("ap.log" in a node's data directory) as bytes: its record codec and the parser
 * replay uses. Pure: a buffer in, records and a verdict on the tail out, so it is fuzzed
 * (tests/fuzz/fuzz_ap_log.c) and unit-tested apart from the node.
 *
 * A record is: u32 length of the data, u8 kind (enum dyn_write_kind), u8 zero[3], the data, u32
 * CRC32C of kind, zeros and data; all big-endian. */
#ifndef CAPNET_AP_LOG_H
#define CAPNET_AP_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "node/dynamo.h"

#define AP_LOG_HDR 8
#define AP_LOG_RECORD_MAX (AP_LOG_HDR + PROTO_MAX_PAYLOAD + 4)

/* Writes w as one record at dst (room for AP_LOG_RECORD_MAX bytes); returns its length. */
size_t ap_log_encode(uint8_t *dst, const struct dyn_write *w);

struct ap_log_scan {
	size_t good; /* bytes of whole, valid records from the start */
	size_t records; /* how many */
	size_t tail; /* bytes after them: a write torn by a crash, for the caller to cut */
	size_t bad_at; /* with -EBADMSG: the offset of the first bad record */
};

/* Calls fn for every whole record with a valid CRC, in order, with its offset, until the first
 * one that is not. What follows it is a torn tail when it is shorter than one record can be;
 * anything longer is corruption (valid records may follow), -EBADMSG. Returns 0, -EBADMSG, or
 * fn's first non-zero return (the scan stops there). out is filled in every case. */
int ap_log_parse(const uint8_t *buf, size_t len,
		 int (*fn)(void *arg, const struct dyn_write *w, size_t off), void *arg,
		 struct ap_log_scan *out);

#endif /* CAPNET_AP_LOG_H */
