// SPDX-License-Identifier: GPL-2.0-only
/* One ssh per host, run as git runs GIT_SSH_COMMAND (`sh -c '$CAPNET_SSH "$@"'`), so the
 * user's keys, config and jump hosts work. ControlMaster shares one connection per host between
 * the commands of a lab: a command pays no handshake once a host was reached. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/files.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/explain.h"
#include "netem/hosts/remote.h"
#include "netem/lab/run_dir.h"

/* How long a shared connection outlives the last command that used it. */
#define CONTROL_PERSIST "120"

static void control_path(const char *lab, char *buf, size_t len)
{
	char dir[256];

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(buf, len, "%s/ssh-%%C", dir);
}

const char *remote_program(const char *name)
{
	const char *bin;
	char var[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(var) - sizeof("_REMOTE_BIN"); i++)
		var[i] = (char)toupper((unsigned char)name[i]);
	snprintf(var + i, sizeof(var) - i, "_REMOTE_BIN");
	bin = getenv(var);
	return bin && *bin ? bin : name;
}

/* Becomes `<program> --lab LAB ARGS` on host h (program NULL: the remote capnet): ssh, or this
 * very program for `local`. Returns only if it cannot. */
static void exec_program_on_host(const char *lab, const struct host_dest *h, const char *program,
				 const char *args)
{
	static char line[8192], cmd[8192], self[PATH_MAX];
	char ctl[320], opt_ctl[400], port[16], target[320];
	const char *ssh = getenv("CAPNET_SSH");
	ssize_t n;

	if (h->local) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return;
		self[n] = '\0';
		snprintf(line, sizeof(line), "exec '%s' --lab %s %.4000s", self, lab, args);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		return;
	}
	snprintf(line, sizeof(line), "%.4000s \"$@\"", ssh && *ssh ? ssh : "ssh");
	snprintf(port, sizeof(port), "%u", h->port ? h->port : 22);
	control_path(lab, ctl, sizeof(ctl));
	snprintf(opt_ctl, sizeof(opt_ctl), "ControlPath=%s", ctl);
	host_ssh_target(h, target, sizeof(target));
	snprintf(cmd, sizeof(cmd), "%.2000s --lab %s %.4000s",
		 program ? program : remote_program("capnet"), lab, args);
	execl("/bin/sh", "sh", "-c", line, "capnet-ssh", "-o", "ControlMaster=auto", "-o", opt_ctl,
	      "-o", "ControlPersist=" CONTROL_PERSIST, "-o", "ConnectTimeout=10", "-p", port, "--",
	      target, cmd, (char *)NULL);
}

static void exec_on_host(const char *lab, const struct host_dest *h, const char *args)
{
	exec_program_on_host(lab, h, NULL, args);
}

/* The child: stdout and stderr onto the pipes, then the command. */
static void run_child(const char *lab, const struct host_dest *h, const char *args, int in_fd,
		      int out_fd, int err_fd)
{
	if (in_fd >= 0)
		dup2(in_fd, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(err_fd, STDERR_FILENO);
	exec_on_host(lab, h, args);
	_exit(127);
}

int remote_exec(const char *lab, const struct host_dest *h, const char *args)
{
	char dir[256];

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	files_mkdir_p(dir, 0755);
	exec_on_host(lab, h, args);
	return -errno;
}

struct call {
	pid_t pid;
	int out, err;
	size_t out_len, err_len;
	char err_buf[4096];
};

/* The last non-empty line of what was written on standard error. */
static void last_line(const char *text, char *buf, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

int remote_run(const char *lab, const struct host_list *hosts, const bool *run, char *const args[],
	       struct remote_result *res)
{
	return remote_run_input(lab, hosts, run, args, NULL, res);
}

/* A pipe holding text, its write end closed: the child's standard input. -1 on failure. */
static int input_pipe(const char *text)
{
	int p[2];
	size_t len = strlen(text);

	if (pipe2(p, O_CLOEXEC))
		return -1;
	/* Far below a pipe's buffer: the write does not wait for a reader. */
	if (len >= 4096 || write(p[1], text, len) != (ssize_t)len) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

int remote_run_input(const char *lab, const struct host_list *hosts, const bool *run,
		     char *const args[], const char *const input[], struct remote_result *res)
{
	struct call calls[HOSTS_MAX];
	struct pollfd fds[2 * HOSTS_MAX];
	char dir[256];
	int open_fds = 0, err;

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	err = files_mkdir_p(dir, 0755);
	if (err) {
		error_note("mkdir -p %s: %s", dir, strerror(-err));
		return err;
	}
	for (unsigned int h = 0; h < hosts->count; h++) {
		int out[2], errp[2], in = -1;

		res[h].status = -1;
		res[h].out[0] = res[h].why[0] = res[h].err[0] = '\0';
		calls[h] = (struct call){ .pid = -1, .out = -1, .err = -1 };
		if (run && !run[h])
			continue;
		explain("# host %s", hosts->host[h].dest);
		explain("%s%s --lab %s %s", hosts->host[h].local ? "" : "ssh ... ",
			hosts->host[h].local ? "capnet" : remote_program("capnet"), lab, args[h]);
		if (input && input[h])
			in = input_pipe(input[h]);
		if ((input && input[h] && in < 0) || pipe2(out, O_CLOEXEC) ||
		    pipe2(errp, O_CLOEXEC)) {
			snprintf(res[h].why, sizeof(res[h].why), "pipe: %s", strerror(errno));
			if (in >= 0)
				close(in);
			continue;
		}
		calls[h].pid = fork();
		if (calls[h].pid == 0)
			run_child(lab, &hosts->host[h], args[h], in, out[1], errp[1]);
		if (in >= 0)
			close(in);
		close(out[1]);
		close(errp[1]);
		if (calls[h].pid < 0) {
			snprintf(res[h].why, sizeof(res[h].why), "fork: %s", strerror(errno));
			close(out[0]);
			close(errp[0]);
			continue;
		}
		calls[h].out = out[0];
		calls[h].err = errp[0];
		open_fds += 2;
	}
	while (open_fds > 0) {
		nfds_t n = 0;

		for (unsigned int h = 0; h < hosts->count; h++) {
			if (calls[h].out >= 0)
				fds[n++] = (struct pollfd){ .fd = calls[h].out, .events = POLLIN };
			if (calls[h].err >= 0)
				fds[n++] = (struct pollfd){ .fd = calls[h].err, .events = POLLIN };
		}
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			break;
		for (nfds_t i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			for (unsigned int h = 0; h < hosts->count; h++) {
				struct call *c = &calls[h];
				bool is_out = fds[i].fd == c->out;
				char scratch[1024], *buf;
				size_t room, *used;
				ssize_t got;

				if (fds[i].fd != c->out && fds[i].fd != c->err)
					continue;
				buf = is_out ? res[h].out : c->err_buf;
				used = is_out ? &c->out_len : &c->err_len;
				room = (is_out ? sizeof(res[h].out) : sizeof(c->err_buf)) - 1;
				if (*used < room)
					got = read(fds[i].fd, buf + *used, room - *used);
				else
					got = read(fds[i].fd, scratch, sizeof(scratch));
				if (got > 0 && *used < room) {
					*used += got;
					buf[*used] = '\0';
				}
				if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
					close(fds[i].fd);
					*(is_out ? &c->out : &c->err) = -1;
					open_fds--;
				}
				break;
			}
		}
	}
	for (unsigned int h = 0; h < hosts->count; h++) {
		int status;

		if (calls[h].pid <= 0)
			continue;
		if (calls[h].out >= 0)
			close(calls[h].out);
		if (calls[h].err >= 0)
			close(calls[h].err);
		while (waitpid(calls[h].pid, &status, 0) < 0 && errno == EINTR)
			;
		res[h].status = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
		last_line(calls[h].err_buf, res[h].why, sizeof(res[h].why));
		snprintf(res[h].err, sizeof(res[h].err), "%s", calls[h].err_buf);
		if (!res[h].why[0] && res[h].status)
			snprintf(res[h].why, sizeof(res[h].why), "exit status %d", res[h].status);
	}
	return 0;
}

void remote_close(const char *lab, const struct host_list *hosts)
{
	char ctl[320], opt_ctl[400], target[320], port[16], line[4096];
	const char *ssh = getenv("CAPNET_SSH");

	control_path(lab, ctl, sizeof(ctl));
	snprintf(opt_ctl, sizeof(opt_ctl), "ControlPath=%s", ctl);
	snprintf(line, sizeof(line), "%.4000s \"$@\"", ssh && *ssh ? ssh : "ssh");
	for (unsigned int h = 0; h < hosts->count; h++) {
		pid_t pid;

		if (hosts->host[h].local)
			continue;
		host_ssh_target(&hosts->host[h], target, sizeof(target));
		snprintf(port, sizeof(port), "%u", hosts->host[h].port ? hosts->host[h].port : 22);
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);

			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			execl("/bin/sh", "sh", "-c", line, "capnet-ssh", "-o", opt_ctl, "-O",
			      "exit", "-p", port, target, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

int remote_spawn(const char *lab, const struct host_dest *h, const char *program, const char *args,
		 struct remote_child *c)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, e;
	char dir[256];

	*c = (struct remote_child){ .pid = -1, .in = -1, .out = -1, .err = -1 };
	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	e = files_mkdir_p(dir, 0755);
	if (e)
		return e;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		e = -errno;
		goto fail;
	}
	explain("# host %s", h->dest);
	explain("%s%s --lab %s %s", h->local ? "" : "ssh ... ",
		h->local ? "(this program)" :
		program	 ? program :
			   remote_program("capnet"),
		lab, args);
	c->pid = fork();
	if (c->pid < 0) {
		e = -errno;
		goto fail;
	}
	if (c->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		exec_program_on_host(lab, h, program, args);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return e;
}

/* What a child that stopped talking said on standard error, to its end (it is exiting). */
static void child_why(struct remote_child *c, char *why, size_t len, int ms)
{
	char buf[4096];
	size_t used = 0;
	long long deadline = monotonic_ms() + ms;

	buf[0] = '\0';
	while (c->err >= 0 && used + 1 < sizeof(buf)) {
		struct pollfd p = { .fd = c->err, .events = POLLIN };
		long long left = deadline - monotonic_ms();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		got = read(c->err, buf + used, sizeof(buf) - 1 - used);
		if (got <= 0)
			break;
		used += got;
		buf[used] = '\0';
	}
	last_line(buf, why, len);
	if (!why[0])
		snprintf(why, len, "its session ended without a word");
}

void remote_read_lines(struct remote_child *c, unsigned int n, bool *live,
		       struct remote_reply *reply, int ms)
{
	struct pollfd fds[HOSTS_MAX];
	unsigned int host[HOSTS_MAX];
	size_t used[HOSTS_MAX] = { 0 };
	bool done[HOSTS_MAX] = { false };
	long long deadline = monotonic_ms() + ms;

	for (;;) {
		nfds_t k = 0;
		long long left = deadline - monotonic_ms();

		for (unsigned int h = 0; h < n && h < HOSTS_MAX; h++)
			if (live[h] && !done[h]) {
				fds[k] = (struct pollfd){ .fd = c[h].out, .events = POLLIN };
				host[k++] = h;
			}
		if (!k)
			return;
		if (left <= 0 || poll(fds, k, (int)left) == 0) {
			for (nfds_t i = 0; i < k; i++) {
				live[host[i]] = false;
				snprintf(reply[host[i]].why, sizeof(reply[host[i]].why),
					 "no answer in %d s", ms / 1000);
			}
			return;
		}
		for (nfds_t i = 0; i < k; i++) {
			unsigned int h = host[i];
			struct remote_reply *r = &reply[h];
			ssize_t got;

			if (!fds[i].revents)
				continue;
			got = read(c[h].out, r->line + used[h], 1);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0 || used[h] + 2 >= sizeof(r->line)) {
				live[h] = false;
				child_why(&c[h], r->why, sizeof(r->why), 5000);
				continue;
			}
			if (r->line[used[h]] == '\n') {
				r->line[used[h]] = '\0';
				r->at_ns = tai_ns();
				done[h] = true;
			} else {
				r->line[++used[h]] = '\0';
			}
		}
	}
}

void remote_write_all(struct remote_child *c, unsigned int n, bool *live, const char *const *text,
		      struct remote_reply *reply)
{
	for (unsigned int h = 0; h < n; h++) {
		if (!live[h])
			continue;
		reply[h].line[0] = '\0';
		if (files_write_all(c[h].in, text[h], strlen(text[h]))) {
			live[h] = false;
			child_why(&c[h], reply[h].why, sizeof(reply[h].why), 5000);
		}
	}
}

int remote_wait(struct remote_child *c)
{
	int status = 0;

	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	c->in = c->out = c->err = -1;
	if (c->pid <= 0)
		return 255;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	c->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int remote_read_line(int fd, char *buf, size_t len, int ms)
{
	long long deadline = monotonic_ms() + ms;
	size_t used = 0;

	while (used + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - monotonic_ms();
		ssize_t n;

		if (ms >= 0 && (left <= 0 || poll(&p, 1, (int)left) == 0))
			return -ETIMEDOUT;
		n = read(fd, buf + used, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	return 0;
}

/* "PREFIX 'ARG' 'ARG' ...": a command line for the remote shell. */
/* c at buf[*used] where it fits, leaving room for the NUL; counted either way. */
static void put_char(char *buf, size_t len, size_t *used, char c)
{
	if (*used + 1 < len)
		buf[*used] = c;
	(*used)++;
}

size_t remote_words_append(char *buf, size_t len, size_t used, int argc, char *const *argv)
{
	for (int i = 0; i < argc; i++) {
		put_char(buf, len, &used, ' ');
		put_char(buf, len, &used, '\'');
		for (const char *p = argv[i]; *p; p++) {
			if (*p != '\'') {
				put_char(buf, len, &used, *p);
				continue;
			}
			for (const char *q = "'\\''"; *q; q++)
				put_char(buf, len, &used, *q);
		}
		put_char(buf, len, &used, '\'');
	}
	if (len)
		buf[used < len ? used : len - 1] = '\0';
	return used;
}

size_t remote_line(const char *prefix, int argc, char **argv, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", prefix);

	return remote_words_append(buf, len, n > 0 ? (size_t)n : 0, argc, argv);
}
