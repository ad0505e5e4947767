// SPDX-License-Identifier: GPL-2.0-only
/* SVG, written by hand: a few element kinds, every one with a <title> a browser shows on hover. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xml.h"
#include "netem/maelstrom/plots.h"

#define MARGIN_LEFT 70.0
#define MARGIN_TOP 50.0

static double rel_s(const struct mael_plot_input *in, uint64_t mono_ns)
{
	return ((double)mono_ns - (double)in->t0_ns) / 1e9;
}

int mael_plot_messages(FILE *f, const struct mael_plot_input *in)
{
	double seconds = in->end_ns / 1e9, col = 120, px_per_s, width, height, y0;
	double first = 0, last = seconds;
	size_t drawn = 0;

	/* The test's own span, and before it the init exchange if messages were sent then. */
	for (size_t i = 0; i < in->n_sent; i++) {
		double t = rel_s(in, in->sent[i].time_ns);

		if (t < first)
			first = t;
		if (t > last)
			last = t;
	}
	seconds = last - first;
	if (seconds <= 0)
		seconds = 1;
	px_per_s = seconds < 10 ? 600 : 6000 / seconds;
	width = MARGIN_LEFT + col * in->nodes + 40;
	height = MARGIN_TOP + px_per_s * seconds + 40;
	y0 = MARGIN_TOP - first * px_per_s;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"font-family=\"sans-serif\" font-size=\"11\">\n",
		width, height);
	fputs("<title>", f);
	xml_write_text(f, in->title);
	fputs(": messages between nodes</title>\n", f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	for (size_t b = 0; b < in->n_bands; b++) {
		double y1 = y0 + in->bands[b].from_ns / 1e9 * px_per_s,
		       y2 = y0 + in->bands[b].to_ns / 1e9 * px_per_s;

		fprintf(f,
			"<rect class=\"fault\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" "
			"fill=\"#f4c7c3\" fill-opacity=\"0.5\"><title>",
			y1, width, y2 - y1 > 1 ? y2 - y1 : 1);
		xml_write_text(f, in->bands[b].label);
		fputs("</title></rect>\n", f);
		fprintf(f, "<text x=\"4\" y=\"%.1f\" fill=\"#a33\">", y1 + 12);
		xml_write_text(f, in->bands[b].label);
		fputs("</text>\n", f);
	}
	for (unsigned int n = 0; n < in->nodes; n++) {
		double x = MARGIN_LEFT + col * n + col / 2;

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n"
			"<text class=\"node\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"font-weight=\"bold\">n%u</text>\n",
			x, MARGIN_TOP - 10, x, height - 20, x, MARGIN_TOP - 20, n);
	}
	for (double t = ceil(first); t <= last; t += seconds > 20 ? 10 : 1)
		fprintf(f, "<text x=\"4\" y=\"%.1f\" fill=\"#666\">%.0f s</text>\n",
			y0 + t * px_per_s, t);
	for (size_t i = 0; i < in->n_sent && drawn < MAEL_PLOT_MAX_ARROWS; i++) {
		const struct mael_sent *m = &in->sent[i];
		double x1 = MARGIN_LEFT + col * m->src + col / 2,
		       x2 = MARGIN_LEFT + col * m->dest + col / 2,
		       y1 = y0 + rel_s(in, m->time_ns) * px_per_s, y2;

		if (!m->received)
			continue;
		y2 = y0 + rel_s(in, m->recv_ns) * px_per_s;
		if (y2 < y1 + 2)
			y2 = y1 + 2; /* sub-millisecond: still drawn going down */
		fprintf(f,
			"<g class=\"msg\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#8ab\" stroke-width=\"0.8\"/><title>n%u to n%u: %s",
			x1, y1, x2, y2, m->src, m->dest, m->type);
		if (m->msg_id >= 0)
			fprintf(f, " msg_id %lld", (long long)m->msg_id);
		if (m->in_reply_to >= 0)
			fprintf(f, " in_reply_to %lld", (long long)m->in_reply_to);
		fprintf(f, ", sent %.6f s</title></g>\n", rel_s(in, m->time_ns));
		drawn++;
	}
	/* Lost ones on top: half way across, then a cross where they died. */
	for (size_t i = 0; in->lost && i < in->lost->n_lost && drawn < MAEL_PLOT_MAX_ARROWS; i++) {
		const struct mael_lost *l = &in->lost->lost[i];
		const struct mael_sent *m = l->m;
		double x1 = MARGIN_LEFT + col * m->src + col / 2,
		       x2 = MARGIN_LEFT + col * m->dest + col / 2, xm = (x1 + x2) / 2,
		       y1 = y0 + rel_s(in, m->time_ns) * px_per_s, ym = y1 + 4;

		fprintf(f,
			"<g class=\"lost\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#d22\" stroke-width=\"1.2\"/>"
			"<path d=\"M%.1f %.1f l6 6 m0 -6 l-6 6\" stroke=\"#d22\" stroke-width=\"1.5\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" fill=\"#d22\" font-size=\"9\">%s</text>"
			"<title>lost (%s): n%u to n%u: %s",
			x1, y1, xm, ym, xm - 3, ym - 3, xm + 5, ym - 2, m->type,
			mael_loss_cause_name(l->cause), m->src, m->dest, m->type);
		if (m->msg_id >= 0)
			fprintf(f, " msg_id %lld", (long long)m->msg_id);
		if (m->in_reply_to >= 0)
			fprintf(f, " in_reply_to %lld", (long long)m->in_reply_to);
		fprintf(f, ", sent %.6f s</title></g>\n", rel_s(in, m->time_ns));
		drawn++;
	}
	if (drawn == MAEL_PLOT_MAX_ARROWS)
		fprintf(f,
			"<text x=\"4\" y=\"%.0f\" fill=\"#a33\">only the first %d messages are "
			"drawn; lost.jsonl and the net-n*.log files hold every one</text>\n",
			height - 6, MAEL_PLOT_MAX_ARROWS);
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

int mael_plot_latency(FILE *f, const struct mael_plot_input *in)
{
	const double w = 900, lat_h = 300, rate_h = 140, gap = 50;
	double seconds = in->end_ns / 1e9 > 0 ? in->end_ns / 1e9 : 1, max_ms = 1, max_rate = 1;
	double bucket = seconds / 60 > 0.1 ? seconds / 60 : 0.1;
	size_t n_buckets = (size_t)(seconds / bucket) + 2;
	size_t(*rate)[3] = calloc(n_buckets, sizeof(*rate));
	static const char *const colour[] = { "#1f77b4", "#ff7f0e", "#d62728" };
	static const char *const name[] = { "ok", "fail", "info" };
	double x_of, top2;

	if (!rate)
		return -ENOMEM;
	for (size_t i = 0; i < in->n_ops; i++) {
		const struct mael_op *op = &in->ops[i];
		double ms = (op->complete_ns - op->invoke_ns) / 1e6;
		size_t b = (size_t)(op->invoke_ns / 1e9 / bucket);

		if (op->complete_ns >= op->invoke_ns && ms > max_ms)
			max_ms = ms;
		if (b < n_buckets)
			rate[b][op->outcome]++;
	}
	for (size_t b = 0; b < n_buckets; b++)
		for (int k = 0; k < 3; k++)
			if (rate[b][k] / bucket > max_rate)
				max_rate = rate[b][k] / bucket;
	x_of = w / seconds;
	top2 = MARGIN_TOP + lat_h + gap;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"font-family=\"sans-serif\" font-size=\"11\">\n<title>",
		MARGIN_LEFT + w + 100, top2 + rate_h + 40);
	xml_write_text(f, in->title);
	fputs(": latency and throughput</title>\n<rect width=\"100%\" height=\"100%\" "
	      "fill=\"white\"/>\n",
	      f);
	for (size_t b = 0; b < in->n_bands; b++) {
		double x1 = MARGIN_LEFT + in->bands[b].from_ns / 1e9 * x_of,
		       x2 = MARGIN_LEFT + in->bands[b].to_ns / 1e9 * x_of;

		fprintf(f,
			"<rect class=\"fault\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
			"fill=\"#f4c7c3\" fill-opacity=\"0.6\"><title>",
			x1, MARGIN_TOP, x2 - x1 > 1 ? x2 - x1 : 1, top2 + rate_h - MARGIN_TOP);
		xml_write_text(f, in->bands[b].label);
		fputs("</title></rect>\n", f);
	}
	fprintf(f,
		"<text x=\"%.0f\" y=\"%.0f\">latency (ms), up to %.1f</text>\n"
		"<text x=\"%.0f\" y=\"%.0f\">operations/s by outcome, up to %.0f</text>\n",
		MARGIN_LEFT, MARGIN_TOP - 8, max_ms, MARGIN_LEFT, top2 - 8, max_rate);
	fprintf(f,
		"<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
		"stroke=\"#888\"/>\n<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
		"fill=\"none\" stroke=\"#888\"/>\n",
		MARGIN_LEFT, MARGIN_TOP, w, lat_h, MARGIN_LEFT, top2, w, rate_h);
	for (double t = 0; t <= seconds; t += seconds > 20 ? 10 : 1)
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.0f s</text>\n",
			MARGIN_LEFT + t * x_of, top2 + rate_h + 14, t);
	for (size_t i = 0; i < in->n_ops; i++) {
		const struct mael_op *op = &in->ops[i];
		double ms = op->complete_ns > op->invoke_ns ?
				    (op->complete_ns - op->invoke_ns) / 1e6 :
				    0;

		fprintf(f,
			"<circle class=\"op %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\">"
			"<title>%s n%u, %.3f ms at %.3f s</title></circle>\n",
			name[op->outcome], MARGIN_LEFT + op->invoke_ns / 1e9 * x_of,
			MARGIN_TOP + lat_h - ms / max_ms * lat_h, colour[op->outcome],
			name[op->outcome], op->node, ms, op->invoke_ns / 1e9);
	}
	for (int k = 0; k < 3; k++) {
		fprintf(f, "<polyline class=\"rate %s\" fill=\"none\" stroke=\"%s\" points=\"",
			name[k], colour[k]);
		for (size_t b = 0; b < n_buckets && b * bucket <= seconds; b++)
			fprintf(f, "%.1f,%.1f ", MARGIN_LEFT + (b + 0.5) * bucket * x_of,
				top2 + rate_h - rate[b][k] / bucket / max_rate * rate_h);
		fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n",
			MARGIN_LEFT + w + 10, MARGIN_TOP + 14 * (k + 1), colour[k], name[k]);
	}
	fputs("</svg>\n", f);
	free(rate);
	return ferror(f) ? -EIO : 0;
}
