// SPDX-License-Identifier: GPL-2.0-only
/* Maelstrom's workload checkers, on JSON texts sorted and compared. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/check/maelstrom_check.h"

static const char *const names[MAEL_WORKLOADS] = {
	[MAEL_ECHO] = "echo",	[MAEL_UNIQUE_IDS] = "unique-ids", [MAEL_BROADCAST] = "broadcast",
	[MAEL_G_SET] = "g-set", [MAEL_G_COUNTER] = "g-counter",	  [MAEL_PN_COUNTER] = "pn-counter",
};

const char *mael_workload_name(enum mael_workload w)
{
	return (unsigned int)w < MAEL_WORKLOADS ? names[w] : "?";
}

int mael_workload_parse(const char *name)
{
	for (int w = 0; w < MAEL_WORKLOADS; w++)
		if (!strcmp(name, names[w]))
			return w;
	return -1;
}

static void evidence(struct mael_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void evidence(struct mael_result *r, const char *fmt, ...)
{
	va_list ap;

	r->problems++;
	r->valid = false;
	if (r->n_evidence == sizeof(r->evidence) / sizeof(r->evidence[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(r->evidence[r->n_evidence++], sizeof(r->evidence[0]), fmt, ap);
	va_end(ap);
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sort_texts(const char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_text);
}

static bool has(const char **sorted, size_t n, const char *v)
{
	return n && bsearch(&v, sorted, n, sizeof(*sorted), cmp_text);
}

static void check_echo(const struct mael_op *ops, size_t n, struct mael_result *r)
{
	size_t ok = 0;

	for (size_t i = 0; i < n; i++) {
		if (ops[i].outcome != MAEL_OK)
			continue;
		ok++;
		if (!ops[i].result || !ops[i].arg || strcmp(ops[i].result, ops[i].arg)) {
			r->bad_echoes++;
			evidence(r, "process %llu sent %s to n%u and got back %s",
				 (unsigned long long)ops[i].process, ops[i].arg ? ops[i].arg : "?",
				 ops[i].node, ops[i].result ? ops[i].result : "nothing");
		}
	}
	snprintf(r->summary, sizeof(r->summary), "%zu echoes answered, %zu wrong", ok,
		 r->bad_echoes);
}

static int check_unique(const struct mael_op *ops, size_t n, struct mael_result *r)
{
	const char **ids = malloc((n ? n : 1) * sizeof(*ids));
	size_t m = 0;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (ops[i].outcome == MAEL_OK && ops[i].result)
			ids[m++] = ops[i].result;
	sort_texts(ids, m);
	for (size_t i = 1; i < m; i++)
		if (!strcmp(ids[i], ids[i - 1])) {
			r->duplicates++;
			if (i < 2 || strcmp(ids[i], ids[i - 2]))
				evidence(r, "id %s was generated more than once", ids[i]);
		}
	snprintf(r->summary, sizeof(r->summary), "%zu ids generated, %zu duplicates", m,
		 r->duplicates);
	free(ids);
	return 0;
}

/* broadcast and g-set: every acknowledged value in every final read, none that was not sent. */
static int check_sets(const struct mael_op *ops, size_t n, struct mael_result *r)
{
	const char **acked = malloc((n ? n : 1) * sizeof(*acked)),
		   **tried = malloc((n ? n : 1) * sizeof(*tried));
	size_t n_acked = 0, n_tried = 0, finals = 0;
	int rc = 0;

	if (!acked || !tried) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (ops[i].read || !ops[i].arg)
			continue;
		tried[n_tried++] = ops[i].arg;
		if (ops[i].outcome == MAEL_OK)
			acked[n_acked++] = ops[i].arg;
	}
	sort_texts(acked, n_acked);
	sort_texts(tried, n_tried);
	for (size_t i = 0; i < n; i++) {
		const struct mael_op *rd = &ops[i];
		const char **seen;
		size_t missing = 0;

		if (!rd->read || !rd->final || rd->outcome != MAEL_OK)
			continue;
		finals++;
		seen = malloc((rd->n_elements ? rd->n_elements : 1) * sizeof(*seen));
		if (!seen) {
			rc = -ENOMEM;
			goto out;
		}
		if (rd->n_elements)
			memcpy(seen, rd->elements, rd->n_elements * sizeof(*seen));
		sort_texts(seen, rd->n_elements);
		for (size_t k = 0; k < n_acked; k++)
			if (!has(seen, rd->n_elements, acked[k])) {
				if (!missing)
					evidence(r, "n%u's final read lacks %s, acknowledged",
						 rd->node, acked[k]);
				missing++;
			}
		r->lost += missing;
		for (size_t k = 0; k < rd->n_elements; k++)
			if (!has(tried, n_tried, seen[k])) {
				r->unexpected++;
				evidence(r, "n%u read %s, which nobody sent", rd->node, seen[k]);
			}
		free(seen);
	}
	if (!finals)
		evidence(r, "no node answered a final read: nothing says what reached them");
	snprintf(r->summary, sizeof(r->summary),
		 "%zu sent, %zu acknowledged, %zu final reads: %zu acknowledged values missing "
		 "from final reads, %zu unexpected",
		 n_tried, n_acked, finals, r->lost, r->unexpected);
out:
	free(acked);
	free(tried);
	return rc;
}

static void check_counter(const struct mael_op *ops, size_t n, struct mael_result *r)
{
	int64_t sure = 0, low = 0, high = 0;
	size_t finals = 0;

	/* What surely was added (ok), and what may have been too (info): the bounds. */
	for (size_t i = 0; i < n; i++) {
		if (ops[i].read || ops[i].outcome == MAEL_FAIL)
			continue;
		if (ops[i].outcome == MAEL_OK)
			sure += ops[i].delta;
		else if (ops[i].delta < 0)
			low += ops[i].delta;
		else
			high += ops[i].delta;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mael_op *rd = &ops[i];
		char *end;
		long long v;

		if (!rd->read || !rd->final || rd->outcome != MAEL_OK)
			continue;
		finals++;
		v = rd->result ? strtoll(rd->result, &end, 10) : 0;
		if (!rd->result || *end) {
			r->bad_reads++;
			evidence(r, "n%u's final read is %s, not an integer", rd->node,
				 rd->result ? rd->result : "missing");
		} else if (v < sure + low || v > sure + high) {
			r->bad_reads++;
			evidence(r,
				 "n%u's final read is %lld; acknowledged adds sum to %lld (%lld to "
				 "%lld with those of unknown outcome)",
				 rd->node, v, (long long)sure, (long long)(sure + low),
				 (long long)(sure + high));
		}
	}
	if (!finals)
		evidence(r, "no node answered a final read");
	snprintf(r->summary, sizeof(r->summary),
		 "acknowledged adds sum to %lld (%lld to %lld with unknown ones); %zu final reads, "
		 "%zu out of bounds",
		 (long long)sure, (long long)(sure + low), (long long)(sure + high), finals,
		 r->bad_reads);
}

int mael_check(enum mael_workload w, const struct mael_op *ops, size_t n, struct mael_result *r)
{
	memset(r, 0, sizeof(*r));
	r->valid = true;
	switch (w) {
	case MAEL_ECHO:
		check_echo(ops, n, r);
		return 0;
	case MAEL_UNIQUE_IDS:
		return check_unique(ops, n, r);
	case MAEL_BROADCAST:
	case MAEL_G_SET:
		return check_sets(ops, n, r);
	case MAEL_G_COUNTER:
	case MAEL_PN_COUNTER:
		check_counter(ops, n, r);
		return 0;
	default:
		return -EINVAL;
	}
}
