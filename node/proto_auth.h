/* SPDX-License-Identifier: GPL-2.0-only */
/* Datagram authentication: a per-cluster key, and a MAC over header and payload carried as a
 * trailer, so a process that can reach a node's port but does not hold the key can neither
 * write nor depose a leader. The header stays readable (captrace and the dissector decode it
 * without the key). The MAC is libsodium's crypto_auth (HMAC-SHA-512-256) cut to 128 bits. */
#ifndef CAPNET_PROTO_AUTH_H
#define CAPNET_PROTO_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "node/proto.h"

#define PROTO_KEY_LEN 32
/* The key's text form: 64 lower-case hex digits, then a newline. */
#define PROTO_KEY_TEXT_LEN (2 * PROTO_KEY_LEN + 1)

struct proto_key {
	uint8_t bytes[PROTO_KEY_LEN];
	/* HMAC's keyed inner and outer hash states, computed once (proto_key_prepare): half the
	 * hashing of every tag. A key with only bytes set gets the same tags, computed whole. */
	bool prepared;
	crypto_auth_hmacsha512256_state keyed;
};

/* Precomputes the keyed state from bytes (again after bytes change); parse and generate do it. */
void proto_key_prepare(struct proto_key *key);

/* A fresh random key from the system's generator. 0, or -EIO if libsodium cannot start. */
int proto_key_generate(struct proto_key *key);
/* 64 hex digits, a trailing newline allowed, nothing else. 0 or -EINVAL. */
int proto_key_parse(const char *text, size_t len, struct proto_key *key);
/* Writes PROTO_KEY_TEXT_LEN characters and a NUL. */
void proto_key_format(const struct proto_key *key, char out[PROTO_KEY_TEXT_LEN + 1]);

/*
 * Turns a datagram made by proto_encode() or proto_msg_end() (len bytes, not yet sealed) into an
 * authenticated one in place: sets PROTO_FLAG_AUTH, renews the CRC and appends the tag. Returns
 * the new length, or -PROTO_ERR_NOSPACE (cap too small) / -PROTO_ERR_INVAL (not such a datagram).
 */
int proto_auth_seal(uint8_t *buf, size_t len, size_t cap, const struct proto_key *key);
/* For a datagram proto_decode() accepted: 0 when it carries a tag made with key, else
 * -PROTO_ERR_AUTH. Constant time in the tag. */
int proto_auth_check(const uint8_t *buf, size_t len, const struct proto_key *key);

#endif /* CAPNET_PROTO_AUTH_H */
