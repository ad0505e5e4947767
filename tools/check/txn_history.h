/* SPDX-License-Identifier: GPL-2.0-only */
/* Transaction histories brought from elsewhere, read into the transaction checker's operations:
 * Jepsen's and Elle's EDN (one vector of operation maps, or one map per line; :type, :value of
 * micro-operations [:append k v], [:w k v], [:r k v]; :process and :f optional, as in Elle's own
 * examples) and capnet's JSON lines ({"process":0,"type":"ok","f":"txn","value":[["append",1,2],
 * ["r",1,[2]]]}). An invoke pairs with its process's next completion; a completion with no
 * invoke is a whole transaction. Real time is the order of the events, as Elle takes it. Keys and
 * values that are not integers are numbered from TXN_NAMED. Pure: text in, operations out. */
#ifndef CAPNET_TXN_HISTORY_H
#define CAPNET_TXN_HISTORY_H

#include <stddef.h>

#include "tools/check/history.h"
#include "tools/check/mael_arena.h"
#include "tools/check/txn_check.h"

struct txn_history {
	enum txn_kind kind;
	struct txn_op *ops; /* in invoke order */
	size_t n_ops, cap_ops;
	char **names; /* names[id - TXN_NAMED] */
	size_t n_names, cap_names;
	size_t *name_slots, n_name_slots; /* open addressing: index + 1 into names, 0 empty */
	uint64_t *open_process; /* open addressing: process + 1, 0 empty */
	size_t *open_op, n_open_slots, n_open;
	size_t events, skipped; /* events read; events not a client's transaction */
	struct mael_arena arena; /* micro-operations and read lists */
	char *block;
	size_t block_left;
};

void txn_history_init(struct txn_history *h, enum txn_kind kind);
void txn_history_free(struct txn_history *h);

/* Appends the transactions of text (EDN or JSON lines, told apart by their first character) to
 * h. 0, -EINVAL with err (line and what is wrong), or -ENOMEM. */
int txn_history_parse(struct txn_history *h, const char *text, size_t len,
		      struct history_error *err);

#endif /* CAPNET_TXN_HISTORY_H */
