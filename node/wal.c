// SPDX-License-Identifier: GPL-2.0-only
/* The write-ahead log of node/wal.h: record framing, recovery (from memory, so that fuzzers
 * run the same parser), buffered appends with segment rotation, snapshots and compaction. */
#include "node/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/crc32c.h"
#include "lib/files.h"
#include "node/proto.h"

#define REC_HDR 12
#define REC_OVERHEAD 16
#define REC_MAX (WAL_ENTRY_MAX + 64)

enum {
	REC_SEGMENT = 1,
	REC_HARD_STATE = 2,
	REC_ENTRY = 3,
	REC_TRUNCATE = 4,
};

#define SEG_MAGIC 0x4357414cu /* "CWAL" */
#define SNAP_MAGIC 0x43534e50u /* "CSNP" */
#define WAL_VERSION 1
#define SEG_PAYLOAD 13
#define HS_PAYLOAD 18
#define ENTRY_FIXED 33
#define SNAP_HDR 32
#define SNAP_NAME "snapshot"
#define SNAP_TMP "snapshot.tmp"
#define SEG_NAME_LEN 24 /* "wal-" 16 hex digits ".log" */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void seg_name(char *buf, size_t size, uint64_t seq)
{
	snprintf(buf, size, "wal-%016" PRIx64 ".log", seq);
}

/* Only names seg_name() writes: no other spelling of the same number. */
static bool seg_parse_name(const char *name, uint64_t *seq)
{
	if (strlen(name) != SEG_NAME_LEN || strncmp(name, "wal-", 4) || strcmp(name + 20, ".log"))
		return false;
	*seq = 0;
	for (int i = 4; i < 20; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			*seq = *seq << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*seq = *seq << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	return true;
}

/* Replay: the log as the records so far describe it. */

struct wal_replay {
	uint64_t snap_index, snap_term;
	struct raft_hard_state hs;
	uint64_t last; /* the last index the log holds, 0 if none */
	uint64_t term_at_snap; /* term of the log's entry snap_index, 0 if it holds none */
	/* The entries after snap_index: snap_index + 1 .. last, data owned. */
	struct raft_entry *ents;
	size_t n, cap;
	uint64_t seg_max; /* highest entry index in the segment being read */
};

struct wal_replay *wal_replay_new(uint64_t snap_index, uint64_t snap_term)
{
	struct wal_replay *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->snap_index = snap_index;
	rp->snap_term = snap_term;
	return rp;
}

static void ents_drop_from(struct wal_replay *rp, uint64_t from)
{
	while (rp->n && rp->ents[rp->n - 1].index >= from)
		free((void *)rp->ents[--rp->n].data);
}

void wal_replay_free(struct wal_replay *rp)
{
	if (!rp)
		return;
	ents_drop_from(rp, 0);
	free(rp->ents);
	free(rp);
}

static void replay_truncate(struct wal_replay *rp, uint64_t from)
{
	if (from > rp->last)
		return;
	ents_drop_from(rp, from);
	if (from <= rp->snap_index)
		rp->term_at_snap = 0;
	rp->last = from - 1;
}

static int replay_entry(struct wal_replay *rp, const struct raft_entry *e, const char **what)
{
	struct raft_entry *slot;
	uint8_t *data = NULL;

	if (!e->index) {
		*what = "entry with index 0";
		return -EBADMSG;
	}
	if (e->index <= rp->last)
		replay_truncate(rp, e->index);
	/* A gap is fine only where a snapshot covers it: after one was installed. */
	if (e->index > rp->last + 1 && e->index > rp->snap_index + 1) {
		*what = "entry index leaves a gap in the log";
		return -EBADMSG;
	}
	rp->last = e->index;
	if (e->index == rp->snap_index)
		rp->term_at_snap = e->term;
	if (e->index <= rp->snap_index)
		return 0;

	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 256;
		struct raft_entry *ents = realloc(rp->ents, cap * sizeof(*ents));

		if (!ents)
			goto nomem;
		rp->ents = ents;
		rp->cap = cap;
	}
	if (e->len) {
		data = malloc(e->len);
		if (!data)
			goto nomem;
		memcpy(data, e->data, e->len);
	}
	slot = &rp->ents[rp->n++];
	*slot = *e;
	slot->data = data;
	return 0;
nomem:
	*what = "out of memory";
	return -ENOMEM;
}

/* One record's payload, after its framing checked out. */
static int replay_record(struct wal_replay *rp, uint64_t seq, bool first, uint8_t type,
			 const uint8_t *p, size_t n, const char **what)
{
	struct raft_hard_state hs;
	struct proto_reader r;
	struct raft_entry e;
	uint64_t v;

	proto_reader_init(&r, p, n);
	if (first != (type == REC_SEGMENT)) {
		*what = first ? "segment does not start with its header" : "segment header inside";
		return -EBADMSG;
	}
	switch (type) {
	case REC_SEGMENT:
		if (proto_get_u32(&r) != SEG_MAGIC) {
			*what = "not a capnet WAL segment";
			return -EBADMSG;
		}
		if (proto_get_u8(&r) != WAL_VERSION) {
			*what = "unsupported WAL version";
			return -EBADMSG;
		}
		if (proto_get_u64(&r) != seq) {
			*what = "segment header names another segment";
			return -EBADMSG;
		}
		break;
	case REC_HARD_STATE:
		hs.term = proto_get_u64(&r);
		hs.commit = proto_get_u64(&r);
		hs.vote = proto_get_u16(&r);
		if (proto_reader_end(&r))
			break;
		rp->hs = hs;
		return 0;
	case REC_ENTRY:
		if (n < ENTRY_FIXED)
			break;
		memset(&e, 0, sizeof(e));
		e.index = proto_get_u64(&r);
		e.term = proto_get_u64(&r);
		e.client_id = proto_get_u64(&r);
		e.seq = proto_get_u64(&r);
		e.type = proto_get_u8(&r);
		e.len = (uint32_t)(n - ENTRY_FIXED);
		e.data = p + ENTRY_FIXED;
		if (e.index > rp->seg_max)
			rp->seg_max = e.index;
		return replay_entry(rp, &e, what);
	case REC_TRUNCATE:
		v = proto_get_u64(&r);
		if (proto_reader_end(&r) || !v)
			break;
		replay_truncate(rp, v);
		return 0;
	default:
		*what = "unknown record type";
		return -EBADMSG;
	}
	if (type != REC_SEGMENT || proto_reader_end(&r)) {
		*what = "record payload does not match its type";
		return -EBADMSG;
	}
	return 0;
}

int wal_replay_segment(struct wal_replay *rp, uint64_t seq, const uint8_t *buf, size_t len,
		       bool last, size_t *valid_len, char *err, size_t errlen)
{
	const char *what = NULL;
	bool torn = false;
	size_t off = 0;
	int ret = -EBADMSG;

	rp->seg_max = 0;
	while (off < len) {
		const uint8_t *rec = buf + off;
		size_t left = len - off;
		uint32_t rlen;

		if (left < REC_HDR) {
			what = "record header cut short";
			torn = true;
			goto bad;
		}
		rlen = get32(rec);
		if (get32(rec + 8) != crc32c(0, rec, 8) || rec[5] || rec[6] || rec[7]) {
			what = "record header checksum mismatch";
			torn = all_zero(rec + REC_HDR, left - REC_HDR);
			goto bad;
		}
		if (rlen < REC_OVERHEAD || rlen > REC_MAX) {
			what = "record length out of range";
			goto bad;
		}
		if (rlen > left) {
			what = "record cut short";
			torn = true;
			goto bad;
		}
		if (get32(rec + rlen - 4) != crc32c(0, rec, rlen - 4)) {
			/* Its length is trusted (the header's checksum held), so the record is
			 * all there. Torn only if what the crash never wrote reads as zeros: its
			 * checksum, at least, and all after it; any other damage is corruption,
			 * even in the last record, which was synced and maybe acknowledged. */
			what = "record checksum mismatch (a complete record: corruption)";
			torn = all_zero(rec + rlen - 4, left - (rlen - 4));
			goto bad;
		}
		ret = replay_record(rp, seq, off == 0, rec[4], rec + REC_HDR, rlen - REC_OVERHEAD,
				    &what);
		if (ret)
			goto bad;
		ret = -EBADMSG;
		off += rlen;
	}
	if (!len && !last) {
		what = "empty segment before the last one";
		goto bad;
	}
	*valid_len = off;
	return 0;
bad:
	if (last && torn) {
		*valid_len = off;
		return 0;
	}
	snprintf(err, errlen, "%s at offset %zu of segment %" PRIu64 "%s", what, off, seq,
		 ret == -EBADMSG && !last ? " (not the last segment: this is corruption)" : "");
	return ret;
}

void wal_replay_finish(struct wal_replay *rp, struct wal_recovered *out)
{
	/* The log's entry at the snapshot's index has another term: what follows it belongs to
	 * a history the snapshot replaced. */
	if (rp->term_at_snap && rp->term_at_snap != rp->snap_term)
		ents_drop_from(rp, 0);
	out->hs = rp->hs;
	out->entries = rp->ents;
	out->n_entries = rp->n;
	rp->ents = NULL;
	rp->n = rp->cap = 0;
}

void wal_recovered_free(struct wal_recovered *rec)
{
	if (!rec)
		return;
	for (size_t i = 0; i < rec->n_entries; i++)
		free((void *)rec->entries[i].data);
	free(rec->entries);
	free((void *)rec->snapshot.data);
	rec->entries = NULL;
	rec->n_entries = 0;
	rec->snapshot.data = NULL;
}

/* The log on disk. */

struct seg {
	uint64_t seq;
	uint64_t max_index;
};

struct wal {
	char *dir;
	int dirfd, fd;
	struct wal_options opt;
	struct seg *segs; /* oldest first; the last is being written */
	size_t nsegs, segs_cap;
	uint64_t seg_bytes; /* of the current segment, buffered bytes included */
	uint8_t *buf;
	size_t buf_len, buf_cap;
	struct raft_hard_state hs;
	uint64_t snap_index, snap_term;
	int error; /* sticky: after a failed write nothing more is trusted */
};

static int wal_fail(struct wal *w, int err)
{
	if (!w->error)
		w->error = err;
	return err;
}

static int read_all(int dirfd, const char *name, uint8_t **bufp, size_t *lenp)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + len, (size_t)st.st_size - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err = -errno;
			goto out;
		}
		if (!k)
			break;
		len += (size_t)k;
	}
out:
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* Room for one more record of n bytes at the end of the buffer. */
static uint8_t *rec_reserve(struct wal *w, size_t n)
{
	if (w->buf_cap - w->buf_len < n) {
		size_t cap = w->buf_cap ? w->buf_cap : 65536;
		uint8_t *buf;

		while (cap - w->buf_len < n)
			cap *= 2;
		buf = realloc(w->buf, cap);
		if (!buf)
			return NULL;
		w->buf = buf;
		w->buf_cap = cap;
	}
	return w->buf + w->buf_len;
}

/* Frames a record: fixed payload part p (pn bytes), then tail (tn bytes). */
static int rec_put(struct wal *w, uint8_t type, const uint8_t *p, size_t pn, const void *tail,
		   size_t tn)
{
	size_t n = REC_OVERHEAD + pn + tn;
	uint8_t *rec = rec_reserve(w, n);

	if (!rec)
		return -ENOMEM;
	put32(rec, (uint32_t)n);
	rec[4] = type;
	rec[5] = rec[6] = rec[7] = 0;
	put32(rec + 8, crc32c(0, rec, 8));
	memcpy(rec + REC_HDR, p, pn);
	if (tn)
		memcpy(rec + REC_HDR + pn, tail, tn);
	put32(rec + n - 4, crc32c(0, rec, n - 4));
	w->buf_len += n;
	w->seg_bytes += n;
	return 0;
}

static int put_hard_state(struct wal *w)
{
	uint8_t p[HS_PAYLOAD];
	struct proto_writer pw;

	proto_writer_init(&pw, p, sizeof(p));
	proto_put_u64(&pw, w->hs.term);
	proto_put_u64(&pw, w->hs.commit);
	proto_put_u16(&pw, w->hs.vote);
	return rec_put(w, REC_HARD_STATE, p, sizeof(p), NULL, 0);
}

/* A segment's first records: its header and the current hard state. */
static int put_segment_start(struct wal *w, uint64_t seq)
{
	uint8_t p[SEG_PAYLOAD];
	struct proto_writer pw;
	int err;

	proto_writer_init(&pw, p, sizeof(p));
	proto_put_u32(&pw, SEG_MAGIC);
	proto_put_u8(&pw, WAL_VERSION);
	proto_put_u64(&pw, seq);
	err = rec_put(w, REC_SEGMENT, p, sizeof(p), NULL, 0);
	return err ? err : put_hard_state(w);
}

static int flush(struct wal *w)
{
	int err = files_write_all(w->fd, w->buf, w->buf_len);

	if (err)
		return wal_fail(w, err);
	w->buf_len = 0;
	return 0;
}

static int sync_fd(struct wal *w, int fd, bool data_only)
{
	if (w->opt.sync == WAL_SYNC_NONE)
		return 0;
	if (data_only ? fdatasync(fd) : fsync(fd))
		return wal_fail(w, -errno);
	return 0;
}

static int segs_push(struct wal *w, uint64_t seq, uint64_t max_index)
{
	if (w->nsegs == w->segs_cap) {
		size_t cap = w->segs_cap ? w->segs_cap * 2 : 16;
		struct seg *segs = realloc(w->segs, cap * sizeof(*segs));

		if (!segs)
			return -ENOMEM;
		w->segs = segs;
		w->segs_cap = cap;
	}
	w->segs[w->nsegs++] = (struct seg){ seq, max_index };
	return 0;
}

/* Creates segment seq and makes it the one written; its name is durable once this returns. */
static int segment_create(struct wal *w, uint64_t seq)
{
	char name[SEG_NAME_LEN + 1];
	int fd, err;

	seg_name(name, sizeof(name), seq);
	err = segs_push(w, seq, 0);
	if (err)
		return err;
	fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		w->nsegs--;
		return wal_fail(w, -errno);
	}
	if (w->fd >= 0)
		close(w->fd);
	w->fd = fd;
	w->seg_bytes = 0;
	err = sync_fd(w, w->dirfd, false);
	return err ? err : put_segment_start(w, seq);
}

/* The current segment is full: sync it and go on in a new one. */
static int segment_rotate(struct wal *w)
{
	int err = flush(w);

	if (!err)
		err = sync_fd(w, w->fd, true);
	if (!err)
		err = segment_create(w, w->segs[w->nsegs - 1].seq + 1);
	return err;
}

/* Appends a record, first starting a new segment if this one would grow past its size. */
static int rec_append(struct wal *w, uint8_t type, const uint8_t *p, size_t pn, const void *tail,
		      size_t tn)
{
	uint64_t start = REC_OVERHEAD * 2 + SEG_PAYLOAD + HS_PAYLOAD;
	int err;

	if (w->error)
		return w->error;
	if (w->seg_bytes + REC_OVERHEAD + pn + tn > w->opt.segment_size && w->seg_bytes > start) {
		err = segment_rotate(w);
		if (err)
			return err;
	}
	return rec_put(w, type, p, pn, tail, tn);
}

int wal_append_entries(struct wal *w, const struct raft_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct raft_entry *e = &entries[i];
		uint8_t p[ENTRY_FIXED];
		struct proto_writer pw;
		int err;

		if (!e->index || e->len > WAL_ENTRY_MAX || (e->len && !e->data))
			return -EINVAL;
		proto_writer_init(&pw, p, sizeof(p));
		proto_put_u64(&pw, e->index);
		proto_put_u64(&pw, e->term);
		proto_put_u64(&pw, e->client_id);
		proto_put_u64(&pw, e->seq);
		proto_put_u8(&pw, e->type);
		err = rec_append(w, REC_ENTRY, p, sizeof(p), e->data, e->len);
		if (err)
			return err;
		if (e->index > w->segs[w->nsegs - 1].max_index)
			w->segs[w->nsegs - 1].max_index = e->index;
	}
	return 0;
}

int wal_set_hard_state(struct wal *w, const struct raft_hard_state *hs)
{
	struct raft_hard_state old = w->hs;
	int err;

	if (w->error)
		return w->error;
	w->hs = *hs;
	err = put_hard_state(w);
	if (err)
		w->hs = old;
	return err;
}

int wal_truncate(struct wal *w, uint64_t from)
{
	uint8_t p[8];
	struct proto_writer pw;

	if (!from)
		return -EINVAL;
	proto_writer_init(&pw, p, sizeof(p));
	proto_put_u64(&pw, from);
	return rec_append(w, REC_TRUNCATE, p, sizeof(p), NULL, 0);
}

int wal_sync(struct wal *w)
{
	int err;

	if (w->error)
		return w->error;
	err = flush(w);
	return err ? err : sync_fd(w, w->fd, true);
}

size_t wal_segment_count(const struct wal *w)
{
	return w->nsegs;
}

int wal_save_snapshot(struct wal *w, uint64_t index, uint64_t term, const void *data, size_t len)
{
	uint8_t hdr[SNAP_HDR], crcb[4];
	struct proto_writer pw;
	uint32_t crc;
	int fd, err = 0;

	if (w->error)
		return w->error;
	if (index < w->snap_index || (len && !data))
		return -EINVAL;
	proto_writer_init(&pw, hdr, sizeof(hdr));
	proto_put_u32(&pw, SNAP_MAGIC);
	proto_put_u8(&pw, WAL_VERSION);
	proto_put_raw(&pw, "\0\0\0", 3);
	proto_put_u64(&pw, index);
	proto_put_u64(&pw, term);
	proto_put_u64(&pw, len);
	crc = crc32c(crc32c(0, hdr, sizeof(hdr)), data, len);
	put32(crcb, crc);

	fd = openat(w->dirfd, SNAP_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return wal_fail(w, -errno);
	err = files_write_all(fd, hdr, sizeof(hdr));
	if (!err)
		err = files_write_all(fd, data, len);
	if (!err)
		err = files_write_all(fd, crcb, sizeof(crcb));
	/* A snapshot replaces log entries: it is synced whatever the sync mode. */
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && renameat(w->dirfd, SNAP_TMP, w->dirfd, SNAP_NAME))
		err = -errno;
	if (!err && fsync(w->dirfd))
		err = -errno;
	if (err)
		return wal_fail(w, err);
	w->snap_index = index;
	w->snap_term = term;
	return 0;
}

int wal_compact(struct wal *w, uint64_t index)
{
	char name[SEG_NAME_LEN + 1];
	size_t k = 0;

	if (w->error)
		return w->error;
	if (index > w->snap_index)
		return -EINVAL;
	while (k + 1 < w->nsegs && w->segs[k].max_index <= index)
		k++;
	if (!k)
		return 0;
	/* Oldest first: a crash in between leaves a shorter prefix deleted, still a valid log. */
	for (size_t i = 0; i < k; i++) {
		seg_name(name, sizeof(name), w->segs[i].seq);
		if (unlinkat(w->dirfd, name, 0) && errno != ENOENT) {
			int err = -errno;

			memmove(w->segs, w->segs + i, (w->nsegs - i) * sizeof(*w->segs));
			w->nsegs -= i;
			return wal_fail(w, err);
		}
	}
	memmove(w->segs, w->segs + k, (w->nsegs - k) * sizeof(*w->segs));
	w->nsegs -= k;
	return sync_fd(w, w->dirfd, false);
}

/* Opening and recovery. */

static int fail_msg(struct wal_recovered *out, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_msg(struct wal_recovered *out, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
	return err;
}

static int snapshot_load(struct wal *w, struct wal_recovered *out)
{
	struct proto_reader r;
	uint8_t *buf, pad[3];
	size_t len;
	uint64_t dlen;
	int err;

	err = read_all(w->dirfd, SNAP_NAME, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err)
		return fail_msg(out, err, "%s/%s: %s", w->dir, SNAP_NAME, strerror(-err));
	proto_reader_init(&r, buf, len);
	if (len < SNAP_HDR + 4 || get32(buf + len - 4) != crc32c(0, buf, len - 4)) {
		free(buf);
		return fail_msg(out, -EBADMSG, "%s/%s: checksum mismatch: the snapshot is corrupt",
				w->dir, SNAP_NAME);
	}
	if (proto_get_u32(&r) != SNAP_MAGIC || proto_get_u8(&r) != WAL_VERSION) {
		free(buf);
		return fail_msg(out, -EBADMSG, "%s/%s: not a snapshot of this version", w->dir,
				SNAP_NAME);
	}
	proto_get_raw(&r, pad, sizeof(pad));
	out->snapshot.index = proto_get_u64(&r);
	out->snapshot.term = proto_get_u64(&r);
	dlen = proto_get_u64(&r);
	if (dlen != len - SNAP_HDR - 4 || dlen > UINT32_MAX || pad[0] || pad[1] || pad[2]) {
		free(buf);
		return fail_msg(out, -EBADMSG, "%s/%s: header does not match the file", w->dir,
				SNAP_NAME);
	}
	/* The data moves to the start of the buffer, which out then owns. */
	memmove(buf, buf + SNAP_HDR, dlen);
	out->has_snapshot = true;
	out->snapshot.len = (uint32_t)dlen;
	out->snapshot.data = buf;
	w->snap_index = out->snapshot.index;
	w->snap_term = out->snapshot.term;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sequence numbers of the segment files, sorted. */
static int segments_list(struct wal *w, uint64_t **seqs, size_t *n, struct wal_recovered *out)
{
	size_t cap = 0;
	struct dirent *de;
	uint64_t seq, *v = NULL;
	DIR *d;
	int fd = dup(w->dirfd);

	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail_msg(out, -errno, "%s: %s", w->dir, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!seg_parse_name(de->d_name, &seq))
			continue;
		if (*n == cap) {
			uint64_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return fail_msg(out, -ENOMEM, "out of memory");
			}
			v = nv;
		}
		v[(*n)++] = seq;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_u64);
	*seqs = v;
	return 0;
}

static int segments_replay(struct wal *w, struct wal_recovered *out)
{
	char name[SEG_NAME_LEN + 1];
	struct wal_replay *rp;
	uint64_t *seqs = NULL;
	size_t n, len, valid;
	uint8_t *buf;
	int err;

	err = segments_list(w, &seqs, &n, out);
	if (err)
		return err;
	rp = wal_replay_new(w->snap_index, w->snap_term);
	if (!rp) {
		err = fail_msg(out, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;

		seg_name(name, sizeof(name), seqs[i]);
		if (i && seqs[i] != seqs[i - 1] + 1) {
			err = fail_msg(out, -EBADMSG,
				       "%s: segment %" PRIu64 " is missing before %s", w->dir,
				       seqs[i - 1] + 1, name);
			goto out;
		}
		err = read_all(w->dirfd, name, &buf, &len);
		if (err) {
			fail_msg(out, err, "%s/%s: %s", w->dir, name, strerror(-err));
			goto out;
		}
		err = wal_replay_segment(rp, seqs[i], buf, len, last, &valid, out->error,
					 sizeof(out->error));
		free(buf);
		if (err) {
			char what[WAL_ERROR_MAX];

			memcpy(what, out->error, sizeof(what));
			fail_msg(out, err, "%s/%s: %.400s", w->dir, name, what);
			goto out;
		}
		err = segs_push(w, seqs[i], rp->seg_max);
		if (err) {
			fail_msg(out, err, "out of memory");
			goto out;
		}
		if (!last)
			continue;
		/* Carry on writing the last segment, without its torn tail. */
		w->fd = openat(w->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (w->fd < 0 ||
		    (valid < len && (ftruncate(w->fd, (off_t)valid) || fsync(w->fd)))) {
			err = fail_msg(out, -errno, "%s/%s: %s", w->dir, name, strerror(errno));
			goto out;
		}
		out->torn_bytes = len - valid;
		w->seg_bytes = valid;
	}
	wal_replay_finish(rp, out);
	w->hs = out->hs;
	/* A last segment cut back to nothing gets its header again. */
	if (w->fd >= 0 && !w->seg_bytes)
		err = put_segment_start(w, seqs[n - 1]);
	else if (w->fd < 0)
		err = segment_create(w, 1);
	if (err)
		fail_msg(out, err, "%s: cannot start a segment: %s", w->dir, strerror(-err));
out:
	wal_replay_free(rp);
	free(seqs);
	return err;
}

/* A new directory's own name must be durable before anything in it can be. */
static int dir_sync_parent(const char *dir)
{
	char *copy = strdup(dir);
	int err;

	if (!copy)
		return -ENOMEM;
	err = files_sync_dir(dirname(copy));
	free(copy);
	return err;
}

int wal_open(const char *dir, const struct wal_options *opt, struct wal **walp,
	     struct wal_recovered *out)
{
	struct wal *w;
	int err;

	memset(out, 0, sizeof(*out));
	*walp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return fail_msg(out, -ENOMEM, "out of memory");
	w->fd = -1;
	w->dirfd = -1;
	if (opt)
		w->opt = *opt;
	if (!w->opt.segment_size)
		w->opt.segment_size = WAL_SEGMENT_SIZE;
	w->dir = strdup(dir);
	if (!w->dir) {
		err = fail_msg(out, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!mkdir(dir, 0700)) {
		err = dir_sync_parent(dir);
		if (err) {
			fail_msg(out, err, "sync the directory holding %s: %s", dir,
				 strerror(-err));
			goto fail;
		}
	} else if (errno != EEXIST) {
		err = fail_msg(out, -errno, "mkdir %s: %s", dir, strerror(errno));
		goto fail;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		err = fail_msg(out, -errno, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(w->dirfd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		fail_msg(out, err, "%s: %s", dir,
			 err == -EBUSY ? "in use by another process" : strerror(-err));
		goto fail;
	}
	/* A snapshot that was not renamed into place never counted. */
	if (unlinkat(w->dirfd, SNAP_TMP, 0) && errno != ENOENT) {
		err = fail_msg(out, -errno, "%s/%s: %s", dir, SNAP_TMP, strerror(errno));
		goto fail;
	}
	err = snapshot_load(w, out);
	if (!err)
		err = segments_replay(w, out);
	if (!err)
		err = wal_sync(w);
	if (err) {
		if (!out->error[0])
			fail_msg(out, err, "%s: %s", dir, strerror(-err));
		goto fail;
	}
	*walp = w;
	return 0;
fail:
	wal_recovered_free(out);
	out->has_snapshot = false;
	memset(&out->snapshot, 0, sizeof(out->snapshot));
	w->error = err;
	wal_close(w);
	return err;
}

int wal_close(struct wal *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (w->fd >= 0) {
		err = wal_sync(w);
		close(w->fd);
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->buf);
	free(w->segs);
	free(w->dir);
	free(w);
	return err;
}
