// SPDX-License-Identifier: GPL-2.0-only
/* capctl check: reads a history and decides it against a model. Exit 0 valid, 1 violation,
 * 2 error or undecided. Text and --json come from the same data, so they never disagree. */
#include "lib/monotonic.h"
#include "lib/report.h"
#include "lib/json.h"
#include "tools/capctl/capctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/check/ap_report.h"
#include "tools/check/append_check.h"
#include "tools/check/bank_check.h"
#include "tools/check/history.h"
#include "tools/check/history_edn.h"
#include "tools/check/linearizability.h"
#include "tools/check/set_check.h"

static void check_usage(void)
{
	fprintf(stderr,
		"usage: capctl [--json] [-v] check --model register|bank|set|append [--mode cp|ap]\n"
		"                                   [--memory-limit MB] HISTORY\n"
		"       capctl [--json] check --model list-append|rw-register\n"
		"                             [--consistency-models M[,M...]] HISTORY\n"
		"  HISTORY is a JSON-lines history (docs/history-format.md) or Jepsen's EDN, - for\n"
		"        stdin.\n"
		"  register: linearizability of read/write/cas, key by key.\n"
		"  bank: conservation, no negative balance, and every balance read explained by\n"
		"        the transfers that could have happened.\n"
		"  --memory-limit MB bounds each search (default: register 512, bank 128); when\n"
		"        reached the verdict is undecided (exit 2).\n"
		"  --mode ap: the system promised only eventual consistency. register: a report of\n"
		"        stale reads, lost writes and convergence (exit 0). bank: conservation\n"
		"        checked, overdrafts reported.\n"
		"  --fail-on-lost: with --mode ap, register: exit 1 when an acknowledged write was\n"
		"        lost (what last-writer-wins does to the later of two writes under a skewed\n"
		"        clock, say).\n"
		"  list-append, rw-register: transactions (:f :txn, [:append k v] [:w k v]\n"
		"        [:r k v] steps), checked as Elle does: anomalies G0, G1a, G1b, G1c,\n"
		"        G-single, G2-item (and -realtime), internal, incompatible-order..., each\n"
		"        with its cycle, and the consistency models they rule out. Exit 1 when one\n"
		"        of --consistency-models is (read-uncommitted, read-committed,\n"
		"        snapshot-isolation, repeatable-read, serializable, strict-serializable;\n"
		"        default strict-serializable).\n");
}

/* The widest bound a history's clocks had (0 on one machine): every verdict says it, since an
 * anomaly shorter than it cannot be seen. */
static uint64_t check_epsilon_ns;

/* ,"epsilon_ns":N for a verdict's JSON when the history's clocks had a bound; "" on one
 * machine, where there is none. */
static const char *epsilon_member(void)
{
	static char text[48];

	if (!check_epsilon_ns)
		return "";
	snprintf(text, sizeof(text), ",\"epsilon_ns\":%llu", (unsigned long long)check_epsilon_ns);
	return text;
}

static void print_error(const char *name, const char *model, const struct history_error *e)
{
	fprintf(stderr, "%s:%ld: %s\n", name, e->line, e->msg);
	if (capctl_opts.json) {
		char buf[320];

		snprintf(buf, sizeof(buf), "%s:%ld: %s", name, e->line, e->msg);
		printf("{\"valid\":null,\"model\":\"%s\",\"error\":", model);
		json_write_string(stdout, buf);
		printf("}\n");
	}
}

/* What an operation did, for people: read -> "3", write "3", cas "1" -> "2". */
static void format_op_value(char *buf, size_t len, const struct history_op *op)
{
	const struct history_value *v = op->f == HISTORY_READ ? op->result : op->arg;
	const char *q0, *q1;

	switch (v->kind) {
	case HISTORY_VALUE_STRING:
		snprintf(buf, len, "\"%s\"", v->str);
		return;
	case HISTORY_VALUE_LIST:
		if (v->n == 2) {
			q0 = v->items[0] ? "\"" : "";
			q1 = v->items[1] ? "\"" : "";
			snprintf(buf, len, "%s%s%s -> %s%s%s", q0,
				 v->items[0] ? v->items[0] : "null", q0, q1,
				 v->items[1] ? v->items[1] : "null", q1);
			return;
		}
		break;
	case HISTORY_VALUE_NULL:
		snprintf(buf, len, "null");
		return;
	default:
		break;
	}
	snprintf(buf, len, "?");
}

static void write_op_value_json(const struct history_op *op)
{
	const struct history_value *v = op->f == HISTORY_READ ? op->result : op->arg;
	size_t i;

	if (v->kind == HISTORY_VALUE_STRING) {
		json_write_string(stdout, v->str);
	} else if (v->kind == HISTORY_VALUE_LIST) {
		putchar('[');
		for (i = 0; i < v->n; i++) {
			if (i)
				putchar(',');
			json_write_string(stdout, v->items[i]);
		}
		putchar(']');
	} else {
		fputs("null", stdout);
	}
}

static const char *role_name(enum lin_role r)
{
	return r == LIN_ROLE_FAILED ? "failed" : r == LIN_ROLE_REQUIRED ? "required" : "optional";
}

static const char *outcome_name(const struct history_op *op)
{
	return op->complete == HISTORY_OPEN_END ? "open" : history_type_name(op->outcome);
}

static void print_register_json(const struct history *h, const struct lin_result *r)
{
	const struct history_op *fo;
	size_t i;

	printf("{\"valid\":%s,\"model\":\"register\"%s,\"keys\":%zu,\"ops\":%zu",
	       r->verdict == LIN_VALID	   ? "true" :
	       r->verdict == LIN_VIOLATION ? "false" :
					     "null",
	       epsilon_member(), r->keys, r->ops);
	if (r->verdict == LIN_UNDECIDED) {
		printf(",\"undecided\":\"search limit\",\"key\":");
		json_write_string(stdout, r->key);
	}
	if (r->verdict != LIN_VIOLATION) {
		printf("}\n");
		return;
	}
	fo = &h->ops[r->failed_op];
	printf(",\"violation\":{\"key\":");
	json_write_string(stdout, r->key);
	printf(",\"line\":%ld,\"return_line\":%ld,\"process\":%llu,\"f\":\"%s\",\"value\":",
	       fo->line, fo->ret_line, (unsigned long long)fo->process, history_f_name(fo->f));
	write_op_value_json(fo);
	printf(",\"initial\":%s,\"minimal\":%s,\"window\":[",
	       r->initial_known ? "\"null\"" : "\"any\"", r->minimal ? "true" : "false");
	for (i = 0; i < r->n_window; i++) {
		const struct history_op *op = &h->ops[r->window[i].op];

		printf("%s{\"line\":%ld,\"process\":%llu,\"f\":\"%s\",\"value\":", i ? "," : "",
		       op->line, (unsigned long long)op->process, history_f_name(op->f));
		write_op_value_json(op);
		printf(",\"invoke\":%llu,\"return\":", (unsigned long long)op->call);
		if (op->ret == UINT64_MAX)
			printf("null");
		else
			printf("%llu", (unsigned long long)op->ret);
		printf(",\"outcome\":\"%s\",\"role\":\"%s\"}", outcome_name(op),
		       role_name(r->window[i].role));
	}
	printf("]}}\n");
}

static void print_register_text(const char *name, const struct history *h,
				const struct lin_result *r, const struct lin_options *opt)
{
	const struct history_op *fo;
	char val[96], ret[24];
	size_t i;

	if (r->verdict == LIN_VALID) {
		printf("%s: linearizable (%zu keys, %zu operations)\n", name, r->keys, r->ops);
		return;
	}
	if (r->verdict == LIN_UNDECIDED) {
		printf("%s: undecided: the search for key \"%s\" reached its limit of %zu MiB "
		       "(--memory-limit); no violation found elsewhere\n",
		       name, r->key, opt->max_memory >> 20);
		return;
	}
	fo = &h->ops[r->failed_op];
	format_op_value(val, sizeof(val), fo);
	printf("%s: not linearizable: key \"%s\"\n", name, r->key);
	printf("  %s:%ld: process %llu %s %s cannot be placed: no order of the operations "
	       "below explains it\n",
	       name, fo->ret_line ? fo->ret_line : fo->line, (unsigned long long)fo->process,
	       history_f_name(fo->f), val);
	printf("  %s window, %zu operations, register %s at its start:\n",
	       r->minimal ? "smallest failing" : "failing", r->n_window,
	       r->initial_known ? "null (the history's start)" : "holding any value");
	printf("  %6s %8s %-5s %-20s %14s %14s %-7s %s\n", "LINE", "PROCESS", "F", "VALUE",
	       "INVOKE", "RETURN", "OUTCOME", "NOTE");
	for (i = 0; i < r->n_window; i++) {
		const struct history_op *op = &h->ops[r->window[i].op];
		enum lin_role role = r->window[i].role;

		format_op_value(val, sizeof(val), op);
		if (op->ret == UINT64_MAX)
			snprintf(ret, sizeof(ret), "-");
		else
			snprintf(ret, sizeof(ret), "%llu", (unsigned long long)op->ret);
		printf("  %6ld %8llu %-5s %-20s %14llu %14s %-7s %s\n", op->line,
		       (unsigned long long)op->process, history_f_name(op->f), val,
		       (unsigned long long)op->call, ret, outcome_name(op),
		       role == LIN_ROLE_FAILED	 ? "<- cannot be placed" :
		       role == LIN_ROLE_REQUIRED ? "" :
		       op->outcome == HISTORY_OK ? "(not needed in its interval)" :
						   "(may or may not have happened)");
	}
	if (!r->minimal)
		printf("  (the window may not be minimal: shrinking it reached the search "
		       "limit)\n");
}

static void print_bank_json(const struct bank_result *r, bool ap)
{
	size_t i, n = r->n_violations < BANK_MAX_REPORTED ? r->n_violations : BANK_MAX_REPORTED;
	bool undecided = r->valid && r->undecided;

	printf("{\"valid\":%s,\"model\":\"bank\"%s,\"accounts\":%zu,\"total\":\"%lld\","
	       "\"transfers\":%zu,\"reads\":%zu,\"ops\":%zu",
	       undecided ? "null" :
	       r->valid	 ? "true" :
			   "false",
	       epsilon_member(), r->accounts, (long long)r->total, r->transfers, r->reads, r->ops);
	if (r->undecided)
		printf(",\"undecided_reads\":%zu", r->undecided);
	if (ap) {
		printf(",\"mode\":\"ap\",\"overdraft_count\":%zu,\"overdrafts\":[",
		       r->n_overdrafts);
		for (i = 0; i < r->n_overdrafts && i < BANK_MAX_OVERDRAFTS; i++) {
			printf("%s{\"line\":%ld,\"message\":", i ? "," : "", r->overdrafts[i].line);
			json_write_string(stdout, r->overdrafts[i].msg);
			putchar('}');
		}
		putchar(']');
	}
	if (!r->valid) {
		printf(",\"violation_count\":%zu,\"violations\":[", r->n_violations);
		for (i = 0; i < n; i++) {
			printf("%s{\"line\":%ld,\"kind\":\"%s\",\"message\":", i ? "," : "",
			       r->violations[i].line,
			       bank_violation_kind_name(r->violations[i].kind));
			json_write_string(stdout, r->violations[i].msg);
			putchar('}');
		}
		putchar(']');
	}
	printf("}\n");
}

static void print_bank_text(const char *name, const struct bank_result *r, bool ap)
{
	size_t i, n = r->n_violations < BANK_MAX_REPORTED ? r->n_violations : BANK_MAX_REPORTED;

	if (ap) {
		printf("%s: AP bank: %zu overdraft%s in %zu balance reads\n", name, r->n_overdrafts,
		       r->n_overdrafts == 1 ? "" : "s", r->reads);
		for (i = 0; i < r->n_overdrafts && i < BANK_MAX_OVERDRAFTS; i++)
			printf("  %s:%ld: overdraft: %s\n", name, r->overdrafts[i].line,
			       r->overdrafts[i].msg);
		if (r->n_overdrafts > BANK_MAX_OVERDRAFTS)
			printf("  ... and %zu more\n", r->n_overdrafts - BANK_MAX_OVERDRAFTS);
		if (r->valid) {
			printf("%s: money conserved in every read (%zu accounts, total %lld)\n",
			       name, r->accounts, (long long)r->total);
			return;
		}
	}

	if (r->valid && !r->undecided) {
		printf("%s: bank invariants hold (%zu accounts, total %lld, %zu transfers, %zu "
		       "balance reads)\n",
		       name, r->accounts, (long long)r->total, r->transfers, r->reads);
		return;
	}
	if (r->valid) {
		printf("%s: undecided: %zu of %zu balance reads could not be matched against the "
		       "transfers within the search limit (--memory-limit); nothing else is wrong\n",
		       name, r->undecided, r->reads);
		return;
	}
	printf("%s: bank invariants violated: %zu violation%s in %zu balance reads\n", name,
	       r->n_violations, r->n_violations == 1 ? "" : "s", r->reads);
	for (i = 0; i < n; i++)
		printf("  %s:%ld: %s: %s\n", name, r->violations[i].line,
		       bank_violation_kind_name(r->violations[i].kind), r->violations[i].msg);
	if (r->n_violations > n)
		printf("  ... and %zu more\n", r->n_violations - n);
}

static void print_ns(uint64_t ns)
{
	if (ns >= 1000000000ULL)
		printf("%.3f s", ns / 1e9);
	else if (ns >= 1000000ULL)
		printf("%.3f ms", ns / 1e6);
	else
		printf("%llu ns", (unsigned long long)ns);
}

static void print_value(const char *v, bool json)
{
	if (json)
		json_write_string(stdout, v);
	else if (v)
		printf("\"%s\"", v);
	else
		printf("null");
}

static void print_ap_text(const char *name, const struct history *h, const struct ap_result *r)
{
	size_t i, n;

	printf("%s: AP report: %zu keys, %zu operations, %zu reads\n", name, r->n_keys, r->ops,
	       r->reads);
	printf("  stale reads: %zu", r->n_stale);
	if (r->n_stale) {
		printf(" (%.1f%%), stalest ", 100.0 * r->n_stale / (r->reads ? r->reads : 1));
		print_ns(r->stale_max_ns);
		printf(", median ");
		print_ns(r->stale_median_ns);
	}
	printf("\n");
	n = r->n_stale < AP_MAX_EXAMPLES ? r->n_stale : AP_MAX_EXAMPLES;
	for (i = 0; i < n; i++) {
		const struct history_op *rd = &h->ops[r->stale[i].read],
					*by = &h->ops[r->stale[i].by];

		printf("    %s:%ld: process %llu read ", name, rd->ret_line,
		       (unsigned long long)rd->process);
		print_value(rd->result->kind == HISTORY_VALUE_STRING ? rd->result->str : NULL,
			    false);
		printf(" of \"%s\", overwritten by line %ld, ", rd->key, by->line);
		print_ns(r->stale[i].staleness);
		printf(" before it began\n");
	}
	printf("  lost writes: %zu\n", r->n_lost);
	n = r->n_lost < AP_MAX_EXAMPLES ? r->n_lost : AP_MAX_EXAMPLES;
	for (i = 0; i < n; i++) {
		const struct history_op *w = &h->ops[r->lost[i].write],
					*rd = &h->ops[r->lost[i].read];
		const struct history_value *v = w->f == HISTORY_CAS ? NULL : w->arg;

		printf("    %s:%ld: process %llu %s ", name, w->ret_line,
		       (unsigned long long)w->process, history_f_name(w->f));
		print_value(v ? v->str : w->arg->items[1], false);
		printf(" to \"%s\" acknowledged, never read; line %ld read the older ", w->key,
		       rd->ret_line);
		print_value(rd->result->kind == HISTORY_VALUE_STRING ? rd->result->str : NULL,
			    false);
		printf("\n");
	}
	for (i = 0; i < r->n_keys; i++) {
		const struct ap_key *k = &r->keys[i];

		printf("  key \"%s\": ", k->key);
		if (!k->has_final) {
			printf("never read\n");
			continue;
		}
		printf("last read ");
		print_value(k->final, false);
		if (k->converged_ns == UINT64_MAX) {
			printf(", no read after the last write (line %ld) to tell convergence\n",
			       k->last_write_line);
			continue;
		}
		printf(", all reads agree from ");
		print_ns(k->converged_ns);
		printf(" after the last write (line %ld)", k->last_write_line);
		if (k->disagreeing)
			printf("; %zu read%s after it disagreed", k->disagreeing,
			       k->disagreeing == 1 ? "" : "s");
		printf("\n");
	}
}

static void print_ap_json(const struct history *h, const struct ap_result *r)
{
	size_t i, n;

	printf("{\"valid\":null,\"model\":\"register\"%s,\"mode\":\"ap\",\"keys\":%zu,"
	       "\"ops\":%zu,\"reads\":%zu,\"stale_reads\":{\"count\":%zu,\"max_ns\":%llu,"
	       "\"median_ns\":%llu,\"examples\":[",
	       epsilon_member(), r->n_keys, r->ops, r->reads, r->n_stale,
	       (unsigned long long)r->stale_max_ns, (unsigned long long)r->stale_median_ns);
	n = r->n_stale < AP_MAX_EXAMPLES ? r->n_stale : AP_MAX_EXAMPLES;
	for (i = 0; i < n; i++) {
		const struct history_op *rd = &h->ops[r->stale[i].read];

		printf("%s{\"line\":%ld,\"key\":", i ? "," : "", rd->ret_line);
		json_write_string(stdout, rd->key);
		printf(",\"value\":");
		print_value(rd->result->kind == HISTORY_VALUE_STRING ? rd->result->str : NULL,
			    true);
		printf(",\"overwritten_by_line\":%ld,\"staleness_ns\":%llu}",
		       h->ops[r->stale[i].by].line, (unsigned long long)r->stale[i].staleness);
	}
	printf("]},\"lost_writes\":{\"count\":%zu,\"examples\":[", r->n_lost);
	n = r->n_lost < AP_MAX_EXAMPLES ? r->n_lost : AP_MAX_EXAMPLES;
	for (i = 0; i < n; i++)
		printf("%s{\"line\":%ld,\"older_read_line\":%ld}", i ? "," : "",
		       h->ops[r->lost[i].write].ret_line, h->ops[r->lost[i].read].ret_line);
	printf("]},\"convergence\":[");
	for (i = 0; i < r->n_keys; i++) {
		const struct ap_key *k = &r->keys[i];

		printf("%s{\"key\":", i ? "," : "");
		json_write_string(stdout, k->key);
		printf(",\"reads\":%zu,\"last_read\":", k->reads);
		print_value(k->final, true);
		printf(",\"last_write_line\":%ld,\"converged_ns\":", k->last_write_line);
		if (k->converged_ns == UINT64_MAX)
			printf("null");
		else
			printf("%llu", (unsigned long long)k->converged_ns);
		printf(",\"disagreeing_reads\":%zu}", k->disagreeing);
	}
	printf("]}\n");
}

static void print_items(const char *name, const char *what, const struct set_item *items, size_t n)
{
	const size_t shown = 20;

	if (!n)
		return;
	printf("  %zu %s:\n", n, what);
	for (size_t i = 0; i < n && i < shown; i++)
		printf("    %s:%ld: %s \"%s\"\n", name, items[i].line, items[i].key,
		       items[i].element);
	if (n > shown)
		printf("    ... and %zu more (--json lists them all)\n", n - shown);
}

static void print_items_json(const char *field, const struct set_item *items, size_t n)
{
	printf(",\"%s\":[", field);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"key\":", i ? "," : "");
		json_write_string(stdout, items[i].key);
		printf(",\"element\":");
		json_write_string(stdout, items[i].element);
		printf(",\"line\":%ld}", items[i].line);
	}
	printf("]");
}

/* "nodes 2,3" or "node 1" (or processes, for a history that names no node). */
static void print_readers(const struct set_reader *rs, size_t n)
{
	bool nodes = n && rs[0].is_node;

	printf("%s%s ", nodes ? "node" : "process", n == 1 ? "" : nodes ? "s" : "es");
	for (size_t i = 0; i < n; i++)
		printf("%s%s%llu", i ? "," : "", rs[i].is_node == nodes ? "" : "process ",
		       (unsigned long long)rs[i].id);
}

static void print_readers_json(const char *field, const struct set_reader *rs, size_t n)
{
	printf(",\"%s\":[", field);
	for (size_t i = 0; i < n; i++)
		printf("%s{\"%s\":%llu}", i ? "," : "", rs[i].is_node ? "node" : "process",
		       (unsigned long long)rs[i].id);
	printf("]");
}

static void print_set(const char *name, const struct set_result *r)
{
	if (capctl_opts.json) {
		printf("{\"valid\":%s,\"model\":\"set\"%s,\"keys\":%zu,\"attempts\":%zu,"
		       "\"acknowledged\":%zu,\"final_reads\":%zu",
		       r->valid ? "true" : "false", epsilon_member(), r->keys, r->attempts,
		       r->acknowledged, r->final_reads);
		print_items_json("lost", r->lost, r->n_lost);
		print_items_json("unexpected", r->unexpected, r->n_unexpected);
		print_items_json("recovered", r->recovered, r->n_recovered);
		print_items_json("stale", r->stale, r->n_stale);
		print_items_json("duplicated", r->duplicated, r->n_duplicated);
		printf(",\"diverged_adds\":%zu,\"diverged_acknowledged\":%zu", r->diverged_adds,
		       r->diverged_acknowledged);
		print_readers_json("diverged_missing", r->missing, r->n_missing);
		print_readers_json("diverged_having", r->having, r->n_having);
		print_items_json("diverged", r->diverged, r->n_diverged);
		printf("}\n");
		return;
	}
	if (r->diverged_adds) {
		/* The one line that says the replicas never converged, before the counts. */
		printf("%s: diverged: the final reads of ", name);
		print_readers(r->missing, r->n_missing);
		printf(" miss %zu acknowledged add%s", r->diverged_acknowledged,
		       r->diverged_acknowledged == 1 ? "" : "s");
		if (r->diverged_adds > r->diverged_acknowledged)
			printf(" (and %zu of unknown outcome)",
			       r->diverged_adds - r->diverged_acknowledged);
		printf(" that ");
		print_readers(r->having, r->n_having);
		printf(" ha%s\n", r->n_having == 1 ? "s" : "ve");
	}
	printf("%s: %s (%zu set%s, %zu adds, %zu acknowledged, %zu final read%s): %zu diverged, "
	       "%zu lost, %zu unexpected, %zu recovered, %zu stale, %zu duplicated\n",
	       name, r->valid ? "valid" : "INVALID", r->keys, r->keys == 1 ? "" : "s", r->attempts,
	       r->acknowledged, r->final_reads, r->final_reads == 1 ? "" : "s", r->diverged_adds,
	       r->n_lost, r->n_unexpected, r->n_recovered, r->n_stale, r->n_duplicated);
	print_items(name,
		    "diverged (settled final reads disagree: missing here what another has; line "
		    "of the read)",
		    r->diverged, r->n_diverged);
	print_items(name, "lost (acknowledged, in no settled final read; line of the add)", r->lost,
		    r->n_lost);
	print_items(name, "unexpected (never added; line of the read)", r->unexpected,
		    r->n_unexpected);
	print_items(name, "duplicated (a read lists the element more than once; line of the read)",
		    r->duplicated, r->n_duplicated);
	print_items(name, "recovered (outcome unknown, then read)", r->recovered, r->n_recovered);
	print_items(name,
		    "stale (an earlier final read misses what every settled one has; line of the "
		    "read)",
		    r->stale, r->n_stale);
}

static void print_append(const char *name, const struct append_result *r)
{
	if (capctl_opts.json) {
		printf("{\"valid\":%s,\"model\":\"append\"%s,\"keys\":%zu,\"appends\":%zu,"
		       "\"acknowledged\":%zu,\"reads\":%zu,\"lost\":%zu,\"findings\":[",
		       r->valid ? "true" : "false", epsilon_member(), r->keys, r->appends,
		       r->acknowledged, r->reads, r->lost);
		for (size_t i = 0; i < r->n_findings; i++) {
			const struct append_finding *fd = &r->findings[i];

			printf("%s{\"problem\":\"%s\",\"key\":", i ? "," : "",
			       append_problem_name(fd->problem));
			json_write_string(stdout, fd->key);
			printf(",\"value\":");
			json_write_string(stdout, fd->value);
			printf(",\"line\":%ld,\"other_line\":%ld}", fd->line, fd->other_line);
		}
		printf("]}\n");
		return;
	}
	printf("%s: %s (%zu list%s, %zu appends, %zu acknowledged, %zu reads): %zu acknowledged "
	       "appends in no read\n",
	       name, r->valid ? "valid" : "INVALID", r->keys, r->keys == 1 ? "" : "s", r->appends,
	       r->acknowledged, r->reads, r->lost);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct append_finding *fd = &r->findings[i];

		switch (fd->problem) {
		case APPEND_DIVERGED:
			printf("  %s:%ld: %s: this read has \"%s\" where the read of line %ld has "
			       "another value: no one order of appends explains both\n",
			       name, fd->line, fd->key, fd->value, fd->other_line);
			break;
		case APPEND_DUPLICATE:
			printf("  %s:%ld: %s: this read has \"%s\" twice\n", name, fd->line,
			       fd->key, fd->value);
			break;
		case APPEND_UNEXPECTED:
			printf("  %s:%ld: %s: this read has \"%s\", which %s\n", name, fd->line,
			       fd->key, fd->value,
			       fd->other_line ? "was only appended by refused appends" :
						"nobody appended");
			break;
		case APPEND_LOST:
			printf("  %s:%ld: %s: this read lacks \"%s\", acknowledged (line %ld) before "
			       "the read began\n",
			       name, fd->line, fd->key, fd->value, fd->other_line);
			break;
		case APPEND_REORDERED:
			printf("  %s:%ld: %s: \"%s\" was acknowledged before the append of line %ld "
			       "began, yet comes after it\n",
			       name, fd->line, fd->key, fd->value, fd->other_line);
			break;
		default:
			break;
		}
	}
}

/* Which model an operation belongs to (a read belongs to every model but the bank's). */
static const char *model_of(enum history_f f)
{
	switch (f) {
	case HISTORY_WRITE:
	case HISTORY_CAS:
		return "register";
	case HISTORY_OPEN:
	case HISTORY_TRANSFER:
	case HISTORY_BALANCE:
		return "bank";
	case HISTORY_ADD:
		return "set";
	case HISTORY_APPEND:
		return "append";
	default:
		return NULL;
	}
}

/* A history that mixes models is refused at its first operation of another model, whatever
 * the model's own checker would trip over first. */
static int one_model(const struct history *h, const char *model, struct history_error *e)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		const char *m = model_of(h->ops[i].f);

		if (m && strcmp(m, model)) {
			e->line = h->ops[i].line;
			snprintf(e->msg, sizeof(e->msg),
				 "\"%s\" is an operation of the %s model, not of the %s model: one "
				 "history, one model",
				 history_f_name(h->ops[i].f), m, model);
			return -EINVAL;
		}
	}
	return 0;
}

/* --fail-on-lost: an AP register report with a verdict on lost writes. */
static bool fail_on_lost;

static int run_check(const char *name, FILE *f, const char *model, bool ap, size_t memory_mb)
{
	struct lin_options lopt = { .max_memory = (memory_mb ? memory_mb : 512) << 20 };
	struct history_error e = { 0 };
	struct lin_result lr;
	struct bank_result br;
	struct history h;
	double t0 = monotonic_s();
	int ret, rc;

	history_init(&h);
	ret = history_read_any(&h, f, &e);
	if (!ret)
		ret = history_pair(&h, &e);
	/* Stamps from several hosts' clocks: each interval is widened by its clock's bound,
	 * so that no clock error can make a linearizable history look wrong. */
	if (!ret)
		history_widen(&h);
	check_epsilon_ns = ret ? 0 : history_max_epsilon(&h);
	if (ret == -ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", name);
		history_free(&h);
		return CAPCTL_USAGE;
	}
	/* A wiped or truncated-to-nothing file must never pass as a valid history. */
	if (!ret && h.n_ops)
		ret = one_model(&h, model, &e);
	if (!ret && !h.n_ops) {
		e.line = 0;
		snprintf(e.msg, sizeof(e.msg),
			 "no operations: an empty history proves nothing (was it written?)");
		ret = -EINVAL;
	}
	if (ret) {
		print_error(name, model, &e);
		history_free(&h);
		return CAPCTL_USAGE;
	}
	if (!strcmp(model, "append")) {
		struct append_result arr;

		ret = append_check(&h, &arr, &e);
		if (!ret) {
			print_append(name, &arr);
			rc = arr.valid ? CAPCTL_OK : CAPCTL_FAIL;
			append_result_free(&arr);
		}
	} else if (!strcmp(model, "set")) {
		struct set_result sr;

		ret = set_check(&h, &sr, &e);
		if (!ret) {
			print_set(name, &sr);
			rc = sr.valid ? CAPCTL_OK : CAPCTL_FAIL;
			set_result_free(&sr);
		}
	} else if (!strcmp(model, "register") && ap) {
		struct ap_result ar;

		ret = ap_report_register(&h, &ar, &e);
		if (!ret) {
			if (capctl_opts.json)
				print_ap_json(&h, &ar);
			else
				print_ap_text(name, &h, &ar);
			rc = fail_on_lost && ar.n_lost ? CAPCTL_FAIL : CAPCTL_OK;
			ap_result_free(&ar);
		}
	} else if (!strcmp(model, "register")) {
		ret = lin_check_register(&h, &lopt, &lr, &e);
		if (!ret) {
			if (capctl_opts.json)
				print_register_json(&h, &lr);
			else
				print_register_text(name, &h, &lr, &lopt);
			rc = lr.verdict == LIN_VALID	 ? CAPCTL_OK :
			     lr.verdict == LIN_VIOLATION ? CAPCTL_FAIL :
							   CAPCTL_USAGE;
			if (capctl_opts.verbose)
				fprintf(stderr, "%s: %zu configurations explored in %.3f s\n", name,
					lr.configs, monotonic_s() - t0);
			lin_result_free(&lr);
		}
	} else {
		struct bank_options bopt = { .ap = ap, .max_memory = memory_mb << 20 };

		ret = bank_check(&h, &bopt, &br, &e);
		if (!ret) {
			if (capctl_opts.json)
				print_bank_json(&br, ap);
			else
				print_bank_text(name, &br, ap);
			rc = !br.valid ? CAPCTL_FAIL : br.undecided ? CAPCTL_USAGE : CAPCTL_OK;
			if (capctl_opts.verbose)
				fprintf(stderr, "%s: checked in %.3f s\n", name,
					monotonic_s() - t0);
			bank_result_free(&br);
		}
	}
	if (ret == -EINVAL) {
		print_error(name, model, &e);
		rc = CAPCTL_USAGE;
	} else if (ret) {
		fprintf(stderr, "%s: %s\n", name, strerror(-ret));
		rc = CAPCTL_USAGE;
	} else if (check_epsilon_ns && !capctl_opts.json) {
		/* Widening keeps a clock error from making a right history look wrong; the price,
		 * said with every verdict, is that an anomaly shorter than it is not seen. */
		printf("%s: operations widened by their clocks' bounds, up to %.3f ms: a stale read "
		       "or a reordering shorter than that cannot be seen\n",
		       name, check_epsilon_ns / 1e6);
	}
	history_free(&h);
	return rc;
}

int capctl_check_main(int argc, char **argv)
{
	const char *model = NULL, *path = NULL, *txn_models = NULL;
	long memory_mb = 0; /* the model's own default */
	bool ap = false, txn;
	char *end;
	FILE *f;
	int i, rc;

	report_set_program("capctl check");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--model") && i + 1 < argc) {
			model = argv[++i];
		} else if (!strcmp(argv[i], "--memory-limit") && i + 1 < argc) {
			errno = 0;
			memory_mb = strtol(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || memory_mb < 1 ||
			    memory_mb > (1L << 20)) {
				report_usage("--memory-limit expects MB from 1 to "
					     "1048576");
				return CAPCTL_USAGE;
			}
		} else if (!strcmp(argv[i], "--consistency-models") && i + 1 < argc) {
			txn_models = argv[++i];
		} else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "cp") && strcmp(argv[i], "ap")) {
				report_usage("--mode is cp or ap, not \"%s\"", argv[i]);
				return CAPCTL_USAGE;
			}
			ap = !strcmp(argv[i], "ap");
		} else if (!strcmp(argv[i], "--json")) {
			capctl_opts.json = true;
		} else if (!strcmp(argv[i], "--fail-on-lost")) {
			fail_on_lost = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			check_usage();
			return CAPCTL_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			report_usage("unknown option \"%s\"", argv[i]);
			check_usage();
			return CAPCTL_USAGE;
		} else if (!path) {
			path = argv[i];
		} else {
			report_usage("one history at a time");
			return CAPCTL_USAGE;
		}
	}
	txn = model && (!strcmp(model, "list-append") || !strcmp(model, "rw-register"));
	if (model && !txn && strcmp(model, "register") && strcmp(model, "bank") &&
	    strcmp(model, "set") && strcmp(model, "append")) {
		report_usage("--model \"%s\": register, bank, set, append, list-append "
			     "or rw-register",
			     model);
		return CAPCTL_USAGE;
	}
	if (!model) {
		report_usage("--model register, bank, set, append, list-append or "
			     "rw-register is required");
		check_usage();
		return CAPCTL_USAGE;
	}
	if (txn_models && !txn) {
		report_usage("--consistency-models goes with --model list-append "
			     "or rw-register");
		return CAPCTL_USAGE;
	}
	if (txn && (ap || fail_on_lost || memory_mb)) {
		report_usage("--mode, --fail-on-lost and --memory-limit are not "
			     "options of --model %s",
			     model);
		return CAPCTL_USAGE;
	}
	if (!path) {
		report_usage("which history? (a file, or - for stdin)");
		return CAPCTL_USAGE;
	}
	if (fail_on_lost && (!ap || strcmp(model, "register"))) {
		report_usage("--fail-on-lost goes with --model register --mode ap");
		return CAPCTL_USAGE;
	}
	if (!strcmp(path, "-"))
		return txn ? capctl_check_txn("<stdin>", stdin, model, txn_models) :
			     run_check("<stdin>", stdin, model, ap, memory_mb);
	f = fopen(path, "r");
	if (!f) {
		report_usage("%s: %s", path, strerror(errno));
		return CAPCTL_USAGE;
	}
	rc = txn ? capctl_check_txn(path, f, model, txn_models) :
		   run_check(path, f, model, ap, memory_mb);
	fclose(f);
	return rc;
}
