// SPDX-License-Identifier: GPL-2.0-only
/* A lab across hosts, on emulated hosts (tests/lib/emu_hosts.h): each a network and mount
 * namespace with Debian's sshd, reached by capnet through ssh alone. Reachability is ground
 * truth: UDP datagrams counted at the receiving node, on whichever host it lives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "lib/monotonic.h"
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
	/* Every host's filter has judged frames by the new copy: status shows how soon after the
	 * instant each did, and the spread between them; and each host's clock, measured over ssh
	 * since no clock sync runs on the emulated hosts (in round trips to the controller). */
	assert_int_equal(netlab_capnet_checked(lab, json, sizeof(json), "--json status"), 0);
	assert_true(netlab_json_number(json, "\"switch\"", "spread_ns") >= 0);
	assert_int_equal(netlab_json_number(json, "\"switch\"", "flip_at_tai_ns") > 0, 1);
	assert_non_null(strstr(json, "\"source\":\"ssh\""));
	assert_true(netlab_json_number(json, "\"clock\"", "bound_ns") > 0);
	assert_int_equal(netlab_capnet_checked(lab, json, sizeof(json), "status"), 0);
	assert_non_null(strstr(json, "clock: no clock sync, offset"));
	assert_non_null(strstr(json, "last switch: generation 2"));
	assert_non_null(strstr(json, "each host on its own clock"));
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

/* The policy host k holds: its own status's partition and generation lines. */
static void host_policy(unsigned int k, char *buf, size_t len)
{
	assert_int_equal(emu_host_sh(&hosts, k, buf, len,
				     "%s --lab %s status | grep -E \"^(partition|generation) \" | "
				     "cut -d, -f1",
				     getenv("CAPNET"), lab),
			 0);
}

/* Two partitions of one lab at once, from two commands: each either switches every host or
 * none, so every host ends on one policy under one generation. Both prepared the same next
 * generation on every host, and a host kept whichever came last, so hosts ended on different
 * policies under one generation and a command said it had switched a policy one host did not
 * hold. */
static void test_two_switches_at_once_agree_on_every_host(void **state)
{
	char first[512], second[512];

	(void)state;
	up();
	for (int round = 0; round < 4; round++) {
		pid_t pid[2];
		int status;

		for (int c = 0; c < 2; c++) {
			pid[c] = fork();
			assert_true(pid[c] >= 0);
			if (pid[c] == 0) {
				static char mine[4096];

				_exit(netlab_capnet(lab, mine, sizeof(mine), "partition %s",
						    c ? "1,2 3,4" : "1,3 2,4"));
			}
		}
		for (int c = 0; c < 2; c++) {
			assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		host_policy(0, first, sizeof(first));
		host_policy(1, second, sizeof(second));
		if (strcmp(first, second))
			printf("host 0:\n%shost 1:\n%s", first, second);
		assert_string_equal(first, second);
	}
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
}

/* `local` beside a remote host: nodes 1-2 on this machine, without ssh, 3-4 on an emulated
 * host; a partition across them holds, counted at the receivers, and down leaves neither. */
static void test_local_beside_a_remote_host(void **state)
{
	char path[128];
	int fd1, fd3, fd4;

	(void)state;
	assert_int_equal(
		netlab_capnet(lab, out, sizeof(out), "up -n 4 --hosts local,%s", hosts.addr[1]), 0);
	assert_non_null(strstr(out, "4 nodes up on 2 hosts (1,2@local,3,4@"));
	/* status and exec reach local's share as any other host's (the lab's record of its
	 * hosts is in the same run directory there). */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "nodes 1,2, whole"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "--json status"), 0);
	assert_int_equal(netlab_json_number(out, NULL, "mtu"), 1450);
	assert_int_equal(
		netlab_capnet_checked(lab, out, sizeof(out), "exec 2 -- ip -o addr show eth0"), 0);
	assert_non_null(strstr(out, "10.77.0.2/16"));
	switch_ok("partition 1,3 2,4%s", "");
	fd1 = netlab_udp_socket(lab, 1, PORT);
	fd3 = emu_host_node_socket(&hosts, 1, lab, 3, PORT);
	fd4 = emu_host_node_socket(&hosts, 1, lab, 4, PORT);
	assert_true(fd1 >= 0 && fd3 >= 0 && fd4 >= 0);
	for (unsigned int c = 0; c < COUNT; c++) {
		netlab_udp_send_to(fd1, 3, PORT, "x", 1);
		netlab_udp_send_to(fd1, 4, PORT, "x", 1);
		netlab_udp_send_to(fd3, 1, PORT, "x", 1);
	}
	assert_int_equal(netlab_udp_count(fd3, 300), COUNT);
	assert_int_equal(netlab_udp_count(fd4, 300), 0);
	assert_int_equal(netlab_udp_count(fd1, 300), COUNT);
	close(fd1);
	close(fd3);
	close(fd4);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	snprintf(path, sizeof(path), "/run/netns/%s-n1", lab);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(emu_host_lab_namespaces(&hosts, 1, lab), 0);
}

static void test_bad_input_is_refused(void **state)
{
	char cmd[10][512], nul_file[] = "/tmp/capnet-hosts-nul-XXXXXX";
	const char *cmds[10];
	int fd;

	(void)state;
	/* A file of hosts with a NUL byte in it: the hosts after it must not vanish silently. */
	fd = mkstemp(nul_file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "h1\n\0h2\n", 7), 7);
	close(fd);
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
	snprintf(cmd[8], sizeof(cmd[8]), "up -n 4 --hosts @");
	snprintf(cmd[9], sizeof(cmd[9]), "up -n 4 --hosts @%s", nul_file);
	for (int i = 0; i < 10; i++)
		cmds[i] = cmd[i];
	assert_int_equal(netlab_expect_usage_errors(lab, cmds, 10), 0);
	unlink(nul_file);
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_lab_namespaces(&hosts, k, lab), 0);
}

/* A host whose kernel lacks what a share needs: the probe of `host hello` asks its kernel for
 * something it does not have (a CAPNET_TEST_PROBE_* variable set on that host alone: a link
 * kind, a BPF program type or a helper that does not exist), the kernel refuses, and up refuses
 * before any host builds, naming the host and what is missing. */
static void expect_probe_refusal(const char *environment, const char *missing)
{
	char scratch[256];
	int rc;

	assert_int_equal(emu_host_sh(&hosts, 1, out, sizeof(out),
				     "mkdir -p /root/.ssh && echo %s >/root/.ssh/environment",
				     environment),
			 0);
	rc = netlab_capnet(lab, out, sizeof(out), "up -n 4 --hosts %s", hosts.hosts_arg);
	emu_host_sh(&hosts, 1, scratch, sizeof(scratch), "rm -f /root/.ssh/environment");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, missing));
	assert_non_null(strstr(out, "nothing was built"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_lab_namespaces(&hosts, k, lab), 0);
}

static void test_host_without_vxlan_is_refused(void **state)
{
	(void)state;
	expect_probe_refusal("CAPNET_TEST_PROBE_VXLAN_KIND=vxlan-missing",
			     "kernel makes no VXLAN device");
}

/* A program type number past every kind the kernel knows. */
static void test_host_without_bpf_tc_is_refused(void **state)
{
	(void)state;
	expect_probe_refusal("CAPNET_TEST_PROBE_BPF_PROG_TYPE=100000",
			     "kernel loads no BPF tc program");
}

/* A helper number past every helper the kernel has. */
static void test_host_without_tai_helper_is_refused(void **state)
{
	(void)state;
	expect_probe_refusal("CAPNET_TEST_PROBE_BPF_HELPER=100000",
			     "no bpf_ktime_get_tai_ns for BPF");
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

/* One machine under two names the parser cannot tell apart (its address with and without
 * ssh's own port): refused once each has said where it was reached, before anything is built. */
static void test_one_machine_named_twice_is_refused(void **state)
{
	char path[128];
	int rc;

	(void)state;
	rc = netlab_capnet(lab, out, sizeof(out), "up -n 4 --hosts %s,%s:22", hosts.addr[0],
			   hosts.addr[0]);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "are one machine"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(emu_host_lab_namespaces(&hosts, 0, lab), 0);
	/* Not even the run directory of its ssh connections, nor a connection kept open. */
	snprintf(path, sizeof(path), "/run/capnet/%s", lab);
	assert_int_not_equal(access(path, F_OK), 0);
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

/* A host lost between the two phases of a switch: the controller is held by the test hook
 * once every host has prepared, host 1 is killed (its sshd, its sessions and its switch), and
 * the controller goes on. No host switches: host 0 keeps the partition in force, by ground
 * truth; the command names host 1; a second down, once it is back, leaves nothing. */
static void test_host_lost_between_phases_switches_none(void **state)
{
	char fifo[64], path[128], json[8192];
	int status, fd1, fd2;
	pid_t pid;

	(void)state;
	up();
	switch_ok("partition 1,3 2,4%s", "");
	snprintf(fifo, sizeof(fifo), "/tmp/capnet-hosts-phase-%d", (int)getpid());
	snprintf(path, sizeof(path), "/tmp/capnet-hosts-out-%d", (int)getpid());
	pid = netlab_capnet_parked(lab, "switch-prepared", fifo, path, "partition", "1,2", "3,4",
				   (char *)NULL);
	assert_true(pid > 0);
	assert_int_equal(emu_host_kill(&hosts, 1, lab), 0);
	kill(pid, SIGUSR1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	netlab_sh(out, sizeof(out), "cat %s; rm -f %s", path, path);
	printf("%s", out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "was lost after it prepared"));
	assert_non_null(strstr(out, "no host switched"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	/* Host 0 holds the partition it held, generation 2: 1 and 2 stay apart. */
	assert_int_equal(emu_host_sh(&hosts, 0, json, sizeof(json), "%s --lab %s status --json",
				     getenv("CAPNET"), lab),
			 0);
	assert_int_equal(netlab_json_number(json, NULL, "generation"), 2);
	fd1 = emu_host_node_socket(&hosts, 0, lab, 1, PORT);
	fd2 = emu_host_node_socket(&hosts, 0, lab, 2, PORT);
	assert_true(fd1 >= 0 && fd2 >= 0);
	for (unsigned int c = 0; c < COUNT; c++)
		netlab_udp_send_to(fd1, 2, PORT, "x", 1);
	assert_int_equal(netlab_udp_count(fd2, 300), 0);
	close(fd1);
	close(fd2);
	/* The lab is not whole now; down names host 1, and finishes once it is back. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_int_equal(emu_host_revive(&hosts, 1), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_lab_namespaces(&hosts, k, lab), 0);
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
	/* exec of a node on the lost host says so in capnet's words, not ssh's exit 255 */
	rc = netlab_capnet(lab, out, sizeof(out), "exec 3 -- true");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "exec: host "));
	assert_non_null(strstr(out, hosts.addr[1]));
	/* clock refuses even for a node on a host still there */
	rc = netlab_capnet(lab, out, sizeof(out), "clock 1 --offset 1s");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "not whole"));
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

/* ---- make bench: `test_hosts --bench` prints rows, asserts nothing ---------------------- */

#define BENCH_HOSTS 4
#define BENCH_RUNS 10

static void bench_row(const char *label, const char *capnet, const char *baseline,
		      const char *ratio, const char *goal)
{
	printf("%-58s %12s %12s %8s  %s\n", label, capnet, baseline, ratio, goal);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n ? v[(n - 1) / 2] : 0;
}

/* The whole command's wall time in seconds, or -1 when it failed (its output printed). */
static double timed(const char *bench_lab, const char *fmt, const char *arg)
{
	uint64_t t0 = monotonic_ns();
	int rc = netlab_capnet(bench_lab, out, sizeof(out), fmt, arg);

	if (rc) {
		printf("bench: capnet %s: %s", fmt, out);
		return -1;
	}
	return (monotonic_ns() - t0) / 1e9;
}

/* The first `count` hosts, as --hosts takes them. */
static const char *first_hosts(unsigned int count)
{
	static char list[256];

	list[0] = '\0';
	for (unsigned int k = 0; k < count; k++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? "," : "",
			 hosts.addr[k]);
	return list;
}

/* up -n N over 4 emulated hosts against the same lab on this one host. */
static void bench_up(const char *bench_lab, unsigned int nodes)
{
	char label[96], a[32], b[32], r[32];
	double spread, one;

	snprintf(a, sizeof(a), "up -n %u --hosts %%s", nodes);
	spread = timed(bench_lab, a, first_hosts(BENCH_HOSTS));
	netlab_capnet(bench_lab, out, sizeof(out), "down");
	snprintf(b, sizeof(b), "up -n %u%%s", nodes);
	one = timed(bench_lab, b, "");
	netlab_capnet(bench_lab, out, sizeof(out), "down");
	snprintf(label, sizeof(label), "up -n %u, %d emulated hosts / one host, s", nodes,
		 BENCH_HOSTS);
	if (spread < 0 || one < 0) {
		printf("%-58s n/a: an up failed (above)\n", label);
		return;
	}
	snprintf(a, sizeof(a), "%.3f", spread);
	snprintf(b, sizeof(b), "%.3f", one);
	snprintf(r, sizeof(r), "%.2fx", one / spread);
	bench_row(label, a, b, r, "");
}

/* The whole `capnet partition` across `count` hosts, two partitions in turn; median ms. */
static double bench_partition(const char *bench_lab, unsigned int count)
{
	double t[BENCH_RUNS];

	if (netlab_capnet(bench_lab, out, sizeof(out), "up -n %u --hosts %s", 2 * count,
			  first_hosts(count))) {
		printf("bench: up across %u hosts: %s", count, out);
		return -1;
	}
	for (int i = 0; i < BENCH_RUNS; i++) {
		t[i] = timed(bench_lab, i % 2 ? "partition 1%s" : "partition 2%s", "");
		if (t[i] < 0)
			return -1;
	}
	return median_of(t, BENCH_RUNS) * 1e3;
}

/* The same change the Jepsen way, on the lab of bench_partition: in every node at once, over
 * the lab's own shared ssh connection to its host, iptables-restore of an INPUT chain that
 * drops what comes from the other side of `partition 1` (node 1 alone). Seconds, or -1. */
static double iptables_partition(const char *bench_lab, unsigned int count)
{
	char cmd[2048], rules[1024];
	pid_t pid[2 * BENCH_HOSTS];
	uint64_t t0 = monotonic_ns();
	bool ok = true;

	for (unsigned int i = 1; i <= 2 * count; i++) {
		size_t used = snprintf(rules, sizeof(rules), "*filter\\n:INPUT ACCEPT [0:0]\\n");

		for (unsigned int j = 1; j <= 2 * count; j++)
			if (j != i && (i == 1 || j == 1))
				used += snprintf(rules + used, sizeof(rules) - used,
						 "-A INPUT -s 10.77.0.%u -j DROP\\n", j);
		snprintf(rules + used, sizeof(rules) - used, "COMMIT\\n");
		snprintf(cmd, sizeof(cmd),
			 "printf '%s' | %s -o ControlPath=/run/capnet/%s/ssh-%%C %s "
			 "'ip netns exec %s-n%u iptables-restore'",
			 rules, getenv("CAPNET_SSH"), bench_lab, hosts.addr[(i - 1) / 2], bench_lab,
			 i);
		pid[i - 1] = fork();
		if (pid[i - 1] == 0) {
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
	}
	for (unsigned int i = 0; i < 2 * count; i++) {
		int status;

		ok &= pid[i] > 0 && waitpid(pid[i], &status, 0) == pid[i] && WIFEXITED(status) &&
		      !WEXITSTATUS(status);
	}
	return ok ? (monotonic_ns() - t0) / 1e9 : -1;
}

/* The Jepsen way's median over a few runs, ms; -1 when iptables-restore fails. */
static double bench_iptables(const char *bench_lab, unsigned int count)
{
	double t[3];

	for (int i = 0; i < 3; i++) {
		t[i] = iptables_partition(bench_lab, count);
		if (t[i] < 0)
			return -1;
	}
	return median_of(t, 3) * 1e3;
}

/* Frames from node 1 to one node on every host, until the pipe closes. */
static pid_t start_flood(const char *bench_lab, int *stop_fd)
{
	static const unsigned int to[] = { 2, 3, 5, 7 };
	int fd, pipe_fd[2];
	pid_t pid;

	fd = emu_host_node_socket(&hosts, 0, bench_lab, 1, PORT);
	if (fd < 0 || pipe(pipe_fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(pipe_fd[1]);
		fcntl(pipe_fd[0], F_SETFL, O_NONBLOCK);
		while (read(pipe_fd[0], &c, 1) < 0)
			for (unsigned int k = 0; k < sizeof(to) / sizeof(to[0]); k++)
				netlab_udp_send_to(fd, to[k], PORT, "spread", 6);
		_exit(0);
	}
	close(pipe_fd[0]);
	close(fd);
	*stop_fd = pipe_fd[1];
	return pid;
}

/* On the 4-host lab of bench_partition (8 nodes, two a host): while node 1 floods a node on
 * every host, switch between two partitions that keep those links open, and read after each
 * switch how far apart the hosts' filters first judged a frame by the new copy (status), and
 * how far apart the commit reached them (what switching on arrival would have spread). */
static void bench_spread(const char *bench_lab)
{
	double spread[BENCH_RUNS], arrival[BENCH_RUNS], worst = 0;
	char a[32], b[32], c[96], status[16384];
	int stop_fd, n = 0, late = 0;
	pid_t flooder = start_flood(bench_lab, &stop_fd);

	if (flooder < 0) {
		printf("%-58s n/a: no flood\n", "switch spread, 4 hosts on one clock, us");
		return;
	}
	for (int i = 0; i < BENCH_RUNS; i++) {
		long long s, arr;

		if (netlab_capnet(bench_lab, out, sizeof(out), "--json partition %s",
				  i % 2 ? "1,2,3,5,7 4,6,8" : "1,2,3,5,7,4 6,8") ||
		    netlab_capnet(bench_lab, status, sizeof(status), "--json status"))
			break;
		s = netlab_json_number(status, "\"switch\"", "spread_ns");
		arr = netlab_json_number(out, NULL, "arrival_spread_ns");
		if (netlab_json_number(out, NULL, "late_ns") > 0)
			late++;
		if (s < 0 || arr < 0)
			continue;
		spread[n] = s / 1e3;
		arrival[n] = arr / 1e3;
		if (spread[n] > worst)
			worst = spread[n];
		n++;
	}
	close(stop_fd);
	waitpid(flooder, NULL, 0);
	if (!n) {
		printf("%-58s n/a: no switch was judged by every host (%s)\n",
		       "switch spread, 4 hosts on one clock, us", out);
		return;
	}
	snprintf(a, sizeof(a), "%.1f", median_of(spread, n));
	snprintf(b, sizeof(b), "%.1f", median_of(arrival, n));
	snprintf(c, sizeof(c), "%s; worst %.1f of %d, %d late",
		 median_of(spread, n) < 100 ? "goal 100 us ok" : "goal 100 us MISSED", worst, n,
		 late);
	bench_row("switch spread, 4 hosts on one clock, us (baseline: on arrival)", a, b, "", c);
}

/* Frames of 64 bytes from node 1 (host 0) to node 3 (host 1), through VXLAN, received in one
 * second; -1 on failure. */
static double flood_rate(const char *bench_lab)
{
	int tx = emu_host_node_socket(&hosts, 0, bench_lab, 1, PORT),
	    rx = emu_host_node_socket(&hosts, 1, bench_lab, 3, PORT);
	char payload[22] = "cost", buf[2048];
	unsigned int got = 0;
	int stop_fd[2];
	pid_t pid;

	if (tx < 0 || rx < 0 || pipe(stop_fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		char ch;

		close(stop_fd[1]);
		fcntl(stop_fd[0], F_SETFL, O_NONBLOCK);
		while (read(stop_fd[0], &ch, 1) < 0)
			netlab_udp_send_to(tx, 3, PORT, payload, sizeof(payload));
		_exit(0);
	}
	close(stop_fd[0]);
	netlab_udp_count(rx, 0);
	{
		long long end = monotonic_ms() + 1000;
		struct pollfd p = { .fd = rx, .events = POLLIN };

		while (monotonic_ms() < end)
			if (poll(&p, 1, 50) > 0)
				while (recv(rx, buf, sizeof(buf), 0) >= 0)
					got++;
	}
	close(stop_fd[1]);
	waitpid(pid, NULL, 0);
	close(tx);
	close(rx);
	return got;
}

/* The 2-host lab: frames across VXLAN with the filter on the receiving port, then with it
 * taken off that port (make bench's port_filter, $BENCH_PORT_FILTER, run on the receiving
 * host), three seconds of each; medians. */
static void bench_filter_cost(const char *bench_lab)
{
	const char *pfilter = getenv("BENCH_PORT_FILTER");
	double with[3], without[3];
	char a[32], b[32], r[32], shell[512];

	if (netlab_capnet(bench_lab, out, sizeof(out), "up -n 4 --hosts %s", first_hosts(2))) {
		printf("bench: up across 2 hosts: %s", out);
		return;
	}
	for (int i = 0; i < 3; i++)
		with[i] = flood_rate(bench_lab);
	if (!pfilter || emu_host_sh(&hosts, 1, shell, sizeof(shell),
				    "%s --lab %s --hook blocks detach p3", pfilter, bench_lab)) {
		printf("%-58s n/a: the filter could not be taken off p3: %s\n",
		       "filter cost across hosts (VXLAN), frames/s",
		       pfilter ? shell : "no port_filter");
		return;
	}
	for (int i = 0; i < 3; i++)
		without[i] = flood_rate(bench_lab);
	snprintf(a, sizeof(a), "%.0f", median_of(with, 3));
	snprintf(b, sizeof(b), "%.0f", median_of(without, 3));
	snprintf(r, sizeof(r), "%.3fx", median_of(with, 3) / median_of(without, 3));
	bench_row("filter cost across hosts (VXLAN): filter / none, frames/s", a, b, r, "");
}

static void partition_row(unsigned int count, double capnet_ms, double iptables_ms)
{
	char label[96], a[32], b[32], r[32], g[32];

	snprintf(label, sizeof(label), "partition, %u hosts, ms (baseline: iptables over ssh)",
		 count);
	snprintf(a, sizeof(a), "%.1f", capnet_ms);
	if (iptables_ms > 0) {
		snprintf(b, sizeof(b), "%.1f", iptables_ms);
		snprintf(r, sizeof(r), "%.2fx", iptables_ms / capnet_ms);
	} else {
		snprintf(b, sizeof(b), "n/a");
		snprintf(r, sizeof(r), "-");
	}
	snprintf(g, sizeof(g), "%s",
		 count < 4	? "" :
		 capnet_ms < 30 ? "goal 30 ms ok" :
				  "goal 30 ms MISSED");
	bench_row(label, a, b, r, g);
}

static int bench(void)
{
	const char *bench_lab = netlab_unique_lab("hb");
	const char *nodes_env = getenv("BENCH_HOSTS_NODES");
	unsigned int nodes = nodes_env ? (unsigned int)atoi(nodes_env) : 1000;
	double two, four;

	lab = bench_lab;
	if (emu_hosts_start(&hosts, BENCH_HOSTS)) {
		printf("%-58s n/a: the emulated hosts did not start\n", "hosts");
		return 0;
	}
	bench_up(bench_lab, nodes);
	two = bench_partition(bench_lab, 2);
	if (two > 0)
		partition_row(2, two, bench_iptables(bench_lab, 2));
	netlab_capnet(bench_lab, out, sizeof(out), "down");
	four = bench_partition(bench_lab, 4);
	if (two > 0 && four > 0) {
		partition_row(4, four, bench_iptables(bench_lab, 4));
		bench_spread(bench_lab);
	} else {
		printf("%-58s n/a: a lab across hosts did not come up (above)\n",
		       "partition across hosts");
	}
	netlab_capnet(bench_lab, out, sizeof(out), "down");
	bench_filter_cost(bench_lab);
	netlab_capnet(bench_lab, out, sizeof(out), "down");
	emu_hosts_stop(&hosts);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_up_reaches_every_node_across_hosts,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_faults_across_hosts, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_switch_is_atomic_across_hosts,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_two_switches_at_once_agree_on_every_host,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_local_beside_a_remote_host, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_bad_input_is_refused, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_host_without_vxlan_is_refused,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_host_without_bpf_tc_is_refused,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_host_without_tai_helper_is_refused,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_unreachable_host_leaves_nothing,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_one_machine_named_twice_is_refused,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_failed_share_leaves_nothing,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_lost_host_is_named_and_down_finishes_later,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_host_lost_between_phases_switches_none,
					  emu_hosts_test_teardown),
	};

	netlab_require_root("test_hosts");
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	lab = netlab_unique_lab("ho");
	emu_hosts_fixture(&hosts, HOSTS, lab);
	return cmocka_run_group_tests(tests, emu_hosts_group_setup, emu_hosts_group_teardown);
}
