// SPDX-License-Identifier: GPL-2.0-only
/* capctl: the client of a capnet lab's nodes and the checker of what they answered. Global
 * options first, then one subcommand from the table below. */
#include "lib/report.h"
#include "tools/capctl/capctl.h"
#include "lib/options.h"
#include "tools/capctl/node_host.h"

#include <stdio.h>
#include <string.h>

static const struct capctl_cmd {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *args;
	const char *help;
	bool on_node; /* a request to node -n: on another host of the lab, run there */
} cmds[] = {
	{ "get", capctl_get_main, "KEY", "read a key (exit 0 ok, 3 unavailable, 4 unknown)", true },
	{ "put", capctl_put_main, "KEY VALUE", "write a key", true },
	{ "cas", capctl_cas_main, "KEY EXPECTED NEW", "compare and set a key", true },
	{ "open", capctl_open_main, "ACCOUNT AMOUNT", "open a bank account with a balance", true },
	{ "transfer", capctl_transfer_main, "FROM TO AMOUNT", "move money between accounts", true },
	{ "balance", capctl_balance_main, "[ACCOUNT]", "an account's balance, or the whole bank",
	  true },
	{ "status", capctl_status_main, "", "the node's role, term, leader, log and reachability",
	  true },
	{ "load", capctl_load_main,
	  "[--nodes LIST] --history FILE [--client capnode|redis|etcd|exec] [--workload "
	  "register|bank|set|append] ...",
	  "run concurrent clients and record a history (capctl load --help)" },
	{ "check", capctl_check_main,
	  "--model register|bank|set|append [--mode cp|ap] [--memory-limit MB] HISTORY",
	  "check a history (capnet's JSON lines, or Jepsen's EDN) for consistency (exit 0 valid, "
	  "1 violation, 2 error)" },
	{ "history", capctl_history_main, "export [--format edn] [--faults FILE] HISTORY",
	  "write a history as Jepsen's EDN, the run's faults as :nemesis operations" },
	{ "report", capctl_report_main,
	  "HISTORY [--model M] [--faults FILE] [--html FILE] [--svg-dir DIR]",
	  "latency by outcome per f, throughput and the run's faults as bands, as SVG or HTML" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: capctl [GLOBAL OPTIONS] COMMAND [ARGS]\n\nglobal options:\n");
	capctl_print_globals_usage();
	fprintf(stderr, "\ncommands:\n");
	for (i = 0; i < N_CMDS; i++)
		fprintf(stderr, "  %s %s\n      %s\n", cmds[i].name, cmds[i].args, cmds[i].help);
}

int main(int argc, char **argv)
{
	int next;
	size_t i;

	report_set_program("capctl");
	if (capctl_parse_globals(argc, argv, &next))
		return CAPCTL_USAGE;
	if (next >= argc) {
		usage();
		return CAPCTL_USAGE;
	}
	if (!strcmp(argv[next], "help") || !strcmp(argv[next], "-h") ||
	    !strcmp(argv[next], "--help")) {
		usage();
		return CAPCTL_OK;
	}
	if (!strcmp(argv[next], "--version")) {
		printf("capctl %s\n", CAPNET_VERSION);
		return CAPCTL_OK;
	}
	for (i = 0; i < N_CMDS; i++) {
		int rc;

		if (strcmp(argv[next], cmds[i].name))
			continue;
		if (cmds[i].on_node && node_host_run(argc - next, argv + next, &rc))
			return rc;
		return cmds[i].main(argc - next, argv + next);
	}
	report_usage("unknown command \"%s\" (try capctl help)", argv[next]);
	return CAPCTL_USAGE;
}
