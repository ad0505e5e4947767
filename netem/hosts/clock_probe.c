// SPDX-License-Identifier: GPL-2.0-only
/* The clocks of a lab's hosts, measured: chronyc (else pmc) on each host, and round trips through one ssh
 * session per host (`capnet host clock` answering lines with its CLOCK_TAI). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/hosts/clock_probe.h"
#include "netem/hosts/remote.h"

/* Round trips per host: the shortest decides the bound, and a few suffice to meet one that
 * was not delayed by the scheduler. */
#define SAMPLES 16
/* How long chronyc or pmc, and a host's answer, may take: bounds for a broken host, not
 * claims. */
#define CHRONYC_MS 3000
#define ANSWER_MS 15000
/* chronyd's command socket on Debian: asked there only, so that a host without chronyd answers
 * at once instead of after chronyc's retries over UDP. */
#define CHRONYD_SOCKET "/run/chrony/chronyd.sock"

/* A daemon's client (argv), its output on the returned descriptor, its input and errors on
 * /dev/null; -errno. */
static int spawn_client(char *const argv[], pid_t *pid)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	*pid = fork();
	if (*pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	if (*pid < 0) {
		close(fds[0]);
		return -errno;
	}
	return fds[0];
}

/* chrony's bound on this machine's clock, or -errno (no chronyc, no chronyd, not synchronised). */
static int chrony_bound(uint64_t *bound_ns)
{
	static char *const argv[] = {
		"chronyc", "-c", "-n", "-h", CHRONYD_SOCKET, "tracking", NULL
	};
	char line[512];
	int fd, status, err;
	pid_t pid;

	fd = spawn_client(argv, &pid);
	if (fd < 0)
		return fd;
	err = remote_read_line(fd, line, sizeof(line), CHRONYC_MS);
	close(fd);
	if (err)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = -ENODATA;
	return err ? err : clock_bound_chrony(line, bound_ns);
}

/* ptp4l's bound on this machine's PTP clock, through pmc over ptp4l's local socket, or -errno
 * (no pmc, no ptp4l, no grandmaster). pmc's answer spans lines: read to its end. */
static int ptp_bound(uint64_t *bound_ns)
{
	static char *const argv[] = { "pmc", "-u", "-b", "0", "GET TIME_STATUS_NP", NULL };
	long long deadline = monotonic_ms() + CHRONYC_MS;
	char text[4096];
	size_t used = 0;
	int fd, status;
	pid_t pid;

	fd = spawn_client(argv, &pid);
	if (fd < 0)
		return fd;
	while (used + 1 < sizeof(text)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(fd, text + used, sizeof(text) - 1 - used);
		if (n <= 0)
			break;
		used += n;
	}
	text[used] = '\0';
	close(fd);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return clock_bound_pmc(text, bound_ns);
}

/* CLOCK_TAI - CLOCK_REALTIME in whole seconds: the kernel's TAI offset, which chrony sets only
 * where told to. Hosts whose offsets differ have TAI clocks seconds apart even when chrony keeps
 * their wall clocks together. */
long clock_tai_offset_s(void)
{
	struct timespec real;
	uint64_t tai = tai_ns();

	clock_gettime(CLOCK_REALTIME, &real);
	return (long)((int64_t)(tai - ((uint64_t)real.tv_sec * 1000000000ull + real.tv_nsec) +
				500000000) /
		      1000000000);
}

int clock_probe_serve(void)
{
	char line[64], hello[128];
	uint64_t bound = 0;
	int n;

	if (!chrony_bound(&bound))
		n = snprintf(hello, sizeof(hello), "capnet-clock %ld chrony %llu\n",
			     clock_tai_offset_s(), (unsigned long long)bound);
	else if (!ptp_bound(&bound))
		n = snprintf(hello, sizeof(hello), "capnet-clock %ld ptp %llu\n",
			     clock_tai_offset_s(), (unsigned long long)bound);
	else
		n = snprintf(hello, sizeof(hello), "capnet-clock %ld none\n", clock_tai_offset_s());
	if (write(STDOUT_FILENO, hello, n) != n)
		return -EPIPE;
	/* Stamped as late as possible before the answer leaves: the bound is on the round trip. */
	while (!remote_read_line(STDIN_FILENO, line, sizeof(line), 60000)) {
		n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)tai_ns());
		if (write(STDOUT_FILENO, line, n) != n)
			return -EPIPE;
	}
	return 0;
}

struct probe {
	struct remote_child child;
	long tai_offset;
	bool synced; /* its clock sync answered: daemon and daemon_bound hold */
	enum clock_source daemon;
	uint64_t daemon_bound;
	struct clock_sample sample[SAMPLES];
};

/* The host's first line: "capnet-clock TAI_OFFSET none|chrony BOUND|ptp BOUND". */
static int parse_hello(const char *line, struct probe *p)
{
	unsigned long long bound = 0;
	char what[16];
	int n = sscanf(line, "capnet-clock %ld %15s %llu", &p->tai_offset, what, &bound);

	if (n >= 2 && !strcmp(what, "none"))
		return 0;
	if (n == 3 && (!strcmp(what, "chrony") || !strcmp(what, "ptp"))) {
		p->synced = true;
		p->daemon = !strcmp(what, "ptp") ? CLOCK_SOURCE_PTP : CLOCK_SOURCE_CHRONY;
		p->daemon_bound = bound;
		return 0;
	}
	return -EPROTO;
}

static int round_trips(struct probe *p)
{
	char line[64];
	int err;

	for (int i = 0; i < SAMPLES; i++) {
		struct clock_sample *s = &p->sample[i];

		s->sent = tai_ns();
		if (write(p->child.in, "\n", 1) != 1)
			return -EPIPE;
		err = remote_read_line(p->child.out, line, sizeof(line), ANSWER_MS);
		s->received = tai_ns();
		if (err)
			return err;
		s->remote = strtoull(line, NULL, 10);
	}
	return 0;
}

/* Why a host's probe failed, for a person: the last line its ssh or capnet said. */
static void note_failure(const struct host_dest *h, struct probe *p, int err)
{
	char why[512] = "";
	ssize_t n;

	fcntl(p->child.err, F_SETFL, O_NONBLOCK);
	n = read(p->child.err, why, sizeof(why) - 1);
	why[n > 0 ? n : 0] = '\0';
	why[strcspn(why, "\n")] = '\0';
	error_note("host %s: measuring its clock: %s", h->dest, why[0] ? why : strerror(-err));
}

int clock_probe_hosts(const char *lab, const struct host_list *hosts, struct host_clock *out)
{
	static struct probe probe[HOSTS_MAX];
	bool all_synced = true;
	char line[128];
	int err = 0;

	for (unsigned int h = 0; h < hosts->count && !err; h++) {
		struct probe *p = &probe[h];

		memset(p, 0, sizeof(*p));
		p->child.pid = -1;
		if (hosts->host[h].local) {
			p->tai_offset = clock_tai_offset_s();
			p->daemon = CLOCK_SOURCE_CHRONY;
			p->synced = !chrony_bound(&p->daemon_bound);
			if (!p->synced) {
				p->daemon = CLOCK_SOURCE_PTP;
				p->synced = !ptp_bound(&p->daemon_bound);
			}
		} else {
			err = remote_spawn(lab, &hosts->host[h], NULL, "host clock", &p->child);
			if (!err)
				err = remote_read_line(p->child.out, line, sizeof(line), ANSWER_MS);
			if (!err)
				err = parse_hello(line, p);
			if (!err)
				err = round_trips(p);
			if (err)
				note_failure(&hosts->host[h], p, err);
			if (remote_wait(&p->child) && !err) {
				error_note("host %s: `capnet host clock` failed",
					   hosts->host[h].dest);
				err = -EIO;
			}
		}
		all_synced &= p->synced && p->tai_offset == probe[0].tai_offset;
	}
	if (err)
		return err;
	for (unsigned int h = 0; h < hosts->count; h++) {
		struct host_clock *c = &out[h];

		*c = (struct host_clock){ .source = all_synced ? probe[h].daemon :
								 CLOCK_SOURCE_SSH };
		if (all_synced) {
			c->bound_ns = probe[h].daemon_bound;
		} else if (!hosts->host[h].local) {
			err = clock_bound_samples(probe[h].sample, SAMPLES, &c->offset_ns,
						  &c->bound_ns);
			if (err) {
				error_note("host %s: its clock moved while measured (stepped?): "
					   "measure again",
					   hosts->host[h].dest);
				return err;
			}
		}
	}
	return 0;
}
