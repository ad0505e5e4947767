// SPDX-License-Identifier: GPL-2.0-only
/* Global options shared by capnet, captrace and capctl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lab_name.h"
#include "lib/options.h"

int options_parse_globals(int argc, char **argv, bool allow_explain, options_own_fn own,
			  struct global_opts *g, int *next, char *err, size_t errlen)
{
	const char *env = getenv("CAPNET_LAB");
	int i, took;

	memset(g, 0, sizeof(*g));
	g->lab = env && *env ? env : "capnet";
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--lab") || !strcmp(argv[i], "-l")) {
			if (++i >= argc) {
				snprintf(err, errlen, "--lab needs a name");
				return -EINVAL;
			}
			g->lab = argv[i];
		} else if (!strncmp(argv[i], "--lab=", 6)) {
			g->lab = argv[i] + 6;
		} else if (allow_explain && !strcmp(argv[i], "--explain")) {
			g->explain = true;
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			g->json = true;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			g->verbose = true;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			g->quiet = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			*next = i;
			return OPTIONS_HELP;
		} else if (!strcmp(argv[i], "--version")) {
			*next = i;
			return OPTIONS_VERSION;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			took = own ? own(argv[i], i + 1 < argc ? argv[i + 1] : NULL, err, errlen) :
				     0;
			if (took < 0)
				return took;
			if (!took) {
				snprintf(err, errlen, "unknown option %.60s", argv[i]);
				return -EINVAL;
			}
			i += took - 1;
		}
	}
	*next = i;
	/* Every program refuses a bad lab name here, before it is used in a path. */
	if (!lab_name_valid(g->lab, err, errlen))
		return -EINVAL;
	return OPTIONS_OK;
}
