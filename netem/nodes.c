// SPDX-License-Identifier: GPL-2.0-only
/* capnode daemons in node namespaces: spawn, find, signal, and clean up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "netem/explain.h"
#include "netem/nodes.h"
#include "lib/files.h"

#define MAX_ARGS 64

void nodes_run_dir(const char *lab, const char *dir_opt, char *buf, size_t len)
{
	if (dir_opt)
		snprintf(buf, len, "%s", dir_opt);
	else
		snprintf(buf, len, "%s/%s", CAPNET_RUN_ROOT, lab);
}

static void node_file(const char *run_dir, unsigned int node, const char *ext, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/n%u.%s", run_dir, node, ext);
}

/* A pid counts only while /proc says it is a live capnode: pid files outlive crashes, pids are
 * reused, and a killed daemon stays a zombie until whoever adopted it reaps it. */
static bool is_capnode(pid_t pid)
{
	char path[64], stat[256] = "", *close_paren;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = 0;
	close_paren = strrchr(stat, ')');
	if (!close_paren || close_paren[1] != ' ')
		return false;
	return strstr(stat, "(capnode)") && close_paren[2] != 'Z' && close_paren[2] != 'X';
}

pid_t nodes_pid(const char *run_dir, unsigned int node)
{
	char path[PATH_MAX];
	long pid = 0;
	FILE *f;

	node_file(run_dir, node, "pid", path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || !is_capnode(pid))
		return 0;
	return pid;
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

/* Forks a daemon inside the node's namespace, its output to the node's log. */
static int spawn(const char *lab, const char *run_dir, unsigned int node, char *const argv[])
{
	char ns[64], log[PATH_MAX], pidfile[PATH_MAX];
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	int status, fd;
	pid_t pid;
	FILE *f;

	lab_node_ns(lab, node, ns, sizeof(ns));
	node_file(run_dir, node, "log", log, sizeof(log));
	node_file(run_dir, node, "pid", pidfile, sizeof(pidfile));
	explain("ip netns exec %s %s --id %u ... >>%s 2>&1 &", ns, argv[0], node, log);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int saved = netns_enter(ns);

		if (saved < 0)
			_exit(126);
		close(saved);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		report_warn("exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	f = fopen(pidfile, "w");
	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
		int err = -errno;

		report_warn("write %s: %s", pidfile, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return err;
	}
	/* A node that dies at once (bad option, port taken) is reported now, not found later. */
	nanosleep(&pause, NULL);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		report_warn("node %u exited at start (%s %d); see %s", node,
			    WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
		unlink(pidfile);
		return -ECHILD;
	}
	return 0;
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
		report_warn("node %u already runs (capnet stop %u first)", node, node);
		return -EALREADY;
	}
	for (i = 1; i <= st->nodes; i++) {
		struct in_addr a = { .s_addr = htonl(lab_node_addr(&cfg, i)) };
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		used += snprintf(cluster + used, cluster_len - used, "%s%u=%s", i > 1 ? "," : "", i,
				 ip);
	}
	snprintf(id, sizeof(id), "%u", node);
	snprintf(port, sizeof(port), "%u", CAPNODE_PORT);
	snprintf(data, sizeof(data), "%s/data/n%u", st->run_dir, node);
	err = files_mkdir_p(data, 0755);
	if (err) {
		report_warn("create %s: %s", data, strerror(-err));
		free(cluster);
		return err;
	}
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
	if (!err)
		err = spawn(st->lab, st->run_dir, node, argv);
	free(cluster);
	return err;
}

int nodes_restart(const char *lab, const char *run_dir, unsigned int node)
{
	static char buf[64 * 1024];
	char path[PATH_MAX], *argv[MAX_ARGS + 16];
	int err;

	if (nodes_pid(run_dir, node)) {
		report_warn("node %u already runs", node);
		return -EALREADY;
	}
	node_file(run_dir, node, "cmd", path, sizeof(path));
	err = load_cmdline(path, buf, sizeof(buf), argv, MAX_ARGS + 16);
	if (err) {
		report_warn("node %u was never started (no %s)", node, path);
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
	char pidfile[PATH_MAX];
	pid_t pid = nodes_pid(run_dir, node);
	int waited;

	if (!pid)
		return -ESRCH;
	if (kill(pid, sig))
		return -errno;
	for (waited = 0; wait_ms && waited < wait_ms && is_capnode(pid); waited += 10)
		nanosleep(&step, NULL);
	if (wait_ms && is_capnode(pid)) {
		/* It would not go: do not leave a half-stopped node behind. */
		kill(pid, SIGKILL);
		while (is_capnode(pid))
			nanosleep(&step, NULL);
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
				kill(pid, SIGKILL);
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
