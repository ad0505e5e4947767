// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the transaction checker: for list-append and rw-register, a clean history, and
 * the smallest history of each anomaly, with the models that forbid it and those that allow
 * it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/check/txn_check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MODEL(m) (1u << (m))

static const unsigned int strict = MODEL(TXN_STRICT_SERIALIZABLE);

/* Transaction i, one at a time: invoked at 10 i, finished at 10 i + 5. */
static struct txn_op txn(uint64_t i, const struct txn_mop *mops, size_t n)
{
	return (struct txn_op){ .process = i,
				.outcome = TXN_OK,
				.mops = mops,
				.n_mops = n,
				.invoke_ns = 10 * i,
				.complete_ns = 10 * i + 5 };
}

/* All at once: no real-time order between them. */
static void concurrent(struct txn_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ops[i].invoke_ns = 0;
		ops[i].complete_ns = 100;
	}
}

#define APPEND(k, v)                                     \
	{                                                \
		.f = TXN_WRITE, .key = (k), .value = (v) \
	}
#define WRITE(k, v)                                      \
	{                                                \
		.f = TXN_WRITE, .key = (k), .value = (v) \
	}
#define READ_LIST(k, l)                                                \
	{                                                              \
		.f = TXN_READ, .key = (k), .list = (l), .n_list = N(l) \
	}
#define READ_EMPTY(k)                     \
	{                                 \
		.f = TXN_READ, .key = (k) \
	}
#define READ_NIL(k)                                    \
	{                                              \
		.f = TXN_READ, .key = (k), .nil = true \
	}
#define READ(k, v)                                      \
	{                                               \
		.f = TXN_READ, .key = (k), .value = (v) \
	}

static const int64_t l1[] = { 1 }, l12[] = { 1, 2 }, l21[] = { 2, 1 };

static void check(enum txn_kind kind, const struct txn_op *ops, size_t n, unsigned int models,
		  struct txn_result *r)
{
	assert_int_equal(txn_check(kind, ops, n, models, r), 0);
}

static void test_models(void **state)
{
	(void)state;
	for (int m = 0; m < TXN_MODELS; m++)
		assert_int_equal(txn_model_parse(txn_model_name(m)), m);
	assert_int_equal(txn_model_parse("serialisable"), -1);
	/* Each model forbids what the weaker ones do. */
	for (int m = 1; m < TXN_MODELS; m++)
		assert_int_equal(txn_model_forbids(m) & txn_model_forbids(m - 1),
				 txn_model_forbids(m - 1));
}

static void test_append_clean(void **state)
{
	const struct txn_mop a[] = { APPEND(1, 1) }, b[] = { READ_LIST(1, l1), APPEND(1, 2) },
			     c[] = { READ_LIST(1, l12), READ_EMPTY(2) };
	struct txn_op ops[] = { txn(0, a, 1), txn(1, b, 2), txn(2, c, 2) };
	struct txn_result r;

	(void)state;
	check(TXN_LIST_APPEND, ops, 3, strict, &r);
	assert_true(r.valid);
	assert_int_equal(r.ok, 3);
	assert_int_equal(r.n_evidence, 0);
	assert_true(r.edges >= 3); /* ww 0->1, wr 0->1, wr 1->2 */
}

static void test_append_g0(void **state)
{
	const struct txn_mop a[] = { APPEND(1, 1), APPEND(2, 1) },
			     b[] = { APPEND(1, 2), APPEND(2, 2) },
			     c[] = { READ_LIST(1, l12), READ_LIST(2, l21) };
	struct txn_op ops[] = { txn(0, a, 2), txn(1, b, 2), txn(2, c, 2) };
	struct txn_result r;

	(void)state;
	concurrent(ops, 3);
	check(TXN_LIST_APPEND, ops, 3, MODEL(TXN_READ_UNCOMMITTED), &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_G0], 1);
	assert_non_null(strstr(r.evidence[0], "G0: T"));
	assert_non_null(strstr(r.evidence[0], "-ww "));
	assert_true(r.forbidden_by[TXN_G0] & MODEL(TXN_READ_UNCOMMITTED));
}

static void test_append_g1(void **state)
{
	const struct txn_mop failed[] = { APPEND(1, 1) }, read_failed[] = { READ_LIST(1, l1) };
	const struct txn_mop twice[] = { APPEND(2, 1), APPEND(2, 2) },
			     read_mid[] = { READ_LIST(2, l1) }, read_all[] = { READ_LIST(2, l12) };
	const struct txn_mop x[] = { APPEND(3, 1), READ_LIST(4, l1) },
			     y[] = { APPEND(4, 1), READ_LIST(3, l1) };
	struct txn_op ops[] = {
		txn(0, failed, 1),   txn(1, read_failed, 1), txn(2, twice, 2), txn(3, read_mid, 1),
		txn(4, read_all, 1), txn(5, x, 2),	     txn(6, y, 2),
	};
	struct txn_result r;

	(void)state;
	ops[0].outcome = TXN_FAIL;
	concurrent(ops + 5, 2);
	check(TXN_LIST_APPEND, ops, N(ops), MODEL(TXN_READ_UNCOMMITTED), &r);
	assert_int_equal(r.counts[TXN_G1A], 1);
	assert_int_equal(r.counts[TXN_G1B], 1);
	assert_int_equal(r.counts[TXN_G1C], 1);
	assert_int_equal(r.counts[TXN_G0], 0);
	assert_true(r.valid); /* read uncommitted allows all three */
	assert_non_null(strstr(r.evidence[0], "G1a: T1"));
	assert_non_null(strstr(r.evidence[0], "written by T0"));
	assert_non_null(strstr(r.evidence[1], "G1b: T3"));
	check(TXN_LIST_APPEND, ops, N(ops), MODEL(TXN_READ_COMMITTED), &r);
	assert_false(r.valid);
}

static void test_append_g_single_and_g2(void **state)
{
	/* Read skew: T1 sees T0's y but not its x. */
	const struct txn_mop t0[] = { APPEND(1, 1), APPEND(2, 1) },
			     t1[] = { READ_EMPTY(1), READ_LIST(2, l1) },
			     t2[] = { READ_LIST(1, l1) };
	/* Write skew: each reads what the other appends to, before it. */
	const struct txn_mop t3[] = { READ_EMPTY(3), APPEND(4, 1) },
			     t4[] = { READ_EMPTY(4), APPEND(3, 1) },
			     t5[] = { READ_LIST(3, l1), READ_LIST(4, l1) };
	struct txn_op skew[] = { txn(0, t0, 2), txn(1, t1, 2), txn(2, t2, 1) };
	struct txn_op write_skew[] = { txn(3, t3, 2), txn(4, t4, 2), txn(5, t5, 2) };
	struct txn_result r;

	(void)state;
	concurrent(skew, 2);
	check(TXN_LIST_APPEND, skew, 3, MODEL(TXN_SNAPSHOT_ISOLATION), &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_G_SINGLE], 1);
	assert_non_null(strstr(r.evidence[0], "-rw 1->"));
	check(TXN_LIST_APPEND, skew, 3, MODEL(TXN_READ_COMMITTED), &r);
	assert_true(r.valid);

	concurrent(write_skew, 2);
	check(TXN_LIST_APPEND, write_skew, 3, MODEL(TXN_SNAPSHOT_ISOLATION), &r);
	assert_true(r.valid); /* snapshot isolation allows write skew */
	assert_int_equal(r.counts[TXN_G2_ITEM], 1);
	assert_int_equal(r.counts[TXN_G_SINGLE], 0);
	check(TXN_LIST_APPEND, write_skew, 3, MODEL(TXN_SERIALIZABLE), &r);
	assert_false(r.valid);
}

static void test_append_realtime(void **state)
{
	/* T1 begins after T0 finished, yet does not see its append. */
	const struct txn_mop t0[] = { APPEND(1, 1) }, t1[] = { READ_EMPTY(1) },
			     t2[] = { READ_LIST(1, l1) };
	struct txn_op ops[] = { txn(0, t0, 1), txn(1, t1, 1), txn(2, t2, 1) };
	struct txn_result r;

	(void)state;
	check(TXN_LIST_APPEND, ops, 3, MODEL(TXN_SERIALIZABLE), &r);
	assert_true(r.valid);
	check(TXN_LIST_APPEND, ops, 3, strict, &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_G_SINGLE_REALTIME], 1);
	assert_non_null(strstr(r.evidence[0], "-rt->"));
}

static void test_append_broken(void **state)
{
	const struct txn_mop self[] = { APPEND(1, 1), READ_EMPTY(1) }, a[] = { APPEND(2, 1) },
			     b[] = { APPEND(2, 2) }, c[] = { READ_LIST(2, l12) },
			     d[] = { READ_LIST(2, l21) }, e[] = { READ_LIST(3, l1) };
	struct txn_op ops[] = { txn(0, self, 2), txn(1, a, 1), txn(2, b, 1),
				txn(3, c, 1),	 txn(4, d, 1), txn(5, e, 1) };
	struct txn_result r;

	(void)state;
	check(TXN_LIST_APPEND, ops, N(ops), MODEL(TXN_READ_UNCOMMITTED), &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_INTERNAL], 1);
	assert_int_equal(r.counts[TXN_INCOMPATIBLE_ORDER], 1);
	assert_int_equal(r.counts[TXN_GARBAGE], 1);
	assert_non_null(strstr(r.evidence[0], "internal: T0"));
}

static void test_register(void **state)
{
	const struct txn_mop a[] = { WRITE(1, 1) }, b[] = { READ(1, 1), WRITE(1, 2) },
			     c[] = { READ(1, 2), READ_NIL(2) };
	/* Circular information flow. */
	const struct txn_mop x[] = { WRITE(3, 1), READ(4, 1) }, y[] = { WRITE(4, 1), READ(3, 1) };
	/* Reads before writes that contradict each other. */
	const struct txn_mop p[] = { READ(5, 1), WRITE(5, 2) }, q[] = { READ(5, 2), WRITE(5, 1) };
	const struct txn_mop garbage[] = { READ(6, 7) };
	struct txn_op clean[] = { txn(0, a, 1), txn(1, b, 2), txn(2, c, 2) };
	struct txn_op cyc[] = { txn(0, x, 2), txn(1, y, 2) };
	struct txn_op versions[] = { txn(0, p, 2), txn(1, q, 2), txn(2, garbage, 1) };
	struct txn_result r;

	(void)state;
	check(TXN_RW_REGISTER, clean, 3, strict, &r);
	assert_true(r.valid);
	/* T2 read 2 after T1 finished: no stale read, and T0 -ww-> T1 from the read before the
	 * write. */
	assert_true(r.edges >= 3);
	concurrent(cyc, 2);
	check(TXN_RW_REGISTER, cyc, 2, MODEL(TXN_READ_COMMITTED), &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_G1C], 1);
	assert_non_null(strstr(r.evidence[0], "-wr "));
	check(TXN_RW_REGISTER, versions, 3, MODEL(TXN_READ_UNCOMMITTED), &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_CYCLIC_VERSIONS], 1);
	assert_int_equal(r.counts[TXN_GARBAGE], 1);
}

static void test_register_stale(void **state)
{
	/* A read of null after a write finished: serializable, not strict. */
	const struct txn_mop a[] = { WRITE(1, 1) }, b[] = { READ_NIL(1) };
	struct txn_op ops[] = { txn(0, a, 1), txn(1, b, 1) };
	struct txn_result r;

	(void)state;
	check(TXN_RW_REGISTER, ops, 2, MODEL(TXN_SERIALIZABLE), &r);
	assert_true(r.valid);
	check(TXN_RW_REGISTER, ops, 2, strict, &r);
	assert_false(r.valid);
	assert_int_equal(r.counts[TXN_G_SINGLE_REALTIME], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_models),
		cmocka_unit_test(test_append_clean),
		cmocka_unit_test(test_append_g0),
		cmocka_unit_test(test_append_g1),
		cmocka_unit_test(test_append_g_single_and_g2),
		cmocka_unit_test(test_append_realtime),
		cmocka_unit_test(test_append_broken),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_register_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
