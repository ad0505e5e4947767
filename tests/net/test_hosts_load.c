// SPDX-License-Identifier: GPL-2.0-only
/* capctl load against capnode on a lab across three emulated hosts (tests/lib/emu_hosts.h):
 * each host runs the clients of its own node, and the merged history, every line with its
 * host's clock bound, is linearizable through a partition; Ctrl-C on the controller ends every
 * host's clients, each after its request, and leaves a complete history. */
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

#define HOSTS 3
#define NODES 3 /* node k+1 on host k */

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 16], history[256], capctl[512];

static int setup_hosts(void **state)
{
	(void)state;
	if (emu_hosts_start(&hosts, HOSTS))
		return -1;
	netlab_sibling("capctl", capctl, sizeof(capctl));
	snprintf(history, sizeof(history), "%s/h.jsonl", hosts.dir);
	return 0;
}

static int teardown_hosts(void **state)
{
	(void)state;
	emu_hosts_stop_lab(&hosts, lab);
	return 0;
}

/* A fresh cluster for each test: capnode's registers outlive a load, and a history starts
 * with every register absent. */
static int setup_lab(void **state)
{
	(void)state;
	return netlab_capnet_checked(lab, out, sizeof(out), "up -n %d --hosts %s", NODES,
				     hosts.hosts_arg) ||
			       netlab_capnet_checked(lab, out, sizeof(out), "start --mode cp") ?
		       -1 :
		       0;
}

/* capctl load for `duration` in a child of its own; its pid. */
static pid_t start_load(const char *duration)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl(capctl, capctl, "--lab", lab, "--timeout", "300", "load", "--nodes", "1-3",
		      "--clients", "6", "--keys", "3", "--history", history, "--duration", duration,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int wait_load(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_linearizable(void)
{
	int rc = netlab_capctl(lab, out, sizeof(out), "check --model register %s", history);

	printf("%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, ": linearizable"));
}

/* Lines of the history that hold text. */
static int lines_with(const char *text)
{
	if (netlab_sh(out, sizeof(out), "grep -c -F -e '%s' %s", text, history) > 1)
		return -1;
	return atoi(out);
}

static void test_capnode_through_a_partition(void **state)
{
	pid_t pid;

	(void)state;
	pid = start_load("5");
	/* The pauses give each phase operations; no verdict depends on them. */
	usleep(1500 * 1000);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	usleep(1500 * 1000);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	assert_int_equal(wait_load(pid), 0);
	expect_linearizable();
	for (unsigned int k = 0; k < HOSTS; k++) {
		char text[96];

		snprintf(text, sizeof(text), "\"host\":\"%s\"", hosts.addr[k]);
		assert_true(lines_with(text) > 0);
	}
	assert_int_equal(lines_with("\"epsilon\":"), lines_with("\"process\":"));
}

/* Ctrl-C long before the end: every host's clients stop after their request, and the history
 * is whole (as many completions as invokes) and linearizable. */
static void test_ctrl_c_ends_every_host(void **state)
{
	pid_t pid;
	int invokes, shares = 0;

	(void)state;
	pid = start_load("600");
	/* Once every host runs its share; a bound for a share that never starts. */
	for (int i = 0; i < 600 && shares < HOSTS; i++) {
		usleep(100 * 1000);
		/* The shares themselves, not the ssh clients that carry their command lines. */
		if (netlab_sh(out, sizeof(out), "pgrep -c -f -- '^%s --lab %s .*--host-share'",
			      capctl, lab) <= 1)
			shares = atoi(out);
	}
	assert_int_equal(shares, HOSTS);
	usleep(1000 * 1000);
	kill(pid, SIGINT);
	assert_int_equal(wait_load(pid), 0);
	invokes = lines_with("\"type\":\"invoke\"");
	assert_true(invokes >= 0);
	assert_int_equal(lines_with("\"type\":\"ok\"") + lines_with("\"type\":\"fail\"") +
				 lines_with("\"type\":\"info\""),
			 invokes);
	/* How many operations a second took depends on the machine; what they say does not. */
	if (invokes)
		expect_linearizable();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capnode_through_a_partition, setup_lab,
						netlab_teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_c_ends_every_host, setup_lab,
						netlab_teardown),
	};

	netlab_require_root("test_hosts_load");
	lab = netlab_unique_lab("htl");
	return cmocka_run_group_tests(tests, setup_hosts, teardown_hosts);
}
