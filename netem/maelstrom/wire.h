/* SPDX-License-Identifier: GPL-2.0-only */
/* The datagram between two maelstrom shims: "M<seq> " and then the message, one line of JSON,
 * to the peer's MAEL_SHIM_PORT. seq numbers the sender's messages from 1, so that the sender,
 * its receiver and seq name one message in the shims' logs, in a capture and in the filter's
 * drop events (whose payload holds the tag). Pure. */
#ifndef CAPNET_MAELSTROM_WIRE_H
#define CAPNET_MAELSTROM_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* The UDP port every shim listens on for its peers. */
#define MAEL_SHIM_PORT 7170
#define MAEL_WIRE_TAG 'M'

/* Parses a datagram's tag: the sequence number and where the message starts, or -EINVAL. */
int mael_wire_parse(const char *d, size_t n, uint64_t *seq, size_t *start);

#endif /* CAPNET_MAELSTROM_WIRE_H */
