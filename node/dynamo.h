/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AP mode as a pure state machine, in the style of Dynamo and Riak: every node coordinates
 * requests, N replicas per key on a consistent-hash ring, per-request consistency ONE, QUORUM
 * or ALL, dotted version vectors, last-writer-wins by hybrid logical clock (or siblings),
 * hinted handoff, read repair and anti-entropy by per-bucket digests. No I/O and no clock: the
 * shell passes the wall-clock time in milliseconds to every call and drains three queues after
 * each: durable writes (persist and sync them first), messages to peers, replies to clients.
 *
 * Versions. A version is one value written by one coordinator: its dot (coordinator, counter),
 * the hybrid logical clock of the write, the causal context the client gave with the put (the
 * versions it supersedes) and the value. A key's record holds its live versions (siblings) and
 * the join of every context it has seen. Merging a version drops the live versions its context
 * covers, and ignores the version if the record's context covers its dot but does not hold it
 * (it was superseded already). Merging is commutative, associative and idempotent, so replicas
 * that saw the same versions in any order hold the same record. In last-writer-wins mode (the
 * default) a record keeps one version: the greatest by (hlc, coordinator id, counter), the same
 * choice everywhere.
 *
 * Every message carries at most one version, so a value of PROTO_VALUE_MAX bytes always fits a
 * datagram whatever the number of siblings. A record holds at most DYN_SIBLINGS_MAX versions:
 * a version that would make more is refused (not acknowledged, counted in stats), never
 * dropped, and delivered again by hints or anti-entropy once a put with a context resolves.
 *
 * The bank lives in a second key space: one record per transfer ("t/<client>/<seq>", so a
 * retried request writes the same transfer again, not a second one) and one per account
 * ("open/<name>"), last-writer-wins whatever the mode, replicated on every node. A balance at
 * QUORUM or ALL pulls from that many replicas the records of every digest bucket where they
 * differ from the coordinator, merges them into the coordinator's store and answers from it;
 * at ONE it answers from the local store alone.
 */
#ifndef CAPNET_DYNAMO_H
#define CAPNET_DYNAMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/proto.h"

#define DYN_MAX_NODES PROTO_MAX_NODE
#define DYN_VV_MAX 16
#define DYN_SIBLINGS_MAX PROTO_SIBLINGS_MAX
#define DYN_BUCKETS 64
/* Keys of the bank space are a little longer than a client's: "open/<account>". */
#define DYN_KEY_MAX (PROTO_KEY_MAX + 8)
#define DYN_VNODES 32

enum dyn_space {
	DYN_SPACE_KV = 0,
	DYN_SPACE_BANK = 1,
};

struct dyn_vv {
	uint8_t n; /* entries sorted by node id, counters > 0 */
	struct dyn_dot {
		uint16_t node;
		uint64_t counter;
	} e[DYN_VV_MAX];
};

struct dyn_version {
	struct dyn_dot dot;
	uint64_t hlc; /* milliseconds << 16 | logical counter */
	struct dyn_vv ctx; /* what this version supersedes */
	uint16_t len;
	uint8_t value[PROTO_VALUE_MAX];
};

struct dyn_config {
	uint16_t id;
	uint16_t nnodes; /* every member, self included */
	uint16_t nodes[DYN_MAX_NODES];
	uint16_t replicas; /* N; 0 or more than nnodes: every node */
	bool siblings; /* keep concurrent values instead of last-writer-wins (N <= DYN_VV_MAX) */
	unsigned int request_timeout_ms;
	unsigned int anti_entropy_ms; /* between digest exchanges; 0 turns anti-entropy off */
	unsigned int hint_retry_ms; /* between deliveries of one hint; 0: 500 */
};

/* Durable writes, in order. A shell replays them into a fresh state machine with dyn_restore()
 * after a restart. dyn_snapshot() states the whole state as writes, so a shell can replace a
 * long log by a short one; the last two kinds appear only there. */
enum dyn_write_kind {
	DYN_WRITE_VERSION = 1, /* a version merged into the local store */
	DYN_WRITE_HINT = 2, /* a hint to keep: id, target, version */
	DYN_WRITE_HINT_DONE = 3, /* a hint delivered: id */
	DYN_WRITE_RECORD = 4, /* a record's causal context and seen counters, after its versions */
	DYN_WRITE_COUNTERS = 5, /* the clock and the next hint id */
};

struct dyn_write {
	uint8_t kind;
	uint16_t len;
	uint8_t data[PROTO_MAX_PAYLOAD];
};

struct dyn_msg {
	uint16_t to;
	uint8_t type; /* enum proto_type, PROTO_REPLICA_PUT .. PROTO_BANK_READ_RESP */
	uint16_t len;
	uint8_t payload[PROTO_MAX_PAYLOAD];
};

struct dyn_reply {
	uint64_t handle; /* the caller's, from dyn_request() */
	struct client_reply rep;
};

struct dyn_stats {
	uint64_t versions, keys, hints;
	uint64_t hints_delivered, read_repairs, ae_rounds, ae_repairs;
	uint64_t sibling_overflow, bad_messages;
};

struct dynamo;

/* NULL plus errno: EINVAL (a bad configuration), E2BIG (siblings with more than DYN_VV_MAX
 * replicas per key), ENOMEM. */
struct dynamo *dyn_new(const struct dyn_config *cfg);
void dyn_free(struct dynamo *d);

/* The replicas of a key in preference order (n of them, returned). */
unsigned int dyn_preference(const struct dynamo *d, uint8_t space, const char *key, uint16_t *out);

/* Peers this node talks with both ways now (the shell measures it): node i is bit i of the
 * proto bitmap. Self is always reachable. */
void dyn_set_reachable(struct dynamo *d, const uint8_t *bitmap);

/* A client request; its reply comes out of dyn_pop_reply() with handle, now or later. Handles
 * are the caller's below 2^63 (the top bit marks requests forwarded by another node). */
void dyn_request(struct dynamo *d, uint64_t now, uint64_t handle, const struct client_request *req);
/* A message from a peer. 0, or -EBADMSG (counted, dropped). */
int dyn_receive(struct dynamo *d, uint64_t now, uint16_t from, uint8_t type, const uint8_t *payload,
		size_t len);
/* Timeouts, hint delivery and anti-entropy. Call every few milliseconds. */
void dyn_tick(struct dynamo *d, uint64_t now);

/* Replays one durable write after a restart (no output). 0, -EBADMSG or -ENOMEM. */
int dyn_restore(struct dynamo *d, const struct dyn_write *w);

/* The state as durable writes: replayed into a fresh state machine (same configuration) with
 * dyn_restore(), they rebuild what replaying every write so far would. Calls fn for each, in
 * order; returns fn's first nonzero, or 0. */
int dyn_snapshot(const struct dynamo *d, int (*fn)(void *arg, const struct dyn_write *w),
		 void *arg);

/* The queues; each returns false when empty. Writes must be durable before the messages and
 * replies queued with them leave. */
bool dyn_pop_write(struct dynamo *d, struct dyn_write *out);
bool dyn_pop_msg(struct dynamo *d, struct dyn_msg *out);
bool dyn_pop_reply(struct dynamo *d, struct dyn_reply *out);

void dyn_stats(const struct dynamo *d, struct dyn_stats *st);
/* Order-independent fingerprint of the live versions of one space: equal on converged replicas. */
uint64_t dyn_fingerprint(const struct dynamo *d, uint8_t space);
uint64_t dyn_hlc(const struct dynamo *d);

/* The local record of a key: number of live versions (0: absent), copied into out (up to max),
 * and its context. */
unsigned int dyn_local(const struct dynamo *d, uint8_t space, const char *key,
		       struct dyn_version *out, unsigned int max, struct dyn_vv *ctx);

/* The local bank: calls fn for every account in name order with its balance over the records
 * held here. Returns fn's first nonzero, or 0; total (may be NULL) gets the sum of balances and
 * opened the sum of opening balances. */
int dyn_bank_foreach(const struct dynamo *d, int (*fn)(void *arg, const char *name, int64_t bal),
		     void *arg, int64_t *total, int64_t *opened);

/* A context as text, "1:3,2:5" (what a GET reply carries and a PUT gives back in `expected`),
 * and its parser (0 or -EINVAL). */
int dyn_vv_format(const struct dyn_vv *vv, char *buf, size_t len);
int dyn_vv_parse(const char *text, size_t len, struct dyn_vv *vv);

#endif /* CAPNET_DYNAMO_H */
