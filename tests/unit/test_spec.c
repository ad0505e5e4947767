// SPDX-License-Identifier: GPL-2.0-only
/* Partition specs: node lists, groups, cuts, presets, the printed form and its parser, the
 * policy compiler and percentages. Random relations come from fixed seeds, printed on failure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netem/policy/spec.h"

/* A partition is 128 KiB and a policy a little more: kept off the stack. */
static struct partition pa, pb;
static struct policy pol;
static char text[1 << 22];

/* The seed of the random case being checked, printed with any failure so it replays. */
static unsigned long long current_seed;

static const char *seed_note(void)
{
	static char note[64];

	if (!current_seed)
		return "";
	snprintf(note, sizeof(note), " (seed %#llx)", current_seed);
	return note;
}

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond))                                                             \
			fail_msg("%s:%d: %s%s", __FILE__, __LINE__, #cond, seed_note()); \
	} while (0)

static uint64_t test_rng(uint64_t *s)
{
	/* xorshift64*: independent of the generator under test. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void expect_fail(int rc, const struct spec_error *err, const char *msg)
{
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err->msg, msg);
}

static void set_of(struct node_set *s, unsigned int nodes, const char *list)
{
	struct spec_error err;

	assert_int_equal(nodeset_parse(list, nodes, s, &err), 0);
}

/* node lists */

static void test_nodeset_parse_good(void **state)
{
	struct spec_error err;
	struct node_set s;

	(void)state;
	assert_int_equal(nodeset_parse("3", 5, &s, &err), 0);
	assert_int_equal(nodeset_count(&s), 1);
	assert_true(nodeset_has(&s, 3));

	assert_int_equal(nodeset_parse("1,2", 5, &s, &err), 0);
	assert_int_equal(nodeset_count(&s), 2);
	assert_true(nodeset_has(&s, 1) && nodeset_has(&s, 2));

	assert_int_equal(nodeset_parse("3-5", 5, &s, &err), 0);
	assert_int_equal(nodeset_count(&s), 3);
	assert_true(nodeset_has(&s, 3) && nodeset_has(&s, 4) && nodeset_has(&s, 5));

	assert_int_equal(nodeset_parse("1,4-6,9", 9, &s, &err), 0);
	assert_int_equal(nodeset_count(&s), 5);
	for (unsigned int i = 0; i <= 10; i++)
		assert_int_equal(nodeset_has(&s, i), i == 1 || (i >= 4 && i <= 6) || i == 9);

	/* A node named twice within one list is a slip, refused as "1 1" is. */
	expect_fail(nodeset_parse("1,1,1", 5, &s, &err), &err,
		    "node 1 is named twice in \"1,1,1\"");
	expect_fail(nodeset_parse("2,1-3", 5, &s, &err), &err,
		    "node 2 is named twice in \"2,1-3\"");
	expect_fail(nodeset_parse("1-3,3-4", 5, &s, &err), &err,
		    "node 3 is named twice in \"1-3,3-4\"");

	assert_int_equal(nodeset_parse("all", 5, &s, &err), 0);
	assert_int_equal(nodeset_count(&s), 5);
	assert_false(nodeset_has(&s, 0));
	assert_false(nodeset_has(&s, 6));

	assert_int_equal(nodeset_parse("all", 1000, &s, &err), 0);
	assert_int_equal(nodeset_count(&s), 1000);
	assert_true(nodeset_has(&s, 1000));
	assert_false(nodeset_has(&s, 1001));

	for (unsigned int n = 1; n <= 200; n++) {
		assert_int_equal(nodeset_parse("all", n, &s, &err), 0);
		assert_int_equal(nodeset_count(&s), n);
		assert_true(nodeset_has(&s, n) && !nodeset_has(&s, n + 1));
	}

	assert_int_equal(nodeset_parse("007", 9, &s, &err), 0);
	assert_true(nodeset_has(&s, 7) && nodeset_count(&s) == 1);
	assert_int_equal(nodeset_parse("1000", 1000, &s, &err), 0);
	assert_true(nodeset_has(&s, 1000));
	assert_int_equal(nodeset_parse("1", 1, &s, &err), 0);
}

static void test_nodeset_parse_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned int nodes;
		const char *msg;
	} cases[] = {
		{ "7", 5, "node 7 is out of range (the lab has 5 nodes)" },
		{ "0", 5, "node 0 is out of range (the lab has 5 nodes)" },
		{ "2", 1, "node 2 is out of range (the lab has 1 node)" },
		{ "1,6", 5, "node 6 is out of range (the lab has 5 nodes)" },
		{ "2-9", 5, "node 9 is out of range (the lab has 5 nodes)" },
		{ "0-2", 5, "node 0 is out of range (the lab has 5 nodes)" },
		{ "99999999999999999999", 5,
		  "node 99999999999999999999 is out of range (the lab has 5 nodes)" },
		{ "", 5, "empty node list" },
		{ "5-3", 5, "bad range \"5-3\"" },
		{ "3-", 5, "bad range \"3-\"" },
		{ "-3", 5, "bad range \"-3\"" },
		{ "1-2-3", 5, "bad range \"1-2-3\"" },
		{ "a-3", 5, "bad range \"a-3\"" },
		{ "x", 5, "\"x\" is not a node number" },
		{ " 3", 5, "\" 3\" is not a node number" },
		{ "+3", 5, "\"+3\" is not a node number" },
		{ "1,x2", 5, "\"x2\" is not a node number" },
		{ "1,,2", 5, "empty item in node list \"1,,2\"" },
		{ "1,", 5, "empty item in node list \"1,\"" },
		{ ",", 5, "empty item in node list \",\"" },
		{ "all,3", 5, "\"all\" stands alone, not in a list (\"all,3\")" },
		{ "ALL", 5, "\"ALL\" is not a node number" },
		{ "3", 0, "a lab has 1 to 1000 nodes, not 0" },
		{ "3", 1001, "a lab has 1 to 1000 nodes, not 1001" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 5,
		  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is not a node number" },
	};
	struct spec_error err;
	struct node_set s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A failed parse leaves the output alone. */
		set_of(&s, 5, "2");
		expect_fail(nodeset_parse(cases[i].text, cases[i].nodes, &s, &err), &err,
			    cases[i].msg);
		assert_int_equal(nodeset_count(&s), 1);
		assert_true(nodeset_has(&s, 2));
	}
	expect_fail(nodeset_parse(NULL, 5, &s, &err), &err, "empty node list");
	/* Works without an error buffer too. */
	assert_int_equal(nodeset_parse("9", 5, &s, NULL), -EINVAL);
}

static void test_nodeset_format(void **state)
{
	struct node_set s, back;
	struct spec_error err;
	char buf[64];
	uint64_t seed = 7;

	(void)state;
	nodeset_clear(&s);
	assert_int_equal(nodeset_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	set_of(&s, 9, "1,2,4-7");
	assert_int_equal(nodeset_format(&s, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1,2,4-7");
	set_of(&s, 9, "1,3,5,6,7,8,9");
	nodeset_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "1,3,5-9");
	set_of(&s, 1000, "all");
	nodeset_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "1-1000");
	set_of(&s, 1000, "1000,999");
	nodeset_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "999,1000");

	/* snprintf rules: what fits is written and terminated, the full length is returned. */
	set_of(&s, 9, "1,2,4-7");
	assert_int_equal(nodeset_format(&s, buf, 4), 7);
	assert_string_equal(buf, "1,2");
	assert_int_equal(nodeset_format(&s, NULL, 0), 7);
	assert_int_equal(nodeset_format(&s, buf, 1), 7);
	assert_string_equal(buf, "");

	for (int round = 0; round < 300; round++) {
		unsigned int nodes = 1 + (unsigned int)(test_rng(&seed) % 1000);
		unsigned int density = (unsigned int)(test_rng(&seed) % 100);
		char big[8192];

		nodeset_clear(&s);
		for (unsigned int i = 1; i <= nodes; i++)
			if (test_rng(&seed) % 100 < density)
				nodeset_add(&s, i);
		nodeset_add(&s, 1 + (unsigned int)(test_rng(&seed) % nodes));
		assert_true(nodeset_format(&s, big, sizeof(big)) < (int)sizeof(big));
		assert_int_equal(nodeset_parse(big, nodes, &back, &err), 0);
		assert_memory_equal(&s, &back, sizeof(s));
	}
}

/* groups */

/* The relation of disjoint groups given by group_of: blocked exactly across groups. */
static void assert_groups(const struct partition *p, unsigned int nodes, const int *group_of)
{
	assert_int_equal(p->nodes, nodes);
	for (unsigned int a = 1; a <= nodes; a++)
		for (unsigned int b = 1; b <= nodes; b++)
			assert_int_equal(partition_blocks(p, a, b), group_of[a] != group_of[b]);
}

static void test_groups(void **state)
{
	char *two[] = { "1,2", "3-5" };
	char *isolate[] = { "3" };
	char *dup[] = { "1,2", "2-2" };
	char *all[] = { "all" };
	char *three[] = { "1", "4", "6-7" };
	struct spec_error err;

	(void)state;
	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	assert_groups(&pa, 5, (int[]){ 0, 0, 0, 1, 1, 1 });
	assert_false(partition_is_healed(&pa));

	assert_int_equal(partition_from_groups(&pa, 5, 1, isolate, &err), 0);
	assert_groups(&pa, 5, (int[]){ 0, 1, 1, 0, 1, 1 });

	/* Nodes not named form one more group: 2,3,5 here. */
	assert_int_equal(partition_from_groups(&pa, 7, 3, three, &err), 0);
	assert_groups(&pa, 7, (int[]){ 0, 0, 1, 1, 2, 1, 3, 3 });

	assert_int_equal(partition_from_groups(&pa, 5, 1, all, &err), 0);
	assert_true(partition_is_healed(&pa));

	/* Nodes outside the lab are never touched. */
	assert_int_equal(partition_from_groups(&pa, 5, 1, isolate, &err), 0);
	for (unsigned int a = 0; a < CAPNET_NODE_SLOTS; a++)
		for (unsigned int b = 0; b < CAPNET_NODE_SLOTS; b += 7)
			if (a == 0 || a > 5 || b == 0 || b > 5)
				assert_false(partition_blocks(&pa, a, b));

	/* Errors leave the partition as it was. */
	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	memcpy(&pb, &pa, sizeof(pa));
	expect_fail(partition_from_groups(&pa, 5, 2, dup, &err), &err, "node 2 is in two groups");
	expect_fail(partition_from_groups(&pa, 5, 2, (char *[]){ "1", "" }, &err), &err,
		    "group 2 is empty");
	expect_fail(partition_from_groups(&pa, 5, 2, (char *[]){ "1", NULL }, &err), &err,
		    "group 2 is empty");
	expect_fail(partition_from_groups(&pa, 5, 2, (char *[]){ "1", "6" }, &err), &err,
		    "node 6 is out of range (the lab has 5 nodes)");
	expect_fail(partition_from_groups(&pa, 5, 2, (char *[]){ "all", "3" }, &err), &err,
		    "node 3 is in two groups");
	expect_fail(partition_from_groups(&pa, 5, 0, two, &err), &err,
		    "a partition needs at least one group of nodes");
	expect_fail(partition_from_groups(&pa, 0, 2, two, &err), &err,
		    "a lab has 1 to 1000 nodes, not 0");
	assert_memory_equal(&pa, &pb, sizeof(pa));

	/* The largest lab, every node alone. */
	{
		static char names[CAPNET_MAX_NODES][12];
		static char *each[CAPNET_MAX_NODES];

		for (int i = 0; i < CAPNET_MAX_NODES; i++) {
			snprintf(names[i], sizeof(names[i]), "%d", i + 1);
			each[i] = names[i];
		}
		assert_int_equal(partition_from_groups(&pa, 1000, 1000, each, &err), 0);
		for (unsigned int a = 1; a <= 1000; a += 37)
			for (unsigned int b = 1; b <= 1000; b++)
				assert_int_equal(partition_blocks(&pa, a, b), a != b);
	}
}

/* cuts */

static void test_cut(void **state)
{
	struct node_set from, to;
	struct spec_error err;
	char *two[] = { "1,2", "3-5" };

	(void)state;
	partition_heal(&pa, 5);
	assert_true(partition_is_healed(&pa));
	set_of(&from, 5, "1,2");
	set_of(&to, 5, "3");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	for (unsigned int a = 1; a <= 5; a++)
		for (unsigned int b = 1; b <= 5; b++)
			assert_int_equal(partition_blocks(&pa, a, b), (a == 1 || a == 2) && b == 3);
	/* One way only: 3 still reaches 1 and 2. */
	assert_false(partition_blocks(&pa, 3, 1));
	assert_false(partition_blocks(&pa, 3, 2));

	/* Cuts add up. */
	set_of(&from, 5, "4");
	set_of(&to, 5, "5");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	assert_true(partition_blocks(&pa, 4, 5));
	assert_true(partition_blocks(&pa, 1, 3));
	assert_false(partition_blocks(&pa, 5, 4));

	/* On top of a partition: 1 -> 2 within the first group; the split stays. */
	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	set_of(&from, 5, "1");
	set_of(&to, 5, "2");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	for (unsigned int a = 1; a <= 5; a++)
		for (unsigned int b = 1; b <= 5; b++)
			assert_int_equal(partition_blocks(&pa, a, b),
					 ((a <= 2) != (b <= 2)) || (a == 1 && b == 2));

	/* A cut across groups changes nothing. */
	memcpy(&pb, &pa, sizeof(pa));
	set_of(&from, 5, "1");
	set_of(&to, 5, "4");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	assert_memory_equal(&pa, &pb, sizeof(pa));

	set_of(&from, 5, "1,2");
	set_of(&to, 5, "2,3");
	expect_fail(partition_cut(&pa, &from, &to, &err), &err,
		    "node 2 is on both sides of the cut");
	nodeset_clear(&to);
	expect_fail(partition_cut(&pa, &from, &to, &err), &err,
		    "a cut needs at least one node on each side");
	set_of(&to, 9, "9");
	expect_fail(partition_cut(&pa, &from, &to, &err), &err,
		    "node 9 is out of range (the lab has 5 nodes)");
	assert_memory_equal(&pa, &pb, sizeof(pa));

	assert_false(partition_blocks(&pa, 5000, 1));
	assert_false(partition_blocks(&pa, 1, 5000));
}

/* presets */

static unsigned int sees(const struct partition *p, unsigned int a)
{
	unsigned int n = 0;

	for (unsigned int b = 1; b <= p->nodes; b++)
		n += !partition_blocks(p, a, b);
	return n;
}

static bool is_symmetric(const struct partition *p)
{
	for (unsigned int a = 1; a <= p->nodes; a++)
		for (unsigned int b = 1; b <= p->nodes; b++)
			if (partition_blocks(p, a, b) != partition_blocks(p, b, a))
				return false;
	return true;
}

/* For a relation of mutually blocked groups: the size of the group of node a. */
static void assert_two_sides(const struct partition *p, unsigned int n)
{
	unsigned int small = 0;

	assert_true(is_symmetric(p));
	for (unsigned int a = 1; a <= n; a++)
		for (unsigned int b = 1; b <= n; b++)
			for (unsigned int c = 1; c <= n; c++)
				if (!partition_blocks(p, a, b) && !partition_blocks(p, b, c))
					assert_false(partition_blocks(p, a, c));
	for (unsigned int a = 1; a <= n; a++) {
		unsigned int s = sees(p, a);

		assert_true(s == n / 2 || s == n - n / 2);
		small += s == n / 2;
	}
	/* n even: everyone sees n/2; n odd: floor(n/2) nodes see floor(n/2). */
	assert_int_equal(small, n % 2 ? n / 2 : n);
}

static void check_halves(unsigned int n)
{
	struct spec_error err;

	assert_int_equal(partition_preset(&pa, n, "halves", 99, &err), 0);
	assert_int_equal(pa.nodes, n);
	for (unsigned int a = 1; a <= n; a++)
		for (unsigned int b = 1; b <= n; b++)
			assert_int_equal(partition_blocks(&pa, a, b), (a <= n / 2) != (b <= n / 2));
	/* One node: nothing to split. */
	assert_int_equal(partition_is_healed(&pa), n == 1);
	/* halves ignores the seed. */
	assert_int_equal(partition_preset(&pb, n, "halves", 12345, &err), 0);
	assert_memory_equal(&pa, &pb, sizeof(pa));
}

static void check_random_halves(unsigned int n)
{
	struct spec_error err;
	bool differ = false;

	assert_int_equal(partition_preset(&pa, n, "random-halves", 5, &err), 0);
	assert_two_sides(&pa, n);
	assert_int_equal(partition_preset(&pb, n, "random-halves", 5, &err), 0);
	assert_memory_equal(&pa, &pb, sizeof(pa));
	for (uint64_t seed = 6; seed < 200 && !differ; seed++) {
		assert_int_equal(partition_preset(&pb, n, "random-halves", seed, &err), 0);
		assert_two_sides(&pb, n);
		differ = memcmp(&pa, &pb, sizeof(pa)) != 0;
	}
	/* One or two nodes split only one way. */
	assert_int_equal(differ, n >= 3);
}

static void check_majorities_ring(unsigned int n)
{
	unsigned int majority = n / 2 + 1;
	struct spec_error err;
	bool differ = false;

	assert_int_equal(partition_preset(&pa, n, "majorities-ring", 3, &err), 0);
	assert_true(is_symmetric(&pa));
	if (n <= 3) {
		assert_true(partition_is_healed(&pa));
		return;
	}
	for (unsigned int a = 1; a <= n; a++) {
		unsigned int s = sees(&pa, a);

		assert_true(s >= majority);
		/* An odd-sized arc around each node: one more when the majority is even. */
		assert_int_equal(s, majority % 2 ? majority : majority + 1);
		assert_false(partition_blocks(&pa, a, a));
	}
	/* No two nodes see the same majority. */
	for (unsigned int a = 1; a <= n; a++)
		for (unsigned int b = a + 1; b <= n; b++)
			assert_memory_not_equal(&pa.blocked_to[a], &pa.blocked_to[b],
						sizeof(pa.blocked_to[a]));
	/* A ring: every view is an arc, so each node has exactly two neighbours whose views
	 * differ from its own by one node in and one node out (told apart from the others only
	 * while at least two nodes are out of view). */
	for (unsigned int a = 1; a <= n && n - sees(&pa, 1) >= 2; a++) {
		unsigned int close = 0;

		for (unsigned int b = 1; b <= n; b++) {
			unsigned int diff = 0;

			for (unsigned int x = 1; x <= n; x++)
				diff += partition_blocks(&pa, a, x) != partition_blocks(&pa, b, x);
			close += diff == 2;
		}
		assert_int_equal(close, 2);
	}
	assert_int_equal(partition_preset(&pb, n, "majorities-ring", 3, &err), 0);
	assert_memory_equal(&pa, &pb, sizeof(pa));
	for (uint64_t seed = 4; seed < 100 && !differ; seed++) {
		assert_int_equal(partition_preset(&pb, n, "majorities-ring", seed, &err), 0);
		differ = memcmp(&pa, &pb, sizeof(pa)) != 0;
	}
	/* Even on 4 nodes: the ring order decides which pairs sit opposite. */
	assert_true(differ);
}

static void check_bridge(unsigned int n)
{
	unsigned int half = n / 2, bridge = half + 1;
	struct spec_error err;

	assert_int_equal(partition_preset(&pa, n, "bridge", 0, &err), 0);
	assert_true(is_symmetric(&pa));
	for (unsigned int a = 1; a <= n; a++) {
		for (unsigned int b = 1; b <= n; b++) {
			bool cross = (a <= half && b > bridge) || (b <= half && a > bridge);

			assert_int_equal(partition_blocks(&pa, a, b), cross);
		}
	}
	assert_int_equal(sees(&pa, bridge), n);
	assert_int_equal(partition_is_healed(&pa), n <= 2);
}

static unsigned int isolated_node(const struct partition *p)
{
	unsigned int found = 0, count = 0;

	for (unsigned int a = 1; a <= p->nodes; a++) {
		if (sees(p, a) == 1) {
			found = a;
			count++;
		}
	}
	return count == 1 ? found : 0;
}

static void check_isolate_random(unsigned int n)
{
	struct spec_error err;
	unsigned int lone, hits[8] = { 0 };

	assert_int_equal(partition_preset(&pa, n, "isolate-random", 11, &err), 0);
	if (n == 1) {
		assert_true(partition_is_healed(&pa));
		return;
	}
	if (n == 2) {
		/* Isolating either node gives the same: 1 | 2. */
		assert_true(partition_blocks(&pa, 1, 2) && partition_blocks(&pa, 2, 1));
		return;
	}
	lone = isolated_node(&pa);
	assert_true(lone >= 1 && lone <= n);
	assert_true(is_symmetric(&pa));
	for (unsigned int a = 1; a <= n; a++)
		if (a != lone)
			assert_int_equal(sees(&pa, a), n - 1);
	assert_int_equal(partition_preset(&pb, n, "isolate-random", 11, &err), 0);
	assert_memory_equal(&pa, &pb, sizeof(pa));
	/* Over seeds, every node gets its turn. */
	for (uint64_t seed = 0; seed < 300; seed++) {
		assert_int_equal(partition_preset(&pb, n, "isolate-random", seed, &err), 0);
		hits[isolated_node(&pb)]++;
	}
	assert_int_equal(hits[0], 0);
	for (unsigned int a = 1; a <= n; a++)
		assert_true(hits[a] > 0);
}

static void test_presets_small(void **state)
{
	(void)state;
	for (unsigned int n = 1; n <= 7; n++) {
		check_halves(n);
		check_random_halves(n);
		check_majorities_ring(n);
		check_bridge(n);
		check_isolate_random(n);
	}
}

static void test_presets_examples(void **state)
{
	struct spec_error err;

	(void)state;
	assert_int_equal(partition_preset(&pa, 5, "halves", 0, &err), 0);
	assert_int_equal(partition_format(&pa, text, sizeof(text)), 9);
	assert_string_equal(text, "1,2 | 3-5");
	assert_int_equal(partition_preset(&pa, 5, "bridge", 0, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1,2 -> 4,5; cut 4,5 -> 1,2");
	assert_int_equal(partition_preset(&pa, 6, "bridge", 0, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1-3 -> 5,6; cut 5,6 -> 1-3");
	assert_int_equal(partition_preset(&pa, 3, "bridge", 0, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1 -> 3; cut 3 -> 1");

	for (unsigned int i = 0; partition_preset_name(i); i++)
		assert_int_equal(partition_preset(&pa, 5, partition_preset_name(i), 1, &err), 0);
	assert_string_equal(partition_preset_name(0), "halves");
	assert_string_equal(partition_preset_name(4), "isolate-random");
	assert_null(partition_preset_name(5));

	expect_fail(partition_preset(&pa, 5, "split", 0, &err), &err,
		    "unknown preset \"split\" (presets: halves, random-halves, majorities-ring, "
		    "bridge, isolate-random)");
	expect_fail(partition_preset(&pa, 5, NULL, 0, &err), &err,
		    "unknown preset \"\" (presets: halves, random-halves, majorities-ring, "
		    "bridge, isolate-random)");
	expect_fail(partition_preset(&pa, 0, "halves", 0, &err), &err,
		    "a lab has 1 to 1000 nodes, not 0");
	expect_fail(partition_preset(&pa, 1001, "halves", 0, &err), &err,
		    "a lab has 1 to 1000 nodes, not 1001");
}

static void test_presets_1000(void **state)
{
	unsigned int n = 1000;
	struct spec_error err;

	(void)state;
	check_halves(n);

	assert_int_equal(partition_preset(&pa, n, "random-halves", 42, &err), 0);
	for (unsigned int a = 1; a <= n; a++)
		assert_int_equal(sees(&pa, a), 500);
	assert_true(is_symmetric(&pa));
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 2);

	assert_int_equal(partition_preset(&pa, n, "majorities-ring", 42, &err), 0);
	assert_true(is_symmetric(&pa));
	for (unsigned int a = 1; a <= n; a++)
		assert_int_equal(sees(&pa, a), 501);
	/* Every view differs, so every node needs a group of its own. */
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 1000);

	check_bridge(n);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 3);

	assert_int_equal(partition_preset(&pa, n, "isolate-random", 42, &err), 0);
	assert_true(isolated_node(&pa) != 0);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 2);
}

/* the printed form */

static void assert_round_trip(const struct partition *p)
{
	struct spec_error err = { "" };
	int len = partition_format(p, text, sizeof(text));

	CHECK(len > 0 && len < (int)sizeof(text));
	if (partition_parse(&pb, p->nodes, text, &err))
		fail_msg("cannot parse back \"%.200s\": %s%s", text, err.msg, seed_note());
	CHECK(!memcmp(p, &pb, sizeof(*p)));
}

static void test_format(void **state)
{
	char *two[] = { "1,2", "3-5" };
	char *isolate[] = { "3" };
	struct node_set from, to;
	struct spec_error err;
	char small[8];

	(void)state;
	partition_heal(&pa, 5);
	assert_int_equal(partition_format(&pa, text, sizeof(text)), 7);
	assert_string_equal(text, "healthy");

	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "1,2 | 3-5");

	assert_int_equal(partition_from_groups(&pa, 5, 1, isolate, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "1,2,4,5 | 3");

	partition_heal(&pa, 5);
	set_of(&from, 5, "1");
	set_of(&to, 5, "3");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1 -> 3");

	/* Groups, then what is cut inside them. */
	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	set_of(&from, 5, "1");
	set_of(&to, 5, "2");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	set_of(&from, 5, "3,4");
	set_of(&to, 5, "5");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "1,2 | 3-5; cut 1 -> 2; cut 3,4 -> 5");
	assert_round_trip(&pa);

	/* A one-way cut between groups that can still reach each other the other way. */
	partition_heal(&pa, 4);
	set_of(&from, 4, "1,2");
	set_of(&to, 4, "3,4");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1,2 -> 3,4");

	/* Sources that differ elsewhere but cut the same nodes share one cut: 1 and 4 both cut
	 * 3, while 2 cuts 1 (so 1 and 4 are not alike). */
	partition_heal(&pa, 4);
	set_of(&from, 4, "1");
	set_of(&to, 4, "3");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	set_of(&from, 4, "2");
	set_of(&to, 4, "1");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	set_of(&from, 4, "4");
	set_of(&to, 4, "3");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1,4 -> 3; cut 2 -> 1");
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 4);
	assert_round_trip(&pa);

	/* A majority ring of 5 in order 1..5 would read "cut 1 -> 3,4; ...": each node's
	 * nonneighbours. Whatever the seed, 5 cuts of 2 nodes each. */
	assert_int_equal(partition_preset(&pa, 5, "majorities-ring", 8, &err), 0);
	partition_format(&pa, text, sizeof(text));
	{
		unsigned int cuts = 0;

		for (const char *s = text; (s = strstr(s, "cut ")); s++)
			cuts++;
		assert_int_equal(cuts, 5);
	}
	assert_round_trip(&pa);

	/* snprintf rules. */
	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	assert_int_equal(partition_format(&pa, small, sizeof(small)), 9);
	assert_string_equal(small, "1,2 | 3");
	assert_int_equal(partition_format(&pa, NULL, 0), 9);
	partition_heal(&pa, 5);
	assert_int_equal(partition_format(&pa, small, 3), 7);
	assert_string_equal(small, "he");

	/* What no partition can mean is refused, not printed. */
	partition_heal(&pa, 0);
	assert_int_equal(partition_format(&pa, text, sizeof(text)), -EINVAL);
	partition_heal(&pa, 5);
	nodeset_add(&pa.blocked_to[2], 2);
	assert_int_equal(partition_format(&pa, text, sizeof(text)), -EINVAL);
}

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "", "empty partition (write e.g. \"healthy\" or \"1,2 | 3-5\")" },
		{ "  ", "empty partition (write e.g. \"healthy\" or \"1,2 | 3-5\")" },
		{ "healthy; cut 1 -> 2", "\"healthy\" stands alone" },
		{ "cut 1 -> 2; healthy", "\"healthy\" stands alone" },
		{ "cut 1 4", "bad cut \"cut 1 4\" (write: cut FROM -> TO)" },
		{ "cut 1,2 -> 2", "node 2 is on both sides of the cut" },
		{ "cut 1 -> ", "empty node list" },
		{ "cut 1 -> 9", "node 9 is out of range (the lab has 5 nodes)" },
		{ "1,2 | 2,3", "node 2 is in two groups" },
		{ "1,2 | | 3", "group 2 is empty" },
		{ "1 | 2; 3 | 4", "\"3 | 4\" is not a cut (groups come first, then cuts)" },
		{ "cut 1 -> 2;", "empty clause in partition \"cut 1 -> 2;\"" },
		{ "1,2;;cut 1 -> 2", "empty clause in partition \"1,2;;cut 1 -> 2\"" },
		{ "cuts 1 -> 2", "\"cuts 1 -> 2\" is not a cut (write: cut FROM -> TO)" },
		{ "1,2 | 3-5; 4 -> 5", "\"4 -> 5\" is not a cut (write: cut FROM -> TO)" },
	};
	struct spec_error err;

	(void)state;
	assert_int_equal(partition_parse(&pa, 5, "healthy", &err), 0);
	assert_true(partition_is_healed(&pa));
	assert_int_equal(pa.nodes, 5);

	assert_int_equal(partition_parse(&pa, 5, " 1,2 |3-5 ;  cut 1->2 ", &err), 0);
	for (unsigned int a = 1; a <= 5; a++)
		for (unsigned int b = 1; b <= 5; b++)
			assert_int_equal(partition_blocks(&pa, a, b),
					 ((a <= 2) != (b <= 2)) || (a == 1 && b == 2));
	/* As on the command line, nodes not named form one more group. */
	assert_int_equal(partition_parse(&pa, 5, "3", &err), 0);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "1,2,4,5 | 3");

	memcpy(&pb, &pa, sizeof(pa));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_fail(partition_parse(&pa, 5, bad[i].text, &err), &err, bad[i].msg);
		assert_memory_equal(&pa, &pb, sizeof(pa));
	}
	expect_fail(partition_parse(&pa, 5, NULL, &err), &err,
		    "empty partition (write e.g. \"healthy\" or \"1,2 | 3-5\")");
	expect_fail(partition_parse(&pa, 0, "healthy", &err), &err,
		    "a lab has 1 to 1000 nodes, not 0");
}

/* A random relation: nodes draw one of `kinds` kinds, and a kind blocks another kind with
 * probability `pct`%, so nodes of one kind usually end up in one group, but not always (a kind
 * that blocks itself splits into single nodes, as nobody is cut from itself). */
static void random_relation(struct partition *p, unsigned int n, unsigned int kinds,
			    unsigned int pct, uint64_t *seed)
{
	static bool kind_blocks[64][64];
	unsigned int kind[CAPNET_NODE_SLOTS];

	for (unsigned int a = 0; a < kinds; a++)
		for (unsigned int b = 0; b < kinds; b++)
			kind_blocks[a][b] = test_rng(seed) % 100 < pct;
	for (unsigned int a = 1; a <= n; a++)
		kind[a] = (unsigned int)(test_rng(seed) % kinds);
	partition_heal(p, n);
	for (unsigned int a = 1; a <= n; a++)
		for (unsigned int b = 1; b <= n; b++)
			if (a != b && kind_blocks[kind[a]][kind[b]])
				nodeset_add(&p->blocked_to[a], b);
}

/* Every pair is decided by the policy as by the partition, and expanding gives it back. */
static void assert_exact(const struct partition *p, const struct policy *q)
{
	struct spec_error err;

	CHECK(q->nodes == p->nodes);
	CHECK(q->groups >= 1 && q->groups <= p->nodes);
	for (unsigned int a = 1; a <= p->nodes; a++) {
		CHECK(q->group_of[a] < q->groups);
		for (unsigned int b = 1; b <= p->nodes; b++)
			CHECK(partition_blocks(p, a, b) ==
			      !policy_reaches(q, q->group_of[a], q->group_of[b]));
	}
	CHECK(policy_expand(q, &pb, &err) == 0);
	CHECK(!memcmp(p, &pb, sizeof(*p)));
}

/* Group ids are handed out in order of first node. */
static void assert_group_order(const struct policy *q)
{
	unsigned int next = 0;

	for (unsigned int a = 1; a <= q->nodes; a++) {
		CHECK(q->group_of[a] <= next);
		if (q->group_of[a] == next)
			next++;
	}
	CHECK(next == q->groups);
}

/* Fewest groups: two nodes share a group exactly when nobody can tell them apart. */
static void assert_minimal(const struct partition *p, const struct policy *q)
{
	for (unsigned int a = 1; a <= p->nodes; a++) {
		for (unsigned int b = a + 1; b <= p->nodes; b++) {
			bool same = true;

			for (unsigned int x = 1; x <= p->nodes && same; x++)
				same = partition_blocks(p, a, x) == partition_blocks(p, b, x) &&
				       partition_blocks(p, x, a) == partition_blocks(p, x, b);
			CHECK((q->group_of[a] == q->group_of[b]) == same);
		}
	}
}

static void test_compile_counts(void **state)
{
	struct node_set from, to;
	struct spec_error err;
	char *two[] = { "1,2", "3-5" };

	(void)state;
	partition_heal(&pa, 5);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 1);
	assert_true(policy_reaches(&pol, 0, 0));
	assert_false(policy_reaches(&pol, 0, 1));
	assert_exact(&pa, &pol);

	assert_int_equal(partition_preset(&pa, 5, "halves", 0, &err), 0);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 2);
	assert_true(policy_reaches(&pol, 0, 0) && policy_reaches(&pol, 1, 1));
	assert_false(policy_reaches(&pol, 0, 1) || policy_reaches(&pol, 1, 0));
	assert_exact(&pa, &pol);

	/* One way 1 -> 3: 1 and 3 each differ from the rest, who stay together. */
	partition_heal(&pa, 5);
	set_of(&from, 5, "1");
	set_of(&to, 5, "3");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 3);
	assert_int_equal(pol.group_of[1], 0);
	assert_int_equal(pol.group_of[2], 1);
	assert_int_equal(pol.group_of[3], 2);
	assert_int_equal(pol.group_of[4], 1);
	assert_int_equal(pol.group_of[5], 1);
	assert_false(policy_reaches(&pol, 0, 2));
	assert_true(policy_reaches(&pol, 2, 0));
	assert_exact(&pa, &pol);

	/* Within a group, 1 -> 2 splits both off. */
	assert_int_equal(partition_from_groups(&pa, 5, 2, two, &err), 0);
	set_of(&from, 5, "1");
	set_of(&to, 5, "2");
	assert_int_equal(partition_cut(&pa, &from, &to, &err), 0);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 3);
	assert_exact(&pa, &pol);
	assert_minimal(&pa, &pol);

	assert_int_equal(partition_preset(&pa, 5, "bridge", 0, &err), 0);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 3);
	assert_exact(&pa, &pol);

	for (unsigned int n = 4; n <= 7; n++) {
		assert_int_equal(partition_preset(&pa, n, "majorities-ring", n, &err), 0);
		assert_int_equal(policy_compile(&pa, &pol, &err), 0);
		assert_int_equal(pol.groups, n);
		assert_exact(&pa, &pol);
	}

	/* One node. */
	partition_heal(&pa, 1);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 1);
	assert_exact(&pa, &pol);
}

static void test_compile_random(void **state)
{
	(void)state;
	for (unsigned int n = 1; n <= 64; n++) {
		for (int round = 0; round < 6; round++) {
			uint64_t s = 0x5eed0000u + n * 16 + (unsigned int)round;
			unsigned int kinds, pct;
			struct spec_error err = { "" };

			current_seed = s;
			kinds = 1 + (unsigned int)(test_rng(&s) % (round < 3 ? 4 : 64));
			pct = (unsigned int)(test_rng(&s) % 101);
			random_relation(&pa, n, kinds, pct, &s);
			CHECK(policy_compile(&pa, &pol, &err) == 0);
			assert_exact(&pa, &pol);
			assert_group_order(&pol);
			assert_minimal(&pa, &pol);
			assert_round_trip(&pa);
		}
	}
	current_seed = 0;
}

static void test_compile_1000(void **state)
{
	uint64_t seed = 0x1000;
	struct spec_error err;

	(void)state;
	/* Few kinds: a handful of groups. */
	random_relation(&pa, 1000, 12, 40, &seed);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_true(pol.groups <= 1000);
	assert_exact(&pa, &pol);
	assert_group_order(&pol);
	assert_round_trip(&pa);
	/* Different groups really differ: compare the first node of each. */
	{
		unsigned int first[CAPNET_MAX_GROUPS] = { 0 };

		for (unsigned int a = 1; a <= 1000; a++)
			if (!first[pol.group_of[a]])
				first[pol.group_of[a]] = a;
		for (unsigned int g = 0; g < pol.groups; g++) {
			for (unsigned int h = g + 1; h < pol.groups; h++) {
				bool same = true;

				for (unsigned int x = 1; x <= 1000 && same; x++)
					same = partition_blocks(&pa, first[g], x) ==
						       partition_blocks(&pa, first[h], x) &&
					       partition_blocks(&pa, x, first[g]) ==
						       partition_blocks(&pa, x, first[h]);
				assert_false(same);
			}
		}
	}

	/* Many kinds, each also cutting its successor: mostly single-node groups. */
	random_relation(&pa, 1000, 64, 50, &seed);
	for (unsigned int a = 1; a <= 1000; a++)
		nodeset_add(&pa.blocked_to[a], a % 1000 + 1);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_exact(&pa, &pol);
	assert_group_order(&pol);
	assert_round_trip(&pa);

	/* Every node its own view: 1000 groups, still within the filter's 1024 (a lab can never
	 * need more groups than it has nodes, so "too many groups" cannot happen). */
	assert_int_equal(partition_preset(&pa, 1000, "majorities-ring", 9, &err), 0);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	assert_int_equal(pol.groups, 1000);
	assert_exact(&pa, &pol);

	assert_round_trip(&pa);
	assert_int_equal(partition_preset(&pa, 1000, "bridge", 9, &err), 0);
	assert_round_trip(&pa);
	partition_format(&pa, text, sizeof(text));
	assert_string_equal(text, "cut 1-500 -> 502-1000; cut 502-1000 -> 1-500");
}

static void test_compile_errors(void **state)
{
	struct spec_error err;

	(void)state;
	partition_heal(&pa, 0);
	expect_fail(policy_compile(&pa, &pol, &err), &err, "a lab has 1 to 1000 nodes, not 0");
	partition_heal(&pa, 5);
	nodeset_add(&pa.blocked_to[3], 3);
	expect_fail(policy_compile(&pa, &pol, &err), &err, "the partition cuts node 3 from itself");
	partition_heal(&pa, 5);
	nodeset_add(&pa.blocked_to[2], 6);
	expect_fail(policy_compile(&pa, &pol, &err), &err,
		    "the partition cuts node 2 from node 6, outside the lab of 5 nodes");
	partition_heal(&pa, 5);
	nodeset_add(&pa.blocked_to[7], 1);
	expect_fail(policy_compile(&pa, &pol, &err), &err,
		    "the partition cuts node 7, outside the lab of 5 nodes");
	partition_heal(&pa, 5);
	nodeset_add(&pa.blocked_to[0], 1);
	expect_fail(policy_compile(&pa, &pol, &err), &err,
		    "the partition cuts node 0, outside the lab of 5 nodes");
}

static void test_expand_errors(void **state)
{
	struct spec_error err;

	(void)state;
	partition_heal(&pa, 3);
	assert_int_equal(policy_compile(&pa, &pol, &err), 0);
	partition_heal(&pb, 7);
	pol.nodes = 0;
	expect_fail(policy_expand(&pol, &pb, &err), &err,
		    "the policy has 0 nodes (a lab has 1 to 1000)");
	pol.nodes = 1001;
	expect_fail(policy_expand(&pol, &pb, &err), &err,
		    "the policy has 1001 nodes (a lab has 1 to 1000)");
	pol.nodes = 3;
	pol.groups = 0;
	expect_fail(policy_expand(&pol, &pb, &err), &err,
		    "the policy has 0 groups (1 to 1024 are possible)");
	pol.groups = 1025;
	expect_fail(policy_expand(&pol, &pb, &err), &err,
		    "the policy has 1025 groups (1 to 1024 are possible)");
	pol.groups = 1;
	pol.group_of[2] = 1;
	expect_fail(policy_expand(&pol, &pb, &err), &err,
		    "node 2 is in group 1, but the policy has 1 group");
	pol.group_of[2] = 0;
	pol.reach[0] = 0;
	expect_fail(policy_expand(&pol, &pb, &err), &err, "group 0 (node 1) cannot reach itself");
	/* Failures leave the output alone. */
	assert_int_equal(pb.nodes, 7);

	assert_false(policy_reaches(&pol, CAPNET_MAX_GROUPS, 0));
	assert_false(policy_reaches(&pol, 0, CAPNET_MAX_GROUPS));
}

/* percentages */

static void test_percent(void **state)
{
	static const struct {
		const char *text;
		uint32_t ppm;
	} good[] = {
		{ "20%", 200000 },
		{ "20", 200000 },
		{ "0", 0 },
		{ "0%", 0 },
		{ "100%", 1000000 },
		{ "100", 1000000 },
		{ "0.5%", 5000 },
		{ "0.0001%", 1 },
		{ ".5", 5000 },
		{ "5.", 50000 },
		{ "12.3456", 123456 },
		{ "1.50000%", 15000 },
		{ "100.0000%", 1000000 },
		{ "007%", 70000 },
	};
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "", "empty percentage" },
		{ "-1%", "negative percentage \"-1%\"" },
		{ "-0", "negative percentage \"-0\"" },
		{ "101%", "\"101%\" is over 100%" },
		{ "100.0001%", "\"100.0001%\" is over 100%" },
		{ "99999999999999999999999%", "\"99999999999999999999999%\" is over 100%" },
		{ "0.00001%", "\"0.00001%\" is finer than 0.0001% (1 ppm)" },
		{ "1.234567", "\"1.234567\" is finer than 0.0001% (1 ppm)" },
		{ "%", "\"%\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ ".", "\".\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ "abc", "\"abc\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ "20%%", "\"20%%\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ "20 %", "\"20 %\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ " 20%", "\" 20%\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ "1.2.3", "\"1.2.3\" is not a percentage (write e.g. 20%, 0.5%)" },
		{ "1e3", "\"1e3\" is not a percentage (write e.g. 20%, 0.5%)" },
	};
	struct spec_error err;
	uint32_t ppm;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ppm = 12345678;
		assert_int_equal(percent_parse_ppm(good[i].text, &ppm, &err), 0);
		assert_int_equal(ppm, good[i].ppm);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ppm = 7;
		expect_fail(percent_parse_ppm(bad[i].text, &ppm, &err), &err, bad[i].msg);
		assert_int_equal(ppm, 7);
	}
	expect_fail(percent_parse_ppm(NULL, &ppm, &err), &err, "empty percentage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodeset_parse_good),
		cmocka_unit_test(test_nodeset_parse_errors),
		cmocka_unit_test(test_nodeset_format),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_presets_small),
		cmocka_unit_test(test_presets_examples),
		cmocka_unit_test(test_presets_1000),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_compile_counts),
		cmocka_unit_test(test_compile_random),
		cmocka_unit_test(test_compile_1000),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_expand_errors),
		cmocka_unit_test(test_percent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
