// SPDX-License-Identifier: GPL-2.0-only
/* Sealing and checking authenticated datagrams with libsodium's crypto_auth. */
#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "node/proto_auth.h"

_Static_assert(PROTO_KEY_LEN == crypto_auth_KEYBYTES, "the key is crypto_auth's");
_Static_assert(PROTO_TAG_LEN <= crypto_auth_BYTES, "the tag is a prefix of crypto_auth's MAC");

static int sodium_ready(void)
{
	/* Idempotent and thread-safe; picks the fastest implementation once. */
	return sodium_init() < 0 ? -EIO : 0;
}

void proto_key_prepare(struct proto_key *key)
{
	crypto_auth_hmacsha512256_init(&key->keyed, key->bytes, sizeof(key->bytes));
	key->prepared = true;
}

int proto_key_generate(struct proto_key *key)
{
	if (sodium_ready())
		return -EIO;
	crypto_auth_keygen(key->bytes);
	proto_key_prepare(key);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int proto_key_parse(const char *text, size_t len, struct proto_key *key)
{
	size_t i;

	if (len == 2 * PROTO_KEY_LEN + 1 && text[len - 1] == '\n')
		len--;
	if (len != 2 * PROTO_KEY_LEN)
		return -EINVAL;
	for (i = 0; i < PROTO_KEY_LEN; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			memset(key, 0, sizeof(*key));
			return -EINVAL;
		}
		key->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	if (sodium_ready())
		return -EIO;
	proto_key_prepare(key);
	return 0;
}

void proto_key_format(const struct proto_key *key, char out[PROTO_KEY_TEXT_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < PROTO_KEY_LEN; i++) {
		out[2 * i] = digits[key->bytes[i] >> 4];
		out[2 * i + 1] = digits[key->bytes[i] & 15];
	}
	out[2 * PROTO_KEY_LEN] = '\n';
	out[PROTO_KEY_TEXT_LEN] = '\0';
}

/* The tag: crypto_auth over every byte before it, cut to PROTO_TAG_LEN. */
static void make_tag(const uint8_t *buf, size_t len, const struct proto_key *key,
		     uint8_t tag[crypto_auth_BYTES])
{
	crypto_auth_hmacsha512256_state st;

	if (!key->prepared) {
		crypto_auth(tag, buf, len, key->bytes);
		return;
	}
	st = key->keyed;
	crypto_auth_hmacsha512256_update(&st, buf, len);
	crypto_auth_hmacsha512256_final(&st, tag);
	sodium_memzero(&st, sizeof(st));
}

int proto_auth_seal(uint8_t *buf, size_t len, size_t cap, const struct proto_key *key)
{
	uint8_t tag[crypto_auth_BYTES];
	struct proto_header hdr;

	if (proto_decode(buf, len, &hdr, NULL) || (hdr.flags & PROTO_FLAG_AUTH))
		return -PROTO_ERR_INVAL;
	if (cap < len + PROTO_TAG_LEN)
		return -PROTO_ERR_NOSPACE;
	proto_header_reseal(buf, hdr.flags | PROTO_FLAG_AUTH);
	make_tag(buf, len, key, tag);
	memcpy(buf + len, tag, PROTO_TAG_LEN);
	sodium_memzero(tag, sizeof(tag));
	return (int)(len + PROTO_TAG_LEN);
}

int proto_auth_check(const uint8_t *buf, size_t len, const struct proto_key *key)
{
	uint8_t tag[crypto_auth_BYTES];
	int same;

	if (len < PROTO_HDR_LEN + PROTO_TAG_LEN ||
	    !((buf[PROTO_OFF_FLAGS] << 8 | buf[PROTO_OFF_FLAGS + 1]) & PROTO_FLAG_AUTH))
		return -PROTO_ERR_AUTH;
	make_tag(buf, len - PROTO_TAG_LEN, key, tag);
	same = sodium_memcmp(tag, buf + len - PROTO_TAG_LEN, PROTO_TAG_LEN) == 0;
	sodium_memzero(tag, sizeof(tag));
	return same ? 0 : -PROTO_ERR_AUTH;
}
