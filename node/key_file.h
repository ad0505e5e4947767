/* SPDX-License-Identifier: GPL-2.0-only */
/* A cluster's key on disk: the text of proto_key_format() in a file only its owner can read,
 * made by `capnet start` in the lab's run directory and read by capnode (--key-file) and capctl. */
#ifndef CAPNET_KEY_FILE_H
#define CAPNET_KEY_FILE_H

#include "node/proto_auth.h"

#define KEY_FILE_NAME "key"

/* Reads a key from standard input, to its end: the text of proto_key_format(), as a host of a lab across
 * hosts is handed it on standard input by ssh, which may deliver it in pieces. 0, or -EINVAL
 * with error_note() when what came is not a key. */
int key_file_read_stdin(struct proto_key *key);
/* Reads the key at path. Refuses a file that is not regular, that group or others may read or
 * write, or whose text is not a key. 0 or -errno, with the reason left by error_note(). */
int key_file_read(const char *path, struct proto_key *key);
/* The key at path, made first (mode 0600, written and synced) if there is none, so every
 * capnode of a cluster, started together or later, gets the same one. 0 or -errno (error_note). */
int key_file_ensure(const char *path, struct proto_key *key);

/* Puts the given key at path (mode 0600, written and synced), as every host of a lab across
 * hosts must hold its cluster's one key. 0 when it is there already; -EEXIST (error_note) when
 * another key is. */
int key_file_install(const char *path, const struct proto_key *key);

#endif /* CAPNET_KEY_FILE_H */
