/* SPDX-License-Identifier: GPL-2.0-only */
/* The checkers of Maelstrom's workloads, after Maelstrom's own: echo (every answer echoes its
 * request), unique-ids (no id twice), broadcast and g-set (every acknowledged value in every
 * node's final read, nothing nobody sent), g-counter and pn-counter (every final read between
 * what surely and what possibly was added). Pure: the operations in, a verdict and its
 * evidence out; lin-kv goes to the linearizability checker, key by key, kafka to the kafka
 * checker, the txn workloads to the transaction checker. Values are kept as their JSON text, so
 * any JSON value compares exactly. */
#ifndef CAPNET_MAELSTROM_CHECK_H
#define CAPNET_MAELSTROM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/check/history.h"

enum mael_workload {
	MAEL_ECHO,
	MAEL_UNIQUE_IDS,
	MAEL_BROADCAST,
	MAEL_G_SET,
	MAEL_G_COUNTER,
	MAEL_PN_COUNTER,
	MAEL_LIN_KV,
	MAEL_KAFKA,
	MAEL_TXN_LIST_APPEND,
	MAEL_TXN_RW_REGISTER,
	MAEL_WORKLOADS,
};

enum mael_outcome { MAEL_OK, MAEL_FAIL, MAEL_INFO };

/* One client operation: what was asked, what came back. */
struct mael_op {
	uint64_t process;
	unsigned int node; /* 0-based: n0 .. */
	enum mael_outcome outcome;
	bool final; /* a final read, after the faults healed */
	bool read; /* a read (else the workload's write: echo, generate, broadcast, add) */
	bool cas; /* lin-kv: a compare-and-set, from arg to to */
	const char *key; /* lin-kv: JSON text */
	/* JSON text: echo payload, broadcast message, g-set element, lin-kv's written value or
	 * cas's from; NULL else */
	const char *arg;
	const char *to;
	/* kafka and txn: the request's type, its payload and the answer's, as JSON text: send
	 * (key, msg as arg, offset as result), poll (offsets, msgs), commit_offsets (offsets),
	 * list_committed_offsets (keys, offsets), txn (the txn asked, the txn answered). */
	const char *type;
	int64_t delta; /* g-counter, pn-counter adds */
	const char *result; /* JSON text: echo's echo, generate's id, a counter read's value */
	const char **elements; /* broadcast and g-set reads: the values, as JSON text */
	size_t n_elements;
	uint64_t invoke_ns, complete_ns;
};

struct mael_result {
	bool valid;
	char summary[512];
	/* The first problems, one line each, for a person. */
	char evidence[8][400];
	size_t n_evidence, problems;
	size_t lost, unexpected, duplicates, bad_echoes, bad_reads;
};

const char *mael_workload_name(enum mael_workload w);
/* -1 for a workload this build does not know. */
int mael_workload_parse(const char *name);

/* lin-kv's operations as a register history (docs/history-format.md), to check or to write.
 * A read answered "key does not exist" read null. 0, or -ENOMEM. */
int mael_kv_history(const struct mael_op *ops, size_t n, struct history *out);

/* Decides ops (in invoke order); the txn workloads against strict serializability. 0, or
 * -ENOMEM. */
int mael_check(enum mael_workload w, const struct mael_op *ops, size_t n, struct mael_result *r);
/* The same, the txn workloads against the consistency models given (bits of enum txn_model). */
int mael_check_models(enum mael_workload w, const struct mael_op *ops, size_t n,
		      unsigned int models, struct mael_result *r);

/* The parts for kafka and txn (maelstrom_kafka.c, maelstrom_txn.c). */
int mael_check_kafka(const struct mael_op *ops, size_t n, struct mael_result *r);
int mael_check_txn(enum mael_workload w, const struct mael_op *ops, size_t n, unsigned int models,
		   struct mael_result *r);
/* Adds one line of evidence (r->problems counts them all) and makes r invalid. */
void mael_evidence(struct mael_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* CAPNET_MAELSTROM_CHECK_H */
