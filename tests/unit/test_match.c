// SPDX-License-Identifier: GPL-2.0-only
/* --only / --except specs: what they accept, what they refuse, how they print and compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netem/policy/match.h"

static void assert_round_trip(const char *text, bool negate, const char *printed)
{
	struct capnet_match m, again;
	struct spec_error e;
	char buf[256], specs[256];

	if (match_parse(text, negate, &m, &e))
		fail_msg("\"%s\" refused: %s", text, e.msg);
	match_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, printed);
	/* What is printed reads back to the same match. */
	match_format_specs(&m, specs, sizeof(specs));
	assert_int_equal(match_parse(specs, negate, &again, &e), 0);
	assert_true(match_equal(&m, &again));
}

static void test_accepts(void **state)
{
	(void)state;
	assert_round_trip("tcp:2380", false, "only tcp:2380");
	assert_round_trip("udp:5000,tcp:2380", false, "only tcp:2380,udp:5000");
	assert_round_trip("tcp", false, "only tcp");
	assert_round_trip("udp", true, "except udp");
	assert_round_trip("icmp", false, "only icmp");
	assert_round_trip("arp", false, "only arp");
	assert_round_trip("ip:132", false, "only ip:132");
	assert_round_trip("tcp:1,tcp:65535", false, "only tcp:1,tcp:65535");
	/* One spelling per set of frames. */
	assert_round_trip("ip:6", false, "only tcp");
	assert_round_trip("ip:17,udp:53", false, "only udp");
	assert_round_trip("tcp:80,tcp,tcp:80", false, "only tcp");
	assert_round_trip("udp:53,udp:53", false, "only udp:53");
}

static void test_refuses(void **state)
{
	static const char *const bad[] = {
		"",	     "tcp:0",	   "tcp:65536",
		"udp:-1",    "tcp:80x",	   "tcp:",
		"sctp",	     "ip",	   "ip:0",
		"ip:256",    "ip:tcp",	   "icmp:1",
		"arp:2",     "tcp:80,",	   ",tcp",
		"tcp,,udp",  "TCP:80",	   " tcp",
		"udp:5000 ", "ether:0806", "tcp:1,tcp:2,tcp:3,tcp:4,tcp:5,tcp:6,tcp:7,tcp:8,tcp:9",
	};
	struct capnet_match m;
	struct spec_error e;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if (!match_parse(bad[i], false, &m, &e))
			fail_msg("\"%s\" accepted", bad[i]);
		assert_true(strlen(e.msg) > 0);
	}
	/* The message names the range. */
	match_parse("tcp:70000", false, &m, &e);
	assert_non_null(strstr(e.msg, "1..65535"));
	match_parse("foo", false, &m, &e);
	assert_non_null(strstr(e.msg, "tcp:PORT"));
}

static void test_equal(void **state)
{
	struct capnet_match a, b, c;
	struct spec_error e;
	char buf[8];

	(void)state;
	assert_int_equal(match_parse("udp:5000,tcp:2380", false, &a, &e), 0);
	assert_int_equal(match_parse("tcp:2380,udp:5000", false, &b, &e), 0);
	assert_true(match_equal(&a, &b));
	assert_int_equal(match_parse("tcp:2380,udp:5000", true, &c, &e), 0);
	assert_false(match_equal(&a, &c));
	assert_false(match_is_all(&a));
	memset(&c, 0, sizeof(c));
	assert_true(match_is_all(&c));
	/* Every frame: nothing to say. */
	strcpy(buf, "x");
	match_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_option(void **state)
{
	char *argv[] = { "1", "--only", "tcp:2380", "--except", "udp", "--only" };
	struct match_opt opt = {};
	struct spec_error e;
	int i = 0;

	(void)state;
	assert_int_equal(match_take_option(6, argv, &i, &opt, &e), 0);
	i = 1;
	assert_int_equal(match_take_option(6, argv, &i, &opt, &e), 1);
	assert_int_equal(i, 2);
	assert_true(opt.given);
	/* A second one, of either kind, is refused. */
	i = 3;
	assert_int_equal(match_take_option(6, argv, &i, &opt, &e), -1);
	assert_non_null(strstr(e.msg, "not both"));
	/* A missing value is said. */
	opt.given = false;
	i = 5;
	assert_int_equal(match_take_option(6, argv, &i, &opt, &e), -1);
	assert_non_null(strstr(e.msg, "needs a SPEC"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
