// SPDX-License-Identifier: GPL-2.0-only
/* Raft messages through capnet datagrams: every type round-trips, the largest batches the node
 * sends fit in one datagram, snapshots survive chunking in any order, bad payloads are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/raft_wire.h"

static uint8_t buf[PROTO_MAX_DGRAM];

static void roundtrip(const struct raft_msg *m, struct raft_msg *out, struct raft_entry *entries)
{
	struct proto_header hdr;
	struct raft_wire_chunk chunk;
	const uint8_t *payload;
	int n;

	n = raft_wire_encode(m, 77, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
	assert_int_equal(hdr.msg_id, 77);
	assert_int_equal(
		raft_wire_decode(&hdr, payload, out, entries, RAFT_WIRE_BATCH_ENTRIES, &chunk), 0);
}

static void test_every_type_roundtrips(void **state)
{
	struct raft_entry entries[RAFT_WIRE_BATCH_ENTRIES];
	struct raft_msg m, out;
	uint8_t t;

	(void)state;
	for (t = 1; t < RAFT_MSG_TYPE_MAX; t++) {
		if (t == RAFT_MSG_SNAPSHOT)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = t;
		m.from = 3;
		m.to = 1000;
		m.term = 0x0102030405060708ull;
		m.reject = t % 2;
		m.index = 11 * t;
		m.log_term = 12 * t;
		m.commit = 13 * t;
		m.hint_index = 14 * t;
		m.hint_term = 15 * t;
		m.context = 0xdeadbeef00ull + t;
		roundtrip(&m, &out, entries);
		assert_int_equal(out.type, t);
		assert_int_equal(out.from, 3);
		assert_int_equal(out.to, 1000);
		assert_true(out.term == m.term && out.index == m.index &&
			    out.log_term == m.log_term && out.commit == m.commit &&
			    out.hint_index == m.hint_index && out.hint_term == m.hint_term &&
			    out.context == m.context && out.reject == m.reject);
		assert_int_equal(out.n_entries, 0);
	}
}

static void test_largest_batches_fit(void **state)
{
	struct raft_entry in[RAFT_WIRE_BATCH_ENTRIES], out_entries[RAFT_WIRE_BATCH_ENTRIES];
	static uint8_t data[RAFT_WIRE_ENTRY_MAX];
	struct raft_msg m = { .type = RAFT_MSG_APPEND,
			      .from = 1,
			      .to = 2,
			      .term = 9,
			      .index = 40,
			      .log_term = 8,
			      .commit = 39 };
	struct raft_msg out;
	uint32_t i, per = RAFT_WIRE_BATCH_BYTES / RAFT_WIRE_BATCH_ENTRIES;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	/* A full batch: the most entries and bytes Raft is configured to send at once. */
	for (i = 0; i < RAFT_WIRE_BATCH_ENTRIES; i++)
		in[i] = (struct raft_entry){ .term = 9,
					     .index = 41 + i,
					     .client_id = 0xabc + i,
					     .seq = i + 1,
					     .type = RAFT_ENTRY_NORMAL,
					     .len = per,
					     .data = data + i };
	m.entries = in;
	m.n_entries = RAFT_WIRE_BATCH_ENTRIES;
	roundtrip(&m, &out, out_entries);
	assert_int_equal(out.n_entries, RAFT_WIRE_BATCH_ENTRIES);
	for (i = 0; i < out.n_entries; i++) {
		assert_int_equal(out.entries[i].index, 41 + i);
		assert_int_equal(out.entries[i].client_id, 0xabc + i);
		assert_int_equal(out.entries[i].seq, i + 1);
		assert_int_equal(out.entries[i].len, per);
		assert_memory_equal(out.entries[i].data, data + i, per);
	}
	/* The largest single entry. */
	in[0].len = RAFT_WIRE_ENTRY_MAX;
	in[0].data = data;
	m.n_entries = 1;
	roundtrip(&m, &out, out_entries);
	assert_int_equal(out.entries[0].len, RAFT_WIRE_ENTRY_MAX);
	assert_memory_equal(out.entries[0].data, data, RAFT_WIRE_ENTRY_MAX);
	/* One byte more is refused by the encoder, not sent truncated. */
	in[0].len = RAFT_WIRE_ENTRY_MAX + 1;
	assert_true(raft_wire_encode(&m, 1, buf, sizeof(buf)) < 0);
	/* Entries must follow index without gaps. */
	in[0].len = 10;
	in[0].index = 43;
	assert_true(raft_wire_encode(&m, 1, buf, sizeof(buf)) < 0);
}

static void test_snapshot_chunks_any_order(void **state)
{
	struct raft_wire_assembler a = { 0 };
	struct raft_msg m = { .type = RAFT_MSG_SNAPSHOT,
			      .from = 4,
			      .to = 2,
			      .term = 6,
			      .index = 1000,
			      .log_term = 5 };
	struct raft_wire_chunk chunk;
	struct proto_header hdr;
	struct raft_msg out;
	const uint8_t *payload;
	uint32_t len = 5 * RAFT_WIRE_CHUNK + 123, k, chunks, order[6] = { 3, 0, 5, 0, 1, 4 };
	uint8_t *snap = malloc(len);
	int n, rc = 0;

	(void)state;
	assert_non_null(snap);
	for (k = 0; k < len; k++)
		snap[k] = k * 13 + 1;
	m.snap_data = snap;
	m.snap_len = len;
	chunks = raft_wire_snapshot_chunks(&m);
	assert_int_equal(chunks, 6);
	/* Out of order, with a duplicate, and chunk 2 last. */
	for (k = 0; k < 6; k++) {
		n = raft_wire_encode_snapshot_chunk(&m, order[k], 100 + k, buf, sizeof(buf));
		assert_true(n > 0 && n <= PROTO_MAX_DGRAM);
		assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
		assert_int_equal(raft_wire_decode(&hdr, payload, &out, NULL, 0, &chunk), 1);
		rc = raft_wire_assemble(&a, &chunk, 2, &out);
		assert_int_equal(rc, 0);
	}
	n = raft_wire_encode_snapshot_chunk(&m, 2, 200, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
	assert_int_equal(raft_wire_decode(&hdr, payload, &out, NULL, 0, &chunk), 1);
	assert_int_equal(raft_wire_assemble(&a, &chunk, 2, &out), 1);
	assert_int_equal(out.type, RAFT_MSG_SNAPSHOT);
	assert_int_equal(out.index, 1000);
	assert_int_equal(out.log_term, 5);
	assert_int_equal(out.term, 6);
	assert_int_equal(out.snap_len, len);
	assert_memory_equal(out.snap_data, snap, len);

	/* A newer snapshot's chunk throws away an unfinished older one. */
	raft_wire_assembler_reset(&a);
	n = raft_wire_encode_snapshot_chunk(&m, 0, 300, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
	assert_int_equal(raft_wire_decode(&hdr, payload, &out, NULL, 0, &chunk), 1);
	assert_int_equal(raft_wire_assemble(&a, &chunk, 2, &out), 0);
	m.index = 2000;
	m.snap_len = 10;
	n = raft_wire_encode_snapshot_chunk(&m, 0, 301, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
	assert_int_equal(raft_wire_decode(&hdr, payload, &out, NULL, 0, &chunk), 1);
	assert_int_equal(raft_wire_assemble(&a, &chunk, 2, &out), 1);
	assert_int_equal(out.index, 2000);
	assert_memory_equal(out.snap_data, snap, 10);
	raft_wire_assembler_reset(&a);
	free(snap);
}

static void test_bad_payloads_refused(void **state)
{
	struct raft_entry entries[RAFT_WIRE_BATCH_ENTRIES],
		e = { .term = 1, .index = 1, .len = 3, .data = (const uint8_t *)"abc" };
	struct raft_msg m = {
		.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1, .entries = &e, .n_entries = 1
	};
	struct raft_wire_chunk chunk;
	struct proto_header hdr;
	struct raft_msg out;
	const uint8_t *payload;
	uint8_t copy[PROTO_MAX_DGRAM];
	int n, cut, rc;

	(void)state;
	n = raft_wire_encode(&m, 1, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
	/* More entries than the receiver has room for. */
	assert_true(raft_wire_decode(&hdr, payload, &out, entries, 0, &chunk) < 0);
	/* Every shorter payload (re-sealed so the CRC is right) is refused, never read past. */
	for (cut = 0; cut < hdr.payload_len; cut++) {
		struct proto_header h = hdr;

		memcpy(copy, buf, n);
		rc = proto_encode(copy, sizeof(copy), &h, buf + PROTO_HDR_LEN, cut);
		assert_true(rc > 0);
		assert_int_equal(proto_decode(copy, rc, &h, &payload), 0);
		assert_true(raft_wire_decode(&h, payload, &out, entries, RAFT_WIRE_BATCH_ENTRIES,
					     &chunk) < 0);
	}
	/* Entries on a message type that carries none. */
	m.type = RAFT_MSG_VOTE;
	n = raft_wire_encode(&m, 1, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_decode(buf, n, &hdr, &payload), 0);
	hdr.type = PROTO_APPEND;
	assert_int_equal(
		raft_wire_decode(&hdr, payload, &out, entries, RAFT_WIRE_BATCH_ENTRIES, &chunk), 0);
	/* Not a Raft type at all. */
	hdr.type = PROTO_CLIENT_REQUEST;
	assert_true(raft_wire_decode(&hdr, payload, &out, entries, 1, &chunk) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_roundtrips),
		cmocka_unit_test(test_largest_batches_fit),
		cmocka_unit_test(test_snapshot_chunks_any_order),
		cmocka_unit_test(test_bad_payloads_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
