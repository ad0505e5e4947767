/* SPDX-License-Identifier: GPL-2.0-only */
/* What broadcast is graded on beside its verdict, as Maelstrom's set checker gives it: the
 * stable latency of each acknowledged message (from its broadcast's invocation until the end of
 * the last read that lacked it, after which every read has it) and the stale count (messages some
 * read lacked though their broadcast had been acknowledged before that read began). Pure: the
 * history in, the figures out. */
#ifndef CAPNET_MAELSTROM_STABLE_H
#define CAPNET_MAELSTROM_STABLE_H

#include <stddef.h>

#include "tools/check/maelstrom_check.h"

struct mael_stable {
	size_t messages; /* acknowledged broadcasts */
	size_t stable; /* of them, in every final read: their latencies follow */
	size_t never_stable; /* missing from some final read (the checker calls them lost) */
	size_t stale; /* lacked by a read begun after their acknowledgement */
	/* Stable latencies in ms, quantiles 0, 0.5, 0.95, 0.99 and 1 (Maelstrom's). */
	double q0, q50, q95, q99, max;
};

/* The figures of a broadcast history (ops in any order). 0, or -ENOMEM. */
int mael_stable_latency(const struct mael_op *ops, size_t n, struct mael_stable *out);

#endif /* CAPNET_MAELSTROM_STABLE_H */
