// SPDX-License-Identifier: GPL-2.0-only
/* capnet run SCENARIO: plays a timed script against a lab and ends with a verdict. Each step
 * runs as its own process (capnet, capctl, captrace), so a step's output and exit status are
 * exactly what a person typing it would see. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/monotonic.h"
#include "lib/progress.h"
#include "netem/cli.h"
#include "netem/lab/fault_log.h"
#include "netem/script/nemesis.h"
#include "netem/script/scenario.h"

#define MAX_LOADS 16

static struct scenario scenario;

/* A sibling program: capctl or captrace, beside this capnet, else from PATH. */
static void sibling(const char *name, char *buf, size_t len)
{
	char self[PATH_MAX - 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, len, "%s/%s", self, name);
			if (!access(buf, X_OK))
				return;
		}
	}
	snprintf(buf, len, "%s", name);
}

/* Runs prog --lab LAB [pre...] argv... ; background: returns the pid, else the exit status. */
static int spawn(const char *prog, const char *lab, const char *const *pre, int argc,
		 char *const *argv, bool background)
{
	char path[PATH_MAX], *args[2 * SCENARIO_MAX_ARGS + 8];
	int n = 0, i, status;
	pid_t pid;

	sibling(prog, path, sizeof(path));
	args[n++] = path;
	args[n++] = "--lab";
	args[n++] = (char *)lab;
	for (i = 0; pre && pre[i]; i++)
		args[n++] = (char *)pre[i];
	for (i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(path, args);
		fprintf(stderr, "capnet: run: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (background)
		return pid;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct run {
	const char *lab;
	struct progress line; /* on a terminal: where the run is while it waits */
	double start;
	uint64_t origin_ns; /* CLOCK_MONOTONIC at the start: the histories' and faults' 0 */
	FILE *faults[MAX_LOADS]; /* beside each load's history */
	unsigned int nfaults;
	off_t fault_log_at; /* in the lab's fault log: where this run's lines not yet copied start */
	pid_t loads[MAX_LOADS];
	unsigned int nloads;
	double loads_end; /* when the last load started so far ends, by its --duration */
	unsigned int nodes;
	const char *script; /* the scenario file */
	unsigned int failed_line;
	char failure[256];
};

static int fail_step(struct run *r, const struct scenario_step *st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_step(struct run *r, const struct scenario_step *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->failure, sizeof(r->failure), fmt, ap);
	va_end(ap);
	r->failed_line = st->line;
	printf("  FAILED: %s\n", r->failure);
	fflush(stdout);
	return -1;
}

static int wait_loads(struct run *r, const struct scenario_step *st)
{
	unsigned int i;
	int status, bad = 0;

	for (i = 0; i < r->nloads; i++) {
		while (waitpid(r->loads[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	r->nloads = 0;
	if (bad)
		return fail_step(r, st, "%d load%s or recording%s failed (see the output above)",
				 bad, bad == 1 ? "" : "s", bad == 1 ? "" : "s");
	return 0;
}

/* A write through the node: expect-ok wants it accepted, expect-unavailable refused. */
static int expect(struct run *r, const struct scenario_step *st, bool want_ok)
{
	static const char *const pre[] = { "--timeout", "3000", "-n", NULL, NULL };
	char value[32], *argv[4] = { "put", "scenario-probe", value, NULL };
	const char *args[5];
	int rc;

	memcpy(args, pre, sizeof(args));
	args[3] = st->argv[1];
	snprintf(value, sizeof(value), "line-%u", st->line);
	rc = spawn("capctl", r->lab, args, 3, argv, false);
	if (want_ok && rc != 0)
		return fail_step(r, st, "a write through node %s was not accepted (capctl exit %d)",
				 st->argv[1], rc);
	if (!want_ok && rc != 3)
		return fail_step(r, st,
				 "a write through node %s was not refused as unavailable (capctl "
				 "exit %d)",
				 st->argv[1], rc);
	return 0;
}

/* Every fault (and heal) the run makes, beside each history, on the histories' clock: what
 * capctl history export turns into Jepsen's :nemesis operations. */
static void open_faults(struct run *r)
{
	char path[PATH_MAX];

	for (unsigned int i = 0; i < scenario.nsteps && r->nfaults < MAX_LOADS; i++) {
		const char *h = scenario_load_history(&scenario.steps[i]);
		FILE *f;

		if (!h)
			continue;
		scenario_faults_path(h, path, sizeof(path));
		f = fopen(path, "w");
		if (!f) {
			report_warn("run: %s: %s (the faults of this run are not recorded)", path,
				    strerror(errno));
			continue;
		}
		r->faults[r->nfaults++] = f;
	}
}

/* The lines the run's commands appended to the lab's fault log, beside each history on its
 * clock: the same lines, naming the nodes whatever the command said (a preset, a seed). */
static void copy_faults(struct run *r)
{
	int err = fault_log_copy(r->lab, &r->fault_log_at, r->origin_ns, r->faults, r->nfaults);

	if (err)
		report_warn("run: read the fault log of lab %s: %s", r->lab, strerror(-err));
}

/* Where the drawn schedule goes: beside the first load's history (h.jsonl -> h.nemesis.run),
 * else beside the scenario (s.run -> s.nemesis.run). */
static void schedule_path(const struct run *r, char *buf, size_t len)
{
	const char *base = r->script;
	size_t n;

	for (unsigned int i = 0; i < scenario.nsteps; i++)
		if (scenario_load_history(&scenario.steps[i])) {
			base = scenario_load_history(&scenario.steps[i]);
			break;
		}
	if (!strcmp(base, "-"))
		base = "capnet";
	n = strlen(base);
	if (n > 6 && !strcmp(base + n - 6, ".jsonl"))
		n -= 6;
	else if (n > 4 && !strcmp(base + n - 4, ".run"))
		n -= 4;
	snprintf(buf, len, "%.*s.nemesis.run", (int)n, base);
}

/* Draws the schedule, writes it out as a script, and plays it, each step a capnet command at
 * its time; the lines after it run once it has healed everything. */
static int play_nemesis(struct run *r, const struct scenario_step *st)
{
	static struct nemesis_step steps[4096];
	struct nemesis_plan plan;
	char err[256], path[PATH_MAX];
	/* The faults count from the line's planned time when it has one (`at 5s nemesis ...`),
	 * else from the line's own start: the schedule written is then the same for the same seed
	 * however late a busy machine ran the line. */
	long base_ms = st->at_ms >= 0 ? st->at_ms : 0;
	double begin = st->at_ms >= 0 ? r->start + st->at_ms / 1000.0 : monotonic_s();
	size_t n;
	FILE *f;

	if (nemesis_parse(st->argc - 1, st->argv + 1, &plan, err, sizeof(err)))
		return fail_step(r, st, "%s", err);
	if (!plan.has_seed) {
		/* A seed of its own, printed and written: the run can be drawn again with it. */
		plan.seed = (monotonic_ns() ^ (uint64_t)getpid() << 32) % 1000000000000ull;
		plan.has_seed = 1;
	}
	if (plan.duration_ms < 0) {
		if (r->loads_end <= begin)
			return fail_step(r, st,
					 "nemesis: no --duration, and no load with a --duration "
					 "runs to take it from");
		plan.duration_ms = (long)((r->loads_end - begin) * 1000);
	}
	if (nemesis_schedule(&plan, r->nodes, steps, sizeof(steps) / sizeof(steps[0]), &n, err,
			     sizeof(err)))
		return fail_step(r, st, "%s", err[0] ? err : "nemesis: too many faults to draw");
	schedule_path(r, path, sizeof(path));
	f = fopen(path, "w");
	if (!f)
		return fail_step(r, st, "nemesis: write the schedule to %s: %s", path,
				 strerror(errno));
	fprintf(f,
		"# capnet nemesis, line %u of %s: seed %llu, %ld ms, a fault every other %ld ms, "
		"on %u nodes\n# capnet run this file to play the same faults at the same offsets "
		"(%s)\n",
		st->line, r->script, (unsigned long long)plan.seed, plan.duration_ms,
		plan.interval_ms, r->nodes,
		st->at_ms >= 0 ? "from the start of the run" :
				 "from the start of the nemesis line");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "at %ld.%03lds %s\n", (base_ms + steps[i].at_ms) / 1000,
			(base_ms + steps[i].at_ms) % 1000, steps[i].command);
	fclose(f);
	printf("  nemesis: seed %llu, %zu faults over %.1f s, the schedule in %s\n",
	       (unsigned long long)plan.seed, n / 2, plan.duration_ms / 1000.0, path);
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		struct scenario_step step = { .line = st->line, .action = SCENARIO_CAPNET };
		char words[NEMESIS_COMMAND_MAX], *save = NULL, *w;
		double wait = begin + steps[i].at_ms / 1000.0 - monotonic_s();
		int rc;

		snprintf(words, sizeof(words), "%s", steps[i].command);
		for (w = strtok_r(words, " ", &save); w && step.argc < SCENARIO_MAX_ARGS;
		     w = strtok_r(NULL, " ", &save))
			step.argv[step.argc++] = w;
		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
		printf("[%7.2fs] nemesis: %s\n", monotonic_s() - r->start, steps[i].command);
		fflush(stdout);
		rc = spawn("capnet", r->lab, NULL, step.argc, step.argv, false);
		copy_faults(r);
		if (rc) {
			/* Nothing of it stays in force. */
			char *heal[] = { "heal", "--delays", NULL };

			spawn("capnet", r->lab, NULL, 2, heal, false);
			return fail_step(r, st, "nemesis: capnet %s exited with %d",
					 steps[i].command, rc);
		}
	}
	return 0;
}

/* capctl check --model MODEL HISTORY of a check or expect-violation line: its exit status. */
static int run_check(struct run *r, const struct scenario_step *st)
{
	static const char *const check_pre[] = { NULL };
	char *check_argv[] = { "check", "--model", st->argv[1], st->argv[2], NULL };

	return spawn("capctl", r->lab, check_pre, 4, check_argv, false);
}

static int play(struct run *r, const struct scenario_step *st)
{
	int rc;

	switch (st->action) {
	case SCENARIO_CAPNET:
		rc = spawn("capnet", r->lab, NULL, st->argc, st->argv, false);
		return rc ? fail_step(r, st, "capnet %s exited with %d", st->argv[0], rc) : 0;
	case SCENARIO_LOAD:
		if (r->nloads == MAX_LOADS)
			return fail_step(r, st, "more than %d loads at once", MAX_LOADS);
		/* One progress line on the terminal: the run's, not each load's as well. */
		rc = spawn("capctl", r->lab, (const char *const[]){ "-q", NULL }, st->argc,
			   st->argv, true);
		if (rc < 0)
			return fail_step(r, st, "start the load: %s", strerror(-rc));
		r->loads[r->nloads++] = rc;
		for (int k = 1; k + 1 < st->argc; k++)
			if (!strcmp(st->argv[k], "--duration") &&
			    scenario_parse_time(st->argv[k + 1]) > 0 &&
			    monotonic_s() + scenario_parse_time(st->argv[k + 1]) / 1000.0 >
				    r->loads_end)
				r->loads_end = monotonic_s() +
					       scenario_parse_time(st->argv[k + 1]) / 1000.0;
		return 0;
	case SCENARIO_NEMESIS:
		return play_nemesis(r, st);
	case SCENARIO_WAIT:
		return wait_loads(r, st);
	case SCENARIO_SLEEP:
		usleep(st->sleep_ms * 1000);
		return 0;
	case SCENARIO_EXPECT_VIOLATION:
		rc = run_check(r, st);
		if (rc == 0)
			return fail_step(r, st,
					 "%s is consistent under the %s model, but a violation "
					 "was expected",
					 st->argv[2], st->argv[1]);
		return rc == 1 ? 0 : fail_step(r, st, "the check could not decide (exit %d)", rc);
	case SCENARIO_CHECK:
		rc = run_check(r, st);
		if (rc == 1)
			return fail_step(r, st, "%s is not consistent under the %s model",
					 st->argv[2], st->argv[1]);
		return rc ? fail_step(r, st, "the check could not decide (exit %d)", rc) : 0;
	case SCENARIO_EXPECT_OK:
		return expect(r, st, true);
	case SCENARIO_EXPECT_UNAVAILABLE:
		return expect(r, st, false);
	case SCENARIO_RECORD: {
		char secs[32];
		char *rec_argv[] = { "record", "-o", st->argv[1], "--duration", secs, NULL };

		/* captrace takes seconds. */
		snprintf(secs, sizeof(secs), "%.3f", scenario_parse_time(st->argv[3]) / 1000.0);
		if (r->nloads == MAX_LOADS)
			return fail_step(r, st, "more than %d loads and recordings at once",
					 MAX_LOADS);
		rc = spawn("captrace", r->lab, NULL, 5, rec_argv, true);
		if (rc < 0)
			return fail_step(r, st, "start the recording: %s", strerror(-rc));
		r->loads[r->nloads++] = rc;
		return 0;
	}
	case SCENARIO_REPORT: {
		char *report_argv[] = { "report", st->argv[1], NULL };

		rc = spawn("captrace", r->lab, NULL, 2, report_argv, false);
		return rc ? fail_step(r, st, "captrace report exited with %d", rc) : 0;
	}
	case SCENARIO_CAPCTL:
		rc = spawn("capctl", r->lab, NULL, st->argc - 1, st->argv + 1, false);
		return rc ? fail_step(r, st, "capctl %s exited with %d", st->argv[1], rc) : 0;
	case SCENARIO_EXPECT_LOST: {
		char *lost_argv[] = { "check", "--model",	 "register",  "--mode",
				      "ap",    "--fail-on-lost", st->argv[1], NULL };

		rc = spawn("capctl", r->lab, NULL, 7, lost_argv, false);
		if (rc == 0)
			return fail_step(r, st, "the AP report of %s found no lost write",
					 st->argv[1]);
		return rc == 1 ? 0 :
				 fail_step(r, st, "the AP report could not be made (exit %d)", rc);
	}
	}
	return 0;
}

/* The loads still running. */
static unsigned int loads_running(const struct run *r)
{
	unsigned int i, n = 0;

	/* Asked without reaping: wait_loads still wants each one's exit status. */
	for (i = 0; i < r->nloads; i++) {
		siginfo_t info = { .si_pid = 0 };

		if (!waitid(P_PID, r->loads[i], &info, WEXITED | WNOHANG | WNOWAIT) && !info.si_pid)
			n++;
	}
	return n;
}

/* Sleeps until the next step is due, keeping the progress line up to date: time, the step to
 * come, the loads running and the partition in force. */
static void wait_showing(struct run *r, unsigned int next, double wait)
{
	double until = monotonic_s() + wait;
	unsigned int rules, loads;
	char fault[160];

	while (monotonic_s() < until) {
		double left = until - monotonic_s();

		usleep((useconds_t)((left < 0.1 ? left : 0.1) * 1e6));
		if (!progress_due(&r->line))
			continue;
		filter_partition_now(r->lab, fault, sizeof(fault), &rules);
		loads = loads_running(r);
		progress_show(&r->line,
			      "run: %.1f s, step %u of %u (line %u) in %.1f s, %u load%s "
			      "running%s%s",
			      monotonic_s() - r->start, next + 1, scenario.nsteps,
			      scenario.steps[next].line, until - monotonic_s(), loads,
			      loads == 1 ? "" : "s", fault[0] ? ", partition " : "", fault);
	}
}

static int read_file(const char *path, char **text)
{
	size_t cap = 4096, len = 0, n;
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *buf;

	if (!f)
		return -errno;
	buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *bigger = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return -EFBIG;
	buf[len] = 0;
	*text = buf;
	return 0;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run r = { .lab = cli->lab, .script = argv[0] };
	char err[256], *text = NULL;
	unsigned int i;
	int rc;

	if (argc != 1)
		return report_usage(
			"run: usage: capnet run SCENARIO (a file, or - for standard input)");
	rc = read_file(argv[0], &text);
	if (rc)
		return report_fail("run: read %s: %s", argv[0], strerror(-rc));
	rc = scenario_parse(text, &scenario, err, sizeof(err));
	free(text);
	if (rc)
		return report_usage("run: %s:%s", argv[0], err);
	if (cli_need_root("capnet run"))
		goto out_fail;
	{
		struct lab_info info;
		int across = hosts_lab_whole(cli, "run", &r.nodes);

		if (across > 0 || (across < 0 && cli_open_whole_lab(cli, &info, NULL)))
			goto out_fail;
		if (across < 0)
			r.nodes = info.nodes;
		if (scenario_check_nodes(&scenario, r.nodes, err, sizeof(err))) {
			scenario_free(&scenario);
			return report_usage("run: %s:%s (the lab has %u node%s; nothing was run)",
					    argv[0], err, r.nodes, r.nodes == 1 ? "" : "s");
		}
	}
	/* A load still running when a step fails is stopped, not left behind. */
	signal(SIGPIPE, SIG_IGN);
	r.fault_log_at = fault_log_size(r.lab);
	r.start = monotonic_s();
	r.origin_ns = monotonic_ns();
	progress_start(&r.line, cli->quiet);
	{
		char origin[32];

		/* Loads count their times from the run's start, as the faults are. */
		snprintf(origin, sizeof(origin), "%llu", (unsigned long long)r.origin_ns);
		setenv("CAPNET_CLOCK_ORIGIN", origin, 1);
	}
	{
		char *path = strcmp(argv[0], "-") ? realpath(argv[0], NULL) : NULL;
		char *slash = path ? strrchr(path, '/') : NULL;

		/* Where the scenario is, for the programs its lines run: a client program shipped
		 * beside it is found from any working directory. */
		if (slash)
			*slash = 0;
		if (path)
			setenv("CAPNET_SCENARIO_DIR", path[0] ? path : "/", 1);
		free(path);
	}
	open_faults(&r);
	/* What capctl steps append to starts empty, as a load's history does. */
	for (unsigned int i = 0; i < scenario.nsteps; i++) {
		const char *h = scenario_capctl_history(&scenario.steps[i]);

		if (h && truncate(h, 0) && errno != ENOENT)
			report_warn("run: empty %s: %s", h, strerror(errno));
	}
	for (i = 0; i < scenario.nsteps; i++) {
		const struct scenario_step *st = &scenario.steps[i];
		double wait = st->at_ms >= 0 ? r.start + st->at_ms / 1000.0 - monotonic_s() : 0;
		int k;

		if (wait > 0)
			wait_showing(&r, i, wait);
		progress_end(&r.line);
		printf("[%7.2fs] line %u:", monotonic_s() - r.start, st->line);
		for (k = 0; k < st->argc; k++)
			printf(" %s", st->argv[k]);
		printf("\n");
		/* Steps' own output goes straight to the same stdout: keep the order on a pipe. */
		fflush(stdout);
		rc = play(&r, st);
		copy_faults(&r);
		if (rc)
			break;
	}
	if (!r.failed_line && r.nloads)
		wait_loads(&r, &scenario.steps[scenario.nsteps - 1]);
	for (i = 0; i < r.nloads; i++) {
		kill(r.loads[i], SIGTERM);
		waitpid(r.loads[i], NULL, 0);
	}
	for (i = 0; i < r.nfaults; i++)
		fclose(r.faults[i]);
	if (r.failed_line) {
		printf("scenario %s: FAIL at line %u: %s (%.1f s)\n", argv[0], r.failed_line,
		       r.failure, monotonic_s() - r.start);
		scenario_free(&scenario);
		return EXIT_FAIL;
	}
	printf("scenario %s: PASS (%u steps, %.1f s)\n", argv[0], scenario.nsteps,
	       monotonic_s() - r.start);
	scenario_free(&scenario);
	return EXIT_OK;
out_fail:
	scenario_free(&scenario);
	return EXIT_FAIL;
}
