// SPDX-License-Identifier: GPL-2.0-only
/* A lab across hosts, on emulated hosts (tests/lib/emu_hosts.h): each a network and mount
 * namespace with Debian's sshd, reached by capnet through ssh alone. Reachability is ground
 * truth: UDP datagrams counted at the receiving node, on whichever host it lives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define HOSTS 2
#define NODES 4 /* nodes 1-2 on host 0, 3-4 on host 1 */
#define PORT 7311
#define COUNT 20

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 16];

static unsigned int host_of(unsigned int node)
{
	return node <= NODES / 2 ? 0 : 1;
}

static int setup(void **state)
{
	(void)state;
	return emu_hosts_start(&hosts, HOSTS);
}

static int teardown_hosts(void **state)
{
	(void)state;
	emu_hosts_stop(&hosts);
	/* The controller's record, should a test have failed before its down. */
	netlab_sh(out, sizeof(out), "rm -rf /run/capnet/%s", lab);
	return 0;
}

/* Every host back, then `down`: each test starts with no lab anywhere. */
static int teardown_lab(void **state)
{
	for (unsigned int k = 0; k < HOSTS; k++)
		if (!hosts.sshd[k])
			emu_host_revive(&hosts, k);
	return netlab_teardown(state);
}

static void up(void)
{
	int rc =
		netlab_capnet(lab, out, sizeof(out), "up -n %d --hosts %s", NODES, hosts.hosts_arg);

	if (rc)
		printf("up: %s", out);
	assert_int_equal(rc, 0);
}

/* got[from][to]: of COUNT datagrams of `size` bytes sent on every directed link. */
static void exchange(size_t size, unsigned int got[NODES + 1][NODES + 1])
{
	int fd[NODES + 1];
	char payload[1500];

	memset(payload, 'x', sizeof(payload));
	for (unsigned int i = 1; i <= NODES; i++) {
		fd[i] = emu_host_node_socket(&hosts, host_of(i), lab, i, PORT);
		assert_true(fd[i] >= 0);
	}
	for (unsigned int to = 1; to <= NODES; to++) {
		for (unsigned int from = 1; from <= NODES; from++) {
			if (from == to)
				continue;
			for (unsigned int c = 0; c < COUNT; c++)
				netlab_udp_send_to(fd[from], to, PORT, payload, size);
			got[from][to] = netlab_udp_count(fd[to], 300);
		}
	}
	for (unsigned int i = 1; i <= NODES; i++)
		close(fd[i]);
}

static void test_up_reaches_every_node_across_hosts(void **state)
{
	unsigned int got[NODES + 1][NODES + 1];
	char status[8192];

	(void)state;
	up();
	assert_non_null(strstr(out, "4 nodes up on 2 hosts"));
	assert_non_null(strstr(out, "node MTU 1450"));
	/* Each host holds its block and nothing else. */
	assert_int_equal(emu_host_lab_namespaces(&hosts, 0, lab), 1 + NODES / 2);
	assert_int_equal(emu_host_lab_namespaces(&hosts, 1, lab), 1 + NODES / 2);
	assert_int_equal(netlab_capnet_checked(lab, status, sizeof(status), "status"), 0);
	assert_non_null(strstr(status, "4 nodes on 2 hosts"));
	assert_non_null(strstr(status, "node MTU 1450"));
	assert_non_null(strstr(status, "nodes 1,2, whole"));
	assert_non_null(strstr(status, "nodes 3,4, whole"));
	assert_int_equal(netlab_capnet_checked(lab, status, sizeof(status), "--json status"), 0);
	assert_int_equal(netlab_json_number(status, NULL, "mtu"), 1450);

	/* exec reaches a node on either host, in its own namespace. */
	assert_int_equal(netlab_capnet_checked(lab, status, sizeof(status),
					       "exec 4 -- ip -o link show eth0"),
			 0);
	assert_non_null(strstr(status, "mtu 1450"));
	assert_int_equal(netlab_capnet_checked(lab, status, sizeof(status),
					       "exec 1 -- ip -o addr show eth0"),
			 0);
	assert_non_null(strstr(status, "10.77.0.1/16"));

	/* The largest datagram the node MTU carries: 1450 less IP and UDP headers. */
	exchange(1450 - 28, got);
	for (unsigned int from = 1; from <= NODES; from++)
		for (unsigned int to = 1; to <= NODES; to++)
			if (from != to) {
				if (got[from][to] != COUNT)
					printf("%u -> %u: %u of %d\n", from, to, got[from][to],
					       COUNT);
				assert_int_equal(got[from][to], COUNT);
			}
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	assert_int_equal(emu_host_lab_namespaces(&hosts, 0, lab), 0);
	assert_int_equal(emu_host_lab_namespaces(&hosts, 1, lab), 0);
}

static bool same_group(unsigned int a, unsigned int b)
{
	return a % 2 == b % 2; /* {1,3} and {2,4}: each group spans both hosts */
}

/* What arrived on every link is what `open` says: all COUNT, or none. */
static void expect_reach(const char *what, bool (*open)(unsigned int from, unsigned int to))
{
	unsigned int got[NODES + 1][NODES + 1];
	unsigned int wrong = 0;

	exchange(64, got);
	for (unsigned int from = 1; from <= NODES; from++)
		for (unsigned int to = 1; to <= NODES; to++) {
			unsigned int want = open(from, to) ? COUNT : 0;

			if (from == to || got[from][to] == want)
				continue;
			printf("%s: %u -> %u: %u of %d arrived, expected %u\n", what, from, to,
			       got[from][to], COUNT, want);
			wrong++;
		}
	assert_int_equal(wrong, 0);
}

static bool all_open(unsigned int from, unsigned int to)
{
	(void)from;
	(void)to;
	return true;
}

static bool odd_even(unsigned int from, unsigned int to)
{
	return same_group(from, to);
}

static bool cut_1_to_3(unsigned int from, unsigned int to)
{
	return !(from == 1 && to == 3);
}

static void switch_ok(const char *fmt, const char *arg)
{
	int rc = netlab_capnet(lab, out, sizeof(out), fmt, arg);

	if (rc)
		printf("%s: %s", fmt, out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "on 2 hosts at one CLOCK_TAI instant"));
}

/* Partitions, cuts, rules and loss switch on both hosts, judged by what arrives. */
static void test_faults_across_hosts(void **state)
{
	unsigned int got[NODES + 1][NODES + 1];
	char json[8192];

	(void)state;
	up();
	switch_ok("partition 1,3 2,4%s", "");
	expect_reach("partition 1,3 2,4", odd_even);
	/* Both hosts hold the same generation, stamped on their drop events. */
	assert_int_equal(emu_host_sh(&hosts, 0, json, sizeof(json), "%s --lab %s status --json",
				     getenv("CAPNET"), lab),
			 0);
	assert_int_equal(netlab_json_number(json, NULL, "generation"), 2);
	assert_int_equal(emu_host_sh(&hosts, 1, json, sizeof(json), "%s --lab %s status --json",
				     getenv("CAPNET"), lab),
			 0);
	assert_int_equal(netlab_json_number(json, NULL, "generation"), 2);
	switch_ok("heal%s", "");
	expect_reach("heal", all_open);
	switch_ok("cut 1 3%s", "");
	expect_reach("cut 1 3", cut_1_to_3);
	switch_ok("heal%s", "");
	/* A rule: only UDP to our port is split; the rest of the lab's traffic is not. */
	switch_ok("partition 1,3 2,4 --only udp:%s", "7311");
	expect_reach("partition --only udp:7311", odd_even);
	switch_ok("heal --only udp:%s", "7311");
	expect_reach("heal --only", all_open);
	switch_ok("link 1 3 --loss 50%s", "%");
	exchange(64, got);
	assert_true(got[1][3] > 0 && got[1][3] < COUNT);
	assert_true(got[3][1] > 0 && got[3][1] < COUNT);
	assert_int_equal(got[1][2], COUNT);
	assert_int_equal(got[2][4], COUNT);
}

/* Floods on 1 -> 4, cut in both partitions, and on 1 -> 3, open in both (each across the
 * hosts), while the lab switches back and forth between them: a frame may never cross the cut
 * link, whichever host's filter judges it and whenever. Counted at the receivers. */
static void test_switch_is_atomic_across_hosts(void **state)
{
	int fd1, fd3, fd4, pipe_fd[2];
	unsigned int crossed, carried;
	char payload[64] = "flood";
	pid_t flooder;

	(void)state;
	up();
	switch_ok("partition 1,3 2,4%s", "");
	fd1 = emu_host_node_socket(&hosts, 0, lab, 1, PORT);
	fd3 = emu_host_node_socket(&hosts, 1, lab, 3, PORT);
	fd4 = emu_host_node_socket(&hosts, 1, lab, 4, PORT);
	assert_true(fd1 >= 0 && fd3 >= 0 && fd4 >= 0);
	assert_int_equal(pipe(pipe_fd), 0);
	flooder = fork();
	if (flooder == 0) {
		char c;

		close(pipe_fd[1]);
		fcntl(pipe_fd[0], F_SETFL, O_NONBLOCK);
		/* Until the parent closes the pipe. */
		while (read(pipe_fd[0], &c, 1) < 0) {
			netlab_udp_send_to(fd1, 4, PORT, payload, sizeof(payload));
			netlab_udp_send_to(fd1, 3, PORT, payload, sizeof(payload));
		}
		_exit(0);
	}
	close(pipe_fd[0]);
	for (int i = 0; i < 10; i++) {
		switch_ok("partition 1,2,3 4%s", "");
		switch_ok("partition 1,3 2,4%s", "");
		/* Drained as it goes, so no receive buffer fills and hides a crossing. */
		netlab_udp_count(fd4, 0);
	}
	close(pipe_fd[1]);
	waitpid(flooder, NULL, 0);
	crossed = netlab_udp_count(fd4, 300);
	carried = netlab_udp_count(fd3, 300);
	printf("1 -> 4 (cut in both): %u crossed; 1 -> 3 (open in both): %u in the last buffer\n",
	       crossed, carried);
	assert_int_equal(crossed, 0);
	assert_true(carried > 0);
	close(fd1);
	close(fd3);
	close(fd4);
}

static void test_bad_input_is_refused(void **state)
{
	char cmd[8][512];
	const char *cmds[8];

	(void)state;
	snprintf(cmd[0], sizeof(cmd[0]), "up -n 4 --hosts %s,%s", hosts.addr[0], hosts.addr[0]);
	snprintf(cmd[1], sizeof(cmd[1]), "up -n 1 --hosts %s", hosts.hosts_arg);
	snprintf(cmd[2], sizeof(cmd[2]), "up -n 4 --hosts %s --place 1-2@%s,4@%s", hosts.hosts_arg,
		 hosts.addr[0], hosts.addr[1]);
	snprintf(cmd[3], sizeof(cmd[3]), "up -n 4 --hosts %s --place 1-3@%s,3-4@%s",
		 hosts.hosts_arg, hosts.addr[0], hosts.addr[1]);
	snprintf(cmd[4], sizeof(cmd[4]), "up -n 4 --hosts local,%s,local", hosts.addr[0]);
	snprintf(cmd[5], sizeof(cmd[5]), "up -n 4 --place 1-4@%s", hosts.addr[0]);
	snprintf(cmd[6], sizeof(cmd[6]), "up -n 4 --hosts %s --place 1-4@elsewhere", hosts.addr[0]);
	snprintf(cmd[7], sizeof(cmd[7]), "up -n 4 --hosts @/nonexistent/hosts");
	for (int i = 0; i < 8; i++)
		cmds[i] = cmd[i];
	assert_int_equal(netlab_expect_usage_errors(lab, cmds, 8), 0);
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_lab_namespaces(&hosts, k, lab), 0);
}

/* A host nobody answers at: one line naming it and ssh's reason; nothing built anywhere. */
static void test_unreachable_host_leaves_nothing(void **state)
{
	int rc;

	(void)state;
	rc = netlab_capnet(lab, out, sizeof(out), "up -n 4 --hosts %s,%s:2", hosts.addr[0],
			   hosts.addr[1]);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "Connection refused"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_lab_namespaces(&hosts, k, lab), 0);
	/* And no record either: the same lab comes up at once. */
	up();
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
}

/* A host that fails to build its share (a namespace of the lab's name is in the way there):
 * the other host's share is taken down again. */
static void test_failed_share_leaves_nothing(void **state)
{
	int rc;

	(void)state;
	assert_int_equal(emu_host_sh(&hosts, 1, out, sizeof(out), "ip netns add %s-n4", lab), 0);
	rc = netlab_capnet(lab, out, sizeof(out), "up -n 4 --hosts %s", hosts.hosts_arg);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "nothing was left on any host"));
	assert_int_equal(emu_host_lab_namespaces(&hosts, 0, lab), 0);
	assert_int_equal(emu_host_lab_namespaces(&hosts, 1, lab), 0);
}

static void test_lost_host_is_named_and_down_finishes_later(void **state)
{
	int rc;

	(void)state;
	up();
	assert_int_equal(emu_host_kill(&hosts, 1, lab), 0);
	rc = netlab_capnet(lab, out, sizeof(out), "status");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "nodes 3,4, not whole"));
	rc = netlab_capnet(lab, out, sizeof(out), "partition 1,2");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "no host switched"));
	rc = netlab_capnet(lab, out, sizeof(out), "down");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "down again once they are back"));
	/* What was reachable is gone already. */
	assert_int_equal(emu_host_lab_namespaces(&hosts, 0, lab), 0);
	assert_int_equal(emu_host_revive(&hosts, 1), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_lab_namespaces(&hosts, k, lab), 0);
	/* No lab is left for a command to find. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_up_reaches_every_node_across_hosts, teardown_lab),
		cmocka_unit_test_teardown(test_faults_across_hosts, teardown_lab),
		cmocka_unit_test_teardown(test_switch_is_atomic_across_hosts, teardown_lab),
		cmocka_unit_test_teardown(test_bad_input_is_refused, teardown_lab),
		cmocka_unit_test_teardown(test_unreachable_host_leaves_nothing, teardown_lab),
		cmocka_unit_test_teardown(test_failed_share_leaves_nothing, teardown_lab),
		cmocka_unit_test_teardown(test_lost_host_is_named_and_down_finishes_later,
					  teardown_lab),
	};

	netlab_require_root("test_hosts");
	lab = netlab_unique_lab("ho");
	return cmocka_run_group_tests(tests, setup, teardown_hosts);
}
