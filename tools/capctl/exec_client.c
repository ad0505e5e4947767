// SPDX-License-Identifier: GPL-2.0-only
/* Client programs as processes: pipes, a process group, lines with deadlines, the stderr tail. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "lib/files.h"
#include "lib/monotonic.h"
#include "netem/lab/topology.h"
#include "netem/svc/placeholder.h"
#include "tools/capctl/exec_client.h"

#define MAX_ARGS 64
#define ARG_MAX_LEN 8192

struct ip_ctx {
	const char *lab;
};

static void node_ip(unsigned int node, char *buf, size_t len, void *arg)
{
	const struct ip_ctx *ctx = arg;
	char ns[64];

	lab_node_ns(ctx->lab, node, ns, sizeof(ns));
	if (netns_address(ns, buf, len))
		buf[0] = 0;
}

int exec_program_check(const struct exec_program *p, char *err, size_t errlen)
{
	struct spec_error e;

	if (p->argc < 1 || p->argc > MAX_ARGS) {
		snprintf(err, errlen, "a client program takes at most %d arguments", MAX_ARGS - 1);
		return -EINVAL;
	}
	for (int i = 0; i < p->argc; i++)
		if (placeholder_check(p->argv[i], &e)) {
			snprintf(err, errlen, "client program argument %d: %s", i, e.msg);
			return -EINVAL;
		}
	return 0;
}

/* The last lines of what the program wrote on stderr, for a person, into c->error after msg. */
static void say(struct exec_client *c, const char *msg)
{
	size_t n = c->tail_len, start;
	int lines = 0;

	while (n && (c->tail[n - 1] == '\n' || c->tail[n - 1] == ' '))
		n--;
	start = n;
	while (start && lines < 3) {
		start--;
		if (c->tail[start] == '\n' && ++lines == 3) {
			start++;
			break;
		}
	}
	if (!n) {
		snprintf(c->error, sizeof(c->error), "client program on node %u: %s (stderr empty)",
			 c->node, msg);
		return;
	}
	snprintf(c->error, sizeof(c->error), "client program on node %u: %s; its stderr ends: %.*s",
		 c->node, msg, (int)(n - start), c->tail + start);
	for (char *p = c->error; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

/* Keeps the last EXEC_STDERR_TAIL bytes of stderr; what comes now is read without waiting. */
static void drain_stderr(struct exec_client *c)
{
	char buf[4096];
	ssize_t n;

	while (c->err_fd >= 0 && (n = read(c->err_fd, buf, sizeof(buf))) > 0) {
		if ((size_t)n >= sizeof(c->tail)) {
			memcpy(c->tail, buf + n - sizeof(c->tail), sizeof(c->tail));
			c->tail_len = sizeof(c->tail);
			continue;
		}
		if (c->tail_len + n > sizeof(c->tail)) {
			size_t drop = c->tail_len + n - sizeof(c->tail);

			memmove(c->tail, c->tail + drop, c->tail_len - drop);
			c->tail_len -= drop;
		}
		memcpy(c->tail + c->tail_len, buf, n);
		c->tail_len += n;
	}
}

/* How the program ended, once it has (waited for briefly: its stdout closing comes first). */
static void exit_status(struct exec_client *c, char *buf, size_t len)
{
	int status = 0;
	pid_t got = 0;

	for (int i = 0; i < 50 && (got = waitpid(c->pid, &status, WNOHANG)) == 0; i++)
		usleep(10000);
	if (got == c->pid) {
		c->pid = 0;
		if (WIFEXITED(status))
			snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
		else
			snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		return;
	}
	snprintf(buf, len, "closed its stdout");
}

int exec_clients_adopt_strays(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1) ? -errno : 0;
}

/* Every child of this process, by /proc: strays are re-parented here as their parents die. */
static size_t children_of_self(pid_t *pids, size_t max)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir("/proc");
	pid_t self = getpid();

	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		long ppid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (files_read_small(path, buf, sizeof(buf)) <= 0)
			continue;
		/* pid (comm) state ppid ...: comm may hold spaces and parentheses. */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != self)
			continue;
		pids[n++] = (pid_t)atol(de->d_name);
	}
	closedir(d);
	return n;
}

void exec_clients_end_strays(void)
{
	pid_t pids[256];
	size_t n, i;

	/* Killing one stray may re-parent its own children here: again until none is left. */
	while ((n = children_of_self(pids, sizeof(pids) / sizeof(pids[0])))) {
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		for (i = 0; i < n; i++)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	}
}

void exec_client_stop(struct exec_client *c)
{
	if (!c->started)
		return;
	c->started = false;
	if (c->pid > 0) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = 0;
	if (c->to_fd >= 0)
		close(c->to_fd);
	if (c->from_fd >= 0)
		close(c->from_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->to_fd = c->from_fd = c->err_fd = -1;
	free(c->line);
	c->line = NULL;
	c->used = 0;
}

/* Writes a whole line, waiting for the pipe until the deadline. -EPIPE when nobody reads. */
static int write_line(struct exec_client *c, const char *line, size_t len, long long deadline)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = c->to_fd, .events = POLLOUT };
		long long left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		n = write(c->to_fd, line + done, len - done);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == EPIPE ? (done ? -ECONNRESET : -EPIPE) : -errno;
		if (n > 0)
			done += n;
	}
	return 0;
}

/* Reads up to the next newline (stderr drained meanwhile). 0 with c->line a NUL-terminated line
 * of c->used bytes, -ETIMEDOUT, -ECONNRESET (end of file) or -EMSGSIZE. */
static int read_line(struct exec_client *c, long long deadline)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = c->from_fd, .events = POLLIN },
				       { .fd = c->err_fd, .events = POLLIN } };
		long long left = deadline - monotonic_ms();
		char *nl = c->used ? memchr(c->line, '\n', c->used) : NULL;
		ssize_t n;

		if (nl) {
			*nl = 0;
			c->line_len = (size_t)(nl - c->line);
			return 0;
		}
		if (c->used >= EXEC_LINE_MAX)
			return -EMSGSIZE;
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents)
			drain_stderr(c);
		if (!p[0].revents)
			continue;
		if (!c->line) {
			c->line = malloc(EXEC_LINE_MAX + 1);
			if (!c->line)
				return -ENOMEM;
		}
		n = read(c->from_fd, c->line + c->used, EXEC_LINE_MAX - c->used);
		if (n == 0) {
			drain_stderr(c);
			return -ECONNRESET;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			c->used += n;
	}
}

/* After an answer line: what followed it stays for the next one (a program may not write
 * more, but the protocol is read line by line). */
static void consume_line(struct exec_client *c)
{
	size_t len = c->line_len + 1;

	memmove(c->line, c->line + len, c->used - len);
	c->used -= len;
}

/* Says why a call got no answer, in c->error, and returns err. */
static int lost(struct exec_client *c, int err, long timeout_ms)
{
	char msg[200];

	switch (err) {
	case -ETIMEDOUT:
		snprintf(msg, sizeof(msg), "no answer within %ld ms", timeout_ms);
		break;
	case -EMSGSIZE:
		snprintf(msg, sizeof(msg), "wrote a line longer than %u bytes", EXEC_LINE_MAX);
		break;
	case -ECONNRESET:
	case -EPIPE: {
		char how[100];

		exit_status(c, how, sizeof(how));
		snprintf(msg, sizeof(msg), "%s", how);
		break;
	}
	default:
		snprintf(msg, sizeof(msg), "%s", strerror(-err));
	}
	drain_stderr(c);
	say(c, msg);
	return err;
}

/* Writes one line built by fn, then reads its answer line. */
static int exchange(struct exec_client *c, int (*fn)(FILE *f, const void *arg), const void *arg,
		    long timeout_ms)
{
	long long deadline = monotonic_ms() + timeout_ms;
	char *text = NULL;
	size_t len = 0;
	FILE *ms = open_memstream(&text, &len);
	int err;

	if (!ms)
		return -ENOMEM;
	err = fn(ms, arg);
	if (fclose(ms) && !err)
		err = -ENOMEM;
	if (!err)
		err = write_line(c, text, len, deadline);
	free(text);
	if (!err)
		err = read_line(c, deadline);
	return err ? lost(c, err, timeout_ms) : 0;
}

static int write_init(FILE *f, const void *arg)
{
	return exec_init_write(f, arg);
}

static int write_request(FILE *f, const void *arg)
{
	return exec_request_write(f, arg);
}

static int set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ? -errno : 0;
}

/* The child's side: its pipes as stdin, stdout and stderr, then the program. An exec that fails
 * says why on status_fd (closed by a successful exec). */
static void __attribute__((noreturn))
run_child(char **argv, int in, int out, int err, int status_fd)
{
	int e;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	e = errno;
	if (write(status_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int exec_client_start(struct exec_client *c, const struct exec_program *p, unsigned int node,
		      uint64_t process, long timeout_ms)
{
	char *expanded = NULL;
	struct ip_ctx ipc = { .lab = p->lab };
	const struct placeholder_ctx ctx = { .nodes = p->nodes, .ip = node_ip, .arg = &ipc };
	const struct exec_init init = {
		.node = node, .nodes = p->nodes, .process = process, .shape = p->shape
	};
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	int status[2] = { -1, -1 }, err, e;
	char *argv[MAX_ARGS + 1], ns[64];
	struct exec_answer a;
	struct spec_error se;
	char why[300];
	ssize_t n;

	memset(c, 0, sizeof(*c));
	c->started = true;
	c->to_fd = c->from_fd = c->err_fd = -1;
	c->node = node;
	c->next_id = 1;
	if (p->argc < 1 || p->argc > MAX_ARGS)
		return -EINVAL;
	expanded = malloc((size_t)p->argc * ARG_MAX_LEN);
	if (!expanded)
		return -ENOMEM;
	for (int i = 0; i < p->argc; i++) {
		argv[i] = expanded + (size_t)i * ARG_MAX_LEN;
		if (placeholder_expand(p->argv[i], node, &ctx, argv[i], ARG_MAX_LEN, &se)) {
			snprintf(c->error, sizeof(c->error), "client program argument %d: %s", i,
				 se.msg);
			free(expanded);
			return -EINVAL;
		}
	}
	argv[p->argc] = NULL;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC) ||
	    pipe2(status, O_CLOEXEC)) {
		err = -errno;
		snprintf(c->error, sizeof(c->error), "pipes for a client program: %s",
			 strerror(-err));
		goto fail;
	}
	lab_node_ns(p->lab, node, ns, sizeof(ns));
	c->pid = netns_fork_session(ns);
	if (c->pid < 0) {
		err = c->pid;
		c->pid = 0;
		snprintf(c->error, sizeof(c->error), "fork a client program: %s", strerror(-err));
		goto fail;
	}
	if (c->pid == 0)
		run_child(argv, in[0], out[1], err_pipe[1], status[1]);
	close(in[0]);
	close(out[1]);
	close(err_pipe[1]);
	close(status[1]);
	in[0] = out[1] = err_pipe[1] = status[1] = -1;
	c->to_fd = in[1];
	c->from_fd = out[0];
	c->err_fd = err_pipe[0];
	in[1] = out[0] = err_pipe[0] = -1;
	while ((n = read(status[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(status[0]);
	status[0] = -1;
	if (n == sizeof(e))
		snprintf(c->error, sizeof(c->error), "cannot run %s on node %u: %s", argv[0], node,
			 strerror(e));
	free(expanded);
	expanded = NULL;
	if (n == sizeof(e)) {
		exec_client_stop(c);
		return -e;
	}
	if (set_nonblocking(c->to_fd) || set_nonblocking(c->from_fd) ||
	    set_nonblocking(c->err_fd)) {
		err = -errno;
		snprintf(c->error, sizeof(c->error), "client program pipes: %s", strerror(-err));
		exec_client_stop(c);
		return err;
	}
	err = exchange(c, write_init, &init,
		       timeout_ms > EXEC_START_MS ? timeout_ms : EXEC_START_MS);
	if (!err) {
		err = exec_answer_parse(c->line, c->line_len, 0, HISTORY_WRITE, p->shape, &a, why,
					sizeof(why));
		if (!err && a.type != HISTORY_OK) {
			snprintf(why, sizeof(why), "refused init (%s: %s)",
				 history_type_name(a.type), a.error ? a.error : "no reason given");
			err = -ECONNREFUSED;
		}
		if (!err)
			exec_answer_free(&a);
		if (!err)
			consume_line(c);
		else {
			drain_stderr(c);
			say(c, why);
		}
	} else if (err == -ETIMEDOUT) {
		char msg[160];

		snprintf(msg, sizeof(msg), "did not answer init within %d ms",
			 timeout_ms > EXEC_START_MS ? (int)timeout_ms : EXEC_START_MS);
		say(c, msg);
	}
	if (err) {
		exec_client_stop(c);
		return err;
	}
	return 0;
fail:
	free(expanded);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
		if (status[i] >= 0)
			close(status[i]);
	}
	exec_client_stop(c);
	return err;
}

int exec_client_call(struct exec_client *c, struct exec_request *req, enum exec_shape shape,
		     long timeout_ms, struct exec_answer *a)
{
	char why[300];
	int err;

	if (!c->pid) {
		snprintf(c->error, sizeof(c->error), "client program on node %u is not running",
			 c->node);
		return -EPIPE;
	}
	req->id = c->next_id++;
	err = exchange(c, write_request, req, timeout_ms);
	if (err)
		return err;
	err = exec_answer_parse(c->line, c->line_len, req->id, req->f, shape, a, why, sizeof(why));
	if (err) {
		drain_stderr(c);
		say(c, why);
		return err;
	}
	consume_line(c);
	return 0;
}
