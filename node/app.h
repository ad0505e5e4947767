/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The application the Raft log drives in CP mode: a pure state machine (no I/O, no clock)
 * holding the key-value map (node/kv.h), the bank (node/bank.h) and the client sessions that
 * make retries safe. Every replica applies the same entries in the same order and so reaches
 * the same state, byte for byte in its snapshot.
 *
 * A log entry is a client request encoded by app_encode_entry() (the CLIENT_REQUEST payload of
 * docs/protocol.md: the wire codec and the log codec are one).
 *
 * Sessions: per client nonce, the highest seq applied and the reply it got. A request whose seq
 * equals it gets that stored reply again without being re-applied (a retry after a lost reply
 * or a leader change); a lower seq gets ERROR "stale request" (the client has moved on; its
 * reply is gone). Clients number their requests 1, 2, 3... (reads served by app_read() may
 * leave gaps) with at most one outstanding. The table keeps at most max_sessions clients and
 * evicts the least recently applied one beyond that: a client silent for that many other
 * clients' requests loses its session, and a retry of its last request would then be applied
 * again. No bounded table can avoid that without clients registering sessions; with 10,000
 * sessions and retries within seconds it needs 10,000 other clients in between.
 *
 * Reads (GET, BALANCE) may go through the log (they are then linearizable and deduplicated like
 * writes) but are normally served by ReadIndex with app_read(), which changes nothing.
 */
#ifndef CAPNET_APP_H
#define CAPNET_APP_H

#include <stddef.h>
#include <stdint.h>

#include "node/proto.h"

#define APP_SESSIONS_DEFAULT 10000
#define APP_SNAPSHOT_VERSION 1

struct app;
struct kv;
struct bank;

/* max_sessions 0 means APP_SESSIONS_DEFAULT. NULL plus errno (ENOMEM). */
struct app *app_open(size_t max_sessions);
void app_close(struct app *app);

/* An entry for the log: returns its length, or -EINVAL (a field out of range), -ENOSPC. */
int app_encode_entry(const struct client_request *req, uint8_t *buf, size_t cap);

/*
 * Applies the entry at index (indexes increase; gaps are fine: Raft's no-op entries are not
 * applied here) and fills *reply for the client whose request it is. Returns:
 *   0          applied, or answered from the session table
 *   -EALREADY  index <= app_applied(): nothing done (a replay), reply untouched
 *   -EBADMSG   the entry does not decode: every replica skips it alike; index counts as applied,
 *              reply is BAD_REQUEST with nonce and seq 0
 *   -ENOMEM    nothing applied and index not counted: the replica must stop (it recovers from
 *              its snapshot and log), since the others went on
 */
int app_apply(struct app *app, uint64_t index, const uint8_t *entry, size_t len,
	      struct client_reply *reply);

/* Answers a GET or BALANCE from the current state without changing anything (no session is
 * touched). Any other op: BAD_REQUEST. Fills every field of *reply. */
void app_read(const struct app *app, const struct client_request *req, struct client_reply *reply);

uint64_t app_applied(const struct app *app);
size_t app_session_count(const struct app *app);
const struct kv *app_kv(const struct app *app);
const struct bank *app_bank(const struct app *app);

/*
 * Serializes the whole state (applied index, map, bank, sessions) into a new buffer (*buf, to
 * free()): version byte, canonical content, CRC32C. Replicas in the same state produce the same
 * bytes. 0 or -ENOMEM.
 */
int app_snapshot(const struct app *app, uint8_t **buf, size_t *len);

/*
 * Replaces the state with a snapshot's. Returns 0, -EBADMSG (corrupt or not canonical: *why,
 * if why is not NULL, says what, e.g. "checksum mismatch"), -EPROTONOSUPPORT (another snapshot
 * version), -ENOMEM. On error the state is unchanged.
 */
int app_restore(struct app *app, const uint8_t *buf, size_t len, const char **why);

#endif /* CAPNET_APP_H */
