// SPDX-License-Identifier: GPL-2.0-only
/* A UDP flood between two network namespaces for make bench: one sender thread blasting
 * minimum-size frames with sendmmsg, one receiver draining with recvmmsg, for a fixed time.
 * Prints what was sent and what arrived, so the rate measured is the network path's (bridge,
 * tc filter, netfilter rules) and not a tool's. total_received, every datagram that arrived
 * warm-up included, is the atomicity probe: on a link that stays cut it must be 0. */
#include <errno.h>
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

#include "netem/topology.h"

#define BATCH 64
/* 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + 22 = 64 bytes on the veth: the minimum frame. */
#define DEFAULT_PAYLOAD 22

static atomic_bool stop_rx;
static atomic_ullong received;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n > 0)
			atomic_fetch_add(&received, (unsigned long long)n);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: udp_flood --tx NETNS --rx NETNS --dst ADDR [--secs S] [--warmup S]\n"
		"                 [--payload BYTES] [--port P]\n"
		"  Floods ADDR:P from namespace --tx for S seconds (default 2) after a warm-up\n"
		"  (default 0.3 s) and counts what a socket bound in --rx receives. Prints:\n"
		"  sent N received M seconds T rx_pps R total_received A\n");
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
		{ NULL, 0, NULL, 0 },
	};
	const char *tx_ns = NULL, *rx_ns = NULL, *dst = NULL;
	double secs = 2, warmup = 0.3, t0, t_start, t_end;
	unsigned long long sent = 0, rx_start, rx_end;
	int c, rx_fd = -1, tx_fd = -1, rcvbuf = 32 << 20, i, n, rc = 1;
	unsigned int payload = DEFAULT_PAYLOAD, port = 9977;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_usec = 100000 };
	static char buf[1472];
	pthread_t rx_thread;
	bool counting = false;

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
		default:
			usage();
			return 2;
		}
	}
	if (!tx_ns || !rx_ns || !dst || secs <= 0 || warmup < 0 || payload > sizeof(buf) || !port ||
	    port > 65535 || inet_pton(AF_INET, dst, &sin.sin_addr) != 1) {
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
	memset(buf, 0xa5, sizeof(buf));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = payload;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (pthread_create(&rx_thread, NULL, rx_main, &rx_fd)) {
		fprintf(stderr, "udp_flood: cannot start the receiver thread\n");
		goto cleanup;
	}

	pin_cpu(0);
	t0 = now_s();
	t_start = t0 + warmup;
	t_end = t_start + secs;
	rx_start = 0;
	for (;;) {
		double t = now_s();

		if (!counting && t >= t_start) {
			counting = true;
			rx_start = atomic_load(&received);
			t_start = t;
			t_end = t + secs;
		}
		if (t >= t_end)
			break;
		n = sendmmsg(tx_fd, msgs, BATCH, 0);
		if (n > 0 && counting)
			sent += (unsigned long long)n;
		else if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED &&
			 errno != EINTR) {
			fprintf(stderr, "udp_flood: sendmmsg: %s\n", strerror(errno));
			break;
		}
	}
	t_end = now_s();
	/* What is still in flight or queued at the socket was sent during the window. */
	usleep(100000);
	rx_end = atomic_load(&received);
	atomic_store(&stop_rx, true);
	pthread_join(rx_thread, NULL);
	printf("sent %llu received %llu seconds %.3f rx_pps %.0f total_received %llu\n", sent,
	       rx_end - rx_start, t_end - t_start, (rx_end - rx_start) / (t_end - t_start), rx_end);
	rc = 0;
cleanup:
	if (tx_fd >= 0)
		close(tx_fd);
	if (rx_fd >= 0)
		close(rx_fd);
	return rc;
}
