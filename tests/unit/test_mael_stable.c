// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of broadcast's stable latencies and stale count on a hand-made history whose
 * answers are known: a message a read lacked until 110 ms, one every read had, one a final read
 * lacks, and reads begun before a broadcast that do not count against it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netem/maelstrom/stable.h"

#define MS 1000000ull

static struct mael_op broadcast(const char *value, uint64_t invoke_ms, uint64_t ack_ms)
{
	return (struct mael_op){ .outcome = MAEL_OK,
				 .arg = value,
				 .invoke_ns = invoke_ms * MS,
				 .complete_ns = ack_ms * MS };
}

static struct mael_op read_op(const char **values, size_t n, uint64_t invoke_ms,
			      uint64_t complete_ms, bool final)
{
	return (struct mael_op){ .outcome = MAEL_OK,
				 .read = true,
				 .final = final,
				 .elements = values,
				 .n_elements = n,
				 .invoke_ns = invoke_ms * MS,
				 .complete_ns = complete_ms * MS };
}

static void test_latencies_and_stale(void **state)
{
	static const char *none[] = { NULL }, *two[] = { "2" }, *one_two[] = { "1", "2" },
			  *all[] = { "1", "2", "3" };
	struct mael_op ops[] = {
		read_op(none, 0, 0, 5, false), /* before every broadcast: counts against none */
		broadcast("1", 10, 11),
		broadcast("2", 50, 51),
		read_op(two, 1, 100, 110, false), /* lacks 1, acknowledged before: stale */
		read_op(one_two, 2, 200, 210, false),
		broadcast("3", 300, 301),
		read_op(all, 3, 400, 401, true),
		read_op(one_two, 2, 400, 402, true), /* a final read without 3: never stable */
		{ .outcome = MAEL_INFO, .arg = "4", .invoke_ns = 350 * MS }, /* not acknowledged */
	};
	struct mael_stable s;

	(void)state;
	assert_int_equal(mael_stable_latency(ops, sizeof(ops) / sizeof(ops[0]), &s), 0);
	assert_int_equal(s.messages, 3);
	assert_int_equal(s.stable, 2);
	assert_int_equal(s.never_stable, 1);
	assert_int_equal(s.stale, 2); /* 1, and 3 in the last final read */
	/* 1: from 10 ms to the end of the read that lacked it, 110 ms: 100 ms. 2: 0. */
	assert_true(s.q0 == 0);
	assert_true(s.q50 == 0);
	assert_true(s.max == 100);
}

static void test_empty(void **state)
{
	struct mael_stable s;

	(void)state;
	assert_int_equal(mael_stable_latency(NULL, 0, &s), 0);
	assert_int_equal(s.messages, 0);
	assert_true(s.max == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latencies_and_stale),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
