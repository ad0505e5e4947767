/* SPDX-License-Identifier: GPL-2.0-only */
/* What a Raft node keeps on disk, in the terms of raft.h: hard state, log and snapshot, written
 * from a ready before its messages go out, and read back after a restart. */
#ifndef CAPNET_STORAGE_H
#define CAPNET_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/raft.h"

struct storage;

/* Everything recovered; pointers stay valid until storage_close(). */
struct storage_recovered {
	bool has_state;
	struct raft_hard_state hs;
	bool has_snapshot;
	struct raft_snapshot snapshot;
	struct raft_entry *entries;
	size_t n_entries;
	uint64_t boot; /* how many times this data directory was opened before, for message ids */
	size_t torn_bytes; /* a torn write cut off the end of the log */
};

/* Opens (creating if needed) the node's data directory and recovers it. sync: fsync before
 * returning from storage_save(). Leaves what is wrong on failure (error_note). */
int storage_open(const char *dir, bool sync, struct storage **out, struct storage_recovered *rec);
/* Persists rd's snapshot, truncation, entries and hard state, in that order, durably. */
int storage_save(struct storage *s, const struct raft_ready *rd);
/* Keeps a snapshot the application took at index and drops the log up to it. */
int storage_compact(struct storage *s, uint64_t index, uint64_t term, const void *data, size_t len);
void storage_close(struct storage *s);

#endif /* CAPNET_STORAGE_H */
