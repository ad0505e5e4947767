// SPDX-License-Identifier: GPL-2.0-only
/* Root-test helpers: capnet runs, and real UDP, TCP and raw Ethernet traffic between nodes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/monotonic.h"
#include "netem/lab/topology.h"
#include "tests/lib/netlab.h"

static char lab_to_remove[64];

static void remove_lab(void)
{
	char out[256];

	if (lab_to_remove[0])
		netlab_capnet(lab_to_remove, out, sizeof(out), "down");
}

int netlab_teardown(void **state)
{
	(void)state;
	remove_lab();
	return 0;
}

static void on_fatal_signal(int sig)
{
	remove_lab();
	signal(sig, SIG_DFL);
	raise(sig);
}

void netlab_require_root(const char *program)
{
	const char *capnet = getenv("CAPNET");

	if (geteuid() != 0) {
		printf("%s: SKIP: needs root (network namespaces, tc, BPF)\n", program);
		exit(77);
	}
	if (!capnet || access(capnet, X_OK)) {
		printf("%s: SKIP: set CAPNET to the capnet binary (make net-test does)\n", program);
		exit(77);
	}
}

const char *netlab_unique_lab(const char *prefix)
{
	snprintf(lab_to_remove, sizeof(lab_to_remove), "%s%d", prefix, (int)getpid());
	atexit(remove_lab);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGABRT, on_fatal_signal);
	signal(SIGSEGV, on_fatal_signal);
	return lab_to_remove;
}

/* popen with the output kept (up to outlen) and the rest drained, so the child never blocks. */
static int run_captured(const char *cmd, char *out, size_t outlen)
{
	size_t used = 0;
	FILE *p;
	int status;

	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (used + 1 < outlen) {
		size_t n = fread(out + used, 1, outlen - 1 - used, p);

		if (!n)
			break;
		used += n;
	}
	while (fgetc(p) != EOF)
		;
	out[used] = 0;
	status = pclose(p);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int netlab_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	return run_captured(full, out, outlen);
}

int netlab_capctl(const char *lab, char *out, size_t outlen, const char *fmt, ...)
{
	char args[2048], bin[512];
	va_list ap;

	netlab_sibling("capctl", bin, sizeof(bin));
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return netlab_sh(out, outlen, "%s --lab %s %s", bin, lab, args);
}

pid_t netlab_capctl_start(const char *lab, const char *out_path, const char *fmt, ...)
{
	char args[2048], bin[512], cmd[3072];
	va_list ap;
	pid_t pid;

	netlab_sibling("capctl", bin, sizeof(bin));
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	/* exec: the pid is capctl's own, so that the signal of netlab_capctl_stop reaches it. */
	snprintf(cmd, sizeof(cmd), "exec %s --lab %s %s >%s 2>&1", bin, lab, args, out_path);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int netlab_capctl_stop(pid_t pid)
{
	int status;

	if (pid <= 0 || kill(pid, SIGINT) || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Operations f (NULL: any) acknowledged after `since` in the history at path; the line being
 * written (no newline yet) is not counted. */
static unsigned int history_acked(const char *path, const char *f, uint64_t since)
{
	FILE *in = fopen(path, "r");
	char *line = NULL, type[16], name[16];
	unsigned int count = 0;
	size_t cap = 0;
	ssize_t n;
	uint64_t t;

	if (!in)
		return 0;
	while ((n = getline(&line, &cap, in)) > 0 && line[n - 1] == '\n')
		if (!json_text_str(line, "type", type, sizeof(type)) && !strcmp(type, "ok") &&
		    (!f || (!json_text_str(line, "f", name, sizeof(name)) && !strcmp(name, f))) &&
		    !json_text_u64(line, "time", &t) && t > since)
			count++;
	free(line);
	fclose(in);
	return count;
}

bool netlab_history_wait(const char *path, const char *f, uint64_t since, unsigned int count,
			 pid_t writer)
{
	long long limit = monotonic_ms() + 60 * 1000;
	siginfo_t info;

	while (monotonic_ms() < limit) {
		if (history_acked(path, f, since) >= count)
			return true;
		/* WNOWAIT: whoever started the writer still reaps it. */
		info.si_pid = 0;
		if (writer > 0 && (waitid(P_PID, writer, &info, WEXITED | WNOHANG | WNOWAIT) ||
				   info.si_pid == writer))
			return false;
		usleep(20 * 1000);
	}
	return false;
}

static int capnet_va(const char *lab, char *out, size_t outlen, const char *fmt, va_list ap,
		     char *args, size_t argslen)
{
	char cmd[1400];

	vsnprintf(args, argslen, fmt, ap);
	snprintf(cmd, sizeof(cmd), "%s --lab %s %s 2>&1", getenv("CAPNET"), lab, args);
	return run_captured(cmd, out, outlen);
}

/* `bin --lab LAB ARG...` held in `phase`: netlab_capnet_parked's and netlab_capctl_parked's. */
static pid_t parked(const char *bin, const char *lab, const char *phase, const char *fifo,
		    const char *out_path, va_list ap)
{
	const char *name = strrchr(bin, '/') ? strrchr(bin, '/') + 1 : bin;
	char *argv[64] = { (char *)name, "--lab", (char *)lab }, got[128] = "";
	struct pollfd p = { .events = POLLIN };
	int argc = 3, status;
	bool ended = false;
	ssize_t n = 0;
	pid_t pid;

	while (argc < 63 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	argv[argc] = NULL;
	unlink(fifo);
	if (mkfifo(fifo, 0600))
		return -1;
	pid = fork();
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(o, 1);
		dup2(o, 2);
		setenv("CAPNET_TEST_STOP_AT", phase, 1);
		setenv("CAPNET_TEST_STOP_FIFO", fifo, 1);
		execv(bin, argv);
		_exit(127);
	}
	/* Read without blocking on the open, so that a command that ends without reaching the
	 * phase is seen ending rather than waited for without end. */
	p.fd = pid > 0 ? open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	while (p.fd >= 0 && n <= 0 && !(ended = waitpid(pid, &status, WNOHANG) != 0))
		if (poll(&p, 1, 100) > 0)
			n = read(p.fd, got, sizeof(got) - 1);
	if (p.fd >= 0)
		close(p.fd);
	unlink(fifo);
	if (n > 0 && strstr(got, phase))
		return pid;
	if (pid > 0 && !ended) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

pid_t netlab_capnet_parked(const char *lab, const char *phase, const char *fifo,
			   const char *out_path, ...)
{
	va_list ap;
	pid_t pid;

	va_start(ap, out_path);
	pid = parked(getenv("CAPNET"), lab, phase, fifo, out_path, ap);
	va_end(ap);
	return pid;
}

pid_t netlab_capctl_parked(const char *lab, const char *phase, const char *fifo,
			   const char *out_path, ...)
{
	char bin[512];
	va_list ap;
	pid_t pid;

	netlab_sibling("capctl", bin, sizeof(bin));
	va_start(ap, out_path);
	pid = parked(bin, lab, phase, fifo, out_path, ap);
	va_end(ap);
	return pid;
}

int netlab_capnet(const char *lab, char *out, size_t outlen, const char *fmt, ...)
{
	char args[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = capnet_va(lab, out, outlen, fmt, ap, args, sizeof(args));
	va_end(ap);
	return rc;
}

int netlab_capnet_checked(const char *lab, char *out, size_t outlen, const char *fmt, ...)
{
	char args[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = capnet_va(lab, out, outlen, fmt, ap, args, sizeof(args));
	va_end(ap);
	if (rc != 0)
		printf("capnet %s -> exit %d:\n%s", args, rc, out);
	return rc;
}

void netlab_sibling(const char *name, char *buf, size_t len)
{
	const char *capnet = getenv("CAPNET");
	const char *slash = capnet ? strrchr(capnet, '/') : NULL;

	if (!slash)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%.*s/%s", (int)(slash - capnet), capnet, name);
}

int netlab_enter(const char *lab, unsigned int node)
{
	char ns[64];

	lab_node_ns(lab, node, ns, sizeof(ns));
	return netns_enter(ns);
}

void netlab_leave(int saved)
{
	netns_return(saved);
}

static uint32_t node_addr(unsigned int node)
{
	return htonl(0x0a4d0000u + node);
}

int netlab_udp_open(struct netlab_udp *u, const char *lab, unsigned int nodes)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(NETLAB_PORT) };
	int big = 8 << 20;
	unsigned int i;

	memset(u, 0, sizeof(*u));
	u->lab = lab;
	u->nodes = nodes;
	for (i = 0; i <= NETLAB_MAX; i++)
		u->fd[i] = -1;
	for (i = 1; i <= nodes; i++) {
		int saved = netlab_enter(lab, i);

		if (saved < 0)
			goto fail;
		u->fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		netlab_leave(saved);
		if (u->fd[i] < 0)
			goto fail;
		setsockopt(u->fd[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		setsockopt(u->fd[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
		sa.sin_addr.s_addr = node_addr(i);
		if (bind(u->fd[i], (struct sockaddr *)&sa, sizeof(sa)))
			goto fail;
	}
	return 0;
fail:
	netlab_udp_close(u);
	return -1;
}

void netlab_udp_close(struct netlab_udp *u)
{
	unsigned int i;

	for (i = 0; i <= NETLAB_MAX; i++) {
		if (u->fd[i] >= 0)
			close(u->fd[i]);
		u->fd[i] = -1;
	}
}

/* Payload: magic, from, to, tag: a stray datagram is never miscounted. */
struct probe {
	uint32_t magic;
	uint32_t from;
	uint32_t to;
	uint32_t tag;
};
#define PROBE_MAGIC 0x70726f62u

int netlab_udp_send(struct netlab_udp *u, unsigned int from, unsigned int to, uint32_t tag)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(NETLAB_PORT),
				  .sin_addr.s_addr = node_addr(to) };
	struct probe p = { PROBE_MAGIC, from, to, tag };
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (sendto(u->fd[from], &p, sizeof(p), 0, (struct sockaddr *)&sa, sizeof(sa)) ==
		    sizeof(p))
			return 0;
		if (errno != EAGAIN && errno != ENOBUFS)
			return -errno;
		usleep(100);
	}
	return -EAGAIN;
}

int netlab_udp_drain(struct netlab_udp *u, int quiet_ms,
		     unsigned int got[NETLAB_MAX + 1][NETLAB_MAX + 1])
{
	struct pollfd pfd[NETLAB_MAX + 1];
	unsigned int i, n = 0;

	for (i = 1; i <= u->nodes; i++) {
		pfd[n].fd = u->fd[i];
		pfd[n].events = POLLIN;
		n++;
	}
	for (;;) {
		int ready = poll(pfd, n, quiet_ms);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return ready;
		for (i = 0; i < n; i++) {
			struct probe p;

			if (!(pfd[i].revents & POLLIN))
				continue;
			while (recv(pfd[i].fd, &p, sizeof(p), 0) == sizeof(p)) {
				if (p.magic != PROBE_MAGIC || p.from > NETLAB_MAX ||
				    p.to != i + 1 || !p.from)
					continue;
				got[p.from][p.to]++;
			}
		}
	}
}

int netlab_udp_exchange(struct netlab_udp *u, unsigned int count, unsigned int from,
			unsigned int to, unsigned int got[NETLAB_MAX + 1][NETLAB_MAX + 1])
{
	unsigned int s, d, k;
	int err;

	memset(got, 0, sizeof(unsigned int) * (NETLAB_MAX + 1) * (NETLAB_MAX + 1));
	for (s = 1; s <= u->nodes; s++)
		for (d = 1; d <= u->nodes; d++) {
			if (s == d || (from && (s != from || d != to)))
				continue;
			for (k = 0; k < count; k++) {
				err = netlab_udp_send(u, s, d, k);
				if (err)
					return err;
			}
		}
	return netlab_udp_drain(u, 150, got);
}

size_t netlab_expect_usage_errors(const char *lab, const char *const *commands, size_t n)
{
	static char out[1 << 16];
	size_t i, wrong = 0;

	for (i = 0; i < n; i++) {
		int rc = netlab_capnet(lab, out, sizeof(out), "%s", commands[i]);

		if (rc != 2) {
			printf("capnet %s: exit %d, expected 2 (usage): %s", commands[i], rc, out);
			wrong++;
		} else if (!strstr(out, "capnet: ") || strchr(out, '\n') != out + strlen(out) - 1) {
			printf("capnet %s: expected one error line, got: %s", commands[i], out);
			wrong++;
		}
	}
	return wrong;
}

bool netlab_tcp_works(const char *lab, unsigned int from, unsigned int to, int timeout_ms)
{
	return netlab_tcp_port_works(lab, from, to, NETLAB_PORT + 1, timeout_ms);
}

int netlab_udp_socket(const char *lab, unsigned int node, unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, saved, rcvbuf = 1 << 22;

	saved = netlab_enter(lab, node);
	if (saved < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	netlab_leave(saved);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

unsigned int netlab_udp_port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		return 0;
	return ntohs(sa.sin_port);
}

int netlab_udp_send_to(int fd, unsigned int node, unsigned int port, const void *data, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = node_addr(node) };

	return sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len ? 0 :
											      -1;
}

unsigned int netlab_udp_count(int fd, int quiet_ms)
{
	char buf[2048];
	unsigned int n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, quiet_ms) > 0)
		while (recv(fd, buf, sizeof(buf), 0) >= 0)
			n++;
	return n;
}

bool netlab_tcp_port_works(const char *lab, unsigned int from, unsigned int to, unsigned int port,
			   int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = node_addr(to) };
	int lfd = -1, cfd = -1, afd = -1, one = 1, saved;
	long long deadline = monotonic_ms() + timeout_ms;
	bool ok = false;
	char c = 'x';

	saved = netlab_enter(lab, to);
	if (saved < 0)
		return false;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	netlab_leave(saved);
	saved = netlab_enter(lab, from);
	if (saved < 0)
		goto out;
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	netlab_leave(saved);
	if (lfd < 0 || cfd < 0)
		goto out;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
		goto out;
	if (connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
		goto out;
	while (monotonic_ms() < deadline) {
		struct pollfd p = { .fd = afd >= 0 ? afd : lfd, .events = POLLIN };
		char r;

		if (afd < 0) {
			if (poll(&p, 1, 10) > 0)
				afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			continue;
		}
		/* Accepted: one byte each way proves data flows, not only the handshake. */
		if (send(cfd, &c, 1, MSG_NOSIGNAL) != 1 && errno != EAGAIN)
			break;
		if (poll(&p, 1, 50) > 0 && recv(afd, &r, 1, 0) == 1 &&
		    send(afd, &r, 1, MSG_NOSIGNAL) == 1) {
			struct pollfd q = { .fd = cfd, .events = POLLIN };

			if (poll(&q, 1, (int)(deadline - monotonic_ms())) > 0 &&
			    recv(cfd, &r, 1, 0) == 1)
				ok = true;
			break;
		}
	}
out:
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	return ok;
}

static int raw_socket(const char *lab, unsigned int node, uint16_t ethertype, int *ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ethertype) };
	int saved, fd;

	saved = netlab_enter(lab, node);
	if (saved < 0)
		return -1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ethertype));
	*ifindex = if_nametoindex("eth0");
	netlab_leave(saved);
	if (fd < 0)
		return -1;
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

int netlab_raw_exchange(const char *lab, unsigned int from, unsigned int to, uint16_t ethertype,
			bool broadcast, unsigned int count)
{
	uint8_t frame[64] = { 0 }, buf[256], src_mac[6], dst_mac[6];
	int sfd, rfd, sidx, ridx, got = 0;
	unsigned int k;

	sfd = raw_socket(lab, from, ethertype, &sidx);
	rfd = raw_socket(lab, to, ethertype, &ridx);
	if (sfd < 0 || rfd < 0) {
		got = -1;
		goto out;
	}
	lab_node_mac(from, src_mac);
	lab_node_mac(to, dst_mac);
	if (broadcast)
		memset(dst_mac, 0xff, 6);
	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	frame[12] = ethertype >> 8;
	frame[13] = ethertype & 0xff;
	memcpy(frame + 14, "capnet-raw-probe", 16);
	for (k = 0; k < count; k++) {
		frame[30] = k;
		if (send(sfd, frame, sizeof(frame), 0) != sizeof(frame)) {
			got = -1;
			goto out;
		}
	}
	for (;;) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 150) <= 0)
			break;
		while ((n = recv(rfd, buf, sizeof(buf), 0)) > 0)
			if (n >= 30 && !memcmp(buf + 6, src_mac, 6) &&
			    !memcmp(buf + 14, "capnet-raw-probe", 16))
				got++;
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (rfd >= 0)
		close(rfd);
	return got;
}

long long netlab_json_number(const char *json, const char *after, const char *key)
{
	char pattern[128];
	const char *p = json;

	if (after) {
		p = strstr(json, after);
		if (!p)
			return -1;
	}
	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	p = strstr(p, pattern);
	if (!p)
		return -1;
	return strtoll(p + strlen(pattern), NULL, 10);
}

bool netlab_etcd_ready(const char *lab, unsigned int nodes)
{
	static char out[1 << 14];

	/* A bound for a cluster that never forms, not a claim about speed. */
	for (int i = 0; i < 200; i++) {
		if (netlab_sh(out, sizeof(out),
			      "for n in $(seq 1 %u); do timeout 5 %s --lab %s exec $n -- etcdctl "
			      "--endpoints 127.0.0.1:2379 --command-timeout=1s endpoint status "
			      "-w simple || exit 1; done",
			      nodes, getenv("CAPNET"), lab) == 0)
			return true;
		usleep(100 * 1000);
	}
	printf("etcd not ready: %s\n", out);
	return false;
}

static void *watch_thread(void *arg)
{
	struct netlab_watch *w = arg;

	w->rc = netlab_capnet(w->lab, w->out, w->len,
			      "watch --json -- sh -c 'echo > %s/ready; read x < %s/done'", w->dir,
			      w->dir);
	w->ended = true;
	return NULL;
}

int netlab_watch_begin(struct netlab_watch *w, const char *lab, char *out, size_t len)
{
	char path[96];
	int fd, got = 0;

	w->lab = lab;
	w->out = out;
	w->len = len;
	w->ended = false;
	snprintf(w->dir, sizeof(w->dir), "/tmp/capnet-watch-XXXXXX");
	if (!mkdtemp(w->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/ready", w->dir);
	if (mkfifo(path, 0600))
		return -1;
	snprintf(path, sizeof(path), "%s/done", w->dir);
	if (mkfifo(path, 0600))
		return -1;
	snprintf(path, sizeof(path), "%s/ready", w->dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || pthread_create(&w->thread, NULL, watch_thread, w)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Until its command writes, or watch ended without running it (a refusal). */
	while (!got && !w->ended) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		got = poll(&p, 1, 100) > 0 && (p.revents & POLLIN);
	}
	close(fd);
	if (!got) {
		pthread_join(w->thread, NULL);
		printf("capnet watch ended before it watched:\n%s", w->out);
		return -1;
	}
	return 0;
}

int netlab_watch_end(struct netlab_watch *w)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "%s/done", w->dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "\n", 1) != 1)
			perror("netlab_watch_end");
		close(fd);
	}
	pthread_join(w->thread, NULL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ready", w->dir);
	unlink(path);
	rmdir(w->dir);
	return w->rc;
}
