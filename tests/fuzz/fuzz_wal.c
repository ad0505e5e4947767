// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: node/wal.c lib/files.c node/proto.c node/crc32c.c
/* libFuzzer harness for WAL recovery: the input becomes one or more segment files fed to the
 * parser wal_open() uses. Since a fuzzer rarely forges CRCs, one mode frames the input's chunks
 * into records with valid checksums, so the log logic behind the framing is explored too.
 * Whatever recovers must be a gap-free log after the snapshot, and cutting the reported torn
 * tail off must leave a log that recovers the same with nothing more to cut. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/crc32c.h"
#include "node/wal.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define MAX_SEGS 8

struct seg {
	uint8_t *buf;
	size_t len, cap;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void seg_add(struct seg *s, uint8_t type, const uint8_t *p, size_t n)
{
	size_t rlen = 16 + n;
	uint8_t *r;

	if (s->cap - s->len < rlen) {
		s->cap = (s->len + rlen) * 2;
		s->buf = realloc(s->buf, s->cap);
		CHECK(s->buf);
	}
	r = s->buf + s->len;
	put32(r, (uint32_t)rlen);
	r[4] = type;
	r[5] = r[6] = r[7] = 0;
	put32(r + 8, crc32c(0, r, 8));
	if (n)
		memcpy(r + 12, p, n);
	put32(r + rlen - 4, crc32c(0, r, rlen - 4));
	s->len += rlen;
}

static void seg_header(struct seg *s, uint64_t seq)
{
	uint8_t p[13] = { 0x43, 0x57, 0x41, 0x4c, 1 };

	for (int i = 0; i < 8; i++)
		p[5 + i] = (uint8_t)(seq >> (56 - 8 * i));
	seg_add(s, 1, p, sizeof(p));
}

/* Chunks: u8 type (0xff starts the next segment), u8 n, n bytes of payload. */
static size_t frame(const uint8_t *data, size_t size, struct seg *segs)
{
	size_t nsegs = 1;

	seg_header(&segs[0], 1);
	while (size >= 2) {
		uint8_t type = data[0];
		size_t n = data[1] < size - 2 ? data[1] : size - 2;

		if (type == 0xff && nsegs < MAX_SEGS) {
			seg_header(&segs[nsegs], nsegs + 1);
			nsegs++;
		} else {
			seg_add(&segs[nsegs - 1], type, data + 2, n);
		}
		data += 2 + n;
		size -= 2 + n;
	}
	return nsegs;
}

/* Replays the segments; returns the error, with *n_entries and *valid_len of the last. */
static int replay(struct seg *segs, size_t nsegs, uint64_t snap_index, uint64_t snap_term,
		  size_t *n_entries, size_t *valid_len)
{
	struct wal_replay *rp = wal_replay_new(snap_index, snap_term);
	struct wal_recovered rec;
	char err[256];
	int ret = 0;

	CHECK(rp);
	for (size_t i = 0; i < nsegs && !ret; i++) {
		ret = wal_replay_segment(rp, i + 1, segs[i].buf, segs[i].len, i + 1 == nsegs,
					 valid_len, err, sizeof(err));
		if (ret)
			CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		else
			CHECK(*valid_len <= segs[i].len &&
			      (i + 1 == nsegs || *valid_len == segs[i].len));
	}
	if (!ret) {
		memset(&rec, 0, sizeof(rec));
		wal_replay_finish(rp, &rec);
		for (size_t i = 0; i < rec.n_entries; i++) {
			CHECK(rec.entries[i].index == snap_index + 1 + i);
			CHECK(!rec.entries[i].len || rec.entries[i].data);
		}
		*n_entries = rec.n_entries;
		wal_recovered_free(&rec);
	}
	wal_replay_free(rp);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg segs[MAX_SEGS] = { 0 };
	size_t nsegs, n1 = 0, n2 = 0, v1 = 0, v2 = 0;
	uint64_t snap_index, snap_term;
	bool framed;

	if (size < 2)
		return 0;
	framed = data[0] & 1;
	snap_term = data[0] >> 4;
	snap_index = data[1] % 16;
	data += 2;
	size -= 2;

	if (framed) {
		nsegs = frame(data, size, segs);
	} else {
		nsegs = 1;
		segs[0].buf = malloc(size ? size : 1);
		CHECK(segs[0].buf);
		if (size)
			memcpy(segs[0].buf, data, size);
		segs[0].len = size;
	}

	if (!replay(segs, nsegs, snap_index, snap_term, &n1, &v1)) {
		segs[nsegs - 1].len = v1;
		CHECK(!replay(segs, nsegs, snap_index, snap_term, &n2, &v2));
		CHECK(n1 == n2 && v2 == v1);
	}
	for (size_t i = 0; i < MAX_SEGS; i++)
		free(segs[i].buf);
	return 0;
}
