// SPDX-License-Identifier: GPL-2.0-only
/* AP mode's versioned store: version vectors, hybrid logical clocks, records merged under
 * last-writer-wins or kept as siblings, and the ring that places keys on replicas. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/dynamo_internal.h"

/* ---- small helpers ---- */

uint64_t ap_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

uint64_t ap_key_hash(uint8_t space, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ space;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 0x100000001b3ULL;
	return ap_mix(h);
}

uint64_t ap_version_fp(uint64_t khash, const struct dyn_version *v)
{
	return ap_mix(khash ^ ap_mix((uint64_t)v->dot.node << 48 ^ v->dot.counter) ^
		      ap_mix(v->hlc + 1));
}

bool ap_reachable(const struct dynamo *d, uint16_t node)
{
	return node == d->cfg.id || proto_bitmap_test(d->reach, node);
}

uint64_t ap_vv_get(const struct dyn_vv *vv, uint16_t node)
{
	unsigned int i;

	for (i = 0; i < vv->n; i++)
		if (vv->e[i].node == node)
			return vv->e[i].counter;
	return 0;
}

/* Raises node's entry to at least counter. -ENOSPC when a new entry does not fit. */
int ap_vv_raise(struct dyn_vv *vv, uint16_t node, uint64_t counter)
{
	unsigned int i, j;

	if (!counter)
		return 0;
	for (i = 0; i < vv->n && vv->e[i].node < node; i++)
		;
	if (i < vv->n && vv->e[i].node == node) {
		if (vv->e[i].counter < counter)
			vv->e[i].counter = counter;
		return 0;
	}
	if (vv->n >= DYN_VV_MAX)
		return -ENOSPC;
	for (j = vv->n; j > i; j--)
		vv->e[j] = vv->e[j - 1];
	vv->e[i].node = node;
	vv->e[i].counter = counter;
	vv->n++;
	return 0;
}

int ap_vv_join(struct dyn_vv *a, const struct dyn_vv *b)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < b->n; i++)
		err = ap_vv_raise(a, b->e[i].node, b->e[i].counter) ?: err;
	return err;
}

static bool vv_covers(const struct dyn_vv *vv, const struct dyn_dot *dot)
{
	return ap_vv_get(vv, dot->node) >= dot->counter;
}

int dyn_vv_format(const struct dyn_vv *vv, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	if (len)
		buf[0] = 0;
	for (i = 0; i < vv->n; i++) {
		int n = snprintf(buf + used, len > used ? len - used : 0, "%s%u:%" PRIu64,
				 i ? "," : "", vv->e[i].node, vv->e[i].counter);

		used += n;
	}
	return used < len ? (int)used : -ENOSPC;
}

int dyn_vv_parse(const char *text, size_t len, struct dyn_vv *vv)
{
	size_t i = 0;

	memset(vv, 0, sizeof(*vv));
	while (i < len) {
		uint64_t node = 0, counter = 0;
		size_t start = i;

		while (i < len && text[i] >= '0' && text[i] <= '9' && node <= PROTO_MAX_NODE)
			node = node * 10 + (text[i++] - '0');
		if (i == start || i >= len || text[i] != ':' || !node || node > PROTO_MAX_NODE)
			return -EINVAL;
		start = ++i;
		while (i < len && text[i] >= '0' && text[i] <= '9' && counter < UINT64_MAX / 10)
			counter = counter * 10 + (text[i++] - '0');
		if (i == start || !counter || ap_vv_get(vv, node))
			return -EINVAL;
		if (ap_vv_raise(vv, node, counter))
			return -EINVAL;
		if (i < len && text[i++] != ',')
			return -EINVAL;
		if (i == len && text[len - 1] == ',')
			return -EINVAL;
	}
	return 0;
}

/* ---- the store ---- */

struct rec *ap_rec_find(const struct dynamo *d, uint8_t space, const char *key, uint64_t h)
{
	struct rec *r;

	for (r = d->table[h & (d->table_size - 1)]; r; r = r->next)
		if (r->hash == h && r->space == space && !strcmp(r->key, key))
			return r;
	return NULL;
}

static int table_grow(struct dynamo *d)
{
	size_t size = d->table_size * 2, i;
	struct rec **t = calloc(size, sizeof(*t)), *r, *next;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = next) {
			next = r->next;
			r->next = t[r->hash & (size - 1)];
			t[r->hash & (size - 1)] = r;
		}
	free(d->table);
	d->table = t;
	d->table_size = size;
	return 0;
}

struct rec *ap_rec_get(struct dynamo *d, uint8_t space, const char *key, bool create)
{
	uint64_t h = ap_key_hash(space, key);
	struct rec *r = ap_rec_find(d, space, key, h);

	if (r || !create)
		return r;
	if (d->nrec >= d->table_size && table_grow(d))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->hash = h;
	r->space = space;
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->next = d->table[h & (d->table_size - 1)];
	d->table[h & (d->table_size - 1)] = r;
	d->nrec++;
	return r;
}

void ap_rec_free_versions(struct rec *r)
{
	unsigned int i;

	for (i = 0; i < r->nver; i++)
		free(r->ver[i]);
	r->nver = 0;
}

/* Greater means it wins under last-writer-wins: by HLC, then coordinator id, then counter. */
int ap_version_cmp(const struct dyn_version *a, const struct dyn_version *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	if (a->dot.node != b->dot.node)
		return a->dot.node < b->dot.node ? -1 : 1;
	if (a->dot.counter != b->dot.counter)
		return a->dot.counter < b->dot.counter ? -1 : 1;
	return 0;
}

bool ap_lww(const struct dynamo *d, const struct rec *r)
{
	return !d->cfg.siblings || r->space == DYN_SPACE_BANK;
}

/*
 * Merges one version into a record (a detached one too). Returns 1 if the record changed, 0 if
 * the version was known or superseded, -ENOSPC if it would make too many siblings or too large
 * a context (the record is then unchanged), -ENOMEM.
 */
int ap_rec_merge(const struct dynamo *d, struct rec *r, const struct dyn_version *v)
{
	struct dyn_vv ctx = r->ctx, seen = r->seen;
	struct dyn_version *copy;
	unsigned int i, keep = 0;

	for (i = 0; i < r->nver; i++)
		if (r->ver[i]->dot.node == v->dot.node && r->ver[i]->dot.counter == v->dot.counter)
			return 0;
	if (ap_lww(d, r)) {
		/* A max register: contexts play no part, and counters are clock values. */
		if (r->nver && ap_version_cmp(r->ver[0], v) >= 0)
			return 0;
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *v;
		ap_rec_free_versions(r);
		r->ver[0] = copy;
		r->nver = 1;
		return 1;
	}
	if (ap_vv_join(&seen, &v->ctx) || ap_vv_raise(&seen, v->dot.node, v->dot.counter))
		return -ENOSPC;
	if (vv_covers(&r->ctx, &v->dot)) {
		r->seen = seen;
		return 0;
	}
	if (ap_vv_join(&ctx, &v->ctx))
		return -ENOSPC;
	for (i = 0; i < r->nver; i++)
		if (!vv_covers(&v->ctx, &r->ver[i]->dot))
			keep++;
	if (keep >= DYN_SIBLINGS_MAX)
		return -ENOSPC;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *v;
	for (i = 0, keep = 0; i < r->nver; i++) {
		if (vv_covers(&v->ctx, &r->ver[i]->dot))
			free(r->ver[i]);
		else
			r->ver[keep++] = r->ver[i];
	}
	r->ver[keep++] = copy;
	r->nver = keep;
	r->ctx = ctx;
	r->seen = seen;
	return 1;
}

void ap_observe_hlc(struct dynamo *d, uint64_t hlc)
{
	if (hlc > d->hlc)
		d->hlc = hlc;
}

uint64_t ap_next_hlc(struct dynamo *d, uint64_t now)
{
	uint64_t pt = now << 16;

	d->hlc = pt > d->hlc ? pt : d->hlc + 1;
	return d->hlc;
}

/* Merges into the local store, durably. 1 changed, 0 nothing new, or -errno. */
int ap_store_merge(struct dynamo *d, const struct item *it, bool durable)
{
	struct rec *r = ap_rec_get(d, it->space, it->key, true);
	unsigned int before;
	int rc;

	if (!r)
		return -ENOMEM;
	ap_observe_hlc(d, it->v.hlc);
	before = r->nver;
	rc = ap_rec_merge(d, r, &it->v);
	if (rc == -ENOSPC)
		d->st.sibling_overflow++;
	if (rc == 1) {
		d->nversions += r->nver;
		d->nversions -= before;
		if (durable)
			ap_emit_write(d, DYN_WRITE_VERSION, 0, 0, it);
	}
	return rc;
}

uint64_t ap_rec_fp(const struct rec *r)
{
	uint64_t fp = 0;
	unsigned int i;

	for (i = 0; i < r->nver; i++)
		fp += ap_version_fp(r->hash, r->ver[i]);
	return fp;
}

/* ---- ring ---- */

int ap_ring_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

unsigned int dyn_preference(const struct dynamo *d, uint8_t space, const char *key, uint16_t *out)
{
	unsigned int want = space == DYN_SPACE_BANK ? d->cfg.nnodes : d->n_replicas;
	uint64_t h = ap_key_hash(space, key);
	unsigned int lo = 0, hi = d->nring, k, n = 0;
	uint8_t taken[PROTO_BITMAP_BYTES] = { 0 };

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (d->ring[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; k < d->nring && n < want; k++) {
		uint16_t node = d->ring[(lo + k) % d->nring].node;

		if (!proto_bitmap_test(taken, node)) {
			proto_bitmap_set(taken, node);
			out[n++] = node;
		}
	}
	return n;
}

bool ap_is_replica(const struct dynamo *d, uint8_t space, const char *key, uint16_t node)
{
	uint16_t pref[DYN_MAX_NODES];
	unsigned int i, n;

	if (space == DYN_SPACE_BANK || d->n_replicas == d->cfg.nnodes)
		return true;
	n = dyn_preference(d, space, key, pref);
	for (i = 0; i < n; i++)
		if (pref[i] == node)
			return true;
	return false;
}
