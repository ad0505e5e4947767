// SPDX-License-Identifier: GPL-2.0-only
/* lib/svg's axes and labels: a latency axis has three labelled ticks or more at 1-2-5 steps
 * with units, whatever the latencies; a time axis ticks at round seconds once it spans three;
 * throughput ticks are in ops/s from 0; labels are placed only where they cover none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/svg.h"

static bool on_125_grid(double v)
{
	while (v >= 10 - 1e-9)
		v /= 10;
	while (v < 1 - 1e-9)
		v *= 10;
	return fabs(v - 1) < 1e-6 || fabs(v - 2) < 1e-6 || fabs(v - 5) < 1e-6;
}

static void test_latency_axis(void **state)
{
	static const double ranges[][2] = { { 0.3, 0.4 }, { 1, 1 },	  { 0.01, 9000 }, { 0, 5 },
					    { 2.5, 2.6 }, { 1e-6, 1e-6 }, { 0.2, 60000 } };
	double ticks[SVG_MAX_TICKS];
	char label[48];

	(void)state;
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		struct svg_range ms = { 0 };
		struct svg_axis a;
		size_t n;

		svg_range_add(&ms, ranges[r][0]);
		svg_range_add(&ms, ranges[r][1]);
		svg_axis_latency(&a, &ms);
		assert_int_equal(a.scale, SVG_LOG);
		assert_true(a.lo <= ranges[r][0] || ranges[r][0] < 1e-3);
		assert_true(a.hi >= ranges[r][1]);
		/* 160 pixels tall, as capctl report's panels, labels 16 pixels apart. */
		n = svg_ticks(&a, 160, 16, ticks, SVG_MAX_TICKS);
		assert_true(n >= 3);
		for (size_t i = 0; i < n; i++) {
			assert_true(on_125_grid(ticks[i]));
			if (i)
				assert_true(ticks[i] > ticks[i - 1]);
		}
	}
	{
		struct svg_axis a = { SVG_LOG, SVG_MILLISECONDS, 0.1, 1000 };

		svg_tick_label(&a, 0.1, label, sizeof(label));
		assert_string_equal(label, "0.1 ms");
		svg_tick_label(&a, 20, label, sizeof(label));
		assert_string_equal(label, "20 ms");
		svg_tick_label(&a, 1000, label, sizeof(label));
		assert_string_equal(label, "1 s");
		svg_tick_label(&a, 5000, label, sizeof(label));
		assert_string_equal(label, "5 s");
	}
}

static void test_time_and_rate_axes(void **state)
{
	struct svg_axis t = { SVG_LINEAR, SVG_SECONDS, 0, 20.7 }, r;
	double ticks[SVG_MAX_TICKS];
	char label[48];
	size_t n;

	(void)state;
	/* Round seconds on 900 pixels, labels 40 pixels wide: 1 or 2 s apart. */
	n = svg_ticks(&t, 900, 40, ticks, SVG_MAX_TICKS);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++)
		assert_true(ticks[i] == (double)(long)ticks[i]);
	svg_tick_label(&t, ticks[1], label, sizeof(label));
	assert_true(!strcmp(label, "1 s") || !strcmp(label, "2 s") || !strcmp(label, "5 s"));
	/* A tenth of a second: ticks at 1-2-5 hundredths, still three or more. */
	t = (struct svg_axis){ SVG_LINEAR, SVG_SECONDS, 0.5, 0.6 };
	n = svg_ticks(&t, 900, 40, ticks, SVG_MAX_TICKS);
	assert_true(n >= 3);
	svg_tick_label(&t, ticks[0], label, sizeof(label));
	assert_string_equal(label, "0.5 s");
	/* A rate axis from 0 to a tick above the highest rate. */
	svg_axis_linear(&r, SVG_PER_SECOND, 237);
	assert_true(r.lo == 0 && r.hi >= 237 && r.hi <= 300);
	n = svg_ticks(&r, 150, 16, ticks, SVG_MAX_TICKS);
	assert_true(n >= 3);
	assert_true(ticks[n - 1] == r.hi);
	svg_tick_label(&r, ticks[1], label, sizeof(label));
	assert_non_null(strstr(label, " ops/s"));
	/* No span, no ticks (and no endless loop). */
	t.hi = t.lo;
	assert_int_equal(svg_ticks(&t, 900, 40, ticks, SVG_MAX_TICKS), 0);
}

static void test_labels_never_cover_each_other(void **state)
{
	struct svg_labels l = { 0 };

	(void)state;
	assert_true(svg_labels_take(&l, 100, 100, NULL, 11, "partition 1 | 2-5"));
	/* The same place, a little lower, or ending where it starts: refused. */
	assert_false(svg_labels_take(&l, 100, 105, NULL, 11, "heal"));
	assert_false(svg_labels_take(&l, 110, 100, "end", 11, "gen 2: healthy"));
	/* A line below, or clear to the right: placed. */
	assert_true(svg_labels_take(&l, 100, 116, NULL, 11, "heal"));
	assert_true(svg_labels_take(&l, 100 + svg_text_width("partition 1 | 2-5", 11) + 2, 100,
				    NULL, 11, "kill 3"));
	assert_int_equal(l.n, 3);
	/* Wider text is measured wider. */
	assert_true(svg_text_width("WWWW", 11) > svg_text_width("iiii", 11));
	svg_labels_free(&l);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_axis),
		cmocka_unit_test(test_time_and_rate_axes),
		cmocka_unit_test(test_labels_never_cover_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
