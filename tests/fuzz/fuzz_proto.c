// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: node/proto.c node/crc32c.c
/* libFuzzer harness for the wire protocol. Every input is tried as a datagram (decode and
 * describe) and, since a fuzzer rarely forges a valid CRC, also directly as each payload type.
 * Whatever is accepted must re-encode to the same bytes: one message, one encoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/proto.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static union {
	struct client_request req;
	struct client_reply rep;
	struct status_reply st;
} msg;

static uint8_t out[PROTO_MAX_DGRAM];

/* Decodes p as a payload of the given type; if accepted, the re-encoded payload must equal p. */
static void check_payload(unsigned int type, const uint8_t *p, size_t n)
{
	struct proto_writer w;
	int err;

	proto_writer_init(&w, out, sizeof(out));
	switch (type) {
	case PROTO_CLIENT_REQUEST:
		err = proto_decode_client_request(p, n, &msg.req);
		if (!err)
			CHECK(proto_put_client_request(&w, &msg.req) == 0);
		break;
	case PROTO_CLIENT_REPLY:
		err = proto_decode_client_reply(p, n, &msg.rep);
		if (!err)
			CHECK(proto_put_client_reply(&w, &msg.rep) == 0);
		break;
	case PROTO_STATUS_REPLY:
		err = proto_decode_status_reply(p, n, &msg.st);
		if (!err)
			CHECK(proto_put_status_reply(&w, &msg.st) == 0);
		break;
	default:
		return;
	}
	CHECK(err == 0 || err == -PROTO_ERR_PAYLOAD);
	if (!err)
		CHECK(w.len == n && (n == 0 || memcmp(out, p, n) == 0));
}

static void check_describe(const uint8_t *data, size_t size)
{
	char line[512], small[24];
	int n = proto_describe(data, size, line, sizeof(line));
	int m = proto_describe(data, size, small, sizeof(small));

	CHECK(n >= 0 && n == m);
	CHECK(strlen(line) == ((size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1));
	CHECK(strncmp(line, small, sizeof(small) - 1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_header h;
	const uint8_t *payload;
	int err;

	check_describe(data, size);
	/* A drop event carries only the first 32 bytes. */
	if (size > PROTO_HDR_LEN)
		check_describe(data, PROTO_HDR_LEN);

	err = proto_decode(data, size, &h, &payload);
	CHECK(err <= 0 && -err <= PROTO_ERR_NODE);
	if (!err) {
		/* The bytes before the tag round-trip; the tag itself needs the key to remake. */
		size_t body = size - (h.flags & PROTO_FLAG_AUTH ? PROTO_TAG_LEN : 0);
		uint16_t flags = h.flags;

		h.flags &= (uint16_t)~PROTO_FLAG_AUTH;
		CHECK(proto_encode(out, sizeof(out), &h, payload, h.payload_len) == (int)body);
		if (flags != h.flags)
			proto_header_reseal(out, flags);
		CHECK(memcmp(out, data, body) == 0);
		check_payload(h.type, payload, h.payload_len);
	}

	if (size <= PROTO_MAX_PAYLOAD) {
		check_payload(PROTO_CLIENT_REQUEST, data, size);
		check_payload(PROTO_CLIENT_REPLY, data, size);
		check_payload(PROTO_STATUS_REPLY, data, size);
	}
	return 0;
}
