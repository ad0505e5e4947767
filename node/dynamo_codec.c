// SPDX-License-Identifier: GPL-2.0-only
/* AP mode's messages between replicas: the codec of the Dynamo payloads (docs/ap-mode.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/dynamo_internal.h"

/* ---- codec of the Dynamo payloads (docs/ap-mode.md) ---- */

void ap_put_vv(struct proto_writer *w, const struct dyn_vv *vv)
{
	unsigned int i;

	proto_put_u8(w, vv->n);
	for (i = 0; i < vv->n; i++) {
		proto_put_u16(w, vv->e[i].node);
		proto_put_u64(w, vv->e[i].counter);
	}
}

void ap_get_vv(struct proto_reader *r, struct dyn_vv *vv)
{
	unsigned int i, n = proto_get_u8(r);

	memset(vv, 0, sizeof(*vv));
	if (n > DYN_VV_MAX) {
		proto_reader_fail(r);
		return;
	}
	for (i = 0; i < n; i++) {
		uint16_t node = proto_get_u16(r);
		uint64_t counter = proto_get_u64(r);

		/* Canonical: increasing node ids, counters above zero. */
		if (!node || node > PROTO_MAX_NODE || !counter || (i && node <= vv->e[i - 1].node))
			proto_reader_fail(r);
		vv->e[i].node = node;
		vv->e[i].counter = counter;
	}
	vv->n = n;
}

void ap_put_item(struct proto_writer *w, const struct item *it)
{
	proto_put_u8(w, it->space);
	proto_put_cstr(w, it->key);
	proto_put_u16(w, it->v.dot.node);
	proto_put_u64(w, it->v.dot.counter);
	proto_put_u64(w, it->v.hlc);
	ap_put_vv(w, &it->v.ctx);
	proto_put_bytes(w, it->v.value, it->v.len);
}

void ap_get_item(struct proto_reader *r, struct item *it)
{
	const uint8_t *p;
	size_t n;

	it->space = proto_get_u8(r);
	proto_get_cstr(r, it->key, sizeof(it->key));
	it->v.dot.node = proto_get_u16(r);
	it->v.dot.counter = proto_get_u64(r);
	it->v.hlc = proto_get_u64(r);
	ap_get_vv(r, &it->v.ctx);
	p = proto_get_bytes(r, PROTO_VALUE_MAX, &n);
	if (p)
		memcpy(it->v.value, p, n);
	it->v.len = n;
	if (it->space > DYN_SPACE_BANK || !it->key[0] || !it->v.dot.node ||
	    it->v.dot.node > PROTO_MAX_NODE || !it->v.dot.counter)
		proto_reader_fail(r);
}

struct proto_writer *ap_msg_begin(struct dynamo *d, uint16_t to, uint8_t type,
				  struct proto_writer *w, struct dyn_msg **m)
{
	*m = ap_queue_push(&d->msgs);
	if (!*m)
		return NULL;
	(*m)->to = to;
	(*m)->type = type;
	proto_writer_init(w, (*m)->payload, sizeof((*m)->payload));
	return w;
}

void ap_msg_end(struct dynamo *d, struct dyn_msg *m, struct proto_writer *w)
{
	if (w->overflow) {
		/* Cannot happen with the limits above; never send half a message. */
		d->msgs.len--;
		return;
	}
	m->len = w->len;
}

void ap_send_item(struct dynamo *d, uint16_t to, uint8_t type, uint64_t id, const struct item *it)
{
	struct proto_writer w;
	struct dyn_msg *m;

	if (!ap_msg_begin(d, to, type, &w, &m))
		return;
	if (type != PROTO_REPAIR)
		proto_put_u64(&w, id);
	ap_put_item(&w, it);
	ap_msg_end(d, m, &w);
}

void ap_send_u64(struct dynamo *d, uint16_t to, uint8_t type, uint64_t id, int extra)
{
	struct proto_writer w;
	struct dyn_msg *m;

	if (!ap_msg_begin(d, to, type, &w, &m))
		return;
	proto_put_u64(&w, id);
	if (extra >= 0)
		proto_put_u8(&w, extra);
	ap_msg_end(d, m, &w);
}

void ap_emit_write(struct dynamo *d, uint8_t kind, uint64_t id, uint16_t target,
		   const struct item *it)
{
	struct dyn_write *wr = ap_queue_push(&d->writes);
	struct proto_writer w;

	if (!wr)
		return;
	wr->kind = kind;
	proto_writer_init(&w, wr->data, sizeof(wr->data));
	if (kind != DYN_WRITE_VERSION)
		proto_put_u64(&w, id);
	if (kind == DYN_WRITE_HINT)
		proto_put_u16(&w, target);
	if (it)
		ap_put_item(&w, it);
	wr->len = w.len;
}
