/* SPDX-License-Identifier: GPL-2.0-only */
/* timeline.html of a Maelstrom run, as Maelstrom's store has one: a column per client process,
 * a row per event of the history in time order, each operation a box from the row of its invoke
 * to the row of its completion, coloured by outcome, its request and answer written in it and
 * whole in its tooltip. Rows by event order, not by time, keep a long run's page compact and
 * every overlap visible. */
#ifndef CAPNET_MAEL_TIMELINE_H
#define CAPNET_MAEL_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netem/maelstrom/harness.h"

/* Writes the page; times are shown from t0_ns on. 0 or -errno (-ENOMEM). */
int mael_write_timeline(FILE *f, enum mael_workload w, const struct mael_op *ops, size_t n,
			uint64_t t0_ns, const char *title);

#endif /* CAPNET_MAEL_TIMELINE_H */
