/* SPDX-License-Identifier: GPL-2.0-only */
/* What captrace's subcommands share: global options, exit codes and one-line errors. */
#ifndef CAPNET_CAPTRACE_CLI_H
#define CAPNET_CAPTRACE_CLI_H

#include <stdbool.h>

#include "lib/report.h"

struct captrace_cli {
	const char *lab;
	bool json;
	bool verbose;
	bool quiet; /* -q: no progress line */
};

/* Seconds as "2", "0.5" or "100ms", > 0. Prints the error. */
int ct_parse_seconds(const char *text, const char *what, double *seconds);

int captrace_record(struct captrace_cli *cli, int argc, char **argv);
int captrace_report(struct captrace_cli *cli, int argc, char **argv);
int captrace_decode(struct captrace_cli *cli, int argc, char **argv);

#endif /* CAPNET_CAPTRACE_CLI_H */
