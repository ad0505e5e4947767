/* SPDX-License-Identifier: GPL-2.0-only */
/* What the files of AP mode's state machine share, and nothing outside node/dynamo*.c sees: the
 * records, operations, queues, bank records and ring behind struct dynamo, and the functions one
 * file calls in another (ap_ names; node/dynamo.h's dyn_ names are the public side). */
#ifndef CAPNET_DYNAMO_INTERNAL_H
#define CAPNET_DYNAMO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "node/bank.h"
#include "node/dynamo.h"
#include "node/proto.h"

#define MAX_OPS 1024
#define HINTS_MAX 100000
#define TABLE_MIN 256
/* The handle of a request another node forwarded: that node's id in the low bits. */
#define FORWARDED (1ull << 63)

struct rec {
	struct rec *next;
	uint64_t hash;
	uint8_t space;
	char key[DYN_KEY_MAX + 1];
	struct dyn_vv ctx; /* join of every context merged: dots it covers are superseded */
	struct dyn_vv seen; /* every dot and context merged: where this node's counters go on */
	uint8_t nver;
	struct dyn_version *ver[DYN_SIBLINGS_MAX];
};

/* One version of one key: what every Dynamo message (but acks and digests) carries. */
struct item {
	uint8_t space;
	char key[DYN_KEY_MAX + 1];
	struct dyn_version v;
};

struct hint {
	uint64_t id;
	uint16_t target;
	uint64_t next_send;
	struct item it;
};

enum op_kind {
	OP_READ = 1,
	OP_WRITE,
	OP_FORWARD,
	OP_BANK_READ,
};

/* What a bank read knows of one replica's answer: a stream of pieces, each with some of the
 * records of the buckets where that replica's digest differed from the coordinator's. */
struct bank_answer {
	uint64_t tag; /* names the stream: a duplicated request may be answered twice */
	uint64_t differs; /* bit b: bucket b differed */
	uint32_t npieces, got;
	uint8_t *seen; /* bitmap of the pieces received */
	uint64_t digest[DYN_BUCKETS]; /* what the replica holds, for read repair */
};

struct bank_read {
	uint64_t mine[DYN_BUCKETS]; /* the coordinator's bank digest when the read began */
	struct bank_answer ans[]; /* nrep of them, in preference order */
};

/* What a request knows of one of its replicas. */
struct op_rep {
	uint16_t node;
	bool asked; /* a message went to it (or it is this node) */
	bool done; /* acknowledged, or answered with every piece */
	bool hinted;
	uint8_t expect; /* read: pieces announced, 0xff before the first */
	uint16_t got; /* read: bitmap of pieces received */
	uint64_t fp; /* read: fingerprint of what the replica holds */
};

struct op {
	bool used, replied;
	uint8_t kind;
	uint64_t id, handle, deadline;
	struct client_request req;
	uint8_t space;
	char key[DYN_KEY_MAX + 1];
	uint16_t nrep, need, answered, asked;
	struct op_rep *r; /* nrep of them, in preference order */
	struct item *wr; /* write: the version written */
	struct rec *merged; /* read: what the answers add up to */
	struct bank_read *br;
	uint16_t fwd_to;
};

struct queue {
	void *items;
	size_t size, head, len, cap;
};

struct ring_point {
	uint64_t hash;
	uint16_t node;
};

struct dynamo {
	struct dyn_config cfg;
	uint16_t n_replicas;
	struct ring_point ring[DYN_MAX_NODES * DYN_VNODES];
	unsigned int nring;
	uint8_t reach[PROTO_BITMAP_BYTES];
	uint64_t hlc;
	struct rec **table;
	size_t table_size, nrec, nversions;
	struct hint *hints;
	size_t nhints, hints_cap;
	uint64_t next_hint_id, next_op_id;
	struct op ops[MAX_OPS];
	unsigned int ops_hi; /* no slot from here on is in use */
	uint64_t next_ae;
	unsigned int ae_peer;
	struct queue writes, msgs, replies;
	struct dyn_stats st;
};

enum bank_kind {
	BANK_OPEN = 1,
	BANK_TRANSFER = 2,
};

struct bank_rec {
	uint8_t kind;
	char from[PROTO_KEY_MAX + 1], to[PROTO_KEY_MAX + 1];
	int64_t amount;
};

struct account {
	char name[PROTO_KEY_MAX + 1];
	int64_t balance;
	bool opened;
};

struct accounts {
	struct account *a;
	size_t n, cap;
	int64_t opened;
};

/* The request a read sends every replica, after its op id. */
typedef void (*read_body_fn)(struct proto_writer *w, const struct op *op);

const struct account *ap_account_find(const struct accounts *as, const char *name);
int ap_accounts_load(const struct dynamo *d, struct accounts *as);
uint8_t ap_answered8(unsigned int n);
void ap_ask_replicas(struct dynamo *d, struct op *op, uint8_t type, read_body_fn body);
void ap_balance_reply(struct dynamo *d, uint64_t handle, const struct client_request *req,
		      unsigned int answered);
void ap_bank_digest(const struct dynamo *d, uint64_t *out);
const char *ap_cons_name(enum client_consistency c);
void ap_deliver_hints(struct dynamo *d, uint64_t now);
void ap_digest(const struct dynamo *d, uint16_t peer, uint64_t *out);
void ap_emit_write(struct dynamo *d, uint8_t kind, uint64_t id, uint16_t target,
		   const struct item *it);
void ap_flush_forwarded(struct dynamo *d);
void ap_get_item(struct proto_reader *r, struct item *it);
void ap_get_vv(struct proto_reader *r, struct dyn_vv *vv);
void ap_handle_request(struct dynamo *d, uint64_t now, uint64_t handle,
		       const struct client_request *req, bool forwarded);
int ap_hint_add(struct dynamo *d, uint64_t id, uint16_t target, const struct item *it,
		bool durable);
void ap_hint_done(struct dynamo *d, uint64_t id, bool durable);
bool ap_is_replica(const struct dynamo *d, uint8_t space, const char *key, uint16_t node);
void ap_item_of(struct item *it, const struct rec *r, unsigned int k);
uint64_t ap_key_hash(uint8_t space, const char *key);
bool ap_lww(const struct dynamo *d, const struct rec *r);
uint64_t ap_mix(uint64_t h);
struct proto_writer *ap_msg_begin(struct dynamo *d, uint16_t to, uint8_t type,
				  struct proto_writer *w, struct dyn_msg **m);
void ap_msg_end(struct dynamo *d, struct dyn_msg *m, struct proto_writer *w);
uint64_t ap_next_hlc(struct dynamo *d, uint64_t now);
void ap_observe_hlc(struct dynamo *d, uint64_t hlc);
struct op *ap_op_find(struct dynamo *d, uint64_t id, uint8_t kind);
void ap_op_free(struct op *op);
int ap_op_index(const struct op *op, uint16_t node);
void ap_put_item(struct proto_writer *w, const struct item *it);
void ap_put_vv(struct proto_writer *w, const struct dyn_vv *vv);
void *ap_queue_push(struct queue *q);
bool ap_reachable(const struct dynamo *d, uint16_t node);
void ap_read_answer(struct dynamo *d, struct op *op, unsigned int i);
void ap_read_repair_any(struct dynamo *d, struct op *op);
struct rec *ap_rec_find(const struct dynamo *d, uint8_t space, const char *key, uint64_t h);
uint64_t ap_rec_fp(const struct rec *r);
void ap_rec_free_versions(struct rec *r);
struct rec *ap_rec_get(struct dynamo *d, uint8_t space, const char *key, bool create);
int ap_rec_merge(const struct dynamo *d, struct rec *r, const struct dyn_version *v);
struct client_reply *ap_reply_new(struct dynamo *d, uint64_t handle,
				  const struct client_request *req, enum reply_status status);
void ap_reply_simple(struct dynamo *d, uint64_t handle, const struct client_request *req,
		     enum reply_status status, unsigned int answered, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void ap_request_bank(struct dynamo *d, uint64_t now, uint64_t handle,
		     const struct client_request *req);
void ap_request_put(struct dynamo *d, uint64_t now, uint64_t handle,
		    const struct client_request *req, bool forwarded);
int ap_ring_cmp(const void *a, const void *b);
void ap_send_item(struct dynamo *d, uint16_t to, uint8_t type, uint64_t id, const struct item *it);
void ap_send_u64(struct dynamo *d, uint16_t to, uint8_t type, uint64_t id, int extra);
struct op *ap_start_op(struct dynamo *d, uint8_t kind, uint64_t now, uint64_t handle,
		       const struct client_request *req, uint8_t space, const char *key);
void ap_start_read(struct dynamo *d, uint64_t now, uint64_t handle,
		   const struct client_request *req);
int ap_store_merge(struct dynamo *d, const struct item *it, bool durable);
int ap_version_cmp(const struct dyn_version *a, const struct dyn_version *b);
uint64_t ap_version_fp(uint64_t khash, const struct dyn_version *v);
uint64_t ap_vv_get(const struct dyn_vv *vv, uint16_t node);
int ap_vv_join(struct dyn_vv *a, const struct dyn_vv *b);
int ap_vv_raise(struct dyn_vv *vv, uint16_t node, uint64_t counter);
void ap_write_ack(struct dynamo *d, struct op *op, unsigned int i);

#endif /* CAPNET_DYNAMO_INTERNAL_H */
