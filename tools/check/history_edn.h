/* SPDX-License-Identifier: GPL-2.0-only */
/* Jepsen's history format, EDN, read into and written from capnet's histories. Reading takes a
 * file as Jepsen and Knossos write them (one vector of operation maps, or one map per line):
 * :process, :type, :f, :value, and :time when there is one; nemesis operations are skipped (they
 * are not a client's); :value [k v] tuples (jepsen.independent) become keys, anything else is
 * register "r". Writing gives one map per line with :type :f :value :process :time :index, a
 * register's value as [k v] and a cas as [k [old new]], so Jepsen's tools read it. */
#ifndef CAPNET_HISTORY_EDN_H
#define CAPNET_HISTORY_EDN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/check/history.h"

/* True when text starts (after blanks and comments) as EDN does, not as JSON lines. */
bool history_looks_edn(const char *text, size_t len);
/* Appends the operations of an EDN history to h. 0, -EINVAL with err (line, and the column in
 * the message), -ENOMEM. */
int history_parse_edn(struct history *h, const char *text, size_t len, struct history_error *err);

/* Reads all of f into *text (malloc'd, *len bytes). 0, -ENOMEM or -EIO. */
int history_read_text(FILE *f, char **text, size_t *len);

/* Reads a whole history from f in either format (EDN if it looks like EDN, else JSON lines)
 * into h. 0, -EINVAL with err, -ENOMEM, or -errno from the stream. */
int history_read_any(struct history *h, FILE *f, struct history_error *err);

/* A fault of the run, for :nemesis operations in the export: at time, f (partition, heal, kill,
 * pause...) and what it did. */
struct history_fault {
	uint64_t time;
	const char *f;
	const char *value;
};

/* Writes h's events, and faults merged in by time, as EDN lines. Times are written from the
 * first event's (Jepsen's :time starts near 0). 0, -EIO, or -EINVAL with err for an event whose
 * value has no EDN form Jepsen would read back as the same operation (a cas that is not
 * [old new], a write, add or append of a list), checked before anything is written. */
int history_write_edn(FILE *out, const struct history *h, const struct history_fault *faults,
		      size_t n_faults, struct history_error *err);

#endif /* CAPNET_HISTORY_EDN_H */
