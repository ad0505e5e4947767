/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raft as a pure state machine: ticks, messages and client requests go in; storage writes,
 * messages to send, committed entries and ready reads come out through raft_ready(). No sockets,
 * no clock, no I/O, no global state: the same inputs always give the same outputs, so a whole
 * cluster can be simulated in one process and any run replayed from its seed.
 *
 * Features: randomized election timeouts, pre-vote, check-quorum with leader stickiness, log
 * replication with batching, pipelining and fast conflict backtracking, commit by majority of
 * entries of the current term only (a no-op starts each term), ReadIndex reads (also forwarded
 * from followers), log compaction by snapshot and snapshot catch-up of lagging followers.
 *
 * The shell's loop (node.c, or the simulation):
 *
 *	feed inputs: raft_tick(), raft_step(), raft_propose(), raft_read_index(), raft_compact()
 *	if (raft_has_ready(r)) {
 *		raft_ready(r, &rd);
 *		0. the rd.msgs for which raft_msg_before_sync() is true may be sent now, so that
 *		   the followers write while this node does;
 *		1. if rd.snapshot: persist it, discard every WAL entry, restore the app from it;
 *		2. if rd.truncate_from: discard WAL entries with index >= rd.truncate_from (a new
 *		   leader overwrote them; rd.entries then start at that index);
 *		3. append rd.entries to the WAL; if rd.hs_changed persist rd.hs; then fsync;
 *		4. only now send the other rd.msgs (a vote or an append acknowledgement promises
 *		   that what it acknowledges is on disk: sending before the fsync breaks Raft's
 *		   safety);
 *		5. apply rd.committed in order (see "Client de-duplication");
 *		6. serve rd.reads (after step 5: each read's index is <= the commit applied there);
 *		raft_advance(r);
 *	}
 *
 * Everything rd points to is owned by the raft and stays valid until raft_advance(). Between
 * raft_ready() and raft_advance() the inputs return -EBUSY.
 *
 * Errors: functions return 0 or -errno. -EREMOTE: this node is not the leader (raft_leader()
 * gives a hint, 0 if unknown); -EAGAIN: retry later (no leader known, leader not yet able to
 * serve); -EINVAL: bad argument; -ENOMEM; -EBUSY: called between raft_ready() and raft_advance().
 *
 * Client de-duplication: every entry carries (client_id, seq); client_id 0 opts out. On the
 * leader, raft_propose() returns the index of a not yet applied entry with the same pair instead
 * of appending it again; a retry that arrives later, or at another leader, may be logged twice.
 * So the application keeps, per client, the highest seq executed and its result, as part of its
 * state (and so of its snapshots): an entry whose seq is <= the client's last executed seq is
 * not executed again, and whoever waits for (client_id, seq) gets the stored, original result,
 * whichever copy it sees applied. A shell should answer a retry of an executed command from that
 * table without proposing. Clients number their commands 1, 2, 3... with one outstanding.
 *
 * Quorum: the leader steps down when it has not heard from a majority within an election timeout
 * (check-quorum). raft_has_quorum() tells whether requests can be expected to succeed now, and
 * raft_reachable() gives the count for an error message ("no quorum (2/5 reachable, 3 needed)").
 */
#ifndef CAPNET_RAFT_H
#define CAPNET_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_VOTERS 15
#define RAFT_MAX_NODE_ID 1000
/* Append messages in flight per follower before the leader waits for acknowledgements. */
#define RAFT_MAX_INFLIGHT 16

enum raft_role {
	RAFT_FOLLOWER,
	RAFT_PRE_CANDIDATE,
	RAFT_CANDIDATE,
	RAFT_LEADER,
};

enum raft_msg_type {
	RAFT_MSG_PREVOTE = 1,
	RAFT_MSG_PREVOTE_RESP,
	RAFT_MSG_VOTE,
	RAFT_MSG_VOTE_RESP,
	RAFT_MSG_APPEND,
	RAFT_MSG_APPEND_RESP,
	RAFT_MSG_SNAPSHOT,
	RAFT_MSG_HEARTBEAT,
	RAFT_MSG_HEARTBEAT_RESP,
	RAFT_MSG_READ_INDEX,
	RAFT_MSG_READ_INDEX_RESP,
	RAFT_MSG_TYPE_MAX,
};

enum raft_entry_type {
	RAFT_ENTRY_NORMAL,
	RAFT_ENTRY_NOOP, /* appended by each new leader so it can commit, and serve reads, at once */
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint64_t client_id;
	uint64_t seq;
	uint8_t type; /* enum raft_entry_type */
	uint32_t len;
	const uint8_t *data;
};

/*
 * One message. Field use by type (unused fields are 0):
 *  PREVOTE, VOTE:       term (for PREVOTE the term the sender would campaign in), index and
 *                       log_term of the sender's last entry.
 *  PREVOTE_RESP, VOTE_RESP: reject.
 *  APPEND:              index/log_term of the entry before entries[], commit, entries.
 *  APPEND_RESP:         success: index = last index known to match the leader's log.
 *                       reject: index = the rejected prev index, hint_index/hint_term: the
 *                       follower's conflicting term and the first index it holds in that term
 *                       (hint_term 0: the follower's log ends before, at hint_index - 1).
 *  SNAPSHOT:            index/log_term of the snapshot, snap_data/snap_len its content. The
 *                       answer is an APPEND_RESP.
 *  HEARTBEAT:           commit (capped at what the follower is known to hold), context: the
 *                       ReadIndex round; HEARTBEAT_RESP echoes context.
 *  READ_INDEX:          follower -> leader, context: the request id.
 *  READ_INDEX_RESP:     context: the request id, index: the read index, reject if refused.
 */
struct raft_msg {
	uint8_t type; /* enum raft_msg_type */
	bool reject;
	uint16_t from;
	uint16_t to;
	uint64_t term;
	uint64_t index;
	uint64_t log_term;
	uint64_t commit;
	uint64_t hint_index;
	uint64_t hint_term;
	uint64_t context;
	const struct raft_entry *entries;
	uint32_t n_entries;
	uint32_t snap_len;
	const uint8_t *snap_data;
};

struct raft_config {
	uint16_t id;
	uint16_t n_voters;
	uint16_t voters[RAFT_MAX_VOTERS]; /* ids 1..RAFT_MAX_NODE_ID, including id */
	/* Election timeout, drawn uniformly in [election_min, election_max) ticks at each reset. */
	uint32_t election_min;
	uint32_t election_max;
	uint32_t heartbeat_ticks; /* < election_min */
	uint64_t seed; /* seeds the node's own PRNG: the timeouts it draws replay */
	uint32_t max_batch_entries; /* per APPEND; 0: 64 */
	uint32_t max_batch_bytes; /* entry data per APPEND; 0: 1024. One entry always fits. */
};

/* What must be on stable storage before any message of the same ready is sent. */
struct raft_hard_state {
	uint64_t term;
	uint64_t commit;
	uint16_t vote;
};

struct raft_snapshot {
	uint64_t index; /* last index the state includes */
	uint64_t term; /* and its term */
	uint32_t len;
	const uint8_t *data;
};

/* A ReadIndex request that finished: serve it (err == 0) at the state of index, or fail it. */
struct raft_read_state {
	uint64_t id;
	uint64_t index;
	/* 0, -EREMOTE: leadership lost; -EAGAIN: no leader to ask, or no answer from it within
	 * the maximum election timeout. */
	int err;
};

struct raft_ready {
	bool hs_changed;
	struct raft_hard_state hs;
	const struct raft_snapshot *snapshot; /* installed from the leader; NULL if none */
	uint64_t truncate_from; /* 0: none */
	const struct raft_entry *entries;
	uint32_t n_entries;
	const struct raft_msg *msgs;
	uint32_t n_msgs;
	const struct raft_entry *committed;
	uint32_t n_committed;
	const struct raft_read_state *reads;
	uint32_t n_reads;
};

struct raft;

/* NULL plus errno (EINVAL for a bad configuration, ENOMEM). */
struct raft *raft_new(const struct raft_config *cfg);
void raft_free(struct raft *r);

/*
 * After a restart, before any other input: what storage holds. snap may be NULL; entries must
 * follow the snapshot (or index 1) without gaps. A torn last write is fine (a prefix of the
 * entries, without the hard state): nothing of that ready was sent. The application state is
 * the snapshot's: the committed entries after it come out of raft_ready() again to be re-applied.
 */
int raft_restore(struct raft *r, const struct raft_hard_state *hs, const struct raft_snapshot *snap,
		 const struct raft_entry *entries, size_t n);

/* Inputs. */
int raft_tick(struct raft *r);
int raft_step(struct raft *r, const struct raft_msg *m);
/* On the leader, appends a command; *index (may be NULL) is where it will commit, if it does. */
int raft_propose(struct raft *r, uint64_t client_id, uint64_t seq, const void *data, uint32_t len,
		 uint64_t *index);
/* Starts a linearizable read; it completes in a later ready's reads[] under the same id. */
int raft_read_index(struct raft *r, uint64_t id);
/*
 * The application's state up to index (<= raft_applied()) is data: keep it as the snapshot, drop
 * the log up to index. The shell has persisted data and may delete WAL entries <= index.
 */
int raft_compact(struct raft *r, uint64_t index, const void *data, uint32_t len);

/* Outputs. */
bool raft_has_ready(const struct raft *r);
int raft_ready(struct raft *r, struct raft_ready *rd);
int raft_advance(struct raft *r);

/*
 * True for the leader's APPEND and HEARTBEAT: they may leave before the ready's fsync (the
 * leader's parallel write of the Raft paper, 10.2.1). They promise nothing about this node's
 * disk, and the leader counts its own entries toward a commit only when acknowledgements come
 * in, which is after the fsync as long as the shell takes no input before it completes. A
 * crash before the fsync leaves entries on followers that the leader lost: entries of its term
 * that no majority holds, which a later leader either keeps or overwrites.
 */
bool raft_msg_before_sync(const struct raft_msg *m);

/* Status. */
enum raft_role raft_role(const struct raft *r);
const char *raft_role_name(enum raft_role role);
const char *raft_msg_type_name(uint8_t type);
uint64_t raft_term(const struct raft *r);
uint16_t raft_id(const struct raft *r);
uint16_t raft_leader(const struct raft *r);
uint64_t raft_commit(const struct raft *r);
uint64_t raft_applied(const struct raft *r);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_first_index(const struct raft *r); /* first entry still in the log */
/* Term of entry index, or 0 when compacted away or beyond the log. */
uint64_t raft_term_at(const struct raft *r, uint64_t index);
/* The entry at index, or NULL when compacted away or beyond the log; valid until the next input. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
const struct raft_snapshot *raft_snapshot(const struct raft *r);

/*
 * Voters (self included) heard from within the last two maximum election timeouts; *mask (may be
 * NULL) gets bit i for cfg.voters[i]. Any message counts, pre-vote rejections too, so a node cut
 * off from the leader still learns how many peers it reaches.
 */
int raft_reachable(const struct raft *r, uint32_t *mask);
/* Votes needed: a majority of the voters. */
int raft_quorum(const struct raft *r);
/*
 * True on a leader that heard from a majority within the last election timeout, and on a
 * follower that heard from its leader within the last election timeout.
 */
bool raft_has_quorum(const struct raft *r);

#endif /* CAPNET_RAFT_H */
