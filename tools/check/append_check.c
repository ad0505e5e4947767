// SPDX-License-Identifier: GPL-2.0-only
/* The append checker: per key, the longest read is the one order every other read must be a
 * prefix of; then the real-time rules are checked against positions in it. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tools/check/append_check.h"

struct appended {
	const char *value;
	const struct history_op *op; /* the best attempt: ok, else info, else fail */
	long pos; /* in the longest read, -1 when absent */
};

static const char *const problem_names[] = {
	[APPEND_OK] = "ok",
	[APPEND_DIVERGED] = "diverged",
	[APPEND_DUPLICATE] = "duplicate",
	[APPEND_UNEXPECTED] = "unexpected",
	[APPEND_LOST] = "lost",
	[APPEND_REORDERED] = "reordered",
};

const char *append_problem_name(enum append_problem p)
{
	return (size_t)p < sizeof(problem_names) / sizeof(problem_names[0]) ? problem_names[p] :
									      "?";
}

void append_result_free(struct append_result *r)
{
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

static int cmp_str(const char *a, const char *b)
{
	return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

static int cmp_appended(const void *x, const void *y)
{
	return cmp_str(((const struct appended *)x)->value, ((const struct appended *)y)->value);
}

static int cmp_cstr(const void *x, const void *y)
{
	return cmp_str(*(const char *const *)x, *(const char *const *)y);
}

static int rank(enum history_type t)
{
	return t == HISTORY_OK ? 2 : t == HISTORY_INFO ? 1 : 0;
}

/* When an op was over: its completion, or never, for one of unknown outcome. */
static uint64_t over(const struct history_op *op)
{
	return op->outcome == HISTORY_INFO ? UINT64_MAX : op->ret;
}

static int validate(const struct history *h, struct history_error *err)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];
		const char *msg = NULL;
		long line = op->line;

		if (op->f != HISTORY_APPEND && op->f != HISTORY_READ) {
			err->line = op->line;
			snprintf(err->msg, sizeof(err->msg),
				 "\"%s\" is not a list operation (append or read): one history, "
				 "one model",
				 history_f_name(op->f));
			return -EINVAL;
		}
		if (!op->key)
			msg = "list operations need a string \"key\"";
		else if (op->f == HISTORY_APPEND && op->arg->kind != HISTORY_VALUE_STRING)
			msg = "expected an append's value to be a string";
		else if (op->f == HISTORY_READ && op->outcome == HISTORY_OK &&
			 op->result->kind != HISTORY_VALUE_LIST)
			msg = "expected a list read's value to be a list of strings",
			line = op->ret_line;
		for (size_t k = 0; !msg && op->f == HISTORY_READ && op->outcome == HISTORY_OK &&
				   k < op->result->n;
		     k++)
			if (!op->result->items[k])
				msg = "a list holds strings, not null", line = op->ret_line;
		if (msg) {
			err->line = line;
			snprintf(err->msg, sizeof(err->msg), "%s", msg);
			return -EINVAL;
		}
	}
	return 0;
}

struct key_run {
	const struct history *h;
	const struct history_op **ops; /* this key's operations, in history order */
	size_t n_ops;
	const char *key;
	struct appended *ap;
	size_t n_ap;
	const struct history_op **reads; /* ok reads, in history order */
	size_t n_reads;
	struct append_result *r;
	size_t cap_findings;
};

static int found(struct key_run *k, enum append_problem p, const char *value, long line, long other)
{
	struct append_result *r = k->r;
	int rc = array_grow((void **)&r->findings, sizeof(*r->findings), r->n_findings,
			    &k->cap_findings);

	if (rc)
		return rc;
	r->findings[r->n_findings++] = (struct append_finding){
		.problem = p, .key = k->key, .value = value, .line = line, .other_line = other
	};
	r->valid = false;
	return 1;
}

static struct appended *lookup(struct key_run *k, const char *value)
{
	struct appended want = { .value = value };

	return find_n(&want, k->ap, k->n_ap, sizeof(*k->ap), cmp_appended);
}

/* Each read on its own (no value twice, none unexpected), then against the longest so far. */
static int check_reads(struct key_run *k, const struct history_op **longest)
{
	const char **sorted = NULL;
	size_t cap = 0;
	int rc = 0;

	*longest = NULL;
	for (size_t i = 0; i < k->n_reads && !rc; i++) {
		const struct history_op *rd = k->reads[i];
		const struct history_value *v = rd->result;
		size_t n = v->n, m;

		if (n > cap) {
			const char **p = realloc(sorted, n * sizeof(*p));

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			sorted = p;
			cap = n;
		}
		if (n)
			memcpy(sorted, v->items, n * sizeof(*sorted));
		sort_n(sorted, n, sizeof(*sorted), cmp_cstr);
		for (size_t j = 1; j < n && !rc; j++)
			if (!cmp_str(sorted[j], sorted[j - 1]))
				rc = found(k, APPEND_DUPLICATE, sorted[j], rd->ret_line, 0);
		for (size_t j = 0; j < n && !rc; j++) {
			struct appended *a = lookup(k, v->items[j]);

			if (!a || a->op->outcome == HISTORY_FAIL)
				rc = found(k, APPEND_UNEXPECTED, v->items[j], rd->ret_line,
					   a ? a->op->line : 0);
		}
		if (rc)
			break;
		if (!*longest) {
			*longest = rd;
			continue;
		}
		m = n < (*longest)->result->n ? n : (*longest)->result->n;
		for (size_t j = 0; j < m && !rc; j++)
			if (cmp_str(v->items[j], (*longest)->result->items[j]))
				rc = found(k, APPEND_DIVERGED, v->items[j], rd->ret_line,
					   (*longest)->ret_line);
		if (!rc && n > (*longest)->result->n)
			*longest = rd;
	}
	free(sorted);
	return rc;
}

static int cmp_op_over(const void *x, const void *y)
{
	uint64_t a = over(*(const struct history_op *const *)x),
		 b = over(*(const struct history_op *const *)y);

	return (a > b) - (a < b);
}

static int cmp_op_call(const void *x, const void *y)
{
	uint64_t a = (*(const struct history_op *const *)x)->call,
		 b = (*(const struct history_op *const *)y)->call;

	return (a > b) - (a < b);
}

/* An append acknowledged before a read began is in it: with every read a prefix of the longest,
 * that is its position being below the read's length. */
static int check_lost(struct key_run *k, const struct history_op *longest)
{
	const struct history_op **acked, **reads;
	size_t n_acked = 0, i, j = 0;
	long maxpos = -1;
	const struct appended *worst = NULL;
	int rc = 0;

	acked = malloc((k->n_ap ? k->n_ap : 1) * sizeof(*acked));
	reads = malloc((k->n_reads ? k->n_reads : 1) * sizeof(*reads));
	if (!acked || !reads) {
		free(acked);
		free(reads);
		return -ENOMEM;
	}
	for (i = 0; i < k->n_ap; i++)
		if (k->ap[i].op->outcome == HISTORY_OK)
			acked[n_acked++] = k->ap[i].op;
	sort_n(acked, n_acked, sizeof(*acked), cmp_op_over);
	if (k->n_reads)
		memcpy(reads, k->reads, k->n_reads * sizeof(*reads));
	sort_n(reads, k->n_reads, sizeof(*reads), cmp_op_call);
	for (i = 0; i < k->n_reads && !rc; i++) {
		for (; j < n_acked && acked[j]->ret < reads[i]->call; j++) {
			const struct appended *a = lookup(k, acked[j]->arg->str);
			long pos = a->pos < 0 ? LONG_MAX : a->pos;

			if (pos > maxpos) {
				maxpos = pos;
				worst = a;
			}
		}
		if (worst && maxpos >= (long)reads[i]->result->n)
			rc = found(k, APPEND_LOST, worst->value, reads[i]->ret_line,
				   worst->op->line);
	}
	/* The count: acknowledged appends no read has, though a read began after them. */
	if (k->n_reads)
		for (i = 0; i < n_acked; i++) {
			const struct appended *a = lookup(k, acked[i]->arg->str);

			if (a->pos < 0 && acked[i]->ret < reads[k->n_reads - 1]->call)
				k->r->lost++;
		}
	(void)longest;
	free(acked);
	free(reads);
	return rc;
}

/* In the longest read, an append acknowledged before another began must come first. */
static int check_order(struct key_run *k, const struct history_op *longest)
{
	uint64_t max_call = 0;
	const struct appended *latest = NULL;

	for (size_t i = 0; i < longest->result->n; i++) {
		const struct appended *a = lookup(k, longest->result->items[i]);

		if (latest && over(a->op) < max_call)
			return found(k, APPEND_REORDERED, a->value, a->op->line, latest->op->line);
		if (a->op->call > max_call) {
			max_call = a->op->call;
			latest = a;
		}
	}
	return 0;
}

static int check_key(struct key_run *k)
{
	const struct history_op *longest;
	size_t i, j, n_ap = 0, cap_ap = 0, cap_reads = 0;
	int rc;

	k->ap = NULL;
	k->reads = NULL;
	k->n_reads = 0;
	for (i = 0; i < k->n_ops; i++) {
		const struct history_op *op = k->ops[i];

		if (op->f == HISTORY_APPEND) {
			k->r->appends++;
			k->r->acknowledged += op->outcome == HISTORY_OK;
			rc = array_grow((void **)&k->ap, sizeof(*k->ap), n_ap, &cap_ap);
			if (rc)
				goto out;
			k->ap[n_ap++] =
				(struct appended){ .value = op->arg->str, .op = op, .pos = -1 };
		} else if (op->outcome == HISTORY_OK) {
			k->r->reads++;
			rc = array_grow((void **)&k->reads, sizeof(*k->reads), k->n_reads,
					&cap_reads);
			if (rc)
				goto out;
			k->reads[k->n_reads++] = op;
		}
	}
	sort_n(k->ap, n_ap, sizeof(*k->ap), cmp_appended);
	for (i = 0, j = 0; i < n_ap; i++) {
		if (j && !cmp_appended(&k->ap[j - 1], &k->ap[i])) {
			if (rank(k->ap[i].op->outcome) > rank(k->ap[j - 1].op->outcome))
				k->ap[j - 1].op = k->ap[i].op;
			continue;
		}
		k->ap[j++] = k->ap[i];
	}
	k->n_ap = j;
	rc = check_reads(k, &longest);
	if (rc || !longest)
		goto out;
	for (i = 0; i < longest->result->n; i++)
		lookup(k, longest->result->items[i])->pos = (long)i;
	rc = check_lost(k, longest);
	if (!rc)
		rc = check_order(k, longest);
out:
	free(k->ap);
	free(k->reads);
	return rc < 0 ? rc : 0;
}

/* Operations by key, and in history order within a key. */
static int cmp_op_key(const void *x, const void *y)
{
	const struct history_op *a = *(const struct history_op *const *)x,
				*b = *(const struct history_op *const *)y;
	int c = cmp_str(a->key, b->key);

	return c ? c : (a > b) - (a < b);
}

int append_check(const struct history *h, struct append_result *r, struct history_error *err)
{
	const struct history_op **by_key;
	size_t i, j;
	int rc;

	memset(r, 0, sizeof(*r));
	r->valid = true;
	rc = validate(h, err);
	if (rc)
		return rc;
	by_key = malloc((h->n_ops ? h->n_ops : 1) * sizeof(*by_key));
	if (!by_key)
		return -ENOMEM;
	for (i = 0; i < h->n_ops; i++)
		by_key[i] = &h->ops[i];
	sort_n(by_key, h->n_ops, sizeof(*by_key), cmp_op_key);
	for (i = 0; i < h->n_ops && !rc; i = j) {
		struct key_run k = { .h = h, .ops = by_key + i, .key = by_key[i]->key, .r = r };

		for (j = i + 1; j < h->n_ops && !cmp_str(by_key[j]->key, k.key); j++)
			;
		k.n_ops = j - i;
		r->keys++;
		/* Findings of earlier keys keep their array: grow from where it is. */
		k.cap_findings = r->n_findings;
		rc = check_key(&k);
	}
	free(by_key);
	if (rc)
		append_result_free(r);
	return rc;
}
