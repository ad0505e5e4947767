// SPDX-License-Identifier: GPL-2.0-only
/* The shim: one node program's stdin and stdout, joined to its peers over UDP and to the
 * harness over a socket pair. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "lib/json.h"
#include "netem/maelstrom/maelstrom.h"

/* Bytes waiting to be written to a descriptor that may not take them all now. */
struct outq {
	char *buf;
	size_t len, cap;
};

static int outq_add(struct outq *q, const char *p, size_t n, bool newline)
{
	size_t need = q->len + n + 1;

	if (need > q->cap) {
		size_t cap = need * 2;
		char *b = realloc(q->buf, cap);

		if (!b)
			return -ENOMEM;
		q->buf = b;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, p, n);
	q->len += n;
	if (newline)
		q->buf[q->len++] = '\n';
	return 0;
}

/* Writes what the descriptor takes now. -1 when it is gone. */
static int outq_flush(struct outq *q, int fd)
{
	while (q->len) {
		ssize_t k = write(fd, q->buf, q->len);

		if (k < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		memmove(q->buf, q->buf + k, q->len - (size_t)k);
		q->len -= (size_t)k;
	}
	return 0;
}

/* Lines read from a descriptor, split as they come. */
struct inbuf {
	char *buf;
	size_t len, cap;
};

/* Reads what is there; -1 on EOF or error, else 0. */
static int inbuf_fill(struct inbuf *b, int fd)
{
	ssize_t k;

	if (b->cap - b->len < 65536) {
		size_t cap = b->cap ? b->cap * 2 : 131072;
		char *p = realloc(b->buf, cap);

		if (!p)
			return -1;
		b->buf = p;
		b->cap = cap;
	}
	k = read(fd, b->buf + b->len, b->cap - b->len - 1);
	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (k > 0)
		b->len += (size_t)k;
	return 0;
}

/* The next whole line (without its newline, NUL-terminated in place), or NULL. *consumed says
 * how far to drop after handling it. */
static char *inbuf_line(struct inbuf *b, size_t *consumed)
{
	char *nl = memchr(b->buf, '\n', b->len);

	if (!nl)
		return NULL;
	*nl = 0;
	*consumed = (size_t)(nl - b->buf) + 1;
	return b->buf;
}

static void inbuf_drop(struct inbuf *b, size_t n)
{
	memmove(b->buf, b->buf + n, b->len - n);
	b->len -= n;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void say(struct outq *to_harness, const char *fmt, const char *a, const char *b)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), fmt, a, b);

	outq_add(to_harness, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1),
		 true);
}

int mael_shim_run(const struct mael_shim *s)
{
	int in_pipe[2], out_pipe[2], udp, log_fd, status = 0, rc = 0;
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(MAEL_SHIM_PORT) };
	struct outq to_prog = { 0 }, to_harness = { 0 };
	struct inbuf from_prog = { 0 }, from_harness = { 0 };
	uint64_t sent = 0, received = 0;
	int bufsize = 8 << 20;
	static char dgram[MAEL_MAX_MESSAGE + 1];
	char self[16];
	bool harness_open = true;
	pid_t pid;

	snprintf(self, sizeof(self), "n%u", s->index);
	signal(SIGPIPE, SIG_IGN);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (udp < 0 || bind(udp, (struct sockaddr *)&me, sizeof(me))) {
		say(&to_harness, "!bad %s cannot bind its UDP port: %s", self, strerror(errno));
		outq_flush(&to_harness, s->harness_fd);
		return 1;
	}
	setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		/* --log-stderr: the program's stderr on the terminal, as Maelstrom's option. */
		if (log_fd >= 0 && !s->log_stderr)
			dup2(log_fd, 2);
		execvp(s->argv[0], s->argv);
		fprintf(stderr, "exec %s: %s\n", s->argv[0], strerror(errno));
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	nonblock(in_pipe[1]);
	nonblock(out_pipe[0]);
	nonblock(s->harness_fd);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = out_pipe[0], .events = POLLIN },
			{ .fd = udp, .events = POLLIN },
			{ .fd = harness_open ? s->harness_fd : -1, .events = POLLIN },
		};
		size_t used;
		char *line;

		if (poll(p, 3, to_prog.len || to_harness.len ? 5 : 1000) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			if (inbuf_fill(&from_prog, out_pipe[0])) {
				/* The program closed its stdout: it exited or is about to. */
				waitpid(pid, &status, 0);
				pid = 0;
				break;
			}
			while ((line = inbuf_line(&from_prog, &used))) {
				char dest[64];
				unsigned long k;
				char *end;

				if (!*line) {
					inbuf_drop(&from_prog, used);
					continue;
				}
				if (json_text_str(line, "dest", dest, sizeof(dest))) {
					say(&to_harness,
					    "!bad %s wrote a line that is not a message with a \"dest\": %.300s",
					    self, line);
					rc = 1;
					goto stop;
				}
				k = dest[0] == 'n' ? strtoul(dest + 1, &end, 10) : 0;
				if (dest[0] == 'n' && dest[1] && !*end && k < s->nodes) {
					struct sockaddr_in to = { .sin_family = AF_INET,
								  .sin_port = htons(MAEL_SHIM_PORT),
								  .sin_addr.s_addr =
									  htonl(s->addrs[k]) };
					size_t n = strlen(line);

					if (n > MAEL_MAX_MESSAGE) {
						say(&to_harness,
						    "!bad %s sent a message over 65000 bytes: %.200s",
						    self, line);
						rc = 1;
						goto stop;
					}
					/* Lost like a frame on a network: a full buffer drops it. */
					if (sendto(udp, line, n, MSG_DONTWAIT,
						   (struct sockaddr *)&to,
						   sizeof(to)) == (ssize_t)n)
						sent++;
				} else {
					outq_add(&to_harness, line, strlen(line), true);
				}
				inbuf_drop(&from_prog, used);
			}
		}
		if (p[1].revents & POLLIN) {
			ssize_t n;

			while ((n = recv(udp, dgram, sizeof(dgram) - 1, MSG_DONTWAIT)) > 0) {
				received++;
				outq_add(&to_prog, dgram, (size_t)n, true);
			}
		}
		if (harness_open && p[2].revents) {
			if (inbuf_fill(&from_harness, s->harness_fd)) {
				harness_open = false;
				goto stop;
			}
			while ((line = inbuf_line(&from_harness, &used))) {
				outq_add(&to_prog, line, strlen(line), true);
				inbuf_drop(&from_harness, used);
			}
		}
		if (outq_flush(&to_prog, in_pipe[1]) < 0) {
			waitpid(pid, &status, 0);
			pid = 0;
			break;
		}
		outq_flush(&to_harness, s->harness_fd);
	}
stop:
	if (pid > 0) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
			usleep(10000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	} else {
		char st[32];

		snprintf(st, sizeof(st), "%d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		say(&to_harness, "!exit %s %s", self, st);
	}
	{
		char stats[96];

		snprintf(stats, sizeof(stats), "!stats %s sent %llu received %llu", self,
			 (unsigned long long)sent, (unsigned long long)received);
		outq_add(&to_harness, stats, strlen(stats), true);
	}
	/* The harness may still be reading: give it everything before going. */
	fcntl(s->harness_fd, F_SETFL, fcntl(s->harness_fd, F_GETFL) & ~O_NONBLOCK);
	outq_flush(&to_harness, s->harness_fd);
	close(s->harness_fd);
	free(to_prog.buf);
	free(to_harness.buf);
	free(from_prog.buf);
	free(from_harness.buf);
	return rc;
}
