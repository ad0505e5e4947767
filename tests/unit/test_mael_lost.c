// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the lost-message report (sent, less received, with the filter's causes) and of
 * the pictures drawn from it: every lost message drawn red with its cause, fault bands there. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netem/maelstrom/lost.h"
#include "netem/maelstrom/plots.h"

static void test_wire(void **state)
{
	uint64_t seq;
	size_t start;

	(void)state;
	assert_int_equal(mael_wire_parse("M17 {}", 6, &seq, &start), 0);
	assert_int_equal(seq, 17);
	assert_int_equal(start, 4);
	assert_int_equal(mael_wire_parse("{\"src\":1}", 9, &seq, &start), -EINVAL);
	assert_int_equal(mael_wire_parse("M {}", 4, &seq, &start), -EINVAL);
	assert_int_equal(mael_wire_parse("M0 {}", 5, &seq, &start), -EINVAL);
	assert_int_equal(mael_wire_parse("M12", 3, &seq, &start), -EINVAL);
	/* A drop event holds the first 32 bytes only: the tag must be in them. */
	assert_int_equal(mael_wire_parse("M99999999999999999999999 {}", 27, &seq, &start), -EINVAL);
}

static struct mael_sent msg(unsigned int src, unsigned int dest, uint64_t seq, uint64_t t,
			    const char *type)
{
	struct mael_sent m = { .src = src, .dest = dest, .seq = seq, .time_ns = t };

	m.msg_id = (int64_t)seq;
	m.in_reply_to = -1;
	snprintf(m.type, sizeof(m.type), "%s", type);
	return m;
}

static void test_lost_and_causes(void **state)
{
	struct mael_sent sent[] = {
		msg(0, 1, 1, 100, "gossip"),
		msg(0, 2, 2, 110, "gossip"),
		msg(1, 0, 1, 120, "ack"),
		msg(1, 2, 2, 130, "ack"),
		msg(2, 0, 1, 140, "vote"),
		msg(2, 1, 2, 1000, "vote"), /* after the end, not dropped: in flight */
		msg(2, 1, 3, 150, "vote"), /* reached a killed node */
	};
	struct mael_recv recv[] = {
		{ .src = 0, .seq = 1, .time_ns = 105 },
		{ .src = 0, .seq = 1, .time_ns = 106 }, /* duplicated: counts once */
		{ .src = 1, .seq = 1, .time_ns = 125 },
		{ .src = 7, .seq = 1, .time_ns = 1 }, /* nobody sent it: ignored */
		{ .src = 1, .seq = 2, .time_ns = 135, .node_down = true }, /* never read */
		{ .src = 2, .seq = 3, .time_ns = 151, .node_down = true },
	};
	struct mael_drop drops[] = {
		{ .src = 1, .dest = 2, .seq = 2, .time_ns = 131, .cause = MAEL_LOST_LOSS },
		{ .src = 0, .dest = 2, .seq = 2, .time_ns = 111, .cause = MAEL_LOST_PARTITION },
		/* A drop of another message with the same number, to another node: no match. */
		{ .src = 2, .dest = 1, .seq = 1, .time_ns = 141, .cause = MAEL_LOST_PARTITION },
	};
	struct mael_lost_report r;

	(void)state;
	assert_int_equal(mael_lost_find(sent, 7, recv, 6, drops, 3, 500, &r), 0);
	assert_int_equal(r.sent, 7);
	assert_int_equal(r.in_flight, 1);
	assert_int_equal(r.received, 2);
	assert_int_equal(r.n_lost, 4);
	assert_int_equal(r.by_cause[MAEL_LOST_PARTITION], 1);
	assert_int_equal(r.by_cause[MAEL_LOST_LOSS], 1);
	/* One: the other that reached a killed node was dropped by the filter first. */
	assert_int_equal(r.by_cause[MAEL_LOST_NODE_DOWN], 1);
	assert_int_equal(r.lost[3].cause, MAEL_LOST_NODE_DOWN);
	assert_string_equal(mael_loss_cause_name(MAEL_LOST_NODE_DOWN), "node killed");
	assert_int_equal(r.by_cause[MAEL_LOST_ELSEWHERE], 1);
	/* In time order, each with its cause and the time the filter dropped it. */
	assert_string_equal(r.lost[0].m->type, "gossip");
	assert_int_equal(r.lost[0].cause, MAEL_LOST_PARTITION);
	assert_int_equal(r.lost[0].time_ns, 111);
	assert_string_equal(r.lost[1].m->type, "ack");
	assert_int_equal(r.lost[1].cause, MAEL_LOST_LOSS);
	assert_string_equal(r.lost[2].m->type, "vote");
	assert_int_equal(r.lost[2].cause, MAEL_LOST_ELSEWHERE);
	assert_int_equal(r.lost[2].time_ns, 140);
	assert_string_equal(mael_loss_cause_name(MAEL_LOST_ELSEWHERE), "not dropped by the filter");

	/* The pictures: two arrows delivered, three lost in red, the band, every node. */
	{
		struct mael_band band = { .from_ns = 0,
					  .to_ns = 50,
					  .label = "partition <halves>" };
		struct mael_op ops[] = {
			{ .outcome = MAEL_OK, .invoke_ns = 10, .complete_ns = 20 },
			{ .outcome = MAEL_INFO, .invoke_ns = 30, .complete_ns = 90, .node = 2 },
		};
		struct mael_plot_input in = { .nodes = 3,
					      .t0_ns = 90,
					      .end_ns = 100,
					      .bands = &band,
					      .n_bands = 1,
					      .sent = sent,
					      .n_sent = 7,
					      .lost = &r,
					      .ops = ops,
					      .n_ops = 2,
					      .title = "test & check" };
		char *buf = NULL;
		size_t len = 0, n;
		FILE *f = open_memstream(&buf, &len);
		const char *p;

		assert_non_null(f);
		assert_int_equal(mael_plot_messages(f, &in), 0);
		assert_int_equal(mael_plot_latency(f, &in), 0);
		fclose(f);
		for (n = 0, p = buf; (p = strstr(p, "<g class=\"lost\"")); p++)
			n++;
		assert_int_equal(n, 4);
		for (n = 0, p = buf; (p = strstr(p, "<g class=\"msg\"")); p++)
			n++;
		assert_int_equal(n, 2);
		assert_non_null(strstr(buf, "lost (loss): n1 to n2: ack msg_id 2"));
		assert_non_null(strstr(buf, "partition &lt;halves&gt;"));
		assert_non_null(strstr(buf, "test &amp; check"));
		assert_non_null(strstr(buf, ">n2</text>"));
		assert_non_null(strstr(buf, "<circle class=\"op info "));
		/* Every element opened is closed. */
		for (n = 0, p = buf; (p = strstr(p, "<svg ")); p++)
			n++;
		assert_int_equal(n, 2);
		for (n = 0, p = buf; (p = strstr(p, "</svg>")); p++)
			n++;
		assert_int_equal(n, 2);
		free(buf);
	}
	mael_lost_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_lost_and_causes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
