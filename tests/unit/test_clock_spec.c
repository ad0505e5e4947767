// SPDX-License-Identifier: GPL-2.0-only
/* capnet clock's arguments, settings and libfaketime texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netem/svc/clock_spec.h"

#define S 1000000000ll

static int parse(const char *a, const char *b, struct clock_change *c, struct spec_error *e)
{
	char *argv[] = { (char *)a, (char *)b };

	return clock_change_parse(b ? 2 : 1, argv, c, e);
}

static void test_parse(void **state)
{
	struct clock_change c;
	struct spec_error e;

	(void)state;
	assert_int_equal(parse("--offset", "+30s", &c, &e), 0);
	assert_int_equal(c.action, CLOCK_OFFSET);
	assert_int_equal(c.offset_ns, 30 * S);
	assert_int_equal(parse("--offset", "-2.5s", &c, &e), 0);
	assert_int_equal(c.offset_ns, -25 * S / 10);
	assert_int_equal(parse("--offset", "500ms", &c, &e), 0);
	assert_int_equal(c.offset_ns, S / 2);
	assert_int_equal(parse("--offset", "90", &c, &e), 0);
	assert_int_equal(c.offset_ns, 90 * S);
	assert_int_equal(parse("--rate", "2", &c, &e), 0);
	assert_true(c.action == CLOCK_RATE && c.rate == 2.0);
	assert_int_equal(parse("--rate", "0.5", &c, &e), 0);
	assert_int_equal(parse("--strobe", "+5s,2s", &c, &e), 0);
	assert_true(c.action == CLOCK_STROBE && c.offset_ns == 5 * S && c.period_ns == 2 * S);
	assert_int_equal(parse("--strobe", "-1s,1s", &c, &e), 0);
	assert_int_equal(c.offset_ns, -S);
	assert_int_equal(parse("--reset", NULL, &c, &e), 0);
	assert_int_equal(c.action, CLOCK_RESET);
}

static void test_refuses(void **state)
{
	static const char *const bad[][2] = {
		{ "--offset", "abc" },	 { "--offset", "+" },	 { "--offset", "++3s" },
		{ "--offset", "400d" },	 { "--offset", "+-3s" }, { "--rate", "0" },
		{ "--rate", "-1" },	 { "--rate", "1000" },	 { "--rate", "2x" },
		{ "--rate", "nan" },	 { "--strobe", "5s" },	 { "--strobe", "5s,100ms" },
		{ "--strobe", "0s,1s" }, { "--strobe", ",1s" },	 { "--strobe", "5s,2h" },
		{ "--reset", "now" },	 { "--frob", "1" },	 { "--offset", "" },
	};
	struct clock_change c;
	struct spec_error e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if (!parse(bad[i][0], bad[i][1], &c, &e))
			fail_msg("%s %s accepted", bad[i][0], bad[i][1]);
		assert_true(strlen(e.msg) > 0);
	}
	/* No option, or two. */
	{
		char *none[] = { NULL };
		char *two[] = { "--offset", "1s", "--rate", "2" };

		assert_int_equal(clock_change_parse(0, none, &c, &e), -EINVAL);
		assert_int_equal(clock_change_parse(4, two, &c, &e), -EINVAL);
	}
	parse("--strobe", "5s,100ms", &c, &e);
	assert_non_null(strstr(e.msg, "once a second"));
}

static void test_apply_and_offsets(void **state)
{
	struct clock_setting truth = { .rate = 1.0 }, a, b, c;
	struct clock_change off = { .action = CLOCK_OFFSET, .offset_ns = 30 * S };
	struct clock_change fast = { .action = CLOCK_RATE, .rate = 2.0 };
	struct clock_change reset = { .action = CLOCK_RESET };
	struct clock_change strobe = { .action = CLOCK_STROBE, .offset_ns = 5 * S, .period_ns = S };

	(void)state;
	clock_apply(&truth, &off, 100 * S, &a);
	assert_int_equal(clock_offset_at(&a, 500 * S), 30 * S);
	/* A rate runs from where the clock stands: 10 s at double speed gain 10 s. */
	clock_apply(&a, &fast, 200 * S, &b);
	assert_int_equal(b.offset_ns, 30 * S);
	assert_int_equal(clock_offset_at(&b, 210 * S), 40 * S);
	/* A strobe rests where the clock stands, at the true rate. */
	clock_apply(&b, &strobe, 210 * S, &c);
	assert_int_equal(c.offset_ns, 40 * S);
	assert_true(c.rate == 1.0);
	clock_apply(&c, &reset, 300 * S, &a);
	assert_true(clock_setting_is_true(&a));
}

static void test_texts(void **state)
{
	struct clock_setting s = { .offset_ns = -2500000000ll, .rate = 1.0, .since_ns = 7 }, back;
	char buf[128];

	(void)state;
	clock_setting_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "-2.500000000 x1.000000 since 7");
	assert_int_equal(clock_setting_parse(buf, &back), 0);
	assert_true(back.offset_ns == s.offset_ns && back.rate == 1.0 && back.since_ns == 7);
	/* What libfaketime reads: at the true rate, the offset whenever the service started. */
	clock_control_format(&s, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-2.500000000 x1.000000");
	clock_control_format(&s, 5 * S, buf, sizeof(buf));
	assert_string_equal(buf, "-2.500000000 x1.000000");
	/* At another rate, what makes S + OFF + (t - S) * R the setting's clock: a service that
	 * started 10 s before the change, at double speed, is told 10 s less. */
	s.rate = 2.0;
	s.since_ns = 10 * S;
	clock_control_format(&s, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-12.500000000 x2.000000");
	s.since_ns = 7;
	clock_setting_describe(&s, 7 + 3 * S, buf, sizeof(buf));
	assert_string_equal(buf, "+0.5 s, rate 2");
	s.rate = 1.0;
	s.offset_ns = 0;
	clock_setting_describe(&s, 0, buf, sizeof(buf));
	assert_string_equal(buf, "true time");
	/* Nothing capnet did not write. */
	assert_int_equal(clock_setting_parse("+30 x1", &back), -EINVAL);
	assert_int_equal(clock_setting_parse("+1.5 x1.000000 since 0", &back), -EINVAL);
	assert_int_equal(clock_setting_parse("+1.000000000 x0.000000 since 0", &back), -EINVAL);
	assert_int_equal(clock_setting_parse("+1.000000000 x1.000000 since 0 extra", &back),
			 -EINVAL);
	assert_int_equal(clock_setting_parse("", &back), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_apply_and_offsets),
		cmocka_unit_test(test_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
