// SPDX-License-Identifier: GPL-2.0-only
/* The transaction checker: writes indexed by (key, value), version orders from the reads, a
 * dependency graph in compressed rows, strongly connected components (Tarjan, without
 * recursion), and breadth-first searches for the cycle that names each anomaly. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tools/check/txn_check.h"

enum { WW = 1, WR = 2, RW = 4, RT = 8 };

static const char *const anomaly_names[TXN_ANOMALIES] = {
	[TXN_G0] = "G0",
	[TXN_G1A] = "G1a",
	[TXN_G1B] = "G1b",
	[TXN_G1C] = "G1c",
	[TXN_G_SINGLE] = "G-single",
	[TXN_G2_ITEM] = "G2-item",
	[TXN_G0_REALTIME] = "G0-realtime",
	[TXN_G1C_REALTIME] = "G1c-realtime",
	[TXN_G_SINGLE_REALTIME] = "G-single-realtime",
	[TXN_G2_ITEM_REALTIME] = "G2-item-realtime",
	[TXN_INTERNAL] = "internal",
	[TXN_GARBAGE] = "garbage-read",
	[TXN_DUPLICATE] = "duplicate-elements",
	[TXN_INCOMPATIBLE_ORDER] = "incompatible-order",
	[TXN_CYCLIC_VERSIONS] = "cyclic-versions",
};

static const char *const model_names[TXN_MODELS] = {
	[TXN_READ_UNCOMMITTED] = "read-uncommitted",
	[TXN_READ_COMMITTED] = "read-committed",
	[TXN_SNAPSHOT_ISOLATION] = "snapshot-isolation",
	[TXN_REPEATABLE_READ] = "repeatable-read",
	[TXN_SERIALIZABLE] = "serializable",
	[TXN_STRICT_SERIALIZABLE] = "strict-serializable",
};

#define BIT(a) (1u << (a))

const char *txn_anomaly_name(enum txn_anomaly a)
{
	return (unsigned int)a < TXN_ANOMALIES ? anomaly_names[a] : "?";
}

const char *txn_model_name(enum txn_model m)
{
	return (unsigned int)m < TXN_MODELS ? model_names[m] : "?";
}

int txn_model_parse(const char *name)
{
	for (int m = 0; m < TXN_MODELS; m++)
		if (!strcmp(name, model_names[m]))
			return m;
	return -1;
}

unsigned int txn_model_forbids(enum txn_model m)
{
	/* Broken data is wrong under every model. */
	const unsigned int always = BIT(TXN_INTERNAL) | BIT(TXN_GARBAGE) | BIT(TXN_DUPLICATE) |
				    BIT(TXN_INCOMPATIBLE_ORDER) | BIT(TXN_CYCLIC_VERSIONS);
	const unsigned int g1 = BIT(TXN_G0) | BIT(TXN_G1A) | BIT(TXN_G1B) | BIT(TXN_G1C);

	switch (m) {
	case TXN_READ_UNCOMMITTED:
		return always | BIT(TXN_G0);
	case TXN_READ_COMMITTED:
		return always | g1;
	case TXN_SNAPSHOT_ISOLATION:
		return always | g1 | BIT(TXN_G_SINGLE);
	case TXN_REPEATABLE_READ:
	case TXN_SERIALIZABLE:
		return always | g1 | BIT(TXN_G_SINGLE) | BIT(TXN_G2_ITEM);
	case TXN_STRICT_SERIALIZABLE:
		return always | g1 | BIT(TXN_G_SINGLE) | BIT(TXN_G2_ITEM) | BIT(TXN_G0_REALTIME) |
		       BIT(TXN_G1C_REALTIME) | BIT(TXN_G_SINGLE_REALTIME) |
		       BIT(TXN_G2_ITEM_REALTIME);
	default:
		return always;
	}
}

bool txn_same_steps(const struct txn_mop *a, size_t n_a, const struct txn_mop *b, size_t n_b)
{
	if (n_a != n_b)
		return false;
	for (size_t i = 0; i < n_a; i++)
		if (a[i].f != b[i].f || a[i].key != b[i].key ||
		    (a[i].f == TXN_WRITE && a[i].value != b[i].value))
			return false;
	return true;
}

unsigned int txn_ruled_out(const struct txn_result *r)
{
	unsigned int out = 0;

	for (int m = 0; m < TXN_MODELS; m++)
		for (int a = 0; a < TXN_ANOMALIES; a++)
			if (r->counts[a] && txn_model_forbids(m) & BIT(a))
				out |= BIT(m);
	return out;
}

struct write_ix {
	int64_t key, value;
	size_t op;
	bool final; /* the transaction's last write of that key */
	bool failed;
};

struct edge {
	size_t from, to;
	int64_t key;
	unsigned int type;
};

struct checker {
	enum txn_kind kind;
	const struct txn_op *ops;
	size_t n;
	struct txn_result *r;
	struct write_ix *writes;
	size_t n_writes;
	struct edge *edges;
	size_t n_edges, cap_edges;
	size_t *row; /* n + 1: edges from node i are edges[row[i] .. row[i + 1]) */
	/* Searches: two layers of states (no rw used yet, one used). */
	uint32_t *seen, stamp;
	size_t *parent, *parent_edge, *queue;
	size_t *comp, *comp_size;
	bool *reported; /* per component, for the pass under way */
	const char *const *names; /* keys and values from TXN_NAMED on */
	size_t n_names;
};

/* A key or value for a person: its digits, or its name when it was numbered from TXN_NAMED. */
static const char *id_text(const struct checker *c, int64_t v, char *buf, size_t len)
{
	if (v >= TXN_NAMED && (uint64_t)(v - TXN_NAMED) < c->n_names)
		return c->names[v - TXN_NAMED];
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

#define ID(c, v) id_text((c), (v), (char[24]){ 0 }, 24)

static void found(struct txn_result *r, enum txn_anomaly a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void found(struct txn_result *r, enum txn_anomaly a, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->counts[a]++ >= 2 || r->n_evidence == sizeof(r->evidence) / sizeof(r->evidence[0]))
		return; /* two of each kind are evidence enough */
	k = snprintf(r->evidence[r->n_evidence], sizeof(r->evidence[0]), "%s: ", anomaly_names[a]);
	va_start(ap, fmt);
	vsnprintf(r->evidence[r->n_evidence] + k, sizeof(r->evidence[0]) - k, fmt, ap);
	va_end(ap);
	r->n_evidence++;
}

/* A transaction for a person: "T12 (process 3 on n1: r 5 [1 2], append 5 3)". */
static void describe(const struct checker *c, size_t i, char *buf, size_t len)
{
	const struct txn_op *op = &c->ops[i];
	size_t used;

	used = snprintf(buf, len, "T%zu (", i);
	if (op->process != TXN_NO_PROCESS)
		used += snprintf(buf + used, len - used, "process %llu",
				 (unsigned long long)op->process);
	if (op->node != TXN_NO_NODE && used < len)
		used += snprintf(buf + used, len - used, " on n%u", op->node);
	if (used < len && op->process != TXN_NO_PROCESS)
		used += snprintf(buf + used, len - used, ":");
	for (size_t m = 0; m < op->n_mops && used < len; m++) {
		const struct txn_mop *mop = &op->mops[m];

		used += snprintf(
			buf + used, len - used, "%s %s %s", m ? "," : "",
			mop->f == TXN_WRITE ? (c->kind == TXN_LIST_APPEND ? "append" : "w") : "r",
			ID(c, mop->key));
		if (used >= len)
			break;
		if (mop->f == TXN_WRITE || (c->kind == TXN_RW_REGISTER && !mop->nil)) {
			used += snprintf(buf + used, len - used, " %s", ID(c, mop->value));
		} else if (mop->nil) {
			used += snprintf(buf + used, len - used, " null");
		} else {
			used += snprintf(buf + used, len - used, " [");
			for (size_t e = 0; e < mop->n_list && used < len; e++) {
				if (e == 6 && mop->n_list > 8) {
					used += snprintf(buf + used, len - used, " ...");
					e = mop->n_list - 2;
					continue;
				}
				used += snprintf(buf + used, len - used, "%s%s", e ? " " : "",
						 ID(c, mop->list[e]));
			}
			if (used < len)
				used += snprintf(buf + used, len - used, "]");
		}
	}
	if (used < len)
		snprintf(buf + used, len - used, ")");
}

static int cmp_write(const void *a, const void *b)
{
	const struct write_ix *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

static const struct write_ix *writer(const struct checker *c, int64_t key, int64_t value)
{
	struct write_ix k = { .key = key, .value = value };

	return find_n(&k, c->writes, c->n_writes, sizeof(k), cmp_write);
}

static int add_edge(struct checker *c, size_t from, size_t to, int64_t key, unsigned int type)
{
	if (from == to)
		return 0;
	if (array_grow((void **)&c->edges, sizeof(*c->edges), c->n_edges, &c->cap_edges))
		return -ENOMEM;
	c->edges[c->n_edges++] = (struct edge){ from, to, key, type };
	return 0;
}

static int index_writes(struct checker *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		for (size_t m = 0; m < c->ops[i].n_mops; m++)
			n += c->ops[i].mops[m].f == TXN_WRITE;
	c->writes = malloc((n ? n : 1) * sizeof(*c->writes));
	if (!c->writes)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct txn_op *op = &c->ops[i];

		for (size_t m = 0; m < op->n_mops; m++) {
			bool final = true;

			if (op->mops[m].f != TXN_WRITE)
				continue;
			for (size_t l = m + 1; l < op->n_mops; l++)
				if (op->mops[l].f == TXN_WRITE &&
				    op->mops[l].key == op->mops[m].key)
					final = false;
			c->writes[c->n_writes++] = (struct write_ix){
				.key = op->mops[m].key,
				.value = op->mops[m].value,
				.op = i,
				.final = final,
				.failed = op->outcome == TXN_FAIL,
			};
		}
	}
	sort_n(c->writes, c->n_writes, sizeof(*c->writes), cmp_write);
	return 0;
}

/* Whether read m of transaction i is its first look at that key; checks it against the
 * transaction's own earlier steps when it is not. */
static bool external_read(struct checker *c, size_t i, size_t m)
{
	const struct txn_op *op = &c->ops[i];
	const struct txn_mop *rd = &op->mops[m];
	ssize_t last_read = -1;
	size_t appends_after = 0, writes = 0;
	char what[200];

	for (size_t l = 0; l < m; l++) {
		const struct txn_mop *e = &op->mops[l];

		if (e->key != rd->key)
			continue;
		if (e->f == TXN_READ) {
			last_read = (ssize_t)l;
			appends_after = 0;
		} else {
			appends_after++;
		}
		writes += e->f == TXN_WRITE;
	}
	if (last_read < 0 && !writes)
		return true;
	if (c->kind == TXN_RW_REGISTER) {
		/* The last step on the key decides: its write, or the value read. */
		for (size_t l = m; l-- > 0;) {
			const struct txn_mop *e = &op->mops[l];
			bool agree;

			if (e->key != rd->key)
				continue;
			agree = e->f == TXN_WRITE ?
					!rd->nil && rd->value == e->value :
					rd->nil == e->nil && (rd->nil || rd->value == e->value);
			if (!agree) {
				describe(c, i, what, sizeof(what));
				found(c->r, TXN_INTERNAL, "%s read key %s as other than its own %s",
				      what, ID(c, rd->key),
				      e->f == TXN_WRITE ? "write" : "earlier read");
			}
			break;
		}
		return false;
	}
	/* list-append: the last read and the appends since, or only the appends so far, at the
	 * end of this read. */
	{
		size_t want = appends_after, base = 0;
		bool agree = true;

		if (last_read >= 0) {
			base = op->mops[last_read].n_list;
			agree = rd->n_list == base + want;
			for (size_t e = 0; agree && e < base; e++)
				agree = rd->list[e] == op->mops[last_read].list[e];
		} else {
			agree = rd->n_list >= want;
			base = agree ? rd->n_list - want : 0;
		}
		for (size_t l = last_read >= 0 ? (size_t)last_read + 1 : 0, e = base;
		     agree && l < m; l++) {
			if (op->mops[l].key != rd->key || op->mops[l].f != TXN_WRITE)
				continue;
			agree = rd->list[e++] == op->mops[l].value;
		}
		if (!agree) {
			describe(c, i, what, sizeof(what));
			found(c->r, TXN_INTERNAL,
			      "%s read key %s without what it had read and appended before", what,
			      ID(c, rd->key));
		}
	}
	return false;
}

/* What a read saw, value by value: a write that exists, did not fail, and was its writer's
 * last of the key (for list-append, only the last value seen must be). */
static void check_value(struct checker *c, size_t i, int64_t key, int64_t value, bool last)
{
	const struct write_ix *w = writer(c, key, value);
	char what[200], by[200];

	if (!w) {
		describe(c, i, what, sizeof(what));
		found(c->r, TXN_GARBAGE, "%s read %s from key %s, which nobody wrote", what,
		      ID(c, value), ID(c, key));
		return;
	}
	if (w->op == i)
		return;
	if (w->failed) {
		describe(c, i, what, sizeof(what));
		describe(c, w->op, by, sizeof(by));
		found(c->r, TXN_G1A, "%s read %s from key %s, written by %s, which failed", what,
		      ID(c, value), ID(c, key), by);
	} else if (last && !w->final) {
		describe(c, i, what, sizeof(what));
		describe(c, w->op, by, sizeof(by));
		found(c->r, TXN_G1B,
		      "%s read %s from key %s, an intermediate state of %s, which wrote the "
		      "key again",
		      what, ID(c, value), ID(c, key), by);
	}
}

/* A read, for version orders: which operation and which of its steps. */
struct read_ref {
	int64_t key;
	size_t op, mop;
	bool external;
};

static int cmp_read(const void *a, const void *b)
{
	const struct read_ref *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

static int collect_reads(struct checker *c, struct read_ref **out, size_t *n_out)
{
	size_t n = 0;
	struct read_ref *v;

	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i].outcome == TXN_OK)
			for (size_t m = 0; m < c->ops[i].n_mops; m++)
				n += c->ops[i].mops[m].f == TXN_READ;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->ops[i].outcome != TXN_OK)
			continue;
		for (size_t m = 0; m < c->ops[i].n_mops; m++) {
			const struct txn_mop *mop = &c->ops[i].mops[m];

			if (mop->f != TXN_READ)
				continue;
			v[n++] = (struct read_ref){ mop->key, i, m, external_read(c, i, m) };
			if (c->kind == TXN_RW_REGISTER && !mop->nil)
				check_value(c, i, mop->key, mop->value, true);
			for (size_t e = 0; c->kind == TXN_LIST_APPEND && e < mop->n_list; e++)
				check_value(c, i, mop->key, mop->list[e], e + 1 == mop->n_list);
		}
	}
	sort_n(v, n, sizeof(*v), cmp_read);
	*out = v;
	*n_out = n;
	return 0;
}

static const struct txn_mop *mop_of(const struct checker *c, const struct read_ref *r)
{
	return &c->ops[r->op].mops[r->mop];
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* list-append: appends no read saw still come after everything read (Elle's rule): after the
 * writer of the longest read's last value (ww), and after every read of that whole list, or of
 * the empty list when nothing was seen (rw). sorted: the longest read's values, sorted. */
static int unread_appends(struct checker *c, const struct read_ref *rd, size_t lo, size_t hi,
			  const struct txn_mop *longest, const int64_t *sorted)
{
	struct write_ix k = { .key = rd[lo].key, .value = INT64_MIN };
	const struct write_ix *last =
		longest->n_list ? writer(c, k.key, longest->list[longest->n_list - 1]) : NULL;
	size_t w = 0, top = c->n_writes;

	/* The first write of the key. */
	while (w < top) {
		size_t mid = w + (top - w) / 2;

		if (cmp_write(&c->writes[mid], &k) < 0)
			w = mid + 1;
		else
			top = mid;
	}
	for (; w < c->n_writes && c->writes[w].key == k.key; w++) {
		const struct write_ix *x = &c->writes[w];

		if (x->failed ||
		    find_n(&x->value, sorted, longest->n_list, sizeof(*sorted), cmp_i64))
			continue;
		if (last && !last->failed && add_edge(c, last->op, x->op, k.key, WW))
			return -ENOMEM;
		for (size_t i = lo; i < hi; i++) {
			const struct txn_mop *m = mop_of(c, &rd[i]);

			if (rd[i].external && m->n_list == longest->n_list &&
			    (!m->n_list ||
			     !memcmp(m->list, longest->list, m->n_list * sizeof(*m->list))) &&
			    add_edge(c, rd[i].op, x->op, k.key, RW))
				return -ENOMEM;
		}
	}
	return 0;
}

/* list-append, one key's reads [lo, hi): the longest is the version order. */
static int list_key(struct checker *c, const struct read_ref *rd, size_t lo, size_t hi)
{
	const struct txn_mop *longest = mop_of(c, &rd[lo]);
	size_t longest_op = rd[lo].op;
	int64_t key = rd[lo].key, *sorted;
	size_t incompatible = 0;
	char a[200], b[200];

	for (size_t i = lo; i < hi; i++)
		if (mop_of(c, &rd[i])->n_list > longest->n_list) {
			longest = mop_of(c, &rd[i]);
			longest_op = rd[i].op;
		}
	sorted = malloc((longest->n_list ? longest->n_list : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	if (longest->n_list)
		memcpy(sorted, longest->list, longest->n_list * sizeof(*sorted));
	sort_n(sorted, longest->n_list, sizeof(*sorted), cmp_i64);
	for (size_t e = 1; e < longest->n_list; e++)
		if (sorted[e] == sorted[e - 1]) {
			describe(c, longest_op, a, sizeof(a));
			found(c->r, TXN_DUPLICATE, "%s read %s twice in key %s", a,
			      ID(c, sorted[e]), ID(c, key));
			break;
		}
	if (unread_appends(c, rd, lo, hi, longest, sorted)) {
		free(sorted);
		return -ENOMEM;
	}
	free(sorted);
	for (size_t e = 0; e + 1 < longest->n_list; e++) {
		const struct write_ix *x = writer(c, key, longest->list[e]),
				      *y = writer(c, key, longest->list[e + 1]);

		if (x && y && !x->failed && !y->failed && add_edge(c, x->op, y->op, key, WW))
			return -ENOMEM;
	}
	for (size_t i = lo; i < hi; i++) {
		const struct txn_mop *m = mop_of(c, &rd[i]);
		bool prefix = m->n_list <= longest->n_list &&
			      (!m->n_list ||
			       !memcmp(m->list, longest->list, m->n_list * sizeof(*m->list)));

		if (!prefix) {
			if (incompatible++)
				continue; /* once per key */
			describe(c, rd[i].op, a, sizeof(a));
			describe(c, longest_op, b, sizeof(b));
			found(c->r, TXN_INCOMPATIBLE_ORDER,
			      "key %s: %s is no prefix of what %s read", ID(c, key), a, b);
			continue;
		}
		if (!rd[i].external)
			continue;
		if (m->n_list) {
			const struct write_ix *w = writer(c, key, m->list[m->n_list - 1]);

			if (w && !w->failed && add_edge(c, w->op, rd[i].op, key, WR))
				return -ENOMEM;
		}
		if (m->n_list < longest->n_list) {
			const struct write_ix *w = writer(c, key, longest->list[m->n_list]);

			if (w && !w->failed && add_edge(c, rd[i].op, w->op, key, RW))
				return -ENOMEM;
		}
	}
	return 0;
}

/* rw-register, one key: versions are null and every value written; one follows another when
 * a transaction read the one and then wrote the other, or wrote both in turn. Up to 63 values
 * the order is closed transitively; beyond, only those direct steps count. */
static int register_key(struct checker *c, const struct read_ref *rd, size_t lo, size_t hi,
			int64_t key, size_t w_lo, size_t w_hi)
{
	size_t m = w_hi - w_lo; /* versions 1..m are c->writes[w_lo..w_hi); 0 is null */
	bool closed = m < 64;
	uint64_t *after = calloc(m + 1, sizeof(*after)); /* after[v]: bits of versions above */
	char a[200];
	int rc = -ENOMEM;

	if (!after)
		return -ENOMEM;
#define VERSION_OF(value) ((size_t)(writer(c, key, (value)) - c->writes - w_lo + 1))
	for (size_t v = 1; closed && v <= m; v++)
		after[0] |= 1ull << v;
	/* Steps inside transactions that did not fail. */
	for (size_t t = 0; t < c->n; t++) {
		const struct txn_op *op = &c->ops[t];
		ssize_t prev = -1; /* the version this transaction last saw or wrote of key */

		if (op->outcome == TXN_FAIL)
			continue;
		for (size_t s = 0; s < op->n_mops; s++) {
			const struct txn_mop *mop = &op->mops[s];
			ssize_t v;

			if (mop->key != key)
				continue;
			if (mop->f == TXN_READ) {
				if (op->outcome != TXN_OK || prev >= 0)
					continue;
				if (mop->nil)
					prev = 0;
				else if (writer(c, key, mop->value))
					prev = (ssize_t)VERSION_OF(mop->value);
				continue;
			}
			v = (ssize_t)VERSION_OF(mop->value);
			if (prev > 0 && prev != v) {
				if (closed) {
					after[prev] |= 1ull << v;
				} else if (add_edge(c, c->writes[w_lo + prev - 1].op,
						    c->writes[w_lo + v - 1].op, key, WW)) {
					goto out;
				}
			}
			prev = v;
		}
	}
	if (closed) {
		/* Transitive closure, Warshall's way, on bit rows. */
		for (size_t k = 0; k <= m; k++)
			for (size_t v = 0; v <= m; v++)
				if (after[v] >> k & 1)
					after[v] |= after[k];
		for (size_t v = 1; v <= m; v++)
			if (after[v] >> v & 1) {
				describe(c, c->writes[w_lo + v - 1].op, a, sizeof(a));
				found(c->r, TXN_CYCLIC_VERSIONS,
				      "key %s: the value %s that %s wrote comes, by the reads "
				      "before writes, after itself",
				      ID(c, key), ID(c, c->writes[w_lo + v - 1].value), a);
				rc = 0;
				goto out; /* no order to draw edges from */
			}
		for (size_t v = 1; v <= m; v++)
			for (size_t u = 1; u <= m; u++)
				if (after[v] >> u & 1 && !c->writes[w_lo + v - 1].failed &&
				    !c->writes[w_lo + u - 1].failed &&
				    add_edge(c, c->writes[w_lo + v - 1].op,
					     c->writes[w_lo + u - 1].op, key, WW))
					goto out;
	}
	for (size_t i = lo; i < hi; i++) {
		const struct txn_mop *mop = mop_of(c, &rd[i]);
		size_t v;

		if (!rd[i].external)
			continue;
		if (!mop->nil && !writer(c, key, mop->value))
			continue; /* garbage, already said */
		v = mop->nil ? 0 : VERSION_OF(mop->value);
		if (v && !c->writes[w_lo + v - 1].failed &&
		    add_edge(c, c->writes[w_lo + v - 1].op, rd[i].op, key, WR))
			goto out;
		for (size_t u = 1; u <= m; u++) {
			bool later = closed ? after[v] >> u & 1 : !v;

			if (later && !c->writes[w_lo + u - 1].failed &&
			    add_edge(c, rd[i].op, c->writes[w_lo + u - 1].op, key, RW))
				goto out;
		}
	}
#undef VERSION_OF
	rc = 0;
out:
	free(after);
	return rc;
}

static int version_orders(struct checker *c)
{
	struct read_ref *rd;
	size_t n_rd, lo, w_lo = 0;
	int rc = collect_reads(c, &rd, &n_rd);

	if (rc)
		return rc;
	if (c->kind == TXN_LIST_APPEND) {
		for (lo = 0; !rc && lo < n_rd;) {
			size_t hi = lo + 1;

			while (hi < n_rd && rd[hi].key == rd[lo].key)
				hi++;
			rc = list_key(c, rd, lo, hi);
			lo = hi;
		}
	} else {
		/* Key by key over the writes, with that key's reads. */
		for (lo = 0; !rc && w_lo < c->n_writes;) {
			int64_t key = c->writes[w_lo].key;
			size_t w_hi = w_lo, hi;

			while (w_hi < c->n_writes && c->writes[w_hi].key == key)
				w_hi++;
			while (lo < n_rd && rd[lo].key < key)
				lo++;
			for (hi = lo; hi < n_rd && rd[hi].key == key;)
				hi++;
			rc = register_key(c, rd, lo, hi, key, w_lo, w_hi);
			w_lo = w_hi;
			lo = hi;
		}
	}
	free(rd);
	return rc;
}

/* Real time: a transaction that finished before another began precedes it. Edges only from
 * the frontier, the finished ones no later finished one has covered, as Elle keeps them. */
struct rt_event {
	uint64_t t;
	size_t op;
	bool invoke;
};

static int cmp_event(const void *a, const void *b)
{
	const struct rt_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (int)x->invoke - (int)y->invoke; /* at one instant, nothing finished first */
}

static int realtime_edges(struct checker *c)
{
	struct rt_event *ev = malloc((2 * c->n + 1) * sizeof(*ev));
	size_t *frontier = malloc((c->n + 1) * sizeof(*frontier)), n_ev = 0, n_front = 0;
	size_t *first_edge = malloc((c->n + 1) * sizeof(*first_edge)); /* T's rt edges start */
	size_t *n_rt = calloc(c->n + 1, sizeof(*n_rt));
	int rc = -ENOMEM;

	if (!ev || !frontier || !first_edge || !n_rt)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		if (c->ops[i].outcome == TXN_FAIL)
			continue;
		ev[n_ev++] = (struct rt_event){ c->ops[i].invoke_ns, i, true };
		if (c->ops[i].outcome == TXN_OK)
			ev[n_ev++] = (struct rt_event){ c->ops[i].complete_ns, i, false };
	}
	sort_n(ev, n_ev, sizeof(*ev), cmp_event);
	for (size_t e = 0; e < n_ev; e++) {
		size_t t = ev[e].op;

		if (ev[e].invoke) {
			first_edge[t] = c->n_edges;
			for (size_t f = 0; f < n_front; f++)
				if (add_edge(c, frontier[f], t, 0, RT))
					goto out;
			n_rt[t] = c->n_edges - first_edge[t];
			continue;
		}
		/* T covers whatever preceded it. */
		for (size_t k = 0; k < n_rt[t]; k++) {
			size_t from = c->edges[first_edge[t] + k].from;

			for (size_t f = 0; f < n_front; f++)
				if (frontier[f] == from) {
					frontier[f] = frontier[--n_front];
					break;
				}
		}
		frontier[n_front++] = t;
	}
	rc = 0;
out:
	free(ev);
	free(frontier);
	free(first_edge);
	free(n_rt);
	return rc;
}

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return (int)x->type - (int)y->type;
}

/* Edges into rows by their tail with a counting sort (a million transactions have tens of
 * millions of edges: a comparison sort of them all cost a fifth of the check), then each row
 * sorted by head and type, keeping one edge per (from, to, type): the first key stands for the
 * rest. */
static int build_rows(struct checker *c)
{
	size_t *next = malloc((c->n + 1) * sizeof(*next)), m = 0;
	struct edge *by_row = malloc((c->n_edges ? c->n_edges : 1) * sizeof(*by_row));

	free(c->row);
	c->row = calloc(c->n + 1, sizeof(*c->row));
	if (!next || !by_row || !c->row) {
		free(next);
		free(by_row);
		return -ENOMEM;
	}
	for (size_t e = 0; e < c->n_edges; e++)
		c->row[c->edges[e].from + 1]++;
	for (size_t i = 0; i < c->n; i++)
		c->row[i + 1] += c->row[i];
	memcpy(next, c->row, (c->n + 1) * sizeof(*next));
	for (size_t e = 0; e < c->n_edges; e++)
		by_row[next[c->edges[e].from]++] = c->edges[e];
	for (size_t i = 0; i < c->n; i++) {
		size_t lo = c->row[i], hi = c->row[i + 1];

		if (hi - lo > 16) {
			sort_n(by_row + lo, hi - lo, sizeof(*by_row), cmp_edge);
		} else {
			for (size_t k = lo + 1; k < hi; k++) {
				struct edge e = by_row[k];
				size_t j = k;

				for (; j > lo && cmp_edge(&by_row[j - 1], &e) > 0; j--)
					by_row[j] = by_row[j - 1];
				by_row[j] = e;
			}
		}
		c->row[i] = m;
		for (size_t k = lo; k < hi; k++)
			if (k == lo || by_row[k].to != by_row[m - 1].to ||
			    by_row[k].type != by_row[m - 1].type)
				by_row[m++] = by_row[k];
	}
	c->row[c->n] = m;
	free(next);
	free(c->edges);
	c->edges = by_row;
	c->n_edges = m;
	c->cap_edges = c->n_edges ? c->n_edges : 1;
	return 0;
}

/* Tarjan's components over the edges of the mask, iteratively; comp_size of each. */
static int components(struct checker *c, unsigned int mask)
{
	size_t n = c->n, next = 1, n_comp = 0, sp = 0, cs = 0;
	size_t *index = calloc(n + 1, sizeof(*index)), *low = malloc((n + 1) * sizeof(*low));
	size_t *stack = malloc((n + 1) * sizeof(*stack)), *call = malloc((n + 1) * sizeof(*call));
	size_t *pos = malloc((n + 1) * sizeof(*pos));
	bool *on = calloc(n + 1, sizeof(*on));
	int rc = -ENOMEM;

	if (!index || !low || !stack || !call || !pos || !on)
		goto out;
	for (size_t root = 0; root < n; root++) {
		if (index[root])
			continue;
		call[cs++] = root;
		index[root] = low[root] = next++;
		pos[root] = c->row[root];
		stack[sp++] = root;
		on[root] = true;
		while (cs) {
			size_t v = call[cs - 1];

			if (pos[v] < c->row[v + 1]) {
				const struct edge *e = &c->edges[pos[v]++];
				size_t w = e->to;

				if (!(e->type & mask))
					continue;
				if (!index[w]) {
					index[w] = low[w] = next++;
					pos[w] = c->row[w];
					stack[sp++] = w;
					on[w] = true;
					call[cs++] = w;
				} else if (on[w] && index[w] < low[v]) {
					low[v] = index[w];
				}
				continue;
			}
			cs--;
			if (cs && low[v] < low[call[cs - 1]])
				low[call[cs - 1]] = low[v];
			if (low[v] == index[v]) {
				size_t w, size = 0;

				do {
					w = stack[--sp];
					on[w] = false;
					c->comp[w] = n_comp;
					size++;
				} while (w != v);
				c->comp_size[n_comp++] = size;
			}
		}
	}
	memset(c->reported, 0, n * sizeof(*c->reported));
	rc = 0;
out:
	free(index);
	free(low);
	free(stack);
	free(call);
	free(pos);
	free(on);
	return rc;
}

static bool in_cycle(const struct checker *c, const struct edge *e)
{
	return c->comp[e->from] == c->comp[e->to] && c->comp_size[c->comp[e->from]] > 1;
}

/* Searches from e's head back to its tail over the edges of mask, inside e's component; rw
 * edges of the mask may be taken at most once when one_rw. The end state (a state is node +
 * n * rw taken), or SIZE_MAX. */
static size_t search_back(struct checker *c, const struct edge *start, unsigned int mask,
			  bool one_rw, bool want_rw)
{
	size_t n = c->n, head = 0, tail = 0, goal = SIZE_MAX;
	size_t comp = c->comp[start->from];

	if (++c->stamp == 0) {
		memset(c->seen, 0, 2 * n * sizeof(*c->seen));
		c->stamp = 1;
	}
	c->seen[start->to] = c->stamp;
	c->parent[start->to] = SIZE_MAX;
	c->queue[tail++] = start->to;
	while (head < tail) {
		size_t s = c->queue[head++], v = s % n, layer = s / n;

		if (v == start->from && (!want_rw || layer == 1)) {
			goal = s;
			break;
		}
		for (size_t e = c->row[v]; e < c->row[v + 1]; e++) {
			const struct edge *ed = &c->edges[e];
			size_t to_layer = layer, t;

			if (!(ed->type & mask) || c->comp[ed->to] != comp)
				continue;
			if (one_rw && ed->type == RW) {
				if (layer)
					continue;
				to_layer = 1;
			}
			t = ed->to + to_layer * n;
			if (c->seen[t] == c->stamp)
				continue;
			c->seen[t] = c->stamp;
			c->parent[t] = s;
			c->parent_edge[t] = e;
			c->queue[tail++] = t;
		}
	}
	return goal;
}

/* The cycle start, then the path to goal, for a person; how many rw edges it has. */
static size_t tell_cycle(struct checker *c, const struct edge *start, size_t goal, char *buf,
			 size_t len)
{
	static const char *const kind[] = { [WW] = "ww", [WR] = "wr", [RW] = "rw", [RT] = "rt" };
	size_t path[64], k = 0, used = 0, rws = 0;
	char t[200];

	for (size_t s = goal; s != SIZE_MAX && c->parent[s] != SIZE_MAX && k < 64; s = c->parent[s])
		path[k++] = c->parent_edge[s];
	rws = start->type == RW;
	for (size_t i = 0; i < k; i++)
		rws += c->edges[path[i]].type == RW;
	describe(c, start->from, t, sizeof(t));
	used += snprintf(buf + used, len - used, "%s", t);
	for (size_t i = 0; i <= k && used < len; i++) {
		const struct edge *e = i ? &c->edges[path[k - i]] : start;

		if (e->type == RT)
			used += snprintf(buf + used, len - used, " -rt-> ");
		else
			used += snprintf(buf + used, len - used, " -%s %s-> ", kind[e->type],
					 ID(c, e->key));
		if (used >= len)
			break;
		if (e->to == start->from) {
			used += snprintf(buf + used, len - used, "T%zu", e->to);
		} else {
			describe(c, e->to, t, sizeof(t));
			used += snprintf(buf + used, len - used, "%s", t);
		}
	}
	return rws;
}

/* Each component that holds an edge of via on a cycle over mask: one anomaly, one cycle. A
 * component where that search finds none may still cycle over all of comp_mask: a_more then,
 * or a when the cycle found has a single rw edge after all; none when it has no rw. */
static int cycles(struct checker *c, unsigned int comp_mask, unsigned int via, unsigned int mask,
		  bool one_rw, enum txn_anomaly a, enum txn_anomaly a_more)
{
	char text[sizeof(c->r->evidence[0])];
	int rc = components(c, comp_mask);
	size_t *tries = calloc(c->n + 1, sizeof(*tries));

	if (rc || !tries) {
		free(tries);
		return rc ? rc : -ENOMEM;
	}
	for (size_t e = 0; e < c->n_edges; e++) {
		const struct edge *ed = &c->edges[e];
		size_t comp = c->comp[ed->from], goal;

		if (!(ed->type & via) || !in_cycle(c, ed) || c->reported[comp] ||
		    tries[comp]++ >= 64)
			continue;
		goal = search_back(c, ed, mask, one_rw, one_rw);
		if (goal == SIZE_MAX)
			continue;
		c->reported[comp] = true;
		tell_cycle(c, ed, goal, text, sizeof(text));
		found(c->r, a, "%s", text);
	}
	for (size_t e = 0; a_more != TXN_ANOMALIES && e < c->n_edges; e++) {
		const struct edge *ed = &c->edges[e];
		size_t comp = c->comp[ed->from], goal, rws;

		if (!(ed->type & via) || !in_cycle(c, ed) || c->reported[comp])
			continue;
		goal = search_back(c, ed, comp_mask, false, false);
		if (goal == SIZE_MAX)
			continue;
		rws = tell_cycle(c, ed, goal, text, sizeof(text));
		if (!rws)
			continue;
		c->reported[comp] = true;
		found(c->r, rws == 1 ? a : a_more, "%s", text);
	}
	free(tries);
	return 0;
}

static int analyse(struct checker *c, bool realtime)
{
	int rc;

	c->seen = calloc(2 * c->n + 1, sizeof(*c->seen));
	c->parent = malloc((2 * c->n + 1) * sizeof(*c->parent));
	c->parent_edge = malloc((2 * c->n + 1) * sizeof(*c->parent_edge));
	c->queue = malloc((2 * c->n + 1) * sizeof(*c->queue));
	c->comp = malloc((c->n + 1) * sizeof(*c->comp));
	c->comp_size = malloc((c->n + 1) * sizeof(*c->comp_size));
	c->reported = malloc((c->n + 1) * sizeof(*c->reported));
	if (!c->seen || !c->parent || !c->parent_edge || !c->queue || !c->comp || !c->comp_size ||
	    !c->reported)
		return -ENOMEM;
	rc = build_rows(c);
	if (!rc)
		rc = cycles(c, WW, WW, WW, false, TXN_G0, TXN_ANOMALIES);
	if (!rc)
		rc = cycles(c, WW | WR, WR, WW | WR, false, TXN_G1C, TXN_ANOMALIES);
	if (!rc)
		rc = cycles(c, WW | WR | RW, RW, WW | WR, false, TXN_G_SINGLE, TXN_G2_ITEM);
	c->r->edges = c->n_edges;
	if (rc || !realtime)
		return rc;
	rc = realtime_edges(c);
	if (!rc)
		rc = build_rows(c);
	/* The same again with real-time edges, each cycle through at least one of them. */
	if (!rc)
		rc = cycles(c, WW | RT, RT, WW | RT, false, TXN_G0_REALTIME, TXN_ANOMALIES);
	if (!rc)
		rc = cycles(c, WW | WR | RT, RT, WW | WR | RT, false, TXN_G1C_REALTIME,
			    TXN_ANOMALIES);
	if (!rc)
		rc = cycles(c, WW | WR | RW | RT, RT, WW | WR | RW | RT, true,
			    TXN_G_SINGLE_REALTIME, TXN_G2_ITEM_REALTIME);
	return rc;
}

int txn_check(enum txn_kind kind, const struct txn_op *ops, size_t n, unsigned int models,
	      struct txn_result *r)
{
	return txn_check_named(kind, ops, n, models, NULL, 0, r);
}

int txn_check_named(enum txn_kind kind, const struct txn_op *ops, size_t n, unsigned int models,
		    const char *const *names, size_t n_names, struct txn_result *r)
{
	struct checker c = {
		.kind = kind, .ops = ops, .n = n, .r = r, .names = names, .n_names = n_names
	};
	unsigned int forbidden = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		r->ok += ops[i].outcome == TXN_OK;
		r->failed += ops[i].outcome == TXN_FAIL;
		r->indeterminate += ops[i].outcome == TXN_INFO;
	}
	rc = index_writes(&c);
	if (!rc)
		rc = version_orders(&c);
	if (!rc)
		rc = analyse(&c, models & BIT(TXN_STRICT_SERIALIZABLE));
	for (int m = 0; m < TXN_MODELS; m++)
		if (models & BIT(m))
			for (int a = 0; a < TXN_ANOMALIES; a++)
				if (txn_model_forbids(m) & BIT(a)) {
					r->forbidden_by[a] |= BIT(m);
					forbidden |= r->counts[a] ? BIT(a) : 0;
				}
	r->valid = !rc && !forbidden;
	free(c.writes);
	free(c.edges);
	free(c.row);
	free(c.seen);
	free(c.parent);
	free(c.parent_edge);
	free(c.queue);
	free(c.comp);
	free(c.comp_size);
	free(c.reported);
	return rc;
}
