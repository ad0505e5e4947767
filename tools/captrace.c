// SPDX-License-Identifier: GPL-2.0-only
/* captrace: capture every node of a lab, then tell exactly which messages were lost, when,
 * where and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/captrace_cli.h"

static const struct {
	const char *name;
	int (*run)(struct captrace_cli *cli, int argc, char **argv);
	const char *args;
	const char *help;
} commands[] = {
	{ "record", captrace_record, "-o DIR [--duration S]",
	  "capture every node, drop events and partitions until ^C or S seconds" },
	{ "report", captrace_report, "DIR [--json] [--svg F] [--html F]",
	  "pair sends with arrivals; list every lost message and why" },
	{ "decode", captrace_decode, "FILE.pcap [--json]", "print the capnet messages of a pcap" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: captrace [--lab NAME] [--json] [-v] COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-7s %-35s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(out, "\n--lab defaults to $CAPNET_LAB, else \"capnet\". -v prints the read rate.\n"
		     "Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	struct captrace_cli cli = { .lab = getenv("CAPNET_LAB") };
	int i;
	size_t c;

	if (!cli.lab || !*cli.lab)
		cli.lab = "capnet";
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--lab") || !strcmp(argv[i], "-l")) {
			if (++i >= argc)
				return ct_usage("--lab needs a name");
			cli.lab = argv[i];
		} else if (!strncmp(argv[i], "--lab=", 6)) {
			cli.lab = argv[i] + 6;
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			cli.json = true;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			cli.verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return CT_OK;
		} else {
			return ct_usage("unknown option %s (captrace --help lists them)", argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CT_USAGE;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(&cli, argc - i - 1, argv + i + 1);
	return ct_usage("unknown command \"%s\" (captrace --help lists them)", argv[i]);
}
