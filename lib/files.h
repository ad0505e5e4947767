/* SPDX-License-Identifier: GPL-2.0-only */
/* Small file-system helpers shared by the node's storage and the lab's run directories. */
#ifndef CAPNET_FILES_H
#define CAPNET_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: creates every missing directory of path. 0 or -errno. */
int files_mkdir_p(const char *path, mode_t mode);
/* Writes all len bytes (again after EINTR or a short write). 0 or -errno (-EIO if nothing moves). */
int files_write_all(int fd, const void *buf, size_t len);
/* Reads a small file (a pid, a count) into buf, NUL-terminated: its length, or -errno. */
ssize_t files_read_small(const char *path, char *buf, size_t len);
/* The end of a file (a log), at most len - 1 bytes of it, NUL-terminated, trailing newlines cut,
 * whole lines when it is cut: what a program that died said last. An unreadable file gives "". */
void files_read_tail(const char *path, char *buf, size_t len);
/* The same, of what was written from offset `from` on: what this run of a program said, not an
 * earlier run appending to the same log. */
void files_read_tail_from(const char *path, off_t from, char *buf, size_t len);
/* fsync of a directory: makes the names in it (a new file, a rename) durable. 0 or -errno. */
int files_sync_dir(const char *dir);
/* Whether exec would find `name` as a program: a path to an executable file that is not a
 * directory, or (without a slash) such a file in a directory of $PATH. */
bool files_program_exists(const char *name);
/* Creates path holding exactly len bytes of data, or leaves it as it is: written whole and
 * synced under a private name, then linked into place, so no reader ever sees it half-written
 * and of two concurrent creators exactly one wins. 0, -EEXIST when path was there (or the other
 * creator won), or -errno. */
int files_create_exclusive(const char *path, const void *data, size_t len, mode_t mode);
/* The same, but replacing what path holds: a reader sees the old text or the new, whole, and a
 * process killed on the way leaves the old. 0 or -errno. */
int files_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif /* CAPNET_FILES_H */
