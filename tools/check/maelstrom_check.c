// SPDX-License-Identifier: GPL-2.0-only
/* Maelstrom's workload checkers, on JSON texts sorted and compared. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/check/linearizability.h"
#include "tools/check/maelstrom_check.h"
#include "tools/check/txn_check.h"

static const char *const names[MAEL_WORKLOADS] = {
	[MAEL_ECHO] = "echo",
	[MAEL_UNIQUE_IDS] = "unique-ids",
	[MAEL_BROADCAST] = "broadcast",
	[MAEL_G_SET] = "g-set",
	[MAEL_G_COUNTER] = "g-counter",
	[MAEL_PN_COUNTER] = "pn-counter",
	[MAEL_LIN_KV] = "lin-kv",
	[MAEL_KAFKA] = "kafka",
	[MAEL_TXN_LIST_APPEND] = "txn-list-append",
	[MAEL_TXN_RW_REGISTER] = "txn-rw-register",
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

void mael_evidence(struct mael_result *r, const char *fmt, ...)
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

#define evidence mael_evidence

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

/* One event of an operation, for sorting into time order. */
struct kv_event {
	uint64_t time;
	size_t op;
	bool completion;
};

static int cmp_kv_event(const void *a, const void *b)
{
	const struct kv_event *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	/* At one instant, completions first: an operation that ended cannot follow one begun. */
	return (int)y->completion - (int)x->completion;
}

int mael_kv_history(const struct mael_op *ops, size_t n, struct history *out)
{
	struct kv_event *ev = malloc((2 * n + 1) * sizeof(*ev));
	size_t m = 0;
	int err = 0;

	history_init(out);
	if (!ev)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ev[m++] = (struct kv_event){ .time = ops[i].invoke_ns, .op = i };
		/* An unknown outcome stays open: it may take effect at any later time. */
		if (ops[i].outcome != MAEL_INFO)
			ev[m++] = (struct kv_event){ .time = ops[i].complete_ns,
						     .op = i,
						     .completion = true };
	}
	qsort(ev, m, sizeof(*ev), cmp_kv_event);
	for (size_t i = 0; i < m && !err; i++) {
		const struct mael_op *op = &ops[ev[i].op];
		char *pair[2] = { (char *)op->arg, (char *)op->to };
		struct history_event e = {
			.process = op->process,
			.f = op->read ? HISTORY_READ :
			     op->cas  ? HISTORY_CAS :
					HISTORY_WRITE,
			.key = (char *)op->key,
			.time = ev[i].time,
		};

		if (!ev[i].completion)
			e.type = HISTORY_INVOKE;
		else
			e.type = op->outcome == MAEL_OK ? HISTORY_OK : HISTORY_FAIL;
		if (op->cas)
			e.value = (struct history_value){ .kind = HISTORY_VALUE_LIST,
							  .items = pair,
							  .n = 2 };
		else if (!op->read && op->arg)
			e.value = (struct history_value){ .kind = HISTORY_VALUE_STRING,
							  .str = (char *)op->arg };
		else if (op->read && ev[i].completion && op->result)
			e.value = (struct history_value){ .kind = HISTORY_VALUE_STRING,
							  .str = (char *)op->result };
		err = history_append(out, &e);
	}
	free(ev);
	if (err)
		history_free(out);
	return err;
}

static int check_lin_kv(const struct mael_op *ops, size_t n, struct mael_result *r)
{
	struct history h;
	struct history_error herr = { 0 };
	struct lin_options opt = { 0 };
	struct lin_result lr = { 0 };
	int err = mael_kv_history(ops, n, &h);

	if (err)
		return err;
	err = history_pair(&h, &herr);
	if (!err)
		err = lin_check_register(&h, &opt, &lr, &herr);
	if (err == -EINVAL) {
		evidence(r, "the history does not fit the register model: %s", herr.msg);
		snprintf(r->summary, sizeof(r->summary), "not checkable");
		history_free(&h);
		return 0;
	}
	if (err) {
		history_free(&h);
		return err;
	}
	if (lr.verdict == LIN_VIOLATION) {
		const struct history_op *bad = &h.ops[lr.failed_op];

		evidence(r, "key %s: no order of its operations explains what was read", lr.key);
		evidence(r,
			 "process %llu's %s cannot be placed (invoked at %.3f s); the smallest "
			 "failing window, the register holding %s at its start:",
			 (unsigned long long)bad->process, history_f_name(bad->f), bad->call / 1e9,
			 lr.initial_known ? "null" : "any value");
		for (size_t i = 0; i < lr.n_window && r->n_evidence < 8; i++) {
			const struct history_op *o = &h.ops[lr.window[i].op];
			const char *v = o->f == HISTORY_READ ?
						(o->result->kind == HISTORY_VALUE_STRING ?
							 o->result->str :
							 "null") :
					o->f == HISTORY_WRITE ? o->arg->str :
								"";
			char cas[160] = "";

			if (o->f == HISTORY_CAS)
				snprintf(cas, sizeof(cas), "%s -> %s",
					 o->arg->items[0] ? o->arg->items[0] : "null",
					 o->arg->items[1]);
			evidence(r, "  %.3f-%.3f s  process %llu %s %s%s%s", o->call / 1e9,
				 o->ret == UINT64_MAX ? -1.0 : o->ret / 1e9,
				 (unsigned long long)o->process, history_f_name(o->f),
				 cas[0] ? cas : v, o->outcome == HISTORY_INFO ? " (unknown)" : "",
				 lr.window[i].role == LIN_ROLE_FAILED ? "  <- cannot be placed" :
									"");
		}
		r->bad_reads = 1;
	} else if (lr.verdict == LIN_UNDECIDED) {
		evidence(r, "key %s: the search ran out of memory; no verdict", lr.key);
	}
	snprintf(r->summary, sizeof(r->summary), "%zu operations on %zu keys: %s", lr.ops, lr.keys,
		 lr.verdict == LIN_VALID     ? "linearizable" :
		 lr.verdict == LIN_VIOLATION ? "not linearizable" :
					       "undecided");
	lin_result_free(&lr);
	history_free(&h);
	return 0;
}

int mael_check(enum mael_workload w, const struct mael_op *ops, size_t n, struct mael_result *r)
{
	return mael_check_models(w, ops, n, 1u << TXN_STRICT_SERIALIZABLE, r);
}

int mael_check_models(enum mael_workload w, const struct mael_op *ops, size_t n,
		      unsigned int models, struct mael_result *r)
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
	case MAEL_LIN_KV:
		return check_lin_kv(ops, n, r);
	case MAEL_KAFKA:
		return mael_check_kafka(ops, n, r);
	case MAEL_TXN_LIST_APPEND:
	case MAEL_TXN_RW_REGISTER:
		return mael_check_txn(w, ops, n, models, r);
	default:
		return -EINVAL;
	}
}
