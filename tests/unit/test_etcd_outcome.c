// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of how etcd gateway answers become history outcomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/capctl/etcd_outcome.h"

static enum history_type outcome(enum history_f f, enum etcd_transport t, long status,
				 const char *error, bool succeeded, char *why)
{
	struct etcd_answer a = { .transport = t,
				 .http_status = status,
				 .error = error,
				 .succeeded = succeeded,
				 .body_ok = status == 200 && !error,
				 .text = "Timeout was reached" };

	return etcd_outcome(f, &a, why, 128);
}

static void test_ok(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(outcome(HISTORY_READ, ETCD_ANSWERED, 200, NULL, false, why), HISTORY_OK);
	assert_int_equal(outcome(HISTORY_WRITE, ETCD_ANSWERED, 200, NULL, false, why), HISTORY_OK);
	assert_int_equal(outcome(HISTORY_CAS, ETCD_ANSWERED, 200, NULL, true, why), HISTORY_OK);
}

static void test_fail(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(outcome(HISTORY_CAS, ETCD_ANSWERED, 200, NULL, false, why), HISTORY_FAIL);
	assert_string_equal(why, "found another value");
	assert_int_equal(outcome(HISTORY_WRITE, ETCD_NOT_SENT, 0, NULL, false, why), HISTORY_FAIL);
	assert_int_equal(outcome(HISTORY_WRITE, ETCD_ANSWERED, 503, "etcdserver: no leader", false,
				 why),
			 HISTORY_FAIL);
	assert_string_equal(why, "etcdserver: no leader");
	assert_int_equal(outcome(HISTORY_CAS, ETCD_ANSWERED, 429, "etcdserver: too many requests",
				 false, why),
			 HISTORY_FAIL);
	/* A read has no effect: any refusal is a fail. */
	assert_int_equal(outcome(HISTORY_READ, ETCD_ANSWERED, 503, "etcdserver: request timed out",
				 false, why),
			 HISTORY_FAIL);
	assert_int_equal(outcome(HISTORY_READ, ETCD_ANSWERED, 502, NULL, false, why), HISTORY_FAIL);
}

static void test_info(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(outcome(HISTORY_WRITE, ETCD_LOST, 0, NULL, false, why), HISTORY_INFO);
	assert_string_equal(why, "sent, then Timeout was reached");
	/* Proposed, then nobody knows: the entry may still commit. */
	assert_int_equal(outcome(HISTORY_WRITE, ETCD_ANSWERED, 503, "etcdserver: request timed out",
				 false, why),
			 HISTORY_INFO);
	assert_int_equal(outcome(HISTORY_CAS, ETCD_ANSWERED, 503, "etcdserver: leader changed",
				 false, why),
			 HISTORY_INFO);
	/* An answer that is not etcd's. */
	assert_int_equal(outcome(HISTORY_WRITE, ETCD_ANSWERED, 502, NULL, false, why),
			 HISTORY_INFO);
	assert_non_null(strstr(why, "HTTP 502"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
