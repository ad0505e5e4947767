// SPDX-License-Identifier: GPL-2.0-only
/* The key-value map of node/kv.h: a chained hash table that doubles as it fills, plus a sorted
 * walk for snapshots. The hash has no random seed: replicas never iterate in hash order, so the
 * seed could not leak into their state, and a fixed hash keeps runs reproducible. */
#include "node/kv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_BUCKETS_MIN 64

struct kv_item {
	struct kv_item *next;
	uint64_t hash;
	uint8_t *value; /* NULL when len is 0 */
	uint32_t len;
	uint16_t klen;
	char key[]; /* klen bytes and a NUL */
};

struct kv {
	struct kv_item **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

/* FNV-1a, then a final mix so the low bits that pick a bucket depend on every byte. */
static uint64_t key_hash(const char *key, size_t klen)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < klen; i++) {
		h ^= (uint8_t)key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static bool key_valid(const char *key, size_t *klen)
{
	*klen = strnlen(key, KV_KEY_MAX + 1);
	return *klen >= 1 && *klen <= KV_KEY_MAX;
}

struct kv *kv_open(void)
{
	struct kv *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return NULL;
	kv->nbuckets = KV_BUCKETS_MIN;
	kv->buckets = calloc(kv->nbuckets, sizeof(*kv->buckets));
	if (!kv->buckets) {
		free(kv);
		return NULL;
	}
	return kv;
}

void kv_close(struct kv *kv)
{
	if (!kv)
		return;
	for (size_t b = 0; b < kv->nbuckets; b++) {
		struct kv_item *it = kv->buckets[b], *next;

		for (; it; it = next) {
			next = it->next;
			free(it->value);
			free(it);
		}
	}
	free(kv->buckets);
	free(kv);
}

size_t kv_count(const struct kv *kv)
{
	return kv->count;
}

static struct kv_item **item_slot(const struct kv *kv, const char *key, size_t klen, uint64_t h)
{
	struct kv_item **p = &kv->buckets[h & (kv->nbuckets - 1)];

	for (; *p; p = &(*p)->next)
		if ((*p)->hash == h && (*p)->klen == klen && !memcmp((*p)->key, key, klen))
			break;
	return p;
}

static struct kv_item *item_find(const struct kv *kv, const char *key)
{
	size_t klen;

	if (!key_valid(key, &klen))
		return NULL;
	return *item_slot(kv, key, klen, key_hash(key, klen));
}

/* Growing is an optimisation: when it cannot allocate, the table stays as it is and works. */
static void table_grow(struct kv *kv)
{
	size_t n = kv->nbuckets * 2;
	struct kv_item **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;
	for (size_t b = 0; b < kv->nbuckets; b++) {
		struct kv_item *it = kv->buckets[b], *next;

		for (; it; it = next) {
			next = it->next;
			it->next = nb[it->hash & (n - 1)];
			nb[it->hash & (n - 1)] = it;
		}
	}
	free(kv->buckets);
	kv->buckets = nb;
	kv->nbuckets = n;
}

/* Replaces an item's value; on -ENOMEM the old value stays. */
static int item_set(struct kv_item *it, const void *value, size_t len)
{
	uint8_t *v = NULL;

	if (len == it->len) {
		if (len)
			memcpy(it->value, value, len);
		return 0;
	}
	if (len) {
		v = malloc(len);
		if (!v)
			return -ENOMEM;
		memcpy(v, value, len);
	}
	free(it->value);
	it->value = v;
	it->len = (uint32_t)len;
	return 0;
}

int kv_get(const struct kv *kv, const char *key, const uint8_t **value, size_t *len)
{
	const struct kv_item *it = item_find(kv, key);

	if (!it)
		return -ENOENT;
	*value = it->value;
	*len = it->len;
	return 0;
}

int kv_put(struct kv *kv, const char *key, const void *value, size_t len)
{
	struct kv_item **slot, *it;
	size_t klen;
	uint64_t h;

	if (!key_valid(key, &klen) || len > KV_VALUE_MAX)
		return -EINVAL;
	h = key_hash(key, klen);
	slot = item_slot(kv, key, klen, h);
	if (*slot)
		return item_set(*slot, value, len);

	it = calloc(1, sizeof(*it) + klen + 1);
	if (!it)
		return -ENOMEM;
	it->hash = h;
	it->klen = (uint16_t)klen;
	memcpy(it->key, key, klen);
	if (item_set(it, value, len)) {
		free(it);
		return -ENOMEM;
	}
	*slot = it;
	kv->count++;
	if (kv->count > kv->nbuckets)
		table_grow(kv);
	return 0;
}

int kv_cas(struct kv *kv, const char *key, const void *expected, size_t elen, const void *value,
	   size_t len)
{
	struct kv_item *it;

	if (len > KV_VALUE_MAX)
		return -EINVAL;
	it = item_find(kv, key);
	if (!it)
		return -ENOENT;
	if (it->len != elen || (elen && memcmp(it->value, expected, elen)))
		return -ECANCELED;
	return item_set(it, value, len);
}

int kv_delete(struct kv *kv, const char *key)
{
	struct kv_item **slot, *it;
	size_t klen;

	if (!key_valid(key, &klen))
		return -ENOENT;
	slot = item_slot(kv, key, klen, key_hash(key, klen));
	it = *slot;
	if (!it)
		return -ENOENT;
	*slot = it->next;
	free(it->value);
	free(it);
	kv->count--;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct kv_item *x = *(const struct kv_item *const *)a;
	const struct kv_item *y = *(const struct kv_item *const *)b;

	return strcmp(x->key, y->key);
}

int kv_foreach(const struct kv *kv, kv_visit_fn fn, void *arg)
{
	struct kv_item **items;
	size_t n = 0;
	int ret = 0;

	if (!kv->count)
		return 0;
	items = malloc(kv->count * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t b = 0; b < kv->nbuckets; b++)
		for (struct kv_item *it = kv->buckets[b]; it; it = it->next)
			items[n++] = it;
	qsort(items, n, sizeof(*items), item_cmp);
	for (size_t i = 0; i < n && !ret; i++)
		ret = fn(arg, items[i]->key, items[i]->value, items[i]->len);
	free(items);
	return ret;
}

static void reply_value(struct client_reply *rep, const uint8_t *value, size_t len)
{
	rep->value.len = (uint16_t)len;
	if (len)
		memcpy(rep->value.data, value, len);
}

void kv_query(const struct kv *kv, const struct client_request *req, struct client_reply *rep)
{
	const struct kv_item *it;

	if (req->op != CLIENT_OP_GET) {
		rep->status = REPLY_BAD_REQUEST;
		snprintf(rep->reason, sizeof(rep->reason), "not a key-value read");
		return;
	}
	it = item_find(kv, req->key);
	if (!it) {
		rep->status = REPLY_NOT_FOUND;
		return;
	}
	rep->status = REPLY_OK;
	reply_value(rep, it->value, it->len);
}

int kv_execute(struct kv *kv, const struct client_request *req, struct client_reply *rep)
{
	const uint8_t *cur;
	size_t len;
	int err;

	switch (req->op) {
	case CLIENT_OP_GET:
		kv_query(kv, req, rep);
		return 0;
	case CLIENT_OP_PUT:
		err = kv_put(kv, req->key, req->value.data, req->value.len);
		break;
	case CLIENT_OP_CAS:
		err = kv_cas(kv, req->key, req->expected.data, req->expected.len, req->value.data,
			     req->value.len);
		break;
	default:
		rep->status = REPLY_BAD_REQUEST;
		snprintf(rep->reason, sizeof(rep->reason), "not a key-value operation");
		return 0;
	}

	switch (err) {
	case 0:
		rep->status = REPLY_OK;
		return 0;
	case -ENOENT:
		rep->status = REPLY_NOT_FOUND;
		return 0;
	case -ECANCELED:
		rep->status = REPLY_CAS_MISMATCH;
		if (!kv_get(kv, req->key, &cur, &len))
			reply_value(rep, cur, len);
		return 0;
	case -EINVAL:
		rep->status = REPLY_BAD_REQUEST;
		snprintf(rep->reason, sizeof(rep->reason),
			 "key must be 1..%d bytes, value at most %d", KV_KEY_MAX, KV_VALUE_MAX);
		return 0;
	default:
		return err;
	}
}
