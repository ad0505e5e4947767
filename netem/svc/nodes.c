// SPDX-License-Identifier: GPL-2.0-only
/* Services in node namespaces (capnode, or any program `capnet start` runs): spawn them with
 * their command lines recorded, find, signal and restart them, and clean up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lib/report.h"
#include "bpf/partition.h"
#include "netem/svc/clock_ctl.h"
#include "netem/explain.h"
#include "netem/svc/nodes.h"
#include "netem/svc/placeholder.h"
#include "lib/files.h"

#define MAX_ARGS 64

static void node_file(const char *run_dir, unsigned int node, const char *ext, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/n%u.%s", run_dir, node, ext);
}

/* The fields of /proc/PID/stat after the command name: its state letter and its start time
 * (clock ticks since boot), or false if there is no such process. */
static bool proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], stat[1024] = "", *p;
	size_t n;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = 0;
	p = strrchr(stat, ')');
	if (!p || p[1] != ' ')
		return false;
	*state = p[2];
	/* starttime is field 22; the state is field 3, two after the name. */
	for (field = 3, p += 2; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	*start = p ? strtoull(p, NULL, 10) : 0;
	return true;
}

/* A pid counts only while /proc shows the very process that was started: pid files outlive
 * crashes, pids are reused (the start time tells), and a killed daemon stays a zombie until
 * whoever adopted it reaps it. */
static bool is_alive(pid_t pid, unsigned long long started)
{
	unsigned long long start;
	char state;

	return proc_stat(pid, &state, &start) && start == started && state != 'Z' && state != 'X';
}

static bool read_pid_file(const char *dir, unsigned int node, pid_t *pid,
			  unsigned long long *started)
{
	char path[PATH_MAX];
	long p = 0;
	FILE *f;

	node_file(dir, node, "pid", path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%ld %llu", &p, started) != 2)
		p = 0;
	fclose(f);
	*pid = (pid_t)p;
	return p > 0;
}

pid_t nodes_pid(const char *run_dir, unsigned int node)
{
	unsigned long long started;
	pid_t pid;

	if (!read_pid_file(run_dir, node, &pid, &started) || !is_alive(pid, started))
		return 0;
	return pid;
}

bool nodes_paused(const char *run_dir, unsigned int node)
{
	unsigned long long start;
	pid_t pid = nodes_pid(run_dir, node);
	char state;

	return pid && proc_stat(pid, &state, &start) && (state == 'T' || state == 't');
}

int nodes_find_capnode(char *buf, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, len, "%s/capnode", self);
			if (!access(buf, X_OK))
				return 0;
		}
	}
	/* execvp searches PATH. */
	snprintf(buf, len, "capnode");
	return 0;
}

/* Writes argv NUL-separated, so restart can repeat it exactly. */
static int save_cmdline(const char *path, char *const argv[])
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -errno;
	for (i = 0; argv[i]; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, f);
	return fclose(f) ? -errno : 0;
}

static int load_cmdline(const char *path, char *buf, size_t len, char *argv[], int max)
{
	FILE *f = fopen(path, "r");
	size_t n, off = 0;
	int argc = 0;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	while (off < n && argc < max - 1) {
		argv[argc++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	argv[argc] = NULL;
	return argc ? 0 : -EINVAL;
}

static void explain_spawn(const char *dir, unsigned int node, const char *ns, const char *cwd,
			  char *const argv[], const char *log, const char *pidfile, bool faked)
{
	char line[4096], env[2 * PATH_MAX + 512];
	size_t used = 0;

	if (!explain_enabled())
		return;
	/* Every service reads its node's clock through libfaketime (netem/svc/clock_ctl.h). */
	env[0] = 0;
	if (faked)
		clock_env_words(dir, node, env, sizeof(env));
	for (int i = 0; argv[i] && used < sizeof(line) - 1; i++) {
		bool plain = strcspn(argv[i], " \t'\"$`\\{}*?;&|<>()") == strlen(argv[i]) &&
			     argv[i][0];

		used += snprintf(line + used, sizeof(line) - used, plain ? "%s%s" : "%s'%s'",
				 i ? " " : "", argv[i]);
	}
	/* The pid file holds the pid and its start time (field 22 of /proc/PID/stat), which
	 * tells a live service from a reused pid. */
	explain("(cd %s && %ssetsid ip netns exec %s %s >>%s 2>&1 </dev/null & echo \"$! $(cut "
		"-d' ' -f22 /proc/$!/stat)\" > %s)",
		cwd, env, ns, line, log, pidfile);
}

/* Forks a daemon inside the node's namespace, in its own session (so a signal to its process
 * group reaches whatever it forks), in its data directory, its output to the node's log. */
/* How long capnode may take to recover its log and listen before start or restart gives up
 * waiting for it: a bound, not a guess at how long it takes. */
#define CAPNODE_READY_S 60

static bool is_capnode(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	return !strcmp(slash ? slash + 1 : prog, "capnode");
}

static void close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* 1 when capnode wrote on its ready pipe, 0 when it closed it unwritten (it exited),
 * -ETIMEDOUT after CAPNODE_READY_S. */
static int capnode_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	int n;

	do
		n = poll(&p, 1, CAPNODE_READY_S * 1000);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -ETIMEDOUT;
	do
		n = (int)read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

static int spawn(const char *lab, const char *dir, unsigned int node, char *const argv[])
{
	char ns[64], log[PATH_MAX], pidfile[PATH_MAX], cwd[PATH_MAX], tail[512];
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	unsigned long long start = 0;
	int status, fd, err, ready[2] = { -1, -1 }, up = 1;
	struct stat log_stat;
	off_t log_start;
	bool faked;
	char state;
	pid_t pid;
	FILE *f;

	lab_node_ns(lab, node, ns, sizeof(ns));
	node_file(dir, node, "log", log, sizeof(log));
	node_file(dir, node, "pid", pidfile, sizeof(pidfile));
	snprintf(cwd, sizeof(cwd), "%s/data/n%u", dir, node);
	err = files_mkdir_p(cwd, 0755);
	if (err) {
		error_note("create %s: %s", cwd, strerror(-err));
		return err;
	}
	faked = clock_enabled(dir);
	if (faked)
		clock_prepare(lab, dir, node);
	explain_spawn(dir, node, ns, cwd, argv, log, pidfile, faked);
	if (is_capnode(argv[0]) && pipe2(ready, O_CLOEXEC))
		return -errno;
	/* The log is appended to by every start: what this one says begins here. */
	log_start = stat(log, &log_stat) ? 0 : log_stat.st_size;
	pid = netns_fork_session(ns);
	if (pid < 0) {
		close_pipe(ready);
		return pid;
	}
	if (pid == 0) {
		if (chdir(cwd))
			_exit(126);
		if (ready[1] >= 0) {
			char fd[16];

			snprintf(fd, sizeof(fd), "%d", ready[1]);
			if (fcntl(ready[1], F_SETFD, 0) || setenv("CAPNODE_READY_FD", fd, 1))
				_exit(126);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (faked)
			clock_child_env(dir, node);
		execvp(argv[0], argv);
		report_fail("exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	if (ready[1] >= 0)
		close(ready[1]);
	proc_stat(pid, &state, &start);
	f = fopen(pidfile, "w");
	if (!f || fprintf(f, "%d %llu\n", (int)pid, start) < 0 || fclose(f)) {
		err = -errno;
		error_note("write %s: %s", pidfile, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (ready[0] >= 0)
			close(ready[0]);
		return err;
	}
	/* A node that dies at once (bad option, port taken, no such program, a damaged log) is
	 * reported now, with what it said, not found later. capnode says when it is up; other
	 * programs are given a moment. */
	if (ready[0] >= 0) {
		up = capnode_up(ready[0]);
		close(ready[0]);
		if (up == -ETIMEDOUT) {
			error_note("node %u: capnode did not say it was up within %d s; see %s",
				   node, CAPNODE_READY_S, log);
			return -ETIMEDOUT;
		}
	} else {
		nanosleep(&pause, NULL);
	}
	if (!up ? waitpid(pid, &status, 0) == pid : waitpid(pid, &status, WNOHANG) == pid) {
		files_read_tail_from(log, log_start, tail, sizeof(tail));
		error_note("node %u: %s exited at start (%s %d)%s%s; see %s", node, argv[0],
			   WIFEXITED(status) ? "status" : "signal",
			   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			   tail[0] ? ": " : "", tail, log);
		unlink(pidfile);
		return -ECHILD;
	}
	return 0;
}

/* Node i's address as text: the i-th host of the lab's subnet or, in an adopted lab (no
 * subnet: its nodes keep their own addresses), the address its namespace has. */
static void node_ip(const char *lab, const struct lab_config *cfg, unsigned int node, char *buf,
		    size_t len)
{
	struct in_addr a = { .s_addr = htonl(lab_node_addr(cfg, node)) };
	char ns[LAB_NAME_MAX + 16];

	if (cfg->prefix) {
		inet_ntop(AF_INET, &a, buf, len);
		return;
	}
	lab_node_ns(lab, node, ns, sizeof(ns));
	if (netns_address(ns, buf, len))
		snprintf(buf, len, "0.0.0.0");
}

int nodes_start(const struct node_start *st, unsigned int node)
{
	char *argv[MAX_ARGS + 16], id[16], port[16], data[PATH_MAX], path[PATH_MAX];
	size_t cluster_len = (size_t)st->nodes * 24 + 1, used = 0;
	char *cluster = malloc(cluster_len);
	struct lab_config cfg = { .nodes = st->nodes, .subnet = st->subnet, .prefix = st->prefix };
	unsigned int i;
	int argc = 0, err;

	if (!cluster)
		return -ENOMEM;
	if (nodes_pid(st->run_dir, node)) {
		free(cluster);
		error_note("node %u already runs (capnet stop %u first)", node, node);
		return -EALREADY;
	}
	for (i = 1; i <= st->nodes; i++) {
		char ip[INET_ADDRSTRLEN];

		node_ip(st->lab, &cfg, i, ip, sizeof(ip));
		used += snprintf(cluster + used, cluster_len - used, "%s%u=%s", i > 1 ? "," : "", i,
				 ip);
	}
	snprintf(id, sizeof(id), "%u", node);
	snprintf(port, sizeof(port), "%u", CAPNODE_PORT);
	snprintf(data, sizeof(data), "%s/data/n%u", st->run_dir, node);
	argv[argc++] = (char *)st->capnode;
	argv[argc++] = "--id";
	argv[argc++] = id;
	argv[argc++] = "--cluster";
	argv[argc++] = cluster;
	argv[argc++] = "--mode";
	argv[argc++] = (char *)st->mode;
	argv[argc++] = "--port";
	argv[argc++] = port;
	argv[argc++] = "--data";
	argv[argc++] = data;
	if (st->key_file) {
		argv[argc++] = "--key-file";
		argv[argc++] = (char *)st->key_file;
	}
	for (i = 0; i < (unsigned int)st->extra_argc && i < MAX_ARGS; i++)
		argv[argc++] = st->extra_argv[i];
	argv[argc] = NULL;

	node_file(st->run_dir, node, "cmd", path, sizeof(path));
	err = save_cmdline(path, argv);
	/* capnode always follows its node's clock (capnet clock), when libfaketime is there. */
	if (!err) {
		char faketime[PATH_MAX], mend[PATH_MAX], why[256];

		clock_enable(st->run_dir, !clock_preload_find(faketime, sizeof(faketime), mend,
							      sizeof(mend), why, sizeof(why)));
		err = spawn(st->lab, st->run_dir, node, argv);
	}
	free(cluster);
	return err;
}

static void service_ip(unsigned int node, char *buf, size_t len, void *arg)
{
	const struct service_start *st = arg;
	struct lab_config cfg = { .nodes = st->nodes, .subnet = st->subnet, .prefix = st->prefix };

	if (len >= INET_ADDRSTRLEN)
		node_ip(st->lab, &cfg, node, buf, len);
}

static void service_data_dir(unsigned int node, char *buf, size_t len, void *arg)
{
	const struct service_start *st = arg;

	snprintf(buf, len, "%s/data/n%u", st->dir, node);
}

int nodes_service_start(const struct service_start *st, unsigned int node)
{
	static char expanded[MAX_ARGS][8192];
	const struct placeholder_ctx ctx = { .nodes = st->nodes,
					     .service_nodes = st->where,
					     .ip = service_ip,
					     .dir = service_data_dir,
					     .arg = (void *)st };
	char *argv[MAX_ARGS + 1], path[PATH_MAX];
	struct spec_error e;
	int i, err;

	if (st->argc < 1 || st->argc > MAX_ARGS) {
		error_note("a service takes a program and at most %d arguments", MAX_ARGS - 1);
		return -E2BIG;
	}
	if (nodes_pid(st->dir, node)) {
		error_note("node %u already runs it (capnet stop %u first)", node, node);
		return -EALREADY;
	}
	for (i = 0; i < st->argc; i++) {
		err = placeholder_expand(st->argv[i], node, &ctx, expanded[i], sizeof(expanded[i]),
					 &e);
		if (err) {
			error_note("argument %d: %s", i, e.msg);
			return err;
		}
		argv[i] = expanded[i];
	}
	argv[i] = NULL;
	err = files_mkdir_p(st->dir, 0755);
	if (err) {
		error_note("create %s: %s", st->dir, strerror(-err));
		return err;
	}
	node_file(st->dir, node, "cmd", path, sizeof(path));
	err = save_cmdline(path, argv);
	return err ? err : spawn(st->lab, st->dir, node, argv);
}

int nodes_restart(const char *lab, const char *run_dir, unsigned int node)
{
	static char buf[64 * 1024];
	char path[PATH_MAX], *argv[MAX_ARGS + 16];
	int err;

	if (nodes_pid(run_dir, node)) {
		error_note("node %u already runs", node);
		return -EALREADY;
	}
	node_file(run_dir, node, "cmd", path, sizeof(path));
	err = load_cmdline(path, buf, sizeof(buf), argv, MAX_ARGS + 16);
	if (err) {
		error_note("node %u was never started (no %s)", node, path);
		return err;
	}
	return spawn(lab, run_dir, node, argv);
}

int nodes_mode(const char *run_dir, unsigned int node, char *mode, size_t len)
{
	static char buf[64 * 1024];
	char path[PATH_MAX], *argv[MAX_ARGS + 16];
	int i, err;

	node_file(run_dir, node, "cmd", path, sizeof(path));
	err = load_cmdline(path, buf, sizeof(buf), argv, MAX_ARGS + 16);
	if (err)
		return err;
	for (i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], "--mode")) {
			snprintf(mode, len, "%s", argv[i + 1]);
			return 0;
		}
	return -ENOENT;
}

int nodes_signal(const char *run_dir, unsigned int node, int sig, int wait_ms)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };
	unsigned long long started = 0;
	char pidfile[PATH_MAX];
	pid_t pid = nodes_pid(run_dir, node);
	bool faked;
	int waited;

	if (!pid)
		return -ESRCH;
	read_pid_file(run_dir, node, &pid, &started);
	faked = clock_process_preloaded(pid);
	explain("kill -%s -- -%d   # node %u's service and what it forked (its process group)",
		sigabbrev_np(sig) ? sigabbrev_np(sig) : "TERM", (int)pid, node);
	/* The whole process group: what the service forked goes with it. */
	if (kill(-pid, sig) && kill(pid, sig))
		return -errno;
	/* A paused service must run to act on its SIGTERM. */
	if (sig == SIGTERM || sig == SIGINT)
		kill(-pid, SIGCONT);
	for (waited = 0; wait_ms && waited < wait_ms && is_alive(pid, started); waited += 10)
		nanosleep(&step, NULL);
	if (wait_ms && is_alive(pid, started)) {
		/* It would not go: do not leave a half-stopped node behind. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (is_alive(pid, started))
			nanosleep(&step, NULL);
	}
	if (sig == SIGKILL)
		kill(-pid, SIGKILL);
	/* libfaketime's leftovers go once the process has: a kill -9 lands a moment later. */
	if (faked && (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)) {
		for (waited = 0; waited < 500 && is_alive(pid, started); waited += 10)
			nanosleep(&step, NULL);
		if (!is_alive(pid, started))
			clock_process_gone(pid);
	}
	node_file(run_dir, node, "pid", pidfile, sizeof(pidfile));
	if (wait_ms || sig == SIGKILL)
		unlink(pidfile);
	return 0;
}

static int remove_tree(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	char child[PATH_MAX];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		if (!lstat(child, &st) && S_ISDIR(st.st_mode))
			remove_tree(child);
		else
			unlink(child);
	}
	closedir(d);
	return rmdir(path) ? -errno : 0;
}

struct lab_inodes {
	const char *lab;
	size_t n;
	dev_t dev[CAPNET_MAX_NODES + 1];
	ino_t ino[CAPNET_MAX_NODES + 1];
};

static int collect_lab_ns(const char *name, void *arg)
{
	struct lab_inodes *li = arg;
	char path[PATH_MAX];
	struct stat st;

	if (lab_ns_index(li->lab, name) < 0 || li->n > CAPNET_MAX_NODES)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	/* The bind mount's inode is the namespace's own, as /proc/PID/ns/net shows it. */
	if (!stat(path, &st)) {
		li->dev[li->n] = st.st_dev;
		li->ino[li->n] = st.st_ino;
		li->n++;
		explain("ip netns pids %s | xargs -r kill -9", name);
	}
	return 0;
}

/* Every process living in one of the lab's namespaces (replicas whatever their run directory,
 * programs started with capnet exec): they cannot outlive the lab, and would keep its
 * namespaces alive if they did. */
static void kill_lab_processes(const char *lab)
{
	static struct lab_inodes li;
	struct dirent *de;
	char path[PATH_MAX];
	DIR *proc;
	size_t i;

	memset(&li, 0, sizeof(li));
	li.lab = lab;
	netns_for_each(collect_lab_ns, &li);
	if (!li.n)
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct stat st;

		if (*end || pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st))
			continue;
		for (i = 0; i < li.n; i++)
			if (st.st_ino == li.ino[i] && st.st_dev == li.dev[i]) {
				bool faked = clock_process_preloaded(pid);

				kill(pid, SIGKILL);
				if (faked)
					clock_process_gone(pid);
				break;
			}
	}
	closedir(proc);
}

int nodes_remove_all(const char *lab, const char *run_dir, unsigned int max_nodes)
{
	struct stat st;
	unsigned int i;

	kill_lab_processes(lab);
	if (stat(run_dir, &st))
		return 0;
	for (i = 1; i <= max_nodes; i++)
		nodes_signal(run_dir, i, SIGKILL, 1000);
	explain("rm -r %s", run_dir);
	return remove_tree(run_dir);
}
