/* SPDX-License-Identifier: GPL-2.0-only */
/* Linearizability of a key-value store of registers (read, write, cas), checked per key by the
 * Wing-Gong/Lowe search with memoized configurations. Pure: no I/O, no clock. */
#ifndef CAPNET_LINEARIZABILITY_H
#define CAPNET_LINEARIZABILITY_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/check/history.h"

enum lin_verdict {
	LIN_VALID,
	LIN_VIOLATION,
	LIN_UNDECIDED, /* a search hit its memory limit */
};

enum lin_role {
	LIN_ROLE_REQUIRED, /* completed ok: took effect inside its interval */
	LIN_ROLE_OPTIONAL, /* may have taken effect any time after its invoke, or never */
	LIN_ROLE_FAILED, /* the operation that could not be placed */
};

struct lin_window_op {
	size_t op; /* index into history.ops */
	enum lin_role role;
};

struct lin_options {
	size_t max_memory; /* bytes of memoized configurations per search; 0: 512 MiB */
};

struct lin_result {
	enum lin_verdict verdict;
	size_t keys; /* distinct keys */
	size_t ops; /* operations checked (fail and info reads constrain nothing) */
	size_t configs; /* configurations memoized, all searches together */
	/* For a violation, or the key that was undecided: */
	const char *key; /* points into the history */
	size_t failed_op; /* index into history.ops */
	struct lin_window_op *window; /* in invoke order */
	size_t n_window;
	bool initial_known; /* the window starts at the beginning, where the value is null */
	bool minimal; /* the window was shrunk as far as the search allows */
};

/* Checks h (paired by history_pair()). Returns 0 with res filled, -EINVAL when an operation does
 * not fit the register model (err says which line and why), or -ENOMEM. */
int lin_check_register(const struct history *h, const struct lin_options *opt,
		       struct lin_result *res, struct history_error *err);
void lin_result_free(struct lin_result *res);

/* Whether op fits the register model: returns 0 or -EINVAL with err filled. */
int lin_validate_op(const struct history_op *op, struct history_error *err);

#endif /* CAPNET_LINEARIZABILITY_H */
