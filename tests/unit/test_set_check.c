// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the set checker on hand-made histories: valid, each kind of finding (lost,
 * unexpected, recovered, stale, diverged, duplicated) with the line that shows it, settled reads by node
 * and by process; and the histories it refuses. */
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

/* A line naming the node asked (none when node is 0). */
static void node_line(uint64_t process, const char *type, const char *f, const char *value,
		      uint64_t time, unsigned int node)
{
	used += snprintf(text + used, sizeof(text) - used,
			 "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"s\","
			 "\"value\":%s,\"time\":%llu",
			 (unsigned long long)process, type, f, value, (unsigned long long)time);
	if (node)
		used += snprintf(text + used, sizeof(text) - used, ",\"node\":%u", node);
	used += snprintf(text + used, sizeof(text) - used, "}\n");
}

static void line(uint64_t process, const char *type, const char *f, const char *value,
		 uint64_t time)
{
	node_line(process, type, f, value, time, 0);
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

/* A final read from node n, by a process of its own, as capctl load asks them. */
static void node_read(uint64_t p, unsigned int n, const char *list, uint64_t t)
{
	node_line(p, "invoke", "read", "null", t, n);
	node_line(p, "ok", "read", list, t + 1, n);
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
	node_read(5, 1, "[\"1\",\"3\",\"4\",\"5\",\"9\"]", 30); /* lines 11-12 */
	node_read(6, 2, "[\"1\",\"3\",\"9\"]", 32); /* lines 13-14: stale */
	node_read(7, 2, "[\"1\",\"3\",\"4\",\"9\"]", 34); /* lines 15-16: caught up */
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
	assert_int_equal(r.diverged_adds + r.n_diverged + r.n_missing + r.n_having, 0);
	set_result_free(&r);
}

/* A read that lists an element twice, final or not: the set was given it twice. Each element
 * once, at the first read that repeats it; nothing else is wrong, yet the verdict is invalid. */
static void test_duplicated(void **state)
{
	struct history_error e = { 0 };
	struct set_result r;

	(void)state;
	add(0, "1", "ok", 10); /* lines 1-2 */
	add(1, "2", "ok", 12); /* lines 3-4 */
	line(2, "invoke", "read", "null", 11); /* line 5: during the adds */
	line(2, "ok", "read", "[\"1\",\"1\"]", 14); /* line 6: not final, a repeat */
	final_read(3, "[\"2\",\"1\",\"2\",\"1\",\"2\"]", 30); /* lines 7-8 */
	assert_int_equal(check(&r, &e), 0);
	assert_false(r.valid);
	assert_int_equal(r.n_duplicated, 2);
	assert_string_equal(r.duplicated[0].element, "1");
	assert_int_equal(r.duplicated[0].line, 6);
	assert_string_equal(r.duplicated[1].element, "2");
	assert_int_equal(r.duplicated[1].line, 8);
	assert_int_equal(r.n_lost + r.n_unexpected + r.n_recovered + r.n_stale + r.diverged_adds,
			 0);
	set_result_free(&r);
}

/* A split brain: node 1 kept acknowledging adds that nodes 2 and 3 never got, and asked again
 * they still miss them. Every other count is clean: only divergence says so. */
static void test_diverged(void **state)
{
	struct history_error e = { 0 };
	struct set_result r;

	(void)state;
	add(0, "1", "ok", 10); /* lines 1-2 */
	add(0, "2", "ok", 12); /* lines 3-4: node 1 alone has it */
	add(0, "3", "ok", 14); /* lines 5-6: node 1 alone has it */
	add(1, "4", "info", 16); /* lines 7-8: unknown outcome, node 1 has it */
	node_read(10, 1, "[\"1\",\"2\",\"3\",\"4\"]", 30); /* lines 9-10 */
	node_read(11, 2, "[\"1\"]", 31); /* lines 11-12 */
	node_read(12, 3, "[\"1\"]", 32); /* lines 13-14 */
	/* Asked again after a while: the same answers. */
	node_read(13, 1, "[\"1\",\"2\",\"3\",\"4\"]", 40); /* lines 15-16 */
	node_read(14, 2, "[\"1\"]", 41); /* lines 17-18 */
	node_read(15, 3, "[\"1\"]", 42); /* lines 19-20 */
	assert_int_equal(check(&r, &e), 0);
	assert_false(r.valid);
	assert_int_equal(r.n_lost + r.n_unexpected + r.n_stale, 0);
	assert_int_equal(r.n_recovered, 1);
	assert_int_equal(r.diverged_adds, 3);
	assert_int_equal(r.diverged_acknowledged, 2);
	assert_int_equal(r.n_missing, 2);
	assert_true(r.missing[0].is_node);
	assert_int_equal(r.missing[0].id, 2);
	assert_int_equal(r.missing[1].id, 3);
	assert_int_equal(r.n_having, 1);
	assert_int_equal(r.having[0].id, 1);
	/* Each missing element once per settled read that misses it, at that read's line. */
	assert_int_equal(r.n_diverged, 6);
	assert_string_equal(r.diverged[0].element, "2");
	assert_int_equal(r.diverged[0].line, 18);
	assert_int_equal(r.diverged[1].line, 20);
	set_result_free(&r);

	/* The old primary gave its adds up before the end: lost, not diverged. */
	add(0, "1", "ok", 10);
	add(0, "2", "ok", 12); /* lines 3-4 */
	node_read(10, 1, "[\"1\",\"2\"]", 30);
	node_read(11, 2, "[\"1\"]", 31);
	node_read(12, 1, "[\"1\"]", 40);
	node_read(13, 2, "[\"1\"]", 41);
	assert_int_equal(check(&r, &e), 0);
	assert_false(r.valid);
	assert_int_equal(r.diverged_adds, 0);
	assert_int_equal(r.n_lost, 1);
	assert_int_equal(r.lost[0].line, 3);
	set_result_free(&r);
}

/* Without a node field, each process's last final read is its settled one: two processes
 * reading once each and disagreeing diverged; one process reading twice was behind, once. */
static void test_settled_by_process(void **state)
{
	struct history_error e = { 0 };
	struct set_result r;

	(void)state;
	add(0, "1", "ok", 10);
	add(0, "2", "ok", 12);
	final_read(5, "[\"1\",\"2\"]", 30);
	final_read(6, "[\"1\"]", 31);
	assert_int_equal(check(&r, &e), 0);
	assert_false(r.valid);
	assert_int_equal(r.diverged_adds, 1);
	assert_false(r.missing[0].is_node);
	assert_int_equal(r.missing[0].id, 6);
	set_result_free(&r);

	add(0, "1", "ok", 10);
	add(0, "2", "ok", 12);
	final_read(5, "[\"1\",\"2\"]", 30);
	final_read(6, "[\"1\"]", 31); /* lines 7-8 */
	final_read(6, "[\"2\",\"1\"]", 33);
	assert_int_equal(check(&r, &e), 0);
	assert_true(r.valid);
	assert_int_equal(r.diverged_adds, 0);
	assert_int_equal(r.n_stale, 1);
	assert_int_equal(r.stale[0].line, 8);
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
		cmocka_unit_test(test_valid),	 cmocka_unit_test(test_each_finding),
		cmocka_unit_test(test_diverged), cmocka_unit_test(test_settled_by_process),
		cmocka_unit_test(test_refused),	 cmocka_unit_test(test_duplicated),
	};

	int rc;

	history_init(&h);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	history_free(&h);
	return rc;
}
