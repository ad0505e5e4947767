// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the kafka checker: a clean history, then each anomaly alone, with its
 * evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/check/kafka_check.h"

static struct kafka_op send_op(uint64_t p, const char *key, const char *msg, int64_t offset,
			       uint64_t t)
{
	return (struct kafka_op){ .process = p,
				  .f = KAFKA_SEND,
				  .outcome = KAFKA_OK,
				  .key = key,
				  .msg = msg,
				  .offset = offset,
				  .invoke_ns = t,
				  .complete_ns = t + 1 };
}

static struct kafka_op keys_op(uint64_t p, enum kafka_f f, const struct kafka_key *keys, size_t n,
			       uint64_t t)
{
	return (struct kafka_op){ .process = p,
				  .f = f,
				  .outcome = KAFKA_OK,
				  .keys = keys,
				  .n_keys = n,
				  .invoke_ns = t,
				  .complete_ns = t + 1 };
}

static const struct kafka_pair k1_all[] = { { 0, "10" }, { 1, "11" }, { 2, "12" } };

static void test_clean(void **state)
{
	const struct kafka_key poll_all[] = {
		{ .key = "k1", .offset = 0, .pairs = k1_all, .n_pairs = 3 }
	};
	const struct kafka_key commit[] = { { .key = "k1", .offset = 2 } };
	const struct kafka_key listed[] = { { .key = "k1", .offset = 2 } };
	struct kafka_op ops[] = {
		send_op(1, "k1", "10", 0, 0),		send_op(1, "k1", "11", 1, 2),
		send_op(2, "k1", "12", 2, 4),		keys_op(3, KAFKA_POLL, poll_all, 1, 6),
		keys_op(3, KAFKA_COMMIT, commit, 1, 8), keys_op(4, KAFKA_LIST, listed, 1, 10),
	};
	struct kafka_result r;

	(void)state;
	assert_int_equal(kafka_check(ops, sizeof(ops) / sizeof(ops[0]), &r), 0);
	assert_true(r.valid);
	assert_int_equal(r.acknowledged, 3);
	assert_int_equal(r.observed, 3);
	assert_int_equal(r.unobserved, 0);
	assert_int_equal(r.keys, 1);
	assert_int_equal(r.n_evidence, 0);
}

static void test_inconsistent_and_duplicate(void **state)
{
	const struct kafka_pair other[] = { { 0, "99" }, { 1, "10" } };
	const struct kafka_key polled[] = {
		{ .key = "k1", .offset = 0, .pairs = other, .n_pairs = 2 }
	};
	struct kafka_op ops[] = {
		send_op(1, "k1", "10", 0, 0),
		keys_op(2, KAFKA_POLL, polled, 1, 2),
	};
	struct kafka_result r;

	(void)state;
	assert_int_equal(kafka_check(ops, 2, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.counts[KAFKA_INCONSISTENT_OFFSETS], 1);
	assert_int_equal(r.counts[KAFKA_DUPLICATE], 1);
	assert_non_null(strstr(r.evidence[0], "key k1 offset 0 holds"));
	assert_non_null(strstr(r.evidence[1], "message 10 at offsets 0 and 1"));
}

static void test_lost_and_unobserved(void **state)
{
	const struct kafka_pair seen[] = { { 0, "10" }, { 2, "12" } };
	const struct kafka_key polled[] = {
		{ .key = "k1", .offset = 0, .pairs = seen, .n_pairs = 2 }
	};
	struct kafka_op ops[] = {
		send_op(1, "k1", "10", 0, 0),	      send_op(1, "k1", "11", 1, 2),
		send_op(1, "k1", "12", 2, 4),	      send_op(1, "k1", "13", 3, 6),
		keys_op(2, KAFKA_POLL, polled, 1, 8),
	};
	struct kafka_result r;

	(void)state;
	assert_int_equal(kafka_check(ops, 5, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.counts[KAFKA_LOST_WRITE], 1);
	assert_int_equal(r.unobserved, 1); /* 13, past every poll: no error by itself */
	/* The poll also skipped offset 1, which a send made known. */
	assert_int_equal(r.counts[KAFKA_POLL_SKIP], 1);
	assert_non_null(strstr(r.evidence[0], "sent 11 to key k1, acknowledged at offset 1"));
}

static void test_polls(void **state)
{
	const struct kafka_pair back[] = { { 1, "11" }, { 0, "10" } };
	const struct kafka_pair early[] = { { 0, "10" } };
	const struct kafka_pair late[] = { { 2, "12" } };
	const struct kafka_key in_one[] = {
		{ .key = "k1", .offset = 1, .pairs = back, .n_pairs = 2 }
	};
	const struct kafka_key before[] = {
		{ .key = "k1", .offset = 1, .pairs = early, .n_pairs = 1 }
	};
	const struct kafka_key skipping[] = {
		{ .key = "k1", .offset = 0, .pairs = late, .n_pairs = 1 }
	};
	struct kafka_op ops[] = {
		send_op(1, "k1", "10", 0, 0),	      send_op(1, "k1", "11", 1, 2),
		send_op(1, "k1", "12", 2, 4),	      keys_op(2, KAFKA_POLL, in_one, 1, 6),
		keys_op(3, KAFKA_POLL, before, 1, 8), keys_op(4, KAFKA_POLL, skipping, 1, 10),
	};
	struct kafka_result r;

	(void)state;
	assert_int_equal(kafka_check(ops, 6, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.counts[KAFKA_POLL_NONMONOTONIC], 2);
	assert_int_equal(r.counts[KAFKA_POLL_SKIP], 1);
	assert_non_null(strstr(r.evidence[0], "offset 0 came after 1 in one poll"));
	assert_non_null(strstr(r.evidence[1], "from offset 1 and got offset 0 first"));
	assert_non_null(strstr(r.evidence[2], "skipping offset 0"));
}

static void test_sends_and_commits(void **state)
{
	const struct kafka_key commit[] = { { .key = "k1", .offset = 5 } };
	const struct kafka_key low[] = { { .key = "k1", .offset = 3 } };
	const struct kafka_key absent[] = { { .key = "k1", .absent = true } };
	const struct kafka_key high[] = { { .key = "k1", .offset = 9 } };
	struct kafka_op ops[] = {
		send_op(1, "k1", "10", 4, 0),		send_op(1, "k1", "11", 2, 2),
		keys_op(2, KAFKA_COMMIT, commit, 1, 4), keys_op(3, KAFKA_LIST, low, 1, 6),
		keys_op(3, KAFKA_LIST, absent, 1, 8),	keys_op(3, KAFKA_LIST, high, 1, 10),
	};
	struct kafka_result r;

	(void)state;
	assert_int_equal(kafka_check(ops, 6, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.counts[KAFKA_SEND_NONMONOTONIC], 1);
	assert_int_equal(r.counts[KAFKA_COMMIT_LOST], 2);
	assert_int_equal(r.counts[KAFKA_COMMIT_PHANTOM], 1);
	assert_non_null(
		strstr(r.evidence[0], "sent 10 to key k1 at offset 4, then 11 at offset 2"));
	assert_non_null(strstr(r.evidence[1], "then listed it at 3"));
	assert_non_null(strstr(r.evidence[2], "listed it as absent"));
	assert_non_null(strstr(r.evidence[3], "commits asked no more than 5"));
	/* A commit still under way when the list began binds nothing. */
	ops[2].complete_ns = 7;
	assert_int_equal(kafka_check(ops, 6, &r), 0);
	assert_int_equal(r.counts[KAFKA_COMMIT_LOST], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_inconsistent_and_duplicate),
		cmocka_unit_test(test_lost_and_unobserved),
		cmocka_unit_test(test_polls),
		cmocka_unit_test(test_sends_and_commits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
