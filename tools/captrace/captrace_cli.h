/* SPDX-License-Identifier: GPL-2.0-only */
/* What captrace's subcommands share: global options, exit codes and one-line errors. */
#ifndef CAPNET_CAPTRACE_CLI_H
#define CAPNET_CAPTRACE_CLI_H

#include <stdbool.h>

/* Exit codes, as in capnet: 0 ok, 1 failure, 2 usage. */
enum { CT_OK = 0, CT_FAIL = 1, CT_USAGE = 2 };

struct captrace_cli {
	const char *lab;
	bool json;
	bool verbose;
};

/* One line on stderr, prefixed "captrace: "; they return CT_USAGE / CT_FAIL. */
int ct_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ct_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ct_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Seconds as "2", "0.5" or "100ms", > 0. Prints the error. */
int ct_parse_seconds(const char *text, const char *what, double *seconds);

int captrace_record(struct captrace_cli *cli, int argc, char **argv);
int captrace_report(struct captrace_cli *cli, int argc, char **argv);
int captrace_decode(struct captrace_cli *cli, int argc, char **argv);

#endif /* CAPNET_CAPTRACE_CLI_H */
