// SPDX-License-Identifier: GPL-2.0-only
/* lib/out_print: the same calls print the text form and a JSON that lib/json reads back, with
 * the commas, keys, escapes and nesting right; what one form leaves out stays out; a value made
 * elsewhere goes into the JSON only when it is JSON. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"
#include "lib/out_print.h"

/* What the calls below print in one form, in a new string (free it). */
static char *printed(void (*calls)(struct out_printer *p), bool json)
{
	struct out_printer p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	out_printer_init(&p, f, json);
	calls(&p);
	fclose(f);
	return buf;
}

/* A service line as capnet status prints it: members in both forms, some in one only. */
static void service_calls(struct out_printer *p)
{
	open_object(p, NULL);
	print_string(p, "name", "service %s: ", "web");
	print_string(p, "running", NULL, "1,2");
	print_string(p, NULL, "running on %s", "1,2");
	print_uint(p, "pid", ", pid %llu", 4242);
	print_int(p, "offset_ns", ", offset %lld ns", -5000);
	print_bool(p, "paused", ", paused %s", false);
	print_json_double(p, "rate", "%g", 1.5);
	print_text(p, " (%d%%)\n", 50);
	close_object(p);
}

static void test_same_calls_both_forms(void **state)
{
	char *text = printed(service_calls, false), *json = printed(service_calls, true);
	struct json_value v;
	uint64_t pid;
	int64_t offset;

	(void)state;
	assert_string_equal(text, "service web: running on 1,2, pid 4242, offset -5000 ns, paused "
				  "false (50%)\n");
	assert_string_equal(json, "{\"name\":\"web\",\"running\":\"1,2\",\"pid\":4242,"
				  "\"offset_ns\":-5000,\"paused\":false,\"rate\":1.5}\n");
	assert_int_equal(json_parse(json, strlen(json), JSON_MAX_DEPTH_ANY, &v, NULL), 0);
	assert_true(json_is_u64(json_member(&v, "pid"), &pid));
	assert_int_equal(pid, 4242);
	assert_true(json_is_i64(json_member(&v, "offset_ns"), &offset));
	assert_int_equal(offset, -5000);
	json_value_free(&v);
	free(text);
	free(json);
}

/* Arrays of arrays, empty containers, and the elements in them: capnet status's groups. */
static void nested_calls(struct out_printer *p)
{
	open_object(p, NULL);
	print_string(p, "partition", "partition: %s\n", "1,2 | 3");
	open_array(p, "groups");
	open_array(p, NULL);
	print_uint(p, NULL, NULL, 1);
	print_uint(p, NULL, NULL, 2);
	close_array(p);
	open_array(p, NULL);
	print_uint(p, NULL, NULL, 3);
	close_array(p);
	close_array(p);
	open_array(p, "rules");
	close_array(p);
	open_object(p, "delay_line");
	open_array(p, "links");
	close_array(p);
	close_object(p);
	print_json_null(p, "none");
	print_uint(p, "count", "%llu in all\n", 3);
	close_object(p);
}

static void test_nesting_and_commas(void **state)
{
	char *text = printed(nested_calls, false), *json = printed(nested_calls, true);
	struct json_value v;

	(void)state;
	assert_string_equal(text, "partition: 1,2 | 3\n3 in all\n");
	assert_string_equal(json, "{\"partition\":\"1,2 | 3\",\"groups\":[[1,2],[3]],\"rules\":[],"
				  "\"delay_line\":{\"links\":[]},\"none\":null,\"count\":3}\n");
	assert_int_equal(json_parse(json, strlen(json), JSON_MAX_DEPTH_ANY, &v, NULL), 0);
	json_value_free(&v);
	free(text);
	free(json);
}

/* A name with quotes, a backslash, a control character and bytes that are not UTF-8: the
 * text shows it as it is, the JSON stays JSON and reads back the same. */
static const char odd_name[] = "a\"b\\c\nd\x01";

static void odd_calls(struct out_printer *p)
{
	open_object(p, NULL);
	print_string(p, "name", "[%s]", odd_name);
	print_string(p, "bytes", NULL, "\xff\xfe");
	print_string(p, "missing", NULL, NULL);
	print_json_double(p, "nan", "%g", NAN);
	print_json_double(p, "up", "%.1f", 5.0);
	close_object(p);
}

static void test_strings_are_escaped(void **state)
{
	char *text = printed(odd_calls, false), *json = printed(odd_calls, true);
	struct json_value v;
	char back[32];

	(void)state;
	assert_string_equal(text, "[a\"b\\c\nd\x01]");
	assert_int_equal(json_parse(json, strlen(json), JSON_MAX_DEPTH_ANY, &v, NULL), 0);
	assert_int_equal(json_copy_string(json_member(&v, "name"), back, sizeof(back)), 0);
	assert_string_equal(back, odd_name);
	assert_int_equal(json_member(&v, "bytes")->kind, JSON_OBJECT);
	assert_int_equal(json_member(&v, "missing")->kind, JSON_NULL);
	assert_int_equal(json_member(&v, "nan")->kind, JSON_NULL);
	assert_string_equal(json_member(&v, "up")->str, "5.0");
	json_value_free(&v);
	free(text);
	free(json);
}

static int raw_result;

/* Another program's JSON inside ours: whole, or not at all. */
static void raw_calls(struct out_printer *p)
{
	static const char good[] = "{\"generation\":2,\"groups\":[[1]]}\nsecond line";
	static const char bad[] = "{\"generation\":2,";

	open_object(p, NULL);
	print_string(p, "host", "host %s\n", "a");
	raw_result = print_json_raw(p, "status", good, strcspn(good, "\n"));
	assert_int_equal(raw_result, 0);
	raw_result = print_json_raw(p, "broken", bad, strlen(bad));
	close_object(p);
}

static void test_raw_json_only_when_valid(void **state)
{
	char *text, *json;

	(void)state;
	text = printed(raw_calls, false);
	assert_int_equal(raw_result, 0);
	assert_string_equal(text, "host a\n");
	json = printed(raw_calls, true);
	assert_int_equal(raw_result, -EINVAL);
	assert_string_equal(json,
			    "{\"host\":\"a\",\"status\":{\"generation\":2,\"groups\":[[1]]}}\n");
	free(text);
	free(json);
}

/* A top-level array, and values straight in it. */
static void array_calls(struct out_printer *p)
{
	open_array(p, NULL);
	print_string(p, NULL, "%s ", "x");
	print_bool(p, NULL, NULL, true);
	open_object(p, NULL);
	close_object(p);
	close_array(p);
	print_text(p, "end\n");
}

static void test_top_level_array(void **state)
{
	char *text = printed(array_calls, false), *json = printed(array_calls, true);

	(void)state;
	assert_string_equal(text, "x end\n");
	assert_string_equal(json, "[\"x\",true,{}]\n");
	free(text);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_calls_both_forms),
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_strings_are_escaped),
		cmocka_unit_test(test_raw_json_only_when_valid),
		cmocka_unit_test(test_top_level_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
