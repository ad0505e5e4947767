// SPDX-License-Identifier: GPL-2.0-only
/* Histories stamped on several hosts' clocks: the "epsilon" field (each clock's offset bound),
 * and capctl check's widening by it. A skewed clock can make a linearizable history look wrong;
 * widened by a true bound it never does, and a history that is really wrong stays wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/rng.h"
#include "tools/check/history.h"
#include "tools/check/linearizability.h"

struct text {
	char *buf;
	size_t len;
};

/* The verdict of capctl check's register model on text, widened or not. */
static enum lin_verdict verdict(const char *text, bool widen)
{
	struct history_error err = { 0 };
	struct lin_options opt = { 0 };
	struct lin_result res;
	struct history h;
	enum lin_verdict v;

	history_init(&h);
	assert_int_equal(history_parse_buf(&h, text, strlen(text), &err), 0);
	assert_int_equal(history_pair(&h, &err), 0);
	if (widen)
		history_widen(&h);
	assert_int_equal(lin_check_register(&h, &opt, &res, &err), 0);
	v = res.verdict;
	lin_result_free(&res);
	history_free(&h);
	return v;
}

/* One line of a register history; eps 0 leaves the field out, as a one-host history has it. */
static void add(struct text *t, unsigned int process, const char *type, const char *f,
		const char *value, uint64_t time, uint64_t eps)
{
	char one[256], val[64] = "null", epsilon[48] = "";
	int n;

	if (value)
		snprintf(val, sizeof(val), "\"%s\"", value);
	if (eps)
		snprintf(epsilon, sizeof(epsilon), ",\"epsilon\":%llu", (unsigned long long)eps);
	n = snprintf(one, sizeof(one),
		     "{\"process\":%u,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"x\",\"value\":%s,"
		     "\"time\":%llu%s}\n",
		     process, type, f, val, (unsigned long long)time, epsilon);
	t->buf = realloc(t->buf, t->len + n + 1);
	assert_non_null(t->buf);
	memcpy(t->buf + t->len, one, n + 1);
	t->len += n;
}

/*
 * True time: process 2 (host B, clock right) reads x absent over [1000, 1100]; then process 1
 * (host A, clock 400 ns behind) writes 1 over [1200, 1300]. Linearizable. A's stamps put the
 * write at [800, 900], before the read began: stamped as they are, the read should have seen 1,
 * and the history looks wrong. With A's bound, 500 ns, the write may have been as late as 1400:
 * valid, as it truly was.
 */
static void test_skewed_clock_valid_once_widened(void **state)
{
	struct text t = { 0 };

	(void)state;
	add(&t, 1, "invoke", "write", "1", 800, 500);
	add(&t, 1, "ok", "write", "1", 900, 500);
	add(&t, 2, "invoke", "read", NULL, 1000, 0);
	add(&t, 2, "ok", "read", NULL, 1100, 0);
	assert_int_equal(verdict(t.buf, false), LIN_VIOLATION);
	assert_int_equal(verdict(t.buf, true), LIN_VALID);
	free(t.buf);
}

/* The same read, begun well after the write ended even by the widest reading of A's clock:
 * the read of an absent x after an acknowledged write stays a violation. */
static void test_really_wrong_stays_wrong(void **state)
{
	struct text t = { 0 };

	(void)state;
	add(&t, 1, "invoke", "write", "1", 800, 500);
	add(&t, 1, "ok", "write", "1", 900, 500);
	add(&t, 2, "invoke", "read", NULL, 2000, 400);
	add(&t, 2, "ok", "read", NULL, 2100, 400);
	assert_int_equal(verdict(t.buf, false), LIN_VIOLATION);
	assert_int_equal(verdict(t.buf, true), LIN_VIOLATION);
	free(t.buf);
}

/* A history on one clock (no epsilon) keeps every interval exactly: widening changes nothing. */
static void test_one_clock_unchanged(void **state)
{
	struct history_error err = { 0 };
	struct text t = { 0 };
	struct history h;

	(void)state;
	add(&t, 1, "invoke", "write", "1", 800, 0);
	add(&t, 1, "ok", "write", "1", 900, 0);
	add(&t, 2, "invoke", "read", NULL, 850, 0);
	history_init(&h);
	assert_int_equal(history_parse_buf(&h, t.buf, t.len, &err), 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(history_max_epsilon(&h), 0);
	history_widen(&h);
	assert_int_equal(h.ops[0].call, 800);
	assert_int_equal(h.ops[0].ret, 900);
	assert_int_equal(h.ops[1].call, 850);
	assert_true(h.ops[1].ret == UINT64_MAX); /* still open: unknown outcome */
	history_free(&h);
	free(t.buf);
}

/* Widening saturates: never below time 0, and an operation left open stays open. */
static void test_widen_edges(void **state)
{
	struct history_error err = { 0 };
	struct text t = { 0 };
	struct history h;

	(void)state;
	add(&t, 1, "invoke", "write", "1", 100, 500);
	add(&t, 1, "ok", "write", "1", 200, 700);
	add(&t, 2, "invoke", "write", "2", 300, 500);
	history_init(&h);
	assert_int_equal(history_parse_buf(&h, t.buf, t.len, &err), 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(history_max_epsilon(&h), 700);
	history_widen(&h);
	assert_int_equal(h.ops[0].call, 0);
	assert_int_equal(h.ops[0].ret, 900);
	assert_int_equal(h.ops[1].call, 0);
	assert_true(h.ops[1].ret == UINT64_MAX);
	history_free(&h);
	free(t.buf);
}

static void expect_error(const char *text, const char *msg)
{
	struct history_error err = { 0 };
	struct history h;

	history_init(&h);
	assert_int_equal(history_parse_buf(&h, text, strlen(text), &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.msg, msg);
	history_free(&h);
}

#define LINE_START "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\",\"value\":null,"

static void test_epsilon_parse(void **state)
{
	const char *bad = "expected \"epsilon\" to be nanoseconds from 0 to 3600000000000 (a "
			  "clock's offset bound)";
	struct history_error err = { 0 };
	const char *good;
	struct history h;
	char *out = NULL;
	size_t len = 0;
	FILE *m;

	(void)state;
	expect_error(LINE_START "\"time\":5,\"epsilon\":\"7\"}", bad);
	expect_error(LINE_START "\"time\":5,\"epsilon\":-7}", bad);
	expect_error(LINE_START "\"time\":5,\"epsilon\":1.5}", bad);
	expect_error(LINE_START "\"time\":5,\"epsilon\":3600000000001}", bad);
	expect_error(LINE_START "\"time\":5,\"epsilon\":7,\"epsilon\":7}", "duplicate \"epsilon\"");

	/* Written back as read; the other fields of a host's line are ignored. */
	history_init(&h);
	good = LINE_START "\"time\":5,\"epsilon\":7,\"host\":\"h2\",\"epsilon_source\":\"ssh\"}";
	assert_int_equal(history_parse_buf(&h, good, strlen(good), &err), 0);
	assert_int_equal(h.events[0].epsilon, 7);
	m = open_memstream(&out, &len);
	assert_int_equal(history_write_event(m, &h.events[0]), 0);
	fclose(m);
	assert_string_equal(out, LINE_START "\"time\":5,\"epsilon\":7}\n");
	free(out);
	history_free(&h);
}

/*
 * The claim itself, on random executions: processes on hosts whose clocks are off by up to their
 * bound run a linearizable register (each operation takes effect at one instant of its true
 * interval, reads return what the last write before that instant wrote). Stamped on the skewed
 * clocks, some of these histories look wrong; widened by the bounds, every one is valid. The
 * seed of a failure is printed.
 */
#define HOSTS 3
#define PROCS 6
#define OPS 40

struct sim_op {
	unsigned int process;
	bool write;
	uint64_t call, at, ret; /* true times; `at` is when it took effect */
	unsigned int value; /* written, or read */
};

static int by_at(const void *a, const void *b)
{
	const struct sim_op *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

static int by_call(const void *a, const void *b)
{
	const struct sim_op *x = a, *y = b;

	return (x->call > y->call) - (x->call < y->call);
}

static void test_random_skew_never_false_alarm(void **state)
{
	unsigned int looked_wrong = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		uint64_t rng = seed * 0x9e3779b97f4a7c15ull, eps[HOSTS];
		int64_t offset[HOSTS];
		struct sim_op ops[PROCS * OPS];
		unsigned int n = 0, last = 0, written = 0;
		struct text t = { 0 };
		enum lin_verdict v;

		for (unsigned int k = 0; k < HOSTS; k++) {
			eps[k] = 1 + rng_next(&rng) % 600;
			/* Any true offset within the bound, its ends included. */
			offset[k] = (int64_t)(rng_next(&rng) % (2 * eps[k] + 1)) - (int64_t)eps[k];
		}
		for (unsigned int p = 0; p < PROCS; p++) {
			uint64_t now = 10000 + rng_next(&rng) % 500;

			for (unsigned int i = 0; i < OPS; i++) {
				struct sim_op *op = &ops[n++];

				op->process = p;
				op->write = rng_next(&rng) % 2;
				op->call = now;
				op->at = now + rng_next(&rng) % 400;
				op->ret = op->at + rng_next(&rng) % 400;
				now = op->ret + 1 + rng_next(&rng) % 300;
			}
		}
		/* Effects in the order of their instants; ties go to the earlier op. */
		qsort(ops, n, sizeof(ops[0]), by_at);
		for (unsigned int i = 0; i < n; i++) {
			if (ops[i].write)
				last = ops[i].value = ++written;
			else
				ops[i].value = last;
		}
		qsort(ops, n, sizeof(ops[0]), by_call);
		for (unsigned int i = 0; i < n; i++) {
			const struct sim_op *op = &ops[i];
			unsigned int host = op->process % HOSTS;
			char v[16];

			snprintf(v, sizeof(v), "%u", op->value);
			add(&t, op->process, "invoke", op->write ? "write" : "read",
			    op->write ? v : NULL, op->call + offset[host], eps[host]);
			add(&t, op->process, "ok", op->write ? "write" : "read",
			    op->value || op->write ? v : NULL, op->ret + offset[host], eps[host]);
		}
		looked_wrong += verdict(t.buf, false) == LIN_VIOLATION;
		v = verdict(t.buf, true);
		if (v != LIN_VALID)
			fail_msg("seed %llu: a linearizable execution judged %s once widened",
				 (unsigned long long)seed,
				 v == LIN_VIOLATION ? "invalid" : "undecided");
		free(t.buf);
	}
	/* The skew must have mattered, or the test proves nothing. */
	print_message("    %u of 300 skewed histories looked wrong before widening\n",
		      looked_wrong);
	assert_true(looked_wrong > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skewed_clock_valid_once_widened),
		cmocka_unit_test(test_really_wrong_stays_wrong),
		cmocka_unit_test(test_one_clock_unchanged),
		cmocka_unit_test(test_widen_edges),
		cmocka_unit_test(test_epsilon_parse),
		cmocka_unit_test(test_random_skew_never_false_alarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
