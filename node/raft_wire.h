/* SPDX-License-Identifier: GPL-2.0-only */
/* Raft messages on the wire: struct raft_msg to and from capnet datagrams. Snapshots, which
 * outgrow a datagram, travel as numbered chunks and are put back together on arrival. Pure. */
#ifndef CAPNET_RAFT_WIRE_H
#define CAPNET_RAFT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/proto.h"
#include "node/raft.h"

/* APPEND batches: entries and bytes per datagram the Raft config must stay within. */
#define RAFT_WIRE_BATCH_ENTRIES 16
#define RAFT_WIRE_BATCH_BYTES 600
/* The largest entry (an encoded client request) one APPEND can carry alone. */
#define RAFT_WIRE_ENTRY_MAX 1280
/* Snapshot bytes per chunk datagram. */
#define RAFT_WIRE_CHUNK 1200

/* The proto type a Raft message travels as, and back; 0 when there is none. */
uint8_t raft_wire_proto_type(uint8_t raft_type);
uint8_t raft_wire_raft_type(uint8_t proto_type);
/* True for the proto types that carry Raft messages. */
bool raft_wire_is_raft(uint8_t proto_type);

/* Encodes any message but SNAPSHOT into buf; returns the datagram length or -PROTO_ERR_*. */
int raft_wire_encode(const struct raft_msg *m, uint64_t msg_id, uint8_t *buf, size_t cap);
/* Number of chunks a SNAPSHOT message is sent as. */
uint32_t raft_wire_snapshot_chunks(const struct raft_msg *m);
/* Encodes chunk k (0-based) of a SNAPSHOT message. */
int raft_wire_encode_snapshot_chunk(const struct raft_msg *m, uint32_t k, uint64_t msg_id,
				    uint8_t *buf, size_t cap);

/*
 * Decodes a Raft datagram (already checked by proto_decode) into *m. Entries go to entries[]
 * (at most max_entries) and their data, like m's, points into payload. A SNAPSHOT chunk is not
 * a message: it returns 1 and fills *chunk for raft_wire_assemble(). Returns 0, 1 or
 * -PROTO_ERR_PAYLOAD.
 */
struct raft_wire_chunk {
	uint16_t from;
	uint64_t term;
	uint64_t index;
	uint64_t log_term;
	uint32_t total;
	uint32_t offset;
	uint32_t len;
	const uint8_t *data;
};
int raft_wire_decode(const struct proto_header *hdr, const uint8_t *payload, struct raft_msg *m,
		     struct raft_entry *entries, uint32_t max_entries,
		     struct raft_wire_chunk *chunk);

/* Puts one sender's snapshot back together from chunks arriving in any order. */
struct raft_wire_assembler {
	uint16_t from;
	uint64_t term, index, log_term;
	uint32_t total, received;
	uint8_t *data;
	uint8_t *have; /* a byte per chunk */
};

/* Feeds a chunk; a chunk of a newer snapshot (or another sender) starts over. Returns 1 with
 * *m (a SNAPSHOT message pointing into the assembler) when complete, 0 while incomplete,
 * -ENOMEM or -EINVAL (inconsistent chunk). */
int raft_wire_assemble(struct raft_wire_assembler *a, const struct raft_wire_chunk *c, uint16_t to,
		       struct raft_msg *m);
void raft_wire_assembler_reset(struct raft_wire_assembler *a);

#endif /* CAPNET_RAFT_WIRE_H */
