// SPDX-License-Identifier: GPL-2.0-only
/* The sequence diagram (lib/msg_diagram) and the HTML page. Lost frames are never aggregated:
 * each one is a red arrow that stops at the switch with a cross, carrying its description as a
 * tooltip. Delivered frames become counts per (link, time bucket) when there are too many to
 * draw apart. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/msg_diagram.h"
#include "lib/xml.h"
#include "tools/captrace/captrace_svg.h"
#include "tools/captrace/trace_explorer.h"

/* Seconds from the start of the capture. */
static double rel_s(const struct trace_analysis *an, uint64_t t)
{
	return ((double)t - (double)an->start_ns) / 1e9;
}

/* Partition windows, named by their generation and groups. */
static void draw_windows(FILE *f, const struct trace_analysis *an, struct msg_diagram *d)
{
	char label[600];

	for (size_t i = 0; i < an->nwindows; i++) {
		const struct trace_window *w = &an->windows[i];

		if (w->end_ns <= w->start_ns || (!strcmp(w->spec, "healthy") && !w->impairments[0]))
			continue;
		snprintf(label, sizeof(label), "gen %llu: %s%s%s",
			 (unsigned long long)w->generation, w->spec, w->impairments[0] ? "; " : "",
			 w->impairments);
		msg_diagram_band(f, d, rel_s(an, w->start_ns), rel_s(an, w->end_ns), label, NULL);
	}
}

/* Delivered frames one by one, or as counts per link and time bucket when too many. */
static int draw_delivered(FILE *f, const struct trace_analysis *an, struct msg_diagram *d)
{
	unsigned int stride = an->nodes + 1, *buckets;
	size_t nb = msg_diagram_buckets(d), nlinks = (size_t)stride * stride;

	if (an->total[TRACE_DELIVERED] <= TRACE_SVG_MAX_ARROWS) {
		for (size_t i = 0; i < an->nmsgs; i++) {
			const struct trace_msg *m = &an->msgs[i];

			if (m->fate == TRACE_DELIVERED)
				msg_diagram_delivered(f, d, m->key.from - 1u, m->key.to - 1u,
						      rel_s(an, m->time_ns),
						      rel_s(an, m->arrival_ns), NULL, NULL);
		}
		return 0;
	}
	if (nlinks * nb > 64u << 20)
		return 0; /* too many lanes to aggregate in memory: lanes and losses only */
	buckets = calloc(nlinks * nb, sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	for (size_t i = 0; i < an->nmsgs; i++) {
		const struct trace_msg *m = &an->msgs[i];

		if (m->fate == TRACE_DELIVERED)
			buckets[((size_t)m->key.from * stride + m->key.to) * nb +
				msg_diagram_bucket(d, rel_s(an, m->time_ns))]++;
	}
	for (size_t i = 0; i < nlinks; i++)
		for (size_t b = 0; b < nb; b++)
			if (buckets[i * nb + b])
				msg_diagram_folded(f, d, i / stride - 1u, i % stride - 1u, b,
						   buckets[i * nb + b]);
	free(buckets);
	return 0;
}

/* Every lost frame, never folded, with its description as its hover. */
static void draw_lost(FILE *f, const struct trace_analysis *an, struct msg_diagram *d)
{
	char desc[512], hover[700];

	for (size_t i = 0; i < an->nmsgs; i++) {
		const struct trace_msg *m = &an->msgs[i];

		if (m->fate == TRACE_DELIVERED)
			continue;
		trace_msg_describe(m, desc, sizeof(desc));
		snprintf(hover, sizeof(hover), "%.6f s %u -> %u, %s, gen %llu: %s",
			 rel_s(an, m->time_ns), m->key.from, m->key.to, trace_fate_name(m->fate),
			 (unsigned long long)m->generation, desc);
		msg_diagram_lost(f, d, m->key.from - 1u, m->key.to - 1u, rel_s(an, m->time_ns),
				 trace_fate_name(m->fate), NULL, hover);
	}
}

int trace_svg_write(FILE *f, const struct trace_analysis *an, const struct trace_meta *meta)
{
	uint64_t lost = an->nmsgs - an->total[TRACE_DELIVERED];
	double secs = an->stop_ns > an->start_ns ? (an->stop_ns - an->start_ns) / 1e9 : 1e-9;
	struct msg_diagram d = { .lanes = an->nodes,
				 .first_name = 1,
				 .t1_s = secs,
				 /* 200 pixels a second, taller when many lost frames need room to
				  * be told apart, 4000 at most. */
				 .want_px = fmin(fmax(secs * 200, lost * 6.0), 4000),
				 .n_lost = lost };
	char title[400];
	int err;

	snprintf(title, sizeof(title), "lab %s: %zu sent, %llu lost", meta->lab, an->nmsgs,
		 (unsigned long long)lost);
	msg_diagram_begin(f, &d, "sequence", title);
	draw_windows(f, an, &d);
	msg_diagram_axes(f, &d);
	err = draw_delivered(f, an, &d);
	draw_lost(f, an, &d);
	return msg_diagram_end(f, &d, NULL) ?: err;
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
