/* SPDX-License-Identifier: GPL-2.0-only */
/* The append checker: clients append unique values to lists and read whole lists. A history is
 * valid when, per key, one order of appends explains every read: every read is a prefix of one
 * list, that list has each value once and only values someone appended (and no refused one),
 * an append acknowledged before a read began is in that read, and an append acknowledged
 * before another began comes before it. Pure: a paired history in, a verdict with the lines of
 * its evidence out. */
#ifndef CAPNET_APPEND_CHECK_H
#define CAPNET_APPEND_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/check/history.h"

enum append_problem {
	APPEND_OK,
	APPEND_DIVERGED, /* a read that is not a prefix of what another read saw */
	APPEND_DUPLICATE, /* a value twice in one read */
	APPEND_UNEXPECTED, /* a value nobody appended, or only a refused append */
	APPEND_LOST, /* acknowledged before a read began, missing from it */
	APPEND_REORDERED, /* acknowledged before another began, yet after it in the list */
};

struct append_finding {
	enum append_problem problem;
	const char *key;
	const char *value; /* the value concerned */
	long line; /* the read (or, for reordered, the later append's invoke) */
	long other_line; /* the read it diverges from, the append lost or reordered */
};

struct append_result {
	bool valid;
	size_t keys, appends, acknowledged, reads;
	struct append_finding *findings; /* the first of each key, in history order */
	size_t n_findings;
	size_t lost; /* acknowledged appends missing from a later read, all keys */
};

/* Decides h (paired). 0 with r filled (append_result_free() it); -EINVAL with err for another
 * model's operation or a read that is not a list; -ENOMEM. */
int append_check(const struct history *h, struct append_result *r, struct history_error *err);
void append_result_free(struct append_result *r);
const char *append_problem_name(enum append_problem p);

#endif /* CAPNET_APPEND_CHECK_H */
