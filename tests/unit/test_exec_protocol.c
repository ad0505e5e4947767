// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the exec client protocol: the request lines capctl writes, and every kind of
 * answer a client program can give, well-formed or not (a broken one must be refused, never
 * taken for an outcome). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/capctl/exec_protocol.h"

static char *request_text(const struct exec_request *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(exec_request_write(f, r), 0);
	fclose(f);
	return text;
}

static void test_requests(void **state)
{
	struct exec_request r = { .id = 7, .f = HISTORY_WRITE, .key = "k1", .value = "3" };
	char *t;

	(void)state;
	t = request_text(&r);
	assert_string_equal(t, "{\"id\":7,\"f\":\"write\",\"key\":\"k1\",\"value\":\"3\"}\n");
	free(t);
	r = (struct exec_request){
		.id = 8, .f = HISTORY_CAS, .key = "k1", .from = "3", .value = "4"
	};
	t = request_text(&r);
	assert_string_equal(
		t, "{\"id\":8,\"f\":\"cas\",\"key\":\"k1\",\"from\":\"3\",\"to\":\"4\"}\n");
	free(t);
	r = (struct exec_request){ .id = 9, .f = HISTORY_ADD, .key = "s0", .value = "12" };
	t = request_text(&r);
	assert_string_equal(t, "{\"id\":9,\"f\":\"add\",\"key\":\"s0\",\"element\":\"12\"}\n");
	free(t);
	r = (struct exec_request){ .id = 10, .f = HISTORY_APPEND, .key = "k\"2", .value = "5" };
	t = request_text(&r);
	assert_string_equal(t, "{\"id\":10,\"f\":\"append\",\"key\":\"k\\\"2\",\"value\":\"5\"}\n");
	free(t);
	r = (struct exec_request){ .id = 11, .f = HISTORY_READ, .key = "k1" };
	t = request_text(&r);
	assert_string_equal(t, "{\"id\":11,\"f\":\"read\",\"key\":\"k1\"}\n");
	free(t);
}

static void test_init(void **state)
{
	const struct exec_init init = { .node = 2, .nodes = 5, .process = 12, .shape = EXEC_SET };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(exec_init_write(f, &init), 0);
	fclose(f);
	assert_string_equal(text, "{\"id\":0,\"f\":\"init\",\"node\":2,\"nodes\":5,\"process\":12,"
				  "\"shape\":\"set\"}\n");
	free(text);
}

static int parse(const char *line, uint64_t id, enum history_f f, enum exec_shape shape,
		 struct exec_answer *a, char *why)
{
	return exec_answer_parse(line, strlen(line), id, f, shape, a, why, 200);
}

static void test_good_answers(void **state)
{
	struct exec_answer a;
	char why[200];

	(void)state;
	assert_int_equal(
		parse("{\"id\":7,\"type\":\"ok\"}", 7, HISTORY_WRITE, EXEC_REGISTER, &a, why), 0);
	assert_int_equal(a.type, HISTORY_OK);
	exec_answer_free(&a);
	assert_int_equal(parse("{\"type\":\"fail\",\"id\":3,\"error\":\"no quorum\"}", 3,
			       HISTORY_CAS, EXEC_REGISTER, &a, why),
			 0);
	assert_int_equal(a.type, HISTORY_FAIL);
	assert_string_equal(a.error, "no quorum");
	exec_answer_free(&a);
	assert_int_equal(parse("{\"id\":4,\"type\":\"info\",\"error\":\"timeout\"}", 4,
			       HISTORY_WRITE, EXEC_REGISTER, &a, why),
			 0);
	assert_int_equal(a.type, HISTORY_INFO);
	exec_answer_free(&a);
	assert_int_equal(parse("{\"id\":5,\"type\":\"ok\",\"value\":\"0-3\"}", 5, HISTORY_READ,
			       EXEC_REGISTER, &a, why),
			 0);
	assert_string_equal(a.value, "0-3");
	exec_answer_free(&a);
	assert_int_equal(parse("{\"id\":5,\"type\":\"ok\",\"value\":null}", 5, HISTORY_READ,
			       EXEC_REGISTER, &a, why),
			 0);
	assert_null(a.value);
	exec_answer_free(&a);
	assert_int_equal(parse("{\"id\":6,\"type\":\"ok\",\"value\":[\"a\",\"b\"]}", 6,
			       HISTORY_READ, EXEC_SET, &a, why),
			 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.items[1], "b");
	exec_answer_free(&a);
	assert_int_equal(parse("{\"id\":6,\"type\":\"ok\",\"value\":[]}", 6, HISTORY_READ,
			       EXEC_LIST, &a, why),
			 0);
	assert_int_equal(a.n, 0);
	assert_non_null(a.items);
	exec_answer_free(&a);
}

static void expect_refused(const char *line, uint64_t id, enum history_f f, enum exec_shape shape,
			   const char *reason)
{
	struct exec_answer a;
	char why[200];

	assert_int_equal(parse(line, id, f, shape, &a, why), -EPROTO);
	if (!strstr(why, reason))
		fail_msg("%s: \"%s\" does not say \"%s\"", line, why, reason);
}

static void test_broken_answers(void **state)
{
	(void)state;
	expect_refused("hello", 1, HISTORY_WRITE, EXEC_REGISTER, "not JSON");
	expect_refused("{\"id\":1,\"type\":\"ok\"", 1, HISTORY_WRITE, EXEC_REGISTER, "not JSON");
	expect_refused("[1,2]", 1, HISTORY_WRITE, EXEC_REGISTER, "JSON object");
	expect_refused("{\"type\":\"ok\"}", 1, HISTORY_WRITE, EXEC_REGISTER, "without a numeric");
	expect_refused("{\"id\":\"1\",\"type\":\"ok\"}", 1, HISTORY_WRITE, EXEC_REGISTER,
		       "without a numeric");
	expect_refused("{\"id\":99,\"type\":\"ok\"}", 1, HISTORY_WRITE, EXEC_REGISTER,
		       "never asked");
	expect_refused("{\"id\":1,\"type\":\"ok\"}", 2, HISTORY_WRITE, EXEC_REGISTER,
		       "answered or given up");
	expect_refused("{\"id\":1,\"type\":\"done\"}", 1, HISTORY_WRITE, EXEC_REGISTER,
		       "\"type\" is");
	expect_refused("{\"id\":1}", 1, HISTORY_WRITE, EXEC_REGISTER, "\"type\" is");
	expect_refused("{\"id\":1,\"type\":\"ok\"}", 1, HISTORY_READ, EXEC_REGISTER,
		       "without a \"value\"");
	expect_refused("{\"id\":1,\"type\":\"ok\",\"value\":3}", 1, HISTORY_READ, EXEC_REGISTER,
		       "string or null");
	expect_refused("{\"id\":1,\"type\":\"ok\",\"value\":\"a\"}", 1, HISTORY_READ, EXEC_SET,
		       "array of strings");
	expect_refused("{\"id\":1,\"type\":\"ok\",\"value\":[\"a\",2]}", 1, HISTORY_READ, EXEC_LIST,
		       "array of strings");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_good_answers),
		cmocka_unit_test(test_broken_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
