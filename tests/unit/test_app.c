// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the CP application: every key-value and bank operation and each error reply,
 * client de-duplication and session eviction, snapshots (round trip, identical bytes on two
 * replicas, corruption refused), and seeded random workloads checked against a simple model. */
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
#include "node/app.h"
#include "node/bank.h"
#include "node/crc32c.h"
#include "node/kv.h"
#include "node/proto.h"

static uint64_t rng_state;

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next(&rng_state) % n);
}

static void test_seed(void)
{
	const char *s = getenv("CAPNET_SEED");

	rng_state = s ? strtoull(s, NULL, 0) : 0x5eed;
	print_message("seed %" PRIu64 " (set CAPNET_SEED to replay)\n", rng_state);
}

/* Requests. */

static struct client_request req_new(uint32_t nonce, uint64_t seq, enum client_op op)
{
	struct client_request r;

	memset(&r, 0, sizeof(r));
	r.client_nonce = nonce;
	r.seq = seq;
	r.op = op;
	return r;
}

static void set_value(struct proto_value *v, const char *s)
{
	v->len = (uint16_t)strlen(s);
	memcpy(v->data, s, v->len);
}

static struct client_request req_get(uint32_t nonce, uint64_t seq, const char *key)
{
	struct client_request r = req_new(nonce, seq, CLIENT_OP_GET);

	snprintf(r.key, sizeof(r.key), "%s", key);
	return r;
}

static struct client_request req_put(uint32_t nonce, uint64_t seq, const char *key,
				     const char *value)
{
	struct client_request r = req_new(nonce, seq, CLIENT_OP_PUT);

	snprintf(r.key, sizeof(r.key), "%s", key);
	set_value(&r.value, value);
	return r;
}

static struct client_request req_cas(uint32_t nonce, uint64_t seq, const char *key,
				     const char *expected, const char *value)
{
	struct client_request r = req_new(nonce, seq, CLIENT_OP_CAS);

	snprintf(r.key, sizeof(r.key), "%s", key);
	set_value(&r.expected, expected);
	set_value(&r.value, value);
	return r;
}

static struct client_request req_open(uint32_t nonce, uint64_t seq, const char *name,
				      int64_t amount)
{
	struct client_request r = req_new(nonce, seq, CLIENT_OP_OPEN);

	snprintf(r.key, sizeof(r.key), "%s", name);
	r.amount = amount;
	return r;
}

static struct client_request req_transfer(uint32_t nonce, uint64_t seq, const char *from,
					  const char *to, int64_t amount)
{
	struct client_request r = req_new(nonce, seq, CLIENT_OP_TRANSFER);

	snprintf(r.from_account, sizeof(r.from_account), "%s", from);
	snprintf(r.to_account, sizeof(r.to_account), "%s", to);
	r.amount = amount;
	return r;
}

static struct client_request req_balance(uint32_t nonce, uint64_t seq, const char *name)
{
	struct client_request r = req_new(nonce, seq, CLIENT_OP_BALANCE);

	snprintf(r.key, sizeof(r.key), "%s", name);
	return r;
}

/* A replica: an app and the index of its last entry. */
struct replica {
	struct app *app;
	uint64_t index;
};

static void replica_open(struct replica *rp, size_t max_sessions)
{
	rp->app = app_open(max_sessions);
	assert_non_null(rp->app);
	rp->index = 0;
}

static int apply(struct replica *rp, const struct client_request *req, struct client_reply *rep)
{
	uint8_t entry[PROTO_MAX_PAYLOAD];
	int len = app_encode_entry(req, entry, sizeof(entry));

	assert_true(len > 0);
	return app_apply(rp->app, ++rp->index, entry, (size_t)len, rep);
}

/* Applies req and checks the reply's status; returns the reply for more checks. */
static struct client_reply *expect(struct replica *rp, struct client_request req,
				   enum reply_status status)
{
	static struct client_reply rep;

	assert_int_equal(apply(rp, &req, &rep), 0);
	if (rep.status != status)
		print_error("op %s: got %s (%s), want %s\n", proto_op_name(req.op),
			    proto_reply_status_name(rep.status), rep.reason,
			    proto_reply_status_name(status));
	assert_int_equal(rep.status, status);
	assert_int_equal(rep.client_nonce, req.client_nonce);
	assert_int_equal(rep.seq, req.seq);
	return &rep;
}

static void assert_value(const struct client_reply *rep, const char *s)
{
	assert_int_equal(rep->value.len, strlen(s));
	assert_memory_equal(rep->value.data, s, rep->value.len);
}

static void snapshot_of(const struct app *app, uint8_t **buf, size_t *len)
{
	assert_int_equal(app_snapshot(app, buf, len), 0);
}

/* Key-value operations. */

static void test_kv_ops(void **state)
{
	struct replica rp;
	struct client_reply *rep;
	uint64_t seq = 0;
	uint32_t c = 0xc1;

	(void)state;
	replica_open(&rp, 0);
	rep = expect(&rp, req_get(c, ++seq, "x"), REPLY_NOT_FOUND);
	assert_int_equal(rep->value.len, 0);
	expect(&rp, req_put(c, ++seq, "x", "1"), REPLY_OK);
	assert_value(expect(&rp, req_get(c, ++seq, "x"), REPLY_OK), "1");

	expect(&rp, req_cas(c, ++seq, "x", "1", "2"), REPLY_OK);
	assert_value(expect(&rp, req_get(c, ++seq, "x"), REPLY_OK), "2");
	/* A mismatch reports the current value and changes nothing. */
	assert_value(expect(&rp, req_cas(c, ++seq, "x", "1", "3"), REPLY_CAS_MISMATCH), "2");
	assert_value(expect(&rp, req_get(c, ++seq, "x"), REPLY_OK), "2");

	/* Absent is not empty: a CAS never creates a key, even expecting "". */
	expect(&rp, req_cas(c, ++seq, "y", "", "1"), REPLY_NOT_FOUND);
	expect(&rp, req_get(c, ++seq, "y"), REPLY_NOT_FOUND);
	expect(&rp, req_put(c, ++seq, "y", ""), REPLY_OK);
	assert_value(expect(&rp, req_get(c, ++seq, "y"), REPLY_OK), "");
	assert_value(expect(&rp, req_cas(c, ++seq, "y", "0", "1"), REPLY_CAS_MISMATCH), "");
	expect(&rp, req_cas(c, ++seq, "y", "", "1"), REPLY_OK);
	assert_value(expect(&rp, req_get(c, ++seq, "y"), REPLY_OK), "1");

	/* Values of every size up to the limit, and keys of the longest size. */
	{
		struct client_request put = req_put(c, ++seq, "", "");
		struct client_request get;

		memset(put.key, 'k', PROTO_KEY_MAX);
		put.key[PROTO_KEY_MAX] = '\0';
		put.value.len = PROTO_VALUE_MAX;
		for (int i = 0; i < PROTO_VALUE_MAX; i++)
			put.value.data[i] = (uint8_t)(i * 13);
		expect(&rp, put, REPLY_OK);
		get = req_get(c, ++seq, put.key);
		rep = expect(&rp, get, REPLY_OK);
		assert_int_equal(rep->value.len, PROTO_VALUE_MAX);
		assert_memory_equal(rep->value.data, put.value.data, PROTO_VALUE_MAX);
	}
	assert_int_equal(kv_count(app_kv(rp.app)), 3);
	assert_int_equal(app_applied(rp.app), rp.index);
	app_close(rp.app);
}

/* The map on its own: many keys, deletion, and the sorted walk. */
static int collect_keys(void *arg, const char *key, const uint8_t *value, size_t len)
{
	char **prev = arg;
	char expect_value[32];

	if (*prev)
		assert_true(strcmp(*prev, key) < 0);
	snprintf(expect_value, sizeof(expect_value), "v%s", key + 1);
	assert_int_equal(len, strlen(expect_value));
	assert_memory_equal(value, expect_value, len);
	*prev = (char *)key;
	return 0;
}

static void test_kv_many_keys(void **state)
{
	enum { N = 100000 };
	struct kv *kv = kv_open();
	char key[32], val[32], *prev = NULL;
	const uint8_t *v;
	size_t len;

	(void)state;
	assert_non_null(kv);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		assert_int_equal(kv_put(kv, key, val, strlen(val)), 0);
	}
	assert_int_equal(kv_count(kv), N);
	for (int i = 0; i < N; i += 7) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		assert_int_equal(kv_get(kv, key, &v, &len), 0);
		assert_int_equal(len, strlen(val));
		assert_memory_equal(v, val, len);
	}
	assert_int_equal(kv_get(kv, "k100000", &v, &len), -ENOENT);
	assert_int_equal(kv_foreach(kv, collect_keys, &prev), 0);
	for (int i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(kv_delete(kv, key), 0);
	}
	assert_int_equal(kv_delete(kv, "k0"), -ENOENT);
	assert_int_equal(kv_count(kv), N / 2);
	assert_int_equal(kv_get(kv, "k2", &v, &len), -ENOENT);
	assert_int_equal(kv_get(kv, "k3", &v, &len), 0);
	assert_int_equal(kv_put(kv, "", "x", 1), -EINVAL);
	assert_int_equal(kv_put(kv, "x", val, PROTO_VALUE_MAX + 1), -EINVAL);
	kv_close(kv);
}

/* Bank operations. */

static void test_bank_ops(void **state)
{
	struct replica rp;
	struct client_reply *rep;
	uint64_t seq = 0;
	uint32_t c = 0xb1;

	(void)state;
	replica_open(&rp, 0);
	rep = expect(&rp, req_balance(c, ++seq, ""), REPLY_OK);
	assert_int_equal(rep->amount, 0);
	assert_value(rep, "");

	assert_int_equal(expect(&rp, req_open(c, ++seq, "bob", 50), REPLY_OK)->amount, 50);
	expect(&rp, req_open(c, ++seq, "alice", 100), REPLY_OK);
	expect(&rp, req_open(c, ++seq, "zero", 0), REPLY_OK);
	rep = expect(&rp, req_open(c, ++seq, "alice", 5), REPLY_BAD_REQUEST);
	assert_string_equal(rep->reason, "account already exists");
	rep = expect(&rp, req_open(c, ++seq, "carol", -1), REPLY_BAD_REQUEST);
	assert_non_null(strstr(rep->reason, "negative"));
	expect(&rp, req_open(c, ++seq, "a,b", 1), REPLY_BAD_REQUEST);
	expect(&rp, req_open(c, ++seq, "a=b", 1), REPLY_BAD_REQUEST);
	expect(&rp, req_open(c, ++seq, "a b", 1), REPLY_BAD_REQUEST);
	expect(&rp, req_open(c, ++seq, "\x7f", 1), REPLY_BAD_REQUEST);
	rep = expect(&rp, req_open(c, ++seq, "rich", INT64_MAX), REPLY_BAD_REQUEST);
	assert_non_null(strstr(rep->reason, "overflow"));
	expect(&rp, req_balance(c, ++seq, "carol"), REPLY_NOT_FOUND);

	rep = expect(&rp, req_balance(c, ++seq, ""), REPLY_OK);
	assert_value(rep, "alice=100,bob=50,zero=0");
	assert_int_equal(rep->amount, 150);

	assert_int_equal(expect(&rp, req_transfer(c, ++seq, "alice", "bob", 30), REPLY_OK)->amount,
			 30);
	assert_int_equal(expect(&rp, req_balance(c, ++seq, "alice"), REPLY_OK)->amount, 70);
	assert_int_equal(expect(&rp, req_balance(c, ++seq, "bob"), REPLY_OK)->amount, 80);

	rep = expect(&rp, req_transfer(c, ++seq, "alice", "bob", 71), REPLY_INSUFFICIENT_FUNDS);
	assert_int_equal(rep->amount, 70);
	/* Exactly the balance is allowed: down to zero, never below. */
	expect(&rp, req_transfer(c, ++seq, "alice", "zero", 70), REPLY_OK);
	expect(&rp, req_transfer(c, ++seq, "alice", "zero", 1), REPLY_INSUFFICIENT_FUNDS);
	expect(&rp, req_transfer(c, ++seq, "bob", "zero", 0), REPLY_BAD_REQUEST);
	expect(&rp, req_transfer(c, ++seq, "bob", "zero", -5), REPLY_BAD_REQUEST);
	rep = expect(&rp, req_transfer(c, ++seq, "bob", "bob", 5), REPLY_BAD_REQUEST);
	assert_non_null(strstr(rep->reason, "same"));
	rep = expect(&rp, req_transfer(c, ++seq, "dave", "bob", 5), REPLY_NOT_FOUND);
	assert_string_equal(rep->reason, "no such account: from");
	rep = expect(&rp, req_transfer(c, ++seq, "bob", "dave", 5), REPLY_NOT_FOUND);
	assert_string_equal(rep->reason, "no such account: to");

	rep = expect(&rp, req_balance(c, ++seq, ""), REPLY_OK);
	assert_value(rep, "alice=0,bob=80,zero=70");
	assert_int_equal(rep->amount, 150);
	assert_int_equal(bank_total(app_bank(rp.app)), 150);

	/* A key-value op on the bank's names and a bank op on keys do not mix. */
	expect(&rp, req_get(c, ++seq, "alice"), REPLY_NOT_FOUND);
	/* STATUS is a node's business, not the log's. */
	rep = expect(&rp, req_new(c, ++seq, CLIENT_OP_STATUS), REPLY_BAD_REQUEST);
	assert_non_null(strstr(rep->reason, "not a replicated operation"));
	app_close(rp.app);
}

/* A bank too big to list in one reply says so, and still gives the total. */
static void test_bank_listing_too_big(void **state)
{
	struct replica rp;
	struct client_reply *rep;
	char name[PROTO_KEY_MAX + 1];
	uint64_t seq = 0;
	int64_t total = 0;

	(void)state;
	replica_open(&rp, 0);
	for (int i = 0; i < 20; i++) {
		memset(name, 'a' + i, 60);
		name[60] = '\0';
		expect(&rp, req_open(1, ++seq, name, i), REPLY_OK);
		total += i;
	}
	rep = expect(&rp, req_balance(1, ++seq, ""), REPLY_ERROR);
	assert_int_equal(rep->amount, total);
	assert_int_equal(rep->value.len, 0);
	assert_non_null(strstr(rep->reason, "20 accounts"));
	app_close(rp.app);
}

/* De-duplication. */

static void test_dedup(void **state)
{
	struct replica rp;
	struct client_reply first, again;
	struct client_request t = req_transfer(7, 2, "a", "b", 10);
	uint8_t *s1, *s2;
	size_t l1, l2;

	(void)state;
	replica_open(&rp, 0);
	expect(&rp, req_open(1, 1, "a", 100), REPLY_OK);
	expect(&rp, req_open(1, 2, "b", 0), REPLY_OK);
	expect(&rp, req_put(7, 1, "x", "old"), REPLY_OK);

	assert_int_equal(apply(&rp, &t, &first), 0);
	assert_int_equal(first.status, REPLY_OK);
	/* The retry gets the original reply and moves no money. */
	assert_int_equal(apply(&rp, &t, &again), 0);
	assert_memory_equal(&first, &again, sizeof(first));
	assert_int_equal(expect(&rp, req_balance(1, 3, "a"), REPLY_OK)->amount, 90);

	/* Also when the retry looks different: the pair (nonce, seq) names the request. */
	{
		struct client_request other = req_transfer(7, 2, "a", "b", 50);

		assert_int_equal(apply(&rp, &other, &again), 0);
		assert_memory_equal(&first, &again, sizeof(first));
		assert_int_equal(expect(&rp, req_balance(1, 4, "a"), REPLY_OK)->amount, 90);
	}

	/* A stored reply with a value: a CAS mismatch is answered the same way again. */
	{
		struct client_request cas = req_cas(7, 3, "x", "nope", "new");

		assert_int_equal(apply(&rp, &cas, &first), 0);
		assert_int_equal(first.status, REPLY_CAS_MISMATCH);
		assert_value(&first, "old");
		expect(&rp, req_put(1, 5, "x", "changed"), REPLY_OK);
		assert_int_equal(apply(&rp, &cas, &again), 0);
		assert_memory_equal(&first, &again, sizeof(first));
	}

	/* An older seq than the last applied one: the client has moved on. */
	expect(&rp, req_put(7, 1, "x", "older"), REPLY_ERROR);
	assert_value(expect(&rp, req_get(1, 6, "x"), REPLY_OK), "changed");
	/* Its next request is applied as usual. */
	expect(&rp, req_put(7, 4, "x", "newer"), REPLY_OK);
	assert_value(expect(&rp, req_get(1, 7, "x"), REPLY_OK), "newer");

	/* A replay of an index already applied changes nothing. */
	snapshot_of(rp.app, &s1, &l1);
	{
		uint8_t entry[PROTO_MAX_PAYLOAD];
		struct client_request p = req_put(9, 1, "x", "replayed");
		int len = app_encode_entry(&p, entry, sizeof(entry));

		assert_int_equal(app_apply(rp.app, rp.index, entry, (size_t)len, &again),
				 -EALREADY);
	}
	snapshot_of(rp.app, &s2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	free(s1);
	free(s2);
	app_close(rp.app);
}

static void test_session_eviction(void **state)
{
	struct replica rp;
	struct client_request p = req_put(1, 1, "k", "v1");
	struct client_reply rep;

	(void)state;
	replica_open(&rp, 3);
	expect(&rp, p, REPLY_OK);
	expect(&rp, req_put(2, 1, "k", "v2"), REPLY_OK);
	expect(&rp, req_put(3, 1, "k", "v3"), REPLY_OK);
	assert_int_equal(app_session_count(rp.app), 3);
	/* Client 1 retries: this refreshes it, so client 2 is now the oldest. */
	assert_int_equal(apply(&rp, &p, &rep), 0);
	assert_value(expect(&rp, req_get(4, 1, "k"), REPLY_OK), "v3");
	assert_int_equal(app_session_count(rp.app), 3);
	/* Client 4 evicted client 2: its retry is applied again (the documented limit). */
	expect(&rp, req_put(2, 1, "k", "v2"), REPLY_OK);
	assert_value(expect(&rp, req_get(5, 1, "k"), REPLY_OK), "v2");
	/* Client 2 coming back evicted client 3, and client 5 evicted client 1. */
	assert_int_equal(app_session_count(rp.app), 3);
	assert_int_equal(apply(&rp, &p, &rep), 0);
	assert_value(expect(&rp, req_get(6, 1, "k"), REPLY_OK), "v1");
	app_close(rp.app);
}

static void test_bad_entries(void **state)
{
	struct replica rp;
	struct client_reply rep;
	uint8_t junk[] = { 0xff, 0x00, 0x01 };
	struct client_request r;

	(void)state;
	replica_open(&rp, 0);
	assert_int_equal(app_apply(rp.app, 5, junk, sizeof(junk), &rep), -EBADMSG);
	assert_int_equal(rep.status, REPLY_BAD_REQUEST);
	assert_int_equal(app_applied(rp.app), 5);
	assert_int_equal(app_apply(rp.app, 5, junk, sizeof(junk), &rep), -EALREADY);
	assert_int_equal(app_apply(rp.app, 6, NULL, 0, &rep), -EBADMSG);

	/* Encoding refuses what the codec would refuse. */
	r = req_get(1, 1, "");
	assert_int_equal(app_encode_entry(&r, junk, sizeof(junk)), -EINVAL);
	r = req_get(1, 1, "key");
	assert_int_equal(app_encode_entry(&r, junk, sizeof(junk)), -ENOSPC);
	app_close(rp.app);
}

/* Reads change nothing. */
static void test_read(void **state)
{
	struct replica rp;
	struct client_reply rep;
	struct client_request r;
	uint8_t *s1, *s2;
	size_t l1, l2;

	(void)state;
	replica_open(&rp, 0);
	expect(&rp, req_put(1, 1, "x", "1"), REPLY_OK);
	expect(&rp, req_open(1, 2, "a", 10), REPLY_OK);
	snapshot_of(rp.app, &s1, &l1);

	r = req_get(2, 1, "x");
	app_read(rp.app, &r, &rep);
	assert_int_equal(rep.status, REPLY_OK);
	assert_value(&rep, "1");
	assert_int_equal(rep.client_nonce, 2);
	r = req_get(2, 2, "y");
	app_read(rp.app, &r, &rep);
	assert_int_equal(rep.status, REPLY_NOT_FOUND);
	r = req_balance(2, 3, "");
	app_read(rp.app, &r, &rep);
	assert_int_equal(rep.status, REPLY_OK);
	assert_value(&rep, "a=10");
	assert_int_equal(rep.amount, 10);
	r = req_balance(2, 4, "b");
	app_read(rp.app, &r, &rep);
	assert_int_equal(rep.status, REPLY_NOT_FOUND);
	r = req_put(2, 5, "x", "2");
	app_read(rp.app, &r, &rep);
	assert_int_equal(rep.status, REPLY_BAD_REQUEST);

	snapshot_of(rp.app, &s2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	assert_int_equal(app_session_count(rp.app), 1);
	free(s1);
	free(s2);
	app_close(rp.app);
}

/* Snapshots. */

/* A few hundred mixed entries from several clients. */
static void feed(struct replica *rp, uint64_t seed, uint64_t base, int n)
{
	struct client_reply rep;
	char key[16], val[16];
	uint64_t seqs[8];

	rng_state = seed;
	for (int i = 0; i < 8; i++)
		seqs[i] = base;
	for (int i = 0; i < 4 && !base; i++) {
		snprintf(key, sizeof(key), "acct%d", i);
		expect(rp, req_open(100, (uint64_t)i + 1, key, 1000), REPLY_OK);
	}
	for (int i = 0; i < n; i++) {
		uint32_t c = rng_below(8);
		struct client_request r;

		snprintf(key, sizeof(key), "k%u", rng_below(50));
		snprintf(val, sizeof(val), "%u", rng_below(5));
		switch (rng_below(4)) {
		case 0:
			r = req_put(c + 1, ++seqs[c], key, val);
			break;
		case 1:
			r = req_cas(c + 1, ++seqs[c], key, val, "x");
			break;
		case 2:
			snprintf(key, sizeof(key), "acct%u", rng_below(4));
			snprintf(val, sizeof(val), "acct%u", rng_below(4));
			r = req_transfer(c + 1, ++seqs[c], key, val, rng_below(300));
			break;
		default:
			r = req_get(c + 1, ++seqs[c], key);
			break;
		}
		assert_int_equal(apply(rp, &r, &rep), 0);
	}
}

static void test_snapshot_round_trip(void **state)
{
	struct replica a, b, c;
	uint8_t *sa, *sb, *sc;
	size_t la, lb, lc;
	const char *why = "unset";
	struct client_reply ra, rc;

	(void)state;
	replica_open(&a, 0);
	replica_open(&b, 0);
	replica_open(&c, 0);
	feed(&a, 42, 0, 500);
	feed(&b, 42, 0, 500);
	snapshot_of(a.app, &sa, &la);
	snapshot_of(b.app, &sb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);

	/* A third replica restored from the snapshot is the same state. */
	assert_int_equal(app_restore(c.app, sa, la, &why), 0);
	assert_null(why);
	assert_int_equal(app_applied(c.app), app_applied(a.app));
	snapshot_of(c.app, &sc, &lc);
	assert_int_equal(la, lc);
	assert_memory_equal(sa, sc, la);
	assert_int_equal(kv_count(app_kv(c.app)), kv_count(app_kv(a.app)));
	assert_int_equal(bank_total(app_bank(c.app)), 4000);

	/* And it goes on the same way, sessions included. */
	c.index = a.index;
	feed(&a, 43, 1000, 300);
	feed(&c, 43, 1000, 300);
	free(sa);
	free(sc);
	snapshot_of(a.app, &sa, &la);
	snapshot_of(c.app, &sc, &lc);
	assert_int_equal(la, lc);
	assert_memory_equal(sa, sc, la);
	{
		struct client_request r = req_transfer(100, 5, "acct0", "acct1", 1);

		assert_int_equal(apply(&a, &r, &ra), 0);
		assert_int_equal(apply(&c, &r, &rc), 0);
		assert_memory_equal(&ra, &rc, sizeof(ra));
		assert_int_equal(apply(&a, &r, &ra), 0);
		assert_int_equal(apply(&c, &r, &rc), 0);
		assert_memory_equal(&ra, &rc, sizeof(ra));
	}

	/* Restoring replaces the state: b goes back to a's earlier state. */
	assert_int_equal(app_restore(b.app, sa, la, NULL), 0);
	free(sb);
	snapshot_of(b.app, &sb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);

	free(sa);
	free(sb);
	free(sc);
	app_close(a.app);
	app_close(b.app);
	app_close(c.app);
}

/* Replicas that built the same map in different orders still write the same bytes. */
static void test_snapshot_order_independent(void **state)
{
	struct replica a, b;
	uint8_t *sa, *sb;
	size_t la, lb;
	char key[16];

	(void)state;
	replica_open(&a, 0);
	replica_open(&b, 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		expect(&a, req_put(1, (uint64_t)i + 1, key, "v"), REPLY_OK);
		snprintf(key, sizeof(key), "k%d", 999 - i);
		expect(&b, req_put(1, (uint64_t)i + 1, key, "v"), REPLY_OK);
	}
	snapshot_of(a.app, &sa, &la);
	snapshot_of(b.app, &sb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);
	free(sa);
	free(sb);
	app_close(a.app);
	app_close(b.app);
}

static void reseal(uint8_t *buf, size_t len)
{
	uint32_t crc = crc32c_sw(0, buf, len - 4);

	buf[len - 4] = crc >> 24;
	buf[len - 3] = crc >> 16;
	buf[len - 2] = crc >> 8;
	buf[len - 1] = crc;
}

static void test_snapshot_corrupt(void **state)
{
	struct replica rp;
	struct app *victim;
	uint8_t *snap, *again, *good;
	size_t len, alen, glen;
	const char *why;

	(void)state;
	replica_open(&rp, 0);
	expect(&rp, req_put(1, 1, "k", "v"), REPLY_OK);
	expect(&rp, req_open(1, 2, "a", 5), REPLY_OK);
	expect(&rp, req_open(2, 1, "b", 7), REPLY_OK);
	snapshot_of(rp.app, &snap, &len);
	victim = app_open(0);
	assert_non_null(victim);
	snapshot_of(victim, &good, &glen);

	/* Every flipped byte: refused (and the state untouched), or the same state. */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int err;

			snap[i] ^= (uint8_t)(1u << bit);
			why = NULL;
			err = app_restore(victim, snap, len, &why);
			snap[i] ^= (uint8_t)(1u << bit);
			if (err) {
				assert_true(err == -EBADMSG || err == -EPROTONOSUPPORT);
				assert_non_null(why);
				snapshot_of(victim, &again, &alen);
				assert_int_equal(alen, glen);
				assert_memory_equal(again, good, glen);
				free(again);
				continue;
			}
			snapshot_of(victim, &again, &alen);
			assert_int_equal(alen, len);
			assert_memory_equal(again, snap, len);
			free(again);
		}
	}
	/* Every truncation. */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(app_restore(victim, snap, n, &why), -EBADMSG);
	assert_int_equal(app_restore(victim, snap, len, &why), 0);

	/* With a valid checksum, the content is still checked: a negative balance. */
	{
		uint8_t *bad = malloc(len);
		size_t off;

		assert_non_null(bad);
		memcpy(bad, snap, len);
		/* Account "a" balance 5: find str "a" followed by i64 5. */
		for (off = 0; off + 11 <= len; off++)
			if (!memcmp(bad + off,
				    "\x00\x01"
				    "a\x00\x00\x00\x00\x00\x00\x00\x05",
				    11))
				break;
		assert_true(off + 11 <= len);
		memset(bad + off + 3, 0xff, 8);
		reseal(bad, len);
		assert_int_equal(app_restore(victim, bad, len, &why), -EBADMSG);
		assert_non_null(strstr(why, "negative"));

		/* Another version. */
		memcpy(bad, snap, len);
		bad[4] = APP_SNAPSHOT_VERSION + 1;
		reseal(bad, len);
		assert_int_equal(app_restore(victim, bad, len, &why), -EPROTONOSUPPORT);
		free(bad);
	}
	free(snap);
	free(good);
	app_close(victim);
	app_close(rp.app);
}

/* Random workload against a model. */

#define M_KEYS 64
#define M_ACCTS 8
#define M_CLIENTS 16

struct model_value {
	bool present;
	uint16_t len;
	char data[8];
};

struct model {
	struct model_value kv[M_KEYS];
	bool open[M_ACCTS];
	int64_t balance[M_ACCTS];
};

struct model_client {
	uint32_t nonce;
	uint64_t seq;
	struct client_request last;
	struct client_reply last_reply;
};

static void model_reply(struct client_reply *want, enum reply_status status, int64_t amount,
			const void *value, size_t len)
{
	want->status = status;
	want->amount = amount;
	want->value.len = (uint16_t)len;
	if (len)
		memcpy(want->value.data, value, len);
}

/* What the model answers; changes the model as the app should change. */
static void model_apply(struct model *m, const struct client_request *r, struct client_reply *want)
{
	int k = -1, f = -1, t = -1;

	memset(want, 0, sizeof(*want));
	if (r->key[0] == 'k')
		k = atoi(r->key + 1);
	else if (r->key[0] == 'a')
		k = atoi(r->key + 1);
	if (r->from_account[0])
		f = atoi(r->from_account + 1);
	if (r->to_account[0])
		t = atoi(r->to_account + 1);

	switch (r->op) {
	case CLIENT_OP_GET:
		if (!m->kv[k].present)
			model_reply(want, REPLY_NOT_FOUND, 0, NULL, 0);
		else
			model_reply(want, REPLY_OK, 0, m->kv[k].data, m->kv[k].len);
		break;
	case CLIENT_OP_PUT:
		m->kv[k].present = true;
		m->kv[k].len = r->value.len;
		memcpy(m->kv[k].data, r->value.data, r->value.len);
		model_reply(want, REPLY_OK, 0, NULL, 0);
		break;
	case CLIENT_OP_CAS:
		if (!m->kv[k].present) {
			model_reply(want, REPLY_NOT_FOUND, 0, NULL, 0);
		} else if (m->kv[k].len != r->expected.len ||
			   memcmp(m->kv[k].data, r->expected.data, r->expected.len)) {
			model_reply(want, REPLY_CAS_MISMATCH, 0, m->kv[k].data, m->kv[k].len);
		} else {
			m->kv[k].len = r->value.len;
			memcpy(m->kv[k].data, r->value.data, r->value.len);
			model_reply(want, REPLY_OK, 0, NULL, 0);
		}
		break;
	case CLIENT_OP_OPEN:
		if (r->amount < 0 || m->open[k]) {
			model_reply(want, REPLY_BAD_REQUEST, 0, NULL, 0);
		} else {
			m->open[k] = true;
			m->balance[k] = r->amount;
			model_reply(want, REPLY_OK, r->amount, NULL, 0);
		}
		break;
	case CLIENT_OP_TRANSFER:
		if (r->amount <= 0 || f == t)
			model_reply(want, REPLY_BAD_REQUEST, 0, NULL, 0);
		else if (!m->open[f] || !m->open[t])
			model_reply(want, REPLY_NOT_FOUND, 0, NULL, 0);
		else if (m->balance[f] < r->amount)
			model_reply(want, REPLY_INSUFFICIENT_FUNDS, m->balance[f], NULL, 0);
		else {
			m->balance[f] -= r->amount;
			m->balance[t] += r->amount;
			model_reply(want, REPLY_OK, r->amount, NULL, 0);
		}
		break;
	case CLIENT_OP_BALANCE:
		if (k >= 0) {
			if (m->open[k])
				model_reply(want, REPLY_OK, m->balance[k], NULL, 0);
			else
				model_reply(want, REPLY_NOT_FOUND, 0, NULL, 0);
		} else {
			char list[PROTO_VALUE_MAX];
			int64_t total = 0;
			size_t n = 0;

			for (int i = 0; i < M_ACCTS; i++) {
				if (!m->open[i])
					continue;
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%sa%d=%" PRId64,
						      n ? "," : "", i, m->balance[i]);
				total += m->balance[i];
			}
			model_reply(want, REPLY_OK, total, list, n);
		}
		break;
	default:
		model_reply(want, REPLY_BAD_REQUEST, 0, NULL, 0);
		break;
	}
}

static struct client_request random_request(uint32_t nonce, uint64_t seq)
{
	char key[16], val[16];
	struct client_request r;

	snprintf(key, sizeof(key), "k%u", rng_below(M_KEYS));
	snprintf(val, sizeof(val), "%u", rng_below(4));
	switch (rng_below(10)) {
	case 0:
	case 1:
		return req_get(nonce, seq, key);
	case 2:
	case 3:
		return req_put(nonce, seq, key, rng_below(8) ? val : "");
	case 4:
	case 5:
		return req_cas(nonce, seq, key, rng_below(8) ? val : "", val);
	case 6:
		snprintf(key, sizeof(key), "a%u", rng_below(M_ACCTS));
		return req_open(nonce, seq, key, (int64_t)rng_below(200) - 10);
	case 7:
	case 8:
		snprintf(key, sizeof(key), "a%u", rng_below(M_ACCTS));
		snprintf(val, sizeof(val), "a%u", rng_below(M_ACCTS));
		return req_transfer(nonce, seq, key, val, (int64_t)rng_below(60) - 5);
	default:
		if (rng_below(3))
			snprintf(key, sizeof(key), "a%u", rng_below(M_ACCTS));
		else
			key[0] = '\0';
		r = req_balance(nonce, seq, key);
		return r;
	}
}

static void assert_reply_matches(const struct client_reply *got, const struct client_reply *want,
				 int op_no)
{
	if (got->status != want->status || got->amount != want->amount ||
	    got->value.len != want->value.len ||
	    memcmp(got->value.data, want->value.data, want->value.len))
		print_error("op %d: got %s amount %" PRId64
			    " value %.*s (%s); want %s amount %" PRId64 " value %.*s\n",
			    op_no, proto_reply_status_name(got->status), got->amount,
			    (int)got->value.len, got->value.data, got->reason,
			    proto_reply_status_name(want->status), want->amount,
			    (int)want->value.len, want->value.data);
	assert_int_equal(got->status, want->status);
	assert_int_equal(got->amount, want->amount);
	assert_int_equal(got->value.len, want->value.len);
	assert_memory_equal(got->value.data, want->value.data, want->value.len);
}

static void test_random_workload(void **state)
{
	enum { OPS = 100000 };
	static struct model_client clients[M_CLIENTS];
	static struct client_reply got, want;
	struct model m;
	struct replica rp;

	(void)state;
	test_seed();
	memset(&m, 0, sizeof(m));
	memset(clients, 0, sizeof(clients));
	for (int i = 0; i < M_CLIENTS; i++)
		clients[i].nonce = (uint32_t)rng_next(&rng_state) | 1;
	replica_open(&rp, 0);

	for (int op = 0; op < OPS; op++) {
		struct model_client *c = &clients[rng_below(M_CLIENTS)];
		uint32_t dice = rng_below(100);

		if (dice < 8 && c->seq) {
			/* A retry: the original reply, nothing applied again. */
			assert_int_equal(apply(&rp, &c->last, &got), 0);
			assert_memory_equal(&got, &c->last_reply, sizeof(got));
		} else if (dice < 10 && c->seq > 1) {
			struct client_request old = random_request(c->nonce, c->seq - 1);

			assert_int_equal(apply(&rp, &old, &got), 0);
			assert_int_equal(got.status, REPLY_ERROR);
		} else if (dice < 20) {
			/* A read served outside the log. */
			struct client_request r = random_request(c->nonce, c->seq + 1);

			if (r.op != CLIENT_OP_GET && r.op != CLIENT_OP_BALANCE)
				continue;
			app_read(rp.app, &r, &got);
			model_apply(&m, &r, &want);
			assert_reply_matches(&got, &want, op);
		} else {
			c->last = random_request(c->nonce, ++c->seq);
			model_apply(&m, &c->last, &want);
			assert_int_equal(apply(&rp, &c->last, &c->last_reply), 0);
			assert_reply_matches(&c->last_reply, &want, op);
		}

		/* Now and then, carry on from a restored snapshot instead. */
		if (op % 20000 == 19999) {
			struct replica next;
			uint8_t *s1, *s2;
			size_t l1, l2;

			replica_open(&next, 0);
			snapshot_of(rp.app, &s1, &l1);
			assert_int_equal(app_restore(next.app, s1, l1, NULL), 0);
			snapshot_of(next.app, &s2, &l2);
			assert_int_equal(l1, l2);
			assert_memory_equal(s1, s2, l1);
			free(s1);
			free(s2);
			next.index = rp.index;
			app_close(rp.app);
			rp = next;
		}
	}
	app_close(rp.app);
}

/* Money is conserved and never negative, retries and all. */
static int64_t sum_balances(const struct bank *bank)
{
	int64_t sum = 0, b;
	char name[16];

	for (int i = 0; i < M_ACCTS; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		assert_int_equal(bank_balance(bank, name, &b), 0);
		assert_true(b >= 0);
		sum += b;
	}
	return sum;
}

static void test_bank_conservation(void **state)
{
	struct replica rp;
	struct client_reply rep;
	int64_t opened = 0;
	uint64_t seq[4] = { 0 };
	int ok = 0, refused = 0;

	(void)state;
	test_seed();
	replica_open(&rp, 0);
	for (int i = 0; i < M_ACCTS; i++) {
		char name[16];
		int64_t amount = rng_below(100);

		snprintf(name, sizeof(name), "a%d", i);
		expect(&rp, req_open(1000, (uint64_t)i + 1, name, amount), REPLY_OK);
		opened += amount;
	}
	for (int i = 0; i < 20000; i++) {
		uint32_t c = rng_below(4);
		char from[16], to[16];
		struct client_request t;

		snprintf(from, sizeof(from), "a%u", rng_below(M_ACCTS));
		snprintf(to, sizeof(to), "a%u", rng_below(M_ACCTS));
		t = req_transfer(c + 1, ++seq[c], from, to, (int64_t)rng_below(80) + 1);
		assert_int_equal(apply(&rp, &t, &rep), 0);
		/* Half the transfers are retried: applied once all the same. */
		if (rng_below(2))
			assert_int_equal(apply(&rp, &t, &rep), 0);
		if (rep.status == REPLY_OK)
			ok++;
		else
			refused++;
		assert_int_equal(sum_balances(app_bank(rp.app)), opened);
		assert_int_equal(bank_total(app_bank(rp.app)), opened);
	}
	/* The workload exercised both outcomes. */
	assert_true(ok > 1000);
	assert_true(refused > 1000);
	app_close(rp.app);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_ops),
		cmocka_unit_test(test_kv_many_keys),
		cmocka_unit_test(test_bank_ops),
		cmocka_unit_test(test_bank_listing_too_big),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_session_eviction),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_order_independent),
		cmocka_unit_test(test_snapshot_corrupt),
		cmocka_unit_test(test_random_workload),
		cmocka_unit_test(test_bank_conservation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
