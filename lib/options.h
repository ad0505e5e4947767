/* SPDX-License-Identifier: GPL-2.0-only */
/* The global options every capnet program shares, given before the subcommand: --lab, --json,
 * -v, -q, and (capnet's) --explain; a program adds its own (capctl's -n, --timeout, ...) through a
 * callback. One parser, so the programs never drift apart. */
#ifndef CAPNET_OPTIONS_H
#define CAPNET_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* The version every capnet program prints for --version. */
#define CAPNET_VERSION "0.1.0"

struct global_opts {
	const char *lab; /* --lab, else $CAPNET_LAB, else "capnet" */
	bool json;
	bool verbose;
	bool explain;
	bool quiet; /* -q, --quiet: no progress line on a terminal */
};

enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_HELP = 1, /* -h or --help */
	OPTIONS_VERSION = 2, /* --version */
};

/* A program's own global options: called for each option word the shared parser does not know,
 * with the word after it (NULL at the end). Returns how many words it took (1 for a flag, 2 with
 * an argument), 0 if the option is not one of its own, or -EINVAL with one line in err. */
typedef int (*options_own_fn)(const char *opt, const char *arg, char *err, size_t errlen);

/* Parses argv[1..] up to the first word that is not an option, or past "--"; *next is the
 * subcommand's index (argc when there is none). Returns a globals_result, or -EINVAL with one
 * line in err. --explain is accepted only when allow_explain; own may be NULL. */
int options_parse_globals(int argc, char **argv, bool allow_explain, options_own_fn own,
			  struct global_opts *g, int *next, char *err, size_t errlen);

#endif /* CAPNET_OPTIONS_H */
