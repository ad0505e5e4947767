// SPDX-License-Identifier: GPL-2.0-only
/* AP mode's state machine: setting a node up, its public entry points, and recovery and
 * inspection of its store. The model is described in node/dynamo.h and docs/ap-mode.md; the other
 * node/dynamo_*.c files hold its parts, behind node/dynamo_internal.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/dynamo_internal.h"

/* ---- setup ---- */

struct dynamo *dyn_new(const struct dyn_config *cfg)
{
	struct dynamo *d;
	unsigned int i, k;
	bool self = false;

	if (!cfg->id || !cfg->nnodes || cfg->nnodes > DYN_MAX_NODES || !cfg->request_timeout_ms) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < cfg->nnodes; i++)
		self |= cfg->nodes[i] == cfg->id;
	if (!self) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	if (!d->cfg.hint_retry_ms)
		d->cfg.hint_retry_ms = 500;
	d->n_replicas = cfg->replicas && cfg->replicas < cfg->nnodes ? cfg->replicas : cfg->nnodes;
	/* Writes are coordinated by replicas only, so a context names at most N coordinators. */
	if (cfg->siblings && d->n_replicas > DYN_VV_MAX) {
		free(d);
		errno = E2BIG;
		return NULL;
	}
	for (i = 0; i < cfg->nnodes; i++)
		for (k = 0; k < DYN_VNODES; k++) {
			d->ring[d->nring].node = cfg->nodes[i];
			d->ring[d->nring++].hash = ap_mix((uint64_t)cfg->nodes[i] << 32 | k);
		}
	qsort(d->ring, d->nring, sizeof(d->ring[0]), ap_ring_cmp);
	d->table_size = TABLE_MIN;
	d->table = calloc(d->table_size, sizeof(*d->table));
	d->writes.size = sizeof(struct dyn_write);
	d->msgs.size = sizeof(struct dyn_msg);
	d->replies.size = sizeof(struct dyn_reply);
	d->next_hint_id = 1;
	if (!d->table) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void ap_op_free(struct op *op)
{
	unsigned int i;

	for (i = 0; op->br && i < op->nrep; i++)
		free(op->br->ans[i].seen);
	free(op->br);
	free(op->r);
	free(op->wr);
	if (op->merged) {
		ap_rec_free_versions(op->merged);
		free(op->merged);
	}
	memset(op, 0, sizeof(*op));
}

void dyn_free(struct dynamo *d)
{
	struct rec *r, *next;
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = next) {
			next = r->next;
			ap_rec_free_versions(r);
			free(r);
		}
	for (i = 0; i < MAX_OPS; i++)
		ap_op_free(&d->ops[i]);
	free(d->table);
	free(d->hints);
	free(d->writes.items);
	free(d->msgs.items);
	free(d->replies.items);
	free(d);
}

void dyn_set_reachable(struct dynamo *d, const uint8_t *bitmap)
{
	memcpy(d->reach, bitmap, sizeof(d->reach));
}

/* ---- recovery and inspection ---- */

/* A record's context and seen counters, which its live versions alone may not give back. */
static int restore_record(struct dynamo *d, struct proto_reader *r)
{
	uint8_t space = proto_get_u8(r);
	char key[DYN_KEY_MAX + 1];
	struct dyn_vv ctx, seen;
	struct rec *rec;

	proto_get_cstr(r, key, sizeof(key));
	ap_get_vv(r, &ctx);
	ap_get_vv(r, &seen);
	if (proto_reader_end(r) || space > DYN_SPACE_BANK || !key[0])
		return -EBADMSG;
	rec = ap_rec_get(d, space, key, true);
	if (!rec)
		return -ENOMEM;
	if (ap_vv_join(&rec->ctx, &ctx) || ap_vv_join(&rec->seen, &seen))
		return -EBADMSG;
	return 0;
}

static int restore_counters(struct dynamo *d, struct proto_reader *r)
{
	uint64_t hlc = proto_get_u64(r), next_hint_id = proto_get_u64(r);

	if (proto_reader_end(r))
		return -EBADMSG;
	ap_observe_hlc(d, hlc);
	/* Hint ids are never reused: a late acknowledgement must not retire a new hint. */
	if (next_hint_id > d->next_hint_id)
		d->next_hint_id = next_hint_id;
	return 0;
}

int dyn_restore(struct dynamo *d, const struct dyn_write *w)
{
	struct proto_reader r;
	struct item it;
	uint64_t id = 0;
	uint16_t target = 0;

	proto_reader_init(&r, w->data, w->len);
	if (w->kind == DYN_WRITE_RECORD)
		return restore_record(d, &r);
	if (w->kind == DYN_WRITE_COUNTERS)
		return restore_counters(d, &r);
	if (w->kind != DYN_WRITE_VERSION)
		id = proto_get_u64(&r);
	if (w->kind == DYN_WRITE_HINT)
		target = proto_get_u16(&r);
	if (w->kind != DYN_WRITE_HINT_DONE)
		ap_get_item(&r, &it);
	if (proto_reader_end(&r))
		return -EBADMSG;
	switch (w->kind) {
	case DYN_WRITE_VERSION:
		return ap_store_merge(d, &it, false) < 0 ? -ENOMEM : 0;
	case DYN_WRITE_HINT:
		ap_observe_hlc(d, it.v.hlc);
		return ap_hint_add(d, id, target, &it, false) == -ENOMEM ? -ENOMEM : 0;
	case DYN_WRITE_HINT_DONE:
		ap_hint_done(d, id, false);
		return 0;
	default:
		return -EBADMSG;
	}
}

static int snapshot_item(struct dyn_write *w, uint8_t kind, uint64_t id, uint16_t target,
			 const struct item *it, int (*fn)(void *arg, const struct dyn_write *w),
			 void *arg)
{
	struct proto_writer pw;

	w->kind = kind;
	proto_writer_init(&pw, w->data, sizeof(w->data));
	if (kind == DYN_WRITE_HINT) {
		proto_put_u64(&pw, id);
		proto_put_u16(&pw, target);
	}
	ap_put_item(&pw, it);
	w->len = pw.len;
	return pw.overflow ? -EOVERFLOW : fn(arg, w);
}

int dyn_snapshot(const struct dynamo *d, int (*fn)(void *arg, const struct dyn_write *w), void *arg)
{
	struct dyn_write *w = malloc(sizeof(*w));
	struct proto_writer pw;
	struct item it;
	struct rec *r;
	unsigned int k;
	size_t i;
	int rc;

	if (!w)
		return -ENOMEM;
	w->kind = DYN_WRITE_COUNTERS;
	proto_writer_init(&pw, w->data, sizeof(w->data));
	proto_put_u64(&pw, d->hlc);
	proto_put_u64(&pw, d->next_hint_id);
	w->len = pw.len;
	rc = fn(arg, w);
	for (i = 0; !rc && i < d->table_size; i++)
		for (r = d->table[i]; !rc && r; r = r->next) {
			for (k = 0; !rc && k < r->nver; k++) {
				ap_item_of(&it, r, k);
				rc = snapshot_item(w, DYN_WRITE_VERSION, 0, 0, &it, fn, arg);
			}
			/* Last-writer-wins records keep no context; with siblings the context
			 * also covers versions superseded and gone. */
			if (rc || (!r->ctx.n && !r->seen.n))
				continue;
			w->kind = DYN_WRITE_RECORD;
			proto_writer_init(&pw, w->data, sizeof(w->data));
			proto_put_u8(&pw, r->space);
			proto_put_cstr(&pw, r->key);
			ap_put_vv(&pw, &r->ctx);
			ap_put_vv(&pw, &r->seen);
			w->len = pw.len;
			rc = pw.overflow ? -EOVERFLOW : fn(arg, w);
		}
	for (i = 0; !rc && i < d->nhints; i++)
		rc = snapshot_item(w, DYN_WRITE_HINT, d->hints[i].id, d->hints[i].target,
				   &d->hints[i].it, fn, arg);
	free(w);
	return rc;
}

void dyn_stats(const struct dynamo *d, struct dyn_stats *st)
{
	*st = d->st;
	st->keys = d->nrec;
	st->versions = d->nversions;
	st->hints = d->nhints;
}

uint64_t dyn_fingerprint(const struct dynamo *d, uint8_t space)
{
	uint64_t fp = 0;
	struct rec *r;
	size_t i;

	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next)
			if (r->space == space)
				fp += ap_rec_fp(r);
	return fp;
}

uint64_t dyn_hlc(const struct dynamo *d)
{
	return d->hlc;
}

unsigned int dyn_local(const struct dynamo *d, uint8_t space, const char *key,
		       struct dyn_version *out, unsigned int max, struct dyn_vv *ctx)
{
	const struct rec *r = ap_rec_find(d, space, key, ap_key_hash(space, key));
	unsigned int i;

	if (!r)
		return 0;
	for (i = 0; i < r->nver && i < max; i++)
		out[i] = *r->ver[i];
	if (ctx)
		*ctx = r->ctx;
	return r->nver;
}
