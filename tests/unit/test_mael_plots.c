// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pictures of a Maelstrom test: every message paired by the trace pairing
 * drawn, the lost ones red with their cause, the fault bands there, the latency panels. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netem/maelstrom/harness.h"

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_pictures(void **state)
{
	static struct mael_sent sent[] = {
		{ .src = 0, .dest = 1, .seq = 1, .time_ns = 100, .type = "gossip", .msg_id = 1 },
		{ .src = 0, .dest = 2, .seq = 2, .time_ns = 110, .type = "gossip", .msg_id = 2 },
		{ .src = 1, .dest = 0, .seq = 1, .time_ns = 120, .type = "ack", .msg_id = 1 },
		{ .src = 1, .dest = 2, .seq = 2, .time_ns = 130, .type = "ack", .msg_id = 2 },
		{ .src = 2, .dest = 0, .seq = 1, .time_ns = 140, .type = "vote", .msg_id = -1 },
	};
	struct mael_band band = { .from_ns = 0, .to_ns = 50, .label = "partition <halves>" };
	struct mael_op ops[] = {
		{ .outcome = MAEL_OK, .invoke_ns = 10, .complete_ns = 20 },
		{ .outcome = MAEL_INFO, .invoke_ns = 30, .complete_ns = 90, .node = 2 },
	};
	struct capnet_drop_event ev = { .src = 2,
					.dst = 3,
					.reason = CAPNET_DROP_LOSS,
					.time_ns = 131,
					.ethertype = 0x0800,
					.ip_proto = 17,
					.dport = MAEL_SHIM_PORT,
					.payload_len = 5,
					.payload = "M2 {}" };
	const struct trace_msg *lost_msgs[5];
	struct mael_lost lost = { .msgs = lost_msgs };
	struct trace_analysis an;
	struct mael_plot_input in = { .nodes = 3,
				      .t0_ns = 90,
				      .end_ns = 100,
				      .bands = &band,
				      .n_bands = 1,
				      .pairing = &an,
				      .lost = &lost,
				      .ops = ops,
				      .n_ops = 2,
				      .title = "test & check" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < 5; i++)
		sent[i].in_reply_to = -1;
	trace_analysis_init(&an, 3);
	for (size_t i = 0; i < 5; i++) {
		struct trace_key k =
			trace_key_maelstrom(sent[i].src + 1, sent[i].dest + 1, sent[i].seq);

		assert_int_equal(trace_add_send(&an, &k, sent[i].time_ns, &sent[i]), 0);
		if (i == 0 || i == 2)
			assert_int_equal(trace_add_arrival(&an, &k, sent[i].time_ns + 5, false), 0);
	}
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	assert_int_equal(trace_analyse(&an), 0);
	for (size_t i = 0; i < an.nmsgs; i++)
		if (an.msgs[i].fate != TRACE_DELIVERED)
			lost.msgs[lost.n++] = &an.msgs[i];
	assert_int_equal(lost.n, 3);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(mael_plot_messages(f, &in), 0);
	assert_int_equal(mael_plot_latency(f, &in), 0);
	fclose(f);
	assert_int_equal(count(buf, "<g class=\"lost\""), 3);
	assert_int_equal(count(buf, "<g class=\"msg\""), 2);
	assert_non_null(strstr(buf, "lost (loss): n1 to n2: ack msg_id 2"));
	assert_non_null(strstr(buf, "lost (not dropped by the filter): n2 to n0: vote,"));
	assert_non_null(strstr(buf, "partition &lt;halves&gt;"));
	assert_non_null(strstr(buf, "test &amp; check"));
	assert_non_null(strstr(buf, ">n2</text>"));
	assert_non_null(strstr(buf, "<circle class=\"op info "));
	/* Every element opened is closed. */
	assert_int_equal(count(buf, "<svg "), 2);
	assert_int_equal(count(buf, "</svg>"), 2);
	free(buf);
	trace_analysis_free(&an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pictures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
