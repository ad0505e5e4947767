// SPDX-License-Identifier: GPL-2.0-only
/* The AP register report. Every finding is definite, not a guess from timing alone:
 * - a read is stale when an operation that completed ok before the read began wrote another
 *   value after every write of the value read had completed: it was certainly overwritten;
 * - an acknowledged write is lost when no read ever returned it and a read begun after it was
 *   acknowledged returned a value certainly older than it;
 * - a key has converged from the first read after which every read returns the last value read.
 * A write whose outcome is unknown may land at any time, so a value it wrote is never certainly
 * overwritten. */
#include "tools/check/ap_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/check/linearizability.h"

#define NEVER UINT64_MAX

struct producer {
	size_t op;
	const char *value;
	uint64_t call, ret; /* ret is NEVER when the outcome is unknown */
};

struct read {
	size_t op;
	const char *value; /* NULL: null */
	uint64_t call;
	uint64_t age; /* 0 for null; else 1 + when its value's last write completed (NEVER: never) */
};

struct value_age {
	const char *value;
	uint64_t last; /* latest completion of a write of it, NEVER if one has no completion */
};

static int age_cmp(const void *a, const void *b)
{
	return strcmp(((const struct value_age *)a)->value, ((const struct value_age *)b)->value);
}

static int prod_cmp(const void *a, const void *b)
{
	const struct producer *x = a, *y = b;

	if (x->call != y->call)
		return x->call < y->call ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

static int read_cmp(const void *a, const void *b)
{
	const struct read *x = a, *y = b;

	if (x->call != y->call)
		return x->call < y->call ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

static int pstr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int stale_cmp(const void *a, const void *b)
{
	const struct ap_stale *x = a, *y = b;

	return x->staleness > y->staleness ? -1 : x->staleness < y->staleness;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The first index in an array sorted by call whose call is above t. */
static size_t first_after(const void *base, size_t n, size_t size, size_t off, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t c = *(const uint64_t *)((const char *)base + mid * size + off);

		if (c <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct key_scratch {
	struct producer *prod; /* ok ones, sorted by call */
	size_t nprod;
	struct value_age *ages;
	size_t nages;
	struct read *reads; /* ok ones, sorted by call */
	size_t nreads;
	uint64_t *sufmin; /* of prod[i..].ret */
	size_t *sufarg;
	uint64_t *rsufmin; /* of reads[i..].age */
	size_t *rsufarg;
	uint64_t *stale_ns;
	size_t n_stale_ns;
	const char **read_values; /* sorted, to ask whether a value was ever read */
	size_t n_read_values;
};

static uint64_t value_age(const struct key_scratch *k, const char *v)
{
	struct value_age key = { .value = v }, *p;

	if (!v)
		return 0;
	p = bsearch(&key, k->ages, k->nages, sizeof(key), age_cmp);
	if (!p || p->last == NEVER)
		return NEVER;
	return p->last + 1;
}

static void add_stale(struct ap_result *res, size_t read, size_t by, uint64_t ns)
{
	size_t i, least = 0;

	res->n_stale++;
	if (ns > res->stale_max_ns)
		res->stale_max_ns = ns;
	/* Keep the stalest few: the least stale goes when full. */
	if (res->n_stale <= AP_MAX_EXAMPLES) {
		res->stale[res->n_stale - 1] = (struct ap_stale){ read, by, ns };
		return;
	}
	for (i = 1; i < AP_MAX_EXAMPLES; i++)
		if (res->stale[i].staleness < res->stale[least].staleness)
			least = i;
	if (res->stale[least].staleness < ns)
		res->stale[least] = (struct ap_stale){ read, by, ns };
}

static int report_key(const struct history *h, const size_t *sel, size_t n, struct key_scratch *k,
		      struct ap_result *res, struct ap_key *out)
{
	const struct history_op *ops = h->ops;
	uint64_t last_write = 0;
	size_t i, j, nall = 0;
	struct producer *all;

	all = malloc((n + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	k->nprod = k->nages = k->nreads = 0;
	out->key = ops[sel[0]].key;
	for (i = 0; i < n; i++) {
		const struct history_op *op = &ops[sel[i]];

		if (op->f == HISTORY_READ) {
			if (op->outcome != HISTORY_OK)
				continue;
			k->reads[k->nreads++] = (struct read){
				.op = sel[i],
				.value = op->result->kind == HISTORY_VALUE_STRING ?
						 op->result->str :
						 NULL,
				.call = op->call,
			};
			continue;
		}
		if (op->outcome == HISTORY_FAIL)
			continue;
		all[nall] = (struct producer){
			.op = sel[i],
			.value = op->f == HISTORY_WRITE ? op->arg->str : op->arg->items[1],
			.call = op->call,
			.ret = op->ret,
		};
		if (op->outcome == HISTORY_OK)
			k->prod[k->nprod++] = all[nall];
		/* An unknown outcome may land as late as the end: count it from its invoke. */
		if ((op->outcome == HISTORY_OK ? op->ret : op->call) >= last_write) {
			last_write = op->outcome == HISTORY_OK ? op->ret : op->call;
			out->last_write_line = op->line;
		}
		nall++;
	}
	/* The latest completion of a write of each value. */
	for (i = 0; i < nall; i++)
		k->ages[i] = (struct value_age){ all[i].value, all[i].ret };
	qsort(k->ages, nall, sizeof(*k->ages), age_cmp);
	for (i = j = 0; i < nall; i++) {
		if (j && !strcmp(k->ages[j - 1].value, k->ages[i].value)) {
			if (k->ages[i].last > k->ages[j - 1].last)
				k->ages[j - 1].last = k->ages[i].last;
			continue;
		}
		k->ages[j++] = k->ages[i];
	}
	k->nages = j;
	free(all);

	qsort(k->prod, k->nprod, sizeof(*k->prod), prod_cmp);
	qsort(k->reads, k->nreads, sizeof(*k->reads), read_cmp);
	for (i = j = 0; i < k->nreads; i++)
		if (k->reads[i].value)
			k->read_values[j++] = k->reads[i].value;
	k->n_read_values = j;
	qsort(k->read_values, j, sizeof(*k->read_values), pstr_cmp);
	for (i = k->nprod; i-- > 0;) {
		bool first = i + 1 == k->nprod;

		k->sufmin[i] = k->prod[i].ret;
		k->sufarg[i] = i;
		if (!first && k->sufmin[i + 1] < k->sufmin[i]) {
			k->sufmin[i] = k->sufmin[i + 1];
			k->sufarg[i] = k->sufarg[i + 1];
		}
	}
	for (i = 0; i < k->nreads; i++)
		k->reads[i].age = value_age(k, k->reads[i].value);
	for (i = k->nreads; i-- > 0;) {
		k->rsufmin[i] = k->reads[i].age;
		k->rsufarg[i] = i;
		if (i + 1 < k->nreads && k->rsufmin[i + 1] < k->rsufmin[i]) {
			k->rsufmin[i] = k->rsufmin[i + 1];
			k->rsufarg[i] = k->rsufarg[i + 1];
		}
	}

	/* Stale reads: the earliest completion among ok writes invoked after the value read was
	 * last written, if before the read began. */
	for (i = 0; i < k->nreads; i++) {
		const struct read *r = &k->reads[i];
		uint64_t since;

		if (r->age == NEVER)
			continue;
		since = r->age ? r->age - 1 : 0;
		j = r->age ? first_after(k->prod, k->nprod, sizeof(*k->prod),
					 offsetof(struct producer, call), since) :
			     0;
		if (j < k->nprod && k->sufmin[j] < r->call) {
			add_stale(res, r->op, k->prod[k->sufarg[j]].op, r->call - k->sufmin[j]);
			k->stale_ns[k->n_stale_ns++] = r->call - k->sufmin[j];
		}
	}

	/* Lost writes: acknowledged, never read, and something older read after it. */
	for (i = 0; i < k->nprod; i++) {
		const struct producer *w = &k->prod[i];

		if (bsearch(&w->value, k->read_values, k->n_read_values, sizeof(*k->read_values),
			    pstr_cmp))
			continue;
		j = first_after(k->reads, k->nreads, sizeof(*k->reads), offsetof(struct read, call),
				w->ret);
		if (j < k->nreads && k->rsufmin[j] < w->call + 1) {
			if (res->n_lost < AP_MAX_EXAMPLES)
				res->lost[res->n_lost] =
					(struct ap_lost){ w->op, k->reads[k->rsufarg[j]].op };
			res->n_lost++;
		}
	}

	/* Convergence: from the end back, while reads return the last value read. */
	out->reads = k->nreads;
	out->converged_ns = NEVER;
	if (!k->nreads)
		return 0;
	out->has_final = true;
	out->final = k->reads[k->nreads - 1].value;
	for (j = k->nreads; j > 0 && same(k->reads[j - 1].value, out->final); j--)
		;
	for (i = 0; i < k->nreads; i++)
		if (k->reads[i].call > last_write && !same(k->reads[i].value, out->final))
			out->disagreeing++;
	if (k->reads[k->nreads - 1].call > last_write || !out->last_write_line)
		out->converged_ns = k->reads[j].call > last_write ? k->reads[j].call - last_write :
								    0;
	return 0;
}

static int key_cmp(const void *a, const void *b, void *arg)
{
	const struct history_op *ops = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(ops[x].key, ops[y].key);

	return c ? c : (x < y ? -1 : x > y);
}

int ap_report_register(const struct history *h, struct ap_result *res, struct history_error *err)
{
	struct key_scratch k = { 0 };
	size_t n = h->n_ops, *sel, i, start, end;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < n; i++) {
		ret = lin_validate_op(&h->ops[i], err);
		if (ret)
			return ret;
	}
	sel = malloc((n + 1) * sizeof(*sel));
	k.prod = malloc((n + 1) * sizeof(*k.prod));
	k.ages = malloc((n + 1) * sizeof(*k.ages));
	k.reads = malloc((n + 1) * sizeof(*k.reads));
	k.sufmin = malloc((n + 1) * sizeof(*k.sufmin));
	k.sufarg = malloc((n + 1) * sizeof(*k.sufarg));
	k.rsufmin = malloc((n + 1) * sizeof(*k.rsufmin));
	k.rsufarg = malloc((n + 1) * sizeof(*k.rsufarg));
	k.stale_ns = malloc((n + 1) * sizeof(*k.stale_ns));
	k.read_values = malloc((n + 1) * sizeof(*k.read_values));
	res->keys = calloc(n + 1, sizeof(*res->keys));
	if (!sel || !k.prod || !k.ages || !k.reads || !k.sufmin || !k.sufarg || !k.rsufmin ||
	    !k.rsufarg || !k.stale_ns || !k.read_values || !res->keys) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		sel[i] = i;
	qsort_r(sel, n, sizeof(*sel), key_cmp, h->ops);
	res->ops = n;
	for (start = 0; start < n; start = end) {
		for (end = start + 1; end < n; end++)
			if (strcmp(h->ops[sel[end]].key, h->ops[sel[start]].key))
				break;
		ret = report_key(h, sel + start, end - start, &k, res, &res->keys[res->n_keys]);
		if (ret)
			goto out;
		res->reads += res->keys[res->n_keys++].reads;
	}
	if (k.n_stale_ns) {
		qsort(k.stale_ns, k.n_stale_ns, sizeof(*k.stale_ns), u64_cmp);
		res->stale_median_ns = k.stale_ns[k.n_stale_ns / 2];
	}
	qsort(res->stale, res->n_stale < AP_MAX_EXAMPLES ? res->n_stale : AP_MAX_EXAMPLES,
	      sizeof(*res->stale), stale_cmp);
out:
	free(k.read_values);
	free(k.stale_ns);
	free(k.rsufarg);
	free(k.rsufmin);
	free(k.sufarg);
	free(k.sufmin);
	free(k.reads);
	free(k.ages);
	free(k.prod);
	free(sel);
	if (ret)
		ap_result_free(res);
	return ret;
}

void ap_result_free(struct ap_result *res)
{
	if (!res)
		return;
	free(res->keys);
	res->keys = NULL;
	res->n_keys = 0;
}
