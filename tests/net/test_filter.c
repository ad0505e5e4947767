// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of the partition filter in a real 5-node lab: exact delivery of UDP, TCP, ARP and
 * IPv6 frames under groups, cuts, presets, switches, loss and duplication, and counters and
 * drop events that match what was really sent. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "netem/policy/spec.h"
#include "tests/lib/netlab.h"

#define NODES 5
#define PER_LINK 20

static const char *lab;
static struct netlab_udp udp;
static char out[1 << 16];
static unsigned int got[NETLAB_MAX + 1][NETLAB_MAX + 1];

#define capnet(...) netlab_capnet_checked(lab, out, sizeof(out), __VA_ARGS__)

/* Delivery must be exact: everything on an open link, nothing on a cut one. */
static void assert_delivery(const struct partition *expect)
{
	unsigned int s, d;

	assert_int_equal(netlab_udp_exchange(&udp, PER_LINK, 0, 0, got), 0);
	for (s = 1; s <= NODES; s++)
		for (d = 1; d <= NODES; d++) {
			unsigned int want = s == d || partition_blocks(expect, s, d) ? 0 : PER_LINK;

			if (got[s][d] != want)
				fail_msg("link %u -> %u: %u datagrams arrived, expected %u", s, d,
					 got[s][d], want);
		}
}

static struct partition expected;

static void expect_groups(int n, ...)
{
	char *groups[8];
	struct spec_error e;
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		groups[i] = va_arg(ap, char *);
	va_end(ap);
	assert_int_equal(partition_from_groups(&expected, NODES, n, groups, &e), 0);
}

static int setup(void **state)
{
	(void)state;
	if (netlab_capnet(lab, out, sizeof(out), "up -n %d", NODES) != 0) {
		printf("capnet up failed:\n%s", out);
		return -1;
	}
	if (netlab_udp_open(&udp, lab, NODES))
		return -1;
	/* The counters are checked exactly against the test's IPv4 datagrams: the nodes send no
	 * IPv6 of their own (MLD reports, router solicitations) into them, whenever those would
	 * have come on this machine. */
	for (unsigned int n = 1; n <= NODES; n++)
		if (netlab_capnet(
			    lab, out, sizeof(out),
			    "exec %u -- sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'",
			    n)) {
			printf("disable IPv6 in node %u:\n%s", n, out);
			return -1;
		}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_udp_close(&udp);
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

static int reset(void **state)
{
	(void)state;
	return capnet("heal --links");
}

static void test_healthy(void **state)
{
	(void)state;
	partition_heal(&expected, NODES);
	assert_delivery(&expected);
	assert_true(netlab_tcp_works(lab, 1, 5, 1000));
}

static void test_groups(void **state)
{
	(void)state;
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_non_null(strstr(out, "1,2 | 3-5"));
	expect_groups(2, "1,2", "3-5");
	assert_delivery(&expected);
	assert_false(netlab_tcp_works(lab, 1, 3, 300));
	assert_true(netlab_tcp_works(lab, 3, 5, 1000));
}

static void test_isolate(void **state)
{
	(void)state;
	assert_int_equal(capnet("partition 3"), 0);
	expect_groups(1, "3");
	assert_delivery(&expected);
}

static void test_one_way_cut(void **state)
{
	struct node_set from, to;
	struct spec_error e;

	(void)state;
	assert_int_equal(capnet("cut 1,2 3"), 0);
	partition_heal(&expected, NODES);
	assert_int_equal(nodeset_parse("1,2", NODES, &from, &e), 0);
	assert_int_equal(nodeset_parse("3", NODES, &to, &e), 0);
	assert_int_equal(partition_cut(&expected, &from, &to, &e), 0);
	assert_delivery(&expected);
	/* Really one-way: 3 still reaches 1 and 2, they no longer reach it. */
	assert_int_equal(got[3][1], PER_LINK);
	assert_int_equal(got[1][3], 0);
	/* A cut adds to the partition in force. */
	assert_int_equal(capnet("cut 4 5"), 0);
	assert_int_equal(nodeset_parse("4", NODES, &from, &e), 0);
	assert_int_equal(nodeset_parse("5", NODES, &to, &e), 0);
	assert_int_equal(partition_cut(&expected, &from, &to, &e), 0);
	assert_delivery(&expected);
}

static void test_presets(void **state)
{
	static const char *const presets[] = { "halves", "random-halves", "majorities-ring",
					       "bridge", "isolate-random" };
	struct spec_error e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		assert_int_equal(capnet("partition --preset %s --seed 42", presets[i]), 0);
		assert_int_equal(partition_preset(&expected, NODES, presets[i], 42, &e), 0);
		assert_delivery(&expected);
	}
}

static void test_heal(void **state)
{
	(void)state;
	assert_int_equal(capnet("partition 1 2 3 4 5"), 0);
	assert_int_equal(capnet("heal"), 0);
	partition_heal(&expected, NODES);
	assert_delivery(&expected);
}

/* A sender floods the links that both partitions cut while the lab flips between them: not one
 * datagram may cross, while links open in both keep flowing. */
struct flood {
	volatile int stop;
	unsigned long sent;
};

static void *flood_main(void *arg)
{
	struct flood *f = arg;
	static const unsigned int links[][2] = { { 1, 4 }, { 4, 1 }, { 2, 5 },
						 { 5, 2 }, { 1, 2 }, { 4, 5 } };
	unsigned int i;

	while (!f->stop) {
		for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
			if (!netlab_udp_send(&udp, links[i][0], links[i][1], 0))
				f->sent++;
	}
	return NULL;
}

static void test_switch_atomic(void **state)
{
	struct flood f = {};
	pthread_t t;
	int i;

	(void)state;
	/* 1,2 | 3,4,5 and 1,2,3 | 4,5 both cut 1<->4 and 2<->5; both keep 1<->2 and 4<->5. */
	assert_int_equal(capnet("partition 1,2 3,4,5"), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(pthread_create(&t, NULL, flood_main, &f), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(capnet(i % 2 ? "partition 1,2 3,4,5" : "partition 1,2,3 4,5"), 0);
		netlab_udp_drain(&udp, 0, got);
	}
	f.stop = 1;
	pthread_join(t, NULL);
	netlab_udp_drain(&udp, 150, got);
	printf("switch test: %lu datagrams sent during 20 switches\n", f.sent);
	assert_int_equal(got[1][4], 0);
	assert_int_equal(got[4][1], 0);
	assert_int_equal(got[2][5], 0);
	assert_int_equal(got[5][2], 0);
	assert_true(got[1][2] > 0);
	assert_true(got[4][5] > 0);
}

static long long link_counter(const char *json, unsigned int from, unsigned int to,
			      const char *field)
{
	char anchor[64];

	snprintf(anchor, sizeof(anchor), "{\"from\":%u,\"to\":%u,\"passed\"", from, to);
	return netlab_json_number(json, anchor, field);
}

static void test_loss(void **state)
{
	const unsigned int sent = 4000;
	long long passed0, lost0, passed1, lost1;

	(void)state;
	assert_int_equal(capnet("status --json"), 0);
	passed0 = link_counter(out, 1, 2, "passed");
	lost0 = link_counter(out, 1, 2, "dropped_loss");
	assert_int_equal(capnet("link 1 2 --loss 30%%"), 0);
	assert_int_equal(netlab_udp_exchange(&udp, sent, 1, 2, got), 0);
	/* Binomial(4000, 0.7): mean 2800, sd 29: 6 sd either side never fails by chance. */
	printf("30%% loss: %u of %u arrived\n", got[1][2], sent);
	assert_in_range(got[1][2], 2800 - 174, 2800 + 174);
	assert_int_equal(capnet("status --json"), 0);
	passed1 = link_counter(out, 1, 2, "passed");
	lost1 = link_counter(out, 1, 2, "dropped_loss");
	/* Every datagram is counted once, as passed or lost, and the count is what arrived. */
	assert_int_equal(passed1 - (passed0 < 0 ? 0 : passed0), got[1][2]);
	assert_int_equal(lost1 - (lost0 < 0 ? 0 : lost0), sent - got[1][2]);
	/* The other direction is impaired too (links are symmetric unless --one-way). */
	assert_int_equal(netlab_udp_exchange(&udp, sent, 2, 1, got), 0);
	assert_in_range(got[2][1], 2800 - 174, 2800 + 174);
	/* Others are not. */
	assert_int_equal(netlab_udp_exchange(&udp, 200, 1, 3, got), 0);
	assert_int_equal(got[1][3], 200);
	assert_int_equal(capnet("link 1 2 --loss 0"), 0);
	assert_int_equal(netlab_udp_exchange(&udp, 500, 1, 2, got), 0);
	assert_int_equal(got[1][2], 500);
}

static void test_duplication(void **state)
{
	const unsigned int sent = 2000;
	long long dup0, dup1;

	(void)state;
	assert_int_equal(capnet("status --json"), 0);
	dup0 = link_counter(out, 3, 4, "duplicated");
	assert_int_equal(capnet("link 3 4 --dup 50%% --one-way"), 0);
	assert_int_equal(netlab_udp_exchange(&udp, sent, 3, 4, got), 0);
	printf("50%% duplication: %u arrived for %u sent\n", got[3][4], sent);
	/* Binomial(2000, 0.5) extra: mean 1000, sd 22.4. */
	assert_in_range(got[3][4] - sent, 1000 - 135, 1000 + 135);
	assert_int_equal(capnet("status --json"), 0);
	dup1 = link_counter(out, 3, 4, "duplicated");
	assert_int_equal(dup1 - (dup0 < 0 ? 0 : dup0), got[3][4] - sent);
	assert_int_equal(netlab_udp_exchange(&udp, 300, 4, 3, got), 0);
	assert_int_equal(got[4][3], 300);
}

static void test_arp_and_ipv6(void **state)
{
	(void)state;
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	/* Broadcast ARP and unicast IPv6 frames: cut exactly like IPv4. */
	assert_int_equal(netlab_raw_exchange(lab, 1, 3, 0x0806, true, 10), 0);
	assert_int_equal(netlab_raw_exchange(lab, 1, 2, 0x0806, true, 10), 10);
	assert_int_equal(netlab_raw_exchange(lab, 4, 1, 0x86dd, false, 10), 0);
	assert_int_equal(netlab_raw_exchange(lab, 4, 5, 0x86dd, false, 10), 10);
}

/* The drop events of `capnet watch` and the counters of `capnet status` against the truth. */
struct watcher {
	struct netlab_watch watch;
	char output[1 << 20];
};

static void test_counters_and_events(void **state)
{
	long long part0, part1, passed0, passed1;
	struct watcher *w = calloc(1, sizeof(*w));
	const char *p;
	unsigned int events = 0, udp_events = 0;

	(void)state;
	assert_non_null(w);
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_int_equal(capnet("status --json"), 0);
	part0 = link_counter(out, 2, 4, "dropped_partition");
	passed0 = link_counter(out, 2, 1, "passed");
	assert_int_equal(netlab_watch_begin(&w->watch, lab, w->output, sizeof(w->output)), 0);
	assert_int_equal(netlab_udp_exchange(&udp, 37, 2, 4, got), 0);
	assert_int_equal(netlab_udp_exchange(&udp, 23, 2, 1, got), 0);
	assert_int_equal(netlab_watch_end(&w->watch), 0);
	assert_int_equal(capnet("status --json"), 0);
	part1 = link_counter(out, 2, 4, "dropped_partition");
	passed1 = link_counter(out, 2, 1, "passed");
	assert_int_equal(part1 - (part0 < 0 ? 0 : part0), 37);
	assert_int_equal(passed1 - (passed0 < 0 ? 0 : passed0), 23);
	for (p = w->output; (p = strstr(p, "{\"time_ns\"")); p++) {
		events++;
		if (strstr(p, "\"from\":2,\"to\":4,\"cause\":\"partition\"") ==
			    strstr(p, "\"from\"") &&
		    netlab_json_number(p, NULL, "dport") == NETLAB_PORT)
			udp_events++;
	}
	printf("watch saw %u events, %u of them the 37 datagrams 2 -> 4\n", events, udp_events);
	assert_int_equal(udp_events, 37);
	free(w);
}

/* watch -- CMD: the drops of the command's own frames, however fast it is, then its status;
 * status --maps: both policy copies decoded. */
static void test_watch_command_and_maps(void **state)
{
	const char *p;
	unsigned int icmp = 0;

	(void)state;
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_int_equal(
		netlab_capnet(lab, out, sizeof(out),
			      "watch -- %s --lab %s exec 1 -- ping -c 3 -i 0.2 -W 1 10.77.0.3",
			      getenv("CAPNET"), lab),
		1);
	assert_non_null(strstr(out, "# time: seconds of CLOCK_MONOTONIC"));
	for (p = out; (p = strstr(p, " partition 1 -> 3 icmp 10.77.0.1")); p++)
		icmp++;
	printf("watch -- ping: %u echo requests dropped\n", icmp);
	assert_int_equal(icmp, 3);
	assert_non_null(strstr(out, ": exit 1; 3 frames dropped while it ran"));
	/* A command that works: watch exits 0. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "watch -- true"), 0);
	assert_non_null(strstr(out, "# true: exit 0; 0 frames dropped while it ran"));

	assert_int_equal(capnet("status --maps"), 0);
	assert_non_null(strstr(out, "control: copy "));
	assert_non_null(strstr(out, "(active): generation "));
	assert_non_null(strstr(out, "(idle): generation "));
	assert_non_null(strstr(out, "group 0: nodes 1,2"));
	assert_non_null(strstr(out, "group 1: nodes 3-5"));
	assert_non_null(strstr(out, "= 1,2 | 3-5"));
	assert_non_null(strstr(out, "1 -> 3: passed "));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--json status --maps"), 2);
}

static void test_bad_input(void **state)
{
	static const char *const bad_usage[] = {
		"partition 1,2 2,3",
		"partition 9",
		"partition 1,,2",
		"partition --preset nope",
		"link 1 2 --loss 101%",
		"link 1 2 --loss -3%",
		"cut 1",
		"partition 5-3",
		"up -n 0",
		"up -n 1001",
		"link 1 2",
		"frobnicate",
	};
	char before[1 << 14];

	(void)state;
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_int_equal(capnet("status --json"), 0);
	snprintf(before, sizeof(before), "%lld", netlab_json_number(out, NULL, "generation"));
	assert_int_equal(netlab_expect_usage_errors(lab, bad_usage,
						    sizeof(bad_usage) / sizeof(bad_usage[0])),
			 0);
	/* Nothing changed in the kernel. */
	assert_int_equal(capnet("status --json"), 0);
	assert_int_equal(netlab_json_number(out, NULL, "generation"), atoll(before));
	assert_non_null(strstr(out, "\"partition\":\"1,2 | 3-5\""));
	/* A missing lab is a runtime error. */
	assert_int_equal(netlab_capnet("nosuchlab-x", out, sizeof(out), "status"), 1);
	assert_non_null(strstr(out, "no lab"));
	/* An existing lab is not built twice. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3"), 1);
	assert_non_null(strstr(out, "already exists"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_healthy, reset),
		cmocka_unit_test_setup(test_groups, reset),
		cmocka_unit_test_setup(test_isolate, reset),
		cmocka_unit_test_setup(test_one_way_cut, reset),
		cmocka_unit_test_setup(test_presets, reset),
		cmocka_unit_test_setup(test_heal, reset),
		cmocka_unit_test_setup(test_switch_atomic, reset),
		cmocka_unit_test_setup(test_loss, reset),
		cmocka_unit_test_setup(test_duplication, reset),
		cmocka_unit_test_setup(test_arp_and_ipv6, reset),
		cmocka_unit_test_setup(test_counters_and_events, reset),
		cmocka_unit_test_setup(test_watch_command_and_maps, reset),
		cmocka_unit_test_setup(test_bad_input, reset),
	};

	netlab_require_root("test_filter");
	lab = netlab_unique_lab("tf");
	return cmocka_run_group_tests(tests, setup, teardown);
}
