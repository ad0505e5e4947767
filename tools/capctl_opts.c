// SPDX-License-Identifier: GPL-2.0-only
/* capctl's global options, from one table so the usage text and the parser never disagree. */
#include "tools/capctl.h"
#include "node/proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LAB "capnet"
#define DEFAULT_TIMEOUT_MS 1000

struct capctl_opts capctl_opts;

static int parse_long(const char *opt, const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "capctl: %s expects an integer from %ld to %ld, not \"%s\"\n", opt,
			min, max, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int set_lab(const char *opt, const char *arg)
{
	(void)opt;
	if (!*arg) {
		fprintf(stderr, "capctl: --lab needs a name\n");
		return -EINVAL;
	}
	capctl_opts.lab = arg;
	return 0;
}

static int set_json(const char *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	capctl_opts.json = true;
	return 0;
}

static int set_verbose(const char *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	capctl_opts.verbose++;
	return 0;
}

static int set_node(const char *opt, const char *arg)
{
	long v;
	int ret = parse_long(opt, arg, 1, 1000, &v);

	if (!ret)
		capctl_opts.node = v;
	return ret;
}

static int set_timeout(const char *opt, const char *arg)
{
	return parse_long(opt, arg, 1, INT_MAX, &capctl_opts.timeout_ms);
}

static int set_consistency(const char *opt, const char *arg)
{
	int c = proto_consistency_parse(arg);

	if (c < 0 || c == CONSISTENCY_DEFAULT) {
		fprintf(stderr, "capctl: %s expects one, quorum or all, not \"%s\"\n", opt, arg);
		return -EINVAL;
	}
	capctl_opts.consistency = c;
	return 0;
}

static const struct global_opt {
	const char *name;
	const char *arg; /* NULL for a flag */
	int (*set)(const char *opt, const char *arg);
	const char *help;
} global_opts[] = {
	{ "--lab", "NAME", set_lab, "lab to work in (default $CAPNET_LAB or " DEFAULT_LAB ")" },
	{ "--json", NULL, set_json, "print results as JSON" },
	{ "-v", NULL, set_verbose, "say more (repeat for even more)" },
	{ "-n", "I", set_node, "node to talk to (1..1000)" },
	{ "--timeout", "MS", set_timeout, "give up on a request after MS milliseconds" },
	{ "--consistency", "C", set_consistency,
	  "AP mode: one, quorum (default) or all replicas must answer" },
};

#define N_GLOBAL_OPTS (sizeof(global_opts) / sizeof(global_opts[0]))

void capctl_print_globals_usage(void)
{
	char left[32];
	size_t i;

	for (i = 0; i < N_GLOBAL_OPTS; i++) {
		const struct global_opt *o = &global_opts[i];

		snprintf(left, sizeof(left), "%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(stderr, "  %-16s %s\n", left, o->help);
	}
}

int capctl_parse_globals(int argc, char **argv, int *next)
{
	const char *env = getenv("CAPNET_LAB");
	int i = 1, ret;
	size_t k;

	capctl_opts = (struct capctl_opts){
		.lab = env && *env ? env : DEFAULT_LAB,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
	};
	while (i < argc && argv[i][0] == '-') {
		const struct global_opt *o = NULL;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			break;
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		for (k = 0; k < N_GLOBAL_OPTS; k++)
			if (!strcmp(argv[i], global_opts[k].name))
				o = &global_opts[k];
		if (!o) {
			fprintf(stderr, "capctl: unknown global option \"%s\"\n", argv[i]);
			return -EINVAL;
		}
		if (o->arg && i + 1 >= argc) {
			fprintf(stderr, "capctl: %s needs %s\n", o->name, o->arg);
			return -EINVAL;
		}
		ret = o->set(o->name, o->arg ? argv[i + 1] : NULL);
		if (ret)
			return ret;
		i += o->arg ? 2 : 1;
	}
	*next = i;
	return 0;
}
