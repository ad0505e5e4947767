/* SPDX-License-Identifier: GPL-2.0-only */
/* The checkers of Maelstrom's workloads, after Maelstrom's own: echo (every answer echoes its
 * request), unique-ids (no id twice), broadcast and g-set (every acknowledged value in every
 * node's final read, nothing nobody sent), g-counter and pn-counter (every final read between
 * what surely and what possibly was added). Pure: the operations in, a verdict and its
 * evidence out; lin-kv goes to the linearizability checker, key by key. Values are kept as their JSON text, so any JSON value compares exactly. */
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
	int64_t delta; /* g-counter, pn-counter adds */
	const char *result; /* JSON text: echo's echo, generate's id, a counter read's value */
	const char **elements; /* broadcast and g-set reads: the values, as JSON text */
	size_t n_elements;
	uint64_t invoke_ns, complete_ns;
};

struct mael_result {
	bool valid;
	char summary[256];
	/* The first problems, one line each, for a person. */
	char evidence[8][200];
	size_t n_evidence, problems;
	size_t lost, unexpected, duplicates, bad_echoes, bad_reads;
};

const char *mael_workload_name(enum mael_workload w);
/* -1 for a workload this build does not know. */
int mael_workload_parse(const char *name);

/* lin-kv's operations as a register history (docs/history-format.md), to check or to write.
 * A read answered "key does not exist" read null. 0, or -ENOMEM. */
int mael_kv_history(const struct mael_op *ops, size_t n, struct history *out);

/* Decides ops (in invoke order). 0, or -ENOMEM. */
int mael_check(enum mael_workload w, const struct mael_op *ops, size_t n, struct mael_result *r);

#endif /* CAPNET_MAELSTROM_CHECK_H */
