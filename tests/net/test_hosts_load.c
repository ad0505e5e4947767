// SPDX-License-Identifier: GPL-2.0-only
/* capctl load on a lab across emulated hosts (tests/lib/emu_hosts.h): each host runs the
 * clients of its own nodes, and the merged history, every line with its host's clock bound, is
 * linearizable through a partition; Ctrl-C on the controller ends every host's clients, each
 * after its request, and leaves a complete history. The phases that happen once for a run: a
 * bank opened once, on one host, before any client; the final reads of a set or list workload
 * asked of every node on every host, compared across hosts (a Redis primary and its replica
 * valid, two Redis servers that do not replicate invalid, sets and lists), and a host lost
 * before them named in one line, its final reads missing and the verdict invalid, never
 * valid; a host lost while its clients run, named in one line, its open operations info. */
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
static char out[1 << 16], history[256], capctl[512], two_hosts[128];
/* `"host":"<address>"` of the first two hosts, as the merged history's lines name them. */
static char host0[96], host1[96];

static int setup_hosts(void **state)
{
	(void)state;
	if (emu_hosts_start(&hosts, HOSTS))
		return -1;
	netlab_sibling("capctl", capctl, sizeof(capctl));
	snprintf(history, sizeof(history), "%s/h.jsonl", hosts.dir);
	snprintf(two_hosts, sizeof(two_hosts), "%s,%s", hosts.addr[0], hosts.addr[1]);
	snprintf(host0, sizeof(host0), "\"host\":\"%s\"", hosts.addr[0]);
	snprintf(host1, sizeof(host1), "\"host\":\"%s\"", hosts.addr[1]);
	return 0;
}

/* Every host back (one may have been killed), then `down`. */
static int teardown_lab(void **state)
{
	emu_hosts_revive_all(&hosts);
	return netlab_teardown(state);
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
	if (WIFSIGNALED(status))
		printf("capctl load ended by signal %d\n", WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `capctl check --model MODEL path` says `verdict` (": valid (", ...) with exit status rc. */
static void expect_verdict(const char *model, const char *path, int rc, const char *verdict)
{
	int got = netlab_capctl(lab, out, sizeof(out), "check --model %s %s", model, path);

	printf("%s", out);
	assert_int_equal(got, rc);
	assert_non_null(strstr(out, verdict));
}

static void expect_linearizable(void)
{
	expect_verdict("register", history, 0, ": linearizable");
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

/* Waits until n hosts run their share of a load (a bound for a share that never starts): how
 * many do. */
static int wait_for_shares(int n)
{
	int shares = 0;

	for (int i = 0; i < 600 && shares < n; i++) {
		usleep(100 * 1000);
		/* The shares themselves, not the ssh clients that carry their command lines. */
		if (netlab_sh(out, sizeof(out), "pgrep -c -f -- '^%s --lab %s .*--host-share'",
			      capctl, lab) <= 1)
			shares = atoi(out);
	}
	return shares;
}

/* Ctrl-C long before the end: every host's clients stop after their request, and the history
 * is whole (as many completions as invokes) and linearizable. */
static void test_ctrl_c_ends_every_host(void **state)
{
	pid_t pid;
	int invokes;

	(void)state;
	pid = start_load("600");
	assert_int_equal(wait_for_shares(HOSTS), HOSTS);
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

/* Lines of `path` that hold both texts (b NULL: a alone), or -1. */
static int lines_of(const char *path, const char *a, const char *b)
{
	if (netlab_sh(out, sizeof(out), "grep -F -e '%s' %s | grep -c -F -e '%s'", a, path,
		      b ? b : a) > 1)
		return -1;
	return atoi(out);
}

/* The output of a load started with netlab_capctl_start, printed and kept in out. */
static void show_load_output(const char *path)
{
	netlab_sh(out, sizeof(out), "cat %s", path);
	printf("%s", out);
}

/* `capctl load ARGS` through `partition CUT` and a heal: its exit status, its output printed
 * and kept in out. */
static int load_through(const char *cut, const char *args)
{
	char load_out[256];
	pid_t pid;
	int rc;

	snprintf(load_out, sizeof(load_out), "%s/load.out", hosts.dir);
	pid = netlab_capctl_start(lab, load_out, "-q --timeout 300 load %s", args);
	assert_true(pid > 0);
	/* The pauses give each phase operations; no verdict depends on them. */
	usleep(1500 * 1000);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition %s", cut), 0);
	usleep(1500 * 1000);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	rc = wait_load(pid);
	show_load_output(load_out);
	return rc;
}

static void up_on_two_hosts(unsigned int nodes)
{
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n %u --hosts %s", nodes,
					       two_hosts),
			 0);
}

/* A bank across two hosts (nodes 1 and 2 on the first, 3 on the second) under a partition
 * that splits them: its accounts are opened once, every open on node 1's host, before any
 * client; the transfers and balance reads of both hosts keep the bank's invariants. */
static void test_bank_opened_once_across_two_hosts(void **state)
{
	char args[512];

	(void)state;
	up_on_two_hosts(3);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "start --mode cp"), 0);
	snprintf(args, sizeof(args),
		 "--workload bank --nodes 1-3 --clients 6 --keys 4 --duration 4 --history %s",
		 history);
	assert_int_equal(load_through("1 2,3", args), 0);
	expect_verdict("bank", history, 0, ": bank invariants hold");
	/* Four accounts, each opened once, all from the first node's host. */
	assert_int_equal(lines_of(history, "\"type\":\"ok\",\"f\":\"open\"", NULL), 4);
	assert_int_equal(lines_of(history, "\"type\":\"ok\",\"f\":\"open\"", host0), 4);
	assert_true(lines_of(history, "\"f\":\"transfer\"", host1) > 0);
	assert_true(lines_of(history, "\"f\":\"balance\"", host1) > 0);
}

/* Redis on node 1 of the first host, and on node 2 of the second its replica, or (replica
 * false) a server of its own: two servers that do not replicate. */
static void start_redis(bool replica)
{
	static const char server[] = "--name redis --wait-port 6379 -- redis-server --port 6379 "
				     "--bind {ip} 127.0.0.1 --protected-mode no --save '' "
				     "--dir {dir} --repl-diskless-sync-delay 0";

	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "start 1 %s", server), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "start 2 %s%s", server,
					       replica ? " --replicaof 10.77.0.1 6379" : ""),
			 0);
}

/* A set workload across two hosts, a Redis primary on the first and its replica on the
 * second, through a partition between them: the final reads come from both hosts, after both
 * hosts' clients, and the verdict is valid. (Not append: its reads during the run may ask the
 * replica, which lags the primary, and every read counts there; a lagging replica's read is
 * rightly invalid, whatever the hosts.) */
static void test_set_across_two_hosts(void **state)
{
	char args[512];

	(void)state;
	up_on_two_hosts(2);
	start_redis(true);
	snprintf(args, sizeof(args),
		 "--client redis --workload set --nodes 1-2 --clients 4 --duration 3 --settle 1 "
		 "--history %s",
		 history);
	assert_int_equal(load_through("1 2", args), 0);
	expect_verdict("set", history, 0, ": valid (");
	/* Final reads of both nodes, each on its own host's clock, after adds from the first. */
	assert_true(lines_of(history, "\"type\":\"ok\",\"f\":\"read\"", host0) > 0);
	assert_true(lines_of(history, "\"type\":\"ok\",\"f\":\"read\"", host1) > 0);
	assert_true(lines_of(history, "\"type\":\"ok\",\"f\":\"add\"", host0) > 0);
}

/* Two Redis servers that do not replicate, one per host: what the clients of one host added
 * or appended is only on its own node. The final reads of the two hosts are compared, never
 * agree, and the load says so; the verdict is invalid, for sets and for lists. */
static void test_diverged_across_hosts_is_invalid(void **state)
{
	static const char *const workloads[] = { "set", "append" };
	int rc;

	(void)state;
	up_on_two_hosts(2);
	start_redis(false);
	for (int w = 0; w < 2; w++) {
		rc = netlab_capctl(lab, out, sizeof(out),
				   "-q --timeout 300 load --client redis --workload %s --nodes 1-2 "
				   "--clients 4 --duration 1 --settle 0 --history %s",
				   workloads[w], history);
		printf("%s", out);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "final reads still disagree"));
		expect_verdict(workloads[w], history, 1, ": INVALID (");
		if (w == 0)
			assert_null(strstr(out, " 0 diverged,"));
	}
}

/* The load pid ends, exit 1, with one line: host 1 was lost during `phase`. */
static void expect_host_1_lost(pid_t pid, const char *load_out, const char *phase)
{
	char said[64];
	int rc = wait_load(pid);

	show_load_output(load_out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	snprintf(said, sizeof(said), "was lost during %s", phase);
	assert_non_null(strstr(out, said));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

/* The second host is lost once every client has stopped, before the final reads (the test hook
 * holds the load there). The load ends with one line naming it; the history holds the first
 * host's final reads, not the second's, and the adds acknowledged by the second host's own
 * Redis, in no final read, make the verdict invalid: a missing host never makes a valid one. */
static void test_host_lost_before_final_reads(void **state)
{
	char fifo[256], load_out[256];
	pid_t pid;

	(void)state;
	up_on_two_hosts(2);
	start_redis(false);
	snprintf(fifo, sizeof(fifo), "%s/phase", hosts.dir);
	snprintf(load_out, sizeof(load_out), "%s/load.out", hosts.dir);
	pid = netlab_capctl_parked(lab, "load-final-reads", fifo, load_out, "-q", "--timeout",
				   "300", "load", "--client", "redis", "--workload", "set",
				   "--nodes", "1-2", "--clients", "4", "--duration", "1",
				   "--settle", "0", "--history", history, (char *)NULL);
	assert_true(pid > 0);
	assert_int_equal(emu_host_kill(&hosts, 1, lab), 0);
	kill(pid, SIGUSR1);
	expect_host_1_lost(pid, load_out, "the final reads");
	assert_true(lines_of(history, "\"type\":\"ok\",\"f\":\"read\"", host0) > 0);
	assert_int_equal(lines_of(history, "\"f\":\"read\"", NULL),
			 lines_of(history, "\"f\":\"read\"", host0));
	expect_verdict("set", history, 1, ": INVALID (");
	assert_null(strstr(out, " 0 lost,"));
}

/* The second host is lost while its clients run (its sshd and every process on it killed): the
 * load ends with one line naming it and the phase, exit 1, and the history holds what both
 * hosts did until then, the lost host's operations left open, which count as info: it is
 * checked linearizable. */
static void test_host_lost_during_the_run(void **state)
{
	char load_out[256];
	pid_t pid;

	(void)state;
	up_on_two_hosts(2);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "start --mode cp"), 0);
	snprintf(load_out, sizeof(load_out), "%s/load.out", hosts.dir);
	pid = netlab_capctl_start(lab, load_out,
				  "-q --timeout 300 load --nodes 1-2 --clients 4 --keys 2 "
				  "--duration 600 --history %s",
				  history);
	assert_true(pid > 0);
	assert_int_equal(wait_for_shares(2), 2);
	assert_int_equal(emu_host_kill(&hosts, 1, lab), 0);
	expect_host_1_lost(pid, load_out, "the run");
	assert_true(lines_of(history, "\"type\":\"invoke\"", host1) > 0);
	expect_linearizable();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capnode_through_a_partition, setup_lab,
						netlab_teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_c_ends_every_host, setup_lab,
						netlab_teardown),
		cmocka_unit_test_teardown(test_bank_opened_once_across_two_hosts, teardown_lab),
		cmocka_unit_test_teardown(test_set_across_two_hosts, teardown_lab),
		cmocka_unit_test_teardown(test_diverged_across_hosts_is_invalid, teardown_lab),
		cmocka_unit_test_teardown(test_host_lost_before_final_reads, teardown_lab),
		cmocka_unit_test_teardown(test_host_lost_during_the_run, teardown_lab),
	};

	netlab_require_root("test_hosts_load");
	lab = netlab_unique_lab("htl");
	return cmocka_run_group_tests(tests, setup_hosts, teardown_hosts);
}
