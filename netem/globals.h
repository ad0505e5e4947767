/* SPDX-License-Identifier: GPL-2.0-only */
/* The global options capnet and captrace share, given before the subcommand: --lab, --json,
 * -v, and (capnet's) --explain. One parser, so the programs never drift apart. */
#ifndef CAPNET_GLOBALS_H
#define CAPNET_GLOBALS_H

#include <stdbool.h>
#include <stddef.h>

struct global_opts {
	const char *lab; /* --lab, else $CAPNET_LAB, else "capnet" */
	bool json;
	bool verbose;
	bool explain;
};

enum globals_result {
	GLOBALS_OK = 0,
	GLOBALS_HELP = 1, /* -h or --help */
	GLOBALS_VERSION = 2, /* --version */
};

/* Parses argv[1..] up to the first word that is not an option; *next is its index (argc when
 * there is none). Returns a globals_result, or -EINVAL with one line in err. --explain is
 * accepted only when allow_explain. */
int globals_parse(int argc, char **argv, bool allow_explain, struct global_opts *g, int *next,
		  char *err, size_t errlen);

#endif /* CAPNET_GLOBALS_H */
