/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A replicated key-value map as a pure state machine: byte-string values under C-string keys
 * (the limits of node/proto.h), a chained hash table for O(1) operations, and iteration in key
 * order so that every replica serializes the same map to the same bytes.
 *
 * CAS semantics: a CAS on an absent key answers NOT_FOUND and creates nothing, whatever the
 * expected value; an empty expected value matches only a present, empty value. Absent and
 * empty stay distinct, as null and "" in a history.
 *
 * Every mutating function either succeeds or leaves the map unchanged (also on -ENOMEM), so a
 * replica that runs out of memory can stop without having half-applied an entry.
 */
#ifndef CAPNET_KV_H
#define CAPNET_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/proto.h"

#define KV_KEY_MAX PROTO_KEY_MAX
#define KV_VALUE_MAX PROTO_VALUE_MAX

struct kv;

/* NULL plus errno (ENOMEM). */
struct kv *kv_open(void);
void kv_close(struct kv *kv);

size_t kv_count(const struct kv *kv);

/* 0 and *value (NULL when empty) / *len, or -ENOENT. The value is valid until the next change. */
int kv_get(const struct kv *kv, const char *key, const uint8_t **value, size_t *len);
/* 0, -EINVAL (key empty or too long, value too long), -ENOMEM. */
int kv_put(struct kv *kv, const char *key, const void *value, size_t len);
/* Sets key to value if its current value equals expected: 0, -ENOENT (absent), -ECANCELED
 * (mismatch), -EINVAL, -ENOMEM. */
int kv_cas(struct kv *kv, const char *key, const void *expected, size_t elen, const void *value,
	   size_t len);
/* 0 or -ENOENT. */
int kv_delete(struct kv *kv, const char *key);

/*
 * Calls fn for every key in strcmp() order (unsigned bytes). Stops at the first nonzero
 * return of fn and returns it; returns 0 after the last key, or -ENOMEM.
 */
typedef int (*kv_visit_fn)(void *arg, const char *key, const uint8_t *value, size_t len);
int kv_foreach(const struct kv *kv, kv_visit_fn fn, void *arg);

/*
 * Client operations. kv_execute() runs GET, PUT and CAS and fills rep's status, reason and
 * value (nothing else); it returns 0, or -ENOMEM with the map unchanged and rep undefined.
 * kv_query() runs GET only, without changing anything. Replies:
 *   GET  OK with the value, or NOT_FOUND
 *   PUT  OK
 *   CAS  OK, CAS_MISMATCH with the current value, or NOT_FOUND
 *   any other op: BAD_REQUEST
 */
int kv_execute(struct kv *kv, const struct client_request *req, struct client_reply *rep);
void kv_query(const struct kv *kv, const struct client_request *req, struct client_reply *rep);

#endif /* CAPNET_KV_H */
