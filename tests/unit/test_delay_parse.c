// SPDX-License-Identifier: GPL-2.0-only
/* What users type after capnet link --delay, --jitter and --rate, and how a delayed link is
 * printed back: units, limits, refusals, and the set of links a command edits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netem/delay/delay_line.h"

static void test_times(void **state)
{
	uint64_t ns = 7;

	(void)state;
	assert_int_equal(delay_parse_time_ns("20ms", &ns), 0);
	assert_int_equal(ns, 20000000);
	assert_int_equal(delay_parse_time_ns("1.5ms", &ns), 0);
	assert_int_equal(ns, 1500000);
	assert_int_equal(delay_parse_time_ns("250us", &ns), 0);
	assert_int_equal(ns, 250000);
	assert_int_equal(delay_parse_time_ns("2s", &ns), 0);
	assert_int_equal(ns, 2000000000ull);
	assert_int_equal(delay_parse_time_ns("100NS", &ns), 0);
	assert_int_equal(ns, 100);
	/* 0 needs no unit: it clears. */
	assert_int_equal(delay_parse_time_ns("0", &ns), 0);
	assert_int_equal(ns, 0);
	/* A bare number is ambiguous (ms? s?), so it is refused, and so is anything odd. */
	ns = 7;
	assert_int_equal(delay_parse_time_ns("20", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("-5ms", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("5 ms", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("5min", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("ms", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("nanms", &ns), -EINVAL);
	assert_int_equal(delay_parse_time_ns("infms", &ns), -EINVAL);
	/* At most a minute: a longer "delay" is a partition, and says so by being refused. */
	assert_int_equal(delay_parse_time_ns("60s", &ns), 0);
	assert_int_equal(delay_parse_time_ns("61s", &ns), -EINVAL);
	assert_int_equal(ns, 60000000000ull);
}

static void test_rates(void **state)
{
	uint64_t bps = 7;

	(void)state;
	assert_int_equal(delay_parse_rate_bps("10mbit", &bps), 0);
	assert_int_equal(bps, 10000000);
	assert_int_equal(delay_parse_rate_bps("1.5Gbit", &bps), 0);
	assert_int_equal(bps, 1500000000);
	assert_int_equal(delay_parse_rate_bps("64kbit", &bps), 0);
	assert_int_equal(bps, 64000);
	assert_int_equal(delay_parse_rate_bps("0", &bps), 0);
	assert_int_equal(bps, 0);
	bps = 7;
	/* Fewer than 8 bit/s cannot send one byte a second. */
	assert_int_equal(delay_parse_rate_bps("4bit", &bps), -EINVAL);
	assert_int_equal(delay_parse_rate_bps("10", &bps), -EINVAL);
	assert_int_equal(delay_parse_rate_bps("10mbps", &bps), -EINVAL);
	assert_int_equal(delay_parse_rate_bps("2000gbit", &bps), -EINVAL);
	assert_int_equal(bps, 7);
}

/* The distributions by name, both ways; a name not known is refused and leaves the value. */
static void test_dist_names(void **state)
{
	uint32_t dist = 7;

	(void)state;
	assert_int_equal(delay_dist_parse("exponential", &dist), 0);
	assert_int_equal(dist, CAPNET_DIST_EXPONENTIAL);
	assert_string_equal(delay_dist_name(dist), "exponential");
	assert_int_equal(delay_dist_parse("normal", &dist), 0);
	assert_string_equal(delay_dist_name(dist), "normal");
	assert_int_equal(delay_dist_parse("uniform", &dist), 0);
	assert_string_equal(delay_dist_name(dist), "uniform");
	assert_int_equal(delay_dist_parse("pareto", &dist), -EINVAL);
	assert_int_equal(dist, CAPNET_DIST_UNIFORM);
}

static void test_set_put_and_format(void **state)
{
	static struct delay_set set;
	struct capnet_delay_params p = { .delay_ns = 20000000,
					 .jitter_ns = 5000000,
					 .dist = CAPNET_DIST_NORMAL,
					 .rate_bps = 10000000 };
	struct capnet_delay_params none = { 0 };
	char text[128];

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(delay_set_put(&set, 1, 3, &p), 0);
	assert_int_equal(delay_set_put(&set, 3, 1, &p), 0);
	assert_int_equal(set.count, 2);
	delay_link_format(&set.items[0], text, sizeof(text));
	assert_string_equal(text, "1->3 20ms +-5ms normal 10mbit");
	/* Setting a link again replaces it, not a second entry. */
	p.jitter_ns = 0;
	p.rate_bps = 0;
	p.reorder = 1;
	assert_int_equal(delay_set_put(&set, 1, 3, &p), 0);
	assert_int_equal(set.count, 2);
	delay_link_format(&set.items[0], text, sizeof(text));
	assert_string_equal(text, "1->3 20ms reorder");
	/* All zero removes it; the wildcard prints as all. */
	assert_int_equal(delay_set_put(&set, 1, 3, &none), 0);
	assert_int_equal(set.count, 1);
	p = (struct capnet_delay_params){ .delay_ns = 1500000000 };
	assert_int_equal(delay_set_put(&set, CAPNET_DELAY_ANY, CAPNET_DELAY_ANY, &p), 0);
	delay_link_format(&set.items[1], text, sizeof(text));
	assert_string_equal(text, "all->all 1.5s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_dist_names),
		cmocka_unit_test(test_set_put_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
