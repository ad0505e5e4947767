// SPDX-License-Identifier: GPL-2.0-only
/* capctl history export: a capnet history (or an EDN one) written as Jepsen's EDN, with the
 * faults of the run that made it as :nemesis operations, so Jepsen's tools read it and shade
 * the fault windows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/report.h"
#include "lib/json.h"
#include "netem/lab/fault_log.h"
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
		"  [k [old new]]. The faults (--faults FILE, else H.faults.jsonl beside H.jsonl,\n"
		"  else the lab's fault log) become :nemesis :info operations.\n");
}

void faults_free(struct faults *fs)
{
	for (size_t i = 0; i < 2 * fs->n; i++)
		free(fs->texts[i]);
	free(fs->texts);
	free(fs->items);
}

/* A fault's time: seconds with a fraction, as capnet writes it, or, in files of older capnets,
 * whole nanoseconds. */
static bool fault_time_ns(const struct json_value *v, uint64_t *ns)
{
	char *end;
	double s;

	if (!v || v->kind != JSON_NUMBER || v->str[0] == '-')
		return false;
	if (!strpbrk(v->str, ".eE"))
		return json_is_u64(v, ns);
	s = strtod(v->str, &end);
	if (*end || !(s >= 0 && s < 1.8e10))
		return false;
	*ns = (uint64_t)(s * 1e9 + 0.5);
	return true;
}

static int faults_add(struct faults *fs, uint64_t t, const char *f, const char *value)
{
	void *p = realloc(fs->items, (fs->n + 1) * sizeof(*fs->items));

	if (!p)
		return -ENOMEM;
	fs->items = p;
	p = realloc(fs->texts, 2 * (fs->n + 1) * sizeof(*fs->texts));
	if (!p)
		return -ENOMEM;
	fs->texts = p;
	fs->texts[2 * fs->n] = strdup(f);
	fs->texts[2 * fs->n + 1] = strdup(value);
	if (!fs->texts[2 * fs->n] || !fs->texts[2 * fs->n + 1]) {
		fs->n++;
		return -ENOMEM;
	}
	fs->items[fs->n] = (struct history_fault){ .time = t,
						   .f = fs->texts[2 * fs->n],
						   .value = fs->texts[2 * fs->n + 1] };
	fs->n++;
	return 0;
}

/* {"time":S.FRACTION,"f":"partition","value":"1 | 2-5",...} per line. */
int read_faults(const char *path, struct faults *fs)
{
	char *line = NULL, fname[64], value[1024];
	size_t cap = 0;
	long lineno = 0;
	ssize_t n;
	int err = 0;
	FILE *f = fopen(path, "r");

	memset(fs, 0, sizeof(*fs));
	if (!f)
		return -errno;
	while (!err && (n = getline(&line, &cap, f)) > 0) {
		struct json_value v;
		uint64_t t = 0;
		bool ok;

		lineno++;
		if (!json_parse(line, n, JSON_MAX_DEPTH_ANY, &v, NULL)) {
			ok = v.kind == JSON_OBJECT && fault_time_ns(json_member(&v, "time"), &t) &&
			     !json_copy_string(json_member(&v, "f"), fname, sizeof(fname)) &&
			     !json_copy_string(json_member(&v, "value"), value, sizeof(value));
			json_value_free(&v);
		} else {
			ok = false;
		}
		if (!ok) {
			report_warn("%s:%ld: not a fault line ({\"time\":SECONDS,\"f\":...,"
				    "\"value\":...})",
				    path, lineno);
			err = -EINVAL;
		} else {
			err = faults_add(fs, t, fname, value);
		}
	}
	free(line);
	fclose(f);
	return err;
}

bool fault_ends_one(const char *f)
{
	return !strcmp(f, "heal") || !strcmp(f, "start") || !strcmp(f, "resume") ||
	       !strcmp(f, "restart");
}

/* The lab's log holds every experiment on the lab: only what was in force while the history
 * ran belongs to it, the state at its start included. */
static int faults_clip(struct faults *fs, uint64_t from, uint64_t to)
{
	struct faults kept = { 0 };
	size_t i, before = SIZE_MAX;
	int err = 0;

	for (i = 0; i < fs->n; i++)
		if (fs->items[i].time < from)
			before = i;
	/* What ended a fault before the start leaves nothing in force. */
	if (before != SIZE_MAX && fault_ends_one(fs->items[before].f))
		before = SIZE_MAX;
	for (i = 0; i < fs->n && !err; i++)
		if (i == before || (fs->items[i].time >= from && fs->items[i].time <= to))
			err = faults_add(&kept, i == before ? from : fs->items[i].time,
					 fs->items[i].f, fs->items[i].value);
	faults_free(fs);
	*fs = kept;
	return err;
}

int faults_for_history(const char *history, const char *given, uint64_t from, uint64_t to,
		       struct faults *fs, char *used, size_t len)
{
	int err;

	memset(fs, 0, sizeof(*fs));
	used[0] = 0;
	if (given) {
		snprintf(used, len, "%s", given);
		return read_faults(given, fs);
	}
	scenario_faults_path(history, used, len);
	if (!access(used, R_OK))
		return read_faults(used, fs);
	fault_log_path(capctl_opts.lab, used, len);
	if (access(used, R_OK)) {
		used[0] = 0;
		return 0;
	}
	err = read_faults(used, fs);
	return err ? err : faults_clip(fs, from, to);
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

	report_set_program("capctl history");
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
			report_usage("unknown option %s (capctl history --help)", argv[i]);
			return CAPCTL_USAGE;
		} else if (path) {
			report_usage("one history please");
			return CAPCTL_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (strcmp(format, "edn")) {
		report_usage("--format \"%s\": edn is the one format to export to", format);
		return CAPCTL_USAGE;
	}
	if (!path) {
		report_usage("which history? (capctl history export H.jsonl)");
		return CAPCTL_USAGE;
	}
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		report_usage("%s: %s", path, strerror(errno));
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
		report_warn("%s: %s", path, strerror(-rc));
	if (!rc) {
		uint64_t from = UINT64_MAX, to = 0;

		for (size_t k = 0; k < h.n_events; k++) {
			from = h.events[k].time < from ? h.events[k].time : from;
			to = h.events[k].time > to ? h.events[k].time : to;
		}
		rc = faults_for_history(path, faults_path, from, to, &fs, derived, sizeof(derived));
		if (rc && rc != -EINVAL)
			report_warn("%s: %s", derived, strerror(-rc));
		if (rc) {
			history_free(&h);
			faults_free(&fs);
			return CAPCTL_USAGE;
		}
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
