// SPDX-License-Identifier: GPL-2.0-only
/* capctl's global options: the shared ones (lib/options.h) and its own, from one table so the
 * usage text and the parser never disagree. */
#include "lib/report.h"
#include "tools/capctl/capctl.h"
#include "lib/options.h"
#include "node/proto.h"
#include "tools/capctl/client.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LAB "capnet"
#define DEFAULT_TIMEOUT_MS 1000

struct capctl_opts capctl_opts;

static int parse_long(const char *opt, const char *arg, long min, long max, long *out, char *err,
		      size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		snprintf(err, errlen, "%s expects an integer from %ld to %ld, not \"%.40s\"", opt,
			 min, max, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int set_node(const char *opt, const char *arg, char *err, size_t errlen)
{
	long v;
	int ret = parse_long(opt, arg, 1, 1000, &v, err, errlen);

	if (!ret)
		capctl_opts.node = v;
	return ret;
}

static int set_timeout(const char *opt, const char *arg, char *err, size_t errlen)
{
	return parse_long(opt, arg, 1, INT_MAX, &capctl_opts.timeout_ms, err, errlen);
}

static int set_consistency(const char *opt, const char *arg, char *err, size_t errlen)
{
	int c = proto_consistency_parse(arg);

	if (c < 0 || c == CONSISTENCY_DEFAULT) {
		snprintf(err, errlen, "%s expects one, quorum or all, not \"%.40s\"", opt, arg);
		return -EINVAL;
	}
	capctl_opts.consistency = c;
	return 0;
}

static int set_history(const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg) {
		snprintf(err, errlen, "%s needs a path", opt);
		return -EINVAL;
	}
	capctl_opts.history = arg;
	return 0;
}

static int set_process(const char *opt, const char *arg, char *err, size_t errlen)
{
	long v;
	int ret = parse_long(opt, arg, 0, INT_MAX, &v, err, errlen);

	if (!ret)
		capctl_opts.process = v;
	return ret;
}

static int set_key_file(const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg) {
		snprintf(err, errlen, "%s needs a path", opt);
		return -EINVAL;
	}
	client_key_file(arg);
	return 0;
}

/* capctl's own global options, beside the shared ones (lib/options.h). */
static const struct own_opt {
	const char *name;
	const char *arg;
	int (*set)(const char *opt, const char *arg, char *err, size_t errlen);
	const char *help;
} own_opts[] = {
	{ "-n", "I", set_node, "node to talk to (1..1000)" },
	{ "--timeout", "MS", set_timeout, "give up on a request after MS milliseconds" },
	{ "--consistency", "C", set_consistency,
	  "AP mode: one, quorum (default) or all replicas must answer" },
	{ "--key-file", "F", set_key_file,
	  "the cluster's key, - for standard input (default: the one capnet start made for "
	  "the lab)" },
	{ "--history", "FILE", set_history,
	  "get, put and cas append their invoke and outcome to FILE, - for standard output "
	  "(docs/history-format.md)" },
	{ "--process", "P", set_process, "the process number --history records (default 0)" },
};

#define N_OWN_OPTS (sizeof(own_opts) / sizeof(own_opts[0]))

void capctl_print_globals_usage(void)
{
	static const char *const shared[][2] = {
		{ "--lab NAME", "lab to work in (default $CAPNET_LAB or " DEFAULT_LAB ")" },
		{ "--json", "print results as JSON" },
		{ "-v", "say more" },
		{ "-q, --quiet", "no progress line on a terminal" },
	};
	char left[32];
	size_t i;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		fprintf(stderr, "  %-16s %s\n", shared[i][0], shared[i][1]);
	for (i = 0; i < N_OWN_OPTS; i++) {
		const struct own_opt *o = &own_opts[i];

		snprintf(left, sizeof(left), "%s %s", o->name, o->arg);
		fprintf(stderr, "  %-16s %s\n", left, o->help);
	}
}

static int own_option(const char *opt, const char *arg, char *err, size_t errlen)
{
	size_t k;
	int ret;

	/* Not in the usage: what the controller of a lab across hosts adds (node_host.c). */
	if (!strcmp(opt, "--on-host")) {
		capctl_opts.on_host = true;
		return 1;
	}
	for (k = 0; k < N_OWN_OPTS; k++) {
		const struct own_opt *o = &own_opts[k];

		if (strcmp(opt, o->name))
			continue;
		if (!arg) {
			snprintf(err, errlen, "%s needs %s", o->name, o->arg);
			return -EINVAL;
		}
		ret = o->set(o->name, arg, err, errlen);
		return ret ? ret : 2;
	}
	return 0;
}

int capctl_parse_globals(int argc, char **argv, int *next)
{
	struct global_opts g;
	char err[160];
	int ret;

	capctl_opts = (struct capctl_opts){ .timeout_ms = DEFAULT_TIMEOUT_MS };
	client_key_file(NULL);
	ret = options_parse_globals(argc, argv, false, own_option, &g, next, err, sizeof(err));
	if (ret < 0) {
		report_fail("%s%s", err,
			    strncmp(err, "unknown option", 14) ? "" : " (capctl help lists them)");
		return ret;
	}
	if (!*g.lab) {
		report_fail("--lab needs a name");
		return -EINVAL;
	}
	capctl_opts.lab = g.lab;
	capctl_opts.json = g.json;
	capctl_opts.verbose = g.verbose;
	capctl_opts.quiet = g.quiet;
	return 0;
}
