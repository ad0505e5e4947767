/* SPDX-License-Identifier: GPL-2.0-only */
/* The capnet wire protocol: the 32-byte datagram header, a bounds-checked big-endian payload
 * codec, and the client and status payloads shared by capnode, capctl and captrace.
 * docs/protocol.md describes the same layout for people and other implementations. */
#ifndef CAPNET_PROTO_H
#define CAPNET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC 0xCA9E
/* Version 2 added the authentication tag (PROTO_FLAG_AUTH) and the "auth" refusal counter. */
#define PROTO_VERSION 2
/* The whole header fits in the 32 payload bytes a filter drop event carries. */
#define PROTO_HDR_LEN 32
/* An authenticated datagram ends with this many bytes of MAC over header and payload
 * (node/proto_auth.h). */
#define PROTO_TAG_LEN 16
/* One datagram per message; below a 1500-byte MTU with room for IP, UDP and a VXLAN tunnel. */
#define PROTO_MAX_DGRAM 1416
#define PROTO_MAX_PAYLOAD (PROTO_MAX_DGRAM - PROTO_HDR_LEN - PROTO_TAG_LEN)
#define PROTO_MAX_NODE 1000

/* Header flags. Bits not defined here are reserved: senders write 0, receivers reject. */
#define PROTO_FLAG_REPLY 0x0001
/* PROTO_TAG_LEN bytes of MAC follow the payload. */
#define PROTO_FLAG_AUTH 0x0002
#define PROTO_FLAGS_KNOWN (PROTO_FLAG_REPLY | PROTO_FLAG_AUTH)

/* Header field offsets, for dissectors and for code that patches a sealed header. */
#define PROTO_OFF_MAGIC 0
#define PROTO_OFF_VERSION 2
#define PROTO_OFF_TYPE 3
#define PROTO_OFF_FLAGS 4
#define PROTO_OFF_FROM 6
#define PROTO_OFF_TO 8
#define PROTO_OFF_PAYLOAD_LEN 10
#define PROTO_OFF_TERM 12
#define PROTO_OFF_MSG_ID 20
#define PROTO_OFF_CRC 28

/* Ranges: Raft 1..31, Dynamo 32..63, client 64..95, misc 96..255. Values never change meaning. */
enum proto_type {
	PROTO_PREVOTE = 1,
	PROTO_PREVOTE_RESP = 2,
	PROTO_VOTE = 3,
	PROTO_VOTE_RESP = 4,
	PROTO_APPEND = 5,
	PROTO_APPEND_RESP = 6,
	PROTO_SNAPSHOT = 7,
	PROTO_SNAPSHOT_RESP = 8,
	PROTO_HEARTBEAT = 9,
	PROTO_HEARTBEAT_RESP = 10,
	PROTO_READ_INDEX = 11,
	PROTO_READ_INDEX_RESP = 12,
	PROTO_TIMEOUT_NOW = 13,

	PROTO_REPLICA_PUT = 32,
	PROTO_REPLICA_PUT_ACK = 33,
	PROTO_REPLICA_GET = 34,
	PROTO_REPLICA_GET_RESP = 35,
	PROTO_HINT_DELIVER = 36,
	PROTO_HINT_ACK = 37,
	PROTO_DIGEST = 38,
	PROTO_DIGEST_RESP = 39,
	PROTO_REPAIR = 40,
	PROTO_BANK_READ = 41,
	PROTO_BANK_READ_RESP = 42,

	PROTO_CLIENT_REQUEST = 64,
	PROTO_CLIENT_REPLY = 65,

	PROTO_STATUS = 96,
	PROTO_STATUS_REPLY = 97,
	PROTO_PING = 98,
	PROTO_PONG = 99,
};

/*
 * Why a datagram or payload was refused. Functions of this module return 0 or the negated
 * value, so a receiver can count each kind: counter[-err]. The kinds up to PROTO_ERR_RX_MAX
 * are what a receiver can meet, in the order decoding checks them.
 */
enum proto_error {
	PROTO_OK = 0,
	PROTO_ERR_SHORT, /* shorter than the header */
	PROTO_ERR_MAGIC, /* not a capnet datagram */
	PROTO_ERR_VERSION, /* a version this build does not speak */
	PROTO_ERR_TOO_LONG, /* datagram beyond PROTO_MAX_DGRAM, payload_len beyond PROTO_MAX_PAYLOAD */
	PROTO_ERR_TRUNCATED, /* fewer bytes than payload_len announces */
	PROTO_ERR_TRAILING, /* more bytes than payload_len announces */
	PROTO_ERR_CRC, /* checksum mismatch: corrupted in flight or forged */
	PROTO_ERR_TYPE, /* unknown message type */
	PROTO_ERR_FLAGS, /* a reserved flag is set */
	PROTO_ERR_NODE, /* from or to beyond PROTO_MAX_NODE */
	PROTO_ERR_PAYLOAD, /* the payload does not parse as its type's layout */
	PROTO_ERR_SOURCE, /* not from the address the cluster map gives its sender (node_io) */
	PROTO_ERR_AUTH, /* no tag, or a tag not made with this cluster's key (node_io) */
	PROTO_ERR_RX_MAX = PROTO_ERR_AUTH,
	PROTO_ERR_NOSPACE, /* encoding: the message does not fit the buffer or the datagram */
	PROTO_ERR_INVAL, /* encoding: a field out of range or set where it does not belong */
	PROTO_ERR_MAX,
};

/* Short description of an error (either sign), for logs: "CRC mismatch". */
const char *proto_strerror(int err);
/* Stable one-word name of an error kind (either sign), for counters and JSON: "crc". */
const char *proto_error_name(int err);

/* "APPEND", or NULL for a value that is not a message type. */
const char *proto_type_name(unsigned int type);
bool proto_type_valid(unsigned int type);

/* The decoded header. magic and version are implied; crc is filled by decoding only. */
struct proto_header {
	uint8_t type; /* enum proto_type */
	uint16_t flags;
	uint16_t from; /* 1..PROTO_MAX_NODE, 0 for a client */
	uint16_t to; /* 1..PROTO_MAX_NODE, 0 for a client */
	uint16_t payload_len;
	uint64_t term; /* Raft term, or epoch in AP mode; 0 where meaningless */
	uint64_t msg_id; /* unique per sender: see proto_client_msg_id() for clients */
	uint32_t crc;
};

/* A client's message id: its random 32-bit nonce, then the low 32 bits of its sequence. */
static inline uint64_t proto_client_msg_id(uint32_t nonce, uint64_t seq)
{
	return (uint64_t)nonce << 32 | (seq & 0xffffffffu);
}

/*
 * Validates a whole datagram (every check of enum proto_error up to PROTO_ERR_NODE) and fills
 * *hdr. *payload (may be NULL) points into buf, hdr->payload_len bytes. Returns 0 or -PROTO_ERR_*.
 */
int proto_decode(const uint8_t *buf, size_t len, struct proto_header *hdr, const uint8_t **payload);

/*
 * Parses the header fields of a possibly truncated datagram (as a drop event's first 32 bytes)
 * without checking lengths, CRC, type, flags or node ids. Returns 0, -PROTO_ERR_SHORT,
 * -PROTO_ERR_MAGIC or -PROTO_ERR_VERSION.
 */
int proto_peek(const uint8_t *buf, size_t len, struct proto_header *hdr);

/*
 * Writes a whole datagram: header from *hdr (its payload_len and crc are ignored), then
 * payload_len bytes of payload, which may already sit at buf + PROTO_HDR_LEN. Refuses what
 * decoding would refuse. Returns the datagram length or -PROTO_ERR_*.
 */
int proto_encode(uint8_t *buf, size_t cap, const struct proto_header *hdr, const void *payload,
		 size_t payload_len);

/* Sets the flags of a whole datagram in buf and renews its CRC (for node/proto_auth.c). */
void proto_header_reseal(uint8_t *buf, uint16_t flags);

/* Payload writer: every put checks room first; once a put fails, overflow stays set and
 * nothing more is written, so a sequence of puts is checked once at the end. */
struct proto_writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

/* Payload reader: a failed get sets error, returns zero, and every later get fails too. */
struct proto_reader {
	const uint8_t *buf;
	size_t len, off;
	bool error;
};

void proto_writer_init(struct proto_writer *w, uint8_t *buf, size_t cap);
void proto_put_u8(struct proto_writer *w, uint8_t v);
void proto_put_u16(struct proto_writer *w, uint16_t v);
void proto_put_u32(struct proto_writer *w, uint32_t v);
void proto_put_u64(struct proto_writer *w, uint64_t v);
void proto_put_i64(struct proto_writer *w, int64_t v);
/* n bytes as they are, no length. */
void proto_put_raw(struct proto_writer *w, const void *p, size_t n);
/* A byte string: u16 length, then the bytes (n > 65535 overflows). */
void proto_put_bytes(struct proto_writer *w, const void *p, size_t n);
/* A C string as a byte string, without its NUL. */
void proto_put_cstr(struct proto_writer *w, const char *s);

void proto_reader_init(struct proto_reader *r, const uint8_t *buf, size_t len);
uint8_t proto_get_u8(struct proto_reader *r);
uint16_t proto_get_u16(struct proto_reader *r);
uint32_t proto_get_u32(struct proto_reader *r);
uint64_t proto_get_u64(struct proto_reader *r);
int64_t proto_get_i64(struct proto_reader *r);
/* Copies n bytes; on error dst is zeroed. */
void proto_get_raw(struct proto_reader *r, void *dst, size_t n);
/* A byte string of at most max bytes: returns a pointer into the buffer (NULL on error, or
 * for an empty string) and its length in *n (0 on error). */
const uint8_t *proto_get_bytes(struct proto_reader *r, size_t max, size_t *n);
/* A byte string into a C string of size bytes: fails if it has a NUL or does not fit with
 * its terminator. On error dst is "". */
void proto_get_cstr(struct proto_reader *r, char *dst, size_t size);
/* Marks the reader failed: for a field that parsed but is out of range. */
void proto_reader_fail(struct proto_reader *r);
/* 0 if every get succeeded and consumed the buffer exactly, else -PROTO_ERR_PAYLOAD. */
int proto_reader_end(const struct proto_reader *r);
static inline size_t proto_reader_left(const struct proto_reader *r)
{
	return r->error ? 0 : r->len - r->off;
}

/*
 * Building a message in place: begin reserves the header in buf, the payload is written
 * with the put functions, end seals the header and CRC.
 *     proto_msg_begin(&w, buf, sizeof(buf));
 *     proto_put_client_request(&w, &req);
 *     n = proto_msg_end(&w, &hdr);          // datagram length or -PROTO_ERR_*
 */
void proto_msg_begin(struct proto_writer *w, uint8_t *buf, size_t cap);
int proto_msg_end(struct proto_writer *w, const struct proto_header *hdr);

/* Client payloads. Keys and account names are C strings without NUL; values are bytes. */
#define PROTO_KEY_MAX 128
#define PROTO_VALUE_MAX 1024
#define PROTO_REASON_MAX 200
#define PROTO_SIBLINGS_MAX 8
#define PROTO_CONTEXT_MAX 512

enum client_op {
	CLIENT_OP_GET = 1,
	CLIENT_OP_PUT = 2,
	CLIENT_OP_CAS = 3,
	CLIENT_OP_OPEN = 4,
	CLIENT_OP_TRANSFER = 5,
	CLIENT_OP_BALANCE = 6,
	CLIENT_OP_STATUS = 7,
};

/* AP mode: how many of the N replicas must answer (W or R); CP mode is linearizable anyway. */
enum client_consistency {
	CONSISTENCY_DEFAULT = 0,
	CONSISTENCY_ONE = 1,
	CONSISTENCY_QUORUM = 2,
	CONSISTENCY_ALL = 3,
};

enum reply_status {
	REPLY_OK = 0,
	REPLY_NOT_FOUND = 1,
	REPLY_UNAVAILABLE = 2,
	REPLY_NOT_LEADER = 3,
	REPLY_TIMEOUT = 4,
	REPLY_CAS_MISMATCH = 5,
	REPLY_INSUFFICIENT_FUNDS = 6,
	REPLY_BAD_REQUEST = 7,
	REPLY_ERROR = 8,
};

struct proto_value {
	uint16_t len;
	uint8_t data[PROTO_VALUE_MAX];
};

/*
 * Which fields an op carries; all others must be zero or empty:
 *   GET, BALANCE  key (BALANCE: empty means the whole bank)
 *   PUT           key, value, expected (AP with siblings: a read's context; else empty)
 *   CAS           key, expected, value
 *   OPEN          key (the account), amount (opening balance)
 *   TRANSFER      from_account, to_account, amount
 *   STATUS        nothing
 * The amount's sign is the application's business (it answers BAD_REQUEST), not the codec's.
 */
struct client_request {
	uint32_t client_nonce;
	uint64_t seq;
	enum client_op op;
	enum client_consistency consistency;
	char key[PROTO_KEY_MAX + 1];
	struct proto_value value;
	struct proto_value expected;
	char from_account[PROTO_KEY_MAX + 1];
	char to_account[PROTO_KEY_MAX + 1];
	int64_t amount;
};

/* Every field is always on the wire; siblings are the concurrent versions of an AP read. */
struct client_reply {
	uint32_t client_nonce;
	uint64_t seq;
	enum reply_status status;
	uint16_t leader_hint; /* NOT_LEADER: the leader's id if known, else 0 */
	uint8_t replicas_answered;
	int64_t amount;
	char reason[PROTO_REASON_MAX + 1]; /* "no quorum (2/5 reachable, 3 needed)" */
	struct proto_value value;
	uint8_t nsiblings;
	struct proto_value siblings[PROTO_SIBLINGS_MAX];
	/* AP with siblings, a read's causal context ("1:3,2:5"): a put that gives it back
	 * replaces exactly what the read saw. Empty otherwise. */
	char context[PROTO_CONTEXT_MAX + 1];
};

/* Names: "get", "quorum", "NOT_LEADER"; NULL for unknown values. */
const char *proto_op_name(unsigned int op);
const char *proto_consistency_name(unsigned int c);
const char *proto_reply_status_name(unsigned int status);
/* The inverse of the name functions (case-insensitive): the value, or -PROTO_ERR_INVAL. */
int proto_op_parse(const char *name);
int proto_consistency_parse(const char *name);

/* put: 0, -PROTO_ERR_INVAL for a field out of range, -PROTO_ERR_NOSPACE when w overflowed.
 * get: reads one from r (0 or -PROTO_ERR_PAYLOAD, r->error set); the reader may go on.
 * decode: a whole payload, nothing may follow. */
int proto_put_client_request(struct proto_writer *w, const struct client_request *req);
int proto_get_client_request(struct proto_reader *r, struct client_request *req);
int proto_decode_client_request(const uint8_t *p, size_t len, struct client_request *req);

int proto_put_client_reply(struct proto_writer *w, const struct client_reply *rep);
int proto_get_client_reply(struct proto_reader *r, struct client_reply *rep);
int proto_decode_client_reply(const uint8_t *p, size_t len, struct client_reply *rep);

/* Status payload, answered to STATUS. layout_version lets it grow: a new layout, a new value. */
#define PROTO_STATUS_LAYOUT 3
#define PROTO_BITMAP_BYTES ((PROTO_MAX_NODE + 7) / 8)

enum proto_mode {
	PROTO_MODE_CP = 1,
	PROTO_MODE_AP = 2,
};

enum proto_role {
	PROTO_ROLE_NONE = 0, /* AP nodes have no role */
	PROTO_ROLE_FOLLOWER = 1,
	PROTO_ROLE_PRECANDIDATE = 2,
	PROTO_ROLE_CANDIDATE = 3,
	PROTO_ROLE_LEADER = 4,
};

const char *proto_mode_name(unsigned int mode);
const char *proto_role_name(unsigned int role); /* PROTO_ROLE_NONE is "-" */

struct status_reply {
	uint16_t node_id;
	uint8_t mode; /* enum proto_mode */
	uint8_t role; /* enum proto_role */
	uint64_t term;
	uint16_t leader; /* 0 if none known */
	uint64_t commit_index, applied_index, last_log_index;
	uint16_t cluster_size;
	/* Peers this node currently hears from: node id i is bit (i-1)%8 of byte (i-1)/8. */
	uint8_t reachable[PROTO_BITMAP_BYTES];
	/* Datagrams received: [0] accepted, [k] refused with proto_error k. */
	uint64_t rx[PROTO_ERR_RX_MAX + 1];
	/* What a person should know and no other field says, e.g. an AP bank's overdrafts:
	 * "overdrawn: carol is -60". Empty when there is nothing. */
	char notes[PROTO_REASON_MAX + 1];
	/* AP replication at work (0 in CP): the keys it stores, hints it holds for replicas it
	 * could not reach, and what hints, read repair and anti-entropy have done. A test or a
	 * person waits on these rather than on time. */
	struct status_ap {
		uint64_t keys, hints_pending, hints_delivered, read_repairs, ae_rounds, ae_repairs;
	} ap;
};

static inline void proto_bitmap_set(uint8_t *bm, unsigned int id)
{
	if (id >= 1 && id <= PROTO_MAX_NODE)
		bm[(id - 1) / 8] |= (uint8_t)(1u << ((id - 1) % 8));
}

static inline bool proto_bitmap_test(const uint8_t *bm, unsigned int id)
{
	return id >= 1 && id <= PROTO_MAX_NODE && (bm[(id - 1) / 8] >> ((id - 1) % 8) & 1);
}

int proto_put_status_reply(struct proto_writer *w, const struct status_reply *st);
int proto_get_status_reply(struct proto_reader *r, struct status_reply *st);
int proto_decode_status_reply(const uint8_t *p, size_t len, struct status_reply *st);

/*
 * One line describing any datagram, valid or not, whole or only its first bytes (a drop event
 * has 32): "APPEND term 7 from 1 to 3 id 1:42 (1180 bytes)". Always NUL-terminates out (if
 * outlen > 0). Returns the length the full line would have, as snprintf.
 */
int proto_describe(const uint8_t *buf, size_t len, char *out, size_t outlen);

#endif /* CAPNET_PROTO_H */
