// SPDX-License-Identifier: GPL-2.0-only
/* Panels stacked down the page, each the width of the run, so that a fault band lines up
 * across all of them; a point's hover says what it was, a band's what the fault was. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/op_chart.h"
#include "lib/svg.h"

#define LEFT 90.0
#define TOP 48.0
#define WIDTH 900.0
#define PANEL_H 160.0
#define PANEL_GAP 52.0
#define RATE_H 150.0
#define RATE_BUCKETS 60

static const char *const outcome_name[] = { "ok", "fail", "info" };
static const char *const outcome_colour[] = { "#1f77b4", "#ff7f0e", "#d62728" };

uint8_t op_chart_kind(struct op_chart *c, const char *kind)
{
	unsigned int k;

	for (k = 0; k < c->n_kinds; k++)
		if (!strcmp(c->kinds[k], kind))
			return (uint8_t)k;
	if (c->n_kinds == OP_CHART_MAX_KINDS)
		return OP_CHART_MAX_KINDS - 1;
	c->kinds[c->n_kinds] = kind;
	return (uint8_t)c->n_kinds++;
}

/* A panel the width of the run, its x axis in seconds from the run's start. */
static struct svg_panel time_panel(const struct op_chart *c, double top, double height)
{
	return (struct svg_panel){ .x = LEFT,
				   .y = top,
				   .w = WIDTH,
				   .h = height,
				   .x_axis = { SVG_LINEAR, SVG_SECONDS, 0, c->seconds } };
}

static void draw_bands(FILE *f, const struct op_chart *c, const struct svg_panel *p)
{
	char hover[240];

	for (size_t i = 0; i < c->n_bands; i++) {
		const struct op_chart_band *b = &c->bands[i];

		snprintf(hover, sizeof(hover), "%s (%.2f s to %.2f s)", b->label, b->from_s,
			 b->to_s);
		svg_panel_band(f, p, b->from_s, b->to_s, b->label, hover);
	}
}

static void draw_legend(FILE *f)
{
	for (int k = 0; k < OP_CHART_OUTCOMES; k++)
		svg_text(f, LEFT + WIDTH + 12, TOP + 16.0 * (k + 1), SVG_FONT_PX, NULL, "legend",
			 outcome_colour[k], outcome_name[k]);
}

void op_chart_begin(FILE *f, const struct op_chart *c, double height, const char *what)
{
	char title[200];

	snprintf(title, sizeof(title), "%s%s%s", c->title ? c->title : "", c->title ? ": " : "",
		 what);
	svg_begin(f, LEFT + WIDTH + 110, height, what, title);
	if (c->verdict && c->verdict[0])
		svg_text(f, LEFT, 18, SVG_FONT_PX, NULL, "verdict", c->verdict_ok ? "#2a7" : "#c22",
			 c->verdict);
}

static double op_ms(const struct op_chart_op *op)
{
	return op->end_s > op->start_s ? (op->end_s - op->start_s) * 1e3 : 0;
}

/* Completions per second by outcome, in a panel at top. */
static int draw_throughput(FILE *f, const struct op_chart *c, double top)
{
	double bucket = c->seconds / RATE_BUCKETS, max_rate = 1;
	double(*rate)[OP_CHART_OUTCOMES] = calloc(RATE_BUCKETS, sizeof(*rate));
	struct svg_panel p = time_panel(c, top, RATE_H);

	if (!rate)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_ops; i++) {
		const struct op_chart_op *op = &c->ops[i];
		size_t b = (size_t)((op->open ? op->start_s : op->end_s) / bucket);

		if (b >= RATE_BUCKETS)
			b = RATE_BUCKETS - 1; /* the very end */
		rate[b][op->outcome] += 1 / bucket;
	}
	for (size_t b = 0; b < RATE_BUCKETS; b++)
		for (int k = 0; k < OP_CHART_OUTCOMES; k++)
			if (rate[b][k] > max_rate)
				max_rate = rate[b][k];
	svg_axis_linear(&p.y_axis, SVG_PER_SECOND, max_rate);
	draw_bands(f, c, &p);
	svg_panel_draw(f, &p, "operations/s by outcome");
	for (int k = 0; k < OP_CHART_OUTCOMES; k++) {
		fprintf(f, "<polyline class=\"rate %s\" fill=\"none\" stroke=\"%s\" points=\"",
			outcome_name[k], outcome_colour[k]);
		for (size_t b = 0; b < RATE_BUCKETS; b++)
			fprintf(f, "%.1f,%.1f ", svg_panel_x(&p, (b + 0.5) * bucket),
				svg_panel_y(&p, rate[b][k]));
		fputs("\"/>\n", f);
	}
	free(rate);
	return 0;
}

int op_chart_latency(FILE *f, const struct op_chart *c)
{
	double height = TOP + c->n_kinds * (PANEL_H + PANEL_GAP) + 10;
	char title[96], line[32];
	int err = 0;

	if (c->throughput_below)
		height += RATE_H + PANEL_GAP;
	op_chart_begin(f, c, height, "latency");
	for (unsigned int k = 0; k < c->n_kinds; k++) {
		struct svg_panel p = time_panel(c, TOP + k * (PANEL_H + PANEL_GAP), PANEL_H);
		struct svg_range ms = { 0 };

		/* A log scale, as Jepsen's plots: one timeout of seconds leaves the
		 * sub-millisecond rest readable. */
		for (size_t i = 0; i < c->n_ops; i++)
			if (c->ops[i].kind == k)
				svg_range_add(&ms, op_ms(&c->ops[i]));
		svg_axis_latency(&p.y_axis, &ms);
		draw_bands(f, c, &p);
		snprintf(title, sizeof(title), "%s: latency (log scale)", c->kinds[k]);
		svg_panel_draw(f, &p, title);
		for (size_t i = 0; i < c->n_ops; i++) {
			const struct op_chart_op *op = &c->ops[i];

			if (op->kind != k)
				continue;
			line[0] = 0;
			if (op->line)
				snprintf(line, sizeof(line), " (line %ld)", op->line);
			fprintf(f,
				"<circle class=\"op %s %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\" "
				"fill=\"%s\"><title>%s %s of %s%llu, %.3f ms at %.3f s%s</title>"
				"</circle>\n",
				outcome_name[op->outcome], c->kinds[k],
				svg_panel_x(&p, op->start_s), svg_panel_y(&p, op_ms(op)),
				outcome_colour[op->outcome], c->kinds[k], outcome_name[op->outcome],
				c->who, (unsigned long long)op->who, op_ms(op), op->start_s, line);
		}
	}
	if (c->throughput_below)
		err = draw_throughput(f, c, TOP + c->n_kinds * (PANEL_H + PANEL_GAP));
	draw_legend(f);
	svg_end(f);
	return err ? err : ferror(f) ? -EIO : 0;
}

int op_chart_throughput(FILE *f, const struct op_chart *c)
{
	int err;

	op_chart_begin(f, c, TOP + RATE_H + 40, "throughput");
	err = draw_throughput(f, c, TOP);
	draw_legend(f);
	svg_end(f);
	return err ? err : ferror(f) ? -EIO : 0;
}
