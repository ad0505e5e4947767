// SPDX-License-Identifier: GPL-2.0-only
/* The capnet wire protocol: header validation, the payload codec, client and status payloads,
 * and one-line descriptions. Pure code: no I/O, no clock, no allocation. */
#include "node/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "node/crc32c.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const proto_type_names[256] = {
	[PROTO_PREVOTE] = "PREVOTE",
	[PROTO_PREVOTE_RESP] = "PREVOTE_RESP",
	[PROTO_VOTE] = "VOTE",
	[PROTO_VOTE_RESP] = "VOTE_RESP",
	[PROTO_APPEND] = "APPEND",
	[PROTO_APPEND_RESP] = "APPEND_RESP",
	[PROTO_SNAPSHOT] = "SNAPSHOT",
	[PROTO_SNAPSHOT_RESP] = "SNAPSHOT_RESP",
	[PROTO_HEARTBEAT] = "HEARTBEAT",
	[PROTO_HEARTBEAT_RESP] = "HEARTBEAT_RESP",
	[PROTO_READ_INDEX] = "READ_INDEX",
	[PROTO_READ_INDEX_RESP] = "READ_INDEX_RESP",
	[PROTO_TIMEOUT_NOW] = "TIMEOUT_NOW",
	[PROTO_REPLICA_PUT] = "REPLICA_PUT",
	[PROTO_REPLICA_PUT_ACK] = "REPLICA_PUT_ACK",
	[PROTO_REPLICA_GET] = "REPLICA_GET",
	[PROTO_REPLICA_GET_RESP] = "REPLICA_GET_RESP",
	[PROTO_HINT_DELIVER] = "HINT_DELIVER",
	[PROTO_HINT_ACK] = "HINT_ACK",
	[PROTO_DIGEST] = "DIGEST",
	[PROTO_DIGEST_RESP] = "DIGEST_RESP",
	[PROTO_REPAIR] = "REPAIR",
	[PROTO_BANK_READ] = "BANK_READ",
	[PROTO_BANK_READ_RESP] = "BANK_READ_RESP",
	[PROTO_CLIENT_REQUEST] = "CLIENT_REQUEST",
	[PROTO_CLIENT_REPLY] = "CLIENT_REPLY",
	[PROTO_STATUS] = "STATUS",
	[PROTO_STATUS_REPLY] = "STATUS_REPLY",
	[PROTO_PING] = "PING",
	[PROTO_PONG] = "PONG",
};

const char *proto_type_name(unsigned int type)
{
	return type < ARRAY_SIZE(proto_type_names) ? proto_type_names[type] : NULL;
}

bool proto_type_valid(unsigned int type)
{
	return proto_type_name(type) != NULL;
}

static const struct {
	const char *name, *text;
} proto_errors[PROTO_ERR_MAX] = {
	[PROTO_OK] = { "ok", "no error" },
	[PROTO_ERR_SHORT] = { "short", "shorter than the 32-byte header" },
	[PROTO_ERR_MAGIC] = { "magic", "bad magic (not capnet)" },
	[PROTO_ERR_VERSION] = { "version", "unsupported protocol version" },
	[PROTO_ERR_TOO_LONG] = { "too_long", "longer than 1416 bytes" },
	[PROTO_ERR_TRUNCATED] = { "truncated", "payload shorter than payload_len" },
	[PROTO_ERR_TRAILING] = { "trailing", "bytes after the payload" },
	[PROTO_ERR_CRC] = { "crc", "CRC mismatch" },
	[PROTO_ERR_TYPE] = { "type", "unknown message type" },
	[PROTO_ERR_FLAGS] = { "flags", "reserved flag set" },
	[PROTO_ERR_NODE] = { "node", "node id out of range" },
	[PROTO_ERR_PAYLOAD] = { "payload", "malformed payload" },
	[PROTO_ERR_SOURCE] = { "source", "not from its sender's address in the cluster map" },
	[PROTO_ERR_AUTH] = { "auth", "no valid authentication tag for this cluster" },
	[PROTO_ERR_NOSPACE] = { "nospace", "message does not fit" },
	[PROTO_ERR_INVAL] = { "inval", "field out of range for the message" },
};

static unsigned int proto_error_index(int err)
{
	unsigned int e = err < 0 ? -(unsigned int)err : (unsigned int)err;

	return e < PROTO_ERR_MAX ? e : PROTO_ERR_MAX;
}

const char *proto_strerror(int err)
{
	unsigned int e = proto_error_index(err);

	return e < PROTO_ERR_MAX ? proto_errors[e].text : "unknown protocol error";
}

const char *proto_error_name(int err)
{
	unsigned int e = proto_error_index(err);

	return e < PROTO_ERR_MAX ? proto_errors[e].name : "unknown";
}

/* Big-endian loads and stores on byte pointers: no alignment or aliasing assumptions. */
static uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void store_be32(uint8_t *p, uint32_t v)
{
	store_be16(p, v >> 16);
	store_be16(p + 2, v & 0xffff);
}

static void store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, v >> 32);
	store_be32(p + 4, v & 0xffffffff);
}

/* The CRC covers the header with its CRC field zeroed, then the payload. */
static uint32_t proto_crc(const uint8_t *hdr, const uint8_t *payload, size_t payload_len)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = crc32c(0, hdr, PROTO_OFF_CRC);
	crc = crc32c(crc, zero, sizeof(zero));
	return crc32c(crc, payload, payload_len);
}

/* Node ids are 1..PROTO_MAX_NODE, 0 meaning a client. Raft and Dynamo messages travel only
 * between nodes, so neither end of one may be 0. */
static bool proto_nodes_ok(const struct proto_header *hdr)
{
	if (hdr->from > PROTO_MAX_NODE || hdr->to > PROTO_MAX_NODE)
		return false;
	return hdr->type >= PROTO_CLIENT_REQUEST || (hdr->from && hdr->to);
}

/* The checks that do not depend on the bytes around the header, shared by both directions. */
static int proto_header_check(const struct proto_header *hdr)
{
	if (!proto_type_valid(hdr->type))
		return -PROTO_ERR_TYPE;
	if (hdr->flags & ~PROTO_FLAGS_KNOWN)
		return -PROTO_ERR_FLAGS;
	if (!proto_nodes_ok(hdr))
		return -PROTO_ERR_NODE;
	return 0;
}

int proto_peek(const uint8_t *buf, size_t len, struct proto_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	if (len < PROTO_HDR_LEN)
		return -PROTO_ERR_SHORT;
	if (load_be16(buf + PROTO_OFF_MAGIC) != PROTO_MAGIC)
		return -PROTO_ERR_MAGIC;
	if (buf[PROTO_OFF_VERSION] != PROTO_VERSION)
		return -PROTO_ERR_VERSION;
	hdr->type = buf[PROTO_OFF_TYPE];
	hdr->flags = load_be16(buf + PROTO_OFF_FLAGS);
	hdr->from = load_be16(buf + PROTO_OFF_FROM);
	hdr->to = load_be16(buf + PROTO_OFF_TO);
	hdr->payload_len = load_be16(buf + PROTO_OFF_PAYLOAD_LEN);
	hdr->term = load_be64(buf + PROTO_OFF_TERM);
	hdr->msg_id = load_be64(buf + PROTO_OFF_MSG_ID);
	hdr->crc = load_be32(buf + PROTO_OFF_CRC);
	return 0;
}

int proto_decode(const uint8_t *buf, size_t len, struct proto_header *hdr, const uint8_t **payload)
{
	size_t have;
	int err;

	if (payload)
		*payload = NULL;
	err = proto_peek(buf, len, hdr);
	if (err)
		return err;
	if (len > PROTO_MAX_DGRAM || hdr->payload_len > PROTO_MAX_PAYLOAD)
		return -PROTO_ERR_TOO_LONG;
	have = len - PROTO_HDR_LEN;
	/* The tag is not payload: it is checked by whoever holds the key (proto_auth_check). */
	if (hdr->flags & PROTO_FLAG_AUTH) {
		if (have < PROTO_TAG_LEN)
			return -PROTO_ERR_TRUNCATED;
		have -= PROTO_TAG_LEN;
	}
	if (hdr->payload_len > have)
		return -PROTO_ERR_TRUNCATED;
	if (hdr->payload_len < have)
		return -PROTO_ERR_TRAILING;
	/* Integrity before meaning: a corrupted type or node id is counted as corruption. */
	if (proto_crc(buf, buf + PROTO_HDR_LEN, have) != hdr->crc)
		return -PROTO_ERR_CRC;
	err = proto_header_check(hdr);
	if (err)
		return err;
	if (payload)
		*payload = buf + PROTO_HDR_LEN;
	return 0;
}

/* Writes the header in front of a payload already at buf + PROTO_HDR_LEN. */
static void proto_seal(uint8_t *buf, const struct proto_header *hdr, size_t payload_len)
{
	store_be16(buf + PROTO_OFF_MAGIC, PROTO_MAGIC);
	buf[PROTO_OFF_VERSION] = PROTO_VERSION;
	buf[PROTO_OFF_TYPE] = hdr->type;
	store_be16(buf + PROTO_OFF_FLAGS, hdr->flags);
	store_be16(buf + PROTO_OFF_FROM, hdr->from);
	store_be16(buf + PROTO_OFF_TO, hdr->to);
	store_be16(buf + PROTO_OFF_PAYLOAD_LEN, (uint16_t)payload_len);
	store_be64(buf + PROTO_OFF_TERM, hdr->term);
	store_be64(buf + PROTO_OFF_MSG_ID, hdr->msg_id);
	store_be32(buf + PROTO_OFF_CRC, proto_crc(buf, buf + PROTO_HDR_LEN, payload_len));
}

void proto_header_reseal(uint8_t *buf, uint16_t flags)
{
	store_be16(buf + PROTO_OFF_FLAGS, flags);
	store_be32(buf + PROTO_OFF_CRC,
		   proto_crc(buf, buf + PROTO_HDR_LEN, load_be16(buf + PROTO_OFF_PAYLOAD_LEN)));
}

/* What a sender may ask for: the tag is added only by proto_auth_seal(), which holds a key. */
static int proto_sender_check(const struct proto_header *hdr)
{
	if (hdr->flags & PROTO_FLAG_AUTH)
		return -PROTO_ERR_INVAL;
	return proto_header_check(hdr);
}

int proto_encode(uint8_t *buf, size_t cap, const struct proto_header *hdr, const void *payload,
		 size_t payload_len)
{
	int err = proto_sender_check(hdr);

	if (err)
		return err;
	if (payload_len > PROTO_MAX_PAYLOAD)
		return -PROTO_ERR_TOO_LONG;
	if (cap < PROTO_HDR_LEN + payload_len)
		return -PROTO_ERR_NOSPACE;
	if (payload_len && payload != buf + PROTO_HDR_LEN)
		memmove(buf + PROTO_HDR_LEN, payload, payload_len);
	proto_seal(buf, hdr, payload_len);
	return (int)(PROTO_HDR_LEN + payload_len);
}

void proto_msg_begin(struct proto_writer *w, uint8_t *buf, size_t cap)
{
	if (cap < PROTO_HDR_LEN) {
		proto_writer_init(w, buf, 0);
		w->overflow = true;
		return;
	}
	cap -= PROTO_HDR_LEN;
	proto_writer_init(w, buf + PROTO_HDR_LEN,
			  cap < PROTO_MAX_PAYLOAD ? cap : PROTO_MAX_PAYLOAD);
}

int proto_msg_end(struct proto_writer *w, const struct proto_header *hdr)
{
	int err = proto_sender_check(hdr);

	if (err)
		return err;
	if (w->overflow)
		return -PROTO_ERR_NOSPACE;
	proto_seal(w->buf - PROTO_HDR_LEN, hdr, w->len);
	return (int)(PROTO_HDR_LEN + w->len);
}

void proto_writer_init(struct proto_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

/* Room for n more bytes? Sets overflow otherwise, so later puts write nothing. */
static bool writer_room(struct proto_writer *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return false;
	}
	return true;
}

void proto_put_u8(struct proto_writer *w, uint8_t v)
{
	if (writer_room(w, 1))
		w->buf[w->len++] = v;
}

void proto_put_u16(struct proto_writer *w, uint16_t v)
{
	if (writer_room(w, 2)) {
		store_be16(w->buf + w->len, v);
		w->len += 2;
	}
}

void proto_put_u32(struct proto_writer *w, uint32_t v)
{
	if (writer_room(w, 4)) {
		store_be32(w->buf + w->len, v);
		w->len += 4;
	}
}

void proto_put_u64(struct proto_writer *w, uint64_t v)
{
	if (writer_room(w, 8)) {
		store_be64(w->buf + w->len, v);
		w->len += 8;
	}
}

void proto_put_i64(struct proto_writer *w, int64_t v)
{
	proto_put_u64(w, (uint64_t)v);
}

void proto_put_raw(struct proto_writer *w, const void *p, size_t n)
{
	if (n && writer_room(w, n)) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
	}
}

void proto_put_bytes(struct proto_writer *w, const void *p, size_t n)
{
	/* Check the whole string first: a length without its bytes is never left behind. */
	if (n > UINT16_MAX || !writer_room(w, 2 + n)) {
		w->overflow = true;
		return;
	}
	proto_put_u16(w, (uint16_t)n);
	proto_put_raw(w, p, n);
}

void proto_put_cstr(struct proto_writer *w, const char *s)
{
	proto_put_bytes(w, s, strlen(s));
}

void proto_reader_init(struct proto_reader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
	r->error = false;
}

void proto_reader_fail(struct proto_reader *r)
{
	r->error = true;
}

/* The next n bytes, or NULL (and error set) if they are not all there. */
static const uint8_t *reader_take(struct proto_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->error || n > r->len - r->off) {
		r->error = true;
		return NULL;
	}
	p = r->buf + r->off;
	r->off += n;
	return p;
}

uint8_t proto_get_u8(struct proto_reader *r)
{
	const uint8_t *p = reader_take(r, 1);

	return p ? p[0] : 0;
}

uint16_t proto_get_u16(struct proto_reader *r)
{
	const uint8_t *p = reader_take(r, 2);

	return p ? load_be16(p) : 0;
}

uint32_t proto_get_u32(struct proto_reader *r)
{
	const uint8_t *p = reader_take(r, 4);

	return p ? load_be32(p) : 0;
}

uint64_t proto_get_u64(struct proto_reader *r)
{
	const uint8_t *p = reader_take(r, 8);

	return p ? load_be64(p) : 0;
}

int64_t proto_get_i64(struct proto_reader *r)
{
	return (int64_t)proto_get_u64(r);
}

void proto_get_raw(struct proto_reader *r, void *dst, size_t n)
{
	const uint8_t *p = reader_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

const uint8_t *proto_get_bytes(struct proto_reader *r, size_t max, size_t *n)
{
	size_t len = proto_get_u16(r);
	const uint8_t *p;

	*n = 0;
	if (len > max) {
		r->error = true;
		return NULL;
	}
	p = reader_take(r, len);
	if (!p || !len)
		return NULL;
	*n = len;
	return p;
}

void proto_get_cstr(struct proto_reader *r, char *dst, size_t size)
{
	size_t n;
	const uint8_t *p = proto_get_bytes(r, size ? size - 1 : 0, &n);

	if (!size) {
		r->error = true;
		return;
	}
	dst[0] = '\0';
	if (r->error)
		return;
	/* An embedded NUL would make the C string differ from what was sent. */
	if (n && memchr(p, '\0', n)) {
		r->error = true;
		return;
	}
	if (n)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

int proto_reader_end(const struct proto_reader *r)
{
	return r->error || r->off != r->len ? -PROTO_ERR_PAYLOAD : 0;
}

/* Client payloads. */

static const char *const op_names[] = {
	[CLIENT_OP_GET] = "get",	   [CLIENT_OP_PUT] = "put",
	[CLIENT_OP_CAS] = "cas",	   [CLIENT_OP_OPEN] = "open",
	[CLIENT_OP_TRANSFER] = "transfer", [CLIENT_OP_BALANCE] = "balance",
	[CLIENT_OP_STATUS] = "status",
};

static const char *const consistency_names[] = {
	[CONSISTENCY_DEFAULT] = "default",
	[CONSISTENCY_ONE] = "one",
	[CONSISTENCY_QUORUM] = "quorum",
	[CONSISTENCY_ALL] = "all",
};

static const char *const reply_status_names[] = {
	[REPLY_OK] = "OK",
	[REPLY_NOT_FOUND] = "NOT_FOUND",
	[REPLY_UNAVAILABLE] = "UNAVAILABLE",
	[REPLY_NOT_LEADER] = "NOT_LEADER",
	[REPLY_TIMEOUT] = "TIMEOUT",
	[REPLY_CAS_MISMATCH] = "CAS_MISMATCH",
	[REPLY_INSUFFICIENT_FUNDS] = "INSUFFICIENT_FUNDS",
	[REPLY_BAD_REQUEST] = "BAD_REQUEST",
	[REPLY_ERROR] = "ERROR",
};

static const char *const mode_names[] = {
	[PROTO_MODE_CP] = "cp",
	[PROTO_MODE_AP] = "ap",
};

static const char *const role_names[] = {
	[PROTO_ROLE_NONE] = "-",
	[PROTO_ROLE_FOLLOWER] = "follower",
	[PROTO_ROLE_PRECANDIDATE] = "precandidate",
	[PROTO_ROLE_CANDIDATE] = "candidate",
	[PROTO_ROLE_LEADER] = "leader",
};

static const char *name_of(const char *const *names, size_t n, unsigned int v)
{
	return v < n ? names[v] : NULL;
}

static int name_parse(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcasecmp(names[i], name))
			return (int)i;
	return -PROTO_ERR_INVAL;
}

const char *proto_op_name(unsigned int op)
{
	return name_of(op_names, ARRAY_SIZE(op_names), op);
}

const char *proto_consistency_name(unsigned int c)
{
	return name_of(consistency_names, ARRAY_SIZE(consistency_names), c);
}

const char *proto_reply_status_name(unsigned int status)
{
	return name_of(reply_status_names, ARRAY_SIZE(reply_status_names), status);
}

const char *proto_mode_name(unsigned int mode)
{
	return name_of(mode_names, ARRAY_SIZE(mode_names), mode);
}

const char *proto_role_name(unsigned int role)
{
	return name_of(role_names, ARRAY_SIZE(role_names), role);
}

int proto_op_parse(const char *name)
{
	return name_parse(op_names, ARRAY_SIZE(op_names), name);
}

int proto_consistency_parse(const char *name)
{
	return name_parse(consistency_names, ARRAY_SIZE(consistency_names), name);
}

/* Which fields each op carries on the wire. */
enum {
	F_KEY = 1 << 0,
	F_KEY_OPTIONAL = 1 << 1, /* with F_KEY: may be empty */
	F_VALUE = 1 << 2,
	F_EXPECTED = 1 << 3,
	F_ACCOUNTS = 1 << 4,
	F_AMOUNT = 1 << 5,
};

static const uint8_t op_fields[] = {
	[CLIENT_OP_GET] = F_KEY,
	[CLIENT_OP_PUT] = F_KEY | F_EXPECTED | F_VALUE,
	[CLIENT_OP_CAS] = F_KEY | F_EXPECTED | F_VALUE,
	[CLIENT_OP_OPEN] = F_KEY | F_AMOUNT,
	[CLIENT_OP_TRANSFER] = F_ACCOUNTS | F_AMOUNT,
	[CLIENT_OP_BALANCE] = F_KEY | F_KEY_OPTIONAL,
	[CLIENT_OP_STATUS] = 0,
};

static bool op_valid(unsigned int op)
{
	return op >= CLIENT_OP_GET && op <= CLIENT_OP_STATUS;
}

/* A key field holds a terminated C string of 0..PROTO_KEY_MAX bytes. */
static bool key_ok(const char *key, bool may_be_empty)
{
	size_t n = strnlen(key, PROTO_KEY_MAX + 1);

	return n <= PROTO_KEY_MAX && (n > 0 || may_be_empty);
}

int proto_put_client_request(struct proto_writer *w, const struct client_request *req)
{
	unsigned int f;

	if (!op_valid(req->op) || (unsigned int)req->consistency > CONSISTENCY_ALL)
		return -PROTO_ERR_INVAL;
	f = op_fields[req->op];
	if (f & F_KEY ? !key_ok(req->key, f & F_KEY_OPTIONAL) : req->key[0] != '\0')
		return -PROTO_ERR_INVAL;
	if (f & F_ACCOUNTS ? !key_ok(req->from_account, false) || !key_ok(req->to_account, false) :
			     req->from_account[0] || req->to_account[0])
		return -PROTO_ERR_INVAL;
	if (f & F_VALUE ? req->value.len > PROTO_VALUE_MAX : req->value.len)
		return -PROTO_ERR_INVAL;
	if (f & F_EXPECTED ? req->expected.len > PROTO_VALUE_MAX : req->expected.len)
		return -PROTO_ERR_INVAL;
	if (!(f & F_AMOUNT) && req->amount)
		return -PROTO_ERR_INVAL;

	proto_put_u8(w, req->op);
	proto_put_u8(w, req->consistency);
	proto_put_u32(w, req->client_nonce);
	proto_put_u64(w, req->seq);
	if (f & F_KEY)
		proto_put_cstr(w, req->key);
	if (f & F_ACCOUNTS) {
		proto_put_cstr(w, req->from_account);
		proto_put_cstr(w, req->to_account);
	}
	if (f & F_EXPECTED)
		proto_put_bytes(w, req->expected.data, req->expected.len);
	if (f & F_VALUE)
		proto_put_bytes(w, req->value.data, req->value.len);
	if (f & F_AMOUNT)
		proto_put_i64(w, req->amount);
	return w->overflow ? -PROTO_ERR_NOSPACE : 0;
}

static void get_value(struct proto_reader *r, struct proto_value *v)
{
	size_t n;
	const uint8_t *p = proto_get_bytes(r, PROTO_VALUE_MAX, &n);

	if (n)
		memcpy(v->data, p, n);
	v->len = (uint16_t)n;
}

int proto_get_client_request(struct proto_reader *r, struct client_request *req)
{
	unsigned int op, consistency, f;

	memset(req, 0, sizeof(*req));
	op = proto_get_u8(r);
	consistency = proto_get_u8(r);
	req->client_nonce = proto_get_u32(r);
	req->seq = proto_get_u64(r);
	if (r->error || !op_valid(op) || consistency > CONSISTENCY_ALL) {
		memset(req, 0, sizeof(*req));
		proto_reader_fail(r);
		return -PROTO_ERR_PAYLOAD;
	}
	req->op = op;
	req->consistency = consistency;
	f = op_fields[op];
	if (f & F_KEY) {
		proto_get_cstr(r, req->key, sizeof(req->key));
		if (!req->key[0] && !(f & F_KEY_OPTIONAL))
			proto_reader_fail(r);
	}
	if (f & F_ACCOUNTS) {
		proto_get_cstr(r, req->from_account, sizeof(req->from_account));
		proto_get_cstr(r, req->to_account, sizeof(req->to_account));
		if (!req->from_account[0] || !req->to_account[0])
			proto_reader_fail(r);
	}
	if (f & F_EXPECTED)
		get_value(r, &req->expected);
	if (f & F_VALUE)
		get_value(r, &req->value);
	if (f & F_AMOUNT)
		req->amount = proto_get_i64(r);
	if (r->error) {
		memset(req, 0, sizeof(*req));
		return -PROTO_ERR_PAYLOAD;
	}
	return 0;
}

int proto_decode_client_request(const uint8_t *p, size_t len, struct client_request *req)
{
	struct proto_reader r;

	proto_reader_init(&r, p, len);
	proto_get_client_request(&r, req);
	return proto_reader_end(&r);
}

static bool reason_ok(const char *s)
{
	return strnlen(s, PROTO_REASON_MAX + 1) <= PROTO_REASON_MAX;
}

int proto_put_client_reply(struct proto_writer *w, const struct client_reply *rep)
{
	if ((unsigned int)rep->status > REPLY_ERROR || rep->leader_hint > PROTO_MAX_NODE ||
	    !reason_ok(rep->reason) || rep->value.len > PROTO_VALUE_MAX ||
	    strnlen(rep->context, PROTO_CONTEXT_MAX + 1) > PROTO_CONTEXT_MAX ||
	    rep->nsiblings > PROTO_SIBLINGS_MAX)
		return -PROTO_ERR_INVAL;
	for (unsigned int i = 0; i < rep->nsiblings; i++)
		if (rep->siblings[i].len > PROTO_VALUE_MAX)
			return -PROTO_ERR_INVAL;

	proto_put_u32(w, rep->client_nonce);
	proto_put_u64(w, rep->seq);
	proto_put_u8(w, rep->status);
	proto_put_u16(w, rep->leader_hint);
	proto_put_u8(w, rep->replicas_answered);
	proto_put_i64(w, rep->amount);
	proto_put_cstr(w, rep->reason);
	proto_put_bytes(w, rep->value.data, rep->value.len);
	proto_put_u8(w, rep->nsiblings);
	for (unsigned int i = 0; i < rep->nsiblings; i++)
		proto_put_bytes(w, rep->siblings[i].data, rep->siblings[i].len);
	proto_put_cstr(w, rep->context);
	return w->overflow ? -PROTO_ERR_NOSPACE : 0;
}

int proto_get_client_reply(struct proto_reader *r, struct client_reply *rep)
{
	unsigned int status;

	memset(rep, 0, sizeof(*rep));
	rep->client_nonce = proto_get_u32(r);
	rep->seq = proto_get_u64(r);
	status = proto_get_u8(r);
	rep->leader_hint = proto_get_u16(r);
	rep->replicas_answered = proto_get_u8(r);
	rep->amount = proto_get_i64(r);
	if (status > REPLY_ERROR || rep->leader_hint > PROTO_MAX_NODE)
		proto_reader_fail(r);
	rep->status = status;
	proto_get_cstr(r, rep->reason, sizeof(rep->reason));
	get_value(r, &rep->value);
	rep->nsiblings = proto_get_u8(r);
	if (rep->nsiblings > PROTO_SIBLINGS_MAX) {
		proto_reader_fail(r);
		rep->nsiblings = 0;
	}
	for (unsigned int i = 0; i < rep->nsiblings; i++)
		get_value(r, &rep->siblings[i]);
	proto_get_cstr(r, rep->context, sizeof(rep->context));
	if (r->error) {
		memset(rep, 0, sizeof(*rep));
		return -PROTO_ERR_PAYLOAD;
	}
	return 0;
}

int proto_decode_client_reply(const uint8_t *p, size_t len, struct client_reply *rep)
{
	struct proto_reader r;

	proto_reader_init(&r, p, len);
	proto_get_client_reply(&r, rep);
	return proto_reader_end(&r);
}

/* Status payload. The reachable bitmap is sent without its trailing zero bytes, so a node of
 * a 5-node cluster sends one byte, and the shortest form is the only accepted one. */

static size_t bitmap_used(const uint8_t *bm)
{
	size_t n = PROTO_BITMAP_BYTES;

	while (n && !bm[n - 1])
		n--;
	return n;
}

static bool status_fields_ok(const struct status_reply *st)
{
	return st->node_id >= 1 && st->node_id <= PROTO_MAX_NODE &&
	       (st->mode == PROTO_MODE_CP || st->mode == PROTO_MODE_AP) &&
	       st->role <= PROTO_ROLE_LEADER && st->leader <= PROTO_MAX_NODE &&
	       st->cluster_size >= 1 && st->cluster_size <= PROTO_MAX_NODE;
}

int proto_put_status_reply(struct proto_writer *w, const struct status_reply *st)
{
	if (!status_fields_ok(st))
		return -PROTO_ERR_INVAL;

	proto_put_u8(w, PROTO_STATUS_LAYOUT);
	proto_put_u16(w, st->node_id);
	proto_put_u8(w, st->mode);
	proto_put_u8(w, st->role);
	proto_put_u64(w, st->term);
	proto_put_u16(w, st->leader);
	proto_put_u64(w, st->commit_index);
	proto_put_u64(w, st->applied_index);
	proto_put_u64(w, st->last_log_index);
	proto_put_u16(w, st->cluster_size);
	proto_put_bytes(w, st->reachable, bitmap_used(st->reachable));
	proto_put_u8(w, ARRAY_SIZE(st->rx));
	for (size_t i = 0; i < ARRAY_SIZE(st->rx); i++)
		proto_put_u64(w, st->rx[i]);
	proto_put_cstr(w, st->notes);
	proto_put_u64(w, st->ap.keys);
	proto_put_u64(w, st->ap.hints_pending);
	proto_put_u64(w, st->ap.hints_delivered);
	proto_put_u64(w, st->ap.read_repairs);
	proto_put_u64(w, st->ap.ae_rounds);
	proto_put_u64(w, st->ap.ae_repairs);
	return w->overflow ? -PROTO_ERR_NOSPACE : 0;
}

int proto_get_status_reply(struct proto_reader *r, struct status_reply *st)
{
	const uint8_t *bm;
	size_t n;

	memset(st, 0, sizeof(*st));
	if (proto_get_u8(r) != PROTO_STATUS_LAYOUT)
		proto_reader_fail(r);
	st->node_id = proto_get_u16(r);
	st->mode = proto_get_u8(r);
	st->role = proto_get_u8(r);
	st->term = proto_get_u64(r);
	st->leader = proto_get_u16(r);
	st->commit_index = proto_get_u64(r);
	st->applied_index = proto_get_u64(r);
	st->last_log_index = proto_get_u64(r);
	st->cluster_size = proto_get_u16(r);
	if (!r->error && !status_fields_ok(st))
		proto_reader_fail(r);
	bm = proto_get_bytes(r, PROTO_BITMAP_BYTES, &n);
	if (n && !bm[n - 1])
		proto_reader_fail(r);
	else if (n)
		memcpy(st->reachable, bm, n);
	if (proto_get_u8(r) != ARRAY_SIZE(st->rx))
		proto_reader_fail(r);
	for (size_t i = 0; i < ARRAY_SIZE(st->rx); i++)
		st->rx[i] = proto_get_u64(r);
	proto_get_cstr(r, st->notes, sizeof(st->notes));
	st->ap.keys = proto_get_u64(r);
	st->ap.hints_pending = proto_get_u64(r);
	st->ap.hints_delivered = proto_get_u64(r);
	st->ap.read_repairs = proto_get_u64(r);
	st->ap.ae_rounds = proto_get_u64(r);
	st->ap.ae_repairs = proto_get_u64(r);
	if (r->error) {
		memset(st, 0, sizeof(*st));
		return -PROTO_ERR_PAYLOAD;
	}
	return 0;
}

int proto_decode_status_reply(const uint8_t *p, size_t len, struct status_reply *st)
{
	struct proto_reader r;

	proto_reader_init(&r, p, len);
	proto_get_status_reply(&r, st);
	return proto_reader_end(&r);
}

/* Descriptions. */

struct line {
	char *out;
	size_t cap, len; /* len counts what would have been written, as snprintf */
};

__attribute__((format(printf, 2, 3))) static void line_add(struct line *l, const char *fmt, ...)
{
	size_t room = l->len < l->cap ? l->cap - l->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? l->out + l->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
}

/* Quoted and printable, at most max bytes of it: values are opaque bytes, a line is for people. */
static void line_quote_max(struct line *l, const void *p, size_t n, size_t max)
{
	const uint8_t *s = p;

	line_add(l, "\"");
	for (size_t i = 0; i < n && i < max; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			line_add(l, "%c", s[i]);
		else
			line_add(l, "\\x%02x", s[i]);
	}
	line_add(l, n > max ? "\"..." : "\"");
}

/* Decoded values always have names; this only keeps printf from ever seeing NULL. */
static const char *name_or(const char *name)
{
	return name ? name : "?";
}

static void line_quote(struct line *l, const void *p, size_t n)
{
	line_quote_max(l, p, n, 32);
}

/* Keys and reasons are names and sentences: shown whole. */
static void line_cstr(struct line *l, const char *s)
{
	line_quote_max(l, s, strlen(s), PROTO_REASON_MAX);
}

static void describe_request(struct line *l, const struct client_request *req)
{
	line_add(l, ": %s", name_or(proto_op_name(req->op)));
	switch (req->op) {
	case CLIENT_OP_GET:
		line_add(l, " ");
		line_cstr(l, req->key);
		break;
	case CLIENT_OP_PUT:
		line_add(l, " ");
		line_cstr(l, req->key);
		line_add(l, " ");
		line_quote(l, req->value.data, req->value.len);
		break;
	case CLIENT_OP_CAS:
		line_add(l, " ");
		line_cstr(l, req->key);
		line_add(l, " ");
		line_quote(l, req->expected.data, req->expected.len);
		line_add(l, " -> ");
		line_quote(l, req->value.data, req->value.len);
		break;
	case CLIENT_OP_OPEN:
		line_add(l, " ");
		line_cstr(l, req->key);
		line_add(l, " %lld", (long long)req->amount);
		break;
	case CLIENT_OP_TRANSFER:
		line_add(l, " ");
		line_cstr(l, req->from_account);
		line_add(l, " -> ");
		line_cstr(l, req->to_account);
		line_add(l, " %lld", (long long)req->amount);
		break;
	case CLIENT_OP_BALANCE:
		if (req->key[0]) {
			line_add(l, " ");
			line_cstr(l, req->key);
		} else {
			line_add(l, " *");
		}
		break;
	case CLIENT_OP_STATUS:
		break;
	}
	if (req->consistency != CONSISTENCY_DEFAULT)
		line_add(l, " %s", name_or(proto_consistency_name(req->consistency)));
}

/* A request cut short (a capture's snap length): the op and first name, if they arrived. */
static void describe_request_partial(struct line *l, const uint8_t *p, size_t n)
{
	struct proto_reader r;
	unsigned int op;
	char name[PROTO_KEY_MAX + 1];

	proto_reader_init(&r, p, n);
	op = proto_get_u8(&r);
	if (r.error || !op_valid(op))
		return;
	line_add(l, ": %s", name_or(proto_op_name(op)));
	if (!(op_fields[op] & (F_KEY | F_ACCOUNTS)))
		return;
	proto_get_u8(&r);
	proto_get_u32(&r);
	proto_get_u64(&r);
	proto_get_cstr(&r, name, sizeof(name));
	if (!r.error) {
		line_add(l, " ");
		line_cstr(l, name);
	}
	line_add(l, " ...");
}

static void describe_reply(struct line *l, const struct client_reply *rep)
{
	line_add(l, ": %s", name_or(proto_reply_status_name(rep->status)));
	if (rep->value.len) {
		line_add(l, " ");
		line_quote(l, rep->value.data, rep->value.len);
	}
	if (rep->nsiblings)
		line_add(l, " %u siblings", rep->nsiblings);
	if (rep->leader_hint)
		line_add(l, " leader %u", rep->leader_hint);
	if (rep->amount)
		line_add(l, " amount %lld", (long long)rep->amount);
	if (rep->replicas_answered)
		line_add(l, " replicas %u", rep->replicas_answered);
	if (rep->reason[0]) {
		line_add(l, " ");
		line_cstr(l, rep->reason);
	}
}

static void describe_status(struct line *l, const struct status_reply *st)
{
	unsigned int reach = 0;

	for (unsigned int id = 1; id <= PROTO_MAX_NODE; id++)
		reach += proto_bitmap_test(st->reachable, id);
	line_add(l, ": node %u %s %s term %llu leader %u commit %llu applied %llu reachable %u/%u",
		 st->node_id, name_or(proto_mode_name(st->mode)),
		 name_or(proto_role_name(st->role)), (unsigned long long)st->term, st->leader,
		 (unsigned long long)st->commit_index, (unsigned long long)st->applied_index, reach,
		 st->cluster_size);
}

/* The payload's own fields, for the types this module knows. The structs are large (a reply
 * holds nine values), so they share one union. */
static void describe_payload(struct line *l, unsigned int type, const uint8_t *p, size_t n)
{
	union {
		struct client_request req;
		struct client_reply rep;
		struct status_reply st;
	} u;
	int err = 0;

	switch (type) {
	case PROTO_CLIENT_REQUEST:
		err = proto_decode_client_request(p, n, &u.req);
		if (!err)
			describe_request(l, &u.req);
		break;
	case PROTO_CLIENT_REPLY:
		err = proto_decode_client_reply(p, n, &u.rep);
		if (!err)
			describe_reply(l, &u.rep);
		break;
	case PROTO_STATUS_REPLY:
		err = proto_decode_status_reply(p, n, &u.st);
		if (!err)
			describe_status(l, &u.st);
		break;
	}
	if (err)
		line_add(l, " invalid: %s", proto_strerror(err));
}

int proto_describe(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	struct line l = { .out = out, .cap = outlen };
	struct proto_header h;
	const char *name;
	size_t total;
	int err;

	if (outlen)
		out[0] = '\0';
	err = proto_peek(buf, len, &h);
	if (err == -PROTO_ERR_SHORT) {
		/* Say capnet only when the bytes present agree with it. */
		bool ours = len >= 2 && load_be16(buf) == PROTO_MAGIC &&
			    (len < 3 || buf[PROTO_OFF_VERSION] == PROTO_VERSION);

		line_add(&l, "%s (%zu bytes)", ours ? "truncated capnet header" : "not capnet",
			 len);
		return (int)l.len;
	}
	if (err == -PROTO_ERR_MAGIC) {
		line_add(&l, "not capnet (%zu bytes)", len);
		return (int)l.len;
	}
	if (err == -PROTO_ERR_VERSION) {
		line_add(&l, "capnet version %u, not understood (%zu bytes)",
			 buf[PROTO_OFF_VERSION], len);
		return (int)l.len;
	}

	name = proto_type_name(h.type);
	if (name)
		line_add(&l, "%s", name);
	else
		line_add(&l, "type %u", h.type);
	if (h.type >= PROTO_PREVOTE && h.type < PROTO_REPLICA_PUT)
		line_add(&l, " term %llu", (unsigned long long)h.term);
	else if (h.term)
		line_add(&l, " %s %llu", h.type < PROTO_CLIENT_REQUEST ? "epoch" : "term",
			 (unsigned long long)h.term);
	line_add(&l, " from %u to %u", h.from, h.to);
	if (h.from)
		line_add(&l, " id %u:%llu", h.from, (unsigned long long)h.msg_id);
	else
		line_add(&l, " id %08x:%u", (unsigned int)(h.msg_id >> 32),
			 (unsigned int)(h.msg_id & 0xffffffff));

	total = PROTO_HDR_LEN + (size_t)h.payload_len +
		(h.flags & PROTO_FLAG_AUTH ? PROTO_TAG_LEN : 0);
	if (len < total) {
		/* Only a prefix was captured: say so, check nothing that needs the rest. */
		if (len == PROTO_HDR_LEN)
			line_add(&l, " (%zu bytes, payload not captured)", total);
		else
			line_add(&l, " (%zu bytes, %zu captured)", total, len);
		if (h.type == PROTO_CLIENT_REQUEST)
			describe_request_partial(&l, buf + PROTO_HDR_LEN, len - PROTO_HDR_LEN);
		return (int)l.len;
	}
	/* The tag is not checked here: a reader of a capture has no key. */
	line_add(&l, h.flags & PROTO_FLAG_AUTH ? " (%zu bytes, with MAC)" : " (%zu bytes)", len);
	err = proto_decode(buf, len, &h, NULL);
	if (err) {
		line_add(&l, " invalid: %s", proto_strerror(err));
		return (int)l.len;
	}
	describe_payload(&l, h.type, buf + PROTO_HDR_LEN, h.payload_len);
	return (int)l.len;
}
