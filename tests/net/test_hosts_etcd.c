// SPDX-License-Identifier: GPL-2.0-only
/* A real 3-member etcd from Debian with one member on each of three emulated hosts
 * (tests/lib/emu_hosts.h), under partitions across hosts, and capctl load run across them: the
 * client of node N runs inside node N on its own host, each host stamps its lines on its own
 * clock, and the merged history carries each host's bound. etcd's default reads are judged
 * linearizable; its --serializable reads on a minority member are caught stale even so, for
 * widening by the bounds hides no real violation. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define HOSTS 3
#define NODES 3 /* node k+1 on host k */

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 16], history[256];

/* Each member started in its node, on its node's host, by `capnet start` across hosts: its
 * whole cluster line from {each:}, every node's address wherever it lives. */
static int start_etcd(void)
{
	return netlab_capnet_checked(
		lab, out, sizeof(out),
		"start --name etcd -- etcd --name e{i} --data-dir {dir}/etcd "
		"--listen-peer-urls http://{ip}:2380 --initial-advertise-peer-urls "
		"http://{ip}:2380 --listen-client-urls http://{ip}:2379,http://127.0.0.1:2379 "
		"--advertise-client-urls http://{ip}:2379 "
		"--initial-cluster {each:e{i}=http://{ip}:2380} --initial-cluster-state new "
		"--heartbeat-interval 50 --election-timeout 500 --logger zap --log-level error");
}

static int setup(void **state)
{
	(void)state;
	if (emu_hosts_start(&hosts, HOSTS))
		return -1;
	snprintf(history, sizeof(history), "%s/h.jsonl", hosts.dir);
	if (netlab_capnet_checked(lab, out, sizeof(out), "up -n %d --hosts %s", NODES,
				  hosts.hosts_arg) ||
	    start_etcd())
		return -1;
	return netlab_etcd_ready(lab, NODES) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	netlab_capnet(lab, out, sizeof(out), "down");
	emu_hosts_stop_lab(&hosts, lab);
	return 0;
}

static void switch_ok(const char *what)
{
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "%s", what), 0);
	assert_non_null(strstr(out, "on 3 hosts at one CLOCK_TAI instant"));
}

/* A load of every member's clients while the cluster is split one way, healed, split another
 * way and healed: its exit status. The pauses give each phase some operations; no verdict
 * depends on their length. */
static uint64_t load_began, load_ended; /* CLOCK_MONOTONIC */

static uint64_t monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int load_through_partitions(const char *extra)
{
	pid_t pid;
	int status;

	load_began = monotonic_now();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc =
			netlab_capctl(lab, out, sizeof(out),
				      "--timeout 300 load --client etcd %s --nodes 1-3 --clients 6 "
				      "--keys 2 --duration 6 --history %s",
				      extra, history);

		printf("%s", out);
		fflush(stdout);
		_exit(rc < 0 ? 99 : rc);
	}
	usleep(1500 * 1000);
	switch_ok("partition 1 2,3");
	usleep(1500 * 1000);
	switch_ok("heal");
	usleep(500 * 1000);
	switch_ok("partition 3 1,2");
	usleep(1500 * 1000);
	switch_ok("heal");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	load_ended = monotonic_now();
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* How many of the history's lines hold text. */
static int lines_with(const char *text)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "grep -c -F -e '%s' %s", text, history);
	if (netlab_sh(out, sizeof(out), "%s", cmd) > 1)
		return -1;
	return atoi(out);
}

static void test_one_member_per_host_is_linearizable(void **state)
{
	char text[128];
	int all;

	(void)state;
	assert_int_equal(load_through_partitions(""), 0);
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out), "-v check --model register %s", history), 0);
	printf("%s", out);
	assert_non_null(strstr(out, ": linearizable"));
	assert_non_null(strstr(out, "operations widened by their clocks' bounds, up to "));
	/* and a JSON reader is told the bound with the verdict */
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "--json check --model register %s",
				       history),
			 0);
	assert_non_null(strstr(out, "{\"valid\":true,\"model\":\"register\",\"epsilon_ns\":"));

	/* Every line came from its node's own host, with that host's bound, measured over ssh
	 * (emulated hosts run no chrony). */
	all = lines_with("\"process\":");
	assert_true(all > 0);
	assert_int_equal(lines_with("\"epsilon_source\":\"ssh\""), all);
	assert_int_equal(lines_with("\"epsilon\":"), all);
	for (unsigned int k = 0; k < HOSTS; k++) {
		char node[32];
		int of_node;

		snprintf(node, sizeof(node), "\"node\":%u,", k + 1);
		snprintf(text, sizeof(text), "\"host\":\"%s\"", hosts.addr[k]);
		of_node = lines_with(node);
		assert_true(of_node > 0);
		assert_int_equal(lines_with(text), of_node);
	}
	/* On the controller's CLOCK_MONOTONIC, the fault log's clock: within the load's span as
	 * this test saw it. */
	assert_int_equal(netlab_sh(out, sizeof(out), "head -1 %s", history), 0);
	assert_true(strtoull(strstr(out, "\"time\":") + 7, NULL, 10) >= load_began);
	assert_int_equal(netlab_sh(out, sizeof(out), "tail -1 %s", history), 0);
	assert_true(strtoull(strstr(out, "\"time\":") + 7, NULL, 10) <= load_ended);
	assert_true(netlab_etcd_ready(lab, NODES));
}

static void test_serializable_reads_still_caught(void **state)
{
	(void)state;
	assert_int_equal(load_through_partitions("--serializable"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "check --model register %s", history),
			 1);
	printf("%s", out);
	assert_non_null(strstr(out, "not linearizable"));
	assert_true(netlab_etcd_ready(lab, NODES));
}

/* A bank needs capnode, which these nodes do not run: its opening, on the first node's host,
 * says so; a node the lab does not have is refused before anything starts. */
static void test_bad_loads_refused(void **state)
{
	(void)state;
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --workload bank --duration 1 --history %s", history),
			 1);
	printf("%s", out);
	assert_non_null(strstr(out, "failed in the bank's opening"));
	assert_non_null(strstr(out, "no capnode answered"));
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client etcd --nodes 4 --duration 1 --history %s",
				       history),
			 1);
	assert_non_null(strstr(out, "the lab has 3 nodes, not node 4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_member_per_host_is_linearizable),
		cmocka_unit_test(test_serializable_reads_still_caught),
		cmocka_unit_test(test_bad_loads_refused),
	};

	netlab_require_root("test_hosts_etcd");
	if (access("/usr/bin/etcd", X_OK)) {
		printf("SKIP: no etcd (Debian's etcd-server; make deps installs it)\n");
		return 77;
	}
	lab = netlab_unique_lab("hte");
	return cmocka_run_group_tests(tests, setup, teardown);
}
