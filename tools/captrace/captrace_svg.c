// SPDX-License-Identifier: GPL-2.0-only
/* The sequence diagram and the HTML page. Lost frames are never aggregated: each one is a red
 * arrow that stops at the switch with a cross, carrying its description as a tooltip. Delivered
 * frames become counts per (link, time bucket) when there are too many to draw apart. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/svg.h"
#include "lib/xml.h"
#include "tools/captrace/captrace_svg.h"
#include "tools/captrace/trace_explorer.h"

/* Lanes are 170 pixels apart, closer in big labs so the picture stays under ~2000 wide. */
#define LANE_GAP 170
#define LANE_GAP_MIN 24
#define LANES_WIDTH 1900
#define LEFT 110
#define TOP 70
#define BOTTOM 40
#define BUCKET_PX 16

struct layout {
	double px_per_s;
	double lane_gap;
	double height, width;
	uint64_t t0, t1;
};

static double lane_x(const struct layout *l, unsigned int node)
{
	return LEFT + (node - 0.5) * l->lane_gap;
}

static double time_y(const struct layout *l, uint64_t t)
{
	if (t < l->t0)
		t = l->t0;
	if (t > l->t1)
		t = l->t1;
	return TOP + (double)(t - l->t0) / 1e9 * l->px_per_s;
}

static void make_layout(const struct trace_analysis *an, struct layout *l)
{
	double secs;

	l->t0 = an->start_ns;
	l->t1 = an->stop_ns > an->start_ns ? an->stop_ns : an->start_ns + 1;
	secs = (l->t1 - l->t0) / 1e9;
	uint64_t lost = an->nmsgs - an->total[TRACE_DELIVERED];
	double want;

	/* Between 600 and 4000 pixels tall, whatever the duration; taller when many lost
	 * frames need room to be told apart. */
	want = secs * 200;
	if (want < 600)
		want = 600;
	if (want < lost * 6.0)
		want = lost * 6.0;
	if (want > 4000)
		want = 4000;
	l->px_per_s = want / secs;
	l->height = TOP + secs * l->px_per_s + BOTTOM;
	l->lane_gap = LANE_GAP;
	if (an->nodes * l->lane_gap > LANES_WIDTH)
		l->lane_gap = (double)LANES_WIDTH / an->nodes;
	if (l->lane_gap < LANE_GAP_MIN)
		l->lane_gap = LANE_GAP_MIN;
	l->width = LEFT + an->nodes * l->lane_gap + 20;
}

/* Partition windows in the one colour of fault bands; each labelled at the right where its
 * label covers no other, else only by its hover. */
static void draw_windows(FILE *f, const struct trace_analysis *an, const struct layout *l,
			 struct svg_labels *placed)
{
	char label[600];
	size_t i;

	for (i = 0; i < an->nwindows; i++) {
		const struct trace_window *w = &an->windows[i];
		double y0 = time_y(l, w->start_ns), y1 = time_y(l, w->end_ns);

		if (y1 <= y0 || (!strcmp(w->spec, "healthy") && !w->impairments[0]))
			continue;
		snprintf(label, sizeof(label), "gen %llu: %s%s%s",
			 (unsigned long long)w->generation, w->spec, w->impairments[0] ? "; " : "",
			 w->impairments);
		fprintf(f,
			"<g class=\"window\"><rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"" SVG_BAND_FILL "\" fill-opacity=\"%.2f\" "
			"stroke=\"#e0a8a3\" stroke-width=\"0.5\"><title>",
			LEFT - 10, y0, l->width - LEFT, y1 - y0, SVG_BAND_OPACITY);
		xml_write_text(f, label);
		fputs("</title></rect>", f);
		if (svg_labels_take(placed, l->width - 16, y0 + 14, "end", SVG_FONT_PX, label))
			svg_text(f, l->width - 16, y0 + 14, SVG_FONT_PX, "end", "wlabel", NULL,
				 label);
		fputs("</g>\n", f);
	}
}

static void draw_axes(FILE *f, const struct trace_analysis *an, const struct layout *l,
		      struct svg_labels *placed)
{
	struct svg_axis time_axis = { SVG_LINEAR, SVG_SECONDS, 0, (l->t1 - l->t0) / 1e9 };
	double ticks[SVG_MAX_TICKS];
	char label[48];
	size_t n = svg_ticks(&time_axis, time_axis.hi * l->px_per_s, 28, ticks, SVG_MAX_TICKS);
	unsigned int node;

	fputs("<g class=\"axis time\">\n", f);
	for (size_t k = 0; k < n; k++) {
		double y = TOP + ticks[k] * l->px_per_s;

		svg_tick_label(&time_axis, ticks[k], label, sizeof(label));
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"tick\"/>",
			LEFT - 14, y, LEFT - 8, y);
		svg_labels_take(placed, LEFT - 18, y + 4, "end", SVG_FONT_PX, label);
		svg_text(f, LEFT - 18, y + 4, SVG_FONT_PX, NULL, "tick tlabel", NULL, label);
	}
	fputs("</g>\n", f);
	for (node = 1; node <= an->nodes; node++) {
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" class=\"lane\"/>\n",
			lane_x(l, node), TOP - 10, lane_x(l, node), l->height - BOTTOM + 10);
		/* In a big lab the lanes are closer than their names: every name that fits. */
		snprintf(label, sizeof(label), "n%u", node);
		if (svg_labels_take(placed, lane_x(l, node), TOP - 20, "middle", SVG_FONT_PX,
				    label))
			svg_text(f, lane_x(l, node), TOP - 20, SVG_FONT_PX, NULL, "node", NULL,
				 label);
	}
}

struct bucket {
	uint32_t count;
};

static int draw_delivered(FILE *f, const struct trace_analysis *an, const struct layout *l,
			  struct svg_labels *placed)
{
	uint64_t delivered = an->total[TRACE_DELIVERED];
	unsigned int stride = an->nodes + 1, nb, b;
	struct bucket *buckets;
	size_t i, nlinks;

	if (delivered <= TRACE_SVG_MAX_ARROWS) {
		for (i = 0; i < an->nmsgs; i++) {
			const struct trace_msg *m = &an->msgs[i];

			if (m->fate != TRACE_DELIVERED)
				continue;
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"class=\"ok\"/>\n",
				lane_x(l, m->key.from), time_y(l, m->time_ns), lane_x(l, m->key.to),
				time_y(l, m->arrival_ns));
		}
		return 0;
	}
	/* Dense: one arrow per link and bucket, its width and label giving the count. */
	nb = (unsigned int)((l->height - TOP - BOTTOM) / BUCKET_PX) + 1;
	nlinks = (size_t)stride * stride;
	if (nlinks * nb > 64u << 20)
		return 0; /* too many lanes to aggregate in memory: lanes and losses only */
	buckets = calloc(nlinks * nb, sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < an->nmsgs; i++) {
		const struct trace_msg *m = &an->msgs[i];

		if (m->fate != TRACE_DELIVERED)
			continue;
		b = (unsigned int)((time_y(l, m->time_ns) - TOP) / BUCKET_PX);
		if (b >= nb)
			b = nb - 1;
		buckets[((size_t)m->key.from * stride + m->key.to) * nb + b].count++;
	}
	for (i = 0; i < nlinks; i++)
		for (b = 0; b < nb; b++) {
			uint32_t c = buckets[i * nb + b].count;
			char count[16];
			unsigned int from = i / stride, to = i % stride;
			double y = TOP + (b + 0.5) * BUCKET_PX, x0, x1;

			if (!c)
				continue;
			x0 = lane_x(l, from);
			x1 = lane_x(l, to);
			fprintf(f,
				"<g class=\"okbucket\"><title>%u delivered %u -&gt; %u</title><line "
				"x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ok\" "
				"stroke-width=\"%.2f\"/>",
				c, from, to, x0, y, x1, y + 2, 0.6 + log10(c));
			/* The count where it covers no other; the hover has it anyway. */
			snprintf(count, sizeof(count), "%u", c);
			if (svg_labels_take(placed, x0 + (x1 - x0) * 0.82, y - 2, "middle", 9,
					    count))
				svg_text(f, x0 + (x1 - x0) * 0.82, y - 2, 9, NULL, "count", NULL,
					 count);
			fputs("</g>\n", f);
		}
	free(buckets);
	return 0;
}

static void draw_lost(FILE *f, const struct trace_analysis *an, const struct layout *l)
{
	uint64_t lost = an->nmsgs - an->total[TRACE_DELIVERED];
	size_t i;

	/* Dense losses get thinner strokes so that neighbours stay apart. */
	if (lost > 200)
		fputs("<style>.lost line,.lost path{stroke-width:0.5}</style>\n", f);

	for (i = 0; i < an->nmsgs; i++) {
		const struct trace_msg *m = &an->msgs[i];
		double x0, x1, y, xe;
		char desc[512];

		if (m->fate == TRACE_DELIVERED)
			continue;
		x0 = lane_x(l, m->key.from);
		x1 = lane_x(l, m->key.to);
		y = time_y(l, m->time_ns);
		/* It died at the switch port, before the receiver: stop two thirds of the way. */
		xe = x0 + (x1 - x0) * 0.66;
		trace_msg_describe(m, desc, sizeof(desc));
		fprintf(f,
			"<g class=\"lost\" data-cause=\"%s\"><title>%.6f s %u -&gt; %u, %s, gen "
			"%llu: ",
			trace_fate_name(m->fate), (m->time_ns - l->t0) / 1e9, m->key.from,
			m->key.to, trace_fate_name(m->fate), (unsigned long long)m->generation);
		xml_write_text(f, desc);
		fprintf(f,
			"</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\"/></g>\n",
			x0, y, xe, y + 3, xe - 4, y - 1);
	}
}

int trace_svg_write(FILE *f, const struct trace_analysis *an, const struct trace_meta *meta)
{
	struct svg_labels placed = { 0 };
	char title[400];
	struct layout l;
	int err;

	make_layout(an, &l);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
		l.width, l.height, l.width, l.height);
	fputs("<style>.lane{stroke:#333;stroke-width:1.5}.tick{stroke:#666}"
	      ".tlabel{text-anchor:end;fill:#444}.node{text-anchor:middle;font-weight:bold}"
	      ".ok{stroke:#8a9bb0;stroke-width:0.6;marker-end:url(#ah)}.count{font-size:9px;fill:#566;"
	      "text-anchor:middle}.lost line,.lost path{stroke:#d00;stroke-width:1.6;fill:none}"
	      ".wlabel{text-anchor:end;font-size:11px;fill:#333}</style>\n",
	      f);
	fputs("<defs><marker id=\"ah\" viewBox=\"0 0 6 6\" refX=\"6\" refY=\"3\" markerUnits=\"userSpaceOnUse\" "
	      "markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0 0L6 3L0 6z\" "
	      "fill=\"#8a9bb0\"/></marker></defs>\n",
	      f);
	snprintf(title, sizeof(title), "lab %s: %zu sent, %llu lost", meta->lab, an->nmsgs,
		 (unsigned long long)(an->nmsgs - an->total[TRACE_DELIVERED]));
	svg_text(f, 10, 20, 14, NULL, NULL, NULL, title);
	svg_labels_take(&placed, 10, 20, NULL, 14, title);
	draw_windows(f, an, &l, &placed);
	draw_axes(f, an, &l, &placed);
	err = draw_delivered(f, an, &l, &placed);
	draw_lost(f, an, &l);
	svg_labels_free(&placed);
	fputs("</svg>\n", f);
	return err ? err : ferror(f) ? -EIO : 0;
}

int trace_html_write(FILE *f, const struct trace_analysis *an, const struct trace_meta *meta)
{
	unsigned int s, d, stride = an->nodes + 1;
	uint64_t lost = an->nmsgs - an->total[TRACE_DELIVERED];
	size_t i;
	int err;

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>captrace: ", f);
	xml_write_text(f, meta->lab);
	fputs("</title><style>body{font-family:sans-serif;margin:1em}"
	      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
	      "padding:2px 6px;font-size:13px}th{background:#eee}.lost-row td{color:#900}"
	      "</style></head><body>\n<h1>captrace: lab ",
	      f);
	xml_write_text(f, meta->lab);
	fprintf(f,
		"</h1>\n<p id=\"summary\">%u nodes, %.3f s: <span id=\"sent\">%zu</span> sent, "
		"<span id=\"lost-count\">%llu</span> lost (partition %llu, loss %llu, unexplained "
		"%llu). Lost arrows drawn: <span id=\"drawn-lost\">?</span></p>\n",
		an->nodes, (an->stop_ns - an->start_ns) / 1e9, an->nmsgs, (unsigned long long)lost,
		(unsigned long long)an->total[TRACE_LOST_PARTITION],
		(unsigned long long)an->total[TRACE_LOST_LOSS],
		(unsigned long long)an->total[TRACE_LOST_UNEXPLAINED]);
	err = trace_explorer_write(f, an) ? -EIO : 0;
	fputs("<h2>Sequence diagram</h2>\n", f);
	if (!err)
		err = trace_svg_write(f, an, meta);
	fputs("<h2>Lost</h2>\n<table id=\"lost\"><tr><th>time (s)</th><th>from</th><th>to</th>"
	      "<th>type</th><th>cause</th><th>generation</th><th>partition</th><th>message</th>"
	      "</tr>\n",
	      f);
	for (i = 0; i < an->nmsgs; i++) {
		const struct trace_msg *m = &an->msgs[i];
		const char *spec = trace_generation_spec(an, m->generation);
		char type[32], desc[512];

		if (m->fate == TRACE_DELIVERED)
			continue;
		trace_msg_describe(m, desc, sizeof(desc));
		fprintf(f,
			"<tr class=\"lost-row\"><td>%.6f</td><td>%u</td><td>%u</td><td>%s</td>"
			"<td>%s</td><td>%llu</td><td>",
			(m->time_ns - an->start_ns) / 1e9, m->key.from, m->key.to,
			trace_msg_type(m, type, sizeof(type)), trace_fate_name(m->fate),
			(unsigned long long)m->generation);
		xml_write_text(f, spec ? spec : "?");
		fputs("</td><td>", f);
		xml_write_text(f, desc);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Links</h2>\n<table id=\"links\"><tr><th>from</th><th>to</th>"
	      "<th>sent</th><th>delivered</th><th>partition</th><th>loss</th><th>unexplained</th>"
	      "</tr>\n",
	      f);
	for (s = 1; s <= an->nodes; s++)
		for (d = 1; d <= an->nodes; d++) {
			const struct trace_link *l = &an->links[(size_t)s * stride + d];

			if (!l->sent)
				continue;
			fprintf(f,
				"<tr><td>%u</td><td>%u</td><td>%llu</td><td>%llu</td><td>%llu</td>"
				"<td>%llu</td><td>%llu</td></tr>\n",
				s, d, (unsigned long long)l->sent, (unsigned long long)l->delivered,
				(unsigned long long)l->lost[TRACE_LOST_PARTITION],
				(unsigned long long)l->lost[TRACE_LOST_LOSS],
				(unsigned long long)l->lost[TRACE_LOST_UNEXPLAINED]);
		}
	fputs("</table>\n<h2>Partition windows</h2>\n<table id=\"windows\"><tr><th>generation"
	      "</th><th>from (s)</th><th>to (s)</th><th>partition</th><th>impaired links</th>"
	      "<th>sent</th>"
	      "<th>delivered</th><th>partition</th><th>loss</th><th>unexplained</th></tr>\n",
	      f);
	for (i = 0; i < an->nwindows; i++) {
		const struct trace_window *w = &an->windows[i];

		fprintf(f, "<tr><td>%llu</td><td>%.3f</td><td>%.3f</td><td>",
			(unsigned long long)w->generation, (w->start_ns - an->start_ns) / 1e9,
			(w->end_ns - an->start_ns) / 1e9);
		xml_write_text(f, w->spec);
		fputs("</td><td>", f);
		xml_write_text(f, w->impairments);
		fprintf(f,
			"</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
			"</tr>\n",
			(unsigned long long)w->sent, (unsigned long long)w->delivered,
			(unsigned long long)w->lost[TRACE_LOST_PARTITION],
			(unsigned long long)w->lost[TRACE_LOST_LOSS],
			(unsigned long long)w->lost[TRACE_LOST_UNEXPLAINED]);
	}
	/* The page counts what the browser really built, so a test can compare the drawing with
	 * the report. */
	fputs("</table>\n<script>document.getElementById('drawn-lost').textContent="
	      "document.querySelectorAll('svg g.lost').length;</script>\n</body></html>\n",
	      f);
	return err ? err : ferror(f) ? -EIO : 0;
}
