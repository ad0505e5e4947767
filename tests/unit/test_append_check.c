// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the append checker on hand-made histories: valid, and each kind of violation
 * (diverged, duplicate, unexpected, lost, reordered) with the lines that show it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tools/check/append_check.h"
#include "tools/check/history.h"

static char text[16384];
static size_t used;
static struct history h;

static void line(uint64_t process, const char *type, const char *f, const char *value,
		 uint64_t time)
{
	used += snprintf(text + used, sizeof(text) - used,
			 "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"l\","
			 "\"value\":%s,\"time\":%llu}\n",
			 (unsigned long long)process, type, f, value, (unsigned long long)time);
}

/* Process p appends v from t0 to t1 (lines: invoke, completion). */
static void append(uint64_t p, const char *v, const char *type, uint64_t t0, uint64_t t1)
{
	char q[64];

	snprintf(q, sizeof(q), "\"%s\"", v);
	line(p, "invoke", "append", q, t0);
	line(p, type, "append", q, t1);
}

static void read_list(uint64_t p, const char *list, uint64_t t0, uint64_t t1)
{
	line(p, "invoke", "read", "null", t0);
	line(p, "ok", "read", list, t1);
}

static int check(struct append_result *r, struct history_error *e)
{
	int rc;

	history_free(&h);
	history_init(&h);
	rc = history_parse_buf(&h, text, used, e);
	if (!rc)
		rc = history_pair(&h, e);
	if (!rc)
		rc = append_check(&h, r, e);
	used = 0;
	return rc;
}

static void expect_finding(enum append_problem p, const char *value, long line, long other)
{
	struct history_error e = { 0 };
	struct append_result r;

	assert_int_equal(check(&r, &e), 0);
	assert_false(r.valid);
	assert_int_equal(r.n_findings, 1);
	assert_int_equal(r.findings[0].problem, p);
	assert_string_equal(r.findings[0].value, value);
	assert_int_equal(r.findings[0].line, line);
	assert_int_equal(r.findings[0].other_line, other);
	append_result_free(&r);
}

static void test_valid(void **state)
{
	struct history_error e = { 0 };
	struct append_result r;

	(void)state;
	append(0, "a", "ok", 10, 20);
	append(1, "b", "ok", 15, 25); /* concurrent with a: either order */
	read_list(2, "[\"b\"]", 16, 30); /* b before a: the order is b, a */
	append(0, "c", "info", 40, 50); /* unknown: may or may not show */
	read_list(2, "[\"b\",\"a\"]", 60, 70);
	append(3, "d", "fail", 80, 90); /* refused: must not show */
	read_list(2, "[\"b\",\"a\",\"c\"]", 100, 110);
	assert_int_equal(check(&r, &e), 0);
	assert_true(r.valid);
	assert_int_equal(r.appends, 4);
	assert_int_equal(r.acknowledged, 2);
	assert_int_equal(r.reads, 3);
	assert_int_equal(r.lost, 0);
	append_result_free(&r);
}

static void test_each_violation(void **state)
{
	(void)state;
	/* Two reads no one order explains. */
	append(0, "a", "ok", 10, 20);
	append(1, "b", "ok", 10, 20);
	read_list(2, "[\"a\",\"b\"]", 30, 40); /* lines 5-6 */
	read_list(3, "[\"b\",\"a\"]", 30, 40); /* lines 7-8 */
	expect_finding(APPEND_DIVERGED, "b", 8, 6);
	/* A value twice. */
	append(0, "a", "ok", 10, 20);
	read_list(2, "[\"a\",\"a\"]", 30, 40);
	expect_finding(APPEND_DUPLICATE, "a", 4, 0);
	/* A value nobody appended, and one only a refused append tried. */
	append(0, "a", "ok", 10, 20);
	read_list(2, "[\"a\",\"z\"]", 30, 40);
	expect_finding(APPEND_UNEXPECTED, "z", 4, 0);
	append(0, "a", "fail", 10, 20);
	read_list(2, "[\"a\"]", 30, 40);
	expect_finding(APPEND_UNEXPECTED, "a", 4, 1);
	/* Acknowledged before the read began, missing from it. */
	append(0, "a", "ok", 10, 20);
	append(1, "b", "ok", 30, 40);
	read_list(2, "[\"a\"]", 50, 60); /* lines 5-6: b lost */
	read_list(3, "[\"a\"]", 70, 80);
	expect_finding(APPEND_LOST, "b", 6, 3);
	/* Acknowledged before another began, yet after it in the list. */
	append(0, "a", "ok", 10, 20);
	append(1, "b", "ok", 30, 40); /* lines 3-4 */
	read_list(2, "[\"b\",\"a\"]", 50, 60); /* a is after b though it was done first */
	expect_finding(APPEND_REORDERED, "a", 1, 3);
}

static void test_refused(void **state)
{
	struct history_error e = { 0 };
	struct append_result r;

	(void)state;
	append(0, "a", "ok", 10, 20);
	line(1, "invoke", "add", "\"x\"", 20);
	line(1, "ok", "add", "\"x\"", 21);
	assert_int_equal(check(&r, &e), -EINVAL);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "one history, one model"));
	append(0, "a", "ok", 10, 20);
	line(2, "invoke", "read", "null", 30);
	line(2, "ok", "read", "\"a\"", 31);
	assert_int_equal(check(&r, &e), -EINVAL);
	assert_int_equal(e.line, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_each_violation),
		cmocka_unit_test(test_refused),
	};
	int rc;

	history_init(&h);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	history_free(&h);
	return rc;
}
