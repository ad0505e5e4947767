// SPDX-License-Identifier: GPL-2.0-only
/* Raw UDP one-way latency between two network namespaces, for make bench: the baseline of the
 * Maelstrom shims' shim-to-shim latency. One process receives (--listen PORT) and writes each
 * datagram's one-way time; the other (--send ADDR:PORT) sends COUNT datagrams of SIZE bytes at
 * RATE per second, each carrying its send time. Namespaces share the machine's clock, so a
 * one-way time is the receive time less the send time (CLOCK_MONOTONIC, as the shims log). The
 * receiver prints p50 and p99 in microseconds when the sender's last datagram (a zero time)
 * arrives. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int usage(void)
{
	fprintf(stderr, "usage: udp_latency --listen PORT\n"
			"       udp_latency --send ADDR:PORT [COUNT [RATE [SIZE]]]\n");
	return 2;
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	size_t n = 0, cap = 1 << 16;
	uint64_t *lat = malloc(cap * sizeof(*lat));
	char buf[65536];

	if (fd < 0 || !lat || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp_latency: listen");
		return 1;
	}
	for (;;) {
		ssize_t k = recv(fd, buf, sizeof(buf), 0);
		uint64_t sent, t = now_ns();

		if (k < (ssize_t)sizeof(sent))
			continue;
		memcpy(&sent, buf, sizeof(sent));
		if (!sent)
			break;
		if (n == cap) {
			uint64_t *p = realloc(lat, 2 * cap * sizeof(*p));

			if (!p)
				break;
			lat = p;
			cap *= 2;
		}
		lat[n++] = t - sent;
	}
	if (!n) {
		fprintf(stderr, "udp_latency: nothing arrived\n");
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("%.0f %.0f %zu\n", lat[(size_t)(n * 0.5)] / 1e3, lat[(size_t)(n * 0.99)] / 1e3, n);
	return 0;
}

static int send_to(const char *target, long count, double rate, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char host[64], buf[65536] = { 0 };
	const char *colon = strrchr(target, ':');
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint64_t zero = 0, next = now_ns(), gap = (uint64_t)(1e9 / rate);

	if (!colon || (size_t)(colon - target) >= sizeof(host) || size < 8 || size > sizeof(buf))
		return usage();
	memcpy(host, target, colon - target);
	host[colon - target] = 0;
	a.sin_port = htons(atoi(colon + 1));
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp_latency: send");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		struct timespec wait;
		uint64_t t;

		next += gap;
		while ((t = now_ns()) < next) {
			wait = (struct timespec){ 0, (long)(next - t) };
			nanosleep(&wait, NULL);
		}
		t = now_ns();
		memcpy(buf, &t, sizeof(t));
		if (send(fd, buf, size, 0) < 0 && errno != ECONNREFUSED)
			perror("udp_latency: send");
	}
	/* The end, a few times over: one of them arrives. */
	for (int i = 0; i < 5; i++) {
		struct timespec pause = { 0, 20000000 };

		send(fd, &zero, sizeof(zero), 0);
		nanosleep(&pause, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--listen"))
		return listen_on(atoi(argv[2]));
	if (argc >= 3 && argc <= 6 && !strcmp(argv[1], "--send"))
		return send_to(argv[2], argc > 3 ? atol(argv[3]) : 5000,
			       argc > 4 ? atof(argv[4]) : 1000,
			       argc > 5 ? (size_t)atol(argv[5]) : 100);
	return usage();
}
