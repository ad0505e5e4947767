/* SPDX-License-Identifier: GPL-2.0-only */
/* The set checker, after Jepsen's: clients add unique elements to sets, and once the run is over
 * every node's final read says what each set holds. An acknowledged add absent from every final
 * read was lost; an element nobody tried to add is unexpected; an add of unknown outcome that
 * turned up was recovered; a final read that misses what another final read has is stale. Pure:
 * it reads a paired history and returns the verdict with its evidence (line numbers). */
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

struct set_result {
	bool valid; /* nothing lost, nothing unexpected */
	size_t keys, attempts, acknowledged, final_reads;
	struct set_item *lost, *unexpected, *recovered, *stale;
	size_t n_lost, n_unexpected, n_recovered, n_stale;
};

/*
 * Decides h (paired) as sets. A final read is an ok read of a set invoked after every add of
 * that set completed (after its invoke, for an add never completed). Returns 0 with r filled
 * (set_result_free() it), -EINVAL with err for a history that is not of sets (another operation,
 * a read that is not a list) or that has no final read, or -ENOMEM.
 */
int set_check(const struct history *h, struct set_result *r, struct history_error *err);
void set_result_free(struct set_result *r);

#endif /* CAPNET_SET_CHECK_H */
