// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the write-ahead log: what is written comes back after a reopen; a torn last
 * record, cut at every byte or zero-filled, is cut off; corruption before the end is refused
 * with a clear error; truncations, snapshots, compaction and many small segments. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/wal.h"

/* Directories. */

static char *dir_new(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	char *d;

	snprintf(path, sizeof(path), "%s/test_wal.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	d = mkdtemp(path);
	assert_non_null(d);
	return strdup(d);
}

static void dir_remove(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[1024];

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			dir_remove(strdup(path));
		else
			assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static size_t dir_count(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static void seg_path(char *buf, size_t size, const char *dir, uint64_t seq)
{
	snprintf(buf, size, "%s/wal-%016" PRIx64 ".log", dir, seq);
}

static uint8_t *file_read(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void file_write(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Entries: entry i has term 1 + i / 100 and i % 61 bytes derived from i and the term. */

static uint8_t data_store[4096][64];

static struct raft_entry entry(uint64_t index, uint64_t term)
{
	struct raft_entry e = { 0 };
	uint8_t *d = data_store[index % 4096];

	e.index = index;
	e.term = term;
	e.client_id = index * 7 + term;
	e.seq = index * 3;
	e.type = index % 5 == 0 ? RAFT_ENTRY_NOOP : RAFT_ENTRY_NORMAL;
	e.len = (uint32_t)(index % 61);
	for (uint32_t i = 0; i < e.len; i++)
		d[i] = (uint8_t)(index * 31 + term * 17 + i);
	e.data = e.len ? d : NULL;
	return e;
}

static uint64_t term_of(uint64_t index)
{
	return 1 + index / 100;
}

static void append_range(struct wal *w, uint64_t from, uint64_t to, uint64_t term)
{
	for (uint64_t i = from; i <= to; i++) {
		struct raft_entry e = entry(i, term ? term : term_of(i));

		assert_int_equal(wal_append_entries(w, &e, 1), 0);
	}
}

static void assert_entry(const struct raft_entry *got, uint64_t index, uint64_t term)
{
	struct raft_entry want = entry(index, term);

	assert_int_equal(got->index, want.index);
	assert_int_equal(got->term, want.term);
	assert_int_equal(got->client_id, want.client_id);
	assert_int_equal(got->seq, want.seq);
	assert_int_equal(got->type, want.type);
	assert_int_equal(got->len, want.len);
	if (want.len)
		assert_memory_equal(got->data, want.data, want.len);
}

/* Checks that rec holds exactly entries from..to, with the terms of term_of(). */
static void assert_entries(const struct wal_recovered *rec, uint64_t from, uint64_t to)
{
	assert_int_equal(rec->n_entries, to >= from ? to - from + 1 : 0);
	for (uint64_t i = from; i <= to; i++)
		assert_entry(&rec->entries[i - from], i, term_of(i));
}

static struct wal *reopen(const char *dir, const struct wal_options *opt, struct wal_recovered *rec)
{
	struct wal *w;
	int err = wal_open(dir, opt, &w, rec);

	if (err)
		print_error("wal_open: %s\n", rec->error);
	assert_int_equal(err, 0);
	return w;
}

/* Tests. */

static void test_round_trip(void **state)
{
	char *dir = dir_new();
	struct wal_recovered rec;
	struct raft_hard_state hs = { .term = 3, .commit = 150, .vote = 2 };
	struct wal *w;

	(void)state;
	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.n_entries, 0);
	assert_false(rec.has_snapshot);
	assert_int_equal(rec.hs.term, 0);
	wal_recovered_free(&rec);

	append_range(w, 1, 200, 0);
	assert_int_equal(wal_set_hard_state(w, &hs), 0);
	assert_int_equal(wal_sync(w), 0);
	assert_int_equal(wal_close(w), 0);

	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.hs.term, 3);
	assert_int_equal(rec.hs.commit, 150);
	assert_int_equal(rec.hs.vote, 2);
	assert_int_equal(rec.torn_bytes, 0);
	assert_entries(&rec, 1, 200);
	wal_recovered_free(&rec);

	/* Appending after a reopen goes on in the same log; close syncs what is buffered. */
	append_range(w, 201, 250, 0);
	hs.commit = 240;
	assert_int_equal(wal_set_hard_state(w, &hs), 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, NULL, &rec);
	assert_entries(&rec, 1, 250);
	assert_int_equal(rec.hs.commit, 240);
	assert_int_equal(wal_segment_count(w), 1);
	wal_recovered_free(&rec);

	/* One user at a time. */
	{
		struct wal *w2;
		struct wal_recovered rec2;

		assert_int_equal(wal_open(dir, NULL, &w2, &rec2), -EBUSY);
		assert_non_null(strstr(rec2.error, "in use"));
		assert_null(w2);
		wal_recovered_free(&rec2);
	}
	assert_int_equal(wal_close(w), 0);

	/* A data directory that does not exist yet is created; one that cannot be is reported. */
	{
		char sub[1024];
		struct wal *w2;
		struct wal_recovered rec2;

		snprintf(sub, sizeof(sub), "%s/node1", dir);
		w2 = reopen(sub, NULL, &rec2);
		wal_recovered_free(&rec2);
		assert_int_equal(wal_close(w2), 0);
		assert_int_equal(dir_count(sub, "wal-"), 1);
		snprintf(sub, sizeof(sub), "%s/wal-0000000000000001.log/x", dir);
		assert_int_equal(wal_open(sub, NULL, &w2, &rec2), -ENOTDIR);
		assert_non_null(strstr(rec2.error, "mkdir"));
		wal_recovered_free(&rec2);
	}
	dir_remove(dir);
}

/* A log of entries 1..n in dir, closed: its one segment's path and bytes, and where the last
 * record (entry n's) starts. */
static uint8_t *write_entries(const char *dir, uint64_t n, char *path, size_t size, size_t *len,
			      size_t *start)
{
	struct wal_recovered rec;
	struct wal *w = reopen(dir, NULL, &rec);
	uint8_t *seg;

	wal_recovered_free(&rec);
	append_range(w, 1, n, 0);
	assert_int_equal(wal_close(w), 0);
	seg_path(path, size, dir, 1);
	seg = file_read(path, len);
	*start = *len - (16 + 33 + entry(n, 1).len);
	return seg;
}

/* The last record cut at every length, and zero-filled: the prefix before it, exactly. */
static void test_torn_tail(void **state)
{
	char *dir = dir_new(), path[1024];
	struct wal_recovered rec;
	uint8_t *seg;
	size_t len, start;
	struct wal *w;
	const uint64_t n = 40;

	(void)state;
	seg = write_entries(dir, n, path, sizeof(path), &len, &start);

	for (size_t cut = start; cut < len; cut++) {
		file_write(path, seg, cut);
		w = reopen(dir, NULL, &rec);
		assert_entries(&rec, 1, n - 1);
		assert_int_equal(rec.torn_bytes, cut - start);
		wal_recovered_free(&rec);
		/* The cut made room: the log goes on after the good prefix. */
		append_range(w, n, n, 0);
		assert_int_equal(wal_close(w), 0);
		w = reopen(dir, NULL, &rec);
		assert_entries(&rec, 1, n);
		assert_int_equal(rec.torn_bytes, 0);
		wal_recovered_free(&rec);
		assert_int_equal(wal_close(w), 0);
	}

	/* A crash can also leave the file at full length with zeros where data never landed: the
	 * record's checksum, at least, and what came before it from some point on. */
	for (size_t from = start; from <= len - 4; from += 7) {
		uint8_t *z = malloc(len);

		assert_non_null(z);
		memcpy(z, seg, len);
		memset(z + from, 0, len - from);
		file_write(path, z, len);
		free(z);
		w = reopen(dir, NULL, &rec);
		assert_entries(&rec, 1, n - 1);
		wal_recovered_free(&rec);
		assert_int_equal(wal_close(w), 0);
	}
	free(seg);
	dir_remove(dir);
}

/* One flipped bit in the last record, the one most recently synced and maybe acknowledged, is
 * corruption, wherever it is: the log is refused with the segment and the offset, and left as
 * it was, never cut. */
static void test_last_record_bit_flips(void **state)
{
	char *dir = dir_new(), path[1024], where[64];
	struct wal_recovered rec;
	uint8_t *seg;
	size_t len, start;
	struct wal *w;
	const uint64_t n = 12;

	(void)state;
	seg = write_entries(dir, n, path, sizeof(path), &len, &start);
	snprintf(where, sizeof(where), "at offset %zu of segment 1", start);
	for (size_t bit = 0; bit < (len - start) * 8; bit++) {
		struct wal *w2 = NULL;
		uint8_t *back;
		size_t back_len;
		int err;

		seg[start + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		file_write(path, seg, len);
		err = wal_open(dir, NULL, &w2, &rec);
		assert_int_equal(err, -EBADMSG);
		assert_null(w2);
		assert_non_null(strstr(rec.error, where));
		wal_recovered_free(&rec);
		back = file_read(path, &back_len);
		assert_int_equal(back_len, len);
		assert_memory_equal(back, seg, len);
		free(back);
		seg[start + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* Put back, it opens whole: nothing was cut. */
	file_write(path, seg, len);
	w = reopen(dir, NULL, &rec);
	assert_entries(&rec, 1, n);
	assert_int_equal(rec.torn_bytes, 0);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);
	free(seg);
	dir_remove(dir);
}

/* A damaged record with good records after it is corruption, whichever byte it hit. */
static void test_middle_corruption(void **state)
{
	char *dir = dir_new(), path[1024];
	struct wal_recovered rec;
	uint8_t *seg;
	size_t len, start, rlen;
	struct wal *w;

	(void)state;
	w = reopen(dir, NULL, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 30, 0);
	assert_int_equal(wal_close(w), 0);

	seg_path(path, sizeof(path), dir, 1);
	seg = file_read(path, &len);
	/* Entry 20's record: after the segment header (29), the hard state (34), entries 1..19. */
	start = 29 + 34;
	for (uint64_t i = 1; i < 20; i++)
		start += 16 + 33 + entry(i, 1).len;
	rlen = 16 + 33 + entry(20, 1).len;
	for (size_t off = start; off < start + rlen; off++) {
		struct wal *w2 = NULL;
		int err;

		seg[off] ^= 0x40;
		file_write(path, seg, len);
		seg[off] ^= 0x40;
		err = wal_open(dir, NULL, &w2, &rec);
		assert_int_equal(err, -EBADMSG);
		assert_null(w2);
		assert_int_equal(rec.n_entries, 0);
		assert_non_null(strstr(rec.error, "wal-0000000000000001.log"));
		assert_non_null(strstr(rec.error, "offset"));
		wal_recovered_free(&rec);
	}
	/* The refused log was left as it was: repaired, it opens whole. */
	file_write(path, seg, len);
	w = reopen(dir, NULL, &rec);
	assert_entries(&rec, 1, 30);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);
	free(seg);
	dir_remove(dir);
}

static void test_truncation(void **state)
{
	char *dir = dir_new();
	struct wal_recovered rec;
	struct wal *w;

	(void)state;
	w = reopen(dir, NULL, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 10, 1);
	/* Raft overwrote 6.. with entries of term 2. */
	assert_int_equal(wal_truncate(w, 6), 0);
	append_range(w, 6, 8, 2);
	assert_int_equal(wal_truncate(w, 0), -EINVAL);
	assert_int_equal(wal_close(w), 0);

	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.n_entries, 8);
	for (uint64_t i = 1; i <= 8; i++)
		assert_entry(&rec.entries[i - 1], i, i <= 5 ? 1 : 2);
	wal_recovered_free(&rec);

	/* An entry at an index the log holds replaces it and what follows, without a record. */
	append_range(w, 4, 4, 3);
	/* Truncating beyond the end changes nothing. */
	assert_int_equal(wal_truncate(w, 100), 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.n_entries, 4);
	assert_entry(&rec.entries[2], 3, 1);
	assert_entry(&rec.entries[3], 4, 3);
	wal_recovered_free(&rec);

	/* Truncating everything. */
	assert_int_equal(wal_truncate(w, 1), 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.n_entries, 0);
	wal_recovered_free(&rec);

	/* A gap no snapshot covers is corruption. */
	append_range(w, 1, 3, 0);
	append_range(w, 5, 5, 0);
	assert_int_equal(wal_close(w), 0);
	assert_int_equal(wal_open(dir, NULL, &w, &rec), -EBADMSG);
	assert_non_null(strstr(rec.error, "gap"));
	wal_recovered_free(&rec);
	dir_remove(dir);
}

static void test_snapshot_and_compaction(void **state)
{
	const struct wal_options opt = { .segment_size = 4096 };
	char *dir = dir_new(), path[1024];
	uint8_t snap[3000];
	struct wal_recovered rec;
	size_t before;
	struct wal *w;

	(void)state;
	for (size_t i = 0; i < sizeof(snap); i++)
		snap[i] = (uint8_t)(i * 11);
	w = reopen(dir, &opt, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 1000, 0);
	assert_int_equal(wal_sync(w), 0);
	before = wal_segment_count(w);
	assert_true(before > 10);
	assert_int_equal(dir_count(dir, "wal-"), before);

	/* Compaction needs a snapshot that covers it. */
	assert_int_equal(wal_compact(w, 600), -EINVAL);
	assert_int_equal(wal_save_snapshot(w, 600, term_of(600), snap, sizeof(snap)), 0);
	assert_int_equal(wal_compact(w, 700), -EINVAL);
	assert_int_equal(wal_compact(w, 600), 0);
	assert_true(wal_segment_count(w) < before);
	assert_true(wal_segment_count(w) > 1);
	assert_int_equal(dir_count(dir, "wal-"), wal_segment_count(w));
	seg_path(path, sizeof(path), dir, 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(wal_save_snapshot(w, 599, 1, snap, 1), -EINVAL);
	assert_int_equal(wal_close(w), 0);

	w = reopen(dir, &opt, &rec);
	assert_true(rec.has_snapshot);
	assert_int_equal(rec.snapshot.index, 600);
	assert_int_equal(rec.snapshot.term, term_of(600));
	assert_int_equal(rec.snapshot.len, sizeof(snap));
	assert_memory_equal(rec.snapshot.data, snap, sizeof(snap));
	assert_entries(&rec, 601, 1000);
	wal_recovered_free(&rec);

	/* Carry on after the reopen, compact again, everything still adds up. */
	append_range(w, 1001, 1500, 0);
	assert_int_equal(wal_save_snapshot(w, 1400, term_of(1400), snap, 10), 0);
	assert_int_equal(wal_compact(w, 1400), 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, &opt, &rec);
	assert_int_equal(rec.snapshot.index, 1400);
	assert_int_equal(rec.snapshot.len, 10);
	assert_entries(&rec, 1401, 1500);
	assert_int_equal(dir_count(dir, "snapshot"), 1);
	wal_recovered_free(&rec);

	/* Compacting everything keeps the current segment, and an empty snapshot is fine. */
	assert_int_equal(wal_save_snapshot(w, 1500, term_of(1500), NULL, 0), 0);
	assert_int_equal(wal_compact(w, 1500), 0);
	assert_int_equal(wal_segment_count(w), 1);
	append_range(w, 1501, 1502, 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, &opt, &rec);
	assert_int_equal(rec.snapshot.len, 0);
	assert_entries(&rec, 1501, 1502);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);
	dir_remove(dir);
}

/* A snapshot installed from the leader replaces a log that disagrees with it. */
static void test_snapshot_conflict(void **state)
{
	char *dir = dir_new();
	struct wal_recovered rec;
	struct wal *w;

	(void)state;
	w = reopen(dir, NULL, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 10, 1);
	/* Same term at 8: entries 9 and 10 follow it and stay. */
	assert_int_equal(wal_save_snapshot(w, 8, 1, "s", 1), 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.n_entries, 2);
	assert_entry(&rec.entries[0], 9, 1);
	wal_recovered_free(&rec);

	/* Another term at 9: the log after it belonged to a replaced history. */
	assert_int_equal(wal_save_snapshot(w, 9, 2, "t", 1), 0);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.snapshot.index, 9);
	assert_int_equal(rec.n_entries, 0);
	wal_recovered_free(&rec);

	/* After a snapshot beyond the log's end, the log goes on from the snapshot. */
	assert_int_equal(wal_save_snapshot(w, 50, 4, "u", 1), 0);
	append_range(w, 51, 52, 4);
	assert_int_equal(wal_close(w), 0);
	w = reopen(dir, NULL, &rec);
	assert_int_equal(rec.n_entries, 2);
	assert_entry(&rec.entries[0], 51, 4);
	assert_entry(&rec.entries[1], 52, 4);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);
	dir_remove(dir);
}

static void test_snapshot_file_damage(void **state)
{
	char *dir = dir_new(), path[1024], tmp[1024];
	struct wal_recovered rec;
	uint8_t *snap;
	size_t len;
	struct wal *w;

	(void)state;
	w = reopen(dir, NULL, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 5, 1);
	assert_int_equal(wal_save_snapshot(w, 3, 1, "abcdef", 6), 0);
	assert_int_equal(wal_close(w), 0);

	/* A temporary file that was never renamed into place is ignored and removed. */
	snprintf(tmp, sizeof(tmp), "%s/snapshot.tmp", dir);
	file_write(tmp, (const uint8_t *)"junk", 4);
	w = reopen(dir, NULL, &rec);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(rec.snapshot.index, 3);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);

	snprintf(path, sizeof(path), "%s/snapshot", dir);
	snap = file_read(path, &len);
	for (size_t i = 0; i < len; i++) {
		snap[i] ^= 1;
		file_write(path, snap, len);
		snap[i] ^= 1;
		assert_int_equal(wal_open(dir, NULL, &w, &rec), -EBADMSG);
		assert_non_null(strstr(rec.error, "snapshot"));
		wal_recovered_free(&rec);
	}
	file_write(path, snap, len - 1);
	assert_int_equal(wal_open(dir, NULL, &w, &rec), -EBADMSG);
	wal_recovered_free(&rec);
	free(snap);
	dir_remove(dir);
}

/* Thousands of entries over hundreds of tiny segments, hard state rewritten in each. */
static void test_many_segments(void **state)
{
	const struct wal_options opt = { .segment_size = 1024, .sync = WAL_SYNC_NONE };
	char *dir = dir_new(), path[1024];
	struct wal_recovered rec;
	struct raft_hard_state hs = { .term = 9, .commit = 4000, .vote = 1 };
	uint8_t *seg;
	size_t n, len;
	struct wal *w;

	(void)state;
	w = reopen(dir, &opt, &rec);
	wal_recovered_free(&rec);
	assert_int_equal(wal_set_hard_state(w, &hs), 0);
	append_range(w, 1, 5000, 0);
	assert_int_equal(wal_close(w), 0);

	w = reopen(dir, &opt, &rec);
	n = wal_segment_count(w);
	assert_true(n > 200);
	assert_entries(&rec, 1, 5000);
	assert_int_equal(rec.hs.term, 9);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);

	/* A torn record is only a torn record at the very end: in an earlier segment it is
	 * corruption, even at that segment's end. */
	seg_path(path, sizeof(path), dir, n / 2);
	seg = file_read(path, &len);
	file_write(path, seg, len - 1);
	assert_int_equal(wal_open(dir, &opt, &w, &rec), -EBADMSG);
	assert_non_null(strstr(rec.error, "not the last segment"));
	wal_recovered_free(&rec);

	/* So is a missing segment. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(wal_open(dir, &opt, &w, &rec), -EBADMSG);
	assert_non_null(strstr(rec.error, "missing"));
	wal_recovered_free(&rec);
	file_write(path, seg, len);
	free(seg);

	w = reopen(dir, &opt, &rec);
	assert_entries(&rec, 1, 5000);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);
	dir_remove(dir);
}

/* A write that fails poisons the log: nothing after it is trusted, and what did reach the
 * file recovers as a prefix. The file size limit makes writes fail without root. */
static void test_write_failure(void **state)
{
	char *dir = dir_new(), path[1024];
	struct wal_recovered rec;
	struct rlimit old, lim;
	struct stat st;
	struct wal *w;
	uint64_t got;

	(void)state;
	w = reopen(dir, NULL, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 10, 0);
	assert_int_equal(wal_sync(w), 0);
	seg_path(path, sizeof(path), dir, 1);
	assert_int_equal(stat(path, &st), 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 1000;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	append_range(w, 11, 100, 0);
	assert_int_equal(wal_sync(w), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	/* Room again, but the log stays refused: what reached the disk is unknown to it. */
	{
		struct raft_entry e = entry(101, 1);
		struct raft_hard_state hs = { .term = 5 };

		assert_int_equal(wal_append_entries(w, &e, 1), -EFBIG);
		assert_int_equal(wal_set_hard_state(w, &hs), -EFBIG);
		assert_int_equal(wal_truncate(w, 5), -EFBIG);
		assert_int_equal(wal_sync(w), -EFBIG);
		assert_int_equal(wal_save_snapshot(w, 5, 1, "x", 1), -EFBIG);
	}
	assert_int_equal(wal_close(w), -EFBIG);

	/* Recovery: entries 1..k for some k from 10 up, the torn one cut off. */
	w = reopen(dir, NULL, &rec);
	got = rec.n_entries;
	assert_true(got >= 10 && got < 100);
	assert_entries(&rec, 1, got);
	assert_true(rec.torn_bytes > 0);
	wal_recovered_free(&rec);
	assert_int_equal(wal_close(w), 0);
	dir_remove(dir);
}

/* The in-memory parser that wal_open() and the fuzzer share. */
static void test_replay_api(void **state)
{
	char *dir = dir_new(), path[1024];
	struct wal_recovered rec;
	struct wal_replay *rp;
	char err[256];
	uint8_t *seg;
	size_t len, valid;
	struct wal *w;

	(void)state;
	w = reopen(dir, NULL, &rec);
	wal_recovered_free(&rec);
	append_range(w, 1, 20, 0);
	assert_int_equal(wal_close(w), 0);
	seg_path(path, sizeof(path), dir, 1);
	seg = file_read(path, &len);

	rp = wal_replay_new(0, 0);
	assert_non_null(rp);
	assert_int_equal(wal_replay_segment(rp, 1, seg, len, true, &valid, err, sizeof(err)), 0);
	assert_int_equal(valid, len);
	memset(&rec, 0, sizeof(rec));
	wal_replay_finish(rp, &rec);
	assert_entries(&rec, 1, 20);
	wal_recovered_free(&rec);
	wal_replay_free(rp);

	/* The segment's header must name it. */
	rp = wal_replay_new(0, 0);
	assert_int_equal(wal_replay_segment(rp, 2, seg, len, true, &valid, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "another segment"));
	wal_replay_free(rp);

	/* Garbage is refused, and empty is only fine at the end. */
	rp = wal_replay_new(0, 0);
	assert_int_equal(wal_replay_segment(rp, 1, (const uint8_t *)"garbage!garbage!", 16, false,
					    &valid, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(wal_replay_segment(rp, 1, seg, 0, false, &valid, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(wal_replay_segment(rp, 1, seg, 0, true, &valid, err, sizeof(err)), 0);
	wal_replay_free(rp);
	free(seg);
	dir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_last_record_bit_flips),
		cmocka_unit_test(test_middle_corruption),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_snapshot_and_compaction),
		cmocka_unit_test(test_snapshot_conflict),
		cmocka_unit_test(test_snapshot_file_damage),
		cmocka_unit_test(test_many_segments),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_replay_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
