// SPDX-License-Identifier: GPL-2.0-only
/* The shim: one node program's stdin and stdout, joined to its peers over UDP and to the
 * harness over a socket pair. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/wait.h>

#include "lib/json.h"
#include "lib/monotonic.h"
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

/* The body's type, msg_id and in_reply_to of a message line, for the message log; the type
 * kept to letters, digits, '-' and '_' so the log stays one word per field. */
static void describe(const struct json_value *root, char *type, size_t len, long long *msg_id,
		     long long *in_reply_to)
{
	const struct json_value *body = json_member(root, "body"), *v;
	uint64_t u;

	snprintf(type, len, "?");
	*msg_id = *in_reply_to = -1;
	if (!body || body->kind != JSON_OBJECT)
		return;
	v = json_member(body, "type");
	if (v && v->kind == JSON_STRING && v->str[0]) {
		snprintf(type, len, "%s", v->str);
		for (char *c = type; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
				*c = '_';
	}
	v = json_member(body, "msg_id");
	if (v && json_is_u64(v, &u))
		*msg_id = (long long)u;
	v = json_member(body, "in_reply_to");
	if (v && json_is_u64(v, &u))
		*in_reply_to = (long long)u;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void say(struct outq *to_harness, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct outq *to_harness, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	outq_add(to_harness, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1),
		 true);
}

int mael_id_parse(const char *name, char prefix, unsigned int limit)
{
	unsigned long v = 0;
	const char *c;

	/* "n1" and "n10", never "n01", "n", "n-1" or "n1x": one spelling per node. */
	if (name[0] != prefix || !name[1] || (name[1] == '0' && name[2]))
		return -EINVAL;
	for (c = name + 1; *c; c++) {
		if (*c < '0' || *c > '9' || v > limit)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	return v < limit ? (int)v : -EINVAL;
}

/* The numbers already received from one peer: a bit each. A number far beyond the highest yet
 * is refused, so that a forged one cannot make the bitmap grow without bound. */
struct seen {
	uint8_t *bits;
	uint64_t cap, highest;
};

enum { SEEN_AHEAD_MAX = 1 << 22 };

/* 1 new (now marked), 0 already seen, -EINVAL out of reach, -ENOMEM. */
static int seen_mark(struct seen *w, uint64_t seq)
{
	if (seq > w->highest + SEEN_AHEAD_MAX)
		return -EINVAL;
	if (seq >= w->cap) {
		uint64_t cap = (seq + 1) * 2 + 4096;
		uint8_t *b = realloc(w->bits, cap / 8);

		if (!b)
			return -ENOMEM;
		memset(b + w->cap / 8, 0, (cap - w->cap) / 8);
		w->bits = b;
		w->cap = cap / 8 * 8;
	}
	if (w->bits[seq / 8] & (1u << (seq % 8)))
		return 0;
	w->bits[seq / 8] |= (uint8_t)(1u << (seq % 8));
	if (seq > w->highest)
		w->highest = seq;
	return 1;
}

/* A peer's message is its own: the datagram came from that shim's address and port, and the
 * message inside says it is from that node and to this one. */
static bool message_is_from(const char *msg, size_t n, unsigned int src, unsigned int self)
{
	struct json_value root;
	const struct json_value *v;
	char want[16];
	bool ok;

	if (json_parse(msg, n, JSON_MAX_DEPTH_ANY, &root, NULL))
		return false;
	snprintf(want, sizeof(want), "n%u", src);
	v = json_member(&root, "src");
	ok = v && v->kind == JSON_STRING && !strcmp(v->str, want);
	snprintf(want, sizeof(want), "n%u", self);
	v = json_member(&root, "dest");
	ok = ok && v && v->kind == JSON_STRING && !strcmp(v->str, want);
	json_value_free(&root);
	return ok;
}

/* The program, on two pipes. */
struct prog {
	pid_t pid;
	int in_fd, out_fd; /* its stdin, its stdout; -1 while it is down */
};

static int start_program(const struct mael_shim *s, int log_fd, struct prog *p)
{
	int in_pipe[2], out_pipe[2];

	if (pipe2(in_pipe, O_CLOEXEC))
		return -1;
	if (pipe2(out_pipe, O_CLOEXEC)) {
		close(in_pipe[0]);
		close(in_pipe[1]);
		return -1;
	}
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		/* The shim ignores these; the program gets the usual defaults. */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* --log-stderr: the program's stderr on the terminal, as Maelstrom's option. */
		if (log_fd >= 0 && !s->log_stderr)
			dup2(log_fd, 2);
		execvp(s->argv[0], s->argv);
		fprintf(stderr, "exec %s: %s\n", s->argv[0], strerror(errno));
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	p->in_fd = in_pipe[1];
	p->out_fd = out_pipe[0];
	nonblock(p->in_fd);
	nonblock(p->out_fd);
	return 0;
}

/* The nemesis's kill: the process goes at once, with whatever it had not written. */
static void kill_program(struct prog *p)
{
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	close(p->in_fd);
	close(p->out_fd);
	p->in_fd = p->out_fd = -1;
	p->pid = 0;
}

int mael_shim_run(const struct mael_shim *s)
{
	int udp, log_fd, status = 0, rc = 0;
	struct prog prog = { .in_fd = -1, .out_fd = -1 };
	/* The harness's init and topology, given again to a program restarted after a kill. */
	struct outq setup = { 0 };
	bool down = false;
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(MAEL_SHIM_PORT) };
	struct outq to_prog = { 0 }, to_harness = { 0 };
	struct inbuf from_prog = { 0 }, from_harness = { 0 };
	uint64_t sent = 0, received = 0, seq = 0, forged = 0, repeated = 0;
	struct seen seen[MAEL_MAX_NODES] = { 0 };
	FILE *net_log = s->net_log_path ? fopen(s->net_log_path, "we") : NULL;
	int bufsize = 8 << 20;
	static char dgram[MAEL_MAX_MESSAGE + 1];
	char self[16];
	bool harness_open = true;
	pid_t pid = 0;

	snprintf(self, sizeof(self), "n%u", s->index);
	signal(SIGPIPE, SIG_IGN);
	/* A closed terminal is the harness's to handle: it stops the shims and tears down. */
	signal(SIGHUP, SIG_IGN);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (udp < 0 || bind(udp, (struct sockaddr *)&me, sizeof(me))) {
		say(&to_harness, "!bad %s cannot bind its UDP port: %s", self, strerror(errno));
		outq_flush(&to_harness, s->harness_fd);
		return 1;
	}
	setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (start_program(s, log_fd, &prog))
		return 1;
	pid = prog.pid;
	nonblock(s->harness_fd);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = prog.out_fd, .events = POLLIN },
			{ .fd = udp, .events = POLLIN },
			{ .fd = harness_open ? s->harness_fd : -1, .events = POLLIN },
		};
		size_t used;
		char *line;

		if (poll(p, 3, to_prog.len || to_harness.len ? 5 : 1000) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			if (inbuf_fill(&from_prog, prog.out_fd)) {
				/* The program closed its stdout: it exited or is about to. */
				waitpid(pid, &status, 0);
				pid = 0;
				break;
			}
			while ((line = inbuf_line(&from_prog, &used))) {
				const struct json_value *dv, *sv;
				struct json_value root;
				char dest[64] = "";

				if (!*line) {
					inbuf_drop(&from_prog, used);
					continue;
				}
				if (json_parse(line, strlen(line), JSON_MAX_DEPTH_ANY, &root,
					       NULL)) {
					say(&to_harness,
					    "!bad %s wrote a line that is not JSON: %.300s", self,
					    line);
					rc = 1;
					goto stop;
				}
				dv = json_member(&root, "dest");
				if (!dv || json_copy_string(dv, dest, sizeof(dest))) {
					json_value_free(&root);
					say(&to_harness,
					    "!bad %s wrote a message without a \"dest\": %.300s",
					    self, line);
					rc = 1;
					goto stop;
				}
				sv = json_member(&root, "src");
				if (!sv || sv->kind != JSON_STRING || strcmp(sv->str, self)) {
					json_value_free(&root);
					say(&to_harness,
					    "!bad %s wrote a message whose \"src\" is not itself: %.300s",
					    self, line);
					rc = 1;
					goto stop;
				}
				if (dest[0] == 'n' && mael_id_parse(dest, 'n', s->nodes) < 0) {
					json_value_free(&root);
					say(&to_harness,
					    "!bad %s sent a message to \"%s\", which names no node, "
					    "client or service in this test: %.300s",
					    self, dest, line);
					rc = 1;
					goto stop;
				}
				if (dest[0] == 'n') {
					unsigned long k =
						(unsigned long)mael_id_parse(dest, 'n', s->nodes);
					struct sockaddr_in to = { .sin_family = AF_INET,
								  .sin_port = htons(MAEL_SHIM_PORT),
								  .sin_addr.s_addr =
									  htonl(s->addrs[k]) };
					size_t n = strlen(line);
					char tag[32], type[40];
					long long msg_id, irt;
					struct iovec iov[2] = { { tag, 0 }, { line, n } };
					struct msghdr mh = { .msg_name = &to,
							     .msg_namelen = sizeof(to),
							     .msg_iov = iov,
							     .msg_iovlen = 2 };

					if (n > MAEL_MAX_MESSAGE) {
						json_value_free(&root);
						say(&to_harness,
						    "!bad %s sent a message over 65000 bytes: %.200s",
						    self, line);
						rc = 1;
						goto stop;
					}
					/* Numbered, so that a loss can be told from a delivery. */
					iov[0].iov_len = (size_t)snprintf(
						tag, sizeof(tag), "%c%llu ", MAEL_WIRE_TAG,
						(unsigned long long)++seq);
					describe(&root, type, sizeof(type), &msg_id, &irt);
					if (net_log)
						fprintf(net_log, "s %llu %llu %lu %s %lld %lld\n",
							(unsigned long long)seq,
							(unsigned long long)monotonic_ns(), k, type,
							msg_id, irt);
					/* Lost like a frame on a network: a full buffer drops it. */
					if (sendmsg(udp, &mh, MSG_DONTWAIT) ==
					    (ssize_t)(iov[0].iov_len + n))
						sent++;
				} else {
					outq_add(&to_harness, line, strlen(line), true);
				}
				json_value_free(&root);
				inbuf_drop(&from_prog, used);
			}
		}
		if (p[1].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t from_len = sizeof(from);
			ssize_t n;

			while ((n = recvfrom(udp, dgram, sizeof(dgram) - 1, MSG_DONTWAIT,
					     (struct sockaddr *)&from, &from_len)) > 0) {
				uint64_t msg_seq;
				size_t start;
				unsigned int src;

				from_len = sizeof(from);
				for (src = 0;
				     src < s->nodes && s->addrs[src] != ntohl(from.sin_addr.s_addr);
				     src++)
					;
				/* Only a peer shim's numbered messages, each once, from that peer
				 * and to this node, reach the program: anything else in the node's
				 * namespace could send from the peer's address, never from its
				 * bound port. */
				if (src == s->nodes || from.sin_port != htons(MAEL_SHIM_PORT) ||
				    mael_wire_parse(dgram, (size_t)n, &msg_seq, &start) ||
				    !message_is_from(dgram + start, (size_t)n - start, src,
						     s->index)) {
					forged++;
					continue;
				}
				switch (seen_mark(&seen[src], msg_seq)) {
				case 1:
					break;
				case 0:
					repeated++;
					continue;
				default:
					forged++;
					continue;
				}
				if (down) {
					if (net_log)
						fprintf(net_log, "d %u %llu %llu\n", src,
							(unsigned long long)msg_seq,
							(unsigned long long)monotonic_ns());
					continue;
				}
				received++;
				if (net_log)
					fprintf(net_log, "r %u %llu %llu\n", src,
						(unsigned long long)msg_seq,
						(unsigned long long)monotonic_ns());
				outq_add(&to_prog, dgram + start, (size_t)n - start, true);
			}
		}
		if (harness_open && p[2].revents) {
			if (inbuf_fill(&from_harness, s->harness_fd)) {
				harness_open = false;
				goto stop;
			}
			while ((line = inbuf_line(&from_harness, &used))) {
				/* The nemesis: !kill, !restart, !pause, !resume. */
				if (!strcmp(line, "!kill") && !down) {
					kill_program(&prog);
					pid = 0;
					to_prog.len = from_prog.len = 0;
					down = true;
				} else if (!strcmp(line, "!restart") && down) {
					if (start_program(s, log_fd, &prog)) {
						say(&to_harness, "!bad %s could not be restarted",
						    self);
						rc = 1;
						goto stop;
					}
					pid = prog.pid;
					down = false;
					outq_add(&to_prog, setup.buf, setup.len, false);
				} else if (!strcmp(line, "!pause") && !down) {
					kill(prog.pid, SIGSTOP);
				} else if (!strcmp(line, "!resume") && !down) {
					kill(prog.pid, SIGCONT);
				} else if (line[0] != '!') {
					if (strstr(line, "\"type\":\"init\"") ||
					    strstr(line, "\"type\":\"topology\""))
						outq_add(&setup, line, strlen(line), true);
					if (!down)
						outq_add(&to_prog, line, strlen(line), true);
				}
				inbuf_drop(&from_harness, used);
			}
		}
		if (!down && outq_flush(&to_prog, prog.in_fd) < 0) {
			waitpid(pid, &status, 0);
			pid = 0;
			break;
		}
		outq_flush(&to_harness, s->harness_fd);
	}
stop:
	if (pid > 0) {
		kill(pid, SIGCONT); /* a paused program could not take its SIGTERM */
		kill(pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
			usleep(10000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	} else if (!down) {
		char st[32];

		snprintf(st, sizeof(st), "%d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		say(&to_harness, "!exit %s %s", self, st);
	}
	{
		char stats[160];

		snprintf(stats, sizeof(stats),
			 "!stats %s sent %llu received %llu forged %llu repeated %llu", self,
			 (unsigned long long)sent, (unsigned long long)received,
			 (unsigned long long)forged, (unsigned long long)repeated);
		outq_add(&to_harness, stats, strlen(stats), true);
	}
	/* The log first: the harness reads it as soon as this side closes. */
	if (net_log)
		fclose(net_log);
	net_log = NULL;
	/* The harness may still be reading: give it everything before going. */
	fcntl(s->harness_fd, F_SETFL, fcntl(s->harness_fd, F_GETFL) & ~O_NONBLOCK);
	outq_flush(&to_harness, s->harness_fd);
	close(s->harness_fd);
	free(to_prog.buf);
	free(setup.buf);
	free(to_harness.buf);
	free(from_prog.buf);
	free(from_harness.buf);
	for (unsigned int i = 0; i < s->nodes; i++)
		free(seen[i].bits);
	return rc;
}
