// SPDX-License-Identifier: GPL-2.0-only
/* A switch across hosts that a host does not take: the host's session dies after it answered
 * "ready", or the controller is killed between two commits. The controller's record of what
 * each host was told then shows which host holds another generation than it should: status
 * says so and exits 1, commands that need a whole lab refuse naming the host, and a heal brings
 * every host to one generation again, by ground truth (UDP counted at the receiving node). The
 * controller is stopped between its phases by the test hook (lib/test_hook.h), never by time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define HOSTS 2
#define NODES 4 /* nodes 1-2 on host 0, 3-4 on host 1 */
#define PORT 7313
#define COUNT 20

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 16];
static char fifo[64], path[128];
static pid_t controller; /* a capnet the test runs in the background, until it is reaped */

static int setup(void **state)
{
	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/capnet-hsw-phase-%d", (int)getpid());
	snprintf(path, sizeof(path), "/tmp/capnet-hsw-out-%d", (int)getpid());
	return emu_hosts_start(&hosts, HOSTS);
}

static int teardown_hosts(void **state)
{
	(void)state;
	emu_hosts_stop_lab(&hosts, lab);
	return 0;
}

/* The controller a failed test left parked in a phase ends; then the lab goes. */
static int teardown_lab(void **state)
{
	if (controller > 0) {
		kill(controller, SIGKILL);
		waitpid(controller, NULL, 0);
		controller = 0;
	}
	unlink(fifo);
	unlink(path);
	emu_hosts_revive_all(&hosts);
	return netlab_teardown(state);
}

/* The `capnet host prepare` processes of this lab on host k: those in its network namespace
 * whose command line is the prepare of this lab. Killed with SIGKILL when kill_them. */
static int prepare_processes(unsigned int k, bool kill_them)
{
	char link[300], own[64], ns[64], cmdline[4096], want[128], file[300];
	struct dirent *d;
	int n = 0;
	DIR *proc;

	snprintf(link, sizeof(link), "/proc/%d/ns/net", (int)hosts.sshd[k]);
	memset(own, 0, sizeof(own));
	if (readlink(link, own, sizeof(own) - 1) <= 0)
		return -1;
	snprintf(want, sizeof(want), "--lab %s host prepare ", lab);
	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((d = readdir(proc))) {
		int fd;
		ssize_t len;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/ns/net", d->d_name);
		memset(ns, 0, sizeof(ns));
		if (readlink(link, ns, sizeof(ns) - 1) <= 0 || strcmp(ns, own))
			continue;
		snprintf(file, sizeof(file), "/proc/%s/cmdline", d->d_name);
		fd = open(file, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, cmdline, sizeof(cmdline) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (!cmdline[i])
				cmdline[i] = ' ';
		cmdline[len] = 0;
		if (!strstr(cmdline, want))
			continue;
		n++;
		if (kill_them)
			kill(atoi(d->d_name), SIGKILL);
	}
	closedir(proc);
	return n;
}

/* Until host k's prepare has ended (it took its commit, or its session ended): bounded by a
 * minute, for a host that hangs, not as a measure of speed. */
static void wait_prepare_ended(unsigned int k)
{
	for (int i = 0; i < 60 * 20 && prepare_processes(k, false) > 0; i++)
		usleep(50 * 1000);
	assert_int_equal(prepare_processes(k, false), 0);
}

/* `capnet --lab LAB partition 1,2 3,4` in the background, parked by the hook at `phase`. */
static void start_parked(const char *phase)
{
	controller = netlab_capnet_parked(lab, phase, fifo, path, "partition", "1,2", "3,4",
					  (char *)NULL);
	assert_true(controller > 0);
}

/* The background controller's exit status, its output in out. */
static int reap_controller(void)
{
	int status;

	assert_int_equal(waitpid(controller, &status, 0), controller);
	controller = 0;
	netlab_sh(out, sizeof(out), "cat %s; rm -f %s", path, path);
	printf("%s", out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Datagrams from -> to that arrive, of COUNT sent; both nodes on host k. */
static unsigned int arrive(unsigned int k, unsigned int from, unsigned int to)
{
	int fd_from = emu_host_node_socket(&hosts, k, lab, from, PORT);
	int fd_to = emu_host_node_socket(&hosts, k, lab, to, PORT);
	unsigned int got;

	assert_true(fd_from >= 0 && fd_to >= 0);
	for (unsigned int c = 0; c < COUNT; c++)
		netlab_udp_send_to(fd_from, to, PORT, "x", 1);
	got = netlab_udp_count(fd_to, 300);
	close(fd_from);
	close(fd_to);
	return got;
}

/* What the lab shows while host 1 holds generation 2 and should hold 3 (host 0 holds 3):
 * status, start and watch name host 1 and both generations, and the policy on host 1 is
 * still the old one (3 and 4 apart, as in 1,3 2,4, where 1,2 3,4 would join them). */
static void expect_host1_astray(void)
{
	char want[160];

	snprintf(want, sizeof(want), "host %s holds generation 2 where it should hold 3",
		 hosts.addr[1]);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 1);
	printf("%s", out);
	assert_non_null(strstr(out, "not consistent"));
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "heal"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--json status"), 1);
	assert_non_null(strstr(out, "\"consistent\":false"));
	assert_int_equal(netlab_json_number(out, hosts.addr[0], "generation"), 3);
	assert_int_equal(netlab_json_number(out, hosts.addr[1], "generation"), 2);
	assert_int_equal(netlab_json_number(out, hosts.addr[1], "should_hold"), 3);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start --name hsw -- /bin/true"), 1);
	assert_non_null(strstr(out, want));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "watch -- true"), 1);
	assert_non_null(strstr(out, want));
	assert_int_equal(arrive(1, 3, 4), 0);
	assert_int_equal(arrive(0, 1, 2), COUNT);
}

/* A heal brings both hosts to one generation (host 1 first takes the switch it missed), and
 * every node reaches every other; status is consistent again. */
static void expect_heal_repairs(void)
{
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	assert_non_null(strstr(out, "on 2 hosts at one CLOCK_TAI instant"));
	assert_non_null(strstr(out, "generation 4"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "--json status"), 0);
	assert_non_null(strstr(out, "\"consistent\":true"));
	assert_int_equal(netlab_json_number(out, hosts.addr[0], "generation"), 4);
	assert_int_equal(netlab_json_number(out, hosts.addr[1], "generation"), 4);
	for (unsigned int from = 1; from <= NODES; from++)
		for (unsigned int to = 1; to <= NODES; to++) {
			unsigned int k = (from - 1) / 2;
			int fd_from, fd_to;

			if (from == to)
				continue;
			fd_from = emu_host_node_socket(&hosts, k, lab, from, PORT);
			fd_to = emu_host_node_socket(&hosts, (to - 1) / 2, lab, to, PORT);
			assert_true(fd_from >= 0 && fd_to >= 0);
			for (unsigned int c = 0; c < COUNT; c++)
				netlab_udp_send_to(fd_from, to, PORT, "x", 1);
			assert_int_equal(netlab_udp_count(fd_to, 300), COUNT);
			close(fd_from);
			close(fd_to);
		}
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "start --name hsw -- /bin/sleep 600"),
			 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "stop --name hsw"), 0);
}

static void up_partitioned(void)
{
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n %d --hosts %s", NODES,
					       hosts.hosts_arg),
			 0);
	/* Generation 2 on both hosts: 1,3 against 2,4. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1,3 2,4"), 0);
	assert_int_equal(arrive(1, 3, 4), 0);
}

/* Host 1's session dies after it answered "ready" and before its commit: the controller says
 * so, naming it, and its fault log says the switch was not confirmed there. */
static void test_host_missing_its_commit_is_found_and_healed(void **state)
{
	char log[8192], want[128];

	(void)state;
	up_partitioned();
	start_parked("switch-recorded");
	assert_true(prepare_processes(1, true) >= 1);
	kill(controller, SIGUSR1);
	assert_int_equal(reap_controller(), 1);
	assert_non_null(strstr(out, hosts.addr[1]));
	assert_non_null(strstr(out, "did not take the switch"));
	assert_non_null(strstr(out, "not consistent"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	/* The fault log has the switch for what it was: not confirmed by host 1. */
	snprintf(want, sizeof(want), "not confirmed by host %s", hosts.addr[1]);
	netlab_sh(log, sizeof(log), "cat /run/capnet/%s/faults.jsonl", lab);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(strstr(log, want), "\"generation\":3"));
	wait_prepare_ended(0);
	expect_host1_astray();
	expect_heal_repairs();
	/* Its line was written: the heal writes no late one. */
	netlab_sh(log, sizeof(log), "cat /run/capnet/%s/faults.jsonl", lab);
	assert_null(strstr(log, "logged late"));
}

/* The controller killed between its two commits: host 0 takes generation 3, host 1 was never
 * told. The record written before the commits says what host 1 should hold. */
static void test_controller_killed_between_commits(void **state)
{
	char log[8192], *late;

	(void)state;
	up_partitioned();
	start_parked("switch-committing");
	kill(controller, SIGKILL);
	assert_int_equal(reap_controller(), 128 + SIGKILL);
	/* Host 0 read its commit before the kill; host 1's session ends without one. */
	wait_prepare_ended(0);
	wait_prepare_ended(1);
	expect_host1_astray();
	expect_heal_repairs();
	/* The heal wrote the line the killed controller did not, before its own: the groups
	 * of generation 3, then the heal's generation 4. */
	netlab_sh(log, sizeof(log), "cat /run/capnet/%s/faults.jsonl", lab);
	printf("%s", log);
	late = strstr(log, "logged late: its controller ended between its commits");
	assert_non_null(late);
	assert_non_null(strstr(late, "\"groups\":[[1,2],[3,4]],\"generation\":3"));
	assert_non_null(strstr(late, "\"f\":\"heal\""));
	assert_non_null(strstr(strstr(late, "\"f\":\"heal\""), "\"generation\":4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_host_missing_its_commit_is_found_and_healed,
					  teardown_lab),
		cmocka_unit_test_teardown(test_controller_killed_between_commits, teardown_lab),
	};

	netlab_require_root("test_hosts_switch");
	lab = netlab_unique_lab("xs");
	return cmocka_run_group_tests(tests, setup, teardown_hosts);
}
