// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the message diagram (lib/msg_diagram): lanes named from the first name given,
 * bands, delivered arrows with their hover, every lost one red with its cause, folded counts,
 * text escaped, every element closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/msg_diagram.h"

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* A stream into memory for one picture. */
static FILE *open_buffer(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	assert_non_null(f);
	return f;
}

static void test_diagram(void **state)
{
	struct msg_diagram d = { .lanes = 3, .t0_s = -0.5, .t1_s = 2, .want_px = 100, .n_lost = 2 };
	char *buf;
	size_t len;
	FILE *f = open_buffer(&buf, &len);

	(void)state;
	msg_diagram_begin(f, &d, "messages", "test & check");
	/* 600 pixels at least, whatever was asked; three lanes 170 apart. */
	assert_true(d.px_per_s * 2.5 >= 600);
	assert_true(d.width > 3 * 170);
	msg_diagram_band(f, &d, 0.5, 1, "partition <halves>", NULL);
	msg_diagram_axes(f, &d);
	msg_diagram_delivered(f, &d, 0, 1, 0.1, 0.2, "gossip", "n0 to n1: gossip msg_id 1");
	msg_diagram_delivered(f, &d, 1, 0, 0.3, 0.3, NULL, NULL);
	msg_diagram_lost(f, &d, 1, 2, 0.6, "loss", "ack", "lost (loss): n1 to n2: ack msg_id 2");
	msg_diagram_lost(f, &d, 2, 0, 0.7, "node killed", NULL, NULL);
	assert_true(msg_diagram_bucket(&d, 1.9) < msg_diagram_buckets(&d));
	assert_int_equal(msg_diagram_bucket(&d, 5), msg_diagram_buckets(&d) - 1);
	msg_diagram_folded(f, &d, 0, 2, msg_diagram_bucket(&d, 1.5), 40);
	assert_int_equal(msg_diagram_end(f, &d, "only the first 2 messages are drawn"), 0);
	fclose(f);

	assert_int_equal(count(buf, "<g class=\"lost\""), 2);
	assert_non_null(strstr(buf, "data-cause=\"node killed\"><title>node killed</title>"));
	assert_non_null(strstr(buf, "<title>lost (loss): n1 to n2: ack msg_id 2</title>"));
	/* Only a delivered arrow with a hover is a group of its own. */
	assert_int_equal(count(buf, "<g class=\"msg\""), 1);
	assert_int_equal(count(buf, "class=\"ok\""), 3);
	assert_non_null(strstr(buf, "<title>40 delivered n0 -&gt; n2</title>"));
	assert_non_null(strstr(buf, ">gossip</text>"));
	assert_non_null(strstr(buf, ">ack</text>"));
	assert_non_null(strstr(buf, "partition &lt;halves&gt;"));
	assert_non_null(strstr(buf, "test &amp; check"));
	assert_non_null(strstr(buf, ">n0</text>"));
	assert_non_null(strstr(buf, ">n2</text>"));
	assert_non_null(strstr(buf, "only the first 2 messages are drawn"));
	/* Every element opened is closed. */
	assert_int_equal(count(buf, "<svg "), 1);
	assert_int_equal(count(buf, "</svg>"), 1);
	assert_int_equal(count(buf, "<g "), count(buf, "</g>"));
	assert_int_equal(count(buf, "<title>"), count(buf, "</title>"));
	assert_int_equal(count(buf, "<text "), count(buf, "</text>"));
	free(buf);
}

/* A big lab's lanes come closer, and their names are drawn only where they fit. */
static void test_many_lanes(void **state)
{
	struct msg_diagram d = { .lanes = 500, .first_name = 1, .t1_s = 1 };
	char *buf;
	size_t len;
	FILE *f = open_buffer(&buf, &len);

	(void)state;
	msg_diagram_begin(f, &d, "sequence", "lab x");
	msg_diagram_axes(f, &d);
	assert_int_equal(msg_diagram_end(f, &d, NULL), 0);
	fclose(f);
	assert_true(d.width < 500 * 170);
	assert_int_equal(count(buf, "class=\"lane\""), 500);
	assert_non_null(strstr(buf, ">n1</text>"));
	assert_true(count(buf, "class=\"node\"") < 500);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagram),
		cmocka_unit_test(test_many_lanes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
