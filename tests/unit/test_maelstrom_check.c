// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the Maelstrom workload checkers on hand-made histories: each valid, and each
 * kind of violation with its evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/check/maelstrom_check.h"

static struct mael_op write_op(uint64_t p, enum mael_outcome o, const char *arg, int64_t delta)
{
	return (struct mael_op){ .process = p, .outcome = o, .arg = arg, .delta = delta };
}

static struct mael_op final_read(unsigned int node, const char **elements, size_t n,
				 const char *result)
{
	return (struct mael_op){ .node = node,
				 .outcome = MAEL_OK,
				 .read = true,
				 .final = true,
				 .elements = elements,
				 .n_elements = n,
				 .result = result };
}

static void test_names(void **state)
{
	(void)state;
	for (int w = 0; w < MAEL_WORKLOADS; w++)
		assert_int_equal(mael_workload_parse(mael_workload_name(w)), w);
	assert_int_equal(mael_workload_parse("lin-kv-typo"), -1);
}

static void test_echo(void **state)
{
	struct mael_op ops[2] = { write_op(0, MAEL_OK, "\"a\"", 0),
				  write_op(1, MAEL_OK, "\"b\"", 0) };
	struct mael_result r;

	(void)state;
	ops[0].result = "\"a\"";
	ops[1].result = "\"b\"";
	assert_int_equal(mael_check(MAEL_ECHO, ops, 2, &r), 0);
	assert_true(r.valid);
	ops[1].result = "\"a\"";
	assert_int_equal(mael_check(MAEL_ECHO, ops, 2, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.bad_echoes, 1);
	assert_non_null(strstr(r.evidence[0], "sent \"b\" to n0 and got back \"a\""));
}

static void test_unique_ids(void **state)
{
	struct mael_op ops[3] = { write_op(0, MAEL_OK, NULL, 0), write_op(1, MAEL_OK, NULL, 0),
				  write_op(2, MAEL_INFO, NULL, 0) };
	struct mael_result r;

	(void)state;
	ops[0].result = "\"n0-1\"";
	ops[1].result = "\"n1-1\"";
	assert_int_equal(mael_check(MAEL_UNIQUE_IDS, ops, 3, &r), 0);
	assert_true(r.valid);
	ops[1].result = "\"n0-1\"";
	assert_int_equal(mael_check(MAEL_UNIQUE_IDS, ops, 3, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.duplicates, 1);
	assert_non_null(strstr(r.evidence[0], "id \"n0-1\" was generated more than once"));
}

static void test_broadcast(void **state)
{
	const char *all[] = { "1", "2", "3" }, *short_read[] = { "1", "3" },
		   *extra[] = { "1", "2", "3", "9" };
	struct mael_op ops[5] = { write_op(0, MAEL_OK, "1", 0), write_op(1, MAEL_OK, "2", 0),
				  write_op(2, MAEL_INFO, "3", 0) };
	struct mael_result r;

	(void)state;
	ops[3] = final_read(0, all, 3, NULL);
	ops[4] = final_read(1, all + 0, 2, NULL); /* 3 was of unknown outcome: may be missing */
	assert_int_equal(mael_check(MAEL_BROADCAST, ops, 5, &r), 0);
	assert_true(r.valid);
	ops[4] = final_read(1, short_read, 2, NULL); /* 2 acknowledged, missing */
	assert_int_equal(mael_check(MAEL_BROADCAST, ops, 5, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.lost, 1);
	assert_non_null(strstr(r.evidence[0], "n1's final read lacks 2, acknowledged"));
	ops[4] = final_read(1, extra, 4, NULL);
	assert_int_equal(mael_check(MAEL_G_SET, ops, 5, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.unexpected, 1);
	/* No final read at all proves nothing. */
	assert_int_equal(mael_check(MAEL_BROADCAST, ops, 3, &r), 0);
	assert_false(r.valid);
}

static void test_counters(void **state)
{
	struct mael_op ops[5] = { write_op(0, MAEL_OK, NULL, 3), write_op(1, MAEL_OK, NULL, 4),
				  write_op(2, MAEL_INFO, NULL, 2),
				  write_op(3, MAEL_FAIL, NULL, 100) };
	struct mael_result r;

	(void)state;
	ops[4] = final_read(0, NULL, 0, "7");
	assert_int_equal(mael_check(MAEL_G_COUNTER, ops, 5, &r), 0);
	assert_true(r.valid);
	ops[4].result = "9"; /* with the add of unknown outcome */
	assert_int_equal(mael_check(MAEL_G_COUNTER, ops, 5, &r), 0);
	assert_true(r.valid);
	ops[4].result = "6";
	assert_int_equal(mael_check(MAEL_G_COUNTER, ops, 5, &r), 0);
	assert_false(r.valid);
	assert_non_null(strstr(r.evidence[0], "final read is 6; acknowledged adds sum to 7"));
	/* pn-counter: a decrement of unknown outcome lowers the floor. */
	ops[2].delta = -2;
	ops[4].result = "5";
	assert_int_equal(mael_check(MAEL_PN_COUNTER, ops, 5, &r), 0);
	assert_true(r.valid);
	ops[4].result = "x";
	assert_int_equal(mael_check(MAEL_PN_COUNTER, ops, 5, &r), 0);
	assert_false(r.valid);
}

static struct mael_op kv(uint64_t p, char f, const char *key, const char *a, const char *b,
			 uint64_t from_ms, uint64_t to_ms, enum mael_outcome o)
{
	return (struct mael_op){ .process = p,
				 .outcome = o,
				 .read = f == 'r',
				 .cas = f == 'c',
				 .key = key,
				 .arg = f == 'r' ? NULL : a,
				 .to = f == 'c' ? b : NULL,
				 .result = f == 'r' ? a : NULL,
				 .invoke_ns = from_ms * 1000000,
				 .complete_ns = to_ms * 1000000 };
}

static void test_lin_kv(void **state)
{
	struct mael_result r;
	/* A write, a cas on it, reads that see each in turn; a read of a missing key is null. */
	struct mael_op good[] = {
		kv(0, 'r', "1", NULL, NULL, 0, 1, MAEL_OK),
		kv(0, 'w', "1", "3", NULL, 2, 3, MAEL_OK),
		kv(1, 'r', "1", "3", NULL, 4, 5, MAEL_OK),
		kv(1, 'c', "1", "3", "4", 6, 7, MAEL_OK),
		kv(0, 'r', "1", "4", NULL, 8, 9, MAEL_OK),
		kv(2, 'c', "1", "0", "2", 10, 11, MAEL_FAIL),
		kv(3, 'w', "1", "2", NULL, 12, 13, MAEL_INFO),
		kv(0, 'r', "1", "2", NULL, 14, 15, MAEL_OK),
		kv(0, 'w', "2", "1", NULL, 1, 2, MAEL_OK),
	};
	/* A stale read: 4 was read after the cas made it 4... then 3 again. */
	struct mael_op stale[] = {
		kv(0, 'w', "1", "3", NULL, 0, 1, MAEL_OK),
		kv(1, 'c', "1", "3", "4", 2, 3, MAEL_OK),
		kv(2, 'r', "1", "3", NULL, 4, 5, MAEL_OK),
	};

	(void)state;
	assert_int_equal(mael_check(MAEL_LIN_KV, good, sizeof(good) / sizeof(good[0]), &r), 0);
	assert_true(r.valid);
	assert_non_null(strstr(r.summary, "linearizable"));
	assert_non_null(strstr(r.summary, "2 keys"));
	assert_int_equal(mael_check(MAEL_LIN_KV, stale, 3, &r), 0);
	assert_false(r.valid);
	assert_non_null(strstr(r.summary, "not linearizable"));
	assert_non_null(strstr(r.evidence[0], "key 1"));
	assert_non_null(strstr(r.evidence[1], "process 2's read cannot be placed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	   cmocka_unit_test(test_echo),
		cmocka_unit_test(test_unique_ids), cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_counters),   cmocka_unit_test(test_lin_kv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
