/* SPDX-License-Identifier: GPL-2.0-only */
/* The SVG pieces every picture of capnet is drawn with (capctl report, captrace's sequence
 * diagram, the Maelstrom harness's plots): panels with axes that carry values (a log latency
 * axis at 1-2-5 steps with units, as Jepsen's plots; rates in ops/s; time at round seconds),
 * the one colour of a fault band, and labels placed only where they do not cover another. */
#ifndef CAPNET_SVG_H
#define CAPNET_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SVG_FONT_PX 11.0
/* Every fault or partition window, in every picture. */
#define SVG_BAND_FILL "#f4c7c3"
#define SVG_BAND_OPACITY 0.55
#define SVG_BAND_TEXT "#a33"

enum svg_scale { SVG_LINEAR, SVG_LOG };
enum svg_unit {
	SVG_SECONDS, /* "2 s" */
	SVG_MILLISECONDS, /* a latency: "0.5 ms", "20 ms", "1 s" */
	SVG_PER_SECOND, /* "200 ops/s" */
};

struct svg_axis {
	enum svg_scale scale;
	enum svg_unit unit;
	double lo, hi; /* in the unit's own numbers: seconds, ms, ops/s */
};

/* A plot area in pixels, and what its edges stand for. */
struct svg_panel {
	double x, y, w, h;
	struct svg_axis x_axis, y_axis;
};

/* Ticks at most, per axis. */
#define SVG_MAX_TICKS 64

/* The smallest value above 0 and the largest of a series: svg_range_add each. */
struct svg_range {
	double min, max;
};
void svg_range_add(struct svg_range *r, double v);

/* A latency axis (log, ms) over a range, widened to 1-2-5 steps so that it has at least three
 * labelled ticks. */
void svg_axis_latency(struct svg_axis *a, const struct svg_range *ms);
/* A linear axis from 0 to at least max, ended at a tick. */
void svg_axis_linear(struct svg_axis *a, enum svg_unit unit, double max);

/* The ticks of an axis drawn `length` pixels long whose labels need `gap` pixels each: at 1, 2
 * or 5 times a power of ten (round seconds on a time axis longer than 3 s), as many as fit.
 * Returns how many went into out (at least 2 whenever the axis spans anything). */
size_t svg_ticks(const struct svg_axis *a, double length, double gap, double *out, size_t max);
/* "0.2 ms", "50 ms", "2 s", "1.5 s", "300 ops/s". */
void svg_tick_label(const struct svg_axis *a, double v, char *buf, size_t len);

/* Where a value lands, clamped to the panel. */
double svg_panel_x(const struct svg_panel *p, double v);
double svg_panel_y(const struct svg_panel *p, double v);

void svg_begin(FILE *f, double width, double height, const char *cls, const char *title);
void svg_end(FILE *f);
/* The frame, grid lines, both axes (each a <g class="axis"> of <text class="tick">) and the
 * panel's title (<text class="panel">) above it. */
void svg_panel_draw(FILE *f, const struct svg_panel *p, const char *title);
/* A fault window from x value `from` to `to` over the panel's height: a <rect class="fault">
 * titled with hover, and its label inside it when it fits. */
void svg_panel_band(FILE *f, const struct svg_panel *p, double from, double to, const char *label,
		    const char *hover);
/* <text> with the text escaped; cls, anchor and fill may be NULL. */
void svg_text(FILE *f, double x, double y, double font_px, const char *anchor, const char *cls,
	      const char *fill, const char *text);

/* How wide a text is drawn in a sans-serif font, erring wide, so that labels placed by it do
 * not touch. */
double svg_text_width(const char *text, double font_px);

/* Labels placed so far in a picture: a new one is drawn only where it covers none of them. */
struct svg_labels {
	double (*box)[4]; /* x0, y0, x1, y1 */
	size_t n, cap;
};

/* True, and the label's box recorded, if text drawn at (x, y) (the baseline; anchor "start",
 * "middle" or "end") covers no label placed before; false (nothing recorded) if it would. */
bool svg_labels_take(struct svg_labels *l, double x, double y, const char *anchor, double font_px,
		     const char *text);
void svg_labels_free(struct svg_labels *l);

#endif /* CAPNET_SVG_H */
