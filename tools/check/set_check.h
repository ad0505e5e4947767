/* SPDX-License-Identifier: GPL-2.0-only */
/* The set checker, after Jepsen's: clients add unique elements to sets, and once the run is over
 * every node's final read says what each set holds. The last final read of each node (of each
 * process, when the history names no node) is its settled read. An acknowledged add absent from
 * every settled read was lost; an element nobody tried to add is unexpected; an add of unknown
 * outcome that a settled read has was recovered; settled reads that disagree diverged (the
 * replicas never converged); an earlier final read that misses what every settled read has is
 * merely stale. A read that lists an element twice duplicated it. Pure: it reads a paired history and returns the verdict with its evidence (line
 * numbers). */
#ifndef CAPNET_SET_CHECK_H
#define CAPNET_SET_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/check/history.h"

/* One element in a list of evidence: the element, and the line that names it (the add's invoke,
 * or the final read that has or misses it). */
struct set_item {
	const char *key;
	const char *element;
	long line;
};

/* Who made a final read: a node (the history's "node" field), else a process. */
struct set_reader {
	bool is_node;
	uint64_t id;
};

struct set_result {
	bool valid; /* nothing lost, nothing unexpected, nothing duplicated, no divergence */
	size_t keys, attempts, acknowledged, final_reads;
	struct set_item *lost, *unexpected, *recovered, *stale, *duplicated;
	size_t n_lost, n_unexpected, n_recovered, n_stale, n_duplicated;
	/* Divergence: each element some settled reads of its set have and another misses, with
	 * the line of the settled read that misses it; the distinct elements, and how many of
	 * them were acknowledged; the readers whose settled reads miss some, and those that have
	 * them (each in order, once). */
	struct set_item *diverged;
	size_t n_diverged, diverged_adds, diverged_acknowledged;
	struct set_reader *missing, *having;
	size_t n_missing, n_having;
};

/*
 * Decides h (paired) as sets. A final read is an ok read of a set invoked after every add of
 * that set completed (after its invoke, for an add never completed); the settled read of a
 * reader is its final read of the set invoked last. Returns 0 with r filled
 * (set_result_free() it), -EINVAL with err for a history that is not of sets (another operation,
 * a read that is not a list) or that has no final read, or -ENOMEM.
 */
int set_check(const struct history *h, struct set_result *r, struct history_error *err);
void set_result_free(struct set_result *r);

#endif /* CAPNET_SET_CHECK_H */
