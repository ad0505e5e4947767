// SPDX-License-Identifier: GPL-2.0-only
/* The CP application of node/app.h: dispatch of log entries to the map and the bank, the
 * client session table (hash by nonce, LRU list in apply order), and the snapshot codec. */
#include "node/app.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/bank.h"
#include "node/crc32c.h"
#include "node/kv.h"

#define SNAPSHOT_MAGIC 0x43415053u /* "CAPS" */
#define REPLY_DATA_MAX (PROTO_REASON_MAX + PROTO_VALUE_MAX)

/* One client's last applied request and its reply (reason bytes, then value bytes). */
struct session {
	struct session *hnext;
	struct session *older, *newer;
	uint32_t nonce;
	uint64_t seq;
	uint8_t status;
	int64_t amount;
	uint16_t reason_len, value_len;
	uint8_t *data;
};

struct app {
	struct kv *kv;
	struct bank *bank;
	uint64_t applied;
	size_t max_sessions, nsessions;
	struct session **buckets;
	size_t nbuckets; /* a power of two */
	/* The LRU list: it changes only when entries are applied, so it is the same everywhere. */
	struct session *oldest, *newest;
};

struct app *app_open(size_t max_sessions)
{
	struct app *app = calloc(1, sizeof(*app));

	if (!app)
		return NULL;
	app->max_sessions = max_sessions ? max_sessions : APP_SESSIONS_DEFAULT;
	app->nbuckets = 16;
	while (app->nbuckets < app->max_sessions && app->nbuckets < (1u << 20))
		app->nbuckets *= 2;
	app->buckets = calloc(app->nbuckets, sizeof(*app->buckets));
	app->kv = kv_open();
	app->bank = bank_open();
	if (!app->buckets || !app->kv || !app->bank) {
		app_close(app);
		errno = ENOMEM;
		return NULL;
	}
	return app;
}

static void sessions_free(struct app *app)
{
	struct session *s, *next;

	for (s = app->oldest; s; s = next) {
		next = s->newer;
		free(s->data);
		free(s);
	}
}

void app_close(struct app *app)
{
	if (!app)
		return;
	sessions_free(app);
	free(app->buckets);
	bank_close(app->bank);
	kv_close(app->kv);
	free(app);
}

uint64_t app_applied(const struct app *app)
{
	return app->applied;
}

size_t app_session_count(const struct app *app)
{
	return app->nsessions;
}

const struct kv *app_kv(const struct app *app)
{
	return app->kv;
}

const struct bank *app_bank(const struct app *app)
{
	return app->bank;
}

int app_encode_entry(const struct client_request *req, uint8_t *buf, size_t cap)
{
	struct proto_writer w;
	int err;

	proto_writer_init(&w, buf, cap);
	err = proto_put_client_request(&w, req);
	if (err == -PROTO_ERR_NOSPACE)
		return -ENOSPC;
	if (err)
		return -EINVAL;
	return (int)w.len;
}

/* Sessions. */

static struct session **session_slot(const struct app *app, uint32_t nonce)
{
	struct session **p = &app->buckets[(nonce * 0x9e3779b1u) >> 12 & (app->nbuckets - 1)];

	while (*p && (*p)->nonce != nonce)
		p = &(*p)->hnext;
	return p;
}

static void lru_unlink(struct app *app, struct session *s)
{
	if (s->older)
		s->older->newer = s->newer;
	else
		app->oldest = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		app->newest = s->older;
	s->older = s->newer = NULL;
}

static void lru_push(struct app *app, struct session *s)
{
	s->older = app->newest;
	s->newer = NULL;
	if (app->newest)
		app->newest->newer = s;
	else
		app->oldest = s;
	app->newest = s;
}

static void session_insert(struct app *app, struct session *s)
{
	struct session **slot = session_slot(app, s->nonce);

	s->hnext = NULL;
	*slot = s;
	lru_push(app, s);
	app->nsessions++;
}

static void session_evict_oldest(struct app *app)
{
	struct session *s = app->oldest;
	struct session **slot = session_slot(app, s->nonce);

	*slot = s->hnext;
	lru_unlink(app, s);
	app->nsessions--;
	free(s->data);
	free(s);
}

static void session_load(const struct session *s, struct client_reply *rep)
{
	rep->status = s->status;
	rep->amount = s->amount;
	memcpy(rep->reason, s->data, s->reason_len);
	rep->reason[s->reason_len] = '\0';
	rep->value.len = s->value_len;
	memcpy(rep->value.data, s->data + s->reason_len, s->value_len);
}

/* Takes buf (REPLY_DATA_MAX bytes) as the session's new data; never fails. */
static void session_store(struct session *s, uint8_t *buf, const struct client_reply *rep)
{
	size_t rlen = strnlen(rep->reason, PROTO_REASON_MAX);
	uint8_t *shrunk;

	memcpy(buf, rep->reason, rlen);
	memcpy(buf + rlen, rep->value.data, rep->value.len);
	shrunk = realloc(buf, rlen + rep->value.len ? rlen + rep->value.len : 1);
	free(s->data);
	s->data = shrunk ? shrunk : buf;
	s->status = (uint8_t)rep->status;
	s->amount = rep->amount;
	s->reason_len = (uint16_t)rlen;
	s->value_len = rep->value.len;
}

/* Applying. */

static void reply_reason(struct client_reply *rep, enum reply_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_reason(struct client_reply *rep, enum reply_status status, const char *fmt, ...)
{
	va_list ap;

	rep->status = status;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

static void reply_init(struct client_reply *rep, const struct client_request *req)
{
	memset(rep, 0, sizeof(*rep));
	rep->client_nonce = req->client_nonce;
	rep->seq = req->seq;
}

static int execute(struct app *app, const struct client_request *req, struct client_reply *rep)
{
	switch (req->op) {
	case CLIENT_OP_GET:
	case CLIENT_OP_PUT:
	case CLIENT_OP_CAS:
		return kv_execute(app->kv, req, rep);
	case CLIENT_OP_OPEN:
	case CLIENT_OP_TRANSFER:
	case CLIENT_OP_BALANCE:
		return bank_execute(app->bank, req, rep);
	default:
		reply_reason(rep, REPLY_BAD_REQUEST, "%s is not a replicated operation",
			     proto_op_name(req->op) ? proto_op_name(req->op) : "this");
		return 0;
	}
}

int app_apply(struct app *app, uint64_t index, const uint8_t *entry, size_t len,
	      struct client_reply *reply)
{
	struct client_request req;
	struct session *s, *fresh = NULL;
	uint8_t *buf;
	int err;

	if (index <= app->applied)
		return -EALREADY;
	if (proto_decode_client_request(entry, len, &req)) {
		memset(reply, 0, sizeof(*reply));
		reply_reason(reply, REPLY_BAD_REQUEST, "log entry %" PRIu64 " does not decode",
			     index);
		app->applied = index;
		return -EBADMSG;
	}
	reply_init(reply, &req);

	s = *session_slot(app, req.client_nonce);
	if (s && req.seq == s->seq) {
		session_load(s, reply);
		lru_unlink(app, s);
		lru_push(app, s);
		app->applied = index;
		return 0;
	}
	if (s && req.seq < s->seq) {
		reply_reason(reply, REPLY_ERROR,
			     "stale request: seq %" PRIu64 " already superseded by %" PRIu64,
			     req.seq, s->seq);
		app->applied = index;
		return 0;
	}

	/* Allocate everything first, so that once the operation ran nothing can fail. */
	buf = malloc(REPLY_DATA_MAX);
	if (!s)
		fresh = calloc(1, sizeof(*fresh));
	if (!buf || (!s && !fresh)) {
		err = -ENOMEM;
		goto fail;
	}
	err = execute(app, &req, reply);
	if (err)
		goto fail;

	if (fresh) {
		s = fresh;
		s->nonce = req.client_nonce;
		session_insert(app, s);
	} else {
		lru_unlink(app, s);
		lru_push(app, s);
	}
	s->seq = req.seq;
	session_store(s, buf, reply);
	while (app->nsessions > app->max_sessions)
		session_evict_oldest(app);
	app->applied = index;
	return 0;
fail:
	free(fresh);
	free(buf);
	return err;
}

void app_read(const struct app *app, const struct client_request *req, struct client_reply *reply)
{
	reply_init(reply, req);
	if (req->op == CLIENT_OP_GET)
		kv_query(app->kv, req, reply);
	else if (req->op == CLIENT_OP_BALANCE)
		bank_query(app->bank, req, reply);
	else
		reply_reason(reply, REPLY_BAD_REQUEST, "only get and balance are served as reads");
}

/* Snapshots: u32 magic, u8 version, u64 applied; u32 n, n x (str key, bytes value) in key
 * order; u32 n, n x (str account, i64 balance) in name order; u32 n, n x (u32 nonce, u64 seq,
 * u8 status, i64 amount, str reason, bytes value) oldest first; u32 CRC32C of all before. */

static int put_kv(void *arg, const char *key, const uint8_t *value, size_t len)
{
	proto_put_cstr(arg, key);
	proto_put_bytes(arg, value, len);
	return 0;
}

static int put_account(void *arg, const char *name, int64_t balance)
{
	proto_put_cstr(arg, name);
	proto_put_i64(arg, balance);
	return 0;
}

static int snapshot_write(const struct app *app, struct proto_writer *w)
{
	int err;

	proto_put_u32(w, SNAPSHOT_MAGIC);
	proto_put_u8(w, APP_SNAPSHOT_VERSION);
	proto_put_u64(w, app->applied);
	proto_put_u32(w, (uint32_t)kv_count(app->kv));
	err = kv_foreach(app->kv, put_kv, w);
	if (err)
		return err;
	proto_put_u32(w, (uint32_t)bank_count(app->bank));
	err = bank_foreach(app->bank, put_account, w);
	if (err)
		return err;
	proto_put_u32(w, (uint32_t)app->nsessions);
	for (const struct session *s = app->oldest; s; s = s->newer) {
		proto_put_u32(w, s->nonce);
		proto_put_u64(w, s->seq);
		proto_put_u8(w, s->status);
		proto_put_i64(w, s->amount);
		proto_put_bytes(w, s->data, s->reason_len);
		proto_put_bytes(w, s->data + s->reason_len, s->value_len);
	}
	if (!w->overflow)
		proto_put_u32(w, crc32c(0, w->buf, w->len));
	return 0;
}

int app_snapshot(const struct app *app, uint8_t **buf, size_t *len)
{
	size_t cap = 65536;
	struct proto_writer w;
	uint8_t *p;
	int err;

	for (;;) {
		p = malloc(cap);
		if (!p)
			return -ENOMEM;
		proto_writer_init(&w, p, cap);
		err = snapshot_write(app, &w);
		if (err) {
			free(p);
			return err;
		}
		if (!w.overflow)
			break;
		free(p);
		cap *= 2;
	}
	*buf = p;
	*len = w.len;
	return 0;
}

/* Reads a snapshot into a fresh app; *why says what is wrong. */
static int snapshot_read(struct app *app, struct proto_reader *r, const char **why)
{
	char key[PROTO_KEY_MAX + 1], prev[PROTO_KEY_MAX + 1];
	char reason[PROTO_REASON_MAX + 1];
	const uint8_t *v;
	uint32_t n;
	size_t vlen;
	int err;

	app->applied = proto_get_u64(r);

	n = proto_get_u32(r);
	prev[0] = '\0';
	for (uint32_t i = 0; i < n && !r->error; i++) {
		proto_get_cstr(r, key, sizeof(key));
		v = proto_get_bytes(r, PROTO_VALUE_MAX, &vlen);
		if (r->error)
			break;
		if (!key[0] || (i && strcmp(prev, key) >= 0)) {
			*why = "keys empty, repeated or out of order";
			return -EBADMSG;
		}
		err = kv_put(app->kv, key, v, vlen);
		if (err)
			return err;
		strcpy(prev, key);
	}

	n = r->error ? 0 : proto_get_u32(r);
	for (uint32_t i = 0; i < n && !r->error; i++) {
		int64_t balance;

		proto_get_cstr(r, key, sizeof(key));
		balance = proto_get_i64(r);
		if (r->error)
			break;
		if (i && strcmp(prev, key) >= 0) {
			*why = "accounts repeated or out of order";
			return -EBADMSG;
		}
		err = bank_open_account(app->bank, key, balance);
		if (err == -ENOMEM)
			return err;
		if (err) {
			*why = "an account with an invalid name, a negative balance or an overflowing "
			       "total";
			return -EBADMSG;
		}
		strcpy(prev, key);
	}

	n = r->error ? 0 : proto_get_u32(r);
	if (n > app->max_sessions) {
		*why = "more client sessions than this node keeps";
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < n && !r->error; i++) {
		struct client_reply rep = { 0 };
		struct session *s;
		uint8_t *buf;

		rep.client_nonce = proto_get_u32(r);
		rep.seq = proto_get_u64(r);
		rep.status = proto_get_u8(r);
		rep.amount = proto_get_i64(r);
		proto_get_cstr(r, reason, sizeof(reason));
		v = proto_get_bytes(r, PROTO_VALUE_MAX, &vlen);
		if (r->error)
			break;
		if (rep.status > REPLY_ERROR || *session_slot(app, rep.client_nonce)) {
			*why = "a client session with a bad status or a repeated nonce";
			return -EBADMSG;
		}
		memcpy(rep.reason, reason, sizeof(reason));
		rep.value.len = (uint16_t)vlen;
		if (vlen)
			memcpy(rep.value.data, v, vlen);
		s = calloc(1, sizeof(*s));
		buf = malloc(REPLY_DATA_MAX);
		if (!s || !buf) {
			free(s);
			free(buf);
			return -ENOMEM;
		}
		s->nonce = rep.client_nonce;
		s->seq = rep.seq;
		session_store(s, buf, &rep);
		session_insert(app, s);
	}
	if (proto_reader_end(r)) {
		*why = "truncated, or bytes after the end";
		return -EBADMSG;
	}
	return 0;
}

int app_restore(struct app *app, const uint8_t *buf, size_t len, const char **why)
{
	const char *dummy;
	struct proto_reader r;
	struct app *fresh, tmp;
	uint32_t crc;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (len < 4 + 1 + 8 + 3 * 4 + 4) {
		*why = "too short to be a snapshot";
		return -EBADMSG;
	}
	len -= 4;
	crc = (uint32_t)buf[len] << 24 | (uint32_t)buf[len + 1] << 16 |
	      (uint32_t)buf[len + 2] << 8 | buf[len + 3];
	if (crc32c(0, buf, len) != crc) {
		*why = "checksum mismatch";
		return -EBADMSG;
	}
	proto_reader_init(&r, buf, len);
	if (proto_get_u32(&r) != SNAPSHOT_MAGIC) {
		*why = "not an application snapshot";
		return -EBADMSG;
	}
	if (proto_get_u8(&r) != APP_SNAPSHOT_VERSION) {
		*why = "unsupported snapshot version";
		return -EPROTONOSUPPORT;
	}

	fresh = app_open(app->max_sessions);
	if (!fresh)
		return -ENOMEM;
	err = snapshot_read(fresh, &r, why);
	if (err) {
		if (err == -ENOMEM)
			*why = "out of memory";
		app_close(fresh);
		return err;
	}
	tmp = *app;
	*app = *fresh;
	*fresh = tmp;
	app_close(fresh);
	return 0;
}
