// SPDX-License-Identifier: GPL-2.0-only
/* AP mode's pure state machine: the versioned store, request coordination at ONE, QUORUM or ALL,
 * hinted handoff, read repair and anti-entropy. The model is described in node/dynamo.h and
 * docs/ap-mode.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/bank.h"
#include "node/dynamo.h"

#define MAX_OPS 1024
#define HINTS_MAX 100000
#define TABLE_MIN 256
/* The handle of a request another node forwarded: that node's id in the low bits. */
#define FORWARDED (1ull << 63)

struct rec {
	struct rec *next;
	uint64_t hash;
	uint8_t space;
	char key[DYN_KEY_MAX + 1];
	struct dyn_vv ctx; /* join of every context merged: dots it covers are superseded */
	struct dyn_vv seen; /* every dot and context merged: where this node's counters go on */
	uint8_t nver;
	struct dyn_version *ver[DYN_SIBLINGS_MAX];
};

/* One version of one key: what every Dynamo message (but acks and digests) carries. */
struct item {
	uint8_t space;
	char key[DYN_KEY_MAX + 1];
	struct dyn_version v;
};

struct hint {
	uint64_t id;
	uint16_t target;
	uint64_t next_send;
	struct item it;
};

enum op_kind {
	OP_READ = 1,
	OP_WRITE,
	OP_FORWARD,
	OP_BANK_READ,
};

/* What a bank read knows of one replica's answer: a stream of pieces, each with some of the
 * records of the buckets where that replica's digest differed from the coordinator's. */
struct bank_answer {
	uint64_t tag; /* names the stream: a duplicated request may be answered twice */
	uint64_t differs; /* bit b: bucket b differed */
	uint32_t npieces, got;
	uint8_t *seen; /* bitmap of the pieces received */
	uint64_t digest[DYN_BUCKETS]; /* what the replica holds, for read repair */
};

struct bank_read {
	uint64_t mine[DYN_BUCKETS]; /* the coordinator's bank digest when the read began */
	struct bank_answer ans[]; /* nrep of them, in preference order */
};

/* What a request knows of one of its replicas. */
struct op_rep {
	uint16_t node;
	bool asked; /* a message went to it (or it is this node) */
	bool done; /* acknowledged, or answered with every piece */
	bool hinted;
	uint8_t expect; /* read: pieces announced, 0xff before the first */
	uint16_t got; /* read: bitmap of pieces received */
	uint64_t fp; /* read: fingerprint of what the replica holds */
};

struct op {
	bool used, replied;
	uint8_t kind;
	uint64_t id, handle, deadline;
	struct client_request req;
	uint8_t space;
	char key[DYN_KEY_MAX + 1];
	uint16_t nrep, need, answered, asked;
	struct op_rep *r; /* nrep of them, in preference order */
	struct item *wr; /* write: the version written */
	struct rec *merged; /* read: what the answers add up to */
	struct bank_read *br;
	uint16_t fwd_to;
};

struct queue {
	void *items;
	size_t size, head, len, cap;
};

struct ring_point {
	uint64_t hash;
	uint16_t node;
};

struct dynamo {
	struct dyn_config cfg;
	uint16_t n_replicas;
	struct ring_point ring[DYN_MAX_NODES * DYN_VNODES];
	unsigned int nring;
	uint8_t reach[PROTO_BITMAP_BYTES];
	uint64_t hlc;
	struct rec **table;
	size_t table_size, nrec, nversions;
	struct hint *hints;
	size_t nhints, hints_cap;
	uint64_t next_hint_id, next_op_id;
	struct op ops[MAX_OPS];
	unsigned int ops_hi; /* no slot from here on is in use */
	uint64_t next_ae;
	unsigned int ae_peer;
	struct queue writes, msgs, replies;
	struct dyn_stats st;
};

/* ---- small helpers ---- */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t key_hash(uint8_t space, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ space;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 0x100000001b3ULL;
	return mix(h);
}

static uint64_t version_fp(uint64_t khash, const struct dyn_version *v)
{
	return mix(khash ^ mix((uint64_t)v->dot.node << 48 ^ v->dot.counter) ^ mix(v->hlc + 1));
}

static bool reachable(const struct dynamo *d, uint16_t node)
{
	return node == d->cfg.id || proto_bitmap_test(d->reach, node);
}

static uint64_t vv_get(const struct dyn_vv *vv, uint16_t node)
{
	unsigned int i;

	for (i = 0; i < vv->n; i++)
		if (vv->e[i].node == node)
			return vv->e[i].counter;
	return 0;
}

/* Raises node's entry to at least counter. -ENOSPC when a new entry does not fit. */
static int vv_raise(struct dyn_vv *vv, uint16_t node, uint64_t counter)
{
	unsigned int i, j;

	if (!counter)
		return 0;
	for (i = 0; i < vv->n && vv->e[i].node < node; i++)
		;
	if (i < vv->n && vv->e[i].node == node) {
		if (vv->e[i].counter < counter)
			vv->e[i].counter = counter;
		return 0;
	}
	if (vv->n >= DYN_VV_MAX)
		return -ENOSPC;
	for (j = vv->n; j > i; j--)
		vv->e[j] = vv->e[j - 1];
	vv->e[i].node = node;
	vv->e[i].counter = counter;
	vv->n++;
	return 0;
}

static int vv_join(struct dyn_vv *a, const struct dyn_vv *b)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < b->n; i++)
		err = vv_raise(a, b->e[i].node, b->e[i].counter) ?: err;
	return err;
}

static bool vv_covers(const struct dyn_vv *vv, const struct dyn_dot *dot)
{
	return vv_get(vv, dot->node) >= dot->counter;
}

int dyn_vv_format(const struct dyn_vv *vv, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	if (len)
		buf[0] = 0;
	for (i = 0; i < vv->n; i++) {
		int n = snprintf(buf + used, len > used ? len - used : 0, "%s%u:%" PRIu64,
				 i ? "," : "", vv->e[i].node, vv->e[i].counter);

		used += n;
	}
	return used < len ? (int)used : -ENOSPC;
}

int dyn_vv_parse(const char *text, size_t len, struct dyn_vv *vv)
{
	size_t i = 0;

	memset(vv, 0, sizeof(*vv));
	while (i < len) {
		uint64_t node = 0, counter = 0;
		size_t start = i;

		while (i < len && text[i] >= '0' && text[i] <= '9' && node <= PROTO_MAX_NODE)
			node = node * 10 + (text[i++] - '0');
		if (i == start || i >= len || text[i] != ':' || !node || node > PROTO_MAX_NODE)
			return -EINVAL;
		start = ++i;
		while (i < len && text[i] >= '0' && text[i] <= '9' && counter < UINT64_MAX / 10)
			counter = counter * 10 + (text[i++] - '0');
		if (i == start || !counter || vv_get(vv, node))
			return -EINVAL;
		if (vv_raise(vv, node, counter))
			return -EINVAL;
		if (i < len && text[i++] != ',')
			return -EINVAL;
		if (i == len && text[len - 1] == ',')
			return -EINVAL;
	}
	return 0;
}

/* ---- output queues ---- */

static void *queue_push(struct queue *q)
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

/* ---- codec of the Dynamo payloads (docs/ap-mode.md) ---- */

static void put_vv(struct proto_writer *w, const struct dyn_vv *vv)
{
	unsigned int i;

	proto_put_u8(w, vv->n);
	for (i = 0; i < vv->n; i++) {
		proto_put_u16(w, vv->e[i].node);
		proto_put_u64(w, vv->e[i].counter);
	}
}

static void get_vv(struct proto_reader *r, struct dyn_vv *vv)
{
	unsigned int i, n = proto_get_u8(r);

	memset(vv, 0, sizeof(*vv));
	if (n > DYN_VV_MAX) {
		proto_reader_fail(r);
		return;
	}
	for (i = 0; i < n; i++) {
		uint16_t node = proto_get_u16(r);
		uint64_t counter = proto_get_u64(r);

		/* Canonical: increasing node ids, counters above zero. */
		if (!node || node > PROTO_MAX_NODE || !counter || (i && node <= vv->e[i - 1].node))
			proto_reader_fail(r);
		vv->e[i].node = node;
		vv->e[i].counter = counter;
	}
	vv->n = n;
}

static void put_item(struct proto_writer *w, const struct item *it)
{
	proto_put_u8(w, it->space);
	proto_put_cstr(w, it->key);
	proto_put_u16(w, it->v.dot.node);
	proto_put_u64(w, it->v.dot.counter);
	proto_put_u64(w, it->v.hlc);
	put_vv(w, &it->v.ctx);
	proto_put_bytes(w, it->v.value, it->v.len);
}

static void get_item(struct proto_reader *r, struct item *it)
{
	const uint8_t *p;
	size_t n;

	it->space = proto_get_u8(r);
	proto_get_cstr(r, it->key, sizeof(it->key));
	it->v.dot.node = proto_get_u16(r);
	it->v.dot.counter = proto_get_u64(r);
	it->v.hlc = proto_get_u64(r);
	get_vv(r, &it->v.ctx);
	p = proto_get_bytes(r, PROTO_VALUE_MAX, &n);
	if (p)
		memcpy(it->v.value, p, n);
	it->v.len = n;
	if (it->space > DYN_SPACE_BANK || !it->key[0] || !it->v.dot.node ||
	    it->v.dot.node > PROTO_MAX_NODE || !it->v.dot.counter)
		proto_reader_fail(r);
}

static struct proto_writer *msg_begin(struct dynamo *d, uint16_t to, uint8_t type,
				      struct proto_writer *w, struct dyn_msg **m)
{
	*m = queue_push(&d->msgs);
	if (!*m)
		return NULL;
	(*m)->to = to;
	(*m)->type = type;
	proto_writer_init(w, (*m)->payload, sizeof((*m)->payload));
	return w;
}

static void msg_end(struct dynamo *d, struct dyn_msg *m, struct proto_writer *w)
{
	if (w->overflow) {
		/* Cannot happen with the limits above; never send half a message. */
		d->msgs.len--;
		return;
	}
	m->len = w->len;
}

static void send_item(struct dynamo *d, uint16_t to, uint8_t type, uint64_t id,
		      const struct item *it)
{
	struct proto_writer w;
	struct dyn_msg *m;

	if (!msg_begin(d, to, type, &w, &m))
		return;
	if (type != PROTO_REPAIR)
		proto_put_u64(&w, id);
	put_item(&w, it);
	msg_end(d, m, &w);
}

static void send_u64(struct dynamo *d, uint16_t to, uint8_t type, uint64_t id, int extra)
{
	struct proto_writer w;
	struct dyn_msg *m;

	if (!msg_begin(d, to, type, &w, &m))
		return;
	proto_put_u64(&w, id);
	if (extra >= 0)
		proto_put_u8(&w, extra);
	msg_end(d, m, &w);
}

static void emit_write(struct dynamo *d, uint8_t kind, uint64_t id, uint16_t target,
		       const struct item *it)
{
	struct dyn_write *wr = queue_push(&d->writes);
	struct proto_writer w;

	if (!wr)
		return;
	wr->kind = kind;
	proto_writer_init(&w, wr->data, sizeof(wr->data));
	if (kind != DYN_WRITE_VERSION)
		proto_put_u64(&w, id);
	if (kind == DYN_WRITE_HINT)
		proto_put_u16(&w, target);
	if (it)
		put_item(&w, it);
	wr->len = w.len;
}

/* ---- the store ---- */

static struct rec *rec_find(const struct dynamo *d, uint8_t space, const char *key, uint64_t h)
{
	struct rec *r;

	for (r = d->table[h & (d->table_size - 1)]; r; r = r->next)
		if (r->hash == h && r->space == space && !strcmp(r->key, key))
			return r;
	return NULL;
}

static int table_grow(struct dynamo *d)
{
	size_t size = d->table_size * 2, i;
	struct rec **t = calloc(size, sizeof(*t)), *r, *next;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = next) {
			next = r->next;
			r->next = t[r->hash & (size - 1)];
			t[r->hash & (size - 1)] = r;
		}
	free(d->table);
	d->table = t;
	d->table_size = size;
	return 0;
}

static struct rec *rec_get(struct dynamo *d, uint8_t space, const char *key, bool create)
{
	uint64_t h = key_hash(space, key);
	struct rec *r = rec_find(d, space, key, h);

	if (r || !create)
		return r;
	if (d->nrec >= d->table_size && table_grow(d))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->hash = h;
	r->space = space;
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->next = d->table[h & (d->table_size - 1)];
	d->table[h & (d->table_size - 1)] = r;
	d->nrec++;
	return r;
}

static void rec_free_versions(struct rec *r)
{
	unsigned int i;

	for (i = 0; i < r->nver; i++)
		free(r->ver[i]);
	r->nver = 0;
}

/* Greater means it wins under last-writer-wins: by HLC, then coordinator id, then counter. */
static int version_cmp(const struct dyn_version *a, const struct dyn_version *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	if (a->dot.node != b->dot.node)
		return a->dot.node < b->dot.node ? -1 : 1;
	if (a->dot.counter != b->dot.counter)
		return a->dot.counter < b->dot.counter ? -1 : 1;
	return 0;
}

static bool lww(const struct dynamo *d, const struct rec *r)
{
	return !d->cfg.siblings || r->space == DYN_SPACE_BANK;
}

/*
 * Merges one version into a record (a detached one too). Returns 1 if the record changed, 0 if
 * the version was known or superseded, -ENOSPC if it would make too many siblings or too large
 * a context (the record is then unchanged), -ENOMEM.
 */
static int rec_merge(const struct dynamo *d, struct rec *r, const struct dyn_version *v)
{
	struct dyn_vv ctx = r->ctx, seen = r->seen;
	struct dyn_version *copy;
	unsigned int i, keep = 0;

	for (i = 0; i < r->nver; i++)
		if (r->ver[i]->dot.node == v->dot.node && r->ver[i]->dot.counter == v->dot.counter)
			return 0;
	if (lww(d, r)) {
		/* A max register: contexts play no part, and counters are clock values. */
		if (r->nver && version_cmp(r->ver[0], v) >= 0)
			return 0;
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *v;
		rec_free_versions(r);
		r->ver[0] = copy;
		r->nver = 1;
		return 1;
	}
	if (vv_join(&seen, &v->ctx) || vv_raise(&seen, v->dot.node, v->dot.counter))
		return -ENOSPC;
	if (vv_covers(&r->ctx, &v->dot)) {
		r->seen = seen;
		return 0;
	}
	if (vv_join(&ctx, &v->ctx))
		return -ENOSPC;
	for (i = 0; i < r->nver; i++)
		if (!vv_covers(&v->ctx, &r->ver[i]->dot))
			keep++;
	if (keep >= DYN_SIBLINGS_MAX)
		return -ENOSPC;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *v;
	for (i = 0, keep = 0; i < r->nver; i++) {
		if (vv_covers(&v->ctx, &r->ver[i]->dot))
			free(r->ver[i]);
		else
			r->ver[keep++] = r->ver[i];
	}
	r->ver[keep++] = copy;
	r->nver = keep;
	r->ctx = ctx;
	r->seen = seen;
	return 1;
}

static void observe_hlc(struct dynamo *d, uint64_t hlc)
{
	if (hlc > d->hlc)
		d->hlc = hlc;
}

static uint64_t next_hlc(struct dynamo *d, uint64_t now)
{
	uint64_t pt = now << 16;

	d->hlc = pt > d->hlc ? pt : d->hlc + 1;
	return d->hlc;
}

/* Merges into the local store, durably. 1 changed, 0 nothing new, or -errno. */
static int store_merge(struct dynamo *d, const struct item *it, bool durable)
{
	struct rec *r = rec_get(d, it->space, it->key, true);
	unsigned int before;
	int rc;

	if (!r)
		return -ENOMEM;
	observe_hlc(d, it->v.hlc);
	before = r->nver;
	rc = rec_merge(d, r, &it->v);
	if (rc == -ENOSPC)
		d->st.sibling_overflow++;
	if (rc == 1) {
		d->nversions += r->nver;
		d->nversions -= before;
		if (durable)
			emit_write(d, DYN_WRITE_VERSION, 0, 0, it);
	}
	return rc;
}

static uint64_t rec_fp(const struct rec *r)
{
	uint64_t fp = 0;
	unsigned int i;

	for (i = 0; i < r->nver; i++)
		fp += version_fp(r->hash, r->ver[i]);
	return fp;
}

/* ---- ring ---- */

static int ring_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

unsigned int dyn_preference(const struct dynamo *d, uint8_t space, const char *key, uint16_t *out)
{
	unsigned int want = space == DYN_SPACE_BANK ? d->cfg.nnodes : d->n_replicas;
	uint64_t h = key_hash(space, key);
	unsigned int lo = 0, hi = d->nring, k, n = 0;
	uint8_t taken[PROTO_BITMAP_BYTES] = { 0 };

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (d->ring[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; k < d->nring && n < want; k++) {
		uint16_t node = d->ring[(lo + k) % d->nring].node;

		if (!proto_bitmap_test(taken, node)) {
			proto_bitmap_set(taken, node);
			out[n++] = node;
		}
	}
	return n;
}

static bool is_replica(const struct dynamo *d, uint8_t space, const char *key, uint16_t node)
{
	uint16_t pref[DYN_MAX_NODES];
	unsigned int i, n;

	if (space == DYN_SPACE_BANK || d->n_replicas == d->cfg.nnodes)
		return true;
	n = dyn_preference(d, space, key, pref);
	for (i = 0; i < n; i++)
		if (pref[i] == node)
			return true;
	return false;
}

/* ---- setup ---- */

struct dynamo *dyn_new(const struct dyn_config *cfg)
{
	struct dynamo *d;
	unsigned int i, k;
	bool self = false;

	if (!cfg->id || !cfg->nnodes || cfg->nnodes > DYN_MAX_NODES || !cfg->request_timeout_ms) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < cfg->nnodes; i++)
		self |= cfg->nodes[i] == cfg->id;
	if (!self) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	if (!d->cfg.hint_retry_ms)
		d->cfg.hint_retry_ms = 500;
	d->n_replicas = cfg->replicas && cfg->replicas < cfg->nnodes ? cfg->replicas : cfg->nnodes;
	/* Writes are coordinated by replicas only, so a context names at most N coordinators. */
	if (cfg->siblings && d->n_replicas > DYN_VV_MAX) {
		free(d);
		errno = E2BIG;
		return NULL;
	}
	for (i = 0; i < cfg->nnodes; i++)
		for (k = 0; k < DYN_VNODES; k++) {
			d->ring[d->nring].node = cfg->nodes[i];
			d->ring[d->nring++].hash = mix((uint64_t)cfg->nodes[i] << 32 | k);
		}
	qsort(d->ring, d->nring, sizeof(d->ring[0]), ring_cmp);
	d->table_size = TABLE_MIN;
	d->table = calloc(d->table_size, sizeof(*d->table));
	d->writes.size = sizeof(struct dyn_write);
	d->msgs.size = sizeof(struct dyn_msg);
	d->replies.size = sizeof(struct dyn_reply);
	d->next_hint_id = 1;
	if (!d->table) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

static void op_free(struct op *op)
{
	unsigned int i;

	for (i = 0; op->br && i < op->nrep; i++)
		free(op->br->ans[i].seen);
	free(op->br);
	free(op->r);
	free(op->wr);
	if (op->merged) {
		rec_free_versions(op->merged);
		free(op->merged);
	}
	memset(op, 0, sizeof(*op));
}

void dyn_free(struct dynamo *d)
{
	struct rec *r, *next;
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = next) {
			next = r->next;
			rec_free_versions(r);
			free(r);
		}
	for (i = 0; i < MAX_OPS; i++)
		op_free(&d->ops[i]);
	free(d->table);
	free(d->hints);
	free(d->writes.items);
	free(d->msgs.items);
	free(d->replies.items);
	free(d);
}

void dyn_set_reachable(struct dynamo *d, const uint8_t *bitmap)
{
	memcpy(d->reach, bitmap, sizeof(d->reach));
}

/* ---- hints ---- */

static int hint_add(struct dynamo *d, uint64_t id, uint16_t target, const struct item *it,
		    bool durable)
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
		emit_write(d, DYN_WRITE_HINT, id, target, it);
	return 0;
}

static void hint_done(struct dynamo *d, uint64_t id, bool durable)
{
	size_t i;

	for (i = 0; i < d->nhints; i++)
		if (d->hints[i].id == id) {
			d->hints[i] = d->hints[--d->nhints];
			if (durable) {
				emit_write(d, DYN_WRITE_HINT_DONE, id, 0, NULL);
				d->st.hints_delivered++;
			}
			return;
		}
}

static void deliver_hints(struct dynamo *d, uint64_t now)
{
	size_t i;

	for (i = 0; i < d->nhints; i++) {
		struct hint *h = &d->hints[i];

		if (!reachable(d, h->target) || now < h->next_send)
			continue;
		h->next_send = now + d->cfg.hint_retry_ms;
		send_item(d, h->target, PROTO_HINT_DELIVER, h->id, &h->it);
	}
}

/* ---- replies ---- */

static struct client_reply *reply_new(struct dynamo *d, uint64_t handle,
				      const struct client_request *req, enum reply_status status)
{
	struct dyn_reply *r = queue_push(&d->replies);

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
static uint8_t answered8(unsigned int n)
{
	return n > UINT8_MAX ? UINT8_MAX : n;
}

static void reply_simple(struct dynamo *d, uint64_t handle, const struct client_request *req,
			 enum reply_status status, unsigned int answered, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void reply_simple(struct dynamo *d, uint64_t handle, const struct client_request *req,
			 enum reply_status status, unsigned int answered, const char *fmt, ...)
{
	struct client_reply *rep = reply_new(d, handle, req, status);
	va_list ap;

	if (!rep)
		return;
	rep->replicas_answered = answered8(answered);
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

static const char *cons_name(enum client_consistency c)
{
	return c == CONSISTENCY_ONE ? "ONE" : c == CONSISTENCY_ALL ? "ALL" : "QUORUM";
}

/* ---- the bank over its records ---- */

enum bank_kind {
	BANK_OPEN = 1,
	BANK_TRANSFER = 2,
};

struct bank_rec {
	uint8_t kind;
	char from[PROTO_KEY_MAX + 1], to[PROTO_KEY_MAX + 1];
	int64_t amount;
};

static int bank_decode(const struct dyn_version *v, struct bank_rec *b)
{
	struct proto_reader r;

	proto_reader_init(&r, v->value, v->len);
	b->kind = proto_get_u8(&r);
	proto_get_cstr(&r, b->from, sizeof(b->from));
	proto_get_cstr(&r, b->to, sizeof(b->to));
	b->amount = proto_get_i64(&r);
	if (proto_reader_end(&r) || (b->kind != BANK_OPEN && b->kind != BANK_TRANSFER))
		return -EBADMSG;
	return 0;
}

struct account {
	char name[PROTO_KEY_MAX + 1];
	int64_t balance;
	bool opened;
};

struct accounts {
	struct account *a;
	size_t n, cap;
	int64_t opened;
};

static struct account *account_get(struct accounts *as, const char *name)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if (!strcmp(as->a[i].name, name))
			return &as->a[i];
	if (as->n == as->cap) {
		size_t cap = as->cap ? as->cap * 2 : 16;
		void *p = realloc(as->a, cap * sizeof(*as->a));

		if (!p)
			return NULL;
		as->a = p;
		as->cap = cap;
	}
	memset(&as->a[as->n], 0, sizeof(as->a[0]));
	snprintf(as->a[as->n].name, sizeof(as->a[0].name), "%s", name);
	return &as->a[as->n++];
}

static int account_cmp(const void *a, const void *b)
{
	return strcmp(((const struct account *)a)->name, ((const struct account *)b)->name);
}

/* Balances over the records held here: opening balance plus credits minus debits. */
static int accounts_load(const struct dynamo *d, struct accounts *as)
{
	struct bank_rec b;
	struct account *x, *y;
	struct rec *r;
	size_t i;

	memset(as, 0, sizeof(*as));
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next) {
			if (r->space != DYN_SPACE_BANK || !r->nver || bank_decode(r->ver[0], &b))
				continue;
			x = account_get(as, b.from);
			if (!x)
				goto nomem;
			if (b.kind == BANK_OPEN) {
				x->opened = true;
				x->balance += b.amount;
				as->opened += b.amount;
				continue;
			}
			x->balance -= b.amount;
			y = account_get(as, b.to);
			if (!y)
				goto nomem;
			y->balance += b.amount;
		}
	if (as->n)
		qsort(as->a, as->n, sizeof(as->a[0]), account_cmp);
	return 0;
nomem:
	free(as->a);
	return -ENOMEM;
}

int dyn_bank_foreach(const struct dynamo *d, int (*fn)(void *arg, const char *name, int64_t bal),
		     void *arg, int64_t *total, int64_t *opened)
{
	struct accounts as;
	int64_t sum = 0;
	size_t i;
	int rc = 0;

	if (accounts_load(d, &as))
		return -ENOMEM;
	for (i = 0; i < as.n; i++)
		sum += as.a[i].balance;
	for (i = 0; i < as.n && !rc; i++)
		if (fn)
			rc = fn(arg, as.a[i].name, as.a[i].balance);
	if (total)
		*total = sum;
	if (opened)
		*opened = as.opened;
	free(as.a);
	return rc;
}

static const struct account *account_find(const struct accounts *as, const char *name)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if (!strcmp(as->a[i].name, name))
			return &as->a[i];
	return NULL;
}

/* An overdraft is reported, never hidden: "overdrawn: acct3 is -120 after merging a split". */
static void overdraft_reason(const struct accounts *as, const char *only, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = 0;
	for (i = 0; i < as->n && used < len; i++) {
		if (as->a[i].balance >= 0 || (only && strcmp(only, as->a[i].name)))
			continue;
		used += snprintf(buf + used, len - used, "%s%s is %" PRId64,
				 used ? ", " : "overdrawn: ", as->a[i].name, as->a[i].balance);
	}
	if (used && used < len)
		snprintf(buf + used, len - used, " after merging a split");
}

/* A balance over the records held here, which hold those of every replica that answered. */
static void balance_reply(struct dynamo *d, uint64_t handle, const struct client_request *req,
			  unsigned int answered)
{
	struct client_reply *rep;
	struct accounts as;
	const struct account *a;
	size_t i, used = 0;
	int64_t total = 0;

	if (accounts_load(d, &as)) {
		reply_simple(d, handle, req, REPLY_ERROR, answered, "out of memory");
		return;
	}
	rep = reply_new(d, handle, req, REPLY_OK);
	if (!rep)
		goto out;
	rep->replicas_answered = answered8(answered);
	if (req->key[0]) {
		a = account_find(&as, req->key);
		if (!a || !a->opened) {
			rep->status = REPLY_NOT_FOUND;
			snprintf(rep->reason, sizeof(rep->reason), "no account %s here", req->key);
			goto out;
		}
		rep->amount = a->balance;
		overdraft_reason(&as, req->key, rep->reason, sizeof(rep->reason));
		goto out;
	}
	for (i = 0; i < as.n; i++) {
		int n = snprintf((char *)rep->value.data + used, sizeof(rep->value.data) - used,
				 "%s%s=%" PRId64, i ? "," : "", as.a[i].name, as.a[i].balance);

		total += as.a[i].balance;
		if (n < 0 || used + n >= sizeof(rep->value.data)) {
			rep->status = REPLY_ERROR;
			snprintf(rep->reason, sizeof(rep->reason),
				 "the listing does not fit a reply");
			used = 0;
			break;
		}
		used += n;
	}
	rep->value.len = used;
	rep->amount = total;
	if (rep->status == REPLY_OK)
		overdraft_reason(&as, NULL, rep->reason, sizeof(rep->reason));
out:
	free(as.a);
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

static struct op *op_find(struct dynamo *d, uint64_t id, uint8_t kind)
{
	struct op *op = &d->ops[id % MAX_OPS];

	return op->used && op->id == id && op->kind == kind ? op : NULL;
}

static int op_index(const struct op *op, uint16_t node)
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
static struct op *start_op(struct dynamo *d, uint8_t kind, uint64_t now, uint64_t handle,
			   const struct client_request *req, uint8_t space, const char *key)
{
	struct op *op = op_new(d, kind, now, handle, req);
	uint16_t pref[DYN_MAX_NODES];
	unsigned int i, nreach = 0;

	if (!op) {
		reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0, "overloaded: too many requests");
		return NULL;
	}
	op->space = space;
	snprintf(op->key, sizeof(op->key), "%s", key);
	op->nrep = dyn_preference(d, space, key, pref);
	op->need = need_for(op->req.consistency, op->nrep);
	op->r = calloc(op->nrep, sizeof(*op->r));
	if (!op->r) {
		reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		op_free(op);
		return NULL;
	}
	for (i = 0; i < op->nrep; i++) {
		op->r[i].node = pref[i];
		op->r[i].expect = 0xff;
		nreach += reachable(d, pref[i]);
	}
	if (nreach < op->need) {
		reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
			     "consistency %s: %u of %u replicas reachable, %u needed",
			     cons_name(req->consistency), nreach, op->nrep, op->need);
		op_free(op);
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

	rep = reply_new(d, op->handle, &op->req, m->nver ? REPLY_OK : REPLY_NOT_FOUND);
	if (!rep)
		return;
	rep->replicas_answered = answered8(op->answered);
	for (i = 0; i < m->nver; i++) {
		sorted[i] = m->ver[i];
		for (j = i; j > 0 && version_cmp(sorted[j - 1], sorted[j]) > 0; j--) {
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
			uint64_t next = vv_get(&ctx, node) + 1;

			grew = false;
			for (j = 0; j < m->nver; j++)
				if (m->ver[j]->dot.node == node && m->ver[j]->dot.counter == next) {
					vv_raise(&ctx, node, next);
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
	uint64_t fp = rec_fp(op->merged);
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
				store_merge(d, &it, true);
			else
				send_item(d, op->r[i].node, PROTO_REPAIR, 0, &it);
		}
	}
}

static void bank_digest(const struct dynamo *d, uint64_t *out)
{
	struct rec *r;
	size_t i;

	memset(out, 0, DYN_BUCKETS * sizeof(*out));
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next)
			if (r->space == DYN_SPACE_BANK && r->nver)
				out[r->hash % DYN_BUCKETS] += rec_fp(r);
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
	bank_digest(d, now);
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
					send_item(d, op->r[i].node, PROTO_REPAIR, 0, &it);
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
		balance_reply(d, op->handle, &op->req, op->answered);
	else
		read_reply(d, op);
}

static void read_repair_any(struct dynamo *d, struct op *op)
{
	if (op->kind == OP_BANK_READ)
		bank_repair(d, op);
	else
		read_repair(d, op);
}

static void read_answer(struct dynamo *d, struct op *op, unsigned int i)
{
	op->r[i].done = true;
	op->answered++;
	if (!op->replied && op->answered >= op->need)
		read_reply_any(d, op);
	/* Replicas that were not reachable were not asked: no need to wait for them. */
	if (op->answered == op->asked) {
		read_repair_any(d, op);
		op_free(op);
	}
}

/* The request a read sends every replica, after its op id. */
typedef void (*read_body_fn)(struct proto_writer *w, const struct op *op);

/* Asks every reachable replica of the read; this node counts as asked, and answers last. */
static void ask_replicas(struct dynamo *d, struct op *op, uint8_t type, read_body_fn body)
{
	struct proto_writer w;
	struct dyn_msg *m;
	unsigned int i;

	for (i = 0; i < op->nrep; i++) {
		uint16_t node = op->r[i].node;

		if (node != d->cfg.id) {
			if (!reachable(d, node) || !msg_begin(d, node, type, &w, &m))
				continue;
			proto_put_u64(&w, op->id);
			body(&w, op);
			msg_end(d, m, &w);
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

static void start_read(struct dynamo *d, uint64_t now, uint64_t handle,
		       const struct client_request *req)
{
	struct op *op = start_op(d, OP_READ, now, handle, req, DYN_SPACE_KV, req->key);
	struct rec *local;
	unsigned int k;
	int i;

	if (!op)
		return;
	op->merged = calloc(1, sizeof(*op->merged));
	if (!op->merged) {
		reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		op_free(op);
		return;
	}
	op->merged->space = DYN_SPACE_KV;
	op->merged->hash = key_hash(DYN_SPACE_KV, req->key);
	ask_replicas(d, op, PROTO_REPLICA_GET, get_body);
	i = op_index(op, d->cfg.id);
	if (i < 0)
		return;
	local = rec_get(d, DYN_SPACE_KV, req->key, false);
	if (local) {
		for (k = 0; k < local->nver; k++)
			rec_merge(d, op->merged, local->ver[k]);
		vv_join(&op->merged->ctx, &local->ctx);
		op->r[i].fp = rec_fp(local);
	}
	/* The local answer last: it may complete the read (and free op). */
	read_answer(d, op, i);
}

static void write_ack(struct dynamo *d, struct op *op, unsigned int i)
{
	unsigned int k;

	if (op->r[i].done)
		return;
	op->r[i].done = true;
	op->answered++;
	if (!op->replied && op->answered >= op->need) {
		struct client_reply *rep = reply_new(d, op->handle, &op->req, REPLY_OK);

		op->replied = true;
		if (rep) {
			rep->replicas_answered = answered8(op->answered);
			if (op->space == DYN_SPACE_BANK)
				rep->amount = op->req.amount;
		}
	}
	for (k = 0; k < op->nrep; k++)
		if (!op->r[k].done && !op->r[k].hinted)
			return;
	op_free(op);
}

static void start_write(struct dynamo *d, uint64_t now, uint64_t handle,
			const struct client_request *req, uint8_t space, const char *key,
			const struct dyn_vv *ctx, const void *value, size_t len)
{
	struct op *op = start_op(d, OP_WRITE, now, handle, req, space, key);
	struct rec *local;
	unsigned int i;
	int rc;

	if (!op)
		return;
	op->wr = calloc(1, sizeof(*op->wr));
	local = rec_get(d, space, key, true);
	if (!op->wr || !local) {
		reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		op_free(op);
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
	op->wr->v.hlc = next_hlc(d, now);
	op->wr->v.dot.counter = lww(d, local) ? op->wr->v.hlc : vv_get(&local->seen, d->cfg.id) + 1;
	/* A context naming counters of ours beyond what we merged would cover the new dot. */
	if (ctx && !lww(d, local) && vv_get(ctx, d->cfg.id) >= op->wr->v.dot.counter)
		op->wr->v.dot.counter = vv_get(ctx, d->cfg.id) + 1;
	if (ctx)
		op->wr->v.ctx = *ctx;
	op->wr->v.len = len;
	memcpy(op->wr->v.value, value, len);
	rc = store_merge(d, op->wr, true);
	if (rc < 0) {
		reply_simple(d, handle, req, rc == -ENOSPC ? REPLY_BAD_REQUEST : REPLY_ERROR, 0,
			     rc == -ENOSPC ? "too many siblings: read, then put with the context" :
					     "out of memory");
		op_free(op);
		return;
	}
	for (i = 0; i < op->nrep; i++) {
		if (op->r[i].node == d->cfg.id)
			continue;
		if (reachable(d, op->r[i].node)) {
			send_item(d, op->r[i].node, PROTO_REPLICA_PUT, op->id, op->wr);
		} else if (!hint_add(d, d->next_hint_id, op->r[i].node, op->wr, true)) {
			op->r[i].hinted = true;
		}
	}
	i = op_index(op, d->cfg.id);
	if ((int)i >= 0)
		write_ack(d, op, i);
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

	for (i = 0; i < n && !reachable(d, pref[i]); i++)
		;
	if (i == n) {
		reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
			     "consistency %s: 0 of %u replicas reachable",
			     cons_name(req->consistency), n);
		return;
	}
	op = op_new(d, OP_FORWARD, now, handle, req);
	if (!op || !msg_begin(d, pref[i], PROTO_CLIENT_REQUEST, &w, &m)) {
		reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0, "overloaded: too many requests");
		if (op)
			op_free(op);
		return;
	}
	op->fwd_to = pref[i];
	proto_put_client_request(&w, req);
	msg_end(d, m, &w);
}

static void request_put(struct dynamo *d, uint64_t now, uint64_t handle,
			const struct client_request *req, bool forwarded)
{
	uint16_t pref[DYN_MAX_NODES];
	unsigned int i, n = dyn_preference(d, DYN_SPACE_KV, req->key, pref);
	struct dyn_vv ctx = { 0 };

	/* No compare-and-set without consensus; what AP offers instead is "replace what I read":
	 * a put carrying the context of a get in `expected`. */
	if (req->op == CLIENT_OP_CAS) {
		reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0,
			     "AP mode has no compare-and-set: put with the context of a get "
			     "replaces what that get saw");
		return;
	}
	if (req->expected.len &&
	    dyn_vv_parse((const char *)req->expected.data, req->expected.len, &ctx)) {
		reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0,
			     "the context must be what a get returned (NODE:COUNTER,...)");
		return;
	}
	if (!d->cfg.siblings)
		memset(&ctx, 0, sizeof(ctx)); /* last-writer-wins: the clock decides */
	for (i = 0; i < n && pref[i] != d->cfg.id; i++)
		;
	if (i == n) {
		if (forwarded)
			reply_simple(d, handle, req, REPLY_UNAVAILABLE, 0,
				     "not a replica of this key");
		else
			forward(d, now, handle, req, pref, n);
		return;
	}
	start_write(d, now, handle, req, DYN_SPACE_KV, req->key, &ctx, req->value.data,
		    req->value.len);
}

static void request_bank(struct dynamo *d, uint64_t now, uint64_t handle,
			 const struct client_request *req)
{
	uint8_t buf[PROTO_VALUE_MAX];
	char id[DYN_KEY_MAX + 1];
	struct proto_writer w;
	struct accounts as;
	const struct account *from, *to;

	if (accounts_load(d, &as)) {
		reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		return;
	}
	proto_writer_init(&w, buf, sizeof(buf));
	if (req->op == CLIENT_OP_OPEN) {
		from = account_find(&as, req->key);
		if (req->amount < 0 || (from && from->opened)) {
			reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0, "%s",
				     req->amount < 0 ? "a negative opening balance" :
						       "the account exists");
			goto out;
		}
		proto_put_u8(&w, BANK_OPEN);
		proto_put_cstr(&w, req->key);
		proto_put_cstr(&w, "");
		snprintf(id, sizeof(id), "open/%s", req->key);
	} else {
		from = account_find(&as, req->from_account);
		to = account_find(&as, req->to_account);
		if (req->amount <= 0 || !strcmp(req->from_account, req->to_account)) {
			reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0,
				     "a transfer moves a positive amount between two accounts");
			goto out;
		}
		if (!from || !from->opened || !to || !to->opened) {
			reply_simple(d, handle, req, REPLY_NOT_FOUND, 0, "no account %s here",
				     !from || !from->opened ? req->from_account : req->to_account);
			goto out;
		}
		if (from->balance < req->amount) {
			struct client_reply *rep =
				reply_new(d, handle, req, REPLY_INSUFFICIENT_FUNDS);

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
		reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0, "names too long");
		goto out;
	}
	start_write(d, now, handle, req, DYN_SPACE_BANK, id, NULL, buf, w.len);
out:
	free(as.a);
}

/* ---- balance at QUORUM or ALL ---- */

static void digest_body(struct proto_writer *w, const struct op *op)
{
	unsigned int b;

	for (b = 0; b < DYN_BUCKETS; b++)
		proto_put_u64(w, op->br->mine[b]);
}

static void start_bank_read(struct dynamo *d, uint64_t now, uint64_t handle,
			    const struct client_request *req)
{
	/* The bank lives on every node: the preference list is the whole cluster. */
	struct op *op = start_op(d, OP_BANK_READ, now, handle, req, DYN_SPACE_BANK, "");
	int i;

	if (!op)
		return;
	op->br = calloc(1, sizeof(*op->br) + op->nrep * sizeof(op->br->ans[0]));
	if (!op->br) {
		reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		op_free(op);
		return;
	}
	bank_digest(d, op->br->mine);
	ask_replicas(d, op, PROTO_BANK_READ, digest_body);
	/* The local answer last: it may complete the read (and free op). */
	i = op_index(op, d->cfg.id);
	if (i >= 0)
		read_answer(d, op, i);
}

static void request_balance(struct dynamo *d, uint64_t now, uint64_t handle,
			    const struct client_request *req)
{
	if (req->consistency == CONSISTENCY_ONE)
		balance_reply(d, handle, req, 1);
	else
		start_bank_read(d, now, handle, req);
}

static void handle_request(struct dynamo *d, uint64_t now, uint64_t handle,
			   const struct client_request *req, bool forwarded)
{
	switch (req->op) {
	case CLIENT_OP_GET:
		start_read(d, now, handle, req);
		break;
	case CLIENT_OP_PUT:
	case CLIENT_OP_CAS:
		request_put(d, now, handle, req, forwarded);
		break;
	case CLIENT_OP_OPEN:
	case CLIENT_OP_TRANSFER:
		request_bank(d, now, handle, req);
		break;
	case CLIENT_OP_BALANCE:
		request_balance(d, now, handle, req);
		break;
	default:
		reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0, "unknown operation");
	}
}

/* Replies to requests another node forwarded here go back to it as messages. */
static void flush_forwarded(struct dynamo *d)
{
	struct dyn_reply *r = d->replies.items;
	size_t i, keep = d->replies.head;

	for (i = d->replies.head; i < d->replies.len; i++) {
		struct proto_writer w;
		struct dyn_msg *m;

		if (!(r[i].handle & FORWARDED)) {
			r[keep++] = r[i];
			continue;
		}
		if (!msg_begin(d, r[i].handle & 0xffff, PROTO_CLIENT_REPLY, &w, &m))
			continue;
		proto_put_client_reply(&w, &r[i].rep);
		msg_end(d, m, &w);
	}
	d->replies.len = keep;
}

void dyn_request(struct dynamo *d, uint64_t now, uint64_t handle, const struct client_request *req)
{
	handle_request(d, now, handle & ~FORWARDED, req, false);
	flush_forwarded(d);
}

/* ---- anti-entropy ---- */

static void digest(const struct dynamo *d, uint16_t peer, uint64_t *out)
{
	struct rec *r;
	size_t i;

	memset(out, 0, DYN_BUCKETS * sizeof(*out));
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next)
			if (r->nver && is_replica(d, r->space, r->key, peer) &&
			    is_replica(d, r->space, r->key, d->cfg.id))
				out[r->hash % DYN_BUCKETS] += rec_fp(r);
}

static void send_digest(struct dynamo *d, uint16_t to, uint8_t type, const uint64_t *dg)
{
	struct proto_writer w;
	struct dyn_msg *m;
	unsigned int b;

	if (!msg_begin(d, to, type, &w, &m))
		return;
	for (b = 0; b < DYN_BUCKETS; b++)
		proto_put_u64(&w, dg[b]);
	msg_end(d, m, &w);
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
			    !is_replica(d, r->space, r->key, peer))
				continue;
			it.space = r->space;
			snprintf(it.key, sizeof(it.key), "%s", r->key);
			for (k = 0; k < r->nver; k++) {
				it.v = *r->ver[k];
				send_item(d, peer, PROTO_REPAIR, 0, &it);
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

		if (peer == d->cfg.id || !reachable(d, peer))
			continue;
		digest(d, peer, dg);
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
				hint_add(d, d->next_hint_id, op->r[i].node, op->wr, true);
		if (!op->replied)
			reply_simple(d, op->handle, &op->req, REPLY_UNAVAILABLE, op->answered,
				     "consistency %s: %u of %u replicas answered, %u needed; the "
				     "write stays where it landed and spreads",
				     cons_name(op->req.consistency), op->answered, op->nrep,
				     op->need);
	} else if (op->kind == OP_READ || op->kind == OP_BANK_READ) {
		if (!op->replied)
			reply_simple(d, op->handle, &op->req, REPLY_UNAVAILABLE, op->answered,
				     "consistency %s: %u of %u replicas answered, %u needed",
				     cons_name(op->req.consistency), op->answered, op->nrep,
				     op->need);
		read_repair_any(d, op);
	} else {
		reply_simple(d, op->handle, &op->req, REPLY_TIMEOUT, 0,
			     "replica %u did not answer in time; outcome unknown", op->fwd_to);
	}
	op_free(op);
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
	deliver_hints(d, now);
	anti_entropy(d, now);
	flush_forwarded(d);
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
	rec = rec_get(d, space, key, false);
	it.space = space;
	snprintf(it.key, sizeof(it.key), "%s", key);
	/* One piece per version, so any value fits a datagram whatever the siblings. */
	for (k = 0; k < (rec ? rec->nver : 0) || k == 0; k++) {
		if (!msg_begin(d, from, PROTO_REPLICA_GET_RESP, &w, &m))
			return 0;
		proto_put_u64(&w, id);
		proto_put_u8(&w, rec ? rec->nver : 0);
		proto_put_u8(&w, k);
		if (rec && rec->nver) {
			it.v = *rec->ver[k];
			put_item(&w, &it);
		}
		msg_end(d, m, &w);
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
		get_item(r, &it);
	if (proto_reader_end(r) || count > DYN_SIBLINGS_MAX || (count && index >= count) ||
	    (!count && index))
		return -EBADMSG;
	op = op_find(d, id, OP_READ);
	i = op ? op_index(op, from) : -1;
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
		observe_hlc(d, it.v.hlc);
		op->r[i].got |= 1u << index;
		op->r[i].fp += version_fp(op->merged->hash, &it.v);
		rec_merge(d, op->merged, &it.v);
		vv_join(&op->merged->ctx, &it.v.ctx);
		if (op->r[i].got != (1u << count) - 1)
			return 0;
	}
	read_answer(d, op, i);
	return 0;
}

static int on_put(struct dynamo *d, uint16_t from, uint8_t type, struct proto_reader *r)
{
	uint64_t id = type == PROTO_REPAIR ? 0 : proto_get_u64(r);
	struct item it;
	int rc;

	get_item(r, &it);
	if (proto_reader_end(r))
		return -EBADMSG;
	if (!is_replica(d, it.space, it.key, d->cfg.id))
		return 0; /* not ours: never acknowledge what we would not keep */
	rc = store_merge(d, &it, true);
	if (rc < 0)
		return 0; /* unacknowledged: the sender keeps it (hint, anti-entropy) */
	if (type == PROTO_REPLICA_PUT)
		send_u64(d, from, PROTO_REPLICA_PUT_ACK, id, -1);
	else if (type == PROTO_HINT_DELIVER)
		send_u64(d, from, PROTO_HINT_ACK, id, -1);
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
	digest(d, from, mine);
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
		handle_request(d, now, FORWARDED | from, &req, true);
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
		out = queue_push(&d->replies);
		if (out) {
			out->handle = op->handle;
			out->rep = rep;
		}
		op_free(op);
		break;
	}
	return 0;
}

/* The header of a BANK_READ_RESP: op, tag, buckets that differ, pieces, index, item count. */
#define BANK_PIECE_HDR (8 + 8 + 8 + 4 + 4 + 1)
/* More pieces than any bank a node can hold would need: refused as garbage. */
#define BANK_PIECES_MAX (1u << 24)

static void item_of(struct item *it, const struct rec *r, unsigned int k)
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
	bank_digest(d, mine);
	for (b = 0; b < DYN_BUCKETS; b++)
		if (mine[b] != theirs[b]) {
			differs |= 1ull << b;
			tag += mix(mine[b] ^ b);
		}
	tag = mix(tag ^ differs);
	sel = bank_select(d, differs, &nsel);
	if (!sel)
		return 0; /* unanswered: the coordinator times out */
	/* Count the pieces first: each one says how many there are. */
	for (i = 0; i < nsel; i++)
		for (k = 0; k < sel[i]->nver; k++) {
			item_of(&it, sel[i], k);
			size = item_size(&it);
			if (used + size > PROTO_MAX_PAYLOAD) {
				npieces++;
				used = BANK_PIECE_HDR;
			}
			used += size;
		}
	i = k = 0;
	for (piece = 0; piece < npieces; piece++) {
		if (!msg_begin(d, from, PROTO_BANK_READ_RESP, &w, &m))
			break;
		proto_put_u64(&w, id);
		proto_put_u64(&w, tag);
		proto_put_u64(&w, differs);
		proto_put_u32(&w, npieces);
		proto_put_u32(&w, piece);
		proto_put_u8(&w, 0); /* the count, set below */
		for (count = 0; i < nsel; count++) {
			item_of(&it, sel[i], k);
			if (w.len + item_size(&it) > PROTO_MAX_PAYLOAD)
				break;
			put_item(&w, &it);
			if (++k == sel[i]->nver) {
				i++;
				k = 0;
			}
		}
		m->payload[BANK_PIECE_HDR - 1] = count;
		msg_end(d, m, &w);
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
		get_item(r, &items[k]);
		if (items[k].space != DYN_SPACE_BANK)
			proto_reader_fail(r);
	}
	if (proto_reader_end(r) || !npieces || npieces > BANK_PIECES_MAX || piece >= npieces)
		return -EBADMSG;
	op = op_find(d, id, OP_BANK_READ);
	i = op ? op_index(op, from) : -1;
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
		uint64_t h = key_hash(DYN_SPACE_BANK, items[k].key);

		/* Into the coordinator's own store, durably: its balance is computed from it,
		 * and a record one replica holds is a record every replica should. */
		if (store_merge(d, &items[k], true) < 0)
			return 0; /* out of memory: let the read time out rather than lie */
		a->digest[h % DYN_BUCKETS] += version_fp(h, &items[k].v);
	}
	if (++a->got == a->npieces)
		read_answer(d, op, i);
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
			hint_done(d, id, true);
			break;
		}
		op = op_find(d, id, OP_WRITE);
		i = op ? op_index(op, from) : -1;
		if (i >= 0)
			write_ack(d, op, i);
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
	flush_forwarded(d);
	return rc;
}

/* ---- recovery and inspection ---- */

/* A record's context and seen counters, which its live versions alone may not give back. */
static int restore_record(struct dynamo *d, struct proto_reader *r)
{
	uint8_t space = proto_get_u8(r);
	char key[DYN_KEY_MAX + 1];
	struct dyn_vv ctx, seen;
	struct rec *rec;

	proto_get_cstr(r, key, sizeof(key));
	get_vv(r, &ctx);
	get_vv(r, &seen);
	if (proto_reader_end(r) || space > DYN_SPACE_BANK || !key[0])
		return -EBADMSG;
	rec = rec_get(d, space, key, true);
	if (!rec)
		return -ENOMEM;
	if (vv_join(&rec->ctx, &ctx) || vv_join(&rec->seen, &seen))
		return -EBADMSG;
	return 0;
}

static int restore_counters(struct dynamo *d, struct proto_reader *r)
{
	uint64_t hlc = proto_get_u64(r), next_hint_id = proto_get_u64(r);

	if (proto_reader_end(r))
		return -EBADMSG;
	observe_hlc(d, hlc);
	/* Hint ids are never reused: a late acknowledgement must not retire a new hint. */
	if (next_hint_id > d->next_hint_id)
		d->next_hint_id = next_hint_id;
	return 0;
}

int dyn_restore(struct dynamo *d, const struct dyn_write *w)
{
	struct proto_reader r;
	struct item it;
	uint64_t id = 0;
	uint16_t target = 0;

	proto_reader_init(&r, w->data, w->len);
	if (w->kind == DYN_WRITE_RECORD)
		return restore_record(d, &r);
	if (w->kind == DYN_WRITE_COUNTERS)
		return restore_counters(d, &r);
	if (w->kind != DYN_WRITE_VERSION)
		id = proto_get_u64(&r);
	if (w->kind == DYN_WRITE_HINT)
		target = proto_get_u16(&r);
	if (w->kind != DYN_WRITE_HINT_DONE)
		get_item(&r, &it);
	if (proto_reader_end(&r))
		return -EBADMSG;
	switch (w->kind) {
	case DYN_WRITE_VERSION:
		return store_merge(d, &it, false) < 0 ? -ENOMEM : 0;
	case DYN_WRITE_HINT:
		observe_hlc(d, it.v.hlc);
		return hint_add(d, id, target, &it, false) == -ENOMEM ? -ENOMEM : 0;
	case DYN_WRITE_HINT_DONE:
		hint_done(d, id, false);
		return 0;
	default:
		return -EBADMSG;
	}
}

static int snapshot_item(struct dyn_write *w, uint8_t kind, uint64_t id, uint16_t target,
			 const struct item *it, int (*fn)(void *arg, const struct dyn_write *w),
			 void *arg)
{
	struct proto_writer pw;

	w->kind = kind;
	proto_writer_init(&pw, w->data, sizeof(w->data));
	if (kind == DYN_WRITE_HINT) {
		proto_put_u64(&pw, id);
		proto_put_u16(&pw, target);
	}
	put_item(&pw, it);
	w->len = pw.len;
	return pw.overflow ? -EOVERFLOW : fn(arg, w);
}

int dyn_snapshot(const struct dynamo *d, int (*fn)(void *arg, const struct dyn_write *w), void *arg)
{
	struct dyn_write *w = malloc(sizeof(*w));
	struct proto_writer pw;
	struct item it;
	struct rec *r;
	unsigned int k;
	size_t i;
	int rc;

	if (!w)
		return -ENOMEM;
	w->kind = DYN_WRITE_COUNTERS;
	proto_writer_init(&pw, w->data, sizeof(w->data));
	proto_put_u64(&pw, d->hlc);
	proto_put_u64(&pw, d->next_hint_id);
	w->len = pw.len;
	rc = fn(arg, w);
	for (i = 0; !rc && i < d->table_size; i++)
		for (r = d->table[i]; !rc && r; r = r->next) {
			for (k = 0; !rc && k < r->nver; k++) {
				item_of(&it, r, k);
				rc = snapshot_item(w, DYN_WRITE_VERSION, 0, 0, &it, fn, arg);
			}
			/* Last-writer-wins records keep no context; with siblings the context
			 * also covers versions superseded and gone. */
			if (rc || (!r->ctx.n && !r->seen.n))
				continue;
			w->kind = DYN_WRITE_RECORD;
			proto_writer_init(&pw, w->data, sizeof(w->data));
			proto_put_u8(&pw, r->space);
			proto_put_cstr(&pw, r->key);
			put_vv(&pw, &r->ctx);
			put_vv(&pw, &r->seen);
			w->len = pw.len;
			rc = pw.overflow ? -EOVERFLOW : fn(arg, w);
		}
	for (i = 0; !rc && i < d->nhints; i++)
		rc = snapshot_item(w, DYN_WRITE_HINT, d->hints[i].id, d->hints[i].target,
				   &d->hints[i].it, fn, arg);
	free(w);
	return rc;
}

void dyn_stats(const struct dynamo *d, struct dyn_stats *st)
{
	*st = d->st;
	st->keys = d->nrec;
	st->versions = d->nversions;
	st->hints = d->nhints;
}

uint64_t dyn_fingerprint(const struct dynamo *d, uint8_t space)
{
	uint64_t fp = 0;
	struct rec *r;
	size_t i;

	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next)
			if (r->space == space)
				fp += rec_fp(r);
	return fp;
}

uint64_t dyn_hlc(const struct dynamo *d)
{
	return d->hlc;
}

unsigned int dyn_local(const struct dynamo *d, uint8_t space, const char *key,
		       struct dyn_version *out, unsigned int max, struct dyn_vv *ctx)
{
	const struct rec *r = rec_find(d, space, key, key_hash(space, key));
	unsigned int i;

	if (!r)
		return 0;
	for (i = 0; i < r->nver && i < max; i++)
		out[i] = *r->ver[i];
	if (ctx)
		*ctx = r->ctx;
	return r->nver;
}
