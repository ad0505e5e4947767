// SPDX-License-Identifier: GPL-2.0-only
/* Shared pieces of the capnet subcommands: errors, root checks, opening a lab. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/duration.h"
#include "netem/cli.h"
#include "netem/lab/lab_open.h"

int cli_need_root(const char *what)
{
	if (geteuid() == 0)
		return EXIT_OK;
	return report_fail("%s needs root (namespaces, tc and BPF): run it with sudo", what);
}

void cli_take_json(struct cli *cli, int *argc, char **argv)
{
	int i, j;

	for (i = j = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			cli->json = true;
			continue;
		}
		argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
}

int cli_open_lab(struct cli *cli, struct lab_info *info, struct filter **filter)
{
	return lab_open(cli->lab, info, filter, LAB_ANY) ? report_error(-EIO, NULL) : EXIT_OK;
}

int cli_open_whole_lab(struct cli *cli, struct lab_info *info, struct filter **filter)
{
	return lab_open(cli->lab, info, filter, LAB_WHOLE | LAB_DELAYS_APPLIED) ?
		       report_error(-EIO, NULL) :
		       EXIT_OK;
}

int cli_parse_node(const char *text, unsigned int nodes, unsigned int *node)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (!*text || *end || errno || text[0] == '-' || text[0] == '+')
		return report_usage("\"%s\" is not a node number", text);
	if (v < 1 || v > nodes)
		return report_usage("node %lu is out of range (the lab has %u nodes)", v, nodes);
	*node = v;
	return EXIT_OK;
}

int cli_parse_duration_ms(const char *text, const char *what, long *ms)
{
	uint64_t ns;

	if (duration_parse_ns(text, DURATION_BARE_SECONDS, &ns) || ns > 86400000000000ull * 365)
		return report_usage("%s: \"%s\" is not a duration (" DURATION_EXAMPLES ")", what,
				    text);
	*ms = (long)((ns + 500000) / 1000000);
	return EXIT_OK;
}
