// SPDX-License-Identifier: GPL-2.0-only
/* captrace across two emulated hosts (tests/lib/emu_hosts.h): record captures every node on
 * its own host with that host's drop events, and report on the merged recording finds every
 * datagram a partition across the hosts cut, each matched to a drop event of the host that
 * dropped it (the host of its destination, whose filter judged it), with nothing unexplained. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define HOSTS 2
#define NODES 4 /* 1-2 on host 0, 3-4 on host 1 */
#define PORT 7412
#define COUNT 30

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 20], captrace[512], dir[256];

static unsigned int host_of(unsigned int node)
{
	return node <= NODES / 2 ? 0 : 1;
}

static int setup(void **state)
{
	(void)state;
	if (emu_hosts_start(&hosts, HOSTS))
		return -1;
	netlab_sibling("captrace", captrace, sizeof(captrace));
	snprintf(dir, sizeof(dir), "%s/trace", hosts.dir);
	return netlab_capnet_checked(lab, out, sizeof(out), "up -n %d --hosts %s", NODES,
				     hosts.hosts_arg) ?
		       -1 :
		       0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_capnet(lab, out, sizeof(out), "down");
	emu_hosts_stop_lab(&hosts, lab);
	return 0;
}

/* captrace record in a child; returns once it says every host records. Its output is read
 * from recorder until it ends. */
static FILE *recorder;

static pid_t record_start(void)
{
	int fds[2];
	char line[512];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		execl(captrace, captrace, "--lab", lab, "record", "-o", dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	recorder = fdopen(fds[0], "r");
	assert_non_null(recorder);
	assert_non_null(fgets(line, sizeof(line), recorder));
	printf("%s", line);
	assert_non_null(strstr(line, "on 2 hosts"));
	return pid;
}

/* COUNT datagrams on every directed link, from each node's socket on its own host. */
static void flood(void)
{
	char payload[64];
	int fd[NODES + 1];

	memset(payload, 'x', sizeof(payload));
	for (unsigned int i = 1; i <= NODES; i++) {
		fd[i] = emu_host_node_socket(&hosts, host_of(i), lab, i, PORT);
		assert_true(fd[i] >= 0);
	}
	for (unsigned int c = 0; c < COUNT; c++)
		for (unsigned int from = 1; from <= NODES; from++)
			for (unsigned int to = 1; to <= NODES; to++)
				if (from != to)
					netlab_udp_send_to(fd[from], to, PORT, payload,
							   sizeof(payload));
	for (unsigned int i = 1; i <= NODES; i++) {
		netlab_udp_count(fd[i], 200);
		close(fd[i]);
	}
}

/* Drop events of the test's datagrams (to PORT) in a file that hold text; -1 when the file
 * cannot be read. A node's own chatter (IPv6 neighbour discovery, say) may be dropped too
 * while the partition holds: it is not what the test sent. */
static int lines_in(const char *path, const char *text)
{
	if (netlab_sh(out, sizeof(out),
		      "test -r %s && grep -F -e '\"dport\":%u,' %s | grep -c -F -e '%s'", path,
		      PORT, path, text) > 1)
		return -1;
	return atoi(out);
}

static void test_lost_messages_matched_on_their_host(void **state)
{
	char text[64], drops[512], report[256];
	int status;
	pid_t pid;

	(void)state;
	pid = record_start();
	flood();
	/* Each group spans both hosts: {1,3} and {2,4}. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1,3 2,4"), 0);
	flood();
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	flood();
	kill(pid, SIGINT);
	while (fgets(text, sizeof(text), recorder))
		printf("%s", text);
	fclose(recorder);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	snprintf(report, sizeof(report), "%s/report.json", hosts.dir);
	assert_int_equal(
		netlab_sh(out, sizeof(out), "%s report %s --json > %s", captrace, dir, report), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "cat %s", report), 0);
	assert_int_equal(netlab_json_number(out, NULL, "unexplained"), 0);
	/* The 8 links between the groups lost what was sent while they were apart. */
	for (unsigned int from = 1; from <= NODES; from++)
		for (unsigned int to = 1; to <= NODES; to++) {
			char anchor[64];

			if (from == to)
				continue;
			snprintf(anchor, sizeof(anchor), "{\"from\":%u,\"to\":%u,", from, to);
			assert_int_equal(netlab_json_number(out, anchor, "partition"),
					 from % 2 == to % 2 ? 0 : COUNT);
		}

	/* report names the host that dropped each: its destination's. */
	for (unsigned int k = 0; k < HOSTS; k++) {
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "grep -o -F -e '\"host\":\"%s\"' %s | wc -l",
					   hosts.addr[k], report),
				 0);
		assert_int_equal(atoi(out), 2 * 2 * COUNT);
	}
	assert_int_equal(netlab_sh(out, sizeof(out), "%s report %s", captrace, dir), 0);
	assert_non_null(strstr(out, "across hosts"));

	/* Every loss was dropped on its destination's host: that host's own drop events hold
	 * one for each, and none for a destination elsewhere. */
	for (unsigned int k = 0; k < HOSTS; k++) {
		snprintf(drops, sizeof(drops), "%s/hosts/h%u/drops.jsonl", dir, k + 1);
		for (unsigned int to = 1; to <= NODES; to++) {
			snprintf(text, sizeof(text), "\"to\":%u,", to);
			assert_int_equal(lines_in(drops, text), host_of(to) == k ? 2 * COUNT : 0);
		}
	}
	snprintf(drops, sizeof(drops), "%s/drops.jsonl", dir);
	assert_int_equal(lines_in(drops, "\"cause\":\"partition\""), 8 * COUNT);
}

/* A host lost: the recording is refused, naming the host, and nothing is recorded elsewhere
 * as if the lab were whole. */
static void test_lost_host_refused(void **state)
{
	char trace[300];
	int rc;

	(void)state;
	assert_int_equal(emu_host_kill(&hosts, 1, lab), 0);
	snprintf(trace, sizeof(trace), "%s/lost", hosts.dir);
	rc = netlab_sh(out, sizeof(out), "%s --lab %s record -o %s --duration 1", captrace, lab,
		       trace);
	printf("%s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_int_equal(netlab_sh(out, sizeof(out), "test -e %s/meta.json", trace), 1);
}

/* The lost host back, so that down finds every share. */
static int revive(void **state)
{
	(void)state;
	for (unsigned int k = 0; k < HOSTS; k++)
		if (!hosts.sshd[k])
			emu_host_revive(&hosts, k);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_messages_matched_on_their_host),
		cmocka_unit_test_teardown(test_lost_host_refused, revive),
	};

	netlab_require_root("test_hosts_captrace");
	lab = netlab_unique_lab("htc");
	return cmocka_run_group_tests(tests, setup, teardown);
}
