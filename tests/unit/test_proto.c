// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the wire protocol: CRC32C vectors, the header layout and every way decoding
 * refuses a datagram, the payload codec, client and status payloads, descriptions, and
 * seeded random datagrams and mutations that must be refused or round-trip byte for byte.
 * "test_proto --write-corpus DIR" writes the fuzzer's starting inputs instead of testing. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/rng.h"
#include "node/crc32c.h"
#include "node/proto.h"

static uint64_t rng_state;

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next(&rng_state) % n);
}

static void rng_fill(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng_next(&rng_state);
}

static uint64_t test_seed(void)
{
	const char *s = getenv("CAPNET_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 0x5eed;

	print_message("seed %" PRIu64 " (set CAPNET_SEED to replay)\n", seed);
	return seed;
}

static struct proto_header header(uint8_t type, uint16_t from, uint16_t to, uint64_t term,
				  uint64_t msg_id)
{
	return (struct proto_header){
		.type = type, .from = from, .to = to, .term = term, .msg_id = msg_id
	};
}

/* The CRC as the spec words it, written independently of proto.c: CRC32C of the datagram
 * with the CRC field zeroed. Tests use it to forge datagrams whose only flaw is elsewhere. */
static void reseal(uint8_t *buf, size_t len)
{
	uint32_t crc;

	memset(buf + 28, 0, 4);
	crc = crc32c_sw(0, buf, len);
	buf[28] = crc >> 24;
	buf[29] = crc >> 16;
	buf[30] = crc >> 8;
	buf[31] = crc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* A valid datagram: APPEND term 7 from 1 to 3, n payload bytes. */
static size_t valid_dgram(uint8_t *buf, size_t n)
{
	uint8_t payload[PROTO_MAX_PAYLOAD];
	struct proto_header h = header(PROTO_APPEND, 1, 3, 7, 42);
	int len;

	for (size_t i = 0; i < n; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	len = proto_encode(buf, PROTO_MAX_DGRAM + 64, &h, payload, n);
	assert_int_equal(len, PROTO_HDR_LEN + n);
	return (size_t)len;
}

/* CRC32C */

static void test_crc32c_vectors(void **state)
{
	static const struct {
		const char *name;
		uint32_t crc;
	} cases[] = {
		/* "123456789" is the catalogue check value; the 32-byte ones are RFC 3720's. */
		{ "check", 0xe3069283 },	{ "zeros", 0x8a9136aa },
		{ "ones", 0x62a8ab43 },		{ "incrementing", 0x46dd794e },
		{ "decrementing", 0x113fdb5c },
	};
	uint8_t buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 32;

		switch (i) {
		case 0:
			memcpy(buf, "123456789", 9);
			n = 9;
			break;
		case 1:
			memset(buf, 0, 32);
			break;
		case 2:
			memset(buf, 0xff, 32);
			break;
		case 3:
			for (int k = 0; k < 32; k++)
				buf[k] = (uint8_t)k;
			break;
		case 4:
			for (int k = 0; k < 32; k++)
				buf[k] = (uint8_t)(31 - k);
			break;
		}
		print_message("crc32c %s\n", cases[i].name);
		assert_int_equal(crc32c_sw(0, buf, n), cases[i].crc);
		assert_int_equal(crc32c(0, buf, n), cases[i].crc);
	}
	assert_int_equal(crc32c_sw(0, "", 0), 0);
	assert_int_equal(crc32c(0, "", 0), 0);
	print_message("crc32c: %s path\n", crc32c_hw_available() ? "sse4.2" : "table");
}

/* The fast path must agree with the table at every length and alignment, and chaining two
 * calls must equal one call over the concatenation. */
static void test_crc32c_paths_agree(void **state)
{
	uint8_t buf[600];

	(void)state;
	rng_state = 1;
	rng_fill(buf, sizeof(buf));
	for (size_t off = 0; off < 9; off++) {
		for (size_t n = 0; n + off <= sizeof(buf); n += 1 + n / 8) {
			uint32_t want = crc32c_sw(0, buf + off, n);

			assert_int_equal(crc32c(0, buf + off, n), want);
			for (size_t cut = 0; cut <= n; cut += 1 + n / 3) {
				uint32_t c = crc32c(0, buf + off, cut);

				assert_int_equal(crc32c(c, buf + off + cut, n - cut), want);
				c = crc32c_sw(0, buf + off, cut);
				assert_int_equal(crc32c_sw(c, buf + off + cut, n - cut), want);
			}
		}
	}
}

/* Header */

static void test_header_layout(void **state)
{
	static const uint8_t want[32] = {
		0xca, 0x9e, 0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x03,
		0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* term */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* msg_id */
	};
	struct proto_header h = header(PROTO_APPEND, 1, 3, 7, 0x1122334455667788ull);
	struct proto_header d;
	const uint8_t *payload;
	uint8_t buf[64], copy[36];
	uint32_t crc;

	(void)state;
	h.flags = PROTO_FLAG_REPLY;
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, "abcd", 4), 36);
	assert_memory_equal(buf, want, 28);
	assert_memory_equal(buf + 32, "abcd", 4);

	memcpy(copy, buf, 36);
	reseal(copy, 36);
	assert_memory_equal(copy, buf, 36);
	crc = (uint32_t)buf[28] << 24 | (uint32_t)buf[29] << 16 | buf[30] << 8 | buf[31];

	assert_int_equal(proto_decode(buf, 36, &d, &payload), 0);
	assert_int_equal(d.type, PROTO_APPEND);
	assert_int_equal(d.flags, PROTO_FLAG_REPLY);
	assert_int_equal(d.from, 1);
	assert_int_equal(d.to, 3);
	assert_int_equal(d.payload_len, 4);
	assert_int_equal(d.term, 7);
	assert_int_equal(d.msg_id, 0x1122334455667788ull);
	assert_int_equal(d.crc, crc);
	assert_ptr_equal(payload, buf + 32);
}

static void test_header_every_type(void **state)
{
	unsigned int known = 0;
	uint8_t buf[PROTO_HDR_LEN];
	struct proto_header d;

	(void)state;
	for (unsigned int t = 0; t < 256; t++) {
		struct proto_header h = header((uint8_t)t, 1, PROTO_MAX_NODE, UINT64_MAX, t);
		int n = proto_encode(buf, sizeof(buf), &h, NULL, 0);

		if (!proto_type_valid(t)) {
			assert_null(proto_type_name(t));
			assert_int_equal(n, -PROTO_ERR_TYPE);
			continue;
		}
		known++;
		assert_non_null(proto_type_name(t));
		assert_int_equal(n, PROTO_HDR_LEN);
		assert_int_equal(proto_decode(buf, PROTO_HDR_LEN, &d, NULL), 0);
		assert_int_equal(d.type, t);
		assert_int_equal(d.term, UINT64_MAX);
	}
	/* 13 Raft, 11 Dynamo, 2 client, 4 misc. */
	assert_int_equal(known, 30);
	assert_string_equal(proto_type_name(PROTO_TIMEOUT_NOW), "TIMEOUT_NOW");
	assert_string_equal(proto_type_name(PROTO_REPAIR), "REPAIR");
	assert_string_equal(proto_type_name(PROTO_PONG), "PONG");
	assert_null(proto_type_name(1000));
}

/* Each kind of refusal, from a datagram whose only flaw is that one. */
static void test_decode_errors(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM + 64], bad[PROTO_MAX_DGRAM + 64];
	struct proto_header d;
	const uint8_t *payload = (const uint8_t *)"x";
	size_t n = valid_dgram(buf, 40);

	(void)state;
	assert_int_equal(proto_decode(buf, n, &d, &payload), 0);

	for (size_t len = 0; len < PROTO_HDR_LEN; len++)
		assert_int_equal(proto_decode(buf, len, &d, &payload), -PROTO_ERR_SHORT);
	assert_null(payload);

	memcpy(bad, buf, n);
	bad[1] ^= 0x01;
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_MAGIC);

	memcpy(bad, buf, n);
	bad[2] = 1; /* before authentication */
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_VERSION);
	bad[2] = 3;
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_VERSION);
	bad[2] = 0;
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_VERSION);

	/* Announced length beyond the limit, whatever arrived. */
	memcpy(bad, buf, n);
	put16(bad + 10, PROTO_MAX_PAYLOAD + 1);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_TOO_LONG);
	put16(bad + 10, 0xffff);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_TOO_LONG);

	/* payload_len says 40; 39 or 41 bytes arrive. */
	assert_int_equal(proto_decode(buf, n - 1, &d, NULL), -PROTO_ERR_TRUNCATED);
	assert_int_equal(proto_decode(buf, PROTO_HDR_LEN, &d, NULL), -PROTO_ERR_TRUNCATED);
	memcpy(bad, buf, n);
	bad[n] = 0;
	assert_int_equal(proto_decode(bad, n + 1, &d, NULL), -PROTO_ERR_TRAILING);
	/* Even when the trailing byte is covered by a recomputed CRC. */
	reseal(bad, n + 1);
	assert_int_equal(proto_decode(bad, n + 1, &d, NULL), -PROTO_ERR_TRAILING);

	memcpy(bad, buf, n);
	bad[n - 1] ^= 0x80;
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_CRC);
	memcpy(bad, buf, n);
	bad[31] ^= 0x01;
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_CRC);
	/* A corrupted header field is corruption first, not an unknown type. */
	memcpy(bad, buf, n);
	bad[3] = 200;
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_CRC);

	const uint8_t bad_types[] = { 0, 14, 31, 43, 63, 66, 95, 100, 255 };
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		memcpy(bad, buf, n);
		bad[3] = bad_types[i];
		reseal(bad, n);
		assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_TYPE);
	}

	/* The tag flag with no room for a tag: 40 payload bytes announced, 24 before the tag. */
	memcpy(bad, buf, n);
	put16(bad + 4, PROTO_FLAG_AUTH);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_TRUNCATED);
	assert_int_equal(proto_decode(bad, PROTO_HDR_LEN + PROTO_TAG_LEN - 1, &d, NULL),
			 -PROTO_ERR_TRUNCATED);

	for (int bit = 2; bit < 16; bit++) {
		memcpy(bad, buf, n);
		put16(bad + 4, (uint16_t)(1u << bit | PROTO_FLAG_REPLY));
		reseal(bad, n);
		assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_FLAGS);
	}

	memcpy(bad, buf, n);
	put16(bad + 6, PROTO_MAX_NODE + 1);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_NODE);
	memcpy(bad, buf, n);
	put16(bad + 8, 0xffff);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_NODE);
	put16(bad + 8, PROTO_MAX_NODE);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), 0);
	/* Raft and Dynamo messages are between nodes: 0 (a client) is out of range for them. */
	put16(bad + 6, 0);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_NODE);
	bad[3] = PROTO_DIGEST;
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), -PROTO_ERR_NODE);
	bad[3] = PROTO_CLIENT_REPLY; /* a node's reply to a client */
	put16(bad + 6, 1);
	put16(bad + 8, 0);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), 0);
	bad[3] = PROTO_PING; /* a client's ping */
	put16(bad + 6, 0);
	put16(bad + 8, 1);
	reseal(bad, n);
	assert_int_equal(proto_decode(bad, n, &d, NULL), 0);
}

static void test_length_boundaries(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM + 64], payload[PROTO_MAX_PAYLOAD + 1];
	struct proto_header h = header(PROTO_APPEND, 2, 1, 1, 1), d;
	size_t n;

	(void)state;
	memset(payload, 0xab, sizeof(payload));
	assert_int_equal(PROTO_MAX_PAYLOAD, 1368);

	n = valid_dgram(buf, PROTO_MAX_PAYLOAD);
	assert_int_equal(n, 1400);
	assert_int_equal(proto_decode(buf, n, &d, NULL), 0);
	assert_int_equal(d.payload_len, 1368);

	/* 1401 bytes, consistent with its own payload_len and CRC: still refused. */
	put16(buf + 10, PROTO_MAX_PAYLOAD + 1);
	buf[1400] = 0xab;
	reseal(buf, 1401);
	assert_int_equal(proto_decode(buf, 1401, &d, NULL), -PROTO_ERR_TOO_LONG);
	assert_int_equal(proto_decode(buf, 1500, &d, NULL), -PROTO_ERR_TOO_LONG);

	assert_int_equal(proto_encode(buf, sizeof(buf), &h, payload, PROTO_MAX_PAYLOAD + 1),
			 -PROTO_ERR_TOO_LONG);
	assert_int_equal(proto_encode(buf, 1399, &h, payload, PROTO_MAX_PAYLOAD),
			 -PROTO_ERR_NOSPACE);
	assert_int_equal(proto_encode(buf, 31, &h, NULL, 0), -PROTO_ERR_NOSPACE);
	assert_int_equal(proto_encode(buf, 32, &h, NULL, 0), 32);

	/* The in-place builder stops at the datagram limit whatever the buffer's size. */
	struct proto_writer w;
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_raw(&w, payload, PROTO_MAX_PAYLOAD);
	assert_int_equal(proto_msg_end(&w, &h), 1400);
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_raw(&w, payload, PROTO_MAX_PAYLOAD + 1);
	assert_int_equal(proto_msg_end(&w, &h), -PROTO_ERR_NOSPACE);
	proto_msg_begin(&w, buf, 20);
	assert_int_equal(proto_msg_end(&w, &h), -PROTO_ERR_NOSPACE);
}

static void test_encode_refuses_bad_headers(void **state)
{
	uint8_t buf[64];
	struct proto_header h = header(PROTO_PING, 1, 2, 0, 0);

	(void)state;
	h.flags = 0x8000;
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, NULL, 0), -PROTO_ERR_FLAGS);
	h.flags = 0;
	h.from = PROTO_MAX_NODE + 1;
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, NULL, 0), -PROTO_ERR_NODE);
	h = header(PROTO_VOTE, 0, 2, 1, 1);
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, NULL, 0), -PROTO_ERR_NODE);
	h = header(PROTO_PING, 1, 2, 0, 0);
	h.from = 1;
	h.type = 0;
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, NULL, 0), -PROTO_ERR_TYPE);

	/* The payload may already sit where it belongs. */
	h.type = PROTO_PING;
	memcpy(buf + PROTO_HDR_LEN, "12345678", 8);
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, buf + PROTO_HDR_LEN, 8), 40);
	assert_memory_equal(buf + PROTO_HDR_LEN, "12345678", 8);
	assert_int_equal(proto_decode(buf, 40, &h, NULL), 0);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e < PROTO_ERR_MAX; e++) {
		assert_non_null(proto_strerror(-e));
		assert_string_equal(proto_strerror(e), proto_strerror(-e));
		for (int f = 0; f < e; f++) {
			assert_string_not_equal(proto_strerror(e), proto_strerror(f));
			assert_string_not_equal(proto_error_name(e), proto_error_name(f));
		}
	}
	assert_string_equal(proto_strerror(-PROTO_ERR_CRC), "CRC mismatch");
	assert_string_equal(proto_error_name(-PROTO_ERR_TOO_LONG), "too_long");
	assert_string_equal(proto_strerror(-PROTO_ERR_MAX), "unknown protocol error");
	assert_string_equal(proto_strerror(-EINVAL * 1000), "unknown protocol error");
}

/* Payload codec */

static void test_writer_sticky_overflow(void **state)
{
	uint8_t buf[16];
	struct proto_writer w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	proto_writer_init(&w, buf, 7);
	proto_put_u32(&w, 0x01020304);
	proto_put_u16(&w, 0x0506);
	assert_false(w.overflow);
	assert_int_equal(w.len, 6);
	proto_put_u16(&w, 0x0708); /* one byte of room: nothing written */
	assert_true(w.overflow);
	assert_int_equal(w.len, 6);
	proto_put_u8(&w, 0x09); /* would fit, but the writer has failed */
	assert_int_equal(w.len, 6);
	assert_int_equal(buf[6], 0xee);
	assert_memory_equal(buf, "\x01\x02\x03\x04\x05\x06", 6);

	proto_writer_init(&w, buf, sizeof(buf));
	proto_put_u64(&w, 0x1122334455667788ull);
	proto_put_i64(&w, -2);
	assert_false(w.overflow);
	assert_memory_equal(buf, "\x11\x22\x33\x44\x55\x66\x77\x88\xff\xff\xff\xff\xff\xff\xff\xfe",
			    16);

	/* A byte string is all or nothing: never a length without its bytes. */
	proto_writer_init(&w, buf, 6);
	proto_put_bytes(&w, "abcde", 5);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);
	proto_writer_init(&w, buf, 7);
	proto_put_bytes(&w, "abcde", 5);
	assert_false(w.overflow);
	assert_memory_equal(buf,
			    "\x00\x05"
			    "abcde",
			    7);

	static uint8_t big[70000];
	static uint8_t out[70010];
	proto_writer_init(&w, out, sizeof(out));
	proto_put_bytes(&w, big, 65536);
	assert_true(w.overflow);
	proto_writer_init(&w, out, sizeof(out));
	proto_put_bytes(&w, big, 65535);
	assert_false(w.overflow);
	assert_int_equal(w.len, 65537);

	proto_writer_init(&w, NULL, 0);
	proto_put_raw(&w, NULL, 0);
	proto_put_bytes(&w, NULL, 0); /* needs 2 bytes of length */
	assert_true(w.overflow);
}

static void test_reader_sticky_error(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
	struct proto_reader r;
	uint8_t raw[4];

	(void)state;
	proto_reader_init(&r, in, sizeof(in));
	assert_int_equal(proto_get_u16(&r), 0x0102);
	assert_int_equal(proto_get_u32(&r), 0x03040506);
	assert_int_equal(proto_reader_left(&r), 1);
	assert_int_equal(proto_reader_end(&r), -PROTO_ERR_PAYLOAD); /* a byte left over */
	assert_int_equal(proto_get_u16(&r), 0); /* only one byte left */
	assert_true(r.error);
	assert_int_equal(proto_get_u8(&r), 0); /* would fit, but the reader has failed */
	assert_int_equal(proto_reader_left(&r), 0);
	assert_int_equal(proto_reader_end(&r), -PROTO_ERR_PAYLOAD);

	proto_reader_init(&r, in, sizeof(in));
	assert_int_equal(proto_get_u64(&r), 0);
	assert_true(r.error);
	proto_reader_init(&r, in, sizeof(in));
	proto_get_raw(&r, raw, 4);
	assert_memory_equal(raw, in, 4);
	proto_get_raw(&r, raw, 4);
	assert_memory_equal(raw, "\0\0\0\0", 4);
	assert_true(r.error);

	static const uint8_t i64[] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };
	proto_reader_init(&r, i64, sizeof(i64));
	assert_true(proto_get_i64(&r) == INT64_MIN);
	assert_int_equal(proto_reader_end(&r), 0);

	proto_reader_init(&r, NULL, 0);
	assert_int_equal(proto_reader_end(&r), 0);
	proto_get_u8(&r);
	assert_int_equal(proto_reader_end(&r), -PROTO_ERR_PAYLOAD);
}

static void test_reader_strings(void **state)
{
	static const uint8_t in[] = { 0, 3, 'a', 'b', 'c', 0, 0, 0, 2, 'x', 'y' };
	static const uint8_t nul[] = { 0, 3, 'a', 0, 'c' };
	static const uint8_t lie[] = { 0, 9, 'a', 'b' };
	struct proto_reader r;
	const uint8_t *p;
	char s[4];
	size_t n;

	(void)state;
	proto_reader_init(&r, in, sizeof(in));
	p = proto_get_bytes(&r, 3, &n);
	assert_int_equal(n, 3);
	assert_ptr_equal(p, in + 2);
	p = proto_get_bytes(&r, 3, &n); /* empty */
	assert_null(p);
	assert_int_equal(n, 0);
	assert_false(r.error);
	p = proto_get_bytes(&r, 1, &n); /* 2 bytes, at most 1 allowed */
	assert_null(p);
	assert_true(r.error);

	proto_reader_init(&r, in, sizeof(in));
	proto_get_cstr(&r, s, sizeof(s));
	assert_string_equal(s, "abc");
	proto_get_cstr(&r, s, sizeof(s));
	assert_string_equal(s, "");
	proto_get_cstr(&r, s, 2); /* "xy" needs 3 bytes with its NUL */
	assert_string_equal(s, "");
	assert_true(r.error);

	proto_reader_init(&r, nul, sizeof(nul));
	proto_get_cstr(&r, s, sizeof(s));
	assert_true(r.error);
	assert_string_equal(s, "");

	proto_reader_init(&r, lie, sizeof(lie));
	p = proto_get_bytes(&r, 100, &n);
	assert_null(p);
	assert_true(r.error);
}

/* Client payloads */

static struct client_request *request(enum client_op op)
{
	static struct client_request req;

	memset(&req, 0, sizeof(req));
	req.op = op;
	req.client_nonce = 0xdeadbeef;
	req.seq = 0x100000007ull;
	req.consistency = CONSISTENCY_QUORUM;
	switch (op) {
	case CLIENT_OP_GET:
		strcpy(req.key, "x");
		break;
	case CLIENT_OP_PUT:
		strcpy(req.key, "x");
		req.value.len = 3;
		memcpy(req.value.data, "\0\1\2", 3);
		break;
	case CLIENT_OP_CAS:
		strcpy(req.key, "register-17");
		req.expected.len = 1;
		req.expected.data[0] = '4';
		req.value.len = 1;
		req.value.data[0] = '5';
		break;
	case CLIENT_OP_OPEN:
		strcpy(req.key, "alice");
		req.amount = 100;
		break;
	case CLIENT_OP_TRANSFER:
		strcpy(req.from_account, "alice");
		strcpy(req.to_account, "bob");
		req.amount = -5; /* the bank refuses it, not the codec */
		break;
	case CLIENT_OP_BALANCE:
		strcpy(req.key, "bob");
		break;
	case CLIENT_OP_STATUS:
		req.consistency = CONSISTENCY_DEFAULT;
		break;
	}
	return &req;
}

/* Encodes req in a datagram, decodes the datagram and the payload, compares the structs. */
static size_t request_roundtrip(const struct client_request *req, uint8_t *buf)
{
	static struct client_request got;
	struct proto_header h = header(PROTO_CLIENT_REQUEST, 0, 3, 0,
				       proto_client_msg_id(req->client_nonce, req->seq));
	struct proto_writer w;
	const uint8_t *payload;
	int n;

	proto_msg_begin(&w, buf, PROTO_MAX_DGRAM);
	assert_int_equal(proto_put_client_request(&w, req), 0);
	n = proto_msg_end(&w, &h);
	assert_true(n > PROTO_HDR_LEN);
	assert_int_equal(proto_decode(buf, (size_t)n, &h, &payload), 0);
	assert_int_equal(h.msg_id, (uint64_t)req->client_nonce << 32 | (req->seq & 0xffffffff));
	assert_int_equal(proto_decode_client_request(payload, h.payload_len, &got), 0);
	assert_memory_equal(&got, req, sizeof(got));
	return (size_t)n;
}

static void test_client_request_roundtrip(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct client_request *req;
	size_t n;

	(void)state;
	for (int op = CLIENT_OP_GET; op <= CLIENT_OP_STATUS; op++) {
		req = request(op);
		n = request_roundtrip(req, buf);
		print_message("%-8s %zu bytes\n", proto_op_name(op), n);
		for (int c = CONSISTENCY_DEFAULT; c <= CONSISTENCY_ALL; c++) {
			req->consistency = c;
			request_roundtrip(req, buf);
		}
	}
	/* The fixed part: op, consistency, nonce, seq; then GET's key. */
	req = request(CLIENT_OP_GET);
	n = request_roundtrip(req, buf);
	assert_int_equal(n, 32 + 14 + 2 + 1);
	assert_memory_equal(
		buf + 32, "\x01\x02\xde\xad\xbe\xef\x00\x00\x00\x01\x00\x00\x00\x07\x00\x01x", 17);

	/* Limits: a 128-byte key, a 1024-byte value; BALANCE of the whole bank. */
	req = request(CLIENT_OP_PUT);
	memset(req->key, 'k', PROTO_KEY_MAX);
	req->value.len = PROTO_VALUE_MAX;
	memset(req->value.data, 0xff, PROTO_VALUE_MAX);
	request_roundtrip(req, buf);
	req = request(CLIENT_OP_BALANCE);
	memset(req->key, 0, sizeof(req->key));
	request_roundtrip(req, buf);
	req = request(CLIENT_OP_CAS);
	memset(&req->expected, 0, sizeof(req->expected)); /* empty is a value, not absence */
	request_roundtrip(req, buf);
}

static void test_client_request_encode_refuses(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_writer w;
	struct client_request *req;

#define REFUSE(err)                                                       \
	do {                                                              \
		proto_msg_begin(&w, buf, sizeof(buf));                    \
		assert_int_equal(proto_put_client_request(&w, req), err); \
	} while (0)

	(void)state;
	req = request(CLIENT_OP_GET);
	req->op = 0;
	REFUSE(-PROTO_ERR_INVAL);
	req->op = 8;
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_GET);
	req->consistency = 4;
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_GET);
	req->key[0] = '\0';
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_GET);
	memset(req->key, 'k', sizeof(req->key)); /* unterminated */
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_PUT);
	req->value.len = PROTO_VALUE_MAX + 1;
	REFUSE(-PROTO_ERR_INVAL);
	/* Fields that do not belong to the op. */
	req = request(CLIENT_OP_GET);
	req->value.len = 1;
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_GET);
	req->expected.len = 1;
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_PUT);
	req->amount = 1;
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_TRANSFER);
	strcpy(req->key, "alice");
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_TRANSFER);
	req->to_account[0] = '\0';
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_OPEN);
	strcpy(req->from_account, "alice");
	REFUSE(-PROTO_ERR_INVAL);
	req = request(CLIENT_OP_STATUS);
	strcpy(req->key, "x");
	REFUSE(-PROTO_ERR_INVAL);
	/* CAS with two full values does not fit one datagram. */
	req = request(CLIENT_OP_CAS);
	req->expected.len = req->value.len = PROTO_VALUE_MAX;
	REFUSE(-PROTO_ERR_NOSPACE);
	assert_int_equal(proto_msg_end(&w, &(struct proto_header){ .type = PROTO_CLIENT_REQUEST }),
			 -PROTO_ERR_NOSPACE);
#undef REFUSE
}

static void test_client_request_decode_refuses(void **state)
{
	static struct client_request got;
	uint8_t p[PROTO_MAX_PAYLOAD];
	struct proto_writer w;
	size_t n;

	(void)state;
	proto_writer_init(&w, p, sizeof(p));
	assert_int_equal(proto_put_client_request(&w, request(CLIENT_OP_PUT)), 0);
	n = w.len;
	assert_int_equal(proto_decode_client_request(p, n, &got), 0);

	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(proto_decode_client_request(p, cut, &got), -PROTO_ERR_PAYLOAD);
	p[n] = 0;
	assert_int_equal(proto_decode_client_request(p, n + 1, &got), -PROTO_ERR_PAYLOAD);

	const uint8_t bad_ops[] = { 0, 8, 255 };
	for (size_t i = 0; i < sizeof(bad_ops); i++) {
		p[0] = bad_ops[i];
		assert_int_equal(proto_decode_client_request(p, n, &got), -PROTO_ERR_PAYLOAD);
	}
	p[0] = CLIENT_OP_PUT;
	p[1] = 4; /* consistency */
	assert_int_equal(proto_decode_client_request(p, n, &got), -PROTO_ERR_PAYLOAD);
	p[1] = CONSISTENCY_ALL;
	assert_int_equal(proto_decode_client_request(p, n, &got), 0);

	/* Reading PUT's bytes as GET leaves the value behind: refused as trailing. */
	p[0] = CLIENT_OP_GET;
	assert_int_equal(proto_decode_client_request(p, n, &got), -PROTO_ERR_PAYLOAD);
	p[0] = CLIENT_OP_PUT;

	/* Key: empty, 129 bytes, with a NUL (a PUT: key, empty context, empty value). */
	uint8_t q[400];
	memcpy(q, p, 14);
	put16(q + 14, 0);
	put16(q + 16, 0);
	put16(q + 18, 0);
	assert_int_equal(proto_decode_client_request(q, 20, &got), -PROTO_ERR_PAYLOAD);
	put16(q + 14, 129);
	memset(q + 16, 'k', 129);
	put16(q + 16 + 129, 0);
	put16(q + 18 + 129, 0);
	assert_int_equal(proto_decode_client_request(q, 16 + 129 + 4, &got), -PROTO_ERR_PAYLOAD);
	put16(q + 14, 128);
	put16(q + 16 + 128, 0);
	put16(q + 18 + 128, 0);
	assert_int_equal(proto_decode_client_request(q, 16 + 128 + 4, &got), 0);
	q[20] = '\0';
	assert_int_equal(proto_decode_client_request(q, 16 + 128 + 4, &got), -PROTO_ERR_PAYLOAD);
	/* A refused request leaves nothing half-filled behind. */
	assert_int_equal(got.op, 0);
	assert_int_equal(got.key[0], 0);
}

static struct client_reply *reply(void)
{
	static struct client_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.client_nonce = 0xdeadbeef;
	rep.seq = 9;
	rep.status = REPLY_UNAVAILABLE;
	rep.leader_hint = 4;
	rep.replicas_answered = 2;
	rep.amount = INT64_MIN;
	strcpy(rep.reason, "no quorum (2/5 reachable, 3 needed)");
	rep.value.len = 2;
	memcpy(rep.value.data, "42", 2);
	return &rep;
}

static void reply_roundtrip(const struct client_reply *rep)
{
	static struct client_reply got;
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_header h = header(PROTO_CLIENT_REPLY, 3, 0, 5, 77);
	struct proto_writer w;
	const uint8_t *payload;
	int n;

	h.flags = PROTO_FLAG_REPLY;
	proto_msg_begin(&w, buf, sizeof(buf));
	assert_int_equal(proto_put_client_reply(&w, rep), 0);
	n = proto_msg_end(&w, &h);
	assert_true(n > 0);
	assert_int_equal(proto_decode(buf, (size_t)n, &h, &payload), 0);
	assert_int_equal(proto_decode_client_reply(payload, h.payload_len, &got), 0);
	assert_memory_equal(&got, rep, sizeof(got));
}

static void test_client_reply_roundtrip(void **state)
{
	struct client_reply *rep;

	(void)state;
	for (int s = REPLY_OK; s <= REPLY_ERROR; s++) {
		rep = reply();
		rep->status = s;
		assert_non_null(proto_reply_status_name(s));
		reply_roundtrip(rep);
	}
	assert_null(proto_reply_status_name(REPLY_ERROR + 1));

	/* Eight siblings, as an AP read of a key written on both sides of a split. */
	rep = reply();
	rep->status = REPLY_OK;
	rep->nsiblings = PROTO_SIBLINGS_MAX;
	for (int i = 0; i < PROTO_SIBLINGS_MAX; i++) {
		rep->siblings[i].len = (uint16_t)(i * 20);
		memset(rep->siblings[i].data, 'a' + i, rep->siblings[i].len);
	}
	reply_roundtrip(rep);

	rep = reply();
	memset(rep->reason, 'r', PROTO_REASON_MAX);
	rep->leader_hint = PROTO_MAX_NODE;
	rep->value.len = PROTO_VALUE_MAX;
	reply_roundtrip(rep);

	memset(rep, 0, sizeof(*rep));
	reply_roundtrip(rep);
}

static void test_client_reply_refuses(void **state)
{
	static struct client_reply got;
	uint8_t p[PROTO_MAX_PAYLOAD];
	struct proto_writer w;
	struct client_reply *rep;
	size_t n;

	(void)state;
	rep = reply();
	rep->status = REPLY_ERROR + 1;
	proto_writer_init(&w, p, sizeof(p));
	assert_int_equal(proto_put_client_reply(&w, rep), -PROTO_ERR_INVAL);
	rep = reply();
	rep->leader_hint = PROTO_MAX_NODE + 1;
	assert_int_equal(proto_put_client_reply(&w, rep), -PROTO_ERR_INVAL);
	rep = reply();
	memset(rep->reason, 'r', sizeof(rep->reason)); /* 201 bytes, unterminated */
	assert_int_equal(proto_put_client_reply(&w, rep), -PROTO_ERR_INVAL);
	rep = reply();
	rep->nsiblings = PROTO_SIBLINGS_MAX + 1;
	assert_int_equal(proto_put_client_reply(&w, rep), -PROTO_ERR_INVAL);
	rep = reply();
	rep->nsiblings = 2;
	rep->siblings[1].len = PROTO_VALUE_MAX + 1;
	assert_int_equal(proto_put_client_reply(&w, rep), -PROTO_ERR_INVAL);
	/* Eight full siblings are legal values but not one datagram. */
	rep = reply();
	rep->nsiblings = PROTO_SIBLINGS_MAX;
	for (int i = 0; i < PROTO_SIBLINGS_MAX; i++)
		rep->siblings[i].len = PROTO_VALUE_MAX;
	proto_msg_begin(&w, p, sizeof(p));
	assert_int_equal(proto_put_client_reply(&w, rep), -PROTO_ERR_NOSPACE);

	/* Fixed part: nonce 4, seq 8, status 1, leader 2, replicas 1, amount 8; then reason,
	 * value, siblings and context, here all empty. */
	rep = reply();
	rep->reason[0] = '\0';
	rep->value.len = 0;
	proto_writer_init(&w, p, sizeof(p));
	assert_int_equal(proto_put_client_reply(&w, rep), 0);
	n = w.len;
	assert_int_equal(n, 24 + 2 + 2 + 1 + 2);
	assert_int_equal(proto_decode_client_reply(p, n, &got), 0);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(proto_decode_client_reply(p, cut, &got), -PROTO_ERR_PAYLOAD);
	p[12] = REPLY_ERROR + 1;
	assert_int_equal(proto_decode_client_reply(p, n, &got), -PROTO_ERR_PAYLOAD);
	p[12] = REPLY_OK;
	put16(p + 13, PROTO_MAX_NODE + 1);
	assert_int_equal(proto_decode_client_reply(p, n, &got), -PROTO_ERR_PAYLOAD);
	put16(p + 13, 0);
	p[28] = PROTO_SIBLINGS_MAX + 1;
	assert_int_equal(proto_decode_client_reply(p, n, &got), -PROTO_ERR_PAYLOAD);
	p[28] = 1; /* one sibling announced, none there */
	assert_int_equal(proto_decode_client_reply(p, n, &got), -PROTO_ERR_PAYLOAD);
	put16(p + 29, 0);
	put16(p + 31, 0);
	assert_int_equal(proto_decode_client_reply(p, n + 2, &got), 0);
	assert_int_equal(got.nsiblings, 1);
	put16(p + 24, 201); /* reason longer than allowed */
	memset(p + 26, 'r', 201);
	assert_int_equal(proto_decode_client_reply(p, 26 + 201 + 3, &got), -PROTO_ERR_PAYLOAD);
}

static void test_names(void **state)
{
	(void)state;
	for (int op = CLIENT_OP_GET; op <= CLIENT_OP_STATUS; op++)
		assert_int_equal(proto_op_parse(proto_op_name(op)), op);
	assert_int_equal(proto_op_parse("TRANSFER"), CLIENT_OP_TRANSFER);
	assert_int_equal(proto_op_parse("delete"), -PROTO_ERR_INVAL);
	assert_null(proto_op_name(0));
	assert_null(proto_op_name(8));
	assert_int_equal(proto_consistency_parse("quorum"), CONSISTENCY_QUORUM);
	assert_int_equal(proto_consistency_parse("All"), CONSISTENCY_ALL);
	assert_int_equal(proto_consistency_parse("two"), -PROTO_ERR_INVAL);
	assert_string_equal(proto_role_name(PROTO_ROLE_NONE), "-");
	assert_string_equal(proto_role_name(PROTO_ROLE_PRECANDIDATE), "precandidate");
	assert_null(proto_role_name(5));
	assert_string_equal(proto_mode_name(PROTO_MODE_AP), "ap");
	assert_null(proto_mode_name(0));
}

/* Status payload */

static struct status_reply *status(void)
{
	static struct status_reply st;

	memset(&st, 0, sizeof(st));
	st.node_id = 3;
	st.mode = PROTO_MODE_CP;
	st.role = PROTO_ROLE_LEADER;
	st.term = 7;
	st.leader = 3;
	st.commit_index = 1000;
	st.applied_index = 999;
	st.last_log_index = 1002;
	st.cluster_size = 5;
	proto_bitmap_set(st.reachable, 1);
	proto_bitmap_set(st.reachable, 2);
	proto_bitmap_set(st.reachable, 3);
	for (int k = 0; k <= PROTO_ERR_RX_MAX; k++)
		st.rx[k] = (uint64_t)k * 1000 + 1;
	return &st;
}

static size_t status_roundtrip(const struct status_reply *st)
{
	static struct status_reply got;
	uint8_t p[PROTO_MAX_PAYLOAD];
	struct proto_writer w;

	proto_writer_init(&w, p, sizeof(p));
	assert_int_equal(proto_put_status_reply(&w, st), 0);
	assert_int_equal(proto_decode_status_reply(p, w.len, &got), 0);
	assert_memory_equal(&got, st, sizeof(got));
	return w.len;
}

static void test_status_roundtrip(void **state)
{
	struct status_reply *st;
	size_t n;

	(void)state;
	st = status();
	n = status_roundtrip(st);
	/* 41 fixed bytes, a 1-byte bitmap for a 5-node cluster, 12 counters, empty notes. */
	assert_int_equal(n, 41 + 2 + 1 + 1 + (PROTO_ERR_RX_MAX + 1) * 8 + 2 + 6 * 8);
	assert_true(proto_bitmap_test(st->reachable, 3));
	assert_false(proto_bitmap_test(st->reachable, 4));
	assert_false(proto_bitmap_test(st->reachable, 0));
	assert_false(proto_bitmap_test(st->reachable, PROTO_MAX_NODE + 1));

	st = status();
	st->mode = PROTO_MODE_AP;
	st->role = PROTO_ROLE_NONE;
	st->leader = 0;
	st->cluster_size = PROTO_MAX_NODE;
	for (unsigned int id = 1; id <= PROTO_MAX_NODE; id += 3)
		proto_bitmap_set(st->reachable, id);
	proto_bitmap_set(st->reachable, PROTO_MAX_NODE);
	snprintf(st->notes, sizeof(st->notes), "overdrawn: carol is -60");
	st->ap = (struct status_ap){ .keys = 20,
				     .hints_pending = 3,
				     .hints_delivered = 7,
				     .read_repairs = 1,
				     .ae_rounds = 1ull << 40,
				     .ae_repairs = 9 };
	status_roundtrip(st);

	st = status();
	memset(st->reachable, 0, sizeof(st->reachable));
	n = status_roundtrip(st);
	assert_int_equal(n, 41 + 2 + 1 + (PROTO_ERR_RX_MAX + 1) * 8 + 2 + 6 * 8);
}

static void test_status_refuses(void **state)
{
	static struct status_reply got;
	uint8_t p[PROTO_MAX_PAYLOAD];
	struct proto_writer w;
	struct status_reply *st;
	size_t n;

	(void)state;
	st = status();
	st->node_id = 0;
	proto_writer_init(&w, p, sizeof(p));
	assert_int_equal(proto_put_status_reply(&w, st), -PROTO_ERR_INVAL);
	st = status();
	st->mode = 3;
	assert_int_equal(proto_put_status_reply(&w, st), -PROTO_ERR_INVAL);
	st = status();
	st->role = PROTO_ROLE_LEADER + 1;
	assert_int_equal(proto_put_status_reply(&w, st), -PROTO_ERR_INVAL);
	st = status();
	st->cluster_size = PROTO_MAX_NODE + 1;
	assert_int_equal(proto_put_status_reply(&w, st), -PROTO_ERR_INVAL);

	st = status();
	proto_writer_init(&w, p, sizeof(p));
	assert_int_equal(proto_put_status_reply(&w, st), 0);
	n = w.len;
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(proto_decode_status_reply(p, cut, &got), -PROTO_ERR_PAYLOAD);
	p[0] = PROTO_STATUS_LAYOUT + 1;
	assert_int_equal(proto_decode_status_reply(p, n, &got), -PROTO_ERR_PAYLOAD);
	p[0] = PROTO_STATUS_LAYOUT;
	/* A bitmap with a trailing zero byte is not the canonical form. */
	uint8_t q[PROTO_MAX_PAYLOAD];
	memcpy(q, p, 41);
	put16(q + 41, 2);
	q[43] = p[43];
	q[44] = 0;
	memcpy(q + 45, p + 44, n - 44);
	assert_int_equal(proto_decode_status_reply(q, n + 1, &got), -PROTO_ERR_PAYLOAD);
	q[44] = 1;
	assert_int_equal(proto_decode_status_reply(q, n + 1, &got), 0);
	assert_true(proto_bitmap_test(got.reachable, 9));
	/* A newer node's extra counter. */
	p[44] = PROTO_ERR_RX_MAX + 2;
	assert_int_equal(proto_decode_status_reply(p, n, &got), -PROTO_ERR_PAYLOAD);
	assert_int_equal(got.node_id, 0);
}

/* Descriptions */

static void describe(const uint8_t *buf, size_t len, const char *want)
{
	char out[256];
	int n = proto_describe(buf, len, out, sizeof(out));

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_describe(void **state)
{
	uint8_t buf[PROTO_MAX_DGRAM + 64];
	struct proto_header h;
	struct proto_writer w;
	size_t n;
	int len;

	(void)state;
	n = valid_dgram(buf, 1148);
	describe(buf, n, "APPEND term 7 from 1 to 3 id 1:42 (1180 bytes)");
	describe(buf, 32, "APPEND term 7 from 1 to 3 id 1:42 (1180 bytes, payload not captured)");
	describe(buf, 100, "APPEND term 7 from 1 to 3 id 1:42 (1180 bytes, 100 captured)");
	describe(buf, 31, "truncated capnet header (31 bytes)");
	describe(buf, 1, "not capnet (1 bytes)");
	describe(buf, 0, "not capnet (0 bytes)");
	buf[n - 1] ^= 1;
	describe(buf, n, "APPEND term 7 from 1 to 3 id 1:42 (1180 bytes) invalid: CRC mismatch");
	describe(buf, n + 1,
		 "APPEND term 7 from 1 to 3 id 1:42 (1181 bytes) invalid: bytes after the payload");
	buf[0] = 'G';
	describe(buf, n, "not capnet (1180 bytes)");
	buf[0] = 0xca;
	buf[2] = 9;
	describe(buf, 40, "capnet version 9, not understood (40 bytes)");

	/* A client's request, whole and as a drop event's first 32 bytes. */
	struct client_request *req = request(CLIENT_OP_CAS);
	h = header(PROTO_CLIENT_REQUEST, 0, 2, 0, proto_client_msg_id(req->client_nonce, 7));
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_client_request(&w, req);
	len = proto_msg_end(&w, &h);
	assert_true(len > 0);
	describe(
		buf, (size_t)len,
		"CLIENT_REQUEST from 0 to 2 id deadbeef:7 (65 bytes): cas \"register-17\" \"4\" -> \"5\" quorum");
	describe(buf, 32,
		 "CLIENT_REQUEST from 0 to 2 id deadbeef:7 (65 bytes, payload not captured)");
	describe(
		buf, 60,
		"CLIENT_REQUEST from 0 to 2 id deadbeef:7 (65 bytes, 60 captured): cas \"register-17\" ...");

	req = request(CLIENT_OP_TRANSFER);
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_client_request(&w, req);
	len = proto_msg_end(&w, &h);
	describe(
		buf, (size_t)len,
		"CLIENT_REQUEST from 0 to 2 id deadbeef:7 (66 bytes): transfer \"alice\" -> \"bob\" -5 quorum");
	req = request(CLIENT_OP_PUT);
	req->consistency = CONSISTENCY_DEFAULT;
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_client_request(&w, req);
	len = proto_msg_end(&w, &h);
	describe(
		buf, (size_t)len,
		"CLIENT_REQUEST from 0 to 2 id deadbeef:7 (56 bytes): put \"x\" \"\\x00\\x01\\x02\"");

	struct client_reply *rep = reply();
	h = header(PROTO_CLIENT_REPLY, 2, 0, 5, 12);
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_client_reply(&w, rep);
	len = proto_msg_end(&w, &h);
	describe(
		buf, (size_t)len,
		"CLIENT_REPLY term 5 from 2 to 0 id 2:12 (100 bytes): UNAVAILABLE \"42\" leader 4 amount -9223372036854775808 replicas 2 \"no quorum (2/5 reachable, 3 needed)\"");

	memset(rep, 0, sizeof(*rep));
	rep->status = REPLY_UNAVAILABLE;
	strcpy(rep->reason, "no quorum (2/5 reachable, 3 needed)");
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_client_reply(&w, rep);
	len = proto_msg_end(&w, &h);
	describe(
		buf, (size_t)len,
		"CLIENT_REPLY term 5 from 2 to 0 id 2:12 (98 bytes): UNAVAILABLE \"no quorum (2/5 reachable, 3 needed)\"");

	h = header(PROTO_STATUS_REPLY, 3, 0, 0, 1);
	proto_msg_begin(&w, buf, sizeof(buf));
	proto_put_status_reply(&w, status());
	len = proto_msg_end(&w, &h);
	describe(
		buf, (size_t)len,
		"STATUS_REPLY from 3 to 0 id 3:1 (239 bytes): node 3 cp leader term 7 leader 3 commit 1000 applied 999 reachable 3/5");

	/* A payload that does not parse as its type's. */
	h = header(PROTO_CLIENT_REPLY, 2, 0, 0, 13);
	len = proto_encode(buf, sizeof(buf), &h, "\x01\x02", 2);
	describe(buf, (size_t)len,
		 "CLIENT_REPLY from 2 to 0 id 2:13 (34 bytes) invalid: malformed payload");

	/* Dynamo epochs; a valid header of a type this build does not know. */
	h = header(PROTO_REPLICA_PUT, 4, 5, 3, 99);
	len = proto_encode(buf, sizeof(buf), &h, NULL, 0);
	describe(buf, (size_t)len, "REPLICA_PUT epoch 3 from 4 to 5 id 4:99 (32 bytes)");
	buf[3] = 50;
	reseal(buf, (size_t)len);
	describe(buf, (size_t)len,
		 "type 50 epoch 3 from 4 to 5 id 4:99 (32 bytes) invalid: unknown message type");
}

/* The output is cut to the buffer but always terminated, and the full length is returned. */
static void test_describe_small_buffer(void **state)
{
	char full[256], out[256];
	uint8_t buf[PROTO_MAX_DGRAM];
	size_t n = valid_dgram(buf, 10);
	int want = proto_describe(buf, n, full, sizeof(full));

	(void)state;
	for (size_t cap = 0; cap < sizeof(out); cap++) {
		memset(out, 'Z', sizeof(out));
		assert_int_equal(proto_describe(buf, n, out, cap), want);
		if (cap) {
			assert_int_equal(strlen(out), (size_t)want < cap ? (size_t)want : cap - 1);
			assert_memory_equal(out, full, strlen(out));
		}
		assert_int_equal(out[cap], 'Z');
	}
}

/* Random and mutated datagrams */

static uint8_t rx_buf[PROTO_MAX_DGRAM + 64];

/* What the fuzzer checks too: an accepted datagram and its known payload re-encode to the same
 * bytes, so there is exactly one encoding of every message. */
static int check_datagram(const uint8_t *buf, size_t len)
{
	static union {
		struct client_request req;
		struct client_reply rep;
		struct status_reply st;
	} u;
	uint8_t out[PROTO_MAX_DGRAM];
	struct proto_header h;
	const uint8_t *payload;
	struct proto_writer w;
	char line[160];
	int n, err;

	n = proto_describe(buf, len, line, sizeof(line));
	assert_true(n >= 0);
	assert_true(strlen(line) < sizeof(line));

	err = proto_decode(buf, len, &h, &payload);
	if (err) {
		assert_true(err < 0 && -err <= PROTO_ERR_NODE);
		return err;
	}
	assert_int_equal(proto_encode(out, sizeof(out), &h, payload, h.payload_len), len);
	assert_memory_equal(out, buf, len);

	proto_msg_begin(&w, out, sizeof(out));
	switch (h.type) {
	case PROTO_CLIENT_REQUEST:
		err = proto_decode_client_request(payload, h.payload_len, &u.req);
		if (!err)
			assert_int_equal(proto_put_client_request(&w, &u.req), 0);
		break;
	case PROTO_CLIENT_REPLY:
		err = proto_decode_client_reply(payload, h.payload_len, &u.rep);
		if (!err)
			assert_int_equal(proto_put_client_reply(&w, &u.rep), 0);
		break;
	case PROTO_STATUS_REPLY:
		err = proto_decode_status_reply(payload, h.payload_len, &u.st);
		if (!err)
			assert_int_equal(proto_put_status_reply(&w, &u.st), 0);
		break;
	default:
		return 0;
	}
	if (err) {
		assert_int_equal(err, -PROTO_ERR_PAYLOAD);
		return err;
	}
	assert_int_equal(proto_msg_end(&w, &h), len);
	assert_memory_equal(out, buf, len);
	return 0;
}

static void test_random_datagrams(void **state)
{
	unsigned int accepted = 0;

	(void)state;
	rng_state = test_seed();
	for (int i = 0; i < 100000; i++) {
		size_t len = rng_below(PROTO_MAX_DGRAM + 40);

		rng_fill(rx_buf, len);
		/* Most of the time get past the first checks, to reach the deeper ones. */
		if (len >= PROTO_HDR_LEN && rng_below(4)) {
			put16(rx_buf, PROTO_MAGIC);
			rx_buf[2] = PROTO_VERSION;
			put16(rx_buf + 10, (uint16_t)(len - PROTO_HDR_LEN));
			if (rng_below(2)) {
				/* Plausible fields, so some datagrams are accepted. */
				rx_buf[3] = rng_below(2) ? PROTO_CLIENT_REQUEST + rng_below(2) :
							   (uint8_t)rng_below(100);
				put16(rx_buf + 4, (uint16_t)rng_below(3));
				put16(rx_buf + 6, (uint16_t)rng_below(1002));
				put16(rx_buf + 8, (uint16_t)rng_below(1002));
			}
			if (rng_below(4))
				reseal(rx_buf, len);
		}
		accepted += check_datagram(rx_buf, len) == 0;
	}
	print_message("random: %u of 100000 accepted\n", accepted);
}

static size_t random_valid(uint8_t *buf)
{
	static const uint8_t types[] = { PROTO_CLIENT_REQUEST, PROTO_CLIENT_REPLY,
					 PROTO_STATUS_REPLY, PROTO_APPEND };
	struct proto_header h = header(types[rng_below(4)], (uint16_t)rng_below(1001),
				       (uint16_t)rng_below(1001), rng_next(&rng_state),
				       rng_next(&rng_state));

	if (h.type == PROTO_APPEND) {
		h.from = (uint16_t)(1 + rng_below(1000));
		h.to = (uint16_t)(1 + rng_below(1000));
	}
	struct proto_writer w;
	struct client_request *req;
	struct client_reply *rep;
	int n;

	proto_msg_begin(&w, buf, PROTO_MAX_DGRAM);
	switch (h.type) {
	case PROTO_CLIENT_REQUEST:
		req = request(CLIENT_OP_GET + rng_below(7));
		proto_put_client_request(&w, req);
		break;
	case PROTO_CLIENT_REPLY:
		rep = reply();
		rep->nsiblings = (uint8_t)rng_below(3);
		proto_put_client_reply(&w, rep);
		break;
	case PROTO_STATUS_REPLY:
		proto_put_status_reply(&w, status());
		break;
	default: {
		uint8_t raw[100];

		rng_fill(raw, sizeof(raw));
		proto_put_raw(&w, raw, rng_below(sizeof(raw)));
	}
	}
	n = proto_msg_end(&w, &h);
	assert_true(n >= PROTO_HDR_LEN);
	return (size_t)n;
}

/* CRC32C catches every error burst of up to 32 bits, so changing any one byte of a valid
 * datagram must always be refused; wider mutations must be refused or decode canonically. */
static void test_mutations(void **state)
{
	uint8_t orig[PROTO_MAX_DGRAM];
	unsigned int accepted = 0;

	(void)state;
	rng_state = test_seed() + 1;
	for (int i = 0; i < 100000; i++) {
		size_t len = random_valid(orig), mlen = len;
		size_t pos = rng_below((uint32_t)len);

		memcpy(rx_buf, orig, len);
		assert_int_equal(check_datagram(rx_buf, len), 0);
		switch (rng_below(5)) {
		case 0:
			rx_buf[pos] ^= (uint8_t)(1 + rng_below(255));
			assert_true(check_datagram(rx_buf, len) < 0);
			continue;
		case 1:
			for (int k = 1 + rng_below(8); k > 0; k--)
				rx_buf[rng_below((uint32_t)len)] = (uint8_t)rng_next(&rng_state);
			break;
		case 2:
			mlen = rng_below((uint32_t)len);
			break;
		case 3:
			mlen = len + 1 + rng_below(40);
			rng_fill(rx_buf + len, mlen - len);
			break;
		case 4:
			/* Mutate the payload and fix the CRC: only the payload codec stands guard. */
			if (len > PROTO_HDR_LEN) {
				pos = PROTO_HDR_LEN + rng_below((uint32_t)(len - PROTO_HDR_LEN));
				rx_buf[pos] = (uint8_t)rng_next(&rng_state);
			}
			reseal(rx_buf, len);
			break;
		}
		accepted += check_datagram(rx_buf, mlen) == 0;
	}
	print_message("mutations: %u of 100000 accepted\n", accepted);
}

static int write_seed(const char *dir, const char *kind, int i, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%02d", dir, kind, i);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Starting inputs for tests/fuzz/fuzz_proto: one valid datagram of each shape, and a few bare
 * payloads. */
static int write_corpus(const char *dir)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_writer w;
	int count = 0;

	for (int i = 0; i < 12; i++) {
		struct proto_header h = header(PROTO_CLIENT_REQUEST, 0, 1, 0,
					       proto_client_msg_id(0xdeadbeef, (uint64_t)i));
		int n;

		proto_msg_begin(&w, buf, sizeof(buf));
		if (i < 7) {
			proto_put_client_request(&w, request(CLIENT_OP_GET + i));
		} else if (i < 9) {
			struct client_reply *rep = reply();

			rep->nsiblings = (uint8_t)(i - 7) * 2;
			rep->siblings[0].len = 3;
			h = header(PROTO_CLIENT_REPLY, 1, 0, 2, (uint64_t)i);
			proto_put_client_reply(&w, rep);
		} else if (i == 9) {
			h = header(PROTO_STATUS_REPLY, 1, 0, 2, (uint64_t)i);
			proto_put_status_reply(&w, status());
		} else if (i == 10) {
			h = header(PROTO_APPEND, 1, 2, 3, (uint64_t)i);
			proto_put_raw(&w, "entries", 7);
		} else {
			h = header(PROTO_PONG, 2, 1, 0, (uint64_t)i);
			h.flags = PROTO_FLAG_REPLY;
		}
		n = proto_msg_end(&w, &h);
		if (n < 0) {
			fprintf(stderr, "seed %d: %s\n", i, proto_strerror(n));
			return 1;
		}
		if (write_seed(dir, "seed", i, buf, (size_t)n))
			return 1;
		count++;
		/* The harness also reads its input as a bare payload of each type. */
		if (i == 2 || i == 4 || i == 8 || i == 9) {
			if (write_seed(dir, "payload", i, buf + PROTO_HDR_LEN,
				       (size_t)n - PROTO_HDR_LEN))
				return 1;
			count++;
		}
	}
	printf("%d inputs written to %s\n", count, dir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_paths_agree),
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_header_every_type),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_length_boundaries),
		cmocka_unit_test(test_encode_refuses_bad_headers),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_writer_sticky_overflow),
		cmocka_unit_test(test_reader_sticky_error),
		cmocka_unit_test(test_reader_strings),
		cmocka_unit_test(test_client_request_roundtrip),
		cmocka_unit_test(test_client_request_encode_refuses),
		cmocka_unit_test(test_client_request_decode_refuses),
		cmocka_unit_test(test_client_reply_roundtrip),
		cmocka_unit_test(test_client_reply_refuses),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_status_roundtrip),
		cmocka_unit_test(test_status_refuses),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_describe_small_buffer),
		cmocka_unit_test(test_random_datagrams),
		cmocka_unit_test(test_mutations),
	};

	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
