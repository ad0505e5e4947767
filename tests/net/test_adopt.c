// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of capnet adopt, on namespaces built as a container runtime builds them: a bridge
 * in a namespace of its own, one namespace per container joined to it by a veth pair (eth0
 * inside, the kernel's MAC), addresses the test gives, a service started inside with `ip netns
 * exec`, and a fourth container on the same bridge that is not adopted. By ground truth (UDP
 * between the namespaces): partitions hold, and the fourth's traffic is untouched. After down,
 * nothing of capnet's is left and the namespaces, their processes and the bridge are intact.
 * link, watch, captrace, capctl load --client exec and capnet run work on it as on a lab
 * capnet built. Then the bad input: no such namespace or pid, no veth, two bridges, a namespace in another
 * lab, and an interface that disappears later. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tests/lib/netlab.h"

#define PORT 7311
#define COUNT 20

/* Prints the pid of the process just started with `ip netns exec` once it is in its namespace:
 * until ip has entered it, the pid is still in the host's, which adopt --pid refuses. */
#define IN_NETNS                                                                              \
	"until [ \"$(readlink /proc/$!/ns/net)\" != \"$(readlink /proc/self/ns/net)\" ]; do " \
	"sleep 0.01; done; echo $!"

static const char *lab;
static char out[1 << 16], pre[64], lab2[64], dir[] = "/tmp/capnet-adopt-XXXXXX", repo[4096];
static pid_t service_pid;

/* The runtime's names: <pre>br (the bridge's namespace), <pre>c<i> (containers). */
static int build(void)
{
	if (netlab_sh(out, sizeof(out),
		      "set -e; P=%s; ip netns add ${P}br; ip -n ${P}br link add br-app type bridge;"
		      " ip -n ${P}br link set br-app up;"
		      " for i in 1 2 3 4; do ip netns add ${P}c$i;"
		      "  ip -n ${P}c$i link add eth0 type veth peer name veth$i netns ${P}br;"
		      "  ip -n ${P}br link set veth$i master br-app up;"
		      "  ip -n ${P}c$i addr add 10.77.0.$i/16 dev eth0;"
		      "  ip -n ${P}c$i link set eth0 up; ip -n ${P}c$i link set lo up; done",
		      pre)) {
		printf("building the namespaces failed: %s\n", out);
		return -1;
	}
	/* The service: a process inside container 1, started as a runtime's exec would. */
	if (netlab_sh(out, sizeof(out), "ip netns exec %sc1 sleep 3600 >/dev/null 2>&1 & " IN_NETNS,
		      pre))
		return -1;
	service_pid = (pid_t)atoi(out);
	return service_pid > 0 ? 0 : -1;
}

static void destroy(void)
{
	if (service_pid > 0)
		kill(service_pid, SIGKILL);
	service_pid = 0;
	netlab_sh(
		out, sizeof(out),
		"for n in br c1 c2 c3 c4 e d1 d2 dbr; do ip netns del %s$n 2>/dev/null; done; true",
		pre);
}

static int setup(void **state)
{
	(void)state;
	if (!getcwd(repo, sizeof(repo)) || !mkdtemp(dir))
		return -1;
	return build();
}

static int teardown(void **state)
{
	netlab_sh(out, sizeof(out), "%s --lab %s down; true", getenv("CAPNET"), lab2);
	netlab_teardown(state);
	destroy();
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return 0;
}

/* A UDP socket bound to PORT in a namespace by name. */
static int udp_in(const char *ns)
{
	char path[128];
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd, sock = -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (saved >= 0 && fd >= 0 && !setns(fd, CLONE_NEWNET)) {
		sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (sock >= 0 && bind(sock, (struct sockaddr *)&sa, sizeof(sa))) {
			close(sock);
			sock = -1;
		}
		setns(saved, CLONE_NEWNET);
	}
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	return sock;
}

/* Datagrams of this round, until quiet_ms pass with nothing new: a datagram held back while a
 * partition kept its neighbour unresolved may arrive rounds later, and is not counted. */
static unsigned int count_round(int fd, uint32_t round, int quiet_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned int n = 0;
	uint32_t tag;

	while (poll(&p, 1, quiet_ms) > 0)
		while (recv(fd, &tag, sizeof(tag), 0) >= 0)
			n += tag == round;
	return n;
}

/* got[from][to]: of COUNT datagrams each container sent each other one, how many arrived. */
static void exchange(unsigned int got[5][5])
{
	static uint32_t round;
	int fd[5];
	char ns[96];

	for (unsigned int i = 1; i <= 4; i++) {
		snprintf(ns, sizeof(ns), "%sc%u", pre, i);
		fd[i] = udp_in(ns);
		assert_true(fd[i] >= 0);
	}
	for (unsigned int to = 1; to <= 4; to++) {
		for (unsigned int from = 1; from <= 4; from++) {
			if (from == to)
				continue;
			round++;
			for (unsigned int k = 0; k < COUNT; k++)
				assert_int_equal(netlab_udp_send_to(fd[from], to, PORT, &round,
								    sizeof(round)),
						 0);
			got[from][to] = count_round(fd[to], round, 300);
		}
	}
	for (unsigned int i = 1; i <= 4; i++)
		close(fd[i]);
}

static void print_matrix(unsigned int got[5][5])
{
	for (unsigned int from = 1; from <= 4; from++)
		for (unsigned int to = 1; to <= 4; to++)
			if (from != to)
				printf("  %u -> %u: %u of %u\n", from, to, got[from][to], COUNT);
}

/* Ground truth: every pair passes but those the partition {1} | {2,3} cuts (when cut). */
static void expect(bool cut)
{
	unsigned int got[5][5] = { { 0 } };
	bool ok = true;

	exchange(got);
	for (unsigned int from = 1; from <= 4; from++)
		for (unsigned int to = 1; to <= 4; to++) {
			bool across = cut && from <= 3 && to <= 3 && (from == 1) != (to == 1);

			if (from != to && got[from][to] != (across ? 0 : COUNT))
				ok = false;
		}
	if (!ok)
		print_matrix(got);
	assert_true(ok);
}

static void test_adopt_partition_down(void **state)
{
	char ports_before[4096];

	(void)state;
	assert_int_equal(netlab_sh(ports_before, sizeof(ports_before),
				   "ip -n %sbr -br link show master br-app; tc -n %sbr qdisc show",
				   pre, pre),
			 0);
	expect(false);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "adopt --netns %sc1,%sc2,%sc3", pre, pre, pre),
			 0);
	assert_non_null(strstr(out, "3 namespaces adopted, bridge br-app"));
	expect(false);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	expect(true);
	/* The filter saw it: drops on the links across, none charged to the fourth. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "status --json"), 0);
	assert_true(netlab_json_number(out, NULL, "nodes") == 3);
	/* Commands that go into the nodes find them by the lab's names. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "exec 2 -- ip -br addr show dev eth0"),
			 0);
	assert_non_null(strstr(out, "10.77.0.2/16"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	expect(false);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "cut 2 3"), 0);
	{
		unsigned int got[5][5] = { { 0 } };

		exchange(got);
		if (got[2][3] != 0 || got[3][2] != COUNT || got[4][2] != COUNT)
			print_matrix(got);
		assert_int_equal(got[2][3], 0);
		assert_int_equal(got[3][2], COUNT);
		assert_int_equal(got[4][2], COUNT);
	}
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	/* Nothing of capnet's is left: no names, no pins, no run folder, no qdisc. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ls /run/netns | grep -c '^%s-'; ls -d /sys/fs/bpf/capnet/%s "
				   "/run/capnet/%s 2>/dev/null | wc -l",
				   lab, lab, lab),
			 0);
	assert_string_equal(out, "0\n0\n");
	/* And the namespaces, the service, the ports and the addresses are as they were. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ip -n %sbr -br link show master br-app; tc -n %sbr qdisc show",
				   pre, pre),
			 0);
	assert_string_equal(out, ports_before);
	assert_int_equal(kill(service_pid, 0), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "ip -n %sc1 -br addr show dev eth0", pre), 0);
	assert_non_null(strstr(out, "10.77.0.1/16"));
	expect(false);
}

static void test_adopt_by_pid(void **state)
{
	char pids[64];

	(void)state;
	assert_int_equal(netlab_sh(pids, sizeof(pids),
				   "ip netns exec %sc2 sleep 60 >/dev/null 2>&1 & " IN_NETNS, pre),
			 0);
	pids[strcspn(pids, "\n")] = '\0';
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "adopt --pid %d,%s",
					       (int)service_pid, pids),
			 0);
	assert_non_null(strstr(out, "node 1: pid"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2"), 0);
	{
		unsigned int got[5][5] = { { 0 } };

		exchange(got);
		assert_int_equal(got[1][2], 0);
		assert_int_equal(got[2][1], 0);
		assert_int_equal(got[1][3], COUNT);
	}
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	kill((pid_t)atoi(pids), SIGKILL);
	expect(false);
}

/* link, watch and captrace on an adopted lab, as on one capnet built. */
static void test_tools_on_adopted_lab(void **state)
{
	char captrace[512];
	unsigned int got[5][5] = { { 0 } };

	(void)state;
	netlab_sibling("captrace", captrace, sizeof(captrace));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "adopt --netns %sc1,%sc2,%sc3", pre, pre, pre),
			 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "link 1 2 --loss 100%%"), 0);
	exchange(got);
	assert_int_equal(got[1][2], 0);
	assert_int_equal(got[2][1], 0);
	assert_int_equal(got[1][3], COUNT);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal --links"), 0);
	expect(false);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	/* watch sees a drop: datagrams 1 -> 2 until it has one (bounded). */
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "t=$(mktemp -d); %s --lab %s watch --count 1 --duration 60 >$t/w "
			  "2>&1 & w=$!; for i in $(seq 300); do ip netns exec %sc1 bash -c "
			  "'echo x >/dev/udp/10.77.0.2/%d'; kill -0 $w 2>/dev/null || break; "
			  "sleep 0.1; done; wait $w; rc=$?; cat $t/w; rm -r $t; exit $rc",
			  getenv("CAPNET"), lab, pre, PORT),
		0);
	assert_non_null(strstr(out, "partition"));
	/* captrace records inside the nodes and names the partition as the cause. */
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "t=$(mktemp -d); %s --lab %s record -o $t/r --duration 60 >$t/o "
			  "2>&1 & r=$!; for i in $(seq 300); do grep -q recording $t/o && "
			  "break; sleep 0.1; done; for i in 1 2 3 4 5; do ip netns exec %sc1 "
			  "bash -c 'echo x >/dev/udp/10.77.0.2/%d'; ip netns exec %sc2 bash -c "
			  "'echo y >/dev/udp/10.77.0.3/%d'; done; sleep 0.5; kill -INT $r; "
			  "wait $r; %s report $t/r --json; rc=$?; rm -r $t; exit $rc",
			  captrace, lab, pre, PORT, pre, PORT, captrace),
		0);
	if (!strstr(out, "\"cause\":\"partition\""))
		printf("%s\n", out);
	assert_non_null(strstr(out, "\"cause\":\"partition\""));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
}

/* capctl load --client exec and capnet run on an adopted lab, as on one capnet built: each
 * client program runs in its node's adopted namespace with that node's address, and a scenario
 * of capnode, its exec client, a partition and a heal ends linearizable. */
static void test_exec_load_and_run_on_adopted_lab(void **state)
{
	char capctl[512], path[512];
	FILE *f;
	int i;

	(void)state;
	netlab_sibling("capctl", capctl, sizeof(capctl));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "adopt --netns %sc1,%sc2,%sc3", pre, pre, pre),
			 0);
	/* Each program notes the namespace it runs in under its node's number and address. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "timeout 60 %s --lab %s -q --timeout 300 load --client exec "
				   "--clients 3 --duration 1s --history %s/mem.jsonl -- sh -c "
				   "'readlink /proc/self/ns/net >%s/ns-{i}-{ip}; exec "
				   "%s/tests/net/exec_misbehaving_client.py register'",
				   capctl, lab, dir, dir, repo),
			 0);
	for (i = 1; i <= 3; i++)
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "test \"$(cat %s/ns-%d-10.77.0.%d)\" = "
					   "\"$(ip netns exec %sc%d readlink /proc/self/ns/net)\"",
					   dir, i, i, pre, i),
				 0);
	snprintf(path, sizeof(path), "%s/adopted.scn", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"start --mode cp\n"
		"load --nodes 1-3 --clients 3 --keys 2 --duration 4s --history cp.jsonl --client "
		"exec -- %s/tools/clients/capnode_client.py --key-file /run/capnet/%s/key\n"
		"sleep 1500ms\n"
		"partition 1 2-3\n"
		"sleep 1s\n"
		"heal\n"
		"wait\n"
		"check register cp.jsonl\n",
		repo, lab);
	fclose(f);
	netlab_sh(out, sizeof(out), "cd %s && %s --lab %s -q run %s", dir, getenv("CAPNET"), lab,
		  path);
	printf("%s\n", out);
	assert_non_null(strstr(out, ": PASS ("));
	assert_int_equal(netlab_sh(out, sizeof(out), "grep -c '\"type\":\"ok\"' %s/cp.jsonl", dir),
			 0);
	assert_true(atoi(out) > 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	/* down leaves the adopted namespaces and the runtime's service as they were. */
	assert_int_equal(netlab_sh(out, sizeof(out), "ls /run/netns | grep -c '^%sc[123]$'", pre),
			 0);
	assert_int_equal(atoi(out), 3);
	assert_int_equal(kill(service_pid, 0), 0);
}

static void refused(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refused(const char *why, const char *fmt, ...)
{
	char args[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	rc = netlab_capnet(lab, out, sizeof(out), "%s", args);
	if (rc != 1 || !strstr(out, why))
		printf("capnet --lab %s %s: exit %d, \"%s\"; expected 1 and \"%s\"\n", lab, args,
		       rc, out, why);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, why));
	/* Refused, it left nothing. */
	assert_int_equal(netlab_sh(out, sizeof(out), "ls /run/netns | grep -c '^%s-'", lab), 1);
}

/* Two labs adopted at once on two bridges of one namespace: each gets blocks of its own (the
 * namespace's lock makes them take turns), and down of one leaves the other whole. */
static void test_two_adopted_at_once(void **state)
{
	char blocks[2][64], path[256];
	const char *labs[2];
	int i;

	(void)state;
	snprintf(lab2, sizeof(lab2), "%sb", lab);
	labs[0] = lab;
	labs[1] = lab2;
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "set -e; P=%s; ip -n ${P}br link add br-two type bridge;"
			  " ip -n ${P}br link set br-two up;"
			  " for i in 1 2; do ip netns add ${P}d$i;"
			  "  ip -n ${P}d$i link add eth0 type veth peer name vd$i netns ${P}br;"
			  "  ip -n ${P}br link set vd$i master br-two up;"
			  "  ip -n ${P}d$i link set eth0 up; done",
			  pre),
		0);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "%s --lab %s adopt --netns %sc1,%sc2 >/dev/null & a=$!;"
				   " %s --lab %s adopt --netns %sd1,%sd2 >/dev/null & b=$!;"
				   " wait $a && wait $b",
				   getenv("CAPNET"), lab, pre, pre, getenv("CAPNET"), lab2, pre,
				   pre),
			 0);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "cat /run/capnet/%s/up.blocks", labs[i]);
		assert_int_equal(netlab_sh(blocks[i], sizeof(blocks[i]), "%s", path), 0);
	}
	if (!strcmp(blocks[0], blocks[1]))
		fail_msg("two adopted labs share blocks: %s", blocks[0]);
	assert_int_equal(netlab_capnet_checked(lab2, out, sizeof(out), "partition 1"), 0);
	assert_int_equal(netlab_capnet_checked(lab2, out, sizeof(out), "down"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "ip -n %sbr link del br-two; ip netns del %sd1; ip netns del %sd2", pre,
			  pre, pre),
		0);
}

static void test_bad_input(void **state)
{
	(void)state;
	refused("no such network namespace", "adopt --netns %snothing", pre);
	refused("there is no process", "adopt --pid 2147483646");
	assert_int_equal(netlab_sh(out, sizeof(out), "ip netns add %se", pre), 0);
	refused("has no veth interface", "adopt --netns %sc1,%se", pre, pre);
	/* A second bridge, with one container of its own. */
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "set -e; ip netns add %sdbr; ip -n %sdbr link add br-other type "
			  "bridge; ip -n %sdbr link set br-other up; ip netns add %sd1; ip -n "
			  "%sd1 link add eth0 type veth peer name vd1 netns %sdbr; ip -n %sdbr "
			  "link set vd1 master br-other up; ip -n %sd1 link set eth0 up",
			  pre, pre, pre, pre, pre, pre, pre, pre),
		0);
	refused("a lab is one bridge", "adopt --netns %sc1,%sd1", pre, pre);
	refused("is the same namespace as node 1", "adopt --netns %sc1,%sc1", pre, pre);
	/* One namespace in another lab. */
	snprintf(lab2, sizeof(lab2), "%sb", lab);
	assert_int_equal(netlab_capnet_checked(lab2, out, sizeof(out), "adopt --netns %sc3", pre),
			 0);
	refused("is already in a lab", "adopt --netns %sc1,%sc3", pre, pre);
	assert_int_equal(netlab_capnet_checked(lab2, out, sizeof(out), "down"), 0);
	/* An interface that disappears later: the lab is not whole, and commands refuse. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "adopt --netns %sc1,%sc2",
					       pre, pre),
			 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "ip -n %sc2 link del eth0", pre), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition 1 2"), 1);
	assert_non_null(strstr(out, "not whole"));
	/* The adopt finished: no word of an `up` that did not. */
	assert_null(strstr(out, "up -n"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "down"), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "tc -n %sbr qdisc show | grep -c clsact", pre),
			 1);
	assert_int_equal(kill(service_pid, 0), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_adopt_partition_down, netlab_teardown),
		cmocka_unit_test_teardown(test_adopt_by_pid, netlab_teardown),
		cmocka_unit_test_teardown(test_tools_on_adopted_lab, netlab_teardown),
		cmocka_unit_test_teardown(test_exec_load_and_run_on_adopted_lab, netlab_teardown),
		cmocka_unit_test_teardown(test_two_adopted_at_once, netlab_teardown),
		cmocka_unit_test_teardown(test_bad_input, netlab_teardown),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("ad");
	/* The runtime's namespaces: named apart from any lab's (no "-n<i>", no "-sw"). */
	snprintf(pre, sizeof(pre), "%sx", lab);
	return cmocka_run_group_tests(tests, setup, teardown);
}
