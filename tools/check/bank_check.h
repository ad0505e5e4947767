/* SPDX-License-Identifier: GPL-2.0-only */
/* The bank model's invariants over a history (docs/history-format.md): every atomic read of all
 * balances conserves the money opened, shows no negative balance, and is the opening balances
 * plus some set of transfers that could have taken effect by then. Pure: no I/O, no clock. */
#ifndef CAPNET_BANK_CHECK_H
#define CAPNET_BANK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/check/history.h"

enum bank_violation_kind {
	BANK_CONSERVATION, /* the balances do not add up to the money opened */
	BANK_NEGATIVE, /* an account reads below zero */
	BANK_ACCOUNTS, /* a read misses an account, or names one never opened */
	BANK_TRANSFERS, /* no set of transfers that could have happened explains the read */
};

struct bank_violation {
	enum bank_violation_kind kind;
	size_t op; /* index into history.ops */
	long line; /* the read's completion */
	char msg[240];
};

struct bank_options {
	size_t max_states; /* per read, when searching sets of transfers; 0: from max_memory */
	/* Bytes the search of one read may remember; 0: 128 MiB, and at most 1 << 18 states
	 * unless max_states says otherwise. */
	size_t max_memory;
	/* An AP bank: reads may be stale, so only conservation and accounts are checked, and
	 * negative balances (overdrafts during a split) are reported, not violations. */
	bool ap;
};

struct bank_result {
	bool valid;
	size_t accounts, transfers, reads, ops;
	int64_t total;
	size_t undecided; /* reads whose transfer search hit max_states */
	struct bank_violation *violations; /* the first BANK_MAX_REPORTED, in history order */
	size_t n_violations; /* all of them */
	struct bank_violation overdrafts[10]; /* AP: the first BANK_MAX_OVERDRAFTS */
	size_t n_overdrafts;
};

#define BANK_MAX_REPORTED 100
#define BANK_MAX_OVERDRAFTS 10

/* Checks h (paired). Returns 0 with res filled, -EINVAL if the history does not fit the bank
 * model (err says where), or -ENOMEM. */
int bank_check(const struct history *h, const struct bank_options *opt, struct bank_result *res,
	       struct history_error *err);
void bank_result_free(struct bank_result *res);
const char *bank_violation_kind_name(enum bank_violation_kind k);

#endif /* CAPNET_BANK_CHECK_H */
