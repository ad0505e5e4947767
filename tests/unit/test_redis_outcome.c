// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of how Redis answers become history outcomes: ok only on a definite success, fail
 * only where the operation surely did not happen, info for everything unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/capctl/redis_outcome.h"

static enum history_type outcome(enum history_f f, enum redis_transport t,
				 enum redis_reply_kind kind, const char *text, long long integer,
				 char *why)
{
	struct redis_answer a = { .transport = t, .kind = kind, .text = text, .integer = integer };

	return redis_outcome(f, &a, why, 128);
}

static void test_definite_success(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(outcome(HISTORY_READ, REDIS_ANSWERED, REDIS_REPLY_KIND_STRING, "v", 0,
				 why),
			 HISTORY_OK);
	assert_int_equal(outcome(HISTORY_READ, REDIS_ANSWERED, REDIS_REPLY_KIND_NIL, NULL, 0, why),
			 HISTORY_OK);
	assert_int_equal(outcome(HISTORY_WRITE, REDIS_ANSWERED, REDIS_REPLY_KIND_STATUS, "OK", 0,
				 why),
			 HISTORY_OK);
	assert_int_equal(outcome(HISTORY_CAS, REDIS_ANSWERED, REDIS_REPLY_KIND_INTEGER, NULL, 1,
				 why),
			 HISTORY_OK);
}

static void test_surely_not_applied(void **state)
{
	static const char *const refusals[] = {
		"READONLY You can't write against a read only replica.",
		"NOREPLICAS Not enough good replicas to write.",
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
		"LOADING Redis is loading the dataset in memory",
		"BUSY Redis is busy running a script.",
		"OOM command not allowed when used memory > 'maxmemory'.",
	};
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		assert_int_equal(outcome(HISTORY_WRITE, REDIS_ANSWERED, REDIS_REPLY_KIND_ERROR,
					 refusals[i], 0, why),
				 HISTORY_FAIL);
		assert_string_equal(why, refusals[i]);
		assert_int_equal(outcome(HISTORY_CAS, REDIS_ANSWERED, REDIS_REPLY_KIND_ERROR,
					 refusals[i], 0, why),
				 HISTORY_FAIL);
	}
	/* A cas that found another value, or no value. */
	assert_int_equal(outcome(HISTORY_CAS, REDIS_ANSWERED, REDIS_REPLY_KIND_INTEGER, NULL, 0,
				 why),
			 HISTORY_FAIL);
	assert_string_equal(why, "found another value");
	assert_int_equal(outcome(HISTORY_CAS, REDIS_ANSWERED, REDIS_REPLY_KIND_INTEGER, NULL, -1,
				 why),
			 HISTORY_FAIL);
	/* Never sent: no connection, connection refused. */
	assert_int_equal(outcome(HISTORY_WRITE, REDIS_NOT_SENT, REDIS_REPLY_KIND_OTHER,
				 "Connection refused", 0, why),
			 HISTORY_FAIL);
	assert_string_equal(why, "not sent: Connection refused");
	/* A read changes nothing: refused, it is a fail whatever the error. */
	assert_int_equal(outcome(HISTORY_READ, REDIS_ANSWERED, REDIS_REPLY_KIND_ERROR,
				 "ERR something", 0, why),
			 HISTORY_FAIL);
}

static void test_unknown(void **state)
{
	char why[128];

	(void)state;
	/* Sent, then nothing: it may have happened. */
	assert_int_equal(outcome(HISTORY_WRITE, REDIS_LOST, REDIS_REPLY_KIND_OTHER,
				 "no answer in time", 0, why),
			 HISTORY_INFO);
	assert_string_equal(why, "sent, then no answer in time");
	assert_int_equal(outcome(HISTORY_CAS, REDIS_LOST, REDIS_REPLY_KIND_OTHER,
				 "Connection reset by peer", 0, why),
			 HISTORY_INFO);
	assert_int_equal(outcome(HISTORY_READ, REDIS_LOST, REDIS_REPLY_KIND_OTHER,
				 "Server closed "
				 "the connection",
				 0, why),
			 HISTORY_INFO);
	/* An error Redis may give after it did something: unknown. */
	assert_int_equal(outcome(HISTORY_WRITE, REDIS_ANSWERED, REDIS_REPLY_KIND_ERROR,
				 "ERR Error running script", 0, why),
			 HISTORY_INFO);
	/* "READONLYX" is not READONLY. */
	assert_int_equal(outcome(HISTORY_WRITE, REDIS_ANSWERED, REDIS_REPLY_KIND_ERROR, "READONLYX",
				 0, why),
			 HISTORY_INFO);
	/* Replies the op does not expect. */
	assert_int_equal(outcome(HISTORY_WRITE, REDIS_ANSWERED, REDIS_REPLY_KIND_STATUS, "QUEUED",
				 0, why),
			 HISTORY_INFO);
	assert_int_equal(outcome(HISTORY_CAS, REDIS_ANSWERED, REDIS_REPLY_KIND_INTEGER, NULL, 7,
				 why),
			 HISTORY_INFO);
	assert_int_equal(outcome(HISTORY_READ, REDIS_ANSWERED, REDIS_REPLY_KIND_OTHER, "", 0, why),
			 HISTORY_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definite_success),
		cmocka_unit_test(test_surely_not_applied),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
