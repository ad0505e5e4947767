// SPDX-License-Identifier: GPL-2.0-only
/* capctl history export: a capnet history (or an EDN one) written as Jepsen's EDN, with the
 * faults of the run that made it as :nemesis operations, so Jepsen's tools read it and shade
 * the fault windows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "netem/script/scenario.h"
#include "tools/capctl/capctl.h"
#include "tools/check/history.h"
#include "tools/check/history_edn.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: capctl history export [--format edn] [--faults FILE] HISTORY\n"
		"  writes HISTORY as Jepsen's EDN on standard output: one map per line, :type :f\n"
		"  :value :process :time :index, a value [k v] (jepsen.independent), a cas\n"
		"  [k [old new]]. The faults of the capnet run that wrote HISTORY (H.faults.jsonl\n"
		"  beside H.jsonl, or --faults FILE) become :nemesis :info operations.\n");
}

void faults_free(struct faults *fs)
{
	for (size_t i = 0; i < 2 * fs->n; i++)
		free(fs->texts[i]);
	free(fs->texts);
	free(fs->items);
}

/* {"time":N,"f":"partition","value":"1 | 2-5"} per line. */
int read_faults(const char *path, struct faults *fs)
{
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	memset(fs, 0, sizeof(*fs));
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		char fname[64], value[1024];
		uint64_t t;
		void *p;

		lineno++;
		if (json_text_u64(line, "time", &t) ||
		    json_text_str(line, "f", fname, sizeof(fname)) ||
		    json_text_str(line, "value", value, sizeof(value))) {
			fprintf(stderr,
				"capctl history: %s:%ld: not a fault line ({\"time\":N,\"f\":..."
				",\"value\":...})\n",
				path, lineno);
			free(line);
			fclose(f);
			return -EINVAL;
		}
		p = realloc(fs->items, (fs->n + 1) * sizeof(*fs->items));
		if (!p)
			break;
		fs->items = p;
		p = realloc(fs->texts, 2 * (fs->n + 1) * sizeof(*fs->texts));
		if (!p)
			break;
		fs->texts = p;
		fs->texts[2 * fs->n] = strdup(fname);
		fs->texts[2 * fs->n + 1] = strdup(value);
		fs->items[fs->n] = (struct history_fault){ .time = t,
							   .f = fs->texts[2 * fs->n],
							   .value = fs->texts[2 * fs->n + 1] };
		fs->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

int capctl_history_main(int argc, char **argv)
{
	const char *path = NULL, *faults_path = NULL, *format = "edn";
	char derived[4096];
	struct history_error e = { 0 };
	struct faults fs = { 0 };
	struct history h;
	FILE *f;
	int rc, i;

	if (argc < 2 || strcmp(argv[1], "export")) {
		usage();
		return CAPCTL_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--faults") && i + 1 < argc)
			faults_path = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return CAPCTL_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr,
				"capctl history: unknown option %s (capctl history --help)\n",
				argv[i]);
			return CAPCTL_USAGE;
		} else if (path) {
			fprintf(stderr, "capctl history: one history please\n");
			return CAPCTL_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (strcmp(format, "edn")) {
		fprintf(stderr,
			"capctl history: --format \"%s\": edn is the one format to export to\n",
			format);
		return CAPCTL_USAGE;
	}
	if (!path) {
		fprintf(stderr, "capctl history: which history? (capctl history export H.jsonl)\n");
		return CAPCTL_USAGE;
	}
	if (!faults_path) {
		scenario_faults_path(path, derived, sizeof(derived));
		if (!access(derived, R_OK))
			faults_path = derived;
	}
	if (faults_path) {
		rc = read_faults(faults_path, &fs);
		if (rc) {
			if (rc != -EINVAL)
				fprintf(stderr, "capctl history: %s: %s\n", faults_path,
					strerror(-rc));
			return CAPCTL_USAGE;
		}
	}
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "capctl history: %s: %s\n", path, strerror(errno));
		faults_free(&fs);
		return CAPCTL_USAGE;
	}
	history_init(&h);
	rc = history_read_any(&h, f, &e);
	if (f != stdin)
		fclose(f);
	if (!rc && !h.n_events) {
		e.line = 0;
		snprintf(e.msg, sizeof(e.msg), "no operations");
		rc = -EINVAL;
	}
	if (rc == -EINVAL)
		fprintf(stderr, "%s:%ld: %s\n", path, e.line, e.msg);
	else if (rc)
		fprintf(stderr, "capctl history: %s: %s\n", path, strerror(-rc));
	if (!rc) {
		rc = history_write_edn(stdout, &h, fs.items, fs.n, &e);
		if (rc == -EINVAL)
			fprintf(stderr, "%s:%ld: %s\n", path, e.line, e.msg);
	}
	if (!rc && fflush(stdout))
		rc = -errno;
	history_free(&h);
	faults_free(&fs);
	return rc ? CAPCTL_USAGE : CAPCTL_OK;
}
