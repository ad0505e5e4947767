// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the Maelstrom store's timeline.html on a hand-made history: a column per
 * process in order, a box per operation spanning the rows from its invoke to its completion,
 * coloured by outcome, and a value with markup in it written as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netem/maelstrom/timeline.h"

#define MS 1000000ull

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void test_boxes_rows_and_escaping(void **state)
{
	/* Process 7 writes across process 3's read and the invoke of its cas: 6 events. */
	const struct mael_op ops[] = {
		{ .process = 7,
		  .node = 1,
		  .outcome = MAEL_OK,
		  .key = "\"x\"",
		  .arg = "\"<b>\"",
		  .invoke_ns = 1000 * MS,
		  .complete_ns = 1040 * MS },
		{ .process = 3,
		  .outcome = MAEL_INFO,
		  .read = true,
		  .key = "\"x\"",
		  .invoke_ns = 1010 * MS,
		  .complete_ns = 1020 * MS },
		{ .process = 3,
		  .outcome = MAEL_FAIL,
		  .cas = true,
		  .key = "\"x\"",
		  .arg = "1",
		  .to = "2",
		  .invoke_ns = 1030 * MS,
		  .complete_ns = 1050 * MS },
	};
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(mael_write_timeline(f, MAEL_LIN_KV, ops, 3, 1000 * MS, "lin-kv <3>"), 0);
	fclose(f);
	assert_non_null(strstr(page, "<title>lin-kv &lt;3&gt;</title>"));
	assert_int_equal(count(page, "<div class=\"op "), 3);
	assert_int_equal(count(page, "class=\"op ok\""), 1);
	assert_int_equal(count(page, "class=\"op fail\""), 1);
	assert_int_equal(count(page, "class=\"op info\""), 1);
	/* Columns by process number: 3 first, then 7. */
	assert_true(strstr(page, "process 3</span>") < strstr(page, "process 7</span>"));
	/* The write spans rows 0 to 4 (5 rows of 18 px); the read rows 1 to 2. */
	assert_non_null(strstr(page, "class=\"op ok\" style=\"left:150px;top:20px;width:146px;"
				     "height:90px\""));
	assert_non_null(strstr(page, "class=\"op info\" style=\"left:0px;top:38px;width:146px;"
				     "height:36px\""));
	/* Markup in a value is text; the tooltip says where and when. */
	assert_null(strstr(page, "<b>"));
	assert_non_null(strstr(page, "&quot;&lt;b&gt;&quot;"));
	assert_non_null(strstr(page, "process 7 on n1, ok: "));
	assert_non_null(strstr(page, "; 0.000 to 0.040 s\""));
	assert_non_null(strstr(page, "1 -&gt; 2"));
	free(page);
}

static void test_empty_history(void **state)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	(void)state;
	assert_int_equal(mael_write_timeline(f, MAEL_LIN_KV, NULL, 0, 0, "none"), 0);
	fclose(f);
	assert_non_null(strstr(page, "0 operations of 0 client processes"));
	assert_int_equal(count(page, "<div class=\"op "), 0);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boxes_rows_and_escaping),
		cmocka_unit_test(test_empty_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
