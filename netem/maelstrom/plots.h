/* SPDX-License-Identifier: GPL-2.0-only */
/* The pictures of a Maelstrom test, as SVG: messages.svg (one column per node, time running
 * down, an arrow per message between nodes; lost ones in red, cut short where the filter
 * dropped them, with the cause) and latency.svg (a panel per kind of operation, each
 * operation's latency against its start by outcome, with the throughput beneath), both with
 * the fault windows as shaded bands; latency.svg is lib/op_chart's, as capctl report's. */
#ifndef CAPNET_MAELSTROM_PLOTS_H
#define CAPNET_MAELSTROM_PLOTS_H

#include <stdio.h>

#include "tools/check/maelstrom_check.h"

struct mael_lost;
struct trace_analysis;

struct mael_band {
	uint64_t from_ns, to_ns; /* from the test's start */
	char label[48];
};

struct mael_plot_input {
	unsigned int nodes;
	uint64_t t0_ns; /* the test's start, on the monotonic clock of messages */
	uint64_t end_ns; /* its length */
	const struct mael_band *bands;
	size_t n_bands;
	const struct trace_analysis *pairing; /* every message, with whether and when it arrived */
	const struct mael_lost *lost;
	const struct mael_op *ops;
	size_t n_ops;
	const char *title;
	enum mael_workload workload; /* names the panels of latency.svg */
};

/* Arrows drawn at most; a note says when more were left out. */
#define MAEL_PLOT_MAX_ARROWS 20000

int mael_plot_messages(FILE *f, const struct mael_plot_input *in);
int mael_plot_latency(FILE *f, const struct mael_plot_input *in);

#endif /* CAPNET_MAELSTROM_PLOTS_H */
