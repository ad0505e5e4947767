// SPDX-License-Identifier: GPL-2.0-only
/* The bank in AP mode: balances over the grow-only set of transfer records, and balance reads
 * at QUORUM or ALL. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/dynamo_internal.h"

/* ---- the bank over its records ---- */

static int bank_decode(const struct dyn_version *v, struct bank_rec *b)
{
	struct proto_reader r;

	proto_reader_init(&r, v->value, v->len);
	b->kind = proto_get_u8(&r);
	proto_get_cstr(&r, b->from, sizeof(b->from));
	proto_get_cstr(&r, b->to, sizeof(b->to));
	b->amount = proto_get_i64(&r);
	if (proto_reader_end(&r) || (b->kind != BANK_OPEN && b->kind != BANK_TRANSFER))
		return -EBADMSG;
	return 0;
}

static struct account *account_get(struct accounts *as, const char *name)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if (!strcmp(as->a[i].name, name))
			return &as->a[i];
	if (as->n == as->cap) {
		size_t cap = as->cap ? as->cap * 2 : 16;
		void *p = realloc(as->a, cap * sizeof(*as->a));

		if (!p)
			return NULL;
		as->a = p;
		as->cap = cap;
	}
	memset(&as->a[as->n], 0, sizeof(as->a[0]));
	snprintf(as->a[as->n].name, sizeof(as->a[0].name), "%s", name);
	return &as->a[as->n++];
}

static int account_cmp(const void *a, const void *b)
{
	return strcmp(((const struct account *)a)->name, ((const struct account *)b)->name);
}

/* Balances over the records held here: opening balance plus credits minus debits. */
int ap_accounts_load(const struct dynamo *d, struct accounts *as)
{
	struct bank_rec b;
	struct account *x, *y;
	struct rec *r;
	size_t i;

	memset(as, 0, sizeof(*as));
	for (i = 0; i < d->table_size; i++)
		for (r = d->table[i]; r; r = r->next) {
			if (r->space != DYN_SPACE_BANK || !r->nver || bank_decode(r->ver[0], &b))
				continue;
			x = account_get(as, b.from);
			if (!x)
				goto nomem;
			if (b.kind == BANK_OPEN) {
				x->opened = true;
				x->balance += b.amount;
				as->opened += b.amount;
				continue;
			}
			x->balance -= b.amount;
			y = account_get(as, b.to);
			if (!y)
				goto nomem;
			y->balance += b.amount;
		}
	if (as->n)
		qsort(as->a, as->n, sizeof(as->a[0]), account_cmp);
	return 0;
nomem:
	free(as->a);
	return -ENOMEM;
}

int dyn_bank_foreach(const struct dynamo *d, int (*fn)(void *arg, const char *name, int64_t bal),
		     void *arg, int64_t *total, int64_t *opened)
{
	struct accounts as;
	int64_t sum = 0;
	size_t i;
	int rc = 0;

	if (ap_accounts_load(d, &as))
		return -ENOMEM;
	for (i = 0; i < as.n; i++)
		sum += as.a[i].balance;
	for (i = 0; i < as.n && !rc; i++)
		if (fn)
			rc = fn(arg, as.a[i].name, as.a[i].balance);
	if (total)
		*total = sum;
	if (opened)
		*opened = as.opened;
	free(as.a);
	return rc;
}

const struct account *ap_account_find(const struct accounts *as, const char *name)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if (!strcmp(as->a[i].name, name))
			return &as->a[i];
	return NULL;
}

/* An overdraft is reported, never hidden: "overdrawn: acct3 is -120 after merging a split". */
static void overdraft_reason(const struct accounts *as, const char *only, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = 0;
	for (i = 0; i < as->n && used < len; i++) {
		if (as->a[i].balance >= 0 || (only && strcmp(only, as->a[i].name)))
			continue;
		used += snprintf(buf + used, len - used, "%s%s is %" PRId64,
				 used ? ", " : "overdrawn: ", as->a[i].name, as->a[i].balance);
	}
	if (used && used < len)
		snprintf(buf + used, len - used, " after merging a split");
}

/* A balance over the records held here, which hold those of every replica that answered. */
void ap_balance_reply(struct dynamo *d, uint64_t handle, const struct client_request *req,
		      unsigned int answered)
{
	struct client_reply *rep;
	struct accounts as;
	const struct account *a;
	size_t i, used = 0;
	int64_t total = 0;

	if (ap_accounts_load(d, &as)) {
		ap_reply_simple(d, handle, req, REPLY_ERROR, answered, "out of memory");
		return;
	}
	rep = ap_reply_new(d, handle, req, REPLY_OK);
	if (!rep)
		goto out;
	rep->replicas_answered = ap_answered8(answered);
	if (req->key[0]) {
		a = ap_account_find(&as, req->key);
		if (!a || !a->opened) {
			rep->status = REPLY_NOT_FOUND;
			snprintf(rep->reason, sizeof(rep->reason), "no account %s here", req->key);
			goto out;
		}
		rep->amount = a->balance;
		overdraft_reason(&as, req->key, rep->reason, sizeof(rep->reason));
		goto out;
	}
	for (i = 0; i < as.n; i++) {
		int n = snprintf((char *)rep->value.data + used, sizeof(rep->value.data) - used,
				 "%s%s=%" PRId64, i ? "," : "", as.a[i].name, as.a[i].balance);

		total += as.a[i].balance;
		if (n < 0 || used + n >= sizeof(rep->value.data)) {
			rep->status = REPLY_ERROR;
			snprintf(rep->reason, sizeof(rep->reason),
				 "the listing does not fit a reply");
			used = 0;
			break;
		}
		used += n;
	}
	rep->value.len = used;
	rep->amount = total;
	if (rep->status == REPLY_OK)
		overdraft_reason(&as, NULL, rep->reason, sizeof(rep->reason));
out:
	free(as.a);
}

/* ---- balance at QUORUM or ALL ---- */

static void digest_body(struct proto_writer *w, const struct op *op)
{
	unsigned int b;

	for (b = 0; b < DYN_BUCKETS; b++)
		proto_put_u64(w, op->br->mine[b]);
}

static void start_bank_read(struct dynamo *d, uint64_t now, uint64_t handle,
			    const struct client_request *req)
{
	/* The bank lives on every node: the preference list is the whole cluster. */
	struct op *op = ap_start_op(d, OP_BANK_READ, now, handle, req, DYN_SPACE_BANK, "");
	int i;

	if (!op)
		return;
	op->br = calloc(1, sizeof(*op->br) + op->nrep * sizeof(op->br->ans[0]));
	if (!op->br) {
		ap_reply_simple(d, handle, req, REPLY_ERROR, 0, "out of memory");
		ap_op_free(op);
		return;
	}
	ap_bank_digest(d, op->br->mine);
	ap_ask_replicas(d, op, PROTO_BANK_READ, digest_body);
	/* The local answer last: it may complete the read (and free op). */
	i = ap_op_index(op, d->cfg.id);
	if (i >= 0)
		ap_read_answer(d, op, i);
}

static void request_balance(struct dynamo *d, uint64_t now, uint64_t handle,
			    const struct client_request *req)
{
	if (req->consistency == CONSISTENCY_ONE)
		ap_balance_reply(d, handle, req, 1);
	else
		start_bank_read(d, now, handle, req);
}

void ap_handle_request(struct dynamo *d, uint64_t now, uint64_t handle,
		       const struct client_request *req, bool forwarded)
{
	switch (req->op) {
	case CLIENT_OP_GET:
		ap_start_read(d, now, handle, req);
		break;
	case CLIENT_OP_PUT:
	case CLIENT_OP_CAS:
		ap_request_put(d, now, handle, req, forwarded);
		break;
	case CLIENT_OP_OPEN:
	case CLIENT_OP_TRANSFER:
		ap_request_bank(d, now, handle, req);
		break;
	case CLIENT_OP_BALANCE:
		request_balance(d, now, handle, req);
		break;
	default:
		ap_reply_simple(d, handle, req, REPLY_BAD_REQUEST, 0, "unknown operation");
	}
}

/* Replies to requests another node forwarded here go back to it as messages. */
void ap_flush_forwarded(struct dynamo *d)
{
	struct dyn_reply *r = d->replies.items;
	size_t i, keep = d->replies.head;

	for (i = d->replies.head; i < d->replies.len; i++) {
		struct proto_writer w;
		struct dyn_msg *m;

		if (!(r[i].handle & FORWARDED)) {
			r[keep++] = r[i];
			continue;
		}
		if (!ap_msg_begin(d, r[i].handle & 0xffff, PROTO_CLIENT_REPLY, &w, &m))
			continue;
		proto_put_client_reply(&w, &r[i].rep);
		ap_msg_end(d, m, &w);
	}
	d->replies.len = keep;
}

void dyn_request(struct dynamo *d, uint64_t now, uint64_t handle, const struct client_request *req)
{
	ap_handle_request(d, now, handle & ~FORWARDED, req, false);
	ap_flush_forwarded(d);
}
