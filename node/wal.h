/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The write-ahead log of a Raft node (capnode --data DIR): hard state, log entries, truncations
 * and snapshots, recovered after a crash exactly as far as they were synced.
 *
 * The directory holds segment files "wal-<seq, 16 hex digits>.log" (a new one every
 * segment_size bytes, 64 MiB by default) and the latest snapshot in "snapshot". A segment is a
 * sequence of records:
 *
 *	u32 length	the whole record, these 16 bytes of framing included
 *	u8  type	1 segment header, 2 hard state, 3 entry, 4 truncation
 *	u8  zero[3]
 *	u32 hcrc	CRC32C of the 8 bytes above: a damaged length is never trusted
 *	... payload	big-endian, by type (below)
 *	u32 crc		CRC32C of everything before it
 *
 *	segment header	u32 magic "CWAL", u8 version 1, u64 seq (the file name's)
 *	hard state	u64 term, u64 commit, u16 vote
 *	entry		u64 index, u64 term, u64 client_id, u64 seq, u8 type, data (the rest)
 *	truncation	u64 from: entries with index >= from are discarded
 *
 * Every segment starts with its header and the hard state current when it was created, so
 * deleting older segments never loses the hard state. An entry whose index is not the next one
 * discards the entries from its index on, as a truncation would.
 *
 * Recovery: a torn write from a crash is at the end of the last segment, and short or
 * zero-filled there: a record cut short; a header that fails its checksum with only zero
 * bytes after it; or a record of trusted length whose checksum field, and all after it, is
 * zeros (the part of the write that never landed). It and what follows are cut off the file.
 * Any other failure is corruption of data that was synced, maybe acknowledged, wherever it is:
 * a complete record whose checksum does not match, even the very last one. wal_open() then
 * fails with -EBADMSG and says where (segment and offset), rather than drop it.
 *
 * The snapshot file is written as "snapshot.tmp", synced, renamed and the directory synced, so
 * it is always either the old or the new one: u32 magic "CSNP", u8 version 1, u8 zero[3],
 * u64 index, u64 term, u64 length, the data, u32 CRC32C of everything before.
 *
 * Writes are buffered until wal_sync(), which writes them and (unless the sync mode is
 * WAL_SYNC_NONE, for benchmarks) fdatasync()s: call it before acknowledging anything. After a
 * failed write or sync the log refuses every further call with the same error: what reached
 * the disk is unknown, so the node must restart and recover.
 */
#ifndef CAPNET_WAL_H
#define CAPNET_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/raft.h"

#define WAL_SEGMENT_SIZE (64ull << 20)
/* The largest entry data a record may hold. */
#define WAL_ENTRY_MAX (16u << 20)
#define WAL_ERROR_MAX 512

enum wal_sync_mode {
	WAL_SYNC_DATA, /* fdatasync() in wal_sync() */
	/* Never: a crash of the process loses nothing the kernel got, but a crash of the machine
	 * may lose acknowledged writes or leave a log that refuses to open. For benchmarks. */
	WAL_SYNC_NONE,
};

struct wal_options {
	uint64_t segment_size; /* 0: WAL_SEGMENT_SIZE */
	enum wal_sync_mode sync;
};

/* What a directory held. Entries follow the snapshot (or index 1) without gaps. */
struct wal_recovered {
	struct raft_hard_state hs;
	bool has_snapshot;
	struct raft_snapshot snapshot; /* data owned by this struct */
	struct raft_entry *entries; /* data owned by this struct */
	size_t n_entries;
	size_t torn_bytes; /* cut off the end of the last segment */
	char error[WAL_ERROR_MAX]; /* why wal_open() failed */
};

struct wal;

/*
 * Opens (creating it if needed) the log in dir, recovers it into *out and locks the directory
 * against a second user. Returns 0, or -errno with out->error saying what failed and where:
 * -EBADMSG corruption, -EBUSY the directory is in use, or what a system call returned.
 * opt may be NULL for the defaults. Free *out with wal_recovered_free() in any case.
 */
int wal_open(const char *dir, const struct wal_options *opt, struct wal **walp,
	     struct wal_recovered *out);
/* Writes and syncs what is buffered, then closes; returns the first error met. NULL is fine. */
int wal_close(struct wal *w);
void wal_recovered_free(struct wal_recovered *rec);

/* Appends records (buffered until wal_sync()). 0, -EINVAL, -ENOMEM or a sticky I/O error. */
int wal_append_entries(struct wal *w, const struct raft_entry *entries, size_t n);
int wal_set_hard_state(struct wal *w, const struct raft_hard_state *hs);
/* Discards the entries with index >= from (from >= 1). */
int wal_truncate(struct wal *w, uint64_t from);
int wal_sync(struct wal *w);

/*
 * Stores a snapshot durably (whatever the sync mode) and replaces the previous one; index must
 * not go back. Entries after index stay: after a snapshot of the node's own state they are the
 * rest of the log. After installing a snapshot from the leader, which replaces the whole log,
 * call wal_truncate(index + 1) too; should a crash come in between, recovery still drops the
 * entries after index when the log's entry index has another term than the snapshot's.
 */
int wal_save_snapshot(struct wal *w, uint64_t index, uint64_t term, const void *data, size_t len);
/* Deletes the segments, except the current one, that hold only entries <= index; index must
 * be covered by the saved snapshot (-EINVAL otherwise). */
int wal_compact(struct wal *w, uint64_t index);

/* Segment files in the directory now, for tests and status. */
size_t wal_segment_count(const struct wal *w);

/*
 * Recovery from memory, as wal_open() does it, for fuzzers and tools: feed the segments in
 * order, then finish. wal_replay_segment() returns 0 and *valid_len (where the good records
 * end: less than len only for a torn tail of the last segment), or -EBADMSG with err filled.
 */
struct wal_replay;
struct wal_replay *wal_replay_new(uint64_t snap_index, uint64_t snap_term);
int wal_replay_segment(struct wal_replay *rp, uint64_t seq, const uint8_t *buf, size_t len,
		       bool last, size_t *valid_len, char *err, size_t errlen);
/* Moves the hard state and the entries into out (which keeps its other fields). */
void wal_replay_finish(struct wal_replay *rp, struct wal_recovered *out);
void wal_replay_free(struct wal_replay *rp);

#endif /* CAPNET_WAL_H */
