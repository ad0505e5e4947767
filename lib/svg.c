// SPDX-License-Identifier: GPL-2.0-only
/* Axes as Jepsen's latency plots draw them: ticks at 1, 2 and 5 times a power of ten, labelled
 * with their unit, as many as their labels leave room for. Text widths are estimated from the
 * characters (a browser measures them, we cannot), erring wide so that labels never touch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/svg.h"
#include "lib/xml.h"

static const double mantissa[] = { 1, 2, 5 };

/* The 1-2-5 grid: index 3k + j is mantissa[j] * 10^k. */
static double grid_value(long idx)
{
	long k = idx >= 0 ? idx / 3 : -((-idx + 2) / 3);

	return mantissa[idx - 3 * k] * pow(10, (double)k);
}

/* The largest grid index whose value is at most v (v > 0). */
static long grid_floor(double v)
{
	long k = (long)floor(log10(v) + 1e-9), idx = 3 * k + 2;

	while (grid_value(idx) > v * (1 + 1e-9))
		idx--;
	return idx;
}

void svg_range_add(struct svg_range *r, double v)
{
	if (v > r->max)
		r->max = v;
	if (v > 0 && (!(r->min > 0) || v < r->min))
		r->min = v;
}

void svg_axis_latency(struct svg_axis *a, const struct svg_range *ms)
{
	double min_ms = ms->min, max_ms = ms->max;
	long lo, hi;

	if (!(max_ms > 0))
		max_ms = 1;
	if (!(min_ms > 0) || min_ms > max_ms)
		min_ms = max_ms / 10;
	if (min_ms < 1e-3)
		min_ms = 1e-3; /* a microsecond: below it, clocks say nothing */
	if (max_ms < min_ms)
		max_ms = min_ms;
	lo = grid_floor(min_ms);
	hi = grid_floor(max_ms);
	if (grid_value(hi) < max_ms * (1 - 1e-9))
		hi++;
	/* At least three labelled values, widened on both sides in turn. */
	for (int turn = 0; hi - lo < 2; turn++)
		turn % 2 ? lo-- : hi++;
	*a = (struct svg_axis){ .scale = SVG_LOG,
				.unit = SVG_MILLISECONDS,
				.lo = grid_value(lo),
				.hi = grid_value(hi) };
}

void svg_axis_linear(struct svg_axis *a, enum svg_unit unit, double max)
{
	double step;

	if (!(max > 0))
		max = 1;
	step = grid_value(grid_floor(max / 4));
	*a = (struct svg_axis){
		.scale = SVG_LINEAR, .unit = unit, .lo = 0, .hi = ceil(max / step - 1e-9) * step
	};
}

static size_t log_ticks(const struct svg_axis *a, double length, double gap, double *out,
			size_t max)
{
	double decades = log10(a->hi / a->lo), per_decade = length / (decades > 0 ? decades : 1);
	long lo = grid_floor(a->lo), hi = grid_floor(a->hi * (1 + 1e-9)), every;
	size_t n = 0;

	/* 1-2-5 while the closest two (1 and 2, or 5 and 10) are apart; else decades, or every
	 * other decade. */
	if (per_decade * log10(2) >= gap)
		every = 1;
	else
		for (every = 3; per_decade * every / 3 < gap; every += 3)
			;
	for (long i = lo; i <= hi && n < max; i++) {
		double v = grid_value(i);

		if (v < a->lo * (1 - 1e-9) || ((i % every + every) % every && every > 1))
			continue;
		out[n++] = v;
	}
	return n;
}

size_t svg_ticks(const struct svg_axis *a, double length, double gap, double *out, size_t max)
{
	double span = a->hi - a->lo, step;
	long idx;
	size_t n = 0;

	if (!(span > 0) || !(length > 0))
		return 0;
	if (a->scale == SVG_LOG)
		return log_ticks(a, length, gap, out, max);
	/* The smallest 1-2-5 step whose labels stand apart. */
	idx = grid_floor(span / 1000);
	while (grid_value(idx) / span * length < gap || span / grid_value(idx) > max - 1)
		idx++;
	step = grid_value(idx);
	/* Round seconds on a time axis long enough to have three of them. */
	if (a->unit == SVG_SECONDS && span >= 3 && step < 1)
		step = 1;
	for (long k = (long)ceil(a->lo / step - 1e-9); k * step <= a->hi * (1 + 1e-12) + 1e-12;
	     k++) {
		if (n == max)
			break;
		out[n++] = k * step;
	}
	return n;
}

void svg_tick_label(const struct svg_axis *a, double v, char *buf, size_t len)
{
	/* Whole multiples of steps as small as 1e-3 print short under %.6g once rounded. */
	double r = round(v * 1e6) / 1e6;

	switch (a->unit) {
	case SVG_SECONDS:
		snprintf(buf, len, "%.6g s", r);
		break;
	case SVG_MILLISECONDS:
		if (v >= 1000)
			snprintf(buf, len, "%.6g s", round(v) / 1000);
		else
			snprintf(buf, len, "%.6g ms", r);
		break;
	case SVG_PER_SECOND:
		snprintf(buf, len, "%.6g ops/s", r);
		break;
	}
}

static double axis_fraction(const struct svg_axis *a, double v)
{
	double f;

	if (a->scale == SVG_LOG) {
		if (!(v > a->lo))
			v = a->lo;
		f = log10(v / a->lo) / log10(a->hi / a->lo);
	} else {
		f = (v - a->lo) / (a->hi - a->lo);
	}
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

double svg_panel_x(const struct svg_panel *p, double v)
{
	return p->x + axis_fraction(&p->x_axis, v) * p->w;
}

double svg_panel_y(const struct svg_panel *p, double v)
{
	return p->y + p->h - axis_fraction(&p->y_axis, v) * p->h;
}

void svg_begin(FILE *f, double width, double height, const char *cls, const char *title)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
		"font-size=\"%.0f\">\n<title>",
		cls, width, height, width, height, SVG_FONT_PX);
	xml_write_text(f, title);
	fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
}

void svg_end(FILE *f)
{
	fputs("</svg>\n", f);
}

void svg_text(FILE *f, double x, double y, double font_px, const char *anchor, const char *cls,
	      const char *fill, const char *text)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
	if (font_px != SVG_FONT_PX)
		fprintf(f, " font-size=\"%.0f\"", font_px);
	if (anchor)
		fprintf(f, " text-anchor=\"%s\"", anchor);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	if (fill)
		fprintf(f, " fill=\"%s\"", fill);
	fputc('>', f);
	xml_write_text(f, text);
	fputs("</text>\n", f);
}

/* The gap a tick label needs along its axis: its width across, its height up. */
static double label_gap(const struct svg_axis *a, bool across)
{
	char lo[48], hi[48];
	double w;

	if (!across)
		return SVG_FONT_PX * 1.3 + 2;
	svg_tick_label(a, a->lo + (a->hi - a->lo) / 3, lo, sizeof(lo));
	svg_tick_label(a, a->hi, hi, sizeof(hi));
	w = svg_text_width(lo, SVG_FONT_PX);
	if (svg_text_width(hi, SVG_FONT_PX) > w)
		w = svg_text_width(hi, SVG_FONT_PX);
	return w + 12;
}

void svg_panel_draw(FILE *f, const struct svg_panel *p, const char *title)
{
	double ticks[SVG_MAX_TICKS];
	char label[48];
	size_t n;

	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		"stroke=\"#888\"/>\n",
		p->x, p->y, p->w, p->h);
	n = svg_ticks(&p->y_axis, p->h, label_gap(&p->y_axis, false), ticks, SVG_MAX_TICKS);
	fputs("<g class=\"axis y\">\n", f);
	for (size_t i = 0; i < n; i++) {
		double y = svg_panel_y(p, ticks[i]);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
			p->x, y, p->x + p->w, y, p->x - 4, y, p->x, y);
		svg_tick_label(&p->y_axis, ticks[i], label, sizeof(label));
		svg_text(f, p->x - 6, y + 4, SVG_FONT_PX, "end", "tick", "#444", label);
	}
	fputs("</g>\n<g class=\"axis x\">\n", f);
	n = svg_ticks(&p->x_axis, p->w, label_gap(&p->x_axis, true), ticks, SVG_MAX_TICKS);
	for (size_t i = 0; i < n; i++) {
		double x = svg_panel_x(p, ticks[i]);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
			x, p->y + p->h, x, p->y + p->h + 4);
		svg_tick_label(&p->x_axis, ticks[i], label, sizeof(label));
		svg_text(f, x, p->y + p->h + 18, SVG_FONT_PX, "middle", "tick", "#444", label);
	}
	fputs("</g>\n", f);
	if (title)
		svg_text(f, p->x, p->y - 6, SVG_FONT_PX, NULL, "panel", NULL, title);
}

void svg_panel_band(FILE *f, const struct svg_panel *p, double from, double to, const char *label,
		    const char *hover)
{
	double x0 = svg_panel_x(p, from), x1 = svg_panel_x(p, to);

	fprintf(f,
		"<rect class=\"fault\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"" SVG_BAND_FILL "\" fill-opacity=\"%.2f\"><title>",
		x0, p->y, x1 - x0 > 1 ? x1 - x0 : 1, p->h, SVG_BAND_OPACITY);
	xml_write_text(f, hover ? hover : label);
	fputs("</title></rect>\n", f);
	/* Inside its band or not at all: the hover names it. */
	if (label && svg_text_width(label, 9) + 4 <= x1 - x0)
		svg_text(f, x0 + 2, p->y + 10, 9, NULL, "fault-label", SVG_BAND_TEXT, label);
}

double svg_text_width(const char *text, double font_px)
{
	double em = 0;

	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if ((*c & 0xc0) == 0x80)
			continue; /* inside a UTF-8 character: counted at its first byte */
		if (*c == ' ' || *c == '.' || *c == ',' || *c == ':' || *c == '|' || *c == 'i' ||
		    *c == 'l' || *c == 'j' || *c == '\'' || *c == '!')
			em += 0.36;
		else if ((*c >= 'A' && *c <= 'Z') || *c == 'm' || *c == 'w' || *c >= 0x80)
			em += 0.9;
		else
			em += 0.66;
	}
	return em * font_px + 2;
}

bool svg_labels_take(struct svg_labels *l, double x, double y, const char *anchor, double font_px,
		     const char *text)
{
	double w = svg_text_width(text, font_px), b[4];

	b[0] = !anchor || !strcmp(anchor, "start") ? x :
	       !strcmp(anchor, "middle")	   ? x - w / 2 :
						     x - w;
	b[2] = b[0] + w;
	/* A browser's box of a line of text: its font's ascent above the baseline, descent
	 * below. */
	b[1] = y - font_px * 0.95 - 1;
	b[3] = y + font_px * 0.27 + 1;
	for (size_t i = 0; i < l->n; i++)
		if (b[0] < l->box[i][2] && l->box[i][0] < b[2] && b[1] < l->box[i][3] &&
		    l->box[i][1] < b[3])
			return false;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = realloc(l->box, cap * sizeof(*l->box));

		if (!p)
			return false; /* without memory to remember it, it is not drawn */
		l->box = p;
		l->cap = cap;
	}
	memcpy(l->box[l->n++], b, sizeof(b));
	return true;
}

void svg_labels_free(struct svg_labels *l)
{
	free(l->box);
	*l = (struct svg_labels){ 0 };
}
