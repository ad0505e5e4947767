// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of Maelstrom's services as the harness offers them: lin-kv answers from one copy;
 * seq-kv serves stale reads, but never older than what a node saw, and a node's own write moves
 * it to the newest state; lww-kv's replicas disagree until they gossip; lin-tso only grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netem/maelstrom/services.h"

/* The reply to one request, as text (static: one at a time). */
static const char *ask(struct mael_services *s, enum mael_service svc, unsigned int node,
		       const char *body)
{
	static char out[512];
	struct json_value v;
	char *reply = NULL;

	assert_int_equal(json_parse(body, strlen(body), 8, &v, NULL), 0);
	assert_int_equal(mael_services_handle(s, svc, node, &v, 0, &reply), 0);
	json_value_free(&v);
	assert_non_null(reply);
	snprintf(out, sizeof(out), "%s", reply);
	free(reply);
	return out;
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < MAEL_SERVICES; i++)
		assert_int_equal(mael_service_parse(mael_service_name(i)), i);
	assert_int_equal(mael_service_parse("n1"), -1);
	assert_int_equal(mael_service_parse("lin_kv"), -1);
}

static void test_lin_kv(void **state)
{
	struct mael_services *s = mael_services_new(2, 1);

	(void)state;
	assert_non_null(strstr(ask(s, MAEL_LIN_KV_SERVICE, 0, "{\"type\":\"read\",\"key\":\"x\"}"),
			       "\"code\":20"));
	assert_non_null(strstr(ask(s, MAEL_LIN_KV_SERVICE, 0,
				   "{\"type\":\"cas\",\"key\":\"x\",\"from\":1,\"to\":2}"),
			       "\"code\":20"));
	assert_string_equal(ask(s, MAEL_LIN_KV_SERVICE, 0,
				"{\"type\":\"cas\",\"key\":\"x\",\"from\":1,\"to\":2,"
				"\"create_if_not_exists\":true}"),
			    "{\"type\":\"cas_ok\"}");
	assert_string_equal(ask(s, MAEL_LIN_KV_SERVICE, 1, "{\"type\":\"read\",\"key\":\"x\"}"),
			    "{\"type\":\"read_ok\",\"value\":2}");
	assert_non_null(strstr(ask(s, MAEL_LIN_KV_SERVICE, 1,
				   "{\"type\":\"cas\",\"key\":\"x\",\"from\":1,\"to\":3}"),
			       "\"code\":22"));
	/* Any JSON value, key or value, compares by its text. */
	assert_string_equal(ask(s, MAEL_LIN_KV_SERVICE, 0,
				"{\"type\":\"write\",\"key\":[1,2],\"value\":{\"a\":[true]}}"),
			    "{\"type\":\"write_ok\"}");
	assert_string_equal(ask(s, MAEL_LIN_KV_SERVICE, 1, "{\"type\":\"read\",\"key\":[1,2]}"),
			    "{\"type\":\"read_ok\",\"value\":{\"a\":[true]}}");
	/* Bad requests get Maelstrom's codes: malformed 12, not supported 10. */
	assert_non_null(
		strstr(ask(s, MAEL_LIN_KV_SERVICE, 0, "{\"type\":\"read\"}"), "\"code\":12"));
	assert_non_null(strstr(ask(s, MAEL_LIN_KV_SERVICE, 0, "{\"type\":\"delete\",\"key\":1}"),
			       "\"code\":10"));
	assert_non_null(strstr(ask(s, MAEL_LIN_KV_SERVICE, 0, "{\"key\":1}"), "\"code\":12"));
	mael_services_free(s);
}

static void test_seq_kv_stale_but_monotonic(void **state)
{
	struct mael_services *s = mael_services_new(2, 7);
	unsigned int stale = 0, last = 0;
	char body[128];

	(void)state;
	/* Node 0 writes 1..200; node 1 reads after each write. */
	for (unsigned int i = 1; i <= 200; i++) {
		const char *r;
		unsigned int v = 0;

		snprintf(body, sizeof(body), "{\"type\":\"write\",\"key\":\"k\",\"value\":%u}", i);
		assert_string_equal(ask(s, MAEL_SEQ_KV, 0, body), "{\"type\":\"write_ok\"}");
		r = ask(s, MAEL_SEQ_KV, 1, "{\"type\":\"read\",\"key\":\"k\"}");
		if (strstr(r, "\"code\":20")) {
			assert_int_equal(last, 0); /* missing only before the first value it saw */
			continue;
		}
		assert_int_equal(sscanf(r, "{\"type\":\"read_ok\",\"value\":%u}", &v), 1);
		assert_true(v >= last); /* never back in time */
		assert_true(v <= i);
		stale += v < i;
		last = v;
		/* The writer always reads its own write. */
		snprintf(body, sizeof(body), "{\"type\":\"read_ok\",\"value\":%u}", i);
		assert_string_equal(ask(s, MAEL_SEQ_KV, 0, "{\"type\":\"read\",\"key\":\"k\"}"),
				    body);
	}
	/* Stale reads really happen (the Gossip Glomers counter depends on it). */
	assert_true(stale > 20);
	/* A node's own write moves it to the newest state: then it reads the newest. */
	assert_string_equal(ask(s, MAEL_SEQ_KV, 1,
				"{\"type\":\"write\",\"key\":\"sync\",\"value\":1}"),
			    "{\"type\":\"write_ok\"}");
	assert_string_equal(ask(s, MAEL_SEQ_KV, 1, "{\"type\":\"read\",\"key\":\"k\"}"),
			    "{\"type\":\"read_ok\",\"value\":200}");
	/* cas compares with the newest state, wherever the node was. */
	assert_string_equal(ask(s, MAEL_SEQ_KV, 1,
				"{\"type\":\"cas\",\"key\":\"k\",\"from\":200,\"to\":201}"),
			    "{\"type\":\"cas_ok\"}");
	mael_services_free(s);
}

static void test_seq_kv_same_seed_same_answers(void **state)
{
	struct mael_services *a = mael_services_new(2, 42), *b = mael_services_new(2, 42);
	char body[128], first[512];

	(void)state;
	for (unsigned int i = 1; i <= 50; i++) {
		snprintf(body, sizeof(body), "{\"type\":\"write\",\"key\":\"k\",\"value\":%u}", i);
		ask(a, MAEL_SEQ_KV, 0, body);
		ask(b, MAEL_SEQ_KV, 0, body);
		snprintf(first, sizeof(first), "%s",
			 ask(a, MAEL_SEQ_KV, 1, "{\"type\":\"read\",\"key\":\"k\"}"));
		assert_string_equal(ask(b, MAEL_SEQ_KV, 1, "{\"type\":\"read\",\"key\":\"k\"}"),
				    first);
	}
	mael_services_free(a);
	mael_services_free(b);
}

static void test_lww_kv_converges(void **state)
{
	struct mael_services *s = mael_services_new(1, 3);
	unsigned int missing = 0;

	(void)state;
	assert_string_equal(ask(s, MAEL_LWW_KV, 0, "{\"type\":\"write\",\"key\":1,\"value\":9}"),
			    "{\"type\":\"write_ok\"}");
	/* One replica took the write: most reads miss it until gossip. */
	for (int i = 0; i < 50; i++)
		missing += strstr(ask(s, MAEL_LWW_KV, 0, "{\"type\":\"read\",\"key\":1}"),
				  "\"code\":20") != NULL;
	assert_true(missing > 10);
	for (int i = 0; i < 20; i++)
		assert_int_equal(mael_services_gossip(s), 0);
	for (int i = 0; i < 50; i++)
		assert_string_equal(ask(s, MAEL_LWW_KV, 0, "{\"type\":\"read\",\"key\":1}"),
				    "{\"type\":\"read_ok\",\"value\":9}");
	mael_services_free(s);
}

static void test_lin_tso(void **state)
{
	struct mael_services *s = mael_services_new(3, 1);

	(void)state;
	assert_string_equal(ask(s, MAEL_LIN_TSO, 0, "{\"type\":\"ts\"}"),
			    "{\"type\":\"ts_ok\",\"ts\":1}");
	assert_string_equal(ask(s, MAEL_LIN_TSO, 2, "{\"type\":\"ts\"}"),
			    "{\"type\":\"ts_ok\",\"ts\":2}");
	assert_non_null(strstr(ask(s, MAEL_LIN_TSO, 1, "{\"type\":\"read\"}"), "\"code\":10"));
	mael_services_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lin_kv),
		cmocka_unit_test(test_seq_kv_stale_but_monotonic),
		cmocka_unit_test(test_seq_kv_same_seed_same_answers),
		cmocka_unit_test(test_lww_kv_converges),
		cmocka_unit_test(test_lin_tso),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
