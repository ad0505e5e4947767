/* SPDX-License-Identifier: GPL-2.0-only */
/* Emulated hosts for the multi-host root tests: K "machines" on this one, each a network
 * namespace with a mount namespace of its own (its own /run, so its own /run/netns and
 * /run/capnet, and its own bpffs), an address on an underlay bridge, and Debian's sshd listening
 * there with a key made for the test. capnet reaches them only through ssh, as real machines. */
#ifndef CAPNET_EMU_HOSTS_H
#define CAPNET_EMU_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define EMU_HOSTS_MAX 4

struct emu_hosts {
	unsigned int count;
	char dir[128]; /* keys, sshd configs and logs, the hosts' namespace pins */
	char bridge[16]; /* the underlay bridge, in the test's own network namespace */
	unsigned int subnet_octet; /* the underlay is 10.231.<octet>.0/24 */
	pid_t sshd[EMU_HOSTS_MAX]; /* 0 once the host is killed */
	char addr[EMU_HOSTS_MAX][32]; /* 10.231.<octet>.<k+1> */
	char hosts_arg[256]; /* "10.231.x.1,10.231.x.2,...": what --hosts takes */
};

/* Moves this test into network and mount namespaces of its own (so the underlay is its own),
 * then starts `count` hosts and sets CAPNET_SSH (with the test's key, no host key checks, a
 * connect timeout), CAPNET_REMOTE_BIN ($CAPNET), and CAPCTL_REMOTE_BIN and
 * CAPTRACE_REMOTE_BIN (the capctl and captrace beside it) for the programs it runs. Skips the program
 * (exit 77) without sshd. 0 or -1 with the reason printed. */
int emu_hosts_start(struct emu_hosts *e, unsigned int count);
/* Kills every host (its sshd, every process in it) and removes the underlay. Idempotent. */
void emu_hosts_stop(struct emu_hosts *e);
/* The fixture's group teardown: every host stopped, and the controller's record of `lab`
 * removed, should a test have failed before its down. */
void emu_hosts_stop_lab(struct emu_hosts *e, const char *lab);
/* Every host killed by a test back (emu_host_revive), before the lab's teardown. */
void emu_hosts_revive_all(struct emu_hosts *e);

/* The cmocka fixtures of a test of one lab on `count` hosts: name them with emu_hosts_fixture,
 * then cmocka_run_group_tests(tests, emu_hosts_group_setup, emu_hosts_group_teardown) starts
 * the hosts and stops them (emu_hosts_stop_lab); emu_hosts_test_teardown, a test's teardown,
 * brings every host it killed back and takes the lab down (netlab_teardown): each test starts
 * with no lab anywhere. */
void emu_hosts_fixture(struct emu_hosts *e, unsigned int count, const char *lab);
int emu_hosts_group_setup(void **state);
int emu_hosts_group_teardown(void **state);
int emu_hosts_test_teardown(void **state);
/* Host k is lost: its switch namespace of `lab` is deleted, every process in it is killed;
 * its address stays, so ssh gets "Connection refused" at once. */
int emu_host_kill(struct emu_hosts *e, unsigned int k, const char *lab);
/* Host k comes back after emu_host_kill: a fresh machine (an empty /run) at the same address. */
int emu_host_revive(struct emu_hosts *e, unsigned int k);
/* A non-blocking UDP socket bound to `port` in node `node` of `lab` on host k (the node's
 * namespace is found in the host's own /run/netns); -1 on failure. */
int emu_host_node_socket(const struct emu_hosts *e, unsigned int k, const char *lab,
			 unsigned int node, unsigned int port);
/* A host's own settings reach the capnet that ssh runs there as in a real host's login:
 * CAPNET_TEST_* variables written to its /root/.ssh/environment (sshd's PermitUserEnvironment)
 * hold for every session on that host alone. */
/* Runs a shell command line inside host k (its network and mount namespaces), output into out;
 * the exit status or -1. */
int emu_host_sh(const struct emu_hosts *e, unsigned int k, char *out, size_t outlen,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* How many of lab's namespaces host k holds (its /run/netns), or -1. */
int emu_host_lab_namespaces(const struct emu_hosts *e, unsigned int k, const char *lab);

#endif /* CAPNET_EMU_HOSTS_H */
