// SPDX-License-Identifier: GPL-2.0-only
/* Raft messages to and from capnet datagrams, and snapshot chunking. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/raft_wire.h"

#define MAX_SNAPSHOT (64u << 20)

static const uint8_t to_proto[RAFT_MSG_TYPE_MAX] = {
	[RAFT_MSG_PREVOTE] = PROTO_PREVOTE,
	[RAFT_MSG_PREVOTE_RESP] = PROTO_PREVOTE_RESP,
	[RAFT_MSG_VOTE] = PROTO_VOTE,
	[RAFT_MSG_VOTE_RESP] = PROTO_VOTE_RESP,
	[RAFT_MSG_APPEND] = PROTO_APPEND,
	[RAFT_MSG_APPEND_RESP] = PROTO_APPEND_RESP,
	[RAFT_MSG_SNAPSHOT] = PROTO_SNAPSHOT,
	[RAFT_MSG_HEARTBEAT] = PROTO_HEARTBEAT,
	[RAFT_MSG_HEARTBEAT_RESP] = PROTO_HEARTBEAT_RESP,
	[RAFT_MSG_READ_INDEX] = PROTO_READ_INDEX,
	[RAFT_MSG_READ_INDEX_RESP] = PROTO_READ_INDEX_RESP,
};

uint8_t raft_wire_proto_type(uint8_t raft_type)
{
	return raft_type < RAFT_MSG_TYPE_MAX ? to_proto[raft_type] : 0;
}

uint8_t raft_wire_raft_type(uint8_t proto_type)
{
	uint8_t t;

	for (t = 1; t < RAFT_MSG_TYPE_MAX; t++)
		if (to_proto[t] == proto_type)
			return t;
	return 0;
}

bool raft_wire_is_raft(uint8_t proto_type)
{
	return raft_wire_raft_type(proto_type) != 0;
}

static bool is_response(uint8_t t)
{
	return t == RAFT_MSG_PREVOTE_RESP || t == RAFT_MSG_VOTE_RESP || t == RAFT_MSG_APPEND_RESP ||
	       t == RAFT_MSG_HEARTBEAT_RESP || t == RAFT_MSG_READ_INDEX_RESP;
}

static void header_for(const struct raft_msg *m, uint64_t msg_id, struct proto_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->type = raft_wire_proto_type(m->type);
	hdr->flags = is_response(m->type) ? PROTO_FLAG_REPLY : 0;
	hdr->from = m->from;
	hdr->to = m->to;
	hdr->term = m->term;
	hdr->msg_id = msg_id;
}

/* Every message carries the same fixed fields; which matter depends on the type (raft.h). */
static void put_fixed(struct proto_writer *w, const struct raft_msg *m)
{
	proto_put_u8(w, m->reject);
	proto_put_u64(w, m->index);
	proto_put_u64(w, m->log_term);
	proto_put_u64(w, m->commit);
	proto_put_u64(w, m->hint_index);
	proto_put_u64(w, m->hint_term);
	proto_put_u64(w, m->context);
}

int raft_wire_encode(const struct raft_msg *m, uint64_t msg_id, uint8_t *buf, size_t cap)
{
	struct proto_header hdr;
	struct proto_writer w;
	uint32_t i;

	if (!raft_wire_proto_type(m->type) || m->type == RAFT_MSG_SNAPSHOT)
		return -PROTO_ERR_INVAL;
	header_for(m, msg_id, &hdr);
	proto_msg_begin(&w, buf, cap);
	put_fixed(&w, m);
	proto_put_u16(&w, m->type == RAFT_MSG_APPEND ? m->n_entries : 0);
	if (m->type == RAFT_MSG_APPEND) {
		/* Indexes are implicit: entries follow m->index without gaps. */
		for (i = 0; i < m->n_entries; i++) {
			const struct raft_entry *e = &m->entries[i];

			if (e->index != m->index + 1 + i || e->len > RAFT_WIRE_ENTRY_MAX)
				return -PROTO_ERR_INVAL;
			proto_put_u64(&w, e->term);
			proto_put_u64(&w, e->client_id);
			proto_put_u64(&w, e->seq);
			proto_put_u8(&w, e->type);
			proto_put_bytes(&w, e->data, e->len);
		}
	}
	return proto_msg_end(&w, &hdr);
}

uint32_t raft_wire_snapshot_chunks(const struct raft_msg *m)
{
	return m->snap_len ? (m->snap_len + RAFT_WIRE_CHUNK - 1) / RAFT_WIRE_CHUNK : 1;
}

int raft_wire_encode_snapshot_chunk(const struct raft_msg *m, uint32_t k, uint64_t msg_id,
				    uint8_t *buf, size_t cap)
{
	uint32_t offset = k * RAFT_WIRE_CHUNK, len;
	struct proto_header hdr;
	struct proto_writer w;

	if (m->type != RAFT_MSG_SNAPSHOT || k >= raft_wire_snapshot_chunks(m) ||
	    m->snap_len > MAX_SNAPSHOT)
		return -PROTO_ERR_INVAL;
	len = m->snap_len - offset < RAFT_WIRE_CHUNK ? m->snap_len - offset : RAFT_WIRE_CHUNK;
	header_for(m, msg_id, &hdr);
	proto_msg_begin(&w, buf, cap);
	proto_put_u64(&w, m->index);
	proto_put_u64(&w, m->log_term);
	proto_put_u32(&w, m->snap_len);
	proto_put_u32(&w, offset);
	proto_put_bytes(&w, m->snap_data ? m->snap_data + offset : NULL, len);
	return proto_msg_end(&w, &hdr);
}

int raft_wire_decode(const struct proto_header *hdr, const uint8_t *payload, struct raft_msg *m,
		     struct raft_entry *entries, uint32_t max_entries,
		     struct raft_wire_chunk *chunk)
{
	struct proto_reader r;
	uint8_t type = raft_wire_raft_type(hdr->type);
	uint8_t reject;
	uint16_t n, i;

	if (!type || !hdr->from || !hdr->to)
		return -PROTO_ERR_PAYLOAD;
	proto_reader_init(&r, payload, hdr->payload_len);
	if (type == RAFT_MSG_SNAPSHOT) {
		size_t len;

		memset(chunk, 0, sizeof(*chunk));
		chunk->from = hdr->from;
		chunk->term = hdr->term;
		chunk->index = proto_get_u64(&r);
		chunk->log_term = proto_get_u64(&r);
		chunk->total = proto_get_u32(&r);
		chunk->offset = proto_get_u32(&r);
		chunk->data = proto_get_bytes(&r, RAFT_WIRE_CHUNK, &len);
		chunk->len = len;
		if (proto_reader_end(&r))
			return -PROTO_ERR_PAYLOAD;
		if (chunk->total > MAX_SNAPSHOT || chunk->offset % RAFT_WIRE_CHUNK ||
		    (uint64_t)chunk->offset + chunk->len > chunk->total ||
		    (chunk->len != RAFT_WIRE_CHUNK && chunk->offset + chunk->len != chunk->total))
			return -PROTO_ERR_PAYLOAD;
		return 1;
	}

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->from = hdr->from;
	m->to = hdr->to;
	m->term = hdr->term;
	reject = proto_get_u8(&r);
	m->reject = reject;
	m->index = proto_get_u64(&r);
	m->log_term = proto_get_u64(&r);
	m->commit = proto_get_u64(&r);
	m->hint_index = proto_get_u64(&r);
	m->hint_term = proto_get_u64(&r);
	m->context = proto_get_u64(&r);
	n = proto_get_u16(&r);
	if (r.error || reject > 1 || (n && type != RAFT_MSG_APPEND) || n > max_entries)
		return -PROTO_ERR_PAYLOAD;
	for (i = 0; i < n; i++) {
		struct raft_entry *e = &entries[i];
		size_t len;

		e->index = m->index + 1 + i;
		e->term = proto_get_u64(&r);
		e->client_id = proto_get_u64(&r);
		e->seq = proto_get_u64(&r);
		e->type = proto_get_u8(&r);
		e->data = proto_get_bytes(&r, RAFT_WIRE_ENTRY_MAX, &len);
		e->len = len;
		if (r.error || e->type > RAFT_ENTRY_NOOP)
			return -PROTO_ERR_PAYLOAD;
	}
	if (proto_reader_end(&r))
		return -PROTO_ERR_PAYLOAD;
	m->entries = n ? entries : NULL;
	m->n_entries = n;
	return 0;
}

void raft_wire_assembler_reset(struct raft_wire_assembler *a)
{
	free(a->data);
	free(a->have);
	memset(a, 0, sizeof(*a));
}

int raft_wire_assemble(struct raft_wire_assembler *a, const struct raft_wire_chunk *c, uint16_t to,
		       struct raft_msg *m)
{
	uint32_t chunks = c->total ? (c->total + RAFT_WIRE_CHUNK - 1) / RAFT_WIRE_CHUNK : 1;
	uint32_t k = c->offset / RAFT_WIRE_CHUNK;

	if (a->data == NULL && a->have == NULL && a->total == 0 && a->from == 0)
		goto start;
	if (a->from != c->from || a->index != c->index || a->term != c->term ||
	    a->log_term != c->log_term || a->total != c->total) {
		/* A different snapshot: an older one lost a chunk and the leader moved on. */
		raft_wire_assembler_reset(a);
		goto start;
	}
	goto add;
start:
	a->from = c->from;
	a->term = c->term;
	a->index = c->index;
	a->log_term = c->log_term;
	a->total = c->total;
	a->data = malloc(c->total ? c->total : 1);
	a->have = calloc(chunks, 1);
	if (!a->data || !a->have) {
		raft_wire_assembler_reset(a);
		return -ENOMEM;
	}
add:
	if (k >= chunks)
		return -EINVAL;
	if (!a->have[k]) {
		memcpy(a->data + c->offset, c->data, c->len);
		a->have[k] = 1;
		a->received++;
	}
	if (a->received < chunks)
		return 0;
	memset(m, 0, sizeof(*m));
	m->type = RAFT_MSG_SNAPSHOT;
	m->from = a->from;
	m->to = to;
	m->term = a->term;
	m->index = a->index;
	m->log_term = a->log_term;
	m->snap_len = a->total;
	m->snap_data = a->data;
	return 1;
}
