// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of datagram authentication: sealing and checking, that no bit of a sealed datagram
 * can change unnoticed, that the tag is the documented HMAC-SHA-512-256 prefix, keys in text,
 * and the key file's refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "lib/report.h"
#include "node/crc32c.h"
#include "node/key_file.h"
#include "node/proto.h"
#include "node/proto_auth.h"

/* A key from its bytes, prepared (odd seeds) or not (even): both must give the same tags. */
static struct proto_key key_of(uint8_t seed)
{
	struct proto_key k = { 0 };

	for (size_t i = 0; i < sizeof(k.bytes); i++)
		k.bytes[i] = (uint8_t)(seed + i * 13);
	if (seed % 2)
		proto_key_prepare(&k);
	return k;
}

/* An APPEND from 1 to 3 with n payload bytes, unsealed. */
static int make_dgram(uint8_t *buf, size_t cap, size_t n)
{
	struct proto_header h = { .type = PROTO_APPEND, .from = 1, .to = 3, .term = 7, .msg_id = 9 };
	uint8_t payload[PROTO_MAX_PAYLOAD];

	for (size_t i = 0; i < n; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	return proto_encode(buf, cap, &h, payload, n);
}

/* What a forger without the key can do: any change, with the CRC made right again. */
static void forge_crc(uint8_t *buf, size_t len)
{
	uint32_t crc;

	memset(buf + PROTO_OFF_CRC, 0, 4);
	crc = crc32c(0, buf, len - PROTO_TAG_LEN);
	buf[28] = crc >> 24;
	buf[29] = crc >> 16;
	buf[30] = crc >> 8;
	buf[31] = crc;
}

static void test_seal_and_check(void **state)
{
	static const size_t sizes[] = { 0, 1, 40, PROTO_MAX_PAYLOAD };
	struct proto_key key = key_of(1), other = key_of(2);
	uint8_t buf[PROTO_MAX_DGRAM], plain[PROTO_MAX_DGRAM];
	struct proto_header h;
	const uint8_t *payload;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int n = make_dgram(buf, sizeof(buf), sizes[i]), sealed;

		assert_int_equal(n, PROTO_HDR_LEN + sizes[i]);
		memcpy(plain, buf, n);
		assert_int_equal(proto_auth_check(buf, n, &key), -PROTO_ERR_AUTH);
		sealed = proto_auth_seal(buf, n, sizeof(buf), &key);
		assert_int_equal(sealed, n + PROTO_TAG_LEN);
		/* A maximal payload, sealed, is exactly the largest datagram. */
		if (sizes[i] == PROTO_MAX_PAYLOAD)
			assert_int_equal(sealed, PROTO_MAX_DGRAM);
		assert_int_equal(proto_decode(buf, sealed, &h, &payload), 0);
		assert_true(h.flags & PROTO_FLAG_AUTH);
		assert_int_equal(h.payload_len, sizes[i]);
		assert_memory_equal(payload, plain + PROTO_HDR_LEN, sizes[i]);
		/* Only flags and CRC of the header changed: readable without the key. */
		assert_memory_equal(buf, plain, PROTO_OFF_FLAGS);
		assert_memory_equal(buf + PROTO_OFF_FROM, plain + PROTO_OFF_FROM,
				    PROTO_OFF_CRC - PROTO_OFF_FROM);
		assert_int_equal(proto_auth_check(buf, sealed, &key), 0);
		assert_int_equal(proto_auth_check(buf, sealed, &other), -PROTO_ERR_AUTH);
		/* Sealing twice would hide the first tag in the payload: refused. */
		assert_int_equal(proto_auth_seal(buf, sealed, sizeof(buf), &key), -PROTO_ERR_INVAL);
	}
}

static void test_every_bit_flip_is_caught(void **state)
{
	struct proto_key key = key_of(3);
	uint8_t buf[256], bad[256];
	struct proto_header h;
	int n, caught_by_crc = 0, caught_by_mac = 0;

	(void)state;
	n = proto_auth_seal(buf, make_dgram(buf, sizeof(buf), 40), sizeof(buf), &key);
	assert_true(n > 0);
	for (int bit = 0; bit < n * 8; bit++) {
		memcpy(bad, buf, n);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (proto_decode(bad, n, &h, NULL)) {
			caught_by_crc++;
			continue;
		}
		assert_int_equal(proto_auth_check(bad, n, &key), -PROTO_ERR_AUTH);
		caught_by_mac++;
	}
	/* The tag's own bits pass the CRC, which does not cover them; the MAC catches them. */
	assert_true(caught_by_mac >= PROTO_TAG_LEN * 8);
	assert_int_equal(caught_by_crc + caught_by_mac, n * 8);
}

static void test_forgery_with_right_crc_is_refused(void **state)
{
	struct proto_key key = key_of(4);
	uint8_t buf[256];
	struct proto_header h;
	int n;

	(void)state;
	n = proto_auth_seal(buf, make_dgram(buf, sizeof(buf), 16), sizeof(buf), &key);
	/* The finding this fixes: a datagram claiming to come from the leader, term raised. */
	buf[PROTO_OFF_FROM + 1] = 2;
	buf[PROTO_OFF_TERM + 7] += 100;
	forge_crc(buf, n);
	assert_int_equal(proto_decode(buf, n, &h, NULL), 0);
	assert_int_equal(h.from, 2);
	assert_int_equal(proto_auth_check(buf, n, &key), -PROTO_ERR_AUTH);
	/* Dropping the flag and the tag makes an unauthenticated datagram: refused too. */
	buf[PROTO_OFF_FLAGS + 1] &= (uint8_t)~PROTO_FLAG_AUTH;
	forge_crc(buf, n);
	assert_int_equal(proto_decode(buf, n - PROTO_TAG_LEN, &h, NULL), 0);
	assert_int_equal(proto_auth_check(buf, n - PROTO_TAG_LEN, &key), -PROTO_ERR_AUTH);
}

static void test_seal_refusals(void **state)
{
	struct proto_header h = { .type = PROTO_PING, .from = 1, .to = 2, .flags = PROTO_FLAG_AUTH };
	struct proto_key key = key_of(5);
	uint8_t buf[PROTO_MAX_DGRAM], junk[64] = { 1, 2, 3 };
	struct proto_writer w;
	int n;

	(void)state;
	/* Only sealing sets the flag: an encoder asked for it would send a tag it never made. */
	assert_int_equal(proto_encode(buf, sizeof(buf), &h, NULL, 0), -PROTO_ERR_INVAL);
	proto_msg_begin(&w, buf, sizeof(buf));
	assert_int_equal(proto_msg_end(&w, &h), -PROTO_ERR_INVAL);
	assert_int_equal(proto_auth_seal(junk, sizeof(junk), sizeof(junk), &key), -PROTO_ERR_INVAL);
	n = make_dgram(buf, sizeof(buf), 8);
	assert_int_equal(proto_auth_seal(buf, n, n + PROTO_TAG_LEN - 1, &key), -PROTO_ERR_NOSPACE);
	assert_int_equal(proto_auth_seal(buf, n, n + PROTO_TAG_LEN, &key), n + PROTO_TAG_LEN);
	/* The payload limit is what it was before tags: a writer never fills past it. */
	proto_msg_begin(&w, buf, sizeof(buf));
	assert_int_equal(w.cap, PROTO_MAX_PAYLOAD);
	assert_int_equal(PROTO_MAX_PAYLOAD, 1368);
}

/* The tag is HMAC-SHA-512-256 (HMAC-SHA-512 cut to 32 bytes) cut to 16: what docs/protocol.md
 * tells another implementation, checked against libsodium's plain HMAC-SHA-512. */
static void test_tag_is_documented_hmac(void **state)
{
	uint8_t buf[256], copy[256], mac[crypto_auth_hmacsha512_BYTES];
	int n, plain;

	(void)state;
	for (uint8_t seed = 6; seed <= 7; seed++) {
		struct proto_key key = key_of(seed), other = key;

		plain = make_dgram(buf, sizeof(buf), 24);
		memcpy(copy, buf, plain);
		n = proto_auth_seal(buf, plain, sizeof(buf), &key);
		assert_true(n > 0);
		crypto_auth_hmacsha512(mac, buf, n - PROTO_TAG_LEN, key.bytes);
		assert_memory_equal(buf + n - PROTO_TAG_LEN, mac, PROTO_TAG_LEN);
		/* Prepared or not, the same key makes the same tag and accepts the other's. */
		if (other.prepared)
			other.prepared = false;
		else
			proto_key_prepare(&other);
		assert_int_equal(proto_auth_check(buf, n, &other), 0);
		assert_int_equal(proto_auth_seal(copy, plain, sizeof(copy), &other), n);
		assert_memory_equal(copy, buf, n);
	}
}

static void test_key_text(void **state)
{
	char text[PROTO_KEY_TEXT_LEN + 1], upper[PROTO_KEY_TEXT_LEN + 1];
	struct proto_key key = key_of(7), back, fresh, fresh2;

	(void)state;
	proto_key_format(&key, text);
	assert_int_equal(strlen(text), 65);
	assert_int_equal(text[64], '\n');
	assert_int_equal(proto_key_parse(text, 65, &back), 0);
	assert_memory_equal(back.bytes, key.bytes, PROTO_KEY_LEN);
	assert_int_equal(proto_key_parse(text, 64, &back), 0);
	for (size_t i = 0; i <= sizeof(upper) - 1; i++)
		upper[i] = (char)(text[i] >= 'a' && text[i] <= 'f' ? text[i] - 32 : text[i]);
	assert_int_equal(proto_key_parse(upper, 65, &back), 0);
	assert_memory_equal(back.bytes, key.bytes, PROTO_KEY_LEN);

	assert_int_equal(proto_key_parse(text, 63, &back), -EINVAL);
	assert_int_equal(proto_key_parse("", 0, &back), -EINVAL);
	text[64] = ' ';
	assert_int_equal(proto_key_parse(text, 65, &back), -EINVAL);
	text[64] = '\n';
	text[10] = 'g';
	assert_int_equal(proto_key_parse(text, 65, &back), -EINVAL);

	assert_int_equal(proto_key_generate(&fresh), 0);
	assert_int_equal(proto_key_generate(&fresh2), 0);
	assert_memory_not_equal(fresh.bytes, fresh2.bytes, PROTO_KEY_LEN);
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/capnet-key-XXXXXX", path[128], link_path[128];
	struct proto_key made, again, read_back;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	snprintf(link_path, sizeof(link_path), "%s/link", dir);

	assert_int_equal(key_file_read(path, &read_back), -ENOENT);
	error_clear();
	assert_int_equal(key_file_ensure(path, &made), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, PROTO_KEY_TEXT_LEN);
	/* A second start gets the first start's key. */
	assert_int_equal(key_file_ensure(path, &again), 0);
	assert_memory_equal(made.bytes, again.bytes, PROTO_KEY_LEN);
	assert_int_equal(key_file_read(path, &read_back), 0);
	assert_memory_equal(made.bytes, read_back.bytes, PROTO_KEY_LEN);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(key_file_read(path, &read_back), -EPERM);
	assert_non_null(strstr(error_message(), "chmod 600"));
	error_clear();
	assert_int_equal(chmod(path, 0600), 0);

	assert_int_equal(symlink(path, link_path), 0);
	assert_true(key_file_read(link_path, &read_back) < 0);
	error_clear();

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(key_file_read(path, &read_back), -EINVAL);
	assert_non_null(strstr(error_message(), "not a key"));
	error_clear();
	/* An empty file (a wiped key) is not a key either, and ensure does not replace it. */
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(key_file_ensure(path, &again), -EINVAL);
	error_clear();

	unlink(link_path);
	unlink(path);
	rmdir(dir);
}

/* A host of a lab across hosts is given its cluster's key: installed once, the same key again
 * is no change, another key is refused and the file keeps the first. */
static void test_key_file_install(void **state)
{
	char dir[] = "/tmp/capnet-key-XXXXXX", path[128];
	struct proto_key given, other, read_back;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	assert_int_equal(proto_key_generate(&given), 0);
	assert_int_equal(proto_key_generate(&other), 0);
	assert_int_equal(key_file_install(path, &given), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(key_file_install(path, &given), 0);
	assert_int_equal(key_file_install(path, &other), -EEXIST);
	assert_non_null(strstr(error_message(), "holds another key"));
	error_clear();
	assert_int_equal(key_file_read(path, &read_back), 0);
	assert_memory_equal(given.bytes, read_back.bytes, PROTO_KEY_LEN);
	unlink(path);
	rmdir(dir);
}

/* Standard input holding `text`, written in two pieces as ssh may deliver it: the key read from
 * it, or the error. */
static int key_from_stdin(const char *text, struct proto_key *key)
{
	size_t half = strlen(text) / 2;
	int p[2], saved, err;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], text, half), (ssize_t)half);
	assert_int_equal(write(p[1], text + half, strlen(text) - half),
			 (ssize_t)(strlen(text) - half));
	close(p[1]);
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	err = key_file_read_stdin(key);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	return err;
}

/* capctl --key-file -, as the controller of a lab across hosts hands a host the key: the text
 * of proto_key_format on standard input is the key; anything else is refused with a reason. */
static void test_key_from_stdin(void **state)
{
	char text[PROTO_KEY_TEXT_LEN + 1];
	struct proto_key given, read_back;

	(void)state;
	assert_int_equal(proto_key_generate(&given), 0);
	proto_key_format(&given, text);
	assert_int_equal(key_from_stdin(text, &read_back), 0);
	assert_memory_equal(given.bytes, read_back.bytes, PROTO_KEY_LEN);
	assert_int_equal(key_from_stdin("", &read_back), -EINVAL);
	assert_non_null(strstr(error_message(), "no key on standard input"));
	error_clear();
	text[10] = 'z';
	assert_int_equal(key_from_stdin(text, &read_back), -EINVAL);
	error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_and_check),
		cmocka_unit_test(test_every_bit_flip_is_caught),
		cmocka_unit_test(test_forgery_with_right_crc_is_refused),
		cmocka_unit_test(test_seal_refusals),
		cmocka_unit_test(test_tag_is_documented_hmac),
		cmocka_unit_test(test_key_text),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_file_install),
		cmocka_unit_test(test_key_from_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
