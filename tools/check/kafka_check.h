/* SPDX-License-Identifier: GPL-2.0-only */
/* The checker of Maelstrom's kafka workload: append-only logs by key, offsets given by the
 * servers. Every offset holds one message and every message one offset (inconsistent offsets,
 * duplicates); an acknowledged send some poll read past is in some poll (lost write), else it
 * is unobserved; a poll starts where it asked and holds rising offsets that skip no known one
 * (nonmonotonic, skip); a process's sends get rising offsets; a committed offset once
 * acknowledged is never listed lower, and never higher than anyone committed. Pure: the
 * operations in, counts and evidence out. */
#ifndef CAPNET_KAFKA_CHECK_H
#define CAPNET_KAFKA_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kafka_f { KAFKA_SEND, KAFKA_POLL, KAFKA_COMMIT, KAFKA_LIST };
enum kafka_outcome { KAFKA_OK, KAFKA_FAIL, KAFKA_INFO };

enum kafka_anomaly {
	KAFKA_INCONSISTENT_OFFSETS, /* one offset of a key, two messages */
	KAFKA_DUPLICATE, /* one message at two offsets */
	KAFKA_LOST_WRITE, /* acknowledged, never polled, though polls read past it */
	KAFKA_POLL_NONMONOTONIC, /* offsets in a poll not rising, or before the one asked for */
	KAFKA_POLL_SKIP, /* a poll jumped over an offset known to exist */
	KAFKA_SEND_NONMONOTONIC, /* a process's later send got a lower offset */
	KAFKA_COMMIT_LOST, /* a committed offset listed lower after its commit was acknowledged */
	KAFKA_COMMIT_PHANTOM, /* a committed offset listed that nobody had committed */
	KAFKA_ANOMALIES,
};

struct kafka_pair {
	int64_t offset;
	const char *msg; /* JSON text */
};

/* One key of a poll (offset asked, pairs answered), of a commit (offset committed) or of a
 * list (offset answered; absent when the answer left the key out). */
struct kafka_key {
	const char *key;
	int64_t offset;
	bool absent;
	const struct kafka_pair *pairs;
	size_t n_pairs;
};

struct kafka_op {
	uint64_t process;
	enum kafka_f f;
	enum kafka_outcome outcome;
	const char *key, *msg; /* send */
	int64_t offset; /* send: the offset answered */
	const struct kafka_key *keys; /* poll, commit, list */
	size_t n_keys;
	uint64_t invoke_ns, complete_ns;
};

struct kafka_result {
	bool valid;
	size_t counts[KAFKA_ANOMALIES];
	size_t sends, acknowledged, observed, unobserved, polls, keys;
	char evidence[8][400];
	size_t n_evidence;
};

const char *kafka_anomaly_name(enum kafka_anomaly a);

/* Decides ops (in invoke order). 0, or -ENOMEM. */
int kafka_check(const struct kafka_op *ops, size_t n, struct kafka_result *r);

#endif /* CAPNET_KAFKA_CHECK_H */
