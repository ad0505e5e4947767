// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the set checker on hand-made histories: valid, and each kind of finding (lost,
 * unexpected, recovered, stale) with the line that shows it; and the histories it refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tools/check/history.h"
#include "tools/check/set_check.h"

static char text[8192];
static size_t used;

static void line(uint64_t process, const char *type, const char *f, const char *value,
		 uint64_t time)
{
	used += snprintf(text + used, sizeof(text) - used,
			 "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"s\","
			 "\"value\":%s,\"time\":%llu}\n",
			 (unsigned long long)process, type, f, value, (unsigned long long)time);
}

/* An add of element e by process p from t to t+1, with outcome type. */
static void add(uint64_t p, const char *e, const char *type, uint64_t t)
{
	char v[64];

	snprintf(v, sizeof(v), "\"%s\"", e);
	line(p, "invoke", "add", v, t);
	line(p, type, "add", v, t + 1);
}

static void final_read(uint64_t p, const char *list, uint64_t t)
{
	line(p, "invoke", "read", "null", t);
	line(p, "ok", "read", list, t + 1);
}

/* The result points into the history: it lives until the next check. */
static struct history h;

static int check(struct set_result *r, struct history_error *e)
{
	int rc;

	history_free(&h);
	history_init(&h);
	rc = history_parse_buf(&h, text, used, e);
	if (!rc)
		rc = history_pair(&h, e);
	if (!rc)
		rc = set_check(&h, r, e);
	used = 0;
	return rc;
}

static void test_valid(void **state)
{
	struct history_error e = { 0 };
	struct set_result r;

	(void)state;
	add(0, "1", "ok", 10);
	add(1, "2", "ok", 11);
	add(0, "3", "fail", 20); /* refused, and absent: fine */
	/* A read during the adds is not a final read: it may miss what came later. */
	line(2, "invoke", "read", "null", 12);
	line(2, "ok", "read", "[\"1\"]", 13);
	final_read(3, "[\"2\",\"1\"]", 30);
	final_read(4, "[\"1\",\"2\"]", 31);
	assert_int_equal(check(&r, &e), 0);
	assert_true(r.valid);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.acknowledged, 2);
	assert_int_equal(r.final_reads, 2);
	assert_int_equal(r.n_lost + r.n_unexpected + r.n_recovered + r.n_stale, 0);
	set_result_free(&r);
}

static void test_each_finding(void **state)
{
	struct history_error e = { 0 };
	struct set_result r;

	(void)state;
	add(0, "1", "ok", 10); /* lines 1-2 */
	add(1, "2", "ok", 12); /* lines 3-4: lost */
	add(2, "3", "info", 14); /* lines 5-6: recovered */
	add(3, "4", "ok", 16); /* lines 7-8: in one final read only */
	add(4, "5", "fail", 18); /* lines 9-10: refused, yet read: unexpected */
	final_read(5, "[\"1\",\"3\",\"4\",\"5\",\"9\"]", 30); /* lines 11-12 */
	final_read(6, "[\"1\",\"3\",\"9\"]", 32); /* lines 13-14: stale */
	assert_int_equal(check(&r, &e), 0);
	assert_false(r.valid);
	assert_int_equal(r.n_lost, 1);
	assert_string_equal(r.lost[0].element, "2");
	assert_int_equal(r.lost[0].line, 3);
	assert_int_equal(r.n_recovered, 1);
	assert_string_equal(r.recovered[0].element, "3");
	assert_int_equal(r.n_unexpected, 2);
	assert_string_equal(r.unexpected[0].element, "5");
	assert_string_equal(r.unexpected[1].element, "9");
	assert_int_equal(r.unexpected[1].line, 12);
	assert_int_equal(r.n_stale, 1);
	assert_string_equal(r.stale[0].element, "4");
	assert_int_equal(r.stale[0].line, 14);
	set_result_free(&r);
}

static void test_refused(void **state)
{
	struct history_error e = { 0 };
	struct set_result r;

	(void)state;
	/* No final read: nothing to find lost from. */
	add(0, "1", "ok", 10);
	line(1, "invoke", "read", "null", 5);
	line(1, "ok", "read", "[]", 6);
	assert_int_equal(check(&r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no final read"));
	/* Another model's operation. */
	add(0, "1", "ok", 10);
	line(1, "invoke", "write", "\"x\"", 20);
	line(1, "ok", "write", "\"x\"", 21);
	final_read(2, "[\"1\"]", 30);
	assert_int_equal(check(&r, &e), -EINVAL);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "one history, one model"));
	/* A read that is not a list. */
	add(0, "1", "ok", 10);
	line(2, "invoke", "read", "null", 30);
	line(2, "ok", "read", "\"1\"", 31);
	assert_int_equal(check(&r, &e), -EINVAL);
	assert_int_equal(e.line, 4);
	assert_non_null(strstr(e.msg, "list of strings"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_each_finding),
		cmocka_unit_test(test_refused),
	};

	int rc;

	history_init(&h);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	history_free(&h);
	return rc;
}
