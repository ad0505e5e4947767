// SPDX-License-Identifier: GPL-2.0-only
/* A Raft node's storage on the write-ahead log: ready in, durable before messages go out. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/report.h"
#include "lib/files.h"
#include "node/storage.h"
#include "node/wal.h"

struct storage {
	struct wal *wal;
	struct wal_recovered rec;
	struct raft_hard_state synced; /* the term and vote on disk */
};

/* The boot counter makes message ids unique across restarts: read, bump, write back durably. */
static int bump_boot(const char *dir, uint64_t *boot)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[32];
	unsigned long long v = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/boot", dir);
	snprintf(tmp, sizeof(tmp), "%s/boot.tmp", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[n > 0 ? n : 0] = 0;
		v = strtoull(text, NULL, 10);
	}
	*boot = ++v;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(text, sizeof(text), "%llu\n", v);
	if (write(fd, text, n) != n || fsync(fd)) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) ? -errno : 0;
}

int storage_open(const char *dir, bool sync, struct storage **out, struct storage_recovered *rec)
{
	struct wal_options opt = { .sync = sync ? WAL_SYNC_DATA : WAL_SYNC_NONE };
	struct storage *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = files_mkdir_p(dir, 0755);
	if (err) {
		error_note("create data directory %s: %s", dir, strerror(-err));
		free(s);
		return err;
	}
	err = wal_open(dir, &opt, &s->wal, &s->rec);
	if (err) {
		error_note("open the log in %s: %s", dir,
			   s->rec.error[0] ? s->rec.error : strerror(-err));
		wal_recovered_free(&s->rec);
		free(s);
		return err;
	}
	memset(rec, 0, sizeof(*rec));
	err = bump_boot(dir, &rec->boot);
	if (err) {
		error_note("write %s/boot: %s", dir, strerror(-err));
		storage_close(s);
		return err;
	}
	rec->torn_bytes = s->rec.torn_bytes;
	s->synced = s->rec.hs;
	rec->hs = s->rec.hs;
	rec->has_state = s->rec.hs.term != 0;
	rec->has_snapshot = s->rec.has_snapshot;
	rec->snapshot = s->rec.snapshot;
	rec->entries = s->rec.entries;
	rec->n_entries = s->rec.n_entries;
	*out = s;
	return 0;
}

int storage_save(struct storage *s, const struct raft_ready *rd)
{
	int err = 0;

	if (rd->snapshot) {
		/* The leader's snapshot replaces the whole log. */
		err = wal_save_snapshot(s->wal, rd->snapshot->index, rd->snapshot->term,
					rd->snapshot->data, rd->snapshot->len);
		if (!err)
			err = wal_truncate(s->wal, rd->snapshot->index + 1);
	}
	if (!err && rd->truncate_from)
		err = wal_truncate(s->wal, rd->truncate_from);
	if (!err && rd->n_entries)
		err = wal_append_entries(s->wal, rd->entries, rd->n_entries);
	if (!err && rd->hs_changed)
		err = wal_set_hard_state(s->wal, &rd->hs);
	/* A commit index lost in a crash is learned again from the leader, and entries that a
	 * client was told committed are on a majority's disks: a ready that only moves the
	 * commit waits in the log's buffer for the next sync. Terms and votes are promises. */
	if (!err && (rd->snapshot || rd->truncate_from || rd->n_entries ||
		     rd->hs.term != s->synced.term || rd->hs.vote != s->synced.vote)) {
		err = wal_sync(s->wal);
		if (!err)
			s->synced = rd->hs;
	}
	return err;
}

int storage_compact(struct storage *s, uint64_t index, uint64_t term, const void *data, size_t len)
{
	int err = wal_save_snapshot(s->wal, index, term, data, len);

	return err ? err : wal_compact(s->wal, index);
}

void storage_close(struct storage *s)
{
	if (!s)
		return;
	wal_close(s->wal);
	wal_recovered_free(&s->rec);
	free(s);
}
