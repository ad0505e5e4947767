// SPDX-License-Identifier: GPL-2.0-only
/* captrace: capture every node of a lab, then tell exactly which messages were lost, when,
 * where and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report.h"
#include "lib/options.h"
#include "tools/captrace/captrace_cli.h"

static const struct {
	const char *name;
	int (*run)(struct captrace_cli *cli, int argc, char **argv);
	const char *args;
	const char *help;
} commands[] = {
	{ "record", captrace_record, "-o DIR [--duration S]",
	  "capture every node, drop events and partitions until ^C or S seconds" },
	{ "report", captrace_report, "DIR [--json] [--svg F] [--html F] [--port P=NAME,...]",
	  "pair sends with arrivals; list every lost message and why" },
	{ "decode", captrace_decode, "FILE.pcap [--json]", "print the capnet messages of a pcap" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: captrace [--lab NAME] [--json] [-v] [-q] COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-7s %-35s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(out, "\n--lab defaults to $CAPNET_LAB, else \"capnet\". -v prints the read rate.\n"
		     "Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	struct captrace_cli cli;
	struct global_opts g;
	char err[128];
	int i, rc;
	size_t c;

	report_set_program("captrace");
	rc = options_parse_globals(argc, argv, false, NULL, &g, &i, err, sizeof(err));
	if (rc < 0)
		return report_usage(
			"%s%s", err,
			strncmp(err, "unknown option", 14) ? "" : " (captrace --help lists them)");
	if (rc == OPTIONS_VERSION) {
		printf("captrace %s\n", CAPNET_VERSION);
		return EXIT_OK;
	}
	if (rc != OPTIONS_OK) {
		usage(stdout);
		return EXIT_OK;
	}
	cli = (struct captrace_cli){
		.lab = g.lab, .json = g.json, .verbose = g.verbose, .quiet = g.quiet
	};
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(&cli, argc - i - 1, argv + i + 1);
	return report_usage("unknown command \"%s\" (captrace --help lists them)", argv[i]);
}
