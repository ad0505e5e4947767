// SPDX-License-Identifier: GPL-2.0-only
/* The message diagram, written by hand: every element with a <title> a browser shows on hover,
 * every label placed only where it covers no other. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "lib/msg_diagram.h"
#include "lib/xml.h"

/* Lanes are 170 pixels apart, closer in big labs so the picture stays under ~2000 wide. */
#define LANE_GAP 170
#define LANE_GAP_MIN 24
#define LANES_WIDTH 1900
#define LEFT 110
#define TOP 70
#define BOTTOM 40
#define LOST_COLOUR "#d00"

static double lane_x(const struct msg_diagram *d, unsigned int lane)
{
	return LEFT + (lane + 0.5) * d->lane_gap;
}

static double time_y(const struct msg_diagram *d, double t_s)
{
	if (t_s < d->t0_s)
		t_s = d->t0_s;
	if (t_s > d->t1_s)
		t_s = d->t1_s;
	return TOP + (t_s - d->t0_s) * d->px_per_s;
}

void msg_diagram_begin(FILE *f, struct msg_diagram *d, const char *cls, const char *title)
{
	double secs;

	if (d->t1_s <= d->t0_s)
		d->t1_s = d->t0_s + 1e-9;
	secs = d->t1_s - d->t0_s;
	d->px_per_s = (d->want_px > 600 ? d->want_px : 600) / secs;
	d->height = TOP + secs * d->px_per_s + BOTTOM;
	d->lane_gap = LANE_GAP;
	if (d->lanes * d->lane_gap > LANES_WIDTH)
		d->lane_gap = (double)LANES_WIDTH / d->lanes;
	if (d->lane_gap < LANE_GAP_MIN)
		d->lane_gap = LANE_GAP_MIN;
	d->width = LEFT + d->lanes * d->lane_gap + 20;
	d->placed = (struct svg_labels){ 0 };
	svg_begin(f, d->width, d->height, cls, title);
	fputs("<style>.lane{stroke:#333;stroke-width:1.5}.tick{stroke:#666}"
	      ".ok{stroke:#8a9bb0;stroke-width:0.6;marker-end:url(#ah)}.count{fill:#566}"
	      ".lost line,.lost path{stroke:" LOST_COLOUR ";stroke-width:1.6;fill:none}</style>\n"
	      "<defs><marker id=\"ah\" viewBox=\"0 0 6 6\" refX=\"6\" refY=\"3\" "
	      "markerUnits=\"userSpaceOnUse\" markerWidth=\"6\" markerHeight=\"6\" "
	      "orient=\"auto\"><path d=\"M0 0L6 3L0 6z\" fill=\"#8a9bb0\"/></marker></defs>\n",
	      f);
	if (d->n_lost > 200)
		fputs("<style>.lost line,.lost path{stroke-width:0.5}</style>\n", f);
	svg_labels_take(&d->placed, 10, 20, NULL, 14, title);
	svg_text(f, 10, 20, 14, NULL, "title", NULL, title);
}

void msg_diagram_band(FILE *f, struct msg_diagram *d, double from_s, double to_s, const char *label,
		      const char *hover)
{
	double y0 = time_y(d, from_s), y1 = time_y(d, to_s);

	fprintf(f,
		"<g class=\"window\"><rect class=\"fault\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%.1f\" fill=\"" SVG_BAND_FILL "\" fill-opacity=\"%.2f\"><title>",
		LEFT - 10, y0, d->width - LEFT, y1 - y0 > 1 ? y1 - y0 : 1, SVG_BAND_OPACITY);
	xml_write_text(f, hover ? hover : label);
	fputs("</title></rect>", f);
	if (svg_labels_take(&d->placed, d->width - 16, y0 + 14, "end", SVG_FONT_PX, label))
		svg_text(f, d->width - 16, y0 + 14, SVG_FONT_PX, "end", "wlabel", SVG_BAND_TEXT,
			 label);
	fputs("</g>\n", f);
}

void msg_diagram_axes(FILE *f, struct msg_diagram *d)
{
	struct svg_axis time_axis = { SVG_LINEAR, SVG_SECONDS, d->t0_s, d->t1_s };
	double ticks[SVG_MAX_TICKS];
	char label[48];
	size_t n =
		svg_ticks(&time_axis, (d->t1_s - d->t0_s) * d->px_per_s, 28, ticks, SVG_MAX_TICKS);

	fputs("<g class=\"axis time\">\n", f);
	for (size_t k = 0; k < n; k++) {
		double y = time_y(d, ticks[k]);

		svg_tick_label(&time_axis, ticks[k], label, sizeof(label));
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"tick\"/>",
			LEFT - 14, y, LEFT - 8, y);
		svg_labels_take(&d->placed, LEFT - 18, y + 4, "end", SVG_FONT_PX, label);
		svg_text(f, LEFT - 18, y + 4, SVG_FONT_PX, "end", "tick", "#444", label);
	}
	fputs("</g>\n", f);
	for (unsigned int lane = 0; lane < d->lanes; lane++) {
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" class=\"lane\"/>\n",
			lane_x(d, lane), TOP - 10, lane_x(d, lane), d->height - BOTTOM + 10);
		/* In a big lab the lanes are closer than their names: every name that fits. */
		snprintf(label, sizeof(label), "n%u", lane + d->first_name);
		if (svg_labels_take(&d->placed, lane_x(d, lane), TOP - 20, "middle", SVG_FONT_PX,
				    label))
			svg_text(f, lane_x(d, lane), TOP - 20, SVG_FONT_PX, "middle", "node", NULL,
				 label);
	}
}

/* The message's type half way along its arrow, where it covers no other label. */
static void arrow_label(FILE *f, struct msg_diagram *d, double x, double y, const char *label,
			const char *fill)
{
	if (label && svg_labels_take(&d->placed, x + 3, y - 2, NULL, 9, label))
		svg_text(f, x + 3, y - 2, 9, NULL, "msg-type", fill, label);
}

void msg_diagram_delivered(FILE *f, struct msg_diagram *d, unsigned int from, unsigned int to,
			   double sent_s, double arrived_s, const char *label, const char *hover)
{
	double x0 = lane_x(d, from), x1 = lane_x(d, to), y0 = time_y(d, sent_s),
	       y1 = time_y(d, arrived_s);

	if (y1 < y0 + 2)
		y1 = y0 + 2; /* faster than a pixel: still drawn going down */
	if (hover)
		fputs("<g class=\"msg\">", f);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ok\"/>", x0, y0,
		x1, y1);
	if (hover) {
		fputs("<title>", f);
		xml_write_text(f, hover);
		fputs("</title></g>", f);
	}
	fputc('\n', f);
	arrow_label(f, d, (x0 + x1) / 2, (y0 + y1) / 2, label, "#357");
}

void msg_diagram_lost(FILE *f, struct msg_diagram *d, unsigned int from, unsigned int to,
		      double sent_s, const char *cause, const char *label, const char *hover)
{
	double x0 = lane_x(d, from), y = time_y(d, sent_s);
	double xe = x0 + (lane_x(d, to) - x0) * 0.66;

	fputs("<g class=\"lost\" data-cause=\"", f);
	xml_write_text(f, cause);
	fputs("\"><title>", f);
	xml_write_text(f, hover ? hover : cause);
	fprintf(f,
		"</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\"/></g>\n",
		x0, y, xe, y + 3, xe - 4, y - 1);
	arrow_label(f, d, (x0 + xe) / 2, y + 1.5, label, LOST_COLOUR);
}

size_t msg_diagram_buckets(const struct msg_diagram *d)
{
	return (size_t)((d->height - TOP - BOTTOM) / MSG_DIAGRAM_BUCKET_PX) + 1;
}

size_t msg_diagram_bucket(const struct msg_diagram *d, double t_s)
{
	size_t b = (size_t)((time_y(d, t_s) - TOP) / MSG_DIAGRAM_BUCKET_PX),
	       n = msg_diagram_buckets(d);

	return b < n ? b : n - 1;
}

void msg_diagram_folded(FILE *f, struct msg_diagram *d, unsigned int from, unsigned int to,
			size_t b, unsigned int count)
{
	double y = TOP + (b + 0.5) * MSG_DIAGRAM_BUCKET_PX, x0 = lane_x(d, from),
	       x1 = lane_x(d, to);
	char text[16];

	fprintf(f,
		"<g class=\"okbucket\"><title>%u delivered n%u -&gt; n%u</title><line x1=\"%.1f\" "
		"y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ok\" stroke-width=\"%.2f\"/>",
		count, from + d->first_name, to + d->first_name, x0, y, x1, y + 2,
		0.6 + log10(count));
	/* The count where it covers no other; the hover has it anyway. */
	snprintf(text, sizeof(text), "%u", count);
	if (svg_labels_take(&d->placed, x0 + (x1 - x0) * 0.82, y - 2, "middle", 9, text))
		svg_text(f, x0 + (x1 - x0) * 0.82, y - 2, 9, "middle", "count", NULL, text);
	fputs("</g>\n", f);
}

int msg_diagram_end(FILE *f, struct msg_diagram *d, const char *note)
{
	if (note)
		svg_text(f, 4, d->height - 6, SVG_FONT_PX, NULL, "note", SVG_BAND_TEXT, note);
	svg_labels_free(&d->placed);
	svg_end(f);
	return ferror(f) ? -EIO : 0;
}
