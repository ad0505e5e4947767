// SPDX-License-Identifier: GPL-2.0-only
/* capctl check --model list-append|rw-register: a transaction history (Jepsen's or Elle's EDN,
 * or capnet's JSON lines) decided by the transaction checker that `capnet maelstrom test` uses,
 * against the consistency models asked. Says which anomalies it found by Elle's names, each
 * with its cycle, and which models they rule out. Exit 0 when no asked model is ruled out, 1
 * when one is, 2 on bad input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/report.h"
#include "lib/json.h"
#include "tools/capctl/capctl.h"
#include "tools/check/txn_history.h"

#define BIT(x) (1u << (x))

/* "serializable,snapshot-isolation" (Elle's :keywords too) into bits of enum txn_model. */
static int parse_models(const char *arg, unsigned int *models)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	*models = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int m = txn_model_parse(tok[0] == ':' ? tok + 1 : tok);

		if (m < 0) {
			report_fail("--consistency-models: \"%s\" is not one of "
				    "read-uncommitted, read-committed, snapshot-isolation, "
				    "repeatable-read, serializable, strict-serializable",
				    tok);
			rc = -EINVAL;
			break;
		}
		*models |= BIT(m);
	}
	free(copy);
	if (!rc && !*models) {
		report_fail("--consistency-models names no model");
		rc = -EINVAL;
	}
	return rc;
}

static void print_models_text(unsigned int models)
{
	const char *sep = "";

	for (int m = 0; m < TXN_MODELS; m++)
		if (models & BIT(m)) {
			printf("%s%s", sep, txn_model_name(m));
			sep = ", ";
		}
}

static void print_models_json(const char *field, unsigned int models)
{
	const char *sep = "";

	printf(",\"%s\":[", field);
	for (int m = 0; m < TXN_MODELS; m++)
		if (models & BIT(m)) {
			printf("%s\"%s\"", sep, txn_model_name(m));
			sep = ",";
		}
	putchar(']');
}

static void print_json(const char *model, const struct txn_result *r, unsigned int asked,
		       unsigned int not )
{
	const char *sep = "";

	printf("{\"valid\":%s,\"model\":\"%s\",\"transactions\":%zu,\"ok\":%zu,\"failed\":%zu,"
	       "\"indeterminate\":%zu,\"dependencies\":%zu",
	       asked & not ? "false" : "true", model, r->ok + r->failed + r->indeterminate, r->ok,
	       r->failed, r->indeterminate, r->edges);
	print_models_json("consistency_models", asked);
	printf(",\"anomalies\":{");
	for (int a = 0; a < TXN_ANOMALIES; a++)
		if (r->counts[a]) {
			printf("%s\"%s\":%zu", sep, txn_anomaly_name(a), r->counts[a]);
			sep = ",";
		}
	putchar('}');
	print_models_json("not", not );
	printf(",\"cycles\":[");
	for (size_t e = 0; e < r->n_evidence; e++) {
		if (e)
			putchar(',');
		json_write_string(stdout, r->evidence[e]);
	}
	printf("]}\n");
}

static void print_text(const char *name, const char *model, const struct txn_result *r,
		       unsigned int asked, unsigned int not )
{
	const char *sep = "";
	size_t shown = 0;

	printf("%s: %s, %zu transactions (%zu ok, %zu failed, %zu indeterminate), %zu "
	       "dependencies\n",
	       name, model, r->ok + r->failed + r->indeterminate, r->ok, r->failed,
	       r->indeterminate, r->edges);
	for (size_t e = 0; e < r->n_evidence; e++)
		printf("  %s\n", r->evidence[e]);
	printf("  anomalies: ");
	for (int a = 0; a < TXN_ANOMALIES; a++)
		if (r->counts[a]) {
			printf("%s%s %zu", sep, txn_anomaly_name(a), r->counts[a]);
			shown += r->counts[a] < 2 ? r->counts[a] : 2;
			sep = ", ";
		}
	printf("%s\n", *sep ? "" : "none");
	if (shown > r->n_evidence)
		printf("  (cycles shown for the first %zu)\n", r->n_evidence);
	if (not ) {
		printf("  rules out: ");
		print_models_text(not );
		printf("\n");
	}
	printf("%s: ", name);
	if (asked & not ) {
		printf("not ");
		print_models_text(asked & not );
	} else {
		printf("no anomaly that ");
		print_models_text(asked);
		printf(" forbids%s", r->n_evidence ? " (those found are allowed)" : "");
	}
	printf("\n");
}

int capctl_check_txn(const char *name, FILE *f, const char *model, const char *models_arg)
{
	enum txn_kind kind = !strcmp(model, "list-append") ? TXN_LIST_APPEND : TXN_RW_REGISTER;
	struct history_error e = { 0 };
	unsigned int asked = BIT(TXN_STRICT_SERIALIZABLE), not ;
	struct txn_history h;
	struct txn_result r;
	size_t len = 0;
	char *text = NULL;
	int rc;

	if (models_arg && parse_models(models_arg, &asked))
		return CAPCTL_USAGE;
	txn_history_init(&h, kind);
	rc = history_read_text(f, &text, &len);
	if (!rc)
		rc = txn_history_parse(&h, text, len, &e);
	free(text);
	if (!rc && !h.n_ops) {
		snprintf(e.msg, sizeof(e.msg),
			 "no transactions: an empty history proves nothing (was it written?)");
		rc = -EINVAL;
	}
	if (!rc)
		rc = txn_check_named(kind, h.ops, h.n_ops, asked, (const char *const *)h.names,
				     h.n_names, &r);
	if (rc) {
		if (rc == -EINVAL)
			fprintf(stderr, "%s:%ld: %s\n", name, e.line, e.msg);
		else
			fprintf(stderr, "%s: %s\n", name, strerror(-rc));
		txn_history_free(&h);
		return CAPCTL_USAGE;
	}
	not = txn_ruled_out(&r);
	if (capctl_opts.verbose) {
		struct rusage ru;

		/* The benchmark's figures: CPU time, since the machine may be shared. */
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr,
			"%s: %zu transactions read and checked in %.3f s of CPU, peak memory "
			"%ld MiB\n",
			name, h.n_ops,
			ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
				(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
			ru.ru_maxrss / 1024);
	}
	if (capctl_opts.json)
		print_json(model, &r, asked, not );
	else
		print_text(name, model, &r, asked, not );
	txn_history_free(&h);
	return asked & not ? CAPCTL_FAIL : CAPCTL_OK;
}
