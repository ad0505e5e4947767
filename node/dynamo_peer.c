// SPDX-License-Identifier: GPL-2.0-only
/* AP mode's side of the conversation between replicas: what a node does with every message
 * from a peer, and anti-entropy by digest exchange. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/dynamo_internal.h"

/* ---- anti-entropy ---- */

void ap_digest(const struct dynamo *d, uint16_t peer, uint64_t *out)
{
	struct rec *r;
	size_t i;

	memset(out, 0, DYN_BUCKETS * sizeof(*out));
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next)
			if (r->nver && ap_is_replica(d, r->space, r->key, peer) &&
			    ap_is_replica(d, r->space, r->key, d->cfg.id))
				out[r->hash % DYN_BUCKETS] += ap_rec_fp(r);
}

static void send_digest(struct dynamo *d, uint16_t to, uint8_t type, const uint64_t *dg)
{
	struct proto_writer w;
	struct dyn_msg *m;
	unsigned int b;

	if (!ap_msg_begin(d, to, type, &w, &m))
		return;
	for (b = 0; b < DYN_BUCKETS; b++)
		proto_put_u64(&w, dg[b]);
	ap_msg_end(d, m, &w);
}

/* Pushes every version of the buckets where the peer's digest differs from ours. */
static void push_differences(struct dynamo *d, uint16_t peer, const uint64_t *mine,
			     const uint64_t *theirs)
{
	struct item it;
	struct rec *r;
	unsigned int k;
	size_t i;

	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next) {
			unsigned int b = r->hash % DYN_BUCKETS;

			if (mine[b] == theirs[b] || !r->nver ||
			    !ap_is_replica(d, r->space, r->key, peer))
				continue;
			it.space = r->space;
			snprintf(it.key, sizeof(it.key), "%s", r->key);
			for (k = 0; k < r->nver; k++) {
				it.v = *r->ver[k];
				ap_send_item(d, peer, PROTO_REPAIR, 0, &it);
				d->st.ae_repairs++;
			}
		}
}

static void anti_entropy(struct dynamo *d, uint64_t now)
{
	uint64_t dg[DYN_BUCKETS];
	unsigned int k;

	if (!d->cfg.anti_entropy_ms || now < d->next_ae)
		return;
	d->next_ae = now + d->cfg.anti_entropy_ms;
	for (k = 0; k < d->cfg.nnodes; k++) {
		uint16_t peer = d->cfg.nodes[d->ae_peer++ % d->cfg.nnodes];

		if (peer == d->cfg.id || !ap_reachable(d, peer))
			continue;
		ap_digest(d, peer, dg);
		send_digest(d, peer, PROTO_DIGEST, dg);
		d->st.ae_rounds++;
		return;
	}
}

/* ---- messages from peers ---- */

static void expire(struct dynamo *d, struct op *op)
{
	unsigned int i;

	if (op->kind == OP_WRITE) {
		/* Whoever did not acknowledge in time gets the write as a hint. */
		for (i = 0; i < op->nrep; i++)
			if (!op->r[i].done && !op->r[i].hinted)
				ap_hint_add(d, d->next_hint_id, op->r[i].node, op->wr, true);
		if (!op->replied)
			ap_reply_simple(
				d, op->handle, &op->req, REPLY_UNAVAILABLE, op->answered,
				"consistency %s: %u of %u replicas answered, %u needed; the "
				"write stays where it landed and spreads",
				ap_cons_name(op->req.consistency), op->answered, op->nrep,
				op->need);
	} else if (op->kind == OP_READ || op->kind == OP_BANK_READ) {
		if (!op->replied)
			ap_reply_simple(d, op->handle, &op->req, REPLY_UNAVAILABLE, op->answered,
					"consistency %s: %u of %u replicas answered, %u needed",
					ap_cons_name(op->req.consistency), op->answered, op->nrep,
					op->need);
		ap_read_repair_any(d, op);
	} else {
		ap_reply_simple(d, op->handle, &op->req, REPLY_TIMEOUT, 0,
				"replica %u did not answer in time; outcome unknown", op->fwd_to);
	}
	ap_op_free(op);
}

void dyn_tick(struct dynamo *d, uint64_t now)
{
	unsigned int i;

	/* Requests take the lowest free slot, so the used ones sit below ops_hi. */
	for (i = 0; i < d->ops_hi; i++)
		if (d->ops[i].used && now >= d->ops[i].deadline)
			expire(d, &d->ops[i]);
	while (d->ops_hi && !d->ops[d->ops_hi - 1].used)
		d->ops_hi--;
	ap_deliver_hints(d, now);
	anti_entropy(d, now);
	ap_flush_forwarded(d);
}

static int on_get(struct dynamo *d, uint16_t from, struct proto_reader *r)
{
	uint64_t id = proto_get_u64(r);
	uint8_t space = proto_get_u8(r);
	char key[DYN_KEY_MAX + 1];
	struct proto_writer w;
	struct dyn_msg *m;
	struct item it;
	struct rec *rec;
	unsigned int k;

	proto_get_cstr(r, key, sizeof(key));
	if (proto_reader_end(r) || space > DYN_SPACE_BANK || !key[0])
		return -EBADMSG;
	rec = ap_rec_get(d, space, key, false);
	it.space = space;
	snprintf(it.key, sizeof(it.key), "%s", key);
	/* One piece per version, so any value fits a datagram whatever the siblings. */
	for (k = 0; k < (rec ? rec->nver : 0) || k == 0; k++) {
		if (!ap_msg_begin(d, from, PROTO_REPLICA_GET_RESP, &w, &m))
			return 0;
		proto_put_u64(&w, id);
		proto_put_u8(&w, rec ? rec->nver : 0);
		proto_put_u8(&w, k);
		if (rec && rec->nver) {
			it.v = *rec->ver[k];
			ap_put_item(&w, &it);
		}
		ap_msg_end(d, m, &w);
	}
	return 0;
}

static int on_get_resp(struct dynamo *d, uint16_t from, struct proto_reader *r)
{
	uint64_t id = proto_get_u64(r);
	uint8_t count = proto_get_u8(r), index = proto_get_u8(r);
	struct op *op;
	struct item it = { 0 };
	int i;

	if (count)
		ap_get_item(r, &it);
	if (proto_reader_end(r) || count > DYN_SIBLINGS_MAX || (count && index >= count) ||
	    (!count && index))
		return -EBADMSG;
	op = ap_op_find(d, id, OP_READ);
	i = op ? ap_op_index(op, from) : -1;
	if (i < 0 || !op->r[i].asked || op->r[i].done)
		return 0;
	if (op->r[i].expect != count) {
		/* The first answer, or a newer one (the request was duplicated and the record
		 * changed in between): count this one's pieces afresh. Versions already merged
		 * from the other stay: every one of them was real. */
		op->r[i].expect = count;
		op->r[i].got = 0;
		op->r[i].fp = 0;
	}
	if (count) {
		if (strcmp(it.key, op->key) || op->r[i].got & (1u << index))
			return 0;
		ap_observe_hlc(d, it.v.hlc);
		op->r[i].got |= 1u << index;
		op->r[i].fp += ap_version_fp(op->merged->hash, &it.v);
		ap_rec_merge(d, op->merged, &it.v);
		ap_vv_join(&op->merged->ctx, &it.v.ctx);
		if (op->r[i].got != (1u << count) - 1)
			return 0;
	}
	ap_read_answer(d, op, i);
	return 0;
}

static int on_put(struct dynamo *d, uint16_t from, uint8_t type, struct proto_reader *r)
{
	uint64_t id = type == PROTO_REPAIR ? 0 : proto_get_u64(r);
	struct item it;
	int rc;

	ap_get_item(r, &it);
	if (proto_reader_end(r))
		return -EBADMSG;
	if (!ap_is_replica(d, it.space, it.key, d->cfg.id))
		return 0; /* not ours: never acknowledge what we would not keep */
	rc = ap_store_merge(d, &it, true);
	if (rc < 0)
		return 0; /* unacknowledged: the sender keeps it (hint, anti-entropy) */
	if (type == PROTO_REPLICA_PUT)
		ap_send_u64(d, from, PROTO_REPLICA_PUT_ACK, id, -1);
	else if (type == PROTO_HINT_DELIVER)
		ap_send_u64(d, from, PROTO_HINT_ACK, id, -1);
	return 0;
}

static int on_digest(struct dynamo *d, uint16_t from, uint8_t type, struct proto_reader *r)
{
	uint64_t theirs[DYN_BUCKETS], mine[DYN_BUCKETS];
	unsigned int b;

	for (b = 0; b < DYN_BUCKETS; b++)
		theirs[b] = proto_get_u64(r);
	if (proto_reader_end(r))
		return -EBADMSG;
	ap_digest(d, from, mine);
	if (type == PROTO_DIGEST)
		send_digest(d, from, PROTO_DIGEST_RESP, mine);
	push_differences(d, from, mine, theirs);
	return 0;
}

static int on_client(struct dynamo *d, uint64_t now, uint16_t from, uint8_t type,
		     const uint8_t *payload, size_t len)
{
	struct client_request req;
	struct client_reply rep;
	unsigned int i;

	if (type == PROTO_CLIENT_REQUEST) {
		if (proto_decode_client_request(payload, len, &req))
			return -EBADMSG;
		/* The handle of a forwarded request names the forwarding node. */
		ap_handle_request(d, now, FORWARDED | from, &req, true);
		return 0;
	}
	if (proto_decode_client_reply(payload, len, &rep))
		return -EBADMSG;
	for (i = 0; i < d->ops_hi; i++) {
		struct op *op = &d->ops[i];
		struct dyn_reply *out;

		if (!op->used || op->kind != OP_FORWARD || op->fwd_to != from ||
		    op->req.client_nonce != rep.client_nonce || op->req.seq != rep.seq)
			continue;
		out = ap_queue_push(&d->replies);
		if (out) {
			out->handle = op->handle;
			out->rep = rep;
		}
		ap_op_free(op);
		break;
	}
	return 0;
}

/* The header of a BANK_READ_RESP: op, tag, buckets that differ, pieces, index, item count. */
#define BANK_PIECE_HDR (8 + 8 + 8 + 4 + 4 + 1)
/* More pieces than any bank a node can hold would need: refused as garbage. */
#define BANK_PIECES_MAX (1u << 24)

void ap_item_of(struct item *it, const struct rec *r, unsigned int k)
{
	it->space = r->space;
	snprintf(it->key, sizeof(it->key), "%s", r->key);
	it->v = *r->ver[k];
}

static size_t item_size(const struct item *it)
{
	return 1 + 2 + strlen(it->key) + 2 + 8 + 8 + 1 + it->v.ctx.n * 10 + 2 + it->v.len;
}

static int rec_order(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The bank records of the buckets set in `buckets`, in one fixed order. NULL when out of
 * memory; *n may be 0. */
static struct rec **bank_select(const struct dynamo *d, uint64_t buckets, size_t *n)
{
	struct rec **sel = malloc(sizeof(*sel)), *r;
	size_t i, cap = 1;

	*n = 0;
	for (i = 0; sel && buckets && i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next) {
			if (r->space != DYN_SPACE_BANK || !r->nver ||
			    !(buckets >> (r->hash % DYN_BUCKETS) & 1))
				continue;
			if (*n == cap) {
				void *p = realloc(sel, cap * 2 * sizeof(*sel));

				if (!p) {
					free(sel);
					return NULL;
				}
				sel = p;
				cap *= 2;
			}
			sel[(*n)++] = r;
		}
	if (sel && *n)
		qsort(sel, *n, sizeof(*sel), rec_order);
	return sel;
}

/*
 * A replica's answer to a bank read: every record of the buckets where its digest differs from
 * the coordinator's, packed into as few datagrams as fit (one, with no record, if none
 * differs). The records go in one fixed order and the tag names what was sent, so pieces of
 * two answers to a duplicated request never mix.
 */
static int on_bank_read(struct dynamo *d, uint16_t from, struct proto_reader *r)
{
	uint64_t id = proto_get_u64(r), theirs[DYN_BUCKETS], mine[DYN_BUCKETS], differs = 0,
		 tag = 0;
	uint32_t npieces = 1, piece;
	size_t nsel, i, k, used = BANK_PIECE_HDR, size;
	struct proto_writer w;
	struct dyn_msg *m;
	struct rec **sel;
	struct item it;
	unsigned int b, count;

	for (b = 0; b < DYN_BUCKETS; b++)
		theirs[b] = proto_get_u64(r);
	if (proto_reader_end(r))
		return -EBADMSG;
	ap_bank_digest(d, mine);
	for (b = 0; b < DYN_BUCKETS; b++)
		if (mine[b] != theirs[b]) {
			differs |= 1ull << b;
			tag += ap_mix(mine[b] ^ b);
		}
	tag = ap_mix(tag ^ differs);
	sel = bank_select(d, differs, &nsel);
	if (!sel)
		return 0; /* unanswered: the coordinator times out */
	/* Count the pieces first: each one says how many there are. */
	for (i = 0; i < nsel; i++)
		for (k = 0; k < sel[i]->nver; k++) {
			ap_item_of(&it, sel[i], k);
			size = item_size(&it);
			if (used + size > PROTO_MAX_PAYLOAD) {
				npieces++;
				used = BANK_PIECE_HDR;
			}
			used += size;
		}
	i = k = 0;
	for (piece = 0; piece < npieces; piece++) {
		if (!ap_msg_begin(d, from, PROTO_BANK_READ_RESP, &w, &m))
			break;
		proto_put_u64(&w, id);
		proto_put_u64(&w, tag);
		proto_put_u64(&w, differs);
		proto_put_u32(&w, npieces);
		proto_put_u32(&w, piece);
		proto_put_u8(&w, 0); /* the count, set below */
		for (count = 0; i < nsel; count++) {
			ap_item_of(&it, sel[i], k);
			if (w.len + item_size(&it) > PROTO_MAX_PAYLOAD)
				break;
			ap_put_item(&w, &it);
			if (++k == sel[i]->nver) {
				i++;
				k = 0;
			}
		}
		m->payload[BANK_PIECE_HDR - 1] = count;
		ap_msg_end(d, m, &w);
	}
	free(sel);
	return 0;
}

static int on_bank_read_resp(struct dynamo *d, uint16_t from, struct proto_reader *r)
{
	uint64_t id = proto_get_u64(r), tag = proto_get_u64(r), differs = proto_get_u64(r);
	uint32_t npieces = proto_get_u32(r), piece = proto_get_u32(r);
	unsigned int count = proto_get_u8(r), k, b;
	struct item items[PROTO_MAX_PAYLOAD / 25 + 1];
	struct bank_answer *a;
	struct op *op;
	int i;

	if (count > sizeof(items) / sizeof(items[0]))
		return -EBADMSG;
	for (k = 0; k < count; k++) {
		ap_get_item(r, &items[k]);
		if (items[k].space != DYN_SPACE_BANK)
			proto_reader_fail(r);
	}
	if (proto_reader_end(r) || !npieces || npieces > BANK_PIECES_MAX || piece >= npieces)
		return -EBADMSG;
	op = ap_op_find(d, id, OP_BANK_READ);
	i = op ? ap_op_index(op, from) : -1;
	if (i < 0 || !op->r[i].asked || op->r[i].done)
		return 0;
	a = &op->br->ans[i];
	if (!a->seen || a->tag != tag || a->npieces != npieces) {
		/* The first answer, or another one to a duplicated request: count its pieces
		 * afresh. Records merged from the other stay: every one of them was real. */
		free(a->seen);
		a->seen = calloc((npieces + 7) / 8, 1);
		if (!a->seen)
			return 0;
		a->tag = tag;
		a->differs = differs;
		a->npieces = npieces;
		a->got = 0;
		for (b = 0; b < DYN_BUCKETS; b++)
			a->digest[b] = differs >> b & 1 ? 0 : op->br->mine[b];
	}
	if (a->seen[piece / 8] >> (piece % 8) & 1)
		return 0;
	a->seen[piece / 8] |= 1u << (piece % 8);
	for (k = 0; k < count; k++) {
		uint64_t h = ap_key_hash(DYN_SPACE_BANK, items[k].key);

		/* Into the coordinator's own store, durably: its balance is computed from it,
		 * and a record one replica holds is a record every replica should. */
		if (ap_store_merge(d, &items[k], true) < 0)
			return 0; /* out of memory: let the read time out rather than lie */
		a->digest[h % DYN_BUCKETS] += ap_version_fp(h, &items[k].v);
	}
	if (++a->got == a->npieces)
		ap_read_answer(d, op, i);
	return 0;
}

int dyn_receive(struct dynamo *d, uint64_t now, uint16_t from, uint8_t type, const uint8_t *payload,
		size_t len)
{
	struct proto_reader r;
	struct op *op;
	uint64_t id;
	int rc = 0, i;

	if (from == d->cfg.id || !from)
		return -EBADMSG;
	proto_reader_init(&r, payload, len);
	switch (type) {
	case PROTO_REPLICA_PUT:
	case PROTO_HINT_DELIVER:
	case PROTO_REPAIR:
		rc = on_put(d, from, type, &r);
		break;
	case PROTO_REPLICA_PUT_ACK:
	case PROTO_HINT_ACK:
		id = proto_get_u64(&r);
		if (proto_reader_end(&r)) {
			rc = -EBADMSG;
			break;
		}
		if (type == PROTO_HINT_ACK) {
			ap_hint_done(d, id, true);
			break;
		}
		op = ap_op_find(d, id, OP_WRITE);
		i = op ? ap_op_index(op, from) : -1;
		if (i >= 0)
			ap_write_ack(d, op, i);
		break;
	case PROTO_REPLICA_GET:
		rc = on_get(d, from, &r);
		break;
	case PROTO_REPLICA_GET_RESP:
		rc = on_get_resp(d, from, &r);
		break;
	case PROTO_DIGEST:
	case PROTO_DIGEST_RESP:
		rc = on_digest(d, from, type, &r);
		break;
	case PROTO_BANK_READ:
		rc = on_bank_read(d, from, &r);
		break;
	case PROTO_BANK_READ_RESP:
		rc = on_bank_read_resp(d, from, &r);
		break;
	case PROTO_CLIENT_REQUEST:
	case PROTO_CLIENT_REPLY:
		rc = on_client(d, now, from, type, payload, len);
		break;
	default:
		rc = -EBADMSG;
	}
	if (rc)
		d->st.bad_messages++;
	ap_flush_forwarded(d);
	return rc;
}
