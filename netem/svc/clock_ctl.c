// SPDX-License-Identifier: GPL-2.0-only
/* libfaketime's preload, control files and strobes. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "lib/files.h"
#include "lib/monotonic.h"
#include "netem/svc/clock_ctl.h"
#include "netem/explain.h"
#include "netem/lab/run_dir.h"
#include "netem/lab/topology.h"

#define STROBE_COMM "capnet-strobe"
#define MEND_NAME "clock_nanosleep.so"
#define ENV_PAIRS 5

/* A service's control file on a node, and when its first process started: in its own
 * directory, since libfaketime counts a rate from that start (clock_control_format). */
static void control_path(const char *svc_dir, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/n%u.clock", svc_dir, node);
}

static void start_path(const char *svc_dir, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/n%u.clock-start", svc_dir, node);
}

static void setting_path(const char *lab, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/clock/n%u.setting", CAPNET_RUN_ROOT, lab, node);
}

static void strobe_path(const char *lab, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/clock/n%u.strobe", CAPNET_RUN_ROOT, lab, node);
}

/* Debian installs it under the multiarch directory: /usr/lib/<triplet>/faketime/. */
static int find_faketime(char *buf, size_t len)
{
	const char *env = getenv("CAPNET_LIBFAKETIME");
	glob_t g;
	int rc = -ENOENT;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) ? -ENOENT : 0;
	}
	if (!glob("/usr/lib/*/faketime/libfaketime.so.1", 0, NULL, &g) && g.gl_pathc) {
		snprintf(buf, len, "%s", g.gl_pathv[0]);
		rc = 0;
	}
	globfree(&g);
	return rc;
}

/* Beside capnet: <bin>/../lib/capnet/clock_nanosleep.so, as make and make install put it. */
static int find_mend(char *buf, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -ENOENT;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(buf, len, "%s/../lib/capnet/" MEND_NAME, self);
	return access(buf, R_OK) ? -ENOENT : 0;
}

int clock_preload_find(char *faketime, size_t flen, char *mend, size_t mlen, char *why, size_t wlen)
{
	if (find_faketime(faketime, flen)) {
		snprintf(why, wlen,
			 "libfaketime is not installed (apt-get install libfaketime, then capnet "
			 "restart the services)");
		return -ENOENT;
	}
	if (find_mend(mend, mlen)) {
		snprintf(why, wlen, "capnet's %s is missing beside capnet (make, or make install)",
			 MEND_NAME);
		return -ENOENT;
	}
	return 0;
}

/* A whole file, at once: libfaketime opens the control file on every reread, and a rename
 * never shows it half written. */
static int write_text(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int fd, n = strlen(text), err = 0;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != n || write(fd, "\n", 1) != 1)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int64_t clock_true_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One service's control file, from the node's setting and the service's start. */
static int write_service_control(const char *svc_dir, unsigned int node,
				 const struct clock_setting *s, bool say)
{
	char path[PATH_MAX], text[96];
	long long start = 0;
	FILE *f;

	start_path(svc_dir, node, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return 0; /* never started there */
	if (fscanf(f, "%lld", &start) != 1)
		start = 0;
	fclose(f);
	control_path(svc_dir, node, path, sizeof(path));
	clock_control_format(s, start, text, sizeof(text));
	if (say)
		explain("echo '%s' > %s   # node %u's clock for this service, its offset counted from "
			"its start; libfaketime rereads the file within a second",
			text, path, node);
	return write_text(path, text);
}

struct control_walk {
	unsigned int node;
	const struct clock_setting *s;
	int err;
};

static int control_one(const char *name, const char *dir, void *arg)
{
	struct control_walk *w = arg;
	int err = write_service_control(dir, w->node, w->s, true);

	(void)name;
	if (err && !w->err)
		w->err = err;
	return 0;
}

/* Every service's control file on the node. */
static int write_controls(const char *lab, unsigned int node, const struct clock_setting *s)
{
	struct control_walk w = { .node = node, .s = s };
	char run_dir[PATH_MAX];

	run_dir_of_lab(lab, NULL, run_dir, sizeof(run_dir));
	run_dir_for_each_service(run_dir, control_one, &w);
	return w.err;
}

int clock_enable(const char *svc_dir, bool on)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/faketime", svc_dir);
	if (!on)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	err = files_mkdir_p(svc_dir, 0755);
	return err ? err : write_text(path, "libfaketime preloaded by capnet start\n");
}

bool clock_enabled(const char *svc_dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/faketime", svc_dir);
	return !access(path, F_OK);
}

void clock_prepare(const char *lab, const char *svc_dir, unsigned int node)
{
	struct clock_setting cs;
	char path[PATH_MAX], text[32];

	/* The start is now, give or take the fork and exec that follow: libfaketime takes it at
	 * the program's first instruction, a few milliseconds later, an error of those
	 * milliseconds times (1 - rate) in a rate. */
	start_path(svc_dir, node, path, sizeof(path));
	snprintf(text, sizeof(text), "%lld", (long long)clock_true_now_ns());
	explain("date +%%s%%N > %s   # the service's start, true time in ns: its clock counts from it",
		path);
	if (write_text(path, text))
		return;
	if (clock_read(lab, node, &cs)) {
		cs = (struct clock_setting){ .rate = 1.0 };
	}
	write_service_control(svc_dir, node, &cs, true);
}

/* The environment, as NAME=VALUE strings; false without libfaketime. */
static bool env_pairs(const char *svc_dir, unsigned int node, char pairs[ENV_PAIRS][3 * PATH_MAX])
{
	char faketime[PATH_MAX], mend[PATH_MAX], why[256], path[PATH_MAX];
	const char *old = getenv("LD_PRELOAD");

	if (clock_preload_find(faketime, sizeof(faketime), mend, sizeof(mend), why, sizeof(why)))
		return false;
	control_path(svc_dir, node, path, sizeof(path));
	/* The mend first, so that its clock_nanosleep is the one a program calls. */
	snprintf(pairs[0], sizeof(pairs[0]), "LD_PRELOAD=%s:%s%s%s", mend, faketime,
		 old && *old ? ":" : "", old && *old ? old : "");
	snprintf(pairs[1], sizeof(pairs[1]), "FAKETIME_TIMESTAMP_FILE=%s", path);
	/* 0: reread when a new second has begun since the last read; cheap, and never stale
	 * by more than a second. */
	snprintf(pairs[2], sizeof(pairs[2]), "FAKETIME_CACHE_DURATION=0");
	snprintf(pairs[3], sizeof(pairs[3]), "FAKETIME_DONT_FAKE_MONOTONIC=1");
	/* Not known to 0.9.10, which makes the objects clock_process_gone removes; newer
	 * versions then make none. */
	snprintf(pairs[4], sizeof(pairs[4]), "FAKETIME_DISABLE_SHM=1");
	return true;
}

bool clock_child_env(const char *svc_dir, unsigned int node)
{
	static char pairs[ENV_PAIRS][3 * PATH_MAX];
	unsigned int i;

	if (!env_pairs(svc_dir, node, pairs))
		return false;
	for (i = 0; i < ENV_PAIRS; i++)
		putenv(pairs[i]);
	return true;
}

void clock_env_words(const char *svc_dir, unsigned int node, char *buf, size_t len)
{
	static char pairs[ENV_PAIRS][3 * PATH_MAX];
	size_t used = 0;
	unsigned int i;

	buf[0] = 0;
	if (!env_pairs(svc_dir, node, pairs))
		return;
	for (i = 0; i < ENV_PAIRS && used < len; i++)
		used += snprintf(buf + used, len - used, "%s ", pairs[i]);
}

int clock_read(const char *lab, unsigned int node, struct clock_setting *s)
{
	char path[PATH_MAX], text[128];
	ssize_t n;
	int fd;

	s->offset_ns = 0;
	s->rate = 1.0;
	s->since_ns = 0;
	setting_path(lab, node, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	text[n] = 0;
	return clock_setting_parse(text, s) ? -EBADMSG : 0;
}

int clock_write(const char *lab, unsigned int node, const struct clock_setting *s)
{
	char path[PATH_MAX], dir[PATH_MAX], text[96];
	int err;

	snprintf(dir, sizeof(dir), "%s/%s/clock", CAPNET_RUN_ROOT, lab);
	err = files_mkdir_p(dir, 0755);
	if (err)
		return err;
	setting_path(lab, node, path, sizeof(path));
	clock_setting_format(s, text, sizeof(text));
	err = write_text(path, text);
	if (err)
		return err;
	explain("mkdir -p %s && echo '%s' > %s   # node %u's setting, for capnet status and for "
		"services started later",
		dir, text, path, node);
	return write_controls(lab, node, s);
}

/* Killed but not yet reaped: a strobe no more. */
static bool is_zombie(pid_t pid)
{
	char path[64], line[256], *paren;
	bool zombie = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(line, sizeof(line), f) && (paren = strrchr(line, ')')))
		zombie = paren[1] == ' ' && paren[2] == 'Z';
	fclose(f);
	return zombie;
}

/* The strobe's pid file: "pid jump_ns period_ns"; the pid counts only while its process is
 * a strobe, so a stale file or a reused pid is never signalled. */
static pid_t strobe_pid(const char *lab, unsigned int node, int64_t *jump, uint64_t *period)
{
	char path[PATH_MAX], comm[64] = "";
	long long j = 0;
	unsigned long long p = 0;
	int pid = 0;
	FILE *f;

	strobe_path(lab, node, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d %lld %llu", &pid, &j, &p) != 3)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	if (strcmp(comm, STROBE_COMM) || is_zombie(pid))
		return 0;
	if (jump)
		*jump = j;
	if (period)
		*period = p;
	return pid;
}

bool clock_strobe_running(const char *lab, unsigned int node, int64_t *jump_ns, uint64_t *period_ns)
{
	return strobe_pid(lab, node, jump_ns, period_ns) != 0;
}

void clock_strobe_stop(const char *lab, unsigned int node)
{
	char path[PATH_MAX];
	pid_t pid = strobe_pid(lab, node, NULL, NULL);
	int i;

	if (pid) {
		explain_aside(true);
		explain("kill %d   # the strobe of node %u", (int)pid, node);
		explain_aside(false);
		kill(pid, SIGKILL);
		for (i = 0; i < 100 && !is_zombie(pid); i++)
			usleep(10 * 1000);
	}
	strobe_path(lab, node, path, sizeof(path));
	unlink(path);
}

int clock_strobe_start(const char *lab, unsigned int node, const struct clock_setting *rest,
		       int64_t jump_ns, uint64_t period_ns)
{
	char pidfile[PATH_MAX], ns[LAB_NAME_MAX + 16];
	struct clock_setting moved = *rest;
	pid_t pid;
	FILE *f;
	int fd;

	clock_strobe_stop(lab, node);
	strobe_path(lab, node, pidfile, sizeof(pidfile));
	lab_node_ns(lab, node, ns, sizeof(ns));
	moved.offset_ns += jump_ns;
	/* capnet's own process, found again by its pid file: a shell loop would not be. */
	explain("# the strobe is capnet's own process (%s), which capnet clock --reset and status "
		"find again; it does what this loop does, for each service's n%u.clock:",
		STROBE_COMM, node);
	explain_aside(true);
	explain("while :; do echo '%+.9f x1.000000' > n%u.clock; sleep %.3f; echo '%+.9f "
		"x1.000000' > n%u.clock; sleep %.3f; done &",
		moved.offset_ns / 1e9, node, period_ns / 1e9, rest->offset_ns / 1e9, node,
		period_ns / 1e9);
	explain_aside(false);
	pid = netns_fork_session(ns);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		prctl(PR_SET_NAME, STROBE_COMM);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* Until stopped, or until the lab's run directory goes. */
		for (;;) {
			write_controls(lab, node, &moved);
			sleep_ns(period_ns);
			write_controls(lab, node, rest);
			sleep_ns(period_ns);
			if (access(pidfile, F_OK))
				_exit(0); /* the lab went, or the strobe was stopped */
		}
	}
	f = fopen(pidfile, "w");
	if (!f ||
	    fprintf(f, "%d %lld %llu\n", (int)pid, (long long)jump_ns,
		    (unsigned long long)period_ns) < 0 ||
	    fclose(f)) {
		kill(pid, SIGKILL);
		return -EIO;
	}
	return 0;
}

#define FOLLOWS "FAKETIME_TIMESTAMP_FILE="

/* Whether the process's environment holds a string that starts with `prefix` (whole: equals
 * it; else, with `needle` in it if not NULL). */
static bool environ_has(pid_t pid, const char *prefix, bool whole, const char *needle)
{
	char path[64], *env = NULL;
	size_t len = 0, plen = strlen(prefix);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && getdelim(&env, &len, 0, f) > 0)
		found = whole ? !strcmp(env, prefix) :
				!strncmp(env, prefix, plen) && (!needle || strstr(env, needle));
	free(env);
	fclose(f);
	return found;
}

bool clock_process_follows(pid_t pid, const char *svc_dir, unsigned int node)
{
	char want[PATH_MAX + 32];

	memcpy(want, FOLLOWS, sizeof(FOLLOWS) - 1);
	control_path(svc_dir, node, want + sizeof(FOLLOWS) - 1, sizeof(want) - sizeof(FOLLOWS));
	return environ_has(pid, want, true, NULL);
}

bool clock_process_preloaded(pid_t pid)
{
	/* capnet's mend in its LD_PRELOAD: wherever its run directory is (start --dir). */
	return environ_has(pid, "LD_PRELOAD=", false, "/capnet/" MEND_NAME);
}

void clock_process_gone(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/shm/sem.faketime_sem_%d", (int)pid);
	unlink(path);
	snprintf(path, sizeof(path), "/dev/shm/faketime_shm_%d", (int)pid);
	unlink(path);
}

void clock_wait_in_force(void)
{
	struct timespec now;

	/* libfaketime rereads at the first call in a second later than its last read: past the
	 * next second boundary, with a margin, every later call sees the new file. */
	clock_gettime(CLOCK_REALTIME, &now);
	sleep_ns(1000000000ull - now.tv_nsec + 50 * 1000000ull);
}
