// SPDX-License-Identifier: GPL-2.0-only
/* Services and capnode on a lab across hosts (tests/lib/emu_hosts.h): three emulated hosts, a
 * node on each, reached by capnet through ssh alone. Ground truth: a service's process is in
 * its node's namespace on its own host, a paused service stops answering, and a CP cluster
 * whose members live on three hosts elects a leader over VXLAN and serves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define HOSTS 3
#define NODES 3 /* node i on host i-1 */
#define ECHO_PORT 7400
#define PORT 7311

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 16];

static void up(void)
{
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n %d --hosts %s", NODES,
					       hosts.hosts_arg),
			 0);
}

/* The pid a service of node i recorded on its host, or 0. */
static long service_pid(unsigned int node, const char *service)
{
	char text[256], dir[128];

	/* capnode's files are the lab's run directory's own; a program's are under svc/. */
	snprintf(dir, sizeof(dir), "%s%s", strcmp(service, "capnode") ? "svc/" : "",
		 strcmp(service, "capnode") ? service : "");
	if (emu_host_sh(&hosts, node - 1, text, sizeof(text), "cat /run/capnet/%s/%s/n%u.pid", lab,
			dir, node))
		return 0;
	return strtol(text, NULL, 10);
}

/* Whether process pid on node i's host lives in node i's network namespace there. */
static bool in_node_namespace(unsigned int node, long pid)
{
	char text[512];

	return !emu_host_sh(&hosts, node - 1, text, sizeof(text),
			    "test \"$(stat -L -c %%i /proc/%ld/ns/net)\" = "
			    "\"$(stat -L -c %%i /run/netns/%s-n%u)\"",
			    pid, lab, node);
}

/* How many of `count` datagrams node 1 sends to node `to`'s echo service come back. */
static unsigned int echoes(int fd1, unsigned int to, unsigned int count)
{
	for (unsigned int c = 0; c < count; c++)
		netlab_udp_send_to(fd1, to, ECHO_PORT, "ping", 4);
	return netlab_udp_count(fd1, 300);
}

/* A UDP echo service on every node, which also writes the peers its placeholders named. */
static void start_echo(void)
{
	assert_int_equal(
		netlab_capnet_checked(
			lab, out, sizeof(out),
			"start --name echo -- /usr/bin/python3 -c "
			"'import os,socket,sys\nos.makedirs(sys.argv[2], exist_ok=True)\nopen(sys.argv[2] + \"/peers\", \"w\").write(sys.argv[1])\n"
			"s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
			"s.bind((\"{ip}\", %d))\nwhile True:\n d, a = s.recvfrom(2048)\n"
			" s.sendto(d, a)' '{each/,:{i}={ip}}' '{dir}'",
			ECHO_PORT),
		0);
	assert_non_null(strstr(out, "echo started on 3 nodes"));
}

/* A UDP echo service on every node, started, paused, resumed, killed and restarted from the
 * controller: each report adds up the hosts', and every claim is checked where it happens. */
static void test_services_across_hosts(void **state)
{
	char peers[256];
	long pid[NODES + 1];
	int fd1;

	(void)state;
	up();
	start_echo();
	for (unsigned int i = 1; i <= NODES; i++) {
		pid[i] = service_pid(i, "echo");
		assert_true(pid[i] > 0);
		assert_true(in_node_namespace(i, pid[i]));
		/* Its placeholders name the whole lab, not its host's share. */
		assert_int_equal(emu_host_sh(&hosts, i - 1, peers, sizeof(peers),
					     "cat /run/capnet/%s/svc/echo/data/n%u/peers", lab, i),
				 0);
		assert_string_equal(peers, "1=10.77.0.1,2=10.77.0.2,3=10.77.0.3");
	}
	fd1 = emu_host_node_socket(&hosts, 0, lab, 1, PORT);
	assert_true(fd1 >= 0);
	assert_int_equal(echoes(fd1, 2, 5), 5);
	assert_int_equal(echoes(fd1, 3, 5), 5);

	/* Paused on host 1: node 2 no longer answers; node 3, on host 2, still does. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "pause 2"), 0);
	assert_non_null(strstr(out, "1 node paused (echo)"));
	assert_int_equal(echoes(fd1, 2, 5), 0);
	assert_int_equal(echoes(fd1, 3, 5), 5);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "resume 2"), 0);
	assert_non_null(strstr(out, "1 node resumed (echo)"));
	/* What waited in its socket while it was frozen is answered now, and what follows. */
	assert_true(echoes(fd1, 2, 5) >= 5);

	/* A named node where nothing runs is a failure, said by the host that holds it. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "kill 3"), 0);
	assert_non_null(strstr(out, "1 node killed"));
	assert_false(in_node_namespace(3, pid[3]));
	assert_int_equal(echoes(fd1, 3, 5), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "resume 3"), 1);
	assert_non_null(strstr(out, hosts.addr[2]));
	assert_non_null(strstr(out, "node 3 is not paused"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "restart 3"), 0);
	assert_non_null(strstr(out, "1 node restarted"));
	pid[3] = service_pid(3, "echo");
	assert_true(pid[3] > 0 && in_node_namespace(3, pid[3]));
	assert_int_equal(echoes(fd1, 3, 5), 5);

	/* --json: one line adding up the hosts. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "--json pause"), 0);
	assert_non_null(strstr(out, "\"nodes\":\"1-3\""));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "resume --json"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "stop"), 0);
	assert_non_null(strstr(out, "3 nodes stopped"));
	for (unsigned int i = 1; i <= NODES; i++)
		assert_false(in_node_namespace(i, pid[i]));
	/* A usage error is said once, as on one host. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "pause --bogus"), 2);
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	close(fd1);
}

/* One round trip from node 1 to node `to`'s echo service, in ns, or 0 when none came back. */
static uint64_t round_trip_ns(int fd1, unsigned int to)
{
	struct pollfd p = { .fd = fd1, .events = POLLIN };
	struct timespec t0, t1;
	char reply[16];

	netlab_udp_count(fd1, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	netlab_udp_send_to(fd1, to, ECHO_PORT, "rtt", 3);
	/* A bound for a lost datagram, not a claim about speed. */
	if (poll(&p, 1, 10000) != 1 || recv(fd1, reply, sizeof(reply), 0) <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + t1.tv_nsec - t0.tv_nsec;
}

/* link --delay across hosts: each direction is delayed by the delay line of its sender's
 * host, so a round trip between hosts takes at least both delays. Delay is a lower bound
 * only: nothing here says how much longer a loaded machine may take. */
static void test_delay_across_hosts(void **state)
{
	int fd1;

	(void)state;
	up();
	start_echo();
	fd1 = emu_host_node_socket(&hosts, 0, lab, 1, PORT);
	assert_true(fd1 >= 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "link 1 3 --delay 40ms"), 0);
	assert_non_null(strstr(out, "delays:"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	/* Each host runs a delay line of its own. */
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(emu_host_sh(&hosts, k, out, sizeof(out),
					     "kill -0 $(cat /run/capnet/%s/delay.pid)", lab),
				 0);
	for (int i = 0; i < 5; i++)
		assert_true(round_trip_ns(fd1, 3) >= 80000000ull);
	/* One way, 3 -> 1 alone, on node 3's host: the round trip holds that delay once. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal --delays"), 0);
	assert_int_equal(
		netlab_capnet_checked(lab, out, sizeof(out), "link 3 1 --delay 60ms --one-way"), 0);
	for (int i = 0; i < 5; i++)
		assert_true(round_trip_ns(fd1, 3) >= 60000000ull);
	/* Delays and a loss in one command: the loss switches at one instant, the delays stay. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "link 1 2 --loss 0%% --delay 30ms"),
			 0);
	assert_non_null(strstr(out, "at one CLOCK_TAI instant"));
	assert_true(round_trip_ns(fd1, 2) >= 60000000ull);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal --delays"), 0);
	assert_true(round_trip_ns(fd1, 2) > 0);
	close(fd1);
}

/* The time_tai_ns of each JSON line of out, in order, into t; how many. */
static unsigned int tai_times(const char *text, unsigned long long *t, unsigned int max)
{
	unsigned int n = 0;

	for (const char *p = text; n < max && (p = strstr(p, "\"time_tai_ns\":")); p++)
		t[n++] = strtoull(p + strlen("\"time_tai_ns\":"), NULL, 10);
	return n;
}

/* watch on a lab across hosts: the drops of both hosts that dropped frames, each line naming
 * the host whose filter dropped it (the destination's), in CLOCK_TAI order. */
static void test_watch_across_hosts(void **state)
{
	static char watch_out[1 << 16];
	const char *send = "/usr/bin/python3 -c \"import socket; s = socket.socket(2, 2); "
			   "[s.sendto(b\\\"x\\\", (\\\"%s\\\", 9)) for i in range(3)]\"";
	char from1[512], from3[512], expect[128];
	unsigned long long t[64];
	unsigned int n;

	(void)state;
	up();
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	snprintf(from1, sizeof(from1), send, "10.77.0.2");
	snprintf(from3, sizeof(from3), send, "10.77.0.1");
	assert_int_equal(netlab_capnet_checked(lab, watch_out, sizeof(watch_out),
					       "--json watch -- sh -c '%s --lab %s exec 1 -- %s && "
					       "%s --lab %s exec 3 -- %s'",
					       getenv("CAPNET"), lab, from1, getenv("CAPNET"), lab,
					       from3),
			 0);
	/* 1 -> 2 dropped by host 1's filter, 3 -> 1 by host 0's. */
	snprintf(expect, sizeof(expect), "{\"host\":\"%s\"", hosts.addr[1]);
	assert_non_null(strstr(watch_out, expect));
	assert_non_null(strstr(strstr(watch_out, expect), "\"from\":1,\"to\":2"));
	snprintf(expect, sizeof(expect), "{\"host\":\"%s\"", hosts.addr[0]);
	assert_non_null(strstr(watch_out, expect));
	assert_non_null(strstr(strstr(watch_out, expect), "\"from\":3,\"to\":1"));
	n = tai_times(watch_out, t, 64);
	assert_true(n >= 6);
	for (unsigned int i = 1; i < n; i++)
		assert_true(t[i - 1] <= t[i]);
	/* In words: each line says its host; --count ends it. */
	assert_int_equal(netlab_capnet(lab, watch_out, sizeof(watch_out),
				       "watch --count 1 -- sh -c '%s --lab %s exec 3 -- %s; "
				       "exec sleep 1000'",
				       getenv("CAPNET"), lab, from3),
			 1);
	snprintf(expect, sizeof(expect), " host %s gen ", hosts.addr[0]);
	assert_non_null(strstr(watch_out, expect));
	assert_non_null(strstr(watch_out, "len 43\n# sh: signal 15; 1 frame dropped"));
}

/* The wall clock of node `to`'s time service, asked by node 1: seconds, or -1. */
static double clock_of(int fd1, unsigned int to)
{
	struct pollfd p = { .fd = fd1, .events = POLLIN };
	char reply[64];
	ssize_t n;

	netlab_udp_count(fd1, 0);
	netlab_udp_send_to(fd1, to, ECHO_PORT, "now", 3);
	/* A bound for a service that died, not a claim about speed. */
	if (poll(&p, 1, 10000) != 1)
		return -1;
	n = recv(fd1, reply, sizeof(reply) - 1, 0);
	if (n <= 0)
		return -1;
	reply[n] = '\0';
	return strtod(reply, NULL);
}

/* capnet clock on a lab across hosts: node 3's clock, on its own host, reads the time set,
 * node 2's does not move, and --reset brings node 3 back. */
static void test_clock_across_hosts(void **state)
{
	struct timespec now;
	double before;
	int fd1;

	(void)state;
	up();
	assert_int_equal(netlab_capnet_checked(
				 lab, out, sizeof(out),
				 "start --clock --name tm -- /usr/bin/python3 -c "
				 "'import socket,time\n"
				 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
				 "s.bind((\"{ip}\", %d))\nwhile True:\n d, a = s.recvfrom(64)\n"
				 " s.sendto(repr(time.time()).encode(), a)'",
				 ECHO_PORT),
			 0);
	fd1 = emu_host_node_socket(&hosts, 0, lab, 1, PORT);
	assert_true(fd1 >= 0);
	clock_gettime(CLOCK_REALTIME, &now);
	before = now.tv_sec;
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "clock 3 --offset +1000s"),
			 0);
	assert_non_null(strstr(out, "clock of node 3:"));
	assert_true(clock_of(fd1, 3) >= before + 999);
	assert_true(clock_of(fd1, 2) >= before - 1);
	assert_true(clock_of(fd1, 2) < before + 999);
	/* Nodes on two hosts at once: one line for both. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "clock 2,3 --offset +2000s"),
			 0);
	assert_non_null(strstr(out, "clock of nodes 2,3:"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_true(clock_of(fd1, 2) >= before + 1999);
	assert_true(clock_of(fd1, 3) >= before + 1999);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "clock 2,3 --reset"), 0);
	assert_true(clock_of(fd1, 3) < before + 999);
	/* Node 1 runs no service that follows a clock: no host moves any clock. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "stop 1"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "clock 1-3 --offset +1000s"), 1);
	assert_non_null(strstr(out, hosts.addr[0]));
	/* The host's own reason, not lost to the check that follows a failure. */
	assert_non_null(strstr(out, "node 1 runs no service that capnet started"));
	assert_non_null(strstr(out, "no clock was changed"));
	assert_true(clock_of(fd1, 3) < before + 999);
	close(fd1);
}

/* capnet run on a lab across hosts: its steps are the commands across hosts (capnode started
 * on every host, a partition and a heal, a kill and a restart), its load runs each client on
 * its node's host, and the verdict is the checker's. */
static void test_run_across_hosts(void **state)
{
	char path[256], history[256], text[1024];
	FILE *f;

	(void)state;
	up();
	snprintf(path, sizeof(path), "%s/split.scn", hosts.dir);
	snprintf(history, sizeof(history), "%s/split.jsonl", hosts.dir);
	snprintf(text, sizeof(text),
		 "start cp\nsleep 1s\n"
		 "load --nodes 1-3 --clients 3 --duration 6s --workload register --keys 2 "
		 "--history %s\n"
		 "at 1s partition 1 2,3\nat 3s heal\nat 4s kill 3\nat 5s restart 3\nwait\n"
		 "check register %s\nstop\n",
		 history, history);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "-q run %s", path), 0);
	assert_non_null(strstr(out, ": PASS ("));
	/* The verdict is about a history with writes and reads that succeeded, on every node. */
	assert_int_equal(netlab_sh(text, sizeof(text), "grep -c '\"type\":\"ok\"' %s", history), 0);
	assert_true(atoi(text) > 0);
	/* The faults the run copied beside its history, from the controller's fault log: the
	 * partition with its groups, the heal, and the kill of node 3. */
	assert_int_equal(netlab_sh(text, sizeof(text), "cat %s/split.faults.jsonl", hosts.dir), 0);
	assert_non_null(
		strstr(text, "\"f\":\"partition\",\"value\":\"1 2,3\",\"groups\":[[1],[2,3]]"));
	assert_non_null(strstr(text, "\"f\":\"heal\""));
	assert_non_null(strstr(text, "\"f\":\"kill\",\"value\":\"3\",\"groups\":[[3]]"));
	/* What the steps did, on the hosts themselves: node 3's capnode restarted and stopped. */
	assert_non_null(strstr(out, "on 3 hosts at one CLOCK_TAI instant"));
	assert_non_null(strstr(out, "1 node restarted"));
	assert_non_null(strstr(out, "3 nodes stopped"));
	assert_true(service_pid(3, "capnode") == 0 ||
		    !in_node_namespace(3, service_pid(3, "capnode")));
}

/* The generation of the policy in force on host k's filter. */
static long long generation_on(unsigned int k)
{
	char json[8192];

	if (emu_host_sh(&hosts, k, json, sizeof(json), "%s --lab %s status --json",
			getenv("CAPNET"), lab))
		return -1;
	return netlab_json_number(json, NULL, "generation");
}

/* Whether node `to` hears any of 5 datagrams node 1 sends it (to the port of no service:
 * counted by a socket of the test's own in node `to`). */
static bool reaches(unsigned int to)
{
	int fd1 = emu_host_node_socket(&hosts, 0, lab, 1, PORT),
	    fd = emu_host_node_socket(&hosts, to - 1, lab, to, PORT);
	unsigned int got;

	assert_true(fd1 >= 0 && fd >= 0);
	for (int c = 0; c < 5; c++)
		netlab_udp_send_to(fd1, to, PORT, "hello", 5);
	got = netlab_udp_count(fd, 300);
	close(fd1);
	close(fd);
	return got > 0;
}

/* The controller's ssh sessions cut (every session sshd runs on every host is killed): the
 * hosts hold the partition they were given. Nothing on a host watches its controller, so
 * nothing there can undo a fault when the controller goes; then a host lost for good makes
 * every command across hosts refuse, naming it and the remedy. */
static void test_lost_controller_and_lost_host(void **state)
{
	static const char *const refused[] = {
		"start --mode cp",
		"stop",
		"clock 3 --offset +1s",
		"watch --duration 1",
		"partition 1,2",
		"cut 1 2",
		"heal",
		"link 1 2 --loss 10%",
		"link 1 2 --delay 10ms",
	};
	char path[256];
	FILE *f;

	(void)state;
	up();
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	assert_false(reaches(2));
	for (unsigned int k = 0; k < HOSTS; k++) {
		assert_int_equal(generation_on(k), 2);
		/* The controller's ssh sessions on host k: the children of its sshd listener. */
		emu_host_sh(&hosts, k, out, sizeof(out), "pkill -KILL -P %d; true",
			    (int)hosts.sshd[k]);
	}
	/* Once they are gone, nothing of the controller's runs on a host (nothing there watches
	 * it): the hosts stay split as they were told. The loop is a bound, not a claim. */
	for (unsigned int k = 0; k < HOSTS; k++)
		for (int tries = 0; tries < 1000; tries++) {
			if (netlab_sh(out, sizeof(out), "pgrep -P %d", (int)hosts.sshd[k]))
				break;
			usleep(10000);
		}
	assert_false(reaches(2));
	for (unsigned int k = 0; k < HOSTS; k++)
		assert_int_equal(generation_on(k), 2);

	assert_int_equal(emu_host_kill(&hosts, 2, lab), 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int rc = netlab_capnet(lab, out, sizeof(out), "%s", refused[i]);

		if (rc != 1 || !strstr(out, hosts.addr[2]) || !strstr(out, "down, again once"))
			printf("%s -> %d: %s", refused[i], rc, out);
		assert_int_equal(rc, 1);
		assert_non_null(strstr(out, hosts.addr[2]));
		assert_non_null(strstr(out, "down, again once that host is back"));
	}
	snprintf(path, sizeof(path), "%s/heal.scn", hosts.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("heal\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "run %s", path), 1);
	assert_non_null(strstr(out, hosts.addr[2]));
	assert_non_null(strstr(out, "down, again once that host is back"));
	/* And the hosts that are left still hold the partition. */
	assert_int_equal(generation_on(0), 2);
	assert_false(reaches(2));
}

/* capctl, run inside a node on its own host, through capnet exec. */
static int capctl_on(unsigned int node, char *buf, size_t len, const char *op)
{
	char capctl[512];

	netlab_sibling("capctl", capctl, sizeof(capctl));
	return netlab_capnet(lab, buf, len, "exec %u -- %s --lab %s -n %u --timeout 2000 %s", node,
			     capctl, lab, node, op);
}

/* A capnode on each of three hosts: one key everywhere, a leader elected over VXLAN, writes
 * through one host read back through another, and the minority host refuses under a
 * partition that the majority serves through. */
static void test_cp_cluster_across_hosts(void **state)
{
	char key0[128], key[128];
	int rc = -1;

	(void)state;
	up();
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "start --mode cp"), 0);
	assert_non_null(strstr(out, "3 capnodes started in cp mode"));
	assert_int_equal(emu_host_sh(&hosts, 0, key0, sizeof(key0), "cat /run/capnet/%s/key", lab),
			 0);
	for (unsigned int k = 1; k < HOSTS; k++) {
		assert_int_equal(
			emu_host_sh(&hosts, k, key, sizeof(key), "cat /run/capnet/%s/key", lab), 0);
		assert_string_equal(key, key0);
	}
	/* Until a leader is elected the first write may be refused; a bound, not a claim. */
	for (int attempt = 0; attempt < 60 && rc; attempt++)
		rc = capctl_on(1, out, sizeof(out), "put x 1");
	if (rc)
		printf("put through node 1: %s", out);
	assert_int_equal(rc, 0);
	assert_int_equal(capctl_on(3, out, sizeof(out), "get x"), 0);
	assert_non_null(strstr(out, "1"));

	/* Node 1 alone on host 0: it refuses; nodes 2 and 3 elect and serve. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1"), 0);
	/* A leader cut off may take a while to learn it (its answer unknown meanwhile, exit 4);
	 * it never serves, and then refuses with the reason. */
	rc = 4;
	for (int attempt = 0; attempt < 60 && rc == 4; attempt++)
		rc = capctl_on(1, out, sizeof(out), "put x 2");
	assert_int_equal(rc, 3);
	assert_non_null(strstr(out, "UNAVAILABLE"));
	rc = -1;
	for (int attempt = 0; attempt < 60 && rc; attempt++)
		rc = capctl_on(2, out, sizeof(out), "put x 3");
	assert_int_equal(rc, 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	rc = -1;
	for (int attempt = 0; attempt < 60 && rc; attempt++)
		rc = capctl_on(1, out, sizeof(out), "get x");
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "3"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "stop"), 0);
	assert_non_null(strstr(out, "3 nodes stopped"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_services_across_hosts, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_clock_across_hosts, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_delay_across_hosts, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_watch_across_hosts, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_run_across_hosts, emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_lost_controller_and_lost_host,
					  emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_cp_cluster_across_hosts, emu_hosts_test_teardown),
	};

	netlab_require_root("test_hosts_services");
	lab = netlab_unique_lab("hc");
	emu_hosts_fixture(&hosts, HOSTS, lab);
	return cmocka_run_group_tests(tests, emu_hosts_group_setup, emu_hosts_group_teardown);
}
