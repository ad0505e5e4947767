// SPDX-License-Identifier: GPL-2.0-only
/* SVG, written by hand: a few element kinds, every one with a <title> a browser shows on hover. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/op_chart.h"
#include "lib/svg.h"
#include "lib/xml.h"
#include "netem/maelstrom/harness.h"

#define MARGIN_LEFT 70.0
#define MARGIN_TOP 50.0

static double rel_s(const struct mael_plot_input *in, uint64_t mono_ns)
{
	return ((double)mono_ns - (double)in->t0_ns) / 1e9;
}

/* The id fields of a message's hover. */
static void write_ids(FILE *f, const struct mael_sent *m)
{
	if (m->msg_id >= 0)
		fprintf(f, " msg_id %lld", (long long)m->msg_id);
	if (m->in_reply_to >= 0)
		fprintf(f, " in_reply_to %lld", (long long)m->in_reply_to);
}

/* Its type beside an arrow, half way along, where it covers no other label. */
static void arrow_label(FILE *f, struct svg_labels *placed, double x, double y, const char *type,
			const char *fill)
{
	if (svg_labels_take(placed, x + 3, y - 2, NULL, 9, type))
		svg_text(f, x + 3, y - 2, 9, NULL, "msg-type", fill, type);
}

int mael_plot_messages(FILE *f, const struct mael_plot_input *in)
{
	double col = 120, px_per_s, width, height, y0, first = 0, last = in->end_ns / 1e9, seconds;
	double ticks[SVG_MAX_TICKS], want;
	struct svg_axis time_axis = { SVG_LINEAR, SVG_SECONDS, 0, 0 };
	struct svg_labels placed = { 0 };
	size_t drawn = 0, n_ticks;
	char label[64], title[160];

	/* The test's own span, and before it the init exchange if messages were sent then. */
	for (size_t i = 0; i < in->pairing->nmsgs; i++) {
		double t = rel_s(in, in->pairing->msgs[i].time_ns);

		if (t < first)
			first = t;
		if (t > last)
			last = t;
	}
	seconds = last - first > 0 ? last - first : 1;
	/* Room for a label per arrow where messages are even, as tall as that asks and no
	 * taller than a browser draws: 600 to 30000 pixels. */
	want = 16.0 * (in->pairing->nmsgs < MAEL_PLOT_MAX_ARROWS ? in->pairing->nmsgs :
								   MAEL_PLOT_MAX_ARROWS);
	want = want < 600 ? 600 : want > 30000 ? 30000 : want;
	px_per_s = want / seconds;
	width = MARGIN_LEFT + col * in->nodes + 260;
	height = MARGIN_TOP + px_per_s * seconds + 40;
	y0 = MARGIN_TOP - first * px_per_s;
	snprintf(title, sizeof(title), "%s: messages between nodes", in->title);
	svg_begin(f, width, height, "messages", title);
	for (size_t b = 0; b < in->n_bands; b++) {
		double y1 = y0 + in->bands[b].from_ns / 1e9 * px_per_s,
		       y2 = y0 + in->bands[b].to_ns / 1e9 * px_per_s;

		fprintf(f,
			"<rect class=\"fault\" x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" "
			"fill=\"" SVG_BAND_FILL "\" fill-opacity=\"%.2f\"><title>",
			MARGIN_LEFT, y1, width - MARGIN_LEFT, y2 - y1 > 1 ? y2 - y1 : 1,
			SVG_BAND_OPACITY);
		xml_write_text(f, in->bands[b].label);
		fputs("</title></rect>\n", f);
		/* At the right, past the lanes, where no arrow's label goes. */
		if (svg_labels_take(&placed, width - 250, y1 + 12, NULL, SVG_FONT_PX,
				    in->bands[b].label))
			svg_text(f, width - 250, y1 + 12, SVG_FONT_PX, NULL, "fault-label",
				 SVG_BAND_TEXT, in->bands[b].label);
	}
	for (unsigned int n = 0; n < in->nodes; n++) {
		double x = MARGIN_LEFT + col * n + col / 2;

		snprintf(label, sizeof(label), "n%u", n);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
			x, MARGIN_TOP - 10, x, height - 20);
		svg_labels_take(&placed, x, MARGIN_TOP - 20, "middle", SVG_FONT_PX, label);
		svg_text(f, x, MARGIN_TOP - 20, SVG_FONT_PX, "middle", "node", NULL, label);
	}
	/* The time axis down the left, at round seconds when the test is long enough. */
	time_axis.lo = first;
	time_axis.hi = last;
	n_ticks = svg_ticks(&time_axis, px_per_s * seconds, 40, ticks, SVG_MAX_TICKS);
	fputs("<g class=\"axis time\">\n", f);
	for (size_t k = 0; k < n_ticks; k++) {
		double y = y0 + ticks[k] * px_per_s;

		svg_tick_label(&time_axis, ticks[k], label, sizeof(label));
		fprintf(f,
			"<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ccc\"/>\n",
			MARGIN_LEFT - 4, y, width - 260, y);
		svg_labels_take(&placed, MARGIN_LEFT - 8, y + 4, "end", SVG_FONT_PX, label);
		svg_text(f, MARGIN_LEFT - 8, y + 4, SVG_FONT_PX, "end", "tick", "#444", label);
	}
	fputs("</g>\n", f);
	/* Lost ones first, so their labels win a crowded spot: half way across, then a cross
	 * where they died. */
	for (size_t i = 0; i < in->lost->n && drawn < MAEL_PLOT_MAX_ARROWS; i++) {
		const struct trace_msg *l = in->lost->msgs[i];
		const struct mael_sent *m = l->origin;
		double x1 = MARGIN_LEFT + col * m->src + col / 2,
		       x2 = MARGIN_LEFT + col * m->dest + col / 2, xm = (x1 + x2) / 2,
		       y1 = y0 + rel_s(in, m->time_ns) * px_per_s, ym = y1 + 4;

		fprintf(f,
			"<g class=\"lost\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#d22\" stroke-width=\"1.2\"/>"
			"<path d=\"M%.1f %.1f l6 6 m0 -6 l-6 6\" stroke=\"#d22\" stroke-width=\"1.5\"/>"
			"<title>lost (%s): n%u to n%u: %s",
			x1, y1, xm, ym, xm - 3, ym - 3, mael_fate_name(l->fate), m->src, m->dest,
			m->type);
		write_ids(f, m);
		fprintf(f, ", sent %.6f s</title></g>\n", rel_s(in, m->time_ns));
		arrow_label(f, &placed, (x1 + xm) / 2, (y1 + ym) / 2, m->type, "#d22");
		drawn++;
	}
	for (size_t i = 0; i < in->pairing->nmsgs && drawn < MAEL_PLOT_MAX_ARROWS; i++) {
		const struct trace_msg *d = &in->pairing->msgs[i];
		const struct mael_sent *m = d->origin;
		double x1 = MARGIN_LEFT + col * m->src + col / 2,
		       x2 = MARGIN_LEFT + col * m->dest + col / 2,
		       y1 = y0 + rel_s(in, m->time_ns) * px_per_s, y2;

		if (d->fate != TRACE_DELIVERED)
			continue;
		y2 = y0 + rel_s(in, d->arrival_ns) * px_per_s;
		if (y2 < y1 + 2)
			y2 = y1 + 2; /* sub-millisecond: still drawn going down */
		fprintf(f,
			"<g class=\"msg\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#8ab\" stroke-width=\"0.8\"/><title>n%u to n%u: %s",
			x1, y1, x2, y2, m->src, m->dest, m->type);
		write_ids(f, m);
		fprintf(f, ", sent %.6f s</title></g>\n", rel_s(in, m->time_ns));
		arrow_label(f, &placed, (x1 + x2) / 2, (y1 + y2) / 2, m->type, "#357");
		drawn++;
	}
	if (drawn == MAEL_PLOT_MAX_ARROWS) {
		snprintf(title, sizeof(title),
			 "only the first %d messages are drawn; lost.jsonl and the net-n*.log "
			 "files hold every one",
			 MAEL_PLOT_MAX_ARROWS);
		svg_text(f, 4, height - 6, SVG_FONT_PX, NULL, NULL, SVG_BAND_TEXT, title);
	}
	svg_labels_free(&placed);
	svg_end(f);
	return ferror(f) ? -EIO : 0;
}

/* What a panel of latency.svg gathers: Maelstrom's names of the operations. */
static const char *op_kind(const struct mael_plot_input *in, const struct mael_op *op)
{
	static const char *const write_name[MAEL_WORKLOADS] = {
		[MAEL_ECHO] = "echo",		[MAEL_UNIQUE_IDS] = "generate",
		[MAEL_BROADCAST] = "broadcast", [MAEL_G_SET] = "add",
		[MAEL_G_COUNTER] = "add",	[MAEL_PN_COUNTER] = "add",
		[MAEL_LIN_KV] = "write",
	};

	if (op->type)
		return op->type;
	if (op->cas)
		return "cas";
	if (op->read)
		return "read";
	return in->workload < MAEL_WORKLOADS && write_name[in->workload] ?
		       write_name[in->workload] :
		       "write";
}

int mael_plot_latency(FILE *f, const struct mael_plot_input *in)
{
	struct op_chart_op *ops = calloc(in->n_ops ? in->n_ops : 1, sizeof(*ops));
	struct op_chart_band *bands = calloc(in->n_bands ? in->n_bands : 1, sizeof(*bands));
	struct op_chart c = { .ops = ops,
			      .n_ops = in->n_ops,
			      .who = "n",
			      .seconds = in->end_ns / 1e9 > 0 ? in->end_ns / 1e9 : 1,
			      .bands = bands,
			      .n_bands = in->n_bands,
			      .title = in->title,
			      .throughput_below = true };
	int err = -ENOMEM;

	if (ops && bands) {
		for (size_t i = 0; i < in->n_ops; i++) {
			const struct mael_op *op = &in->ops[i];

			ops[i] = (struct op_chart_op){
				.start_s = op->invoke_ns / 1e9,
				.end_s = (op->complete_ns > op->invoke_ns ? op->complete_ns :
									    op->invoke_ns) /
					 1e9,
				.outcome = op->outcome == MAEL_OK   ? OP_CHART_OK :
					   op->outcome == MAEL_FAIL ? OP_CHART_FAIL :
								      OP_CHART_INFO,
				.kind = op_chart_kind(&c, op_kind(in, op)),
				.who = op->node,
			};
		}
		for (size_t b = 0; b < in->n_bands; b++) {
			bands[b].from_s = in->bands[b].from_ns / 1e9;
			bands[b].to_s = in->bands[b].to_ns / 1e9;
			snprintf(bands[b].label, sizeof(bands[b].label), "%s", in->bands[b].label);
		}
		err = op_chart_latency(f, &c);
	}
	free(ops);
	free(bands);
	return err;
}
