// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of the finer faults in a real 3-node lab, against the traffic really sent:
 * per-service rules (--only, --except) on partitions, cuts and link impairments, corruption
 * that the receiver's stack drops or that reaches the application, and seeded loss that loses
 * the same frames of the same flood twice. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tests/lib/netlab.h"

#define NODES 3
#define FLOOD 50

static const char *lab;
static char out[1 << 16];

#define capnet(...) netlab_capnet_checked(lab, out, sizeof(out), __VA_ARGS__)

static int setup(void **state)
{
	(void)state;
	if (netlab_capnet(lab, out, sizeof(out), "up -n %d", NODES) != 0) {
		printf("capnet up failed:\n%s", out);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

/* Every test starts from a healed lab with no delays, whatever the one before it left. */
static int reset(void **state)
{
	(void)state;
	return capnet("heal --links --delays");
}

/* How many of FLOOD datagrams from `src` reach node `to` at port `port`, where `dst` listens. */
static unsigned int flood(int src, unsigned int to, unsigned int port, int dst)
{
	char data[64] = "capnet";
	unsigned int i;

	for (i = 0; i < FLOOD; i++) {
		memcpy(data + 8, &i, sizeof(i));
		assert_int_equal(netlab_udp_send_to(src, to, port, data, sizeof(data)), 0);
	}
	return netlab_udp_count(dst, 200);
}

static int sock(unsigned int node, unsigned int port)
{
	int fd = netlab_udp_socket(lab, node, port);

	assert_true(fd >= 0);
	return fd;
}

/* --only udp:5000 cuts both directions of the service, its replies to an ephemeral port too,
 * and nothing else: not other ports between the groups, not the service within a group. */
static void test_only_udp_port(void **state)
{
	int s2, s3, c1, c3, o1, o2;
	unsigned int eph1;

	(void)state;
	s2 = sock(2, 5000);
	s3 = sock(3, 5000);
	c1 = sock(1, 0);
	c3 = sock(3, 0);
	o1 = sock(1, 6000);
	o2 = sock(2, 6001);
	eph1 = netlab_udp_port_of(c1);
	assert_int_equal(capnet("partition 1 2,3 --only udp:5000"), 0);
	assert_non_null(strstr(out, "rules: only udp:5000: 1 | 2,3"));
	assert_int_equal(flood(c1, 2, 5000, s2), 0);
	/* The reply direction: from port 5000 to node 1's ephemeral port. */
	assert_int_equal(flood(s2, 1, eph1, c1), 0);
	/* Other ports between the groups, both ways. */
	assert_int_equal(flood(o1, 2, 6001, o2), FLOOD);
	assert_int_equal(flood(o2, 1, 6000, o1), FLOOD);
	/* The service within a group. */
	assert_int_equal(flood(c3, 2, 5000, s2), FLOOD);
	assert_int_equal(flood(s2, 3, 5000, s3), FLOOD);
	/* TCP between the groups is untouched. */
	assert_true(netlab_tcp_works(lab, 1, 2, 1000));
	assert_int_equal(capnet("status"), 0);
	assert_non_null(strstr(out, "partition: healthy"));
	assert_non_null(strstr(out, "rule 1, only udp:5000: 1 | 2,3"));
	/* Frames a rule dropped are counted as partition drops, and say which rule. */
	assert_int_equal(capnet("status --json"), 0);
	assert_true(netlab_json_number(out, "{\"from\":1,\"to\":2,\"passed\"",
				       "dropped_partition") >= FLOOD);
	/* Healing the rule alone lets the service through again. */
	assert_int_equal(capnet("heal --only udp:5000"), 0);
	assert_int_equal(flood(c1, 2, 5000, s2), FLOOD);
	close(s2);
	close(s3);
	close(c1);
	close(c3);
	close(o1);
	close(o2);
}

/* etcd's case: its peers on 2380 cut, its clients on 2379 served. */
static void test_only_tcp_port(void **state)
{
	(void)state;
	assert_int_equal(capnet("partition 1 2,3 --only tcp:2380"), 0);
	assert_false(netlab_tcp_port_works(lab, 1, 2, 2380, 400));
	assert_false(netlab_tcp_port_works(lab, 3, 1, 2380, 400));
	assert_true(netlab_tcp_port_works(lab, 1, 2, 2379, 1000));
	assert_true(netlab_tcp_port_works(lab, 2, 1, 2379, 1000));
	assert_true(netlab_tcp_port_works(lab, 2, 3, 2380, 1000));
	/* A cut of every frame still holds beside the rule; a rule never opens what it cuts. */
	assert_int_equal(capnet("cut 1 2"), 0);
	assert_false(netlab_tcp_port_works(lab, 1, 2, 2379, 400));
	assert_true(netlab_tcp_port_works(lab, 1, 3, 2379, 1000));
}

/* --except: every frame but the ones named. */
static void test_except(void **state)
{
	int a1, a2, b1, b2;

	(void)state;
	a1 = sock(1, 5000);
	a2 = sock(2, 5000);
	b1 = sock(1, 6000);
	b2 = sock(2, 6000);
	assert_int_equal(capnet("partition 1 2,3 --except udp:5000,arp"), 0);
	assert_int_equal(flood(a1, 2, 5000, a2), FLOOD);
	assert_int_equal(flood(b1, 2, 6000, b2), 0);
	assert_false(netlab_tcp_works(lab, 1, 2, 400));
	/* ARP is excepted, IPv6 is not. */
	assert_int_equal(netlab_raw_exchange(lab, 1, 2, 0x0806, true, 10), 10);
	assert_int_equal(netlab_raw_exchange(lab, 1, 2, 0x86dd, false, 10), 0);
	close(a1);
	close(a2);
	close(b1);
	close(b2);
}

/* A one-way cut of one service, and arp and icmp as whole protocols. */
static void test_cut_and_protocols(void **state)
{
	int a1, a2;

	(void)state;
	a1 = sock(1, 5000);
	a2 = sock(2, 5000);
	assert_int_equal(capnet("cut 1 2 --only udp:5000"), 0);
	assert_int_equal(flood(a1, 2, 5000, a2), 0);
	assert_int_equal(flood(a2, 1, 5000, a1), FLOOD);
	assert_int_equal(capnet("partition 1 2,3 --only arp"), 0);
	assert_int_equal(netlab_raw_exchange(lab, 1, 2, 0x0806, true, 10), 0);
	assert_int_equal(netlab_raw_exchange(lab, 1, 2, 0x86dd, false, 10), 10);
	assert_int_equal(netlab_raw_exchange(lab, 2, 3, 0x0806, true, 10), 10);
	assert_int_equal(capnet("status"), 0);
	assert_non_null(strstr(out, "rule 1, only udp:5000: cut 1 -> 2"));
	assert_non_null(strstr(out, "rule 2, only arp: 1 | 2,3"));
	assert_int_equal(capnet("partition 1 2,3 --only icmp"), 0);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ip netns exec %s-n1 ping -c 2 -W 1 -i 0.2 10.77.0.2", lab),
			 1);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ip netns exec %s-n2 ping -c 2 -W 1 -i 0.2 10.77.0.3", lab),
			 0);
	close(a1);
	close(a2);
}

/* Loss scoped to one service. */
static void test_link_only(void **state)
{
	int a1, a2, b1, b2;

	(void)state;
	a1 = sock(1, 5000);
	a2 = sock(2, 5000);
	b1 = sock(1, 6000);
	b2 = sock(2, 6000);
	assert_int_equal(capnet("link 1 2 --loss 100%% --only udp:5000"), 0);
	assert_non_null(strstr(out, "only udp:5000"));
	assert_int_equal(flood(a1, 2, 5000, a2), 0);
	assert_int_equal(flood(a2, 1, 5000, a1), 0);
	assert_int_equal(flood(b1, 2, 6000, b2), FLOOD);
	assert_true(netlab_tcp_works(lab, 1, 2, 1000));
	close(a1);
	close(a2);
	close(b1);
	close(b2);
}

/* The node's UDP InCsumErrors counter, from its own /proc/net/snmp (the 7th value of the
 * "Udp:" line: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors
 * InCsumErrors). */
static long long udp_csum_errors(unsigned int node)
{
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ip netns exec %s-n%u awk '/^Udp: [0-9]/ {print $8}' "
				   "/proc/net/snmp",
				   lab, node),
			 0);
	return atoll(out);
}

/* --corrupt: the frames cross the switch with one bit flipped and a stale checksum, and the
 * receiver's stack drops every one of them, as it counts. */
static void test_corrupt_dropped_by_stack(void **state)
{
	long long before, after, counted0, counted1;
	int a1, a2;

	(void)state;
	a1 = sock(1, 6000);
	a2 = sock(2, 6000);
	assert_int_equal(capnet("status --json"), 0);
	counted0 = netlab_json_number(out, "{\"from\":1,\"to\":2,\"passed\"", "corrupted");
	before = udp_csum_errors(2);
	assert_int_equal(capnet("link 1 2 --corrupt 100%% --one-way"), 0);
	assert_int_equal(flood(a1, 2, 6000, a2), 0);
	after = udp_csum_errors(2);
	printf("node 2 counted %lld checksum errors for %d corrupted datagrams\n", after - before,
	       FLOOD);
	assert_int_equal(after - before, FLOOD);
	assert_int_equal(capnet("status --json"), 0);
	counted1 = netlab_json_number(out, "{\"from\":1,\"to\":2,\"passed\"", "corrupted");
	assert_int_equal(counted1 - (counted0 < 0 ? 0 : counted0), FLOOD);
	/* One way: the other direction is clean. */
	assert_int_equal(flood(a2, 1, 6000, a1), FLOOD);
	/* The delay line turns checksum offload off and on again; after it, corruption is
	 * still caught. */
	assert_int_equal(capnet("link 1 3 --delay 2ms"), 0);
	assert_int_equal(capnet("heal --delays"), 0);
	before = udp_csum_errors(2);
	assert_int_equal(flood(a1, 2, 6000, a2), 0);
	assert_int_equal(udp_csum_errors(2) - before, FLOOD);
	close(a1);
	close(a2);
}

static char watched[1 << 20];

/* --corrupt-payload: the checksum is mended, so the application gets the data, one bit off;
 * watch reports each frame as corrupted, with the bytes as they were sent. */
static void test_corrupt_payload_arrives(void **state)
{
	unsigned char sent[200], got[256];
	unsigned int i, arrived = 0, one_bit = 0, events = 0, as_sent = 0;
	char sent_hex[65];
	struct netlab_watch watcher;
	const char *p;
	int a1, a2;
	ssize_t n;

	(void)state;
	a1 = sock(1, 6000);
	a2 = sock(2, 6000);
	memset(sent, 0x5a, sizeof(sent));
	for (i = 0; i < 32; i++)
		sprintf(sent_hex + 2 * i, "5a");
	assert_int_equal(capnet("link 1 2 --corrupt-payload 100%% --one-way"), 0);
	assert_int_equal(netlab_watch_begin(&watcher, lab, watched, sizeof(watched)), 0);
	for (i = 0; i < FLOOD; i++)
		assert_int_equal(netlab_udp_send_to(a1, 2, 6000, sent, sizeof(sent)), 0);
	for (;;) {
		struct pollfd p = { .fd = a2, .events = POLLIN };
		unsigned int bits = 0, k;

		/* Every one is due: the wait is a bound for a lost one, not a guess at speed. */
		if (poll(&p, 1, arrived < FLOOD ? 10000 : 300) <= 0)
			break;
		n = recv(a2, got, sizeof(got), 0);
		if (n < 0)
			continue;
		arrived++;
		assert_int_equal(n, sizeof(sent));
		for (k = 0; k < sizeof(sent); k++)
			bits += __builtin_popcount(got[k] ^ sent[k]);
		one_bit += bits == 1;
	}
	/* Every datagram that arrived was judged first: its event is in the ring by now. */
	assert_int_equal(netlab_watch_end(&watcher), 0);
	for (p = watched; (p = strstr(p, "\"cause\":\"corrupted\"")); p++) {
		const char *payload = strstr(p, "\"payload\":\"");

		events++;
		as_sent += payload && !strncmp(payload + 11, sent_hex, 64);
	}
	printf("corrupt-payload: %u of %d arrived, %u with exactly one bit changed; watch: %u "
	       "corrupted, %u shown as sent\n",
	       arrived, FLOOD, one_bit, events, as_sent);
	assert_int_equal(arrived, FLOOD);
	assert_int_equal(one_bit, FLOOD);
	assert_int_equal(events, FLOOD);
	assert_int_equal(as_sent, FLOOD);
	close(a1);
	close(a2);
}

/* Which of `count` numbered datagrams from node 1 port 6000 reach node 2 port 6000. */
static void seeded_run(const char *cmd, unsigned int count, unsigned char *arrived)
{
	unsigned char data[64];
	unsigned int i, seq;
	int a1, a2;
	ssize_t n;

	a1 = sock(1, 6000);
	a2 = sock(2, 6000);
	assert_int_equal(capnet("%s", cmd), 0);
	memset(arrived, 0, count);
	for (i = 0; i < count; i++) {
		memset(data, 0, sizeof(data));
		memcpy(data, &i, sizeof(i));
		assert_int_equal(netlab_udp_send_to(a1, 2, 6000, data, sizeof(data)), 0);
		if (i % 64 == 63)
			usleep(1000);
	}
	for (;;) {
		struct pollfd p = { .fd = a2, .events = POLLIN };

		if (poll(&p, 1, 300) <= 0)
			break;
		n = recv(a2, data, sizeof(data), 0);
		if (n < (ssize_t)sizeof(seq))
			continue;
		memcpy(&seq, data, sizeof(seq));
		if (seq < count)
			arrived[seq] = 1;
	}
	close(a1);
	close(a2);
}

static unsigned int same(const unsigned char *a, const unsigned char *b, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		k += a[i] == b[i];
	return k;
}

static unsigned int sum(const unsigned char *a, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		k += a[i];
	return k;
}

/* --seed: the same flood loses the same datagrams twice; another seed, or none, does not. */
static void test_seeded_loss_replays(void **state)
{
	enum { COUNT = 2000 };
	static unsigned char first[COUNT], second[COUNT], other[COUNT], random1[COUNT],
		random2[COUNT];
	unsigned int s12, s_other, s_random;

	(void)state;
	seeded_run("link 1 2 --loss 30% --seed 42 --one-way", COUNT, first);
	seeded_run("link 1 2 --loss 30% --seed 42 --one-way", COUNT, second);
	seeded_run("link 1 2 --loss 30% --seed 43 --one-way", COUNT, other);
	seeded_run("link 1 2 --loss 30% --one-way", COUNT, random1);
	seeded_run("link 1 2 --loss 30% --one-way", COUNT, random2);
	s12 = same(first, second, COUNT);
	s_other = same(first, other, COUNT);
	s_random = same(random1, random2, COUNT);
	printf("seeded loss 30%%: run 1 kept %u, run 2 kept %u of %d; the same fate for %u of %d "
	       "(%.1f%%); seed 43 agreed on %u, two unseeded runs on %u\n",
	       sum(first, COUNT), sum(second, COUNT), COUNT, s12, COUNT, 100.0 * s12 / COUNT,
	       s_other, s_random);
	/* Binomial(2000, 0.7) kept: 6 sd either side. */
	assert_in_range(sum(first, COUNT), 1400 - 123, 1400 + 123);
	assert_int_equal(s12, COUNT);
	/* Independent runs agree on about 0.7^2 + 0.3^2 = 58%: far from all. */
	assert_true(s_other < COUNT * 3 / 4);
	assert_true(s_random < COUNT * 3 / 4);
	/* status says which seed. */
	assert_int_equal(capnet("link 1 2 --loss 30%% --seed 42 --one-way"), 0);
	assert_int_equal(capnet("status"), 0);
	assert_non_null(strstr(out, "loss 30% (seed 42)"));
}

static void test_bad_input(void **state)
{
	static const char *const bad_usage[] = {
		"partition 1 2 --only tcp:0",
		"partition 1 2 --only tcp:65536",
		"partition 1 2 --only sctp",
		"partition 1 2 --only ip:256",
		"partition 1 2 --only udp:53 --except tcp",
		"partition 1 2 --only",
		"cut 1 2 --except ''",
		"link 1 2 --loss 5% --only tcp:99999",
		"link 1 2 --corrupt 101%",
		"link 1 2 --corrupt 5% --corrupt-payload 5%",
		"link 1 2 --seed 3",
		"link 1 2 --loss 5% --seed x",
		"link 1 2 --delay 10ms --only udp:5000",
		"heal --only tcp:2380",
		"heal --links --only tcp",
	};
	char before[64];
	size_t i;

	(void)state;
	assert_int_equal(capnet("partition 1 2,3 --only udp:5000"), 0);
	assert_int_equal(capnet("status --json"), 0);
	snprintf(before, sizeof(before), "%lld", netlab_json_number(out, NULL, "generation"));
	assert_int_equal(netlab_expect_usage_errors(lab, bad_usage,
						    sizeof(bad_usage) / sizeof(bad_usage[0])),
			 0);
	/* Eight rules at most: the ninth is refused, and nothing changes. */
	for (i = 0; i < 7; i++)
		assert_int_equal(capnet("partition 1 2,3 --only tcp:%zu", 1000 + i), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition 1 2,3 --only tcp:2000"),
			 2);
	assert_non_null(strstr(out, "at most 8 rules"));
	assert_int_equal(capnet("status --json"), 0);
	assert_int_equal(netlab_json_number(out, NULL, "generation"), atoll(before) + 7);
	assert_non_null(strstr(out, "\"match\":\"only udp:5000\",\"partition\":\"1 | 2,3\""));
	assert_null(strstr(out, "tcp:2000"));
	/* heal ends every rule. */
	assert_int_equal(capnet("heal"), 0);
	assert_int_equal(capnet("status --json"), 0);
	assert_non_null(strstr(out, "\"rules\":[]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_only_udp_port, reset),
		cmocka_unit_test_setup(test_only_tcp_port, reset),
		cmocka_unit_test_setup(test_except, reset),
		cmocka_unit_test_setup(test_cut_and_protocols, reset),
		cmocka_unit_test_setup(test_link_only, reset),
		cmocka_unit_test_setup(test_corrupt_dropped_by_stack, reset),
		cmocka_unit_test_setup(test_corrupt_payload_arrives, reset),
		cmocka_unit_test_setup(test_seeded_loss_replays, reset),
		cmocka_unit_test_setup(test_bad_input, reset),
	};

	netlab_require_root("test_faults");
	lab = netlab_unique_lab("tz");
	return cmocka_run_group_tests(tests, setup, teardown);
}
