// SPDX-License-Identifier: GPL-2.0-only
/* A UDP flood between two network namespaces for make bench: one sender thread blasting
 * minimum-size frames with sendmmsg, one receiver draining with recvmmsg. Counts what arrives,
 * so the rate measured is the network path's (bridge, tc filter, netfilter rules) and not a
 * tool's.
 *
 * Two modes. A fixed flood (the default) prints what was sent and what arrived in one window;
 * its total_received, every datagram that arrived warm-up included, is the atomicity probe: on
 * a link that stays cut it must be 0. A switching flood (--variant, given two or more times)
 * compares configurations of the path within ONE flood: it enters each variant in turn by
 * running its shell command, lets the path settle, counts a short window, and goes on, round
 * after round. The machine's speed drifts by several percent over seconds, far more than the
 * differences measured (tens of ns on a ~4 us path), so separate floods cannot tell the
 * variants apart; windows a fraction of a second apart, in an order that is the same read
 * forwards and backwards, share the drift, and per-round ratios cancel it. Its rates are per
 * second of the path's CPU time (path_cpu_s), so that other work on the machine takes time
 * away rather than frames. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "netem/lab/topology.h"

#define BATCH 64
/* 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + 22 = 64 bytes on the veth: the minimum frame. */
#define DEFAULT_PAYLOAD 22
#define MAX_VARIANTS 8

static atomic_bool stop_rx;
static atomic_ullong received;
/* The receiver polls instead of sleeping: a sleeping reader costs the sender's CPU a wake-up
 * for some frames and not others, depending on how far behind the reader is, and that varies
 * more than the differences a switching flood measures. */
static bool rx_polls;
/* Switching floods number their datagrams (the first 8 bytes of the payload) and the receiver
 * marks each number that arrives: a window then counts exactly the datagrams sent during it
 * that arrived, however far behind the receiver was at its edges. */
static unsigned char *arrived;
static unsigned long long arrived_cap;

struct sender {
	int fd;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	char bufs[BATCH][1472];
	unsigned long long sent; /* also the number the next datagram carries */
};

struct variant {
	const char *name;
	const char *cmd;
};

/* One counted window: the datagrams numbered [first, first + sent) were sent during it, and
 * received of them arrived; secs of wall-clock time, cpu_secs the path was given (path_cpu_s). */
struct window_count {
	unsigned long long first;
	unsigned long long sent;
	unsigned long long received;
	double secs;
	double cpu_secs;
};

struct switching {
	const struct variant *variants;
	int n_variants;
	int rounds;
	double settle;
	double window;
	bool wall; /* compare rates over wall-clock time instead of CPU time */
	bool verbose;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int softirqd_fd = -1;

/* Opens /proc/PID/schedstat of ksoftirqd/0, the thread that takes softirqs over from the
 * sender's CPU (0) when they pile up. Without it, path_cpu_s counts the sender alone. */
static void softirqd_open(void)
{
	static const char name[] = "ksoftirqd/0\n";
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], comm[32];

	while (d && (e = readdir(d))) {
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, comm, sizeof(comm));
		close(fd);
		if (n == sizeof(name) - 1 && !memcmp(comm, name, (size_t)n)) {
			snprintf(path, sizeof(path), "/proc/%s/schedstat", e->d_name);
			softirqd_fd = open(path, O_RDONLY | O_CLOEXEC);
			break;
		}
	}
	if (d)
		closedir(d);
}

/* The CPU time the path has had: the sender thread's (without IRQ time accounting, the
 * softirqs that carry each frame across the bridge, the tc filter and the receiver's netfilter
 * run in its time, all on its CPU) and ksoftirqd/0's. Unlike wall-clock time it stops while
 * other work has the CPU (steal time is not counted either), so a rate over it measures what
 * a frame costs, not how busy the machine is. */
static double path_cpu_s(void)
{
	unsigned long long softirqd_ns = 0;
	struct timespec ts;
	char buf[128];
	ssize_t n;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	if (softirqd_fd >= 0 && (n = pread(softirqd_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		softirqd_ns = strtoull(buf, NULL, 10);
	}
	return ts.tv_sec + ts.tv_nsec / 1e9 + softirqd_ns / 1e9;
}

static int socket_in(const char *ns, int *fd)
{
	int saved, err = 0;

	saved = netns_enter(ns);
	if (saved < 0) {
		fprintf(stderr, "udp_flood: enter namespace %s: %s\n", ns, strerror(-saved));
		return saved;
	}
	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		err = -errno;
		fprintf(stderr, "udp_flood: socket in %s: %s\n", ns, strerror(errno));
	}
	netns_return(saved);
	return err;
}

/* Sender and receiver on CPUs of their own (when there are two): the scheduler moving them
 * around is noise, not the network path. */
static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *rx_main(void *arg)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int fd = *(int *)arg, i, n;

	pin_cpu(1);
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&stop_rx)) {
		n = recvmmsg(fd, msgs, BATCH, rx_polls ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		atomic_fetch_add(&received, (unsigned long long)n);
		for (i = 0; arrived && i < n; i++) {
			unsigned long long seq;

			if (msgs[i].msg_len < sizeof(seq))
				continue;
			memcpy(&seq, bufs[i], sizeof(seq));
			if (seq < arrived_cap)
				arrived[seq / 8] |= (unsigned char)(1u << (seq % 8));
		}
	}
	return NULL;
}

static void sender_init(struct sender *s, int fd, unsigned int payload)
{
	int i;

	memset(s->bufs, 0xa5, sizeof(s->bufs));
	s->fd = fd;
	s->sent = 0;
	for (i = 0; i < BATCH; i++) {
		s->iov[i].iov_base = s->bufs[i];
		s->iov[i].iov_len = payload;
		memset(&s->msgs[i], 0, sizeof(s->msgs[i]));
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Sends batches until t_end; returns the time it stopped, or a negative value after an error
 * that a flood cannot go on from (a full queue or a refused port is only a lost batch). */
static double sender_run_until(struct sender *s, double t_end)
{
	double t;
	int n;

	while ((t = now_s()) < t_end) {
		for (n = 0; arrived && n < BATCH; n++) {
			unsigned long long seq = s->sent + (unsigned long long)n;

			memcpy(s->bufs[n], &seq, sizeof(seq));
		}
		n = sendmmsg(s->fd, s->msgs, BATCH, 0);
		if (n > 0)
			s->sent += (unsigned long long)n;
		else if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED &&
			 errno != EINTR) {
			fprintf(stderr, "udp_flood: sendmmsg: %s\n", strerror(errno));
			return -1;
		}
	}
	return t;
}

static int flood_fixed(struct sender *s, double warmup, double secs)
{
	unsigned long long rx_start, rx_end, sent_start;
	double t_start, t_end;

	t_start = sender_run_until(s, now_s() + warmup);
	if (t_start < 0)
		return -1;
	rx_start = atomic_load(&received);
	sent_start = s->sent;
	t_end = sender_run_until(s, t_start + secs);
	if (t_end < 0)
		return -1;
	/* What is still in flight or queued at the socket was sent during the window. */
	usleep(100000);
	rx_end = atomic_load(&received);
	printf("sent %llu received %llu seconds %.3f rx_pps %.0f total_received %llu\n",
	       s->sent - sent_start, rx_end - rx_start, t_end - t_start,
	       (rx_end - rx_start) / (t_end - t_start), rx_end);
	return 0;
}

/* Runs the command that puts the path into variant v. The sender waits meanwhile, so the
 * command's processes (which inherit the sender's CPU) do not compete with the receiver. */
static int variant_enter(const struct variant *v)
{
	int status = system(v->cmd);

	if (status == -1) {
		fprintf(stderr, "udp_flood: variant %s: cannot run a shell: %s\n", v->name,
			strerror(errno));
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "udp_flood: variant %s: '%s' failed (status %d)\n", v->name, v->cmd,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* Enters variant v, floods through the settling time uncounted (the queues drained while the
 * command ran, and its processes left the caches cold), then counts one window into w. */
static int switching_window(struct sender *s, const struct switching *sw, int v,
			    struct window_count *w)
{
	double t_start, t_end, cpu_start;

	if (variant_enter(&sw->variants[v]))
		return -1;
	t_start = sender_run_until(s, now_s() + sw->settle);
	if (t_start < 0)
		return -1;
	w->first = s->sent;
	cpu_start = path_cpu_s();
	t_end = sender_run_until(s, t_start + sw->window);
	if (t_end < 0)
		return -1;
	w->cpu_secs = path_cpu_s() - cpu_start;
	w->sent = s->sent - w->first;
	w->secs = t_end - t_start;
	return 0;
}

/* How many of the datagrams numbered [first, first + n) arrived. */
static unsigned long long count_arrived(unsigned long long first, unsigned long long n)
{
	unsigned long long seq = first, end = first + n, count = 0;

	for (; seq < end && seq % 8; seq++)
		count += arrived[seq / 8] >> (seq % 8) & 1;
	for (; seq + 8 <= end; seq += 8)
		count += (unsigned long long)__builtin_popcount(arrived[seq / 8]);
	for (; seq < end; seq++)
		count += arrived[seq / 8] >> (seq % 8) & 1;
	return count;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of n values, interpolated between neighbours; sorts values. */
static double quantile(double *values, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	qsort(values, n, sizeof(*values), cmp_double);
	if (i + 1 >= n)
		return values[n - 1];
	return values[i] + (pos - i) * (values[i + 1] - values[i]);
}

static void print_quartiles(const char *label, double *values, int n, const char *format)
{
	printf(" %s ", label);
	printf(format, quantile(values, n, 0.5));
	printf(" %s_q1 ", label);
	printf(format, quantile(values, n, 0.25));
	printf(" %s_q3 ", label);
	printf(format, quantile(values, n, 0.75));
}

static double window_rate(const struct window_count *w, bool wall)
{
	double t = wall ? w->secs : w->cpu_secs;

	return t > 0 ? w->received / t : 0;
}

/* A variant's rate in round r: its two windows of that round added up. */
static double round_rate(const struct window_count *w, bool wall)
{
	struct window_count sum = {
		.received = w[0].received + w[1].received,
		.secs = w[0].secs + w[1].secs,
		.cpu_secs = w[0].cpu_secs + w[1].cpu_secs,
	};

	return window_rate(&sum, wall);
}

/* Per variant, the median window and its quartiles; per ordered pair a/b, the median and
 * quartiles of the per-round ratio rate(a)/rate(b) and of the time per frame a adds to b. */
static int switching_report(const struct switching *sw, struct window_count *windows, double secs)
{
	int n = sw->n_variants, per_variant = 2 * sw->rounds, a, b, i, r;
	double *values = calloc(per_variant, sizeof(*values));
	double *added_ns = calloc(sw->rounds, sizeof(*added_ns));

	if (!values || !added_ns) {
		fprintf(stderr, "udp_flood: out of memory\n");
		free(values);
		free(added_ns);
		return -1;
	}
	for (i = 0; i < per_variant * n; i++) {
		struct window_count *w = &windows[i];

		w->received = count_arrived(w->first, w->sent);
		if (sw->verbose)
			fprintf(stderr, "window %s %d pps %.0f wall_pps %.0f busy %.3f\n",
				sw->variants[i / per_variant].name, i % per_variant,
				window_rate(w, sw->wall), window_rate(w, true),
				w->cpu_secs / w->secs);
	}
	printf("switching rounds %d windows %d window_s %.3f settle_s %.3f seconds %.1f "
	       "clock %s\n",
	       sw->rounds, per_variant * n, sw->window, sw->settle, secs,
	       sw->wall ? "wall" : "cpu");
	for (a = 0; a < n; a++) {
		const struct window_count *w = windows + a * per_variant;
		struct window_count sum = { 0 };

		printf("variant %s windows %d", sw->variants[a].name, per_variant);
		for (i = 0; i < per_variant; i++)
			values[i] = window_rate(&w[i], sw->wall);
		print_quartiles("pps", values, per_variant, "%.0f");
		for (i = 0; i < per_variant; i++)
			values[i] = window_rate(&w[i], true);
		print_quartiles("wall_pps", values, per_variant, "%.0f");
		for (i = 0; i < per_variant; i++) {
			sum.received += w[i].received;
			sum.sent += w[i].sent;
			sum.secs += w[i].secs;
			sum.cpu_secs += w[i].cpu_secs;
		}
		printf(" busy %.3f received_of_sent %.4f\n", sum.cpu_secs / sum.secs,
		       sum.sent ? (double)sum.received / sum.sent : 0);
	}
	for (a = 0; a < n; a++) {
		for (b = 0; b < n; b++) {
			if (a == b)
				continue;
			for (r = 0; r < sw->rounds; r++) {
				double ra = round_rate(windows + a * per_variant + 2 * r, sw->wall);
				double rb = round_rate(windows + b * per_variant + 2 * r, sw->wall);

				values[r] = rb > 0 ? ra / rb : 0;
				added_ns[r] = ra > 0 && rb > 0 ? 1e9 / ra - 1e9 / rb : 0;
			}
			printf("pair %s/%s rounds %d", sw->variants[a].name, sw->variants[b].name,
			       sw->rounds);
			print_quartiles("ratio", values, sw->rounds, "%.4f");
			print_quartiles("added_ns", added_ns, sw->rounds, "%.1f");
			printf("\n");
		}
	}
	free(values);
	free(added_ns);
	return 0;
}

/* Round r visits the variants in an order rotated by r, then in the reverse order: every
 * variant's two windows are centred on the same instant, so a drift that is linear over the
 * round (a second or two) adds the same to every variant, and no variant always comes first
 * or always follows the same one. Variant v's windows of round r are windows[v][2r, 2r+1]. */
static int flood_switching(struct sender *s, const struct switching *sw, double warmup,
			   struct window_count **windows_out, double *secs)
{
	int n = sw->n_variants, per_variant = 2 * sw->rounds, r, k;
	struct window_count *windows = calloc((size_t)per_variant * n, sizeof(*windows));
	double t0 = now_s();

	if (!windows) {
		fprintf(stderr, "udp_flood: out of memory\n");
		return -1;
	}
	if (sender_run_until(s, t0 + warmup) < 0)
		goto out;
	for (r = 0; r < sw->rounds; r++) {
		for (k = 0; k < 2 * n; k++) {
			int v = (r + (k < n ? k : 2 * n - 1 - k)) % n;

			if (switching_window(s, sw, v,
					     &windows[v * per_variant + 2 * r + (k >= n)]))
				goto out;
		}
	}
	if (s->sent > arrived_cap) {
		fprintf(stderr, "udp_flood: %llu datagrams sent, more than the %llu expected\n",
			s->sent, arrived_cap);
		goto out;
	}
	*secs = now_s() - t0;
	*windows_out = windows;
	return 0;
out:
	free(windows);
	return -1;
}

static bool parse_variant(char *arg, struct variant *v)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || strcspn(arg, " /") < (size_t)(eq - arg)) {
		fprintf(stderr,
			"udp_flood: --variant %s: expected NAME=COMMAND (NAME without "
			"spaces or '/')\n",
			arg);
		return false;
	}
	*eq = '\0';
	v->name = arg;
	v->cmd = eq + 1;
	return true;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: udp_flood --tx NETNS --rx NETNS --dst ADDR [--secs S] [--warmup S]\n"
		"                 [--payload BYTES] [--port P]\n"
		"       udp_flood --tx NETNS --rx NETNS --dst ADDR --variant NAME=CMD\n"
		"                 --variant NAME=CMD... [--rounds R] [--window S] [--settle S]\n"
		"                 [--wall] [--warmup S] [--payload BYTES] [--port P] [--verbose]\n"
		"  Floods ADDR:P from namespace --tx and counts what a socket bound in --rx\n"
		"  receives, after a warm-up (default 0.3 s).\n"
		"  Fixed: one window of S seconds (default 2). Prints:\n"
		"    sent N received M seconds T rx_pps R total_received A\n"
		"  Switching: R rounds (default 24); each runs every variant's CMD (sh -c) in a\n"
		"  rotated order and then in reverse, each followed by --settle seconds not counted\n"
		"  (default 0.025) and a counted window of --window seconds (default 0.1). Rates are\n"
		"  datagrams that arrived per second of CPU time of the sending CPU's path (--wall:\n"
		"  per second of wall-clock time). Prints one line per variant (median window rate\n"
		"  and quartiles, wall-clock rate, the path's share of the CPU, received/sent) and\n"
		"  one per ordered pair A/B: median and quartiles of the per-round rate(A)/rate(B)\n"
		"  and of 1e9/rate(A) - 1e9/rate(B), the ns per frame A adds to B. --verbose\n"
		"  prints every window on stderr.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tx", required_argument, NULL, 't' },
		{ "rx", required_argument, NULL, 'r' },
		{ "dst", required_argument, NULL, 'd' },
		{ "secs", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "payload", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "variant", required_argument, NULL, 'V' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "window", required_argument, NULL, 'W' },
		{ "settle", required_argument, NULL, 'S' },
		{ "wall", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tx_ns = NULL, *rx_ns = NULL, *dst = NULL;
	struct variant variants[MAX_VARIANTS];
	struct switching sw = { .variants = variants, .rounds = 24, .settle = 0.025, .window = 0.1 };
	double secs = 2, warmup = 0.3;
	int c, rx_fd = -1, tx_fd = -1, rcvbuf = 32 << 20, rc = 1;
	unsigned int payload = DEFAULT_PAYLOAD, port = 9977;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_usec = 100000 };
	struct window_count *windows = NULL;
	double switching_secs = 0;
	struct sender sender;
	pthread_t rx_thread;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tx_ns = optarg;
			break;
		case 'r':
			rx_ns = optarg;
			break;
		case 'd':
			dst = optarg;
			break;
		case 's':
			secs = atof(optarg);
			break;
		case 'w':
			warmup = atof(optarg);
			break;
		case 'l':
			payload = (unsigned int)atoi(optarg);
			break;
		case 'p':
			port = (unsigned int)atoi(optarg);
			break;
		case 'V':
			if (sw.n_variants == MAX_VARIANTS) {
				fprintf(stderr, "udp_flood: at most %d variants\n", MAX_VARIANTS);
				return 2;
			}
			if (!parse_variant(optarg, &variants[sw.n_variants++]))
				return 2;
			break;
		case 'R':
			sw.rounds = atoi(optarg);
			break;
		case 'W':
			sw.window = atof(optarg);
			break;
		case 'S':
			sw.settle = atof(optarg);
			break;
		case 'C':
			sw.wall = true;
			break;
		case 'v':
			sw.verbose = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!tx_ns || !rx_ns || !dst || secs <= 0 || warmup < 0 || payload > 1472 ||
	    (sw.n_variants && payload < sizeof(unsigned long long)) || !port || port > 65535 ||
	    inet_pton(AF_INET, dst, &sin.sin_addr) != 1 || sw.n_variants == 1 || sw.rounds < 1 ||
	    sw.window <= 0 || sw.settle < 0) {
		usage();
		return 2;
	}
	sin.sin_port = htons((uint16_t)port);

	if (socket_in(rx_ns, &rx_fd) || socket_in(tx_ns, &tx_fd))
		goto cleanup;
	/* SO_RCVBUFFORCE (root) beats rmem_max: a full socket buffer must not be the bottleneck. */
	if (setsockopt(rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(rx_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	{
		struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = sin.sin_port };

		if (bind(rx_fd, (struct sockaddr *)&any, sizeof(any))) {
			fprintf(stderr, "udp_flood: bind port %u in %s: %s\n", port, rx_ns,
				strerror(errno));
			goto cleanup;
		}
	}
	if (connect(tx_fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "udp_flood: connect %s in %s: %s\n", dst, tx_ns, strerror(errno));
		goto cleanup;
	}
	sender_init(&sender, tx_fd, payload);
	if (sw.n_variants) {
		/* Room for 4 million datagrams a second, over ten times the rate seen here. */
		arrived_cap = (unsigned long long)(4e6 * (warmup + 0.5 +
							  sw.rounds * 2 * sw.n_variants *
								  (sw.settle + sw.window + 0.1)));
		arrived = calloc(arrived_cap / 8 + 1, 1);
		if (!arrived) {
			fprintf(stderr, "udp_flood: out of memory\n");
			goto cleanup;
		}
		rx_polls = true;
	}
	if (pthread_create(&rx_thread, NULL, rx_main, &rx_fd)) {
		fprintf(stderr, "udp_flood: cannot start the receiver thread\n");
		goto cleanup;
	}

	pin_cpu(0);
	softirqd_open();
	if (sw.n_variants) {
		if (!flood_switching(&sender, &sw, warmup, &windows, &switching_secs)) {
			/* The last datagrams are on their way or in the receiver's queue. */
			usleep(100000);
			rc = 0;
		}
	} else {
		rc = flood_fixed(&sender, warmup, secs) ? 1 : 0;
	}
	atomic_store(&stop_rx, true);
	pthread_join(rx_thread, NULL);
	if (windows && !rc)
		rc = switching_report(&sw, windows, switching_secs) ? 1 : 0;
cleanup:
	if (tx_fd >= 0)
		close(tx_fd);
	if (rx_fd >= 0)
		close(rx_fd);
	if (softirqd_fd >= 0)
		close(softirqd_fd);
	free(windows);
	free(arrived);
	return rc;
}
