/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers for root tests: run capnet, and send real traffic between a lab's nodes from
 * one process (a socket keeps the namespace it was made in). */
#ifndef CAPNET_NETLAB_H
#define CAPNET_NETLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#define NETLAB_MAX 16
#define NETLAB_PORT 7999

/* Skips the whole program (exit 77, with the reason) unless root with a capnet binary. */
void netlab_require_root(const char *program);
/* A lab name unique to this process: "<prefix><pid>". Removed at exit, even on failure. */
const char *netlab_unique_lab(const char *prefix);

/* A cmocka teardown for tests that bring the lab of netlab_unique_lab up themselves: `down`,
 * whatever the test did or failed to do, so one failure never fails the tests after it. */
int netlab_teardown(void **state);

/* Runs `$CAPNET --lab LAB ARGS` with stdout and stderr captured into out; returns the exit
 * status (or -1). */
int netlab_capnet(const char *lab, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* netlab_capnet, and when the exit status is not 0, the command and its output are printed:
 * what a failing assertion needs next to it. */
int netlab_capnet_checked(const char *lab, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Runs each capnet command in the lab and checks that it is refused as a usage error: exit 2
 * and one clear "capnet: " line. Returns how many were not, each said on stdout. */
size_t netlab_expect_usage_errors(const char *lab, const char *const *commands, size_t n);
/* Runs a shell command line with stdout and stderr captured into out; returns the exit status
 * (or -1). */
int netlab_sh(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Every etcd member of nodes 1..nodes answers on 127.0.0.1:2379 in its node and they agree on a
 * leader (etcdctl endpoint status through `capnet exec`), asked again for up to 20 s; false,
 * the last answer printed, if they never do. */
bool netlab_etcd_ready(const char *lab, unsigned int nodes);
/* Runs `capctl --lab LAB ARGS` (the capctl beside $CAPNET) with stdout and stderr captured into
 * out; returns the exit status (or -1). */
int netlab_capctl(const char *lab, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A program that sits beside $CAPNET (capctl, captrace), into buf. */
void netlab_sibling(const char *name, char *buf, size_t len);
/* Starts `capctl --lab LAB ARGS` in the background, its stdout and stderr into out_path: its
 * pid, or -1. netlab_capctl_stop ends it. */
pid_t netlab_capctl_start(const char *lab, const char *out_path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Ends it as Ctrl-C does (a load's clients finish, its history is whole) and waits for it: its
 * exit status, or -1. */
int netlab_capctl_stop(pid_t pid);
/* Waits, by reading the history at path as capctl load writes it, until it holds `count`
 * operations `f` ("add", "write", ...; NULL: any) acknowledged (ok) after `since`
 * (monotonic_ns, the clock of a history's times). False if the process `writer` (0: none) ends first, or after a
 * minute: a limit for a load that stalled, not a measure of speed. */
bool netlab_history_wait(const char *path, const char *f, uint64_t since, unsigned int count,
			 pid_t writer);

/* `capnet watch --json` held open while a test makes its frames: netlab_watch_begin returns once
 * watch has attached (it runs a command that says so, then waits), whatever the machine's
 * speed; netlab_watch_end lets that command end, and watch with it once it has read the
 * events already made, and returns watch's exit code. Its output is in out. */
struct netlab_watch {
	const char *lab;
	char *out;
	size_t len;
	char dir[64];
	pthread_t thread;
	int rc;
	volatile bool ended;
};
int netlab_watch_begin(struct netlab_watch *w, const char *lab, char *out, size_t len);
int netlab_watch_end(struct netlab_watch *w);

/* Shell words that follow `CAPNET_TEST_STOP_AT=P CAPNET_TEST_STOP_FIFO="$f" CMD &` (lib/test_hook.h)
 * in a netlab_sh line that set f to the FIFO: $phase gets the phase CMD parked in, or "ended"
 * when CMD ended without parking (the test then fails, where a bare read would wait forever:
 * an ended CMD is a zombie until the shell waits for it, so the watcher looks at its state);
 * CMD's pid is $p. */
#define NETLAB_READ_PHASE                                                                     \
	"p=$!; (while kill -0 $p 2>/dev/null && ! grep -qs '^State:.*Z' /proc/$p/status; do " \
	"sleep 0.05; done; echo ended >\"$f\") & w=$!; "                                      \
	"read phase <\"$f\"; kill $w 2>/dev/null; wait $w 2>/dev/null; "

/* `$CAPNET --lab LAB ARG...` (the arguments NULL-terminated) in the background, its standard
 * output and error into out_path, held by the test hook (lib/test_hook.h) in `phase` through
 * a FIFO made at fifo: its pid once it is parked there (SIGUSR1 lets it go on), or -1 when it
 * ended before (reaped) or could not start. */
pid_t netlab_capnet_parked(const char *lab, const char *phase, const char *fifo,
			   const char *out_path, ...);
/* The same with the capctl beside $CAPNET. */
pid_t netlab_capctl_parked(const char *lab, const char *phase, const char *fifo,
			   const char *out_path, ...);

/* UDP sockets bound to NETLAB_PORT in nodes 1..n, large receive buffers, non-blocking. */
struct netlab_udp {
	const char *lab;
	unsigned int nodes;
	int fd[NETLAB_MAX + 1];
};
int netlab_udp_open(struct netlab_udp *u, const char *lab, unsigned int nodes);
void netlab_udp_close(struct netlab_udp *u);
/* Sends `count` datagrams on every directed link (or only from->to when both are non-zero),
 * drains every socket until quiet, and fills got[from][to] with what arrived. */
int netlab_udp_exchange(struct netlab_udp *u, unsigned int count, unsigned int from,
			unsigned int to, unsigned int got[NETLAB_MAX + 1][NETLAB_MAX + 1]);
/* Sends one datagram from -> to (payload tag), without waiting. */
int netlab_udp_send(struct netlab_udp *u, unsigned int from, unsigned int to, uint32_t tag);
/* Counts datagrams waiting at node `to` by sender, until `quiet_ms` pass with nothing new. */
int netlab_udp_drain(struct netlab_udp *u, int quiet_ms,
		     unsigned int got[NETLAB_MAX + 1][NETLAB_MAX + 1]);

/* A TCP connection from -> to on NETLAB_PORT (listener in `to`): true if it was accepted and
 * carried a byte both ways within timeout_ms. */
bool netlab_tcp_works(const char *lab, unsigned int from, unsigned int to, int timeout_ms);

/* The same on any port. */
bool netlab_tcp_port_works(const char *lab, unsigned int from, unsigned int to, unsigned int port,
			   int timeout_ms);

/* A non-blocking UDP socket in a node, bound to `port` (0: an ephemeral one); -1 on failure. */
int netlab_udp_socket(const char *lab, unsigned int node, unsigned int port);
unsigned int netlab_udp_port_of(int fd);
/* Sends one datagram from the socket to a node's port: 0 or -1. */
int netlab_udp_send_to(int fd, unsigned int node, unsigned int port, const void *data, size_t len);
/* Reads and counts datagrams until quiet_ms pass with nothing new. */
unsigned int netlab_udp_count(int fd, int quiet_ms);

/* Raw Ethernet frames of any ethertype between nodes (AF_PACKET on eth0). Returns how many of
 * `count` frames sent from -> to (to the peer's MAC, or broadcast) arrived. */
int netlab_raw_exchange(const char *lab, unsigned int from, unsigned int to, uint16_t ethertype,
			bool broadcast, unsigned int count);

/* A node's namespace fd helpers. */
int netlab_enter(const char *lab, unsigned int node);
void netlab_leave(int saved);

/* Finds "key":<number> in a JSON text, after the first occurrence of `after` (or anywhere);
 * -1 if absent. Good enough for capnet's flat output in tests. */
long long netlab_json_number(const char *json, const char *after, const char *key);

#endif /* CAPNET_NETLAB_H */
