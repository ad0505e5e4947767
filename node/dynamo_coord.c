// SPDX-License-Identifier: GPL-2.0-only
/* AP mode's request coordination at ONE, QUORUM or ALL: output queues, operations, replies,
 * reads with read repair, writes, forwarding to a replica, and hinted handoff. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/dynamo_internal.h"

/* ---- output queues ---- */

void *ap_queue_push(struct queue *q)
{
	if (q->head == q->len)
		q->head = q->len = 0;
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		void *p = realloc(q->items, cap * q->size);

		if (!p)
			return NULL;
		q->items = p;
		q->cap = cap;
	}
	return (uint8_t *)q->items + q->size * q->len++;
}

static bool queue_pop(struct queue *q, void *out)
{
	if (q->head == q->len)
		return false;
	memcpy(out, (uint8_t *)q->items + q->size * q->head++, q->size);
	return true;
}

bool dyn_pop_write(struct dynamo *d, struct dyn_write *out)
{
	return queue_pop(&d->writes, out);
}

bool dyn_pop_msg(struct dynamo *d, struct dyn_msg *out)
{
	return queue_pop(&d->msgs, out);
}

bool dyn_pop_reply(struct dynamo *d, struct dyn_reply *out)
{
	return queue_pop(&d->replies, out);
}

/* ---- hints ---- */

int ap_hint_add(struct dynamo *d, uint64_t id, uint16_t target, const struct item *it, bool durable)
{
	struct hint *h;

	if (d->nhints >= HINTS_MAX)
		return -ENOSPC;
	if (d->nhints == d->hints_cap) {
		size_t cap = d->hints_cap ? d->hints_cap * 2 : 16;
		void *p = realloc(d->hints, cap * sizeof(*d->hints));

		if (!p)
			return -ENOMEM;
		d->hints = p;
		d->hints_cap = cap;
	}
	h = &d->hints[d->nhints++];
	h->id = id;
	h->target = target;
	h->next_send = 0;
	h->it = *it;
	if (id >= d->next_hint_id)
		d->next_hint_id = id + 1;
	if (durable)
		ap_emit_write(d, DYN_WRITE_HINT, id, target, it);
	return 0;
}

void ap_hint_done(struct dynamo *d, uint64_t id, bool durable)
{
	size_t i;

	for (i = 0; i < d->nhints; i++)
		if (d->hints[i].id == id) {
			d->hints[i] = d->hints[--d->nhints];
			if (durable) {
				ap_emit_write(d, DYN_WRITE_HINT_DONE, id, 0, NULL);
				d->st.hints_delivered++;
			}
			return;
		}
}

void ap_deliver_hints(struct dynamo *d, uint64_t now)
{
	size_t i;

	for (i = 0; i < d->nhints; i++) {
		struct hint *h = &d->hints[i];

		if (!ap_reachable(d, h->target) || now < h->next_send)
			continue;
		h->next_send = now + d->cfg.hint_retry_ms;
		ap_send_item(d, h->target, PROTO_HINT_DELIVER, h->id, &h->it);
	}
}

/* ---- replies ---- */

struct client_reply *ap_reply_new(struct dynamo *d, uint64_t handle,
				  const struct client_request *req, enum reply_status status)
{
	struct dyn_reply *r = ap_queue_push(&d->replies);

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->handle = handle;
	r->rep.client_nonce = req->client_nonce;
	r->rep.seq = req->seq;
	r->rep.status = status;
	return &r->rep;
}

/* replicas_answered is a byte on the wire. */
uint8_t ap_answered8(unsigned int n)
{
	return n > UINT8_MAX ? UINT8_MAX : n;
}

void ap_reply_simple(struct dynamo *d, uint64_t handle, const struct client_request *req,
		     enum reply_status status, unsigned int answered, const char *fmt, ...)
{
	struct client_reply *rep = ap_reply_new(d, handle, req, status);
	va_list ap;

	if (!rep)
		return;
	rep->replicas_answered = ap_answered8(answered);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
		va_end(ap);
	}
}

static unsigned int need_for(enum client_consistency c, unsigned int n)
{
	switch (c) {
	case CONSISTENCY_ONE:
		return 1;
	case CONSISTENCY_ALL:
		return n;
	default:
		return n / 2 + 1;
	}
}

const char *ap_cons_name(enum client_consistency c)
{
	return c == CONSISTENCY_ONE ? "ONE" : c == CONSISTENCY_ALL ? "ALL" : "QUORUM";
}

/* ---- coordination ---- */

static struct op *op_new(struct dynamo *d, uint8_t kind, uint64_t now, uint64_t handle,
			 const struct client_request *req)
{
	unsigned int i;

	for (i = 0; i < MAX_OPS; i++)
		if (!d->ops[i].used) {
			struct op *op = &d->ops[i];

			memset(op, 0, sizeof(*op));
			op->used = true;
			op->kind = kind;
			/* The slot is in the id: answers find their request at once. */
			op->id = ++d->next_op_id * MAX_OPS + i;
			if (i >= d->ops_hi)
				d->ops_hi = i + 1;
			op->handle = handle;
			op->deadline = now + d->cfg.request_timeout_ms;
			op->req = *req;
			return op;
		}
	return NULL;
}

struct op *ap_op_find(struct dynamo *d, uint64_t id, uint8_t kind)
{
	struct op *op = &d->ops[id % MAX_OPS];

	return op->used && op->id == id && op->kind == kind ? op : NULL;
}

int ap_op_index(const struct op *op, uint16_t node)
{
	unsigned int i;

	for (i = 0; i < op->nrep; i++)
		if (op->r[i].node == node)
			return i;
	return -1;
}

/*
 * A read or write of one key: its preference list and how many answers it needs. NULL when
 * the client was already answered: overloaded, out of memory, or too few replicas reachable.
 */
struct op *ap_start_op(struct dynamo *d, uint8_t kind, uint64_t now, uint64_t handle,
		       const struct client_request *req, uint8_t space, const char *key)
{
	struct op *op = op_new(d, kind, now, handle, req);
	uint16_t pref[DYN_MAX_NODES];
	unsigned int i, nreach = 0;

	if (!op) {
		ap_reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
				"overloaded: too many requests");
		return NULL;
	}
	op->space = space;
	snprintf(op->key, sizeof(op->key), "%s", key);
	op->nrep = dyn_preference(d, space, key, pref);
	op->need = need_for(op->req.consistency, op->nrep);
	op->r = calloc(op->nrep, sizeof(*op->r));
	if (!op->r) {
		ap_reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		ap_op_free(op);
		return NULL;
	}
	for (i = 0; i < op->nrep; i++) {
		op->r[i].node = pref[i];
		op->r[i].expect = 0xff;
		nreach += ap_reachable(d, pref[i]);
	}
	if (nreach < op->need) {
		ap_reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
				"consistency %s: %u of %u replicas reachable, %u needed",
				ap_cons_name(req->consistency), nreach, op->nrep, op->need);
		ap_op_free(op);
		return NULL;
	}
	return op;
}

static void read_reply(struct dynamo *d, struct op *op)
{
	const struct rec *m = op->merged;
	struct client_reply *rep;
	const struct dyn_version *sorted[DYN_SIBLINGS_MAX], *t;
	struct dyn_vv ctx;
	unsigned int i, j;

	rep = ap_reply_new(d, op->handle, &op->req, m->nver ? REPLY_OK : REPLY_NOT_FOUND);
	if (!rep)
		return;
	rep->replicas_answered = ap_answered8(op->answered);
	for (i = 0; i < m->nver; i++) {
		sorted[i] = m->ver[i];
		for (j = i; j > 0 && ap_version_cmp(sorted[j - 1], sorted[j]) > 0; j--) {
			t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	}
	if (m->nver) {
		/* The value is the last writer's; siblings list every concurrent value. */
		t = sorted[m->nver - 1];
		rep->value.len = t->len;
		memcpy(rep->value.data, t->value, t->len);
	}
	if (m->nver > 1) {
		rep->nsiblings = m->nver;
		for (i = 0; i < m->nver; i++) {
			rep->siblings[i].len = sorted[i]->len;
			memcpy(rep->siblings[i].data, sorted[i]->value, sorted[i]->len);
		}
	}
	if (!d->cfg.siblings || !m->nver)
		return;
	/*
	 * The causal context to give back with the next put: per coordinator, the longest run of
	 * counters this read has seen (covered by a context, or live here). A gap is a version
	 * this read did not see, which a put with this context must not supersede.
	 */
	ctx = m->ctx;
	for (i = 0; i < m->nver; i++) {
		uint16_t node = m->ver[i]->dot.node;
		bool grew = true;

		while (grew) {
			uint64_t next = ap_vv_get(&ctx, node) + 1;

			grew = false;
			for (j = 0; j < m->nver; j++)
				if (m->ver[j]->dot.node == node && m->ver[j]->dot.counter == next) {
					ap_vv_raise(&ctx, node, next);
					grew = true;
				}
		}
	}
	if (dyn_vv_format(&ctx, rep->context, sizeof(rep->context)) < 0)
		rep->context[0] = 0;
}

/* Every replica that answered a read and holds less than the merge gets the merge. */
static void read_repair(struct dynamo *d, struct op *op)
{
	uint64_t fp = ap_rec_fp(op->merged);
	struct item it;
	unsigned int i, k;

	it.space = op->space;
	snprintf(it.key, sizeof(it.key), "%s", op->key);
	for (i = 0; i < op->nrep; i++) {
		if (!op->r[i].done || op->r[i].fp == fp)
			continue;
		d->st.read_repairs++;
		for (k = 0; k < op->merged->nver; k++) {
			it.v = *op->merged->ver[k];
			if (op->r[i].node == d->cfg.id)
				ap_store_merge(d, &it, true);
			else
				ap_send_item(d, op->r[i].node, PROTO_REPAIR, 0, &it);
		}
	}
}

void ap_bank_digest(const struct dynamo *d, uint64_t *out)
{
	struct rec *r;
	size_t i;

	memset(out, 0, DYN_BUCKETS * sizeof(*out));
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next)
			if (r->space == DYN_SPACE_BANK && r->nver)
				out[r->hash % DYN_BUCKETS] += ap_rec_fp(r);
}

/*
 * Every replica that answered and holds less than the coordinator now does gets the records of
 * the buckets where it differs. The coordinator's own store already took every record the
 * answers brought.
 */
static void bank_repair(struct dynamo *d, struct op *op)
{
	uint64_t now[DYN_BUCKETS], *push;
	unsigned int i, k, b;
	struct item it;
	struct rec *r;
	size_t t;
	bool any = false;

	push = calloc(op->nrep, sizeof(*push));
	if (!push)
		return; /* anti-entropy will do it */
	ap_bank_digest(d, now);
	for (i = 0; i < op->nrep; i++) {
		if (!op->r[i].done || op->r[i].node == d->cfg.id)
			continue;
		for (b = 0; b < DYN_BUCKETS; b++)
			if (op->br->ans[i].digest[b] != now[b])
				push[i] |= 1ull << b;
		if (push[i]) {
			d->st.read_repairs++;
			any = true;
		}
	}
	for (t = 0; any && t < d->table_size; t++)
		for (r = d->table[t]; r; r = r->next) {
			if (r->space != DYN_SPACE_BANK || !r->nver)
				continue;
			it.space = r->space;
			snprintf(it.key, sizeof(it.key), "%s", r->key);
			for (i = 0; i < op->nrep; i++) {
				if (!(push[i] >> (r->hash % DYN_BUCKETS) & 1))
					continue;
				for (k = 0; k < r->nver; k++) {
					it.v = *r->ver[k];
					ap_send_item(d, op->r[i].node, PROTO_REPAIR, 0, &it);
				}
			}
		}
	free(push);
}

/* A read of a key or of the bank: answers once enough replicas did, repairs once all asked did. */
static void read_reply_any(struct dynamo *d, struct op *op)
{
	op->replied = true;
	if (op->kind == OP_BANK_READ)
		ap_balance_reply(d, op->handle, &op->req, op->answered);
	else
		read_reply(d, op);
}

void ap_read_repair_any(struct dynamo *d, struct op *op)
{
	if (op->kind == OP_BANK_READ)
		bank_repair(d, op);
	else
		read_repair(d, op);
}

void ap_read_answer(struct dynamo *d, struct op *op, unsigned int i)
{
	op->r[i].done = true;
	op->answered++;
	if (!op->replied && op->answered >= op->need)
		read_reply_any(d, op);
	/* Replicas that were not reachable were not asked: no need to wait for them. */
	if (op->answered == op->asked) {
		ap_read_repair_any(d, op);
		ap_op_free(op);
	}
}

/* Asks every reachable replica of the read; this node counts as asked, and answers last. */
void ap_ask_replicas(struct dynamo *d, struct op *op, uint8_t type, read_body_fn body)
{
	struct proto_writer w;
	struct dyn_msg *m;
	unsigned int i;

	for (i = 0; i < op->nrep; i++) {
		uint16_t node = op->r[i].node;

		if (node != d->cfg.id) {
			if (!ap_reachable(d, node) || !ap_msg_begin(d, node, type, &w, &m))
				continue;
			proto_put_u64(&w, op->id);
			body(&w, op);
			ap_msg_end(d, m, &w);
		}
		op->r[i].asked = true;
		op->asked++;
	}
}

static void get_body(struct proto_writer *w, const struct op *op)
{
	proto_put_u8(w, op->space);
	proto_put_cstr(w, op->key);
}

void ap_start_read(struct dynamo *d, uint64_t now, uint64_t handle,
		   const struct client_request *req)
{
	struct op *op = ap_start_op(d, OP_READ, now, handle, req, DYN_SPACE_KV, req->key);
	struct rec *local;
	unsigned int k;
	int i;

	if (!op)
		return;
	op->merged = calloc(1, sizeof(*op->merged));
	if (!op->merged) {
		ap_reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		ap_op_free(op);
		return;
	}
	op->merged->space = DYN_SPACE_KV;
	op->merged->hash = ap_key_hash(DYN_SPACE_KV, req->key);
	ap_ask_replicas(d, op, PROTO_REPLICA_GET, get_body);
	i = ap_op_index(op, d->cfg.id);
	if (i < 0)
		return;
	local = ap_rec_get(d, DYN_SPACE_KV, req->key, false);
	if (local) {
		for (k = 0; k < local->nver; k++)
			ap_rec_merge(d, op->merged, local->ver[k]);
		ap_vv_join(&op->merged->ctx, &local->ctx);
		op->r[i].fp = ap_rec_fp(local);
	}
	/* The local answer last: it may complete the read (and free op). */
	ap_read_answer(d, op, i);
}

void ap_write_ack(struct dynamo *d, struct op *op, unsigned int i)
{
	unsigned int k;

	if (op->r[i].done)
		return;
	op->r[i].done = true;
	op->answered++;
	if (!op->replied && op->answered >= op->need) {
		struct client_reply *rep = ap_reply_new(d, op->handle, &op->req, REPLY_OK);

		op->replied = true;
		if (rep) {
			rep->replicas_answered = ap_answered8(op->answered);
			if (op->space == DYN_SPACE_BANK)
				rep->amount = op->req.amount;
		}
	}
	for (k = 0; k < op->nrep; k++)
		if (!op->r[k].done && !op->r[k].hinted)
			return;
	ap_op_free(op);
}

static void start_write(struct dynamo *d, uint64_t now, uint64_t handle,
			const struct client_request *req, uint8_t space, const char *key,
			const struct dyn_vv *ctx, const void *value, size_t len)
{
	struct op *op = ap_start_op(d, OP_WRITE, now, handle, req, space, key);
	struct rec *local;
	unsigned int i;
	int rc;

	if (!op)
		return;
	op->wr = calloc(1, sizeof(*op->wr));
	local = ap_rec_get(d, space, key, true);
	if (!op->wr || !local) {
		ap_reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		ap_op_free(op);
		return;
	}
	op->wr->space = space;
	snprintf(op->wr->key, sizeof(op->wr->key), "%s", key);
	/*
	 * With siblings, the counters of this coordinator go on without gaps from everything this
	 * replica merged, which a read's context relies on. Last-writer-wins needs only unique
	 * dots, and the clock, strictly increasing on this node, gives them whatever the number of
	 * coordinators.
	 */
	op->wr->v.dot.node = d->cfg.id;
	op->wr->v.hlc = ap_next_hlc(d, now);
	op->wr->v.dot.counter = ap_lww(d, local) ? op->wr->v.hlc :
						   ap_vv_get(&local->seen, d->cfg.id) + 1;
	/* A context naming counters of ours beyond what we merged would cover the new dot. */
	if (ctx && !ap_lww(d, local) && ap_vv_get(ctx, d->cfg.id) >= op->wr->v.dot.counter)
		op->wr->v.dot.counter = ap_vv_get(ctx, d->cfg.id) + 1;
	if (ctx)
		op->wr->v.ctx = *ctx;
	op->wr->v.len = len;
	memcpy(op->wr->v.value, value, len);
	rc = ap_store_merge(d, op->wr, true);
	if (rc < 0) {
		ap_reply_simple(d, handle, req, rc == -ENOSPC ? REPLY_BAD_REQUEST : REPLY_ERROR, 0,
				rc == -ENOSPC ?
					"too many siblings: read, then put with the context" :
					"out of memory");
		ap_op_free(op);
		return;
	}
	for (i = 0; i < op->nrep; i++) {
		if (op->r[i].node == d->cfg.id)
			continue;
		if (ap_reachable(d, op->r[i].node)) {
			ap_send_item(d, op->r[i].node, PROTO_REPLICA_PUT, op->id, op->wr);
		} else if (!ap_hint_add(d, d->next_hint_id, op->r[i].node, op->wr, true)) {
			op->r[i].hinted = true;
		}
	}
	i = ap_op_index(op, d->cfg.id);
	if ((int)i >= 0)
		ap_write_ack(d, op, i);
}

/* A node outside a key's preference list hands a write to the first reachable replica, which
 * coordinates it (so the counters of its versions come from a full record). */
static void forward(struct dynamo *d, uint64_t now, uint64_t handle,
		    const struct client_request *req, const uint16_t *pref, unsigned int n)
{
	struct proto_writer w;
	struct dyn_msg *m;
	struct op *op;
	unsigned int i;

	for (i = 0; i < n && !ap_reachable(d, pref[i]); i++)
		;
	if (i == n) {
		ap_reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
				"consistency %s: 0 of %u replicas reachable",
				ap_cons_name(req->consistency), n);
		return;
	}
	op = op_new(d, OP_FORWARD, now, handle, req);
	if (!op || !ap_msg_begin(d, pref[i], PROTO_CLIENT_REQUEST, &w, &m)) {
		ap_reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
				"overloaded: too many requests");
		if (op)
			ap_op_free(op);
		return;
	}
	op->fwd_to = pref[i];
	proto_put_client_request(&w, req);
	ap_msg_end(d, m, &w);
}

void ap_request_put(struct dynamo *d, uint64_t now, uint64_t handle,
		    const struct client_request *req, bool forwarded)
{
	uint16_t pref[DYN_MAX_NODES];
	unsigned int i, n = dyn_preference(d, DYN_SPACE_KV, req->key, pref);
	struct dyn_vv ctx = { 0 };

	/* No compare-and-set without consensus; what AP offers instead is "replace what I read":
	 * a put carrying the context of a get in `expected`. */
	if (req->op == CLIENT_OP_CAS) {
		ap_reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0,
				"AP mode has no compare-and-set: put with the context of a get "
				"replaces what that get saw");
		return;
	}
	if (req->expected.len &&
	    dyn_vv_parse((const char *)req->expected.data, req->expected.len, &ctx)) {
		ap_reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0,
				"the context must be what a get returned (NODE:COUNTER,...)");
		return;
	}
	if (!d->cfg.siblings)
		memset(&ctx, 0, sizeof(ctx)); /* last-writer-wins: the clock decides */
	for (i = 0; i < n && pref[i] != d->cfg.id; i++)
		;
	if (i == n) {
		if (forwarded)
			ap_reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
					"not a replica of this key");
		else
			forward(d, now, handle, req, pref, n);
		return;
	}
	start_write(d, now, handle, req, DYN_SPACE_KV, req->key, &ctx, req->value.data,
		    req->value.len);
}

void ap_request_bank(struct dynamo *d, uint64_t now, uint64_t handle,
		     const struct client_request *req)
{
	uint8_t buf[PROTO_VALUE_MAX];
	char id[DYN_KEY_MAX + 1];
	struct proto_writer w;
	struct accounts as;
	const struct account *from, *to;

	if (ap_accounts_load(d, &as)) {
		ap_reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		return;
	}
	proto_writer_init(&w, buf, sizeof(buf));
	if (req->op == CLIENT_OP_OPEN) {
		from = ap_account_find(&as, req->key);
		if (req->amount < 0 || (from && from->opened)) {
			ap_reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0, "%s",
					req->amount < 0 ? "a negative opening balance" :
							  "the account exists");
			goto out;
		}
		proto_put_u8(&w, BANK_OPEN);
		proto_put_cstr(&w, req->key);
		proto_put_cstr(&w, "");
		snprintf(id, sizeof(id), "open/%s", req->key);
	} else {
		from = ap_account_find(&as, req->from_account);
		to = ap_account_find(&as, req->to_account);
		if (req->amount <= 0 || !strcmp(req->from_account, req->to_account)) {
			ap_reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0,
					"a transfer moves a positive amount between two accounts");
			goto out;
		}
		if (!from || !from->opened || !to || !to->opened) {
			ap_reply_simple(d, handle, req, REPLY_NOT_FOUND, 0, "no account %s here",
					!from || !from->opened ? req->from_account :
								 req->to_account);
			goto out;
		}
		if (from->balance < req->amount) {
			struct client_reply *rep =
				ap_reply_new(d, handle, req, REPLY_INSUFFICIENT_FUNDS);

			if (rep)
				rep->amount = from->balance;
			goto out;
		}
		proto_put_u8(&w, BANK_TRANSFER);
		proto_put_cstr(&w, req->from_account);
		proto_put_cstr(&w, req->to_account);
		/* A retry of the same request writes the same transfer, never a second one. */
		snprintf(id, sizeof(id), "t/%08x/%" PRIu64, req->client_nonce, req->seq);
	}
	proto_put_i64(&w, req->amount);
	if (w.overflow) {
		ap_reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0, "names too long");
		goto out;
	}
	start_write(d, now, handle, req, DYN_SPACE_BANK, id, NULL, buf, w.len);
out:
	free(as.a);
}
