// SPDX-License-Identifier: GPL-2.0-only
/* Maelstrom's key-value and timestamp services, on keys and values kept as JSON text. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "netem/maelstrom/services.h"

static const char *const names[MAEL_SERVICES] = {
	[MAEL_LIN_KV_SERVICE] = "lin-kv",
	[MAEL_SEQ_KV] = "seq-kv",
	[MAEL_LWW_KV] = "lww-kv",
	[MAEL_LIN_TSO] = "lin-tso",
};

/* One value a key had, and where in the store's order of writes it came. */
struct version {
	uint64_t seq;
	uint64_t ts; /* lww-kv: the writer's timestamp */
	char *value;
};

struct key_entry {
	char *key; /* NULL: a free slot */
	struct version *v;
	size_t n, cap;
};

/* Open addressing on the key's text. */
struct table {
	struct key_entry *slots;
	size_t cap, used;
};

struct mael_services {
	unsigned int nodes;
	uint64_t rng;
	struct table lin, seq;
	uint64_t seq_writes; /* seq-kv's total order: the number of writes so far */
	uint64_t *seq_pos; /* per node: the newest write it has seen */
	struct table lww[MAEL_LWW_REPLICAS];
	uint64_t lww_writes;
	uint64_t tso;
};

int mael_service_parse(const char *name)
{
	for (int s = 0; s < MAEL_SERVICES; s++)
		if (!strcmp(name, names[s]))
			return s;
	return -1;
}

const char *mael_service_name(enum mael_service s)
{
	return (unsigned int)s < MAEL_SERVICES ? names[s] : "?";
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct key_entry *e = &t->slots[i];

		if (!e->key)
			continue;
		for (size_t k = 0; k < e->n; k++)
			free(e->v[k].value);
		free(e->v);
		free(e->key);
	}
	free(t->slots);
}

static struct key_entry *slot_of(struct table *t, const char *key)
{
	size_t i = hash_text(key) & (t->cap - 1);

	while (t->slots[i].key && strcmp(t->slots[i].key, key))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static int table_grow(struct table *t)
{
	struct table bigger = { .cap = t->cap ? 2 * t->cap : 64, .used = t->used };

	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key)
			*slot_of(&bigger, t->slots[i].key) = t->slots[i];
	free(t->slots);
	*t = bigger;
	return 0;
}

/* The key's entry; with create, made when missing. NULL when missing (or without memory). */
static struct key_entry *lookup(struct table *t, const char *key, bool create)
{
	struct key_entry *e;

	if (!t->cap && (!create || table_grow(t)))
		return NULL;
	e = slot_of(t, key);
	if (e->key || !create)
		return e->key ? e : NULL;
	if (2 * (t->used + 1) > t->cap) {
		if (table_grow(t))
			return NULL;
		e = slot_of(t, key);
	}
	e->key = strdup(key);
	if (!e->key)
		return NULL;
	t->used++;
	return e;
}

static int add_version(struct key_entry *e, uint64_t seq, uint64_t ts, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4;
		struct version *v = realloc(e->v, cap * sizeof(*v));

		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = (struct version){ .seq = seq, .ts = ts, .value = copy };
	return 0;
}

/* Keeps one version only: lin-kv and every lww-kv replica. */
static int set_only(struct key_entry *e, uint64_t seq, uint64_t ts, const char *value)
{
	char *copy;

	if (!e->n)
		return add_version(e, seq, ts, value);
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(e->v[0].value);
	e->v[0] = (struct version){ .seq = seq, .ts = ts, .value = copy };
	return 0;
}

/* seq-kv: versions no node can read any more (a newer one is at or below every node's
 * position) are dropped, so memory follows the nodes' lag, not the run's length. */
static void seq_prune(struct mael_services *s, struct key_entry *e)
{
	uint64_t low = UINT64_MAX;
	size_t drop = 0;

	if (e->n < 32)
		return;
	for (unsigned int i = 0; i < s->nodes; i++)
		if (s->seq_pos[i] < low)
			low = s->seq_pos[i];
	while (drop + 1 < e->n && e->v[drop + 1].seq <= low)
		free(e->v[drop++].value);
	memmove(e->v, e->v + drop, (e->n - drop) * sizeof(*e->v));
	e->n -= drop;
}

struct mael_services *mael_services_new(unsigned int nodes, uint64_t seed)
{
	struct mael_services *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nodes = nodes ? nodes : 1;
	s->rng = seed;
	s->seq_pos = calloc(s->nodes, sizeof(*s->seq_pos));
	if (!s->seq_pos) {
		free(s);
		return NULL;
	}
	return s;
}

void mael_services_free(struct mael_services *s)
{
	if (!s)
		return;
	table_free(&s->lin);
	table_free(&s->seq);
	for (int i = 0; i < MAEL_LWW_REPLICAS; i++)
		table_free(&s->lww[i]);
	free(s->seq_pos);
	free(s);
}

/* A reply under construction. */
struct reply {
	char *buf;
	size_t len;
	FILE *f;
};

static int reply_error(struct reply *r, unsigned int code, const char *fmt, const char *a,
		       const char *b)
{
	char text[512];

	snprintf(text, sizeof(text), fmt, a ? a : "", b ? b : "");
	fprintf(r->f, "{\"type\":\"error\",\"code\":%u,\"text\":", code);
	json_write_string(r->f, text);
	fputc('}', r->f);
	return 0;
}

/* The value a key has for this request, NULL when it does not exist: the newest for lin-kv, a
 * replica's for lww-kv, and for seq-kv one at or after what the node saw last. */
static const char *visible(struct mael_services *s, struct key_entry *e, enum mael_service svc,
			   unsigned int node, bool pick_stale)
{
	uint64_t p;
	size_t i;

	if (!e || !e->n)
		return NULL;
	if (svc != MAEL_SEQ_KV)
		return e->v[e->n - 1].value;
	/* A read mostly stays where the node was, and now and then catches up part of the way:
	 * a node that only reads can lag for as long as it likes, as Maelstrom's does. */
	p = s->seq_writes;
	if (pick_stale && s->seq_writes > s->seq_pos[node]) {
		uint64_t r = rng_next(&s->rng);

		p = s->seq_pos[node];
		if (r % 4 == 0)
			p += (r >> 8) % (s->seq_writes - s->seq_pos[node] + 1);
	}
	s->seq_pos[node] = p;
	for (i = e->n; i > 0 && e->v[i - 1].seq > p; i--)
		;
	return i ? e->v[i - 1].value : NULL;
}

/* A write at the end of the store's order (or a replica's, with a skewed timestamp). */
static int store(struct mael_services *s, struct table *t, enum mael_service svc, unsigned int node,
		 const char *key, const char *value, uint64_t now_ns)
{
	struct key_entry *e = lookup(t, key, true);
	int err;

	if (!e)
		return -ENOMEM;
	switch (svc) {
	case MAEL_SEQ_KV:
		err = add_version(e, ++s->seq_writes, 0, value);
		s->seq_pos[node] = s->seq_writes;
		if (!err)
			seq_prune(s, e);
		return err;
	case MAEL_LWW_KV: {
		/* Clocks about 10 ms apart: a later write can carry the earlier timestamp. */
		uint64_t ts = now_ns + rng_next(&s->rng) % 20000000ull;

		if (e->n && e->v[0].ts > ts)
			return 0; /* acknowledged, and lost to the replica's later timestamp */
		return set_only(e, ++s->lww_writes, ts, value);
	}
	default:
		return set_only(e, 0, 0, value);
	}
}

static int handle(struct mael_services *s, enum mael_service svc, unsigned int node,
		  const struct json_value *body, uint64_t now_ns, struct reply *r)
{
	const struct json_value *type = json_member(body, "type"), *key, *v;
	char *key_text = NULL, *a = NULL, *b = NULL;
	struct table *t;
	const char *cur;
	int err = 0;

	if (!type || type->kind != JSON_STRING)
		return reply_error(r, 12, "a request needs a \"type\"%s%s", NULL, NULL);
	if (svc == MAEL_LIN_TSO) {
		if (strcmp(type->str, "ts"))
			return reply_error(r, 10, "lin-tso offers ts, not %s%s", type->str, NULL);
		fprintf(r->f, "{\"type\":\"ts_ok\",\"ts\":%llu}", (unsigned long long)++s->tso);
		return 0;
	}
	t = svc == MAEL_LIN_KV_SERVICE ? &s->lin :
	    svc == MAEL_SEQ_KV	       ? &s->seq :
					 &s->lww[rng_next(&s->rng) % MAEL_LWW_REPLICAS];
	key = json_member(body, "key");
	if (!key)
		return reply_error(r, 12, "%s needs a \"key\"%s", type->str, NULL);
	key_text = json_value_text(key);
	if (!key_text)
		return -ENOMEM;
	if (!strcmp(type->str, "read")) {
		cur = visible(s, lookup(t, key_text, false), svc, node, true);
		if (!cur)
			reply_error(r, 20, "key %s does not exist%s", key_text, NULL);
		else
			fprintf(r->f, "{\"type\":\"read_ok\",\"value\":%s}", cur);
	} else if (!strcmp(type->str, "write")) {
		v = json_member(body, "value");
		if (!v) {
			reply_error(r, 12, "write needs a \"value\"%s%s", NULL, NULL);
			goto out;
		}
		a = json_value_text(v);
		err = a ? store(s, t, svc, node, key_text, a, now_ns) : -ENOMEM;
		if (!err)
			fputs("{\"type\":\"write_ok\"}", r->f);
	} else if (!strcmp(type->str, "cas")) {
		const struct json_value *from = json_member(body, "from"),
					*to = json_member(body, "to"),
					*create = json_member(body, "create_if_not_exists");

		if (!from || !to) {
			reply_error(r, 12, "cas needs \"from\" and \"to\"%s%s", NULL, NULL);
			goto out;
		}
		a = json_value_text(from);
		b = json_value_text(to);
		if (!a || !b) {
			err = -ENOMEM;
			goto out;
		}
		/* A compare-and-set reads the newest state, wherever the node was. */
		cur = visible(s, lookup(t, key_text, false), svc, node, false);
		if (!cur && !(create && create->kind == JSON_BOOL && create->b))
			reply_error(r, 20, "key %s does not exist%s", key_text, NULL);
		else if (cur && strcmp(cur, a))
			reply_error(r, 22, "expected %s, but had %s", a, cur);
		else if (!(err = store(s, t, svc, node, key_text, b, now_ns)))
			fputs("{\"type\":\"cas_ok\"}", r->f);
	} else {
		reply_error(r, 10, "%s offers read, write and cas, not %s", mael_service_name(svc),
			    type->str);
	}
out:
	free(key_text);
	free(a);
	free(b);
	return err;
}

int mael_services_handle(struct mael_services *s, enum mael_service svc, unsigned int node,
			 const struct json_value *body, uint64_t now_ns, char **reply)
{
	struct reply r = { 0 };
	int err;

	*reply = NULL;
	if (node >= s->nodes || (unsigned int)svc >= MAEL_SERVICES)
		return -EINVAL;
	r.f = open_memstream(&r.buf, &r.len);
	if (!r.f)
		return -ENOMEM;
	err = handle(s, svc, node, body, now_ns, &r);
	if (fclose(r.f) || err) {
		free(r.buf);
		return err ? err : -ENOMEM;
	}
	*reply = r.buf;
	return 0;
}

int mael_services_gossip(struct mael_services *s)
{
	for (int i = 0; i < MAEL_LWW_REPLICAS; i++) {
		struct table *to = &s->lww[i],
			     *from = &s->lww[(i + 1 + rng_next(&s->rng) % (MAEL_LWW_REPLICAS - 1)) %
					     MAEL_LWW_REPLICAS];

		for (size_t k = 0; k < from->cap; k++) {
			struct key_entry *src = &from->slots[k], *dst;

			if (!src->key || !src->n)
				continue;
			dst = lookup(to, src->key, true);
			if (!dst)
				return -ENOMEM;
			if ((!dst->n || dst->v[0].ts < src->v[0].ts) &&
			    set_only(dst, src->v[0].seq, src->v[0].ts, src->v[0].value))
				return -ENOMEM;
		}
	}
	return 0;
}
