// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the nemesis: its words parsed and refused, and its schedule drawn the same for
 * the same seed and lab, each fault healed before the next, victims inside the lab. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netem/script/nemesis.h"

static int parse(const char *const *words, int n, struct nemesis_plan *p, char *err)
{
	return nemesis_parse(n, (char *const *)words, p, err, 256);
}

static void test_parse(void **state)
{
	const char *good[] = { "partition,kill", "--interval", "2s",	 "--duration", "10s",
			       "--seed",	 "42",	       "--name", "etcd" };
	const char *unknown[] = { "partition,meteor", "--interval", "1s" };
	const char *finer[] = { "clock,corrupt", "--interval", "1s" };
	const char *no_interval[] = { "loss" };
	const char *bad_seed[] = { "loss", "--interval", "1s", "--seed", "-3" };
	struct nemesis_plan p;
	char err[256];

	(void)state;
	assert_int_equal(parse(good, 9, &p, err), 0);
	assert_int_equal(p.kinds, 1u << NEMESIS_PARTITION | 1u << NEMESIS_KILL);
	assert_int_equal(p.interval_ms, 2000);
	assert_int_equal(p.duration_ms, 10000);
	assert_true(p.has_seed && p.seed == 42);
	assert_string_equal(p.name, "etcd");
	assert_int_equal(parse(unknown, 3, &p, err), -EINVAL);
	assert_non_null(strstr(err, "unknown kind \"meteor\": one of partition, cut, isolate"));
	assert_int_equal(parse(finer, 3, &p, err), 0);
	assert_int_equal(p.kinds, 1u << NEMESIS_CLOCK | 1u << NEMESIS_CORRUPT);
	assert_int_equal(parse(no_interval, 1, &p, err), -EINVAL);
	assert_non_null(strstr(err, "--interval"));
	assert_int_equal(parse(bad_seed, 5, &p, err), -EINVAL);
}

static void test_schedule(void **state)
{
	struct nemesis_plan p = { .kinds = (1u << NEMESIS_PAUSE) - 1, /* all but kill, pause */
				  .interval_ms = 500,
				  .duration_ms = 10000,
				  .seed = 7 };
	struct nemesis_step a[64], b[64];
	size_t na, nb;
	char err[256];
	bool differs = false;

	(void)state;
	p.kinds &= ~(1u << NEMESIS_KILL);
	assert_int_equal(nemesis_schedule(&p, 5, a, 64, &na, err, sizeof(err)), 0);
	assert_int_equal(nemesis_schedule(&p, 5, b, 64, &nb, err, sizeof(err)), 0);
	/* A fault at 0, 1 s, 2 s ... 9 s, each healed half a second later. */
	assert_int_equal(na, 20);
	assert_int_equal(nb, na);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].command, b[i].command);
		assert_int_equal(a[i].at_ms, (long)(i / 2) * 1000 + (i % 2) * 500);
		assert_int_equal(a[i].heal, (int)(i % 2));
		if (a[i].heal)
			assert_int_equal(strncmp(a[i].command, "heal", 4), 0);
		else
			assert_int_not_equal(strncmp(a[i].command, "heal", 4), 0);
	}
	p.seed = 8;
	assert_int_equal(nemesis_schedule(&p, 5, b, 64, &nb, err, sizeof(err)), 0);
	for (size_t i = 0; i < na; i++)
		differs |= strcmp(a[i].command, b[i].command) != 0;
	assert_true(differs);
	/* Too small a buffer is said, not overrun. */
	assert_int_equal(nemesis_schedule(&p, 5, b, 3, &nb, err, sizeof(err)), -ENOSPC);
}

/* Clock skews and corruption: each healed by its own command, a skew on a minority. */
static void test_clock_and_corrupt(void **state)
{
	struct nemesis_plan p = { .kinds = 1u << NEMESIS_CLOCK | 1u << NEMESIS_CORRUPT,
				  .interval_ms = 100,
				  .duration_ms = 10000,
				  .seed = 11 };
	static struct nemesis_step s[128];
	unsigned int clocks = 0, corrupts = 0;
	char nodes[64], heal[NEMESIS_COMMAND_MAX];
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(nemesis_schedule(&p, 5, s, 128, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 100);
	for (size_t i = 0; i < n; i += 2) {
		if (!strncmp(s[i].command, "clock ", 6)) {
			clocks++;
			assert_int_equal(sscanf(s[i].command, "clock %63s --offset", nodes), 1);
			/* At most two of five nodes: a minority. */
			assert_true(strlen(nodes) <= 3);
			assert_true(strstr(s[i].command, "--offset +") ||
				    strstr(s[i].command, "--offset -"));
			snprintf(heal, sizeof(heal), "clock %s --reset", nodes);
			assert_string_equal(s[i + 1].command, heal);
		} else {
			corrupts++;
			assert_true(!strncmp(s[i].command, "link all all --corrupt ", 23) ||
				    !strncmp(s[i].command, "link all all --corrupt-payload ", 31));
			assert_string_equal(s[i + 1].command, "heal --links");
		}
	}
	assert_true(clocks > 10 && corrupts > 10);
}

static void test_victims(void **state)
{
	struct nemesis_plan p = { .kinds = 1u << NEMESIS_KILL | 1u << NEMESIS_ISOLATE,
				  .interval_ms = 100,
				  .duration_ms = 20000,
				  .seed = 3,
				  .name = "redis" };
	static struct nemesis_step s[256];
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(nemesis_schedule(&p, 3, s, 256, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 200);
	for (size_t i = 0; i < n; i += 2) {
		unsigned int node;

		if (sscanf(s[i].command, "kill %u --name redis", &node) == 1) {
			/* A minority of three is one node, restarted at the heal. */
			assert_in_range(node, 1, 3);
			assert_null(strchr(s[i].command + 5, ','));
			assert_non_null(strstr(s[i + 1].command, "restart"));
		} else {
			assert_int_equal(sscanf(s[i].command, "partition %u", &node), 1);
			assert_in_range(node, 1, 3);
		}
	}
	p.kinds = 1u << NEMESIS_CUT;
	assert_int_equal(nemesis_schedule(&p, 1, s, 256, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "two nodes or more"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_clock_and_corrupt),
		cmocka_unit_test(test_victims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
