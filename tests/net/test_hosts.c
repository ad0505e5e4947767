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
#include <unistd.h>
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
