// SPDX-License-Identifier: GPL-2.0-only
/* Transaction histories in EDN or JSON lines: both formats are read through one small view of a
 * parsed value (map member, sequence item, integer, word), so the rules for events and
 * micro-operations are written once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/edn.h"
#include "lib/json.h"
#include "tools/check/history_edn.h"
#include "tools/check/txn_history.h"

#define TXN_HISTORY_DEPTH 32
#define BLOCK_SIZE (1u << 20)

/* A value of either parser. */
struct node {
	const struct edn_value *e;
	const struct json_value *j;
};

enum node_kind { NODE_NONE, NODE_NIL, NODE_INT, NODE_NAME, NODE_SEQ, NODE_MAP, NODE_OTHER };

static enum node_kind node_kind(struct node n)
{
	if (n.e) {
		switch (n.e->kind) {
		case EDN_NIL:
			return NODE_NIL;
		case EDN_INT:
			return NODE_INT;
		case EDN_KEYWORD:
		case EDN_STRING:
			return NODE_NAME;
		case EDN_VECTOR:
		case EDN_LIST:
			return NODE_SEQ;
		case EDN_MAP:
			return NODE_MAP;
		default:
			return NODE_OTHER;
		}
	}
	if (!n.j)
		return NODE_NONE;
	switch (n.j->kind) {
	case JSON_NULL:
		return NODE_NIL;
	case JSON_NUMBER:
		return NODE_INT; /* json_is_i64 refuses fractions */
	case JSON_STRING:
		return NODE_NAME;
	case JSON_ARRAY:
		return NODE_SEQ;
	case JSON_OBJECT:
		return NODE_MAP;
	default:
		return NODE_OTHER;
	}
}

static size_t node_len(struct node n)
{
	return n.e ? n.e->n : n.j ? n.j->n : 0;
}

static struct node node_item(struct node n, size_t i)
{
	return n.e ? (struct node){ .e = &n.e->items[i] } : (struct node){ .j = &n.j->items[i] };
}

static struct node node_member(struct node n, const char *name)
{
	if (node_kind(n) != NODE_MAP)
		return (struct node){ 0 };
	return n.e ? (struct node){ .e = edn_get(n.e, name) } :
		     (struct node){ .j = json_member(n.j, name) };
}

static bool node_int(struct node n, int64_t *out)
{
	char *end;

	if (n.j)
		return json_is_i64(n.j, out);
	if (!n.e || n.e->kind != EDN_INT)
		return false;
	errno = 0;
	*out = strtoll(n.e->text, &end, 10);
	return !errno && !*end;
}

/* A keyword's or string's text, without the colon: :ok and "ok" alike. */
static const char *node_word(struct node n)
{
	return node_kind(n) != NODE_NAME ? NULL : n.e ? n.e->text : n.j->str;
}

/* How a person writes it back: :x for a keyword, "x" for a string. */
static int node_name(struct node n, char **out)
{
	bool keyword = n.e && n.e->kind == EDN_KEYWORD;

	return asprintf(out, keyword ? ":%s" : "\"%s\"", node_word(n)) < 0 ? -ENOMEM : 0;
}

static int bad(struct history_error *err, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct history_error *err, long line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void txn_history_init(struct txn_history *h, enum txn_kind kind)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
}

void txn_history_free(struct txn_history *h)
{
	for (size_t i = 0; i < h->n_names; i++)
		free(h->names[i]);
	free(h->names);
	free(h->name_slots);
	free(h->open_process);
	free(h->open_op);
	free(h->ops);
	mael_arena_free(&h->arena);
	memset(h, 0, sizeof(*h));
}

/* Room for size bytes that live as long as h: bump allocation in blocks, since a history of a
 * million transactions has millions of small arrays. */
static void *take(struct txn_history *h, size_t size)
{
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (size > BLOCK_SIZE / 4)
		return mael_arena_keep(&h->arena, calloc(1, size));
	if (size > h->block_left) {
		h->block = mael_arena_keep(&h->arena, malloc(BLOCK_SIZE));
		if (!h->block)
			return NULL;
		h->block_left = BLOCK_SIZE;
	}
	p = h->block;
	h->block += size;
	h->block_left -= size;
	return memset(p, 0, size);
}

static uint64_t hash_bytes(const char *s)
{
	uint64_t x = 1469598103934665603ull;

	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ull;
	return x;
}

static uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	return x ^ (x >> 33);
}

/* The number standing for a name (":x", "\"k\""), given on first sight. */
static int intern(struct txn_history *h, char *name, int64_t *id)
{
	size_t mask, s;

	if (2 * (h->n_names + 1) > h->n_name_slots) {
		size_t n = h->n_name_slots ? 2 * h->n_name_slots : 64;
		size_t *slots = calloc(n, sizeof(*slots));

		if (!slots)
			goto nomem;
		for (size_t i = 0; i < h->n_names; i++) {
			for (s = hash_bytes(h->names[i]) & (n - 1); slots[s]; s = (s + 1) & (n - 1))
				;
			slots[s] = i + 1;
		}
		free(h->name_slots);
		h->name_slots = slots;
		h->n_name_slots = n;
	}
	mask = h->n_name_slots - 1;
	for (s = hash_bytes(name) & mask; h->name_slots[s]; s = (s + 1) & mask)
		if (!strcmp(h->names[h->name_slots[s] - 1], name)) {
			free(name);
			*id = TXN_NAMED + (int64_t)(h->name_slots[s] - 1);
			return 0;
		}
	if (array_grow((void **)&h->names, sizeof(*h->names), h->n_names, &h->cap_names))
		goto nomem;
	h->names[h->n_names] = name;
	h->name_slots[s] = ++h->n_names;
	*id = TXN_NAMED + (int64_t)(h->n_names - 1);
	return 0;
nomem:
	free(name);
	return -ENOMEM;
}

/* A key or a value: an integer as itself (below TXN_NAMED), a keyword or string numbered. */
static int atom(struct txn_history *h, struct node n, long line, const char *what, int64_t *out,
		struct history_error *err)
{
	char *name;
	int rc;

	if (node_int(n, out)) {
		if (*out >= TXN_NAMED)
			return bad(err, line, "%s %lld is too large (at most %lld)", what,
				   (long long)*out, (long long)TXN_NAMED - 1);
		return 0;
	}
	if (node_kind(n) != NODE_NAME)
		return bad(err, line, "%s is an integer, a keyword or a string", what);
	rc = node_name(n, &name);
	return rc ? rc : intern(h, name, out);
}

/* [[:append k v] [:r k v] ...] into steps. Reads keep their values only when read (complete). */
static int mops_of(struct txn_history *h, struct node v, long line, bool complete,
		   struct txn_mop **out, size_t *n_out, struct history_error *err)
{
	const char *write_f = h->kind == TXN_LIST_APPEND ? "append" : "w";
	const char *other_f = h->kind == TXN_LIST_APPEND ? "w" : "append";
	struct txn_mop *m;
	size_t n;
	int rc;

	if (node_kind(v) != NODE_SEQ)
		return bad(err, line, "a transaction's :value is a vector of [f k v] steps");
	n = node_len(v);
	m = take(h, (n ? n : 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct node s = node_item(v, i), f, val;
		const char *word;

		if (node_kind(s) != NODE_SEQ || node_len(s) != 3)
			return bad(err, line, "step %zu is not [f k v]", i + 1);
		f = node_item(s, 0);
		val = node_item(s, 2);
		word = node_word(f);
		if (word && !strcmp(word, other_f))
			return bad(err, line, "step %zu is %s, a step of the %s model", i + 1, word,
				   h->kind == TXN_LIST_APPEND ? "rw-register" : "list-append");
		if (!word || (strcmp(word, write_f) && strcmp(word, "r")))
			return bad(err, line, "step %zu: f is r or %s", i + 1, write_f);
		rc = atom(h, node_item(s, 1), line, "a key", &m[i].key, err);
		if (rc)
			return rc;
		if (strcmp(word, "r")) {
			m[i].f = TXN_WRITE;
			rc = atom(h, val, line, "a written value", &m[i].value, err);
			if (rc)
				return rc;
			continue;
		}
		m[i].f = TXN_READ;
		m[i].nil = node_kind(val) == NODE_NIL;
		if (!complete) {
			m[i].nil = true; /* not read yet, whatever the invoke says */
			continue;
		}
		if (m[i].nil)
			continue;
		if (h->kind == TXN_RW_REGISTER) {
			rc = atom(h, val, line, "a read value", &m[i].value, err);
			if (rc)
				return rc;
			continue;
		}
		if (node_kind(val) != NODE_SEQ)
			return bad(err, line, "step %zu reads a list: [:r k [v ...]] or nil",
				   i + 1);
		m[i].n_list = node_len(val);
		if (m[i].n_list) {
			int64_t *list = take(h, m[i].n_list * sizeof(*list));

			if (!list)
				return -ENOMEM;
			for (size_t e = 0; e < m[i].n_list; e++) {
				rc = atom(h, node_item(val, e), line, "a list element", &list[e],
					  err);
				if (rc)
					return rc;
			}
			m[i].list = list;
		}
	}
	*out = m;
	*n_out = n;
	return 0;
}

/* The open invoke of each process: op index, or SIZE_MAX. */
static size_t *open_slot(struct txn_history *h, uint64_t process, bool add)
{
	size_t mask, s;

	if (add && 2 * (h->n_open + 1) > h->n_open_slots) {
		size_t n = h->n_open_slots ? 2 * h->n_open_slots : 64;
		uint64_t *proc = calloc(n, sizeof(*proc));
		size_t *op = calloc(n, sizeof(*op));

		if (!proc || !op) {
			free(proc);
			free(op);
			return NULL;
		}
		for (size_t i = 0; i < h->n_open_slots; i++) {
			if (!h->open_process[i])
				continue;
			for (s = hash_u64(h->open_process[i]) & (n - 1); proc[s];
			     s = (s + 1) & (n - 1))
				;
			proc[s] = h->open_process[i];
			op[s] = h->open_op[i];
		}
		free(h->open_process);
		free(h->open_op);
		h->open_process = proc;
		h->open_op = op;
		h->n_open_slots = n;
	}
	if (!h->n_open_slots)
		return NULL;
	mask = h->n_open_slots - 1;
	for (s = hash_u64(process + 1) & mask; h->open_process[s]; s = (s + 1) & mask)
		if (h->open_process[s] == process + 1)
			return &h->open_op[s];
	if (!add)
		return NULL;
	h->open_process[s] = process + 1;
	h->open_op[s] = SIZE_MAX;
	h->n_open++;
	return &h->open_op[s];
}

static int add_event(struct txn_history *h, struct node ev, long line, struct history_error *err)
{
	struct node p = node_member(ev, "process"), t = node_member(ev, "type"),
		    f = node_member(ev, "f"), v = node_member(ev, "value");
	const char *type = node_word(t), *fw = node_word(f);
	uint64_t time = h->events++;
	enum txn_outcome outcome;
	struct txn_mop *mops = NULL;
	uint64_t process = TXN_NO_PROCESS;
	size_t *open, n_mops = 0;
	int64_t pi;
	int rc;

	if (node_kind(ev) != NODE_MAP)
		return bad(err, line, "an operation is a map with :type and :value");
	if (node_kind(p) == NODE_NAME ||
	    (node_kind(f) != NODE_NONE && (!fw || strcmp(fw, "txn")))) {
		h->skipped++; /* the nemesis, or an operation that is not a transaction */
		return 0;
	}
	if (node_kind(p) == NODE_INT) {
		if (!node_int(p, &pi) || pi < 0)
			return bad(err, line, ":process is a non-negative integer");
		process = (uint64_t)pi;
	} else if (node_kind(p) != NODE_NONE && node_kind(p) != NODE_NIL) {
		return bad(err, line, ":process is an integer, a keyword (the nemesis) or absent");
	}
	if (!type || (strcmp(type, "invoke") && strcmp(type, "ok") && strcmp(type, "fail") &&
		      strcmp(type, "info")))
		return bad(err, line, ":type is :invoke, :ok, :fail or :info");
	open = open_slot(h, process, true);
	if (!open)
		return -ENOMEM;
	outcome = !strcmp(type, "ok") ? TXN_OK : !strcmp(type, "fail") ? TXN_FAIL : TXN_INFO;
	rc = mops_of(h, v, line, !strcmp(type, "ok"), &mops, &n_mops, err);
	if (rc)
		return rc;
	if (!strcmp(type, "invoke")) {
		if (*open != SIZE_MAX)
			return bad(err, line,
				   "process %llu invokes a transaction while its last one is still "
				   "open",
				   (unsigned long long)process);
		if (array_grow((void **)&h->ops, sizeof(*h->ops), h->n_ops, &h->cap_ops))
			return -ENOMEM;
		*open = h->n_ops;
		/* Open to the end: indeterminate unless a completion comes. */
		h->ops[h->n_ops++] = (struct txn_op){ .process = process,
						      .node = TXN_NO_NODE,
						      .outcome = TXN_INFO,
						      .mops = mops,
						      .n_mops = n_mops,
						      .invoke_ns = time,
						      .complete_ns = UINT64_MAX };
		return 0;
	}
	if (*open == SIZE_MAX) {
		/* A completion alone (Elle's examples): the whole transaction at this point. */
		if (array_grow((void **)&h->ops, sizeof(*h->ops), h->n_ops, &h->cap_ops))
			return -ENOMEM;
		h->ops[h->n_ops++] =
			(struct txn_op){ .process = process,
					 .node = TXN_NO_NODE,
					 .outcome = outcome,
					 .mops = mops,
					 .n_mops = n_mops,
					 .invoke_ns = time,
					 .complete_ns = outcome == TXN_INFO ? UINT64_MAX : time };
		return 0;
	}
	{
		struct txn_op *op = &h->ops[*open];

		*open = SIZE_MAX;
		if (!txn_same_steps(op->mops, op->n_mops, mops, n_mops))
			return bad(err, line,
				   "this completion's steps are not those its invoke asked for "
				   "(process %llu)",
				   (unsigned long long)process);
		op->outcome = outcome;
		if (outcome == TXN_OK)
			op->mops = mops; /* with the reads filled in */
		op->complete_ns = outcome == TXN_INFO ? UINT64_MAX : time;
	}
	return 0;
}

static int parse_edn(struct txn_history *h, const char *text, size_t len, struct history_error *err)
{
	struct edn_reader r;
	struct edn_value v;
	struct edn_error e;
	int rc;

	edn_reader_init(&r, text, len, TXN_HISTORY_DEPTH);
	while ((rc = edn_read(&r, &v, &e)) == 1) {
		rc = 0;
		if (v.kind == EDN_VECTOR || v.kind == EDN_LIST) {
			for (size_t i = 0; !rc && i < v.n; i++)
				rc = add_event(h, (struct node){ .e = &v.items[i] },
					       v.items[i].line, err);
		} else {
			rc = add_event(h, (struct node){ .e = &v }, v.line, err);
		}
		edn_value_free(&v);
		if (rc)
			return rc;
	}
	if (rc == -EINVAL)
		return bad(err, e.line, "column %ld: %s", e.column, e.msg);
	return rc;
}

static int parse_json_lines(struct txn_history *h, const char *text, size_t len,
			    struct history_error *err)
{
	const char *p = text, *end = text + len;
	long line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *q;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct json_value v;
		struct json_error e;
		int rc;

		line++;
		for (q = p; q < p + n && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
			;
		if (q < p + n) {
			rc = json_parse(p, n, TXN_HISTORY_DEPTH, &v, &e);
			if (rc == -EINVAL)
				return bad(err, line, "column %ld: %s", e.column, e.msg);
			if (rc)
				return rc;
			rc = add_event(h, (struct node){ .j = &v }, line, err);
			json_value_free(&v);
			if (rc)
				return rc;
		}
		p += n + 1;
	}
	return 0;
}

int txn_history_parse(struct txn_history *h, const char *text, size_t len,
		      struct history_error *err)
{
	return history_looks_edn(text, len) ? parse_edn(h, text, len, err) :
					      parse_json_lines(h, text, len, err);
}
