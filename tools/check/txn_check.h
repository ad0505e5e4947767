/* SPDX-License-Identifier: GPL-2.0-only */
/* The transaction checker of txn-list-append and txn-rw-register, after Elle (Kingsbury and
 * Alvaro, "Elle: inferring isolation anomalies from experimental observations"): values are
 * unique per key, so a read names the transaction that wrote what it saw. From the reads it
 * infers each key's version order (list-append: the longest read, of which every read is a
 * prefix; rw-register: writes follow the reads before them in one transaction, and every
 * write follows the initial null), then a graph of transactions with write-write (ww),
 * write-read (wr) and read-write (rw, anti-dependency) edges, and real-time edges when a
 * strict model is asked for. Cycles in it are Adya's anomalies: G0 (ww only), G1c (ww and
 * wr), G-single (exactly one rw), G2-item (more); besides those, G1a (a read of a failed
 * write), G1b (a read of a write its transaction overwrote), and what no model allows: a
 * transaction that disagrees with itself, a value nobody wrote, a duplicate, reads that fit
 * no single order. Pure: transactions in, anomalies and cycles out. */
#ifndef CAPNET_TXN_CHECK_H
#define CAPNET_TXN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum txn_kind { TXN_LIST_APPEND, TXN_RW_REGISTER };
enum txn_f { TXN_READ, TXN_WRITE /* list-append: append */ };
enum txn_outcome { TXN_OK, TXN_FAIL, TXN_INFO };

enum txn_anomaly {
	TXN_G0,
	TXN_G1A,
	TXN_G1B,
	TXN_G1C,
	TXN_G_SINGLE,
	TXN_G2_ITEM,
	TXN_G0_REALTIME,
	TXN_G1C_REALTIME,
	TXN_G_SINGLE_REALTIME,
	TXN_G2_ITEM_REALTIME,
	TXN_INTERNAL, /* a read that disagrees with its own transaction's earlier steps */
	TXN_GARBAGE, /* a value nobody wrote */
	TXN_DUPLICATE, /* list-append: one value twice in a list */
	TXN_INCOMPATIBLE_ORDER, /* list-append: two reads of a key, neither a prefix of the other */
	TXN_CYCLIC_VERSIONS, /* rw-register: writes that follow each other round a loop */
	TXN_ANOMALIES,
};

/* The consistency models Maelstrom's --consistency-models names, weakest first. */
enum txn_model {
	TXN_READ_UNCOMMITTED,
	TXN_READ_COMMITTED,
	TXN_SNAPSHOT_ISOLATION,
	TXN_REPEATABLE_READ,
	TXN_SERIALIZABLE,
	TXN_STRICT_SERIALIZABLE,
	TXN_MODELS,
};

/* One micro-operation: a read (nil, a register's value, or a list) or a write/append. */
struct txn_mop {
	enum txn_f f;
	int64_t key;
	int64_t value; /* a write's or append's value; a register read's value unless nil */
	bool nil; /* a read of nothing */
	const int64_t *list; /* list-append: what a read saw */
	size_t n_list;
};

/* Keys and values that are not integers (Elle's :x, a string) are numbered from TXN_NAMED, and
 * the checker's evidence prints their names instead. */
#define TXN_NAMED (INT64_MAX - ((int64_t)1 << 40))
/* An operation whose node nobody recorded (a history from elsewhere). */
#define TXN_NO_NODE UINT32_MAX
/* An operation whose process nobody recorded (Elle's examples). */
#define TXN_NO_PROCESS (UINT64_MAX - 1)

struct txn_op {
	uint64_t process;
	unsigned int node; /* or TXN_NO_NODE */
	enum txn_outcome outcome;
	const struct txn_mop *mops;
	size_t n_mops;
	uint64_t invoke_ns, complete_ns;
};

struct txn_result {
	bool valid; /* no anomaly any asked model forbids */
	size_t counts[TXN_ANOMALIES];
	unsigned int forbidden_by[TXN_ANOMALIES]; /* bits of the asked models that forbid each */
	size_t ok, failed, indeterminate, edges;
	char evidence[8][1600]; /* a cycle of up to a few transactions in full */
	size_t n_evidence;
};

const char *txn_anomaly_name(enum txn_anomaly a);
const char *txn_model_name(enum txn_model m);
/* -1 for a model this checker does not know. */
int txn_model_parse(const char *name);
/* Bits of TXN_ANOMALIES the model forbids. */
unsigned int txn_model_forbids(enum txn_model m);

/* Whether b is transaction a answered: the same steps, keys and written values, only the reads
 * filled in. */
bool txn_same_steps(const struct txn_mop *a, size_t n_a, const struct txn_mop *b, size_t n_b);

/* Bits of enum txn_model that the anomalies r found forbid: the models the history rules out. */
unsigned int txn_ruled_out(const struct txn_result *r);

/* Decides ops (in invoke order) against the models (bits of enum txn_model). 0, or -ENOMEM. */
int txn_check(enum txn_kind kind, const struct txn_op *ops, size_t n, unsigned int models,
	      struct txn_result *r);
/* The same, with names[id - TXN_NAMED] for the keys and values numbered from TXN_NAMED. */
int txn_check_named(enum txn_kind kind, const struct txn_op *ops, size_t n, unsigned int models,
		    const char *const *names, size_t n_names, struct txn_result *r);

#endif /* CAPNET_TXN_CHECK_H */
