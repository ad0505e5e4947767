// SPDX-License-Identifier: GPL-2.0-only
/* `capnet watch` of a lab across hosts: every host's drops, merged in CLOCK_TAI order. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/cmd/hosts_cmd.h"

struct held_drop {
	uint64_t tai_ns;
	unsigned int host;
	char *line; /* as the host wrote it, after its time */
};

/* What the hosts have said and the controller not yet printed. A drop is printed once every
 * host still watching has said it read all its drops up to a later instant (its mark), so the
 * lines come out in time order whatever the order they arrived in. */
struct watch_merge {
	const struct lab_hosts *lh;
	bool json;
	struct held_drop *held;
	size_t n, cap;
	uint64_t mark[HOSTS_MAX];
	bool ended[HOSTS_MAX];
	char line[HOSTS_MAX][4096], err[HOSTS_MAX][1024];
	size_t used[HOSTS_MAX], err_used[HOSTS_MAX];
	unsigned long long printed, limit;
};

static void print_drop(struct watch_merge *m, const struct held_drop *d)
{
	const char *dest = m->lh->hosts.host[d->host].dest;
	size_t time_len = strcspn(d->line, " ");

	if (m->json) {
		printf("{\"host\":");
		json_write_string(stdout, dest);
		printf(",\"time_tai_ns\":%llu,%s\n", (unsigned long long)d->tai_ns, d->line + 1);
	} else {
		printf("%.*s host %s%s\n", (int)time_len, d->line, dest, d->line + time_len);
	}
	m->printed++;
}

static int by_time(const void *a, const void *b)
{
	const struct held_drop *x = a, *y = b;

	return x->tai_ns < y->tai_ns ? -1 : x->tai_ns > y->tai_ns ? 1 : (int)x->host - (int)y->host;
}

/* Prints, in time order, every held drop no host can still precede; all of them with all. */
static void release_drops(struct watch_merge *m, bool all)
{
	uint64_t upto = UINT64_MAX;
	size_t k = 0;

	for (unsigned int h = 0; h < m->lh->hosts.count && !all; h++)
		if (!m->ended[h] && m->mark[h] < upto)
			upto = m->mark[h];
	qsort(m->held, m->n, sizeof(*m->held), by_time);
	for (; k < m->n && (all || m->held[k].tai_ns <= upto); k++) {
		if (!m->limit || m->printed < m->limit)
			print_drop(m, &m->held[k]);
		free(m->held[k].line);
	}
	memmove(m->held, m->held + k, (m->n - k) * sizeof(*m->held));
	m->n -= k;
	fflush(stdout);
}

/* One line of host h: "E TAI LINE" a drop, "W TAI" its mark. */
static void take_watch_line(struct watch_merge *m, unsigned int h, char *line)
{
	char *rest;
	uint64_t t = strtoull(line + 2, &rest, 10);

	if (line[0] == 'W') {
		m->mark[h] = t;
	} else if (line[0] == 'E' && *rest == ' ') {
		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			struct held_drop *more = realloc(m->held, cap * sizeof(*more));

			if (!more)
				return;
			m->held = more;
			m->cap = cap;
		}
		m->held[m->n++] =
			(struct held_drop){ .tai_ns = t, .host = h, .line = strdup(rest + 1) };
		if (!m->held[m->n - 1].line)
			m->n--;
	}
}

/* Reads what host h wrote on fd (its output, or its errors): false at its end. */
static bool read_watch(struct watch_merge *m, unsigned int h, int fd, bool errors)
{
	char *buf = errors ? m->err[h] : m->line[h];
	size_t *used = errors ? &m->err_used[h] : &m->used[h], room = errors ? 1024 : 4096;
	ssize_t got = read(fd, buf + *used, room - 1 - *used);
	char *nl;

	if (got <= 0)
		return got < 0 && errno == EINTR;
	*used += got;
	buf[*used] = '\0';
	if (errors) {
		if (*used == room - 1)
			*used = 0; /* keeps its last words only */
		return true;
	}
	while ((nl = strchr(buf, '\n'))) {
		*nl = '\0';
		take_watch_line(m, h, buf);
		*used -= nl + 1 - buf;
		memmove(buf, nl + 1, *used + 1);
	}
	if (*used == room - 1)
		*used = 0; /* a line longer than any watch writes: not one */
	return true;
}

int hosts_watch(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static struct watch_merge m;
	static struct remote_child child[HOSTS_MAX];
	struct pollfd fds[2 * HOSTS_MAX];
	unsigned int lost = HOSTS_MAX;
	struct watch_args a;
	long long deadline = 0;
	int rc, status = 0, err;
	pid_t cmd = 0;

	cli_take_json(cli, &argc, argv);
	rc = watch_parse_args(argc, argv, &a);
	if (!rc && cli_need_root("capnet watch"))
		rc = EXIT_FAIL;
	if (!rc)
		rc = hosts_refuse_unless_whole(cli, lh, "watch");
	if (rc)
		return rc;
	memset(&m, 0, sizeof(m));
	m.lh = lh;
	m.json = cli->json;
	m.limit = a.count;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		err = remote_spawn(cli->lab, &lh->hosts.host[h], NULL,
				   cli->json ? "--json host watch" : "host watch", &child[h]);
		if (err) {
			for (unsigned int k = 0; k < h; k++)
				remote_wait(&child[k]);
			return report_fail("watch: host %s: %s", lh->hosts.host[h].dest,
					   strerror(-err));
		}
	}
	if (!cli->json)
		printf("# time: seconds of CLOCK_TAI, each host's drops moved onto it; host: the "
		       "host whose filter dropped the frame\n");
	fflush(stdout);
	if (a.cmd)
		cmd = watch_command_start(a.cmd);
	if (a.duration_ms)
		deadline = monotonic_ms() + a.duration_ms;
	while (cmd >= 0 && lost == HOSTS_MAX && (!m.limit || m.printed < m.limit)) {
		nfds_t n = 0;
		int wait = watch_next_wait(&deadline, &cmd, &status);

		if (wait < 0)
			break;
		for (unsigned int h = 0; h < lh->hosts.count; h++) {
			fds[n++] = (struct pollfd){ .fd = child[h].out, .events = POLLIN };
			fds[n++] = (struct pollfd){ .fd = child[h].err, .events = POLLIN };
		}
		if (poll(fds, n, wait) < 0 && errno != EINTR)
			break;
		for (unsigned int h = 0; h < lh->hosts.count; h++) {
			if (fds[2 * h + 1].revents)
				read_watch(&m, h, child[h].err, true);
			if (fds[2 * h].revents && !read_watch(&m, h, child[h].out, false)) {
				m.ended[h] = true;
				lost = h; /* a host's watch ends only when the controller ends it */
			}
		}
		release_drops(&m, false);
	}
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		/* Its end of file ends its watch; what it wrote meanwhile is still read. */
		close(child[h].in);
		child[h].in = -1;
		while (!m.ended[h] && read_watch(&m, h, child[h].out, false))
			;
		while (read_watch(&m, h, child[h].err, true))
			;
		remote_wait(&child[h]);
		if (m.err[h][0] && lost != h)
			hosts_relay_text(lh, h, m.err[h]);
	}
	release_drops(&m, true);
	free(m.held);
	if (cmd > 0) {
		kill(cmd, SIGTERM);
		waitpid(cmd, &status, 0);
	}
	if (lost < HOSTS_MAX)
		return report_fail("watch: host %s was lost: %s; %s", lh->hosts.host[lost].dest,
				   m.err[lost][0] ? hosts_said(hosts_last_line(m.err[lost])) :
						    "its watch ended",
				   hosts_not_whole_remedy(cli));
	if (cmd < 0)
		return EXIT_FAIL;
	return watch_command_end(cli, a.cmd, status, m.printed);
}
