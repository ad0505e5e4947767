// SPDX-License-Identifier: GPL-2.0-only
/* The command line of maelstrom test: Maelstrom's options, with their ranges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/number.h"
#include "lib/report.h"
#include "netem/maelstrom/harness.h"
#include "tools/check/txn_check.h"

#define WORKLOADS                                                                    \
	"echo, unique-ids, broadcast, g-set, g-counter, pn-counter, lin-kv, kafka, " \
	"txn-list-append, txn-rw-register"
#define MODELS                                                                    \
	"read-uncommitted, read-committed, snapshot-isolation, repeatable-read, " \
	"serializable, strict-serializable"

void mael_usage(FILE *out)
{
	fprintf(out,
		"usage: capnet [--lab NAME] maelstrom test -w WORKLOAD --bin PROGRAM [ARG...]\n"
		"         [--node-count N] [--time-limit S] [--rate R] [--concurrency C|Kn]\n"
		"         [--latency MS] [--latency-dist constant|uniform|normal|exponential]\n"
		"         [--nemesis partition,kill,pause] [--nemesis-interval S]\n"
		"         [--topology grid|line|total|tree2|tree3|tree4] [--availability total|F]\n"
		"         [--consistency-models MODEL[,MODEL...]]\n"
		"         [--timeout S] [--final-wait S] [--seed N] [--log-stderr] [--keep]\n"
		"  workloads: " WORKLOADS "\n"
		"  consistency models (txn workloads; default strict-serializable):\n"
		"    " MODELS "\n"
		"  services nodes may call: lin-kv, seq-kv, lww-kv, lin-tso\n"
		"  Builds a lab of N nodes (the --lab name, else a fresh one), runs PROGRAM as n0..n(N-1)\n"
		"  with Maelstrom's protocol, its messages between nodes as UDP through the lab's\n"
		"  filter, checks the history and tears the lab down (--keep leaves it up).\n"
		"  The nemesis's schedule and the operations are drawn from --seed (else a seed\n"
		"  printed and stored in results.json, which replays them); final reads follow\n"
		"  --final-wait seconds of quiet (default 10, as Maelstrom).\n"
		"  Exit status: 0 valid, 1 invalid, 2 usage or set-up error.\n");
}

/* One wording for every number of every program (lib/number.h). */
static int parse_number(const char *opt, const char *v, double min, double max, double *out)
{
	if (number_parse_real(opt, v, min, max, out))
		return report_usage("maelstrom: %s", error_reason(-EINVAL));
	return 0;
}

/* A count such as --node-count, or a seed: a double would take 1.5, or round a seed past 2^53
 * into another one, and the run would not be the one asked for. */
static int parse_whole(const char *opt, const char *v, unsigned long long min,
		       unsigned long long max, unsigned long long *out)
{
	if (number_parse_whole(opt, v, min, max, out))
		return report_usage("maelstrom: %s", error_reason(-EINVAL));
	return 0;
}

/* --concurrency C or Kn (K times the node count), as Maelstrom takes it: whole numbers. */
static int parse_concurrency(const char *text, unsigned int nodes, unsigned int *out)
{
	size_t len = strlen(text);
	bool per_node = len && text[len - 1] == 'n';
	unsigned long long c;
	char count[24];

	if (per_node)
		len--;
	if (len < sizeof(count)) {
		memcpy(count, text, len);
		count[len] = '\0';
		if (!number_parse_whole("--concurrency", count, 1, 1024, &c) &&
		    (!per_node || c * nodes <= 1024)) {
			*out = (unsigned int)(per_node ? c * nodes : c);
			return 0;
		}
		error_clear();
	}
	return report_usage("maelstrom: --concurrency \"%s\": a count (4) or a multiple of the "
			    "nodes (2n), up to 1024",
			    text);
}

/* The options of maelstrom test: after --bin PROGRAM, every other word is the program's. */
static bool known_option(const char *w)
{
	static const char *const names[] = { "-w",
					     "--workload",
					     "--bin",
					     "--node-count",
					     "--time-limit",
					     "--rate",
					     "--concurrency",
					     "--latency",
					     "--nemesis",
					     "--nemesis-interval",
					     "--timeout",
					     "--final-wait",
					     "--latency-dist",
					     "--topology",
					     "--availability",
					     "--seed",
					     "--log-stderr",
					     "--consistency-models",
					     "--keep",
					     "-h",
					     "--help" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(w, names[i]))
			return true;
	return false;
}

int mael_parse_options(int argc, char **argv, struct options *o)
{
	const char *concurrency = NULL;
	int i;

	*o = (struct options){ .workload = -1,
			       .nodes = 1,
			       .time_limit = 10,
			       .rate = 5,
			       .nemesis_interval = 10,
			       .timeout_s = 1,
			       /* Maelstrom's quiet before the final reads. */
			       .final_wait = 10,
			       .topology = "grid",
			       .latency_dist = "constant",
			       .models = 1u << TXN_STRICT_SERIALIZABLE,
			       .models_text = "strict-serializable" };
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long whole;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			mael_usage(stdout);
			return -1;
		} else if (!strcmp(a, "-w") || !strcmp(a, "--workload")) {
			int w = v ? mael_workload_parse(v) : -1;

			if (w < 0)
				return report_usage("maelstrom: workload \"%s\": one of " WORKLOADS,
						    v ? v : "");
			o->workload = w;
			i++;
		} else if (!strcmp(a, "--bin")) {
			int k = 0;

			if (!v)
				return report_usage("maelstrom: --bin needs the node program");
			/* The program, then its own arguments: every word up to the next option of
			 * maelstrom test (--no-retry is the program's). */
			o->argv = calloc((size_t)argc + 1, sizeof(char *));
			if (!o->argv)
				return EXIT_FAIL;
			for (i++; i < argc && (!k || !known_option(argv[i])); i++)
				o->argv[k++] = argv[i];
			i--;
		} else if (!strcmp(a, "--node-count")) {
			if (parse_whole(a, v, 1, MAEL_MAX_NODES, &whole))
				return EXIT_USAGE;
			o->nodes = (unsigned int)whole;
			i++;
		} else if (!strcmp(a, "--time-limit")) {
			if (parse_number(a, v, 0.1, 86400, &o->time_limit))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--rate")) {
			if (parse_number(a, v, 0.01, 1e6, &o->rate))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--concurrency")) {
			if (!v)
				return report_usage("maelstrom: --concurrency needs C or Kn");
			concurrency = v;
			i++;
		} else if (!strcmp(a, "--latency")) {
			if (parse_number(a, v, 0, 10000, &o->latency_ms))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--nemesis")) {
			char list[64], *tok, *save = NULL;

			if (!v || strlen(v) >= sizeof(list))
				return report_usage(
					"maelstrom: --nemesis needs partition, kill, pause "
					"or a list of them (partition,kill)");
			snprintf(list, sizeof(list), "%s", v);
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (!strcmp(tok, "partition"))
					o->nemesis |= 1u << NEMESIS_PARTITION;
				else if (!strcmp(tok, "kill"))
					o->nemesis |= 1u << NEMESIS_KILL;
				else if (!strcmp(tok, "pause"))
					o->nemesis |= 1u << NEMESIS_PAUSE;
				else
					return report_usage("maelstrom: --nemesis: \"%s\" is not a "
							    "fault; known: partition, kill, pause",
							    tok);
			}
			if (!o->nemesis)
				return report_usage("maelstrom: --nemesis needs partition, kill or "
						    "pause");
			snprintf(o->nemesis_text, sizeof(o->nemesis_text), "%s", v);
			i++;
		} else if (!strcmp(a, "--nemesis-interval")) {
			if (parse_number(a, v, 0.1, 86400, &o->nemesis_interval))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--latency-dist")) {
			if (!v || (strcmp(v, "constant") && strcmp(v, "uniform") &&
				   strcmp(v, "normal") && strcmp(v, "exponential")))
				return report_usage("maelstrom: --latency-dist \"%s\": constant, "
						    "uniform, normal or exponential",
						    v ? v : "");
			o->latency_dist = v;
			i++;
		} else if (!strcmp(a, "--final-wait")) {
			if (parse_number(a, v, 0, 3600, &o->final_wait))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--timeout")) {
			if (parse_number(a, v, 0.01, 600, &o->timeout_s))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--topology")) {
			if (!v || (strcmp(v, "grid") && strcmp(v, "line") && strcmp(v, "total") &&
				   strcmp(v, "tree2") && strcmp(v, "tree3") && strcmp(v, "tree4")))
				return report_usage(
					"maelstrom: --topology \"%s\": grid, line, total, "
					"tree2, tree3 or tree4",
					v ? v : "");
			o->topology = v;
			i++;
		} else if (!strcmp(a, "--availability")) {
			if (v && !strcmp(v, "total"))
				o->availability_total = true;
			else if (!v || strcmp(v, "0"))
				return report_usage("maelstrom: --availability \"%s\": total",
						    v ? v : "");
			i++;
		} else if (!strcmp(a, "--seed")) {
			if (parse_whole(a, v, 0, 1000000000000000000ULL, &whole))
				return EXIT_USAGE;
			o->seed = whole;
			o->has_seed = true;
			i++;
		} else if (!strcmp(a, "--consistency-models")) {
			char list[sizeof(o->models_text)], *save = NULL, *m;

			if (!v || strlen(v) >= sizeof(list))
				return report_usage("maelstrom: --consistency-models needs a "
						    "comma-separated list of: " MODELS);
			snprintf(list, sizeof(list), "%s", v);
			o->models = 0;
			for (m = strtok_r(list, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
				int model = txn_model_parse(m);

				if (model < 0)
					return report_usage("maelstrom: consistency model \"%s\": "
							    "one of " MODELS,
							    m);
				o->models |= 1u << model;
			}
			if (!o->models)
				return report_usage("maelstrom: --consistency-models needs a "
						    "comma-separated list of: " MODELS);
			snprintf(o->models_text, sizeof(o->models_text), "%s", v);
			i++;
		} else if (!strcmp(a, "--log-stderr")) {
			o->log_stderr = true;
		} else if (!strcmp(a, "--keep")) {
			o->keep = true;
		} else {
			return report_usage(
				"maelstrom: unknown option \"%s\" (capnet maelstrom test "
				"--help)",
				a);
		}
	}
	if ((int)o->workload < 0)
		return report_usage("maelstrom: which workload? -w, one of " WORKLOADS);
	if (!o->argv || !o->argv[0])
		return report_usage("maelstrom: which node program? --bin PROGRAM");
	o->concurrency = o->nodes;
	if (concurrency && parse_concurrency(concurrency, o->nodes, &o->concurrency))
		return EXIT_USAGE;
	return 0;
}
