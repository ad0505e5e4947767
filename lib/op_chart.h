/* SPDX-License-Identifier: GPL-2.0-only */
/* The latency and throughput pictures of a run's operations, as Jepsen draws them: every
 * operation at its start and at the height of its latency (log scale), coloured by outcome, one
 * panel per kind of operation; completions per second by outcome; the faults as shaded bands.
 * capctl report and the Maelstrom harness both draw theirs with it, on lib/svg. */
#ifndef CAPNET_OP_CHART_H
#define CAPNET_OP_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum op_chart_outcome { OP_CHART_OK, OP_CHART_FAIL, OP_CHART_INFO, OP_CHART_OUTCOMES };

struct op_chart_op {
	double start_s,
		end_s; /* from the run's start; an operation never answered ends at the end */
	uint8_t outcome; /* enum op_chart_outcome */
	uint8_t kind; /* index into op_chart.kinds */
	bool open; /* never answered: its throughput counts at its start */
	uint64_t who; /* the process (or node) that did it */
	long line; /* in the history, or 0 */
};

struct op_chart_band {
	double from_s, to_s;
	char label[160];
};

#define OP_CHART_MAX_KINDS 8

struct op_chart {
	const struct op_chart_op *ops;
	size_t n_ops;
	const char *kinds[OP_CHART_MAX_KINDS]; /* the panels, in this order */
	unsigned int n_kinds;
	const char *who; /* how an operation's `who` reads in its hover: "process ", "n" */
	double seconds; /* the run's length */
	const struct op_chart_band *bands;
	size_t n_bands;
	const char *title; /* the pictures' <title>, or NULL for what they show */
	const char *verdict; /* a line at the top, or NULL */
	bool verdict_ok; /* drawn green, else red */
	bool throughput_below; /* latency pictures get the throughput panel beneath */
};

/* The index of kind in c->kinds, added when new; OP_CHART_MAX_KINDS - 1 (shared by the rest)
 * when they are full. */
uint8_t op_chart_kind(struct op_chart *c, const char *kind);

/* An SVG of `width` x `height` in class `what`, with the verdict: how the pictures start. */
void op_chart_begin(FILE *f, const struct op_chart *c, double height, const char *what);
/* latency.svg and throughput.svg. 0, -ENOMEM or -EIO. */
int op_chart_latency(FILE *f, const struct op_chart *c);
int op_chart_throughput(FILE *f, const struct op_chart *c);

#endif /* CAPNET_OP_CHART_H */
