/* SPDX-License-Identifier: GPL-2.0-only */
/* CP mode's request admission, as pure logic: what a node does with a client request given what
 * Raft and the network look like at that moment (lead it, forward it to the leader, hold it for
 * an election, or refuse it at once and say why), and the requests it holds until an answer, a
 * timeout or a change of leader. No I/O and no clock: the I/O shell (node/node.c) passes the
 * view and the time in and carries the decisions out, and tests/unit/test_cp_admit.c drives it
 * in a seeded simulation. */
#ifndef CAPNET_CP_ADMIT_H
#define CAPNET_CP_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/node_io.h"
#include "node/proto.h"

/* Requests held per table; a full table answers UNAVAILABLE (overloaded). */
#define CP_MAX_PENDING 256

enum cp_table {
	CP_WRITES, /* on the leader, by log index */
	CP_READS, /* on the leader, by read id */
	CP_FORWARDS, /* on a follower, by (nonce, seq) */
	CP_WAITING, /* no leader yet, but a quorum is in reach */
	CP_TABLES,
};

struct cp_pending {
	bool used;
	uint64_t key; /* write: log index; read: read id; forward/wait: 0 */
	uint64_t deadline; /* ms */
	struct reply_to to;
	struct client_request req;
};

struct cp_admit {
	struct cp_pending t[CP_TABLES][CP_MAX_PENDING];
	uint64_t next_read_id;
	uint64_t timeout_ms;
};

/* What a decision depends on, read from Raft and the network at that moment. */
struct cp_view {
	bool leader; /* this node leads */
	uint16_t leader_id; /* the leader Raft knows of, 0 for none */
	bool leader_addressable; /* leader_id is in the cluster map (a forward can reach it) */
	bool has_quorum; /* Raft's check-quorum: the leader heard from a majority lately */
	unsigned int reachable; /* members this node talks with both ways, itself included */
	unsigned int members;
	int quorum;
};

enum cp_action {
	CP_ANSWER, /* reply now: status and reason */
	CP_IGNORE, /* a resend of a request in flight here: the first copy gets the answer */
	CP_LOCAL_READ, /* --unsafe-local-reads: read the local state, no Raft */
	CP_READ_INDEX, /* leader: raft_read_index(read_id), then cp_admit_read_failed() on error */
	CP_PROPOSE, /* leader: raft_propose(entry), then cp_admit_proposed() */
	CP_FORWARD, /* follower: send to leader_id, then cp_admit_forwarded() */
	CP_HOLD, /* held for a leader; cp_admit_next_waiting() decides again */
};

struct cp_decision {
	enum cp_action action;
	enum reply_status status; /* CP_ANSWER */
	char reason[PROTO_REASON_MAX];
	uint64_t read_id; /* CP_READ_INDEX */
	uint8_t entry[PROTO_MAX_PAYLOAD]; /* CP_PROPOSE: the log entry */
	int entry_len;
};

void cp_admit_init(struct cp_admit *a, uint64_t timeout_ms);

/* The decision for a request from `to` (to->node is the follower that forwarded it, 0 for a
 * client). Tracks what it holds (reads and waits) itself. */
void cp_admit_decide(struct cp_admit *a, const struct cp_view *v, bool unsafe_local_reads,
		     uint64_t now, const struct reply_to *to, const struct client_request *req,
		     struct cp_decision *d);
/* After CP_READ_INDEX, when Raft refused the read: forgets it and fills the answer. */
void cp_admit_read_failed(struct cp_admit *a, uint64_t read_id, struct cp_decision *d);
/* After CP_PROPOSE: err is raft_propose()'s. 0 tracks the write at index (true); otherwise
 * fills the answer (false). */
bool cp_admit_proposed(struct cp_admit *a, int err, uint64_t index, uint64_t now,
		       const struct reply_to *to, const struct client_request *req,
		       struct cp_decision *d);
/* After CP_FORWARD, once the request went to the leader. */
void cp_admit_forwarded(struct cp_admit *a, uint64_t now, const struct reply_to *to,
			const struct client_request *req);

/* Takes (forgets and returns) the first request of table t with this key, or of this client
 * and sequence. False when there is none. */
bool cp_admit_take_key(struct cp_admit *a, enum cp_table t, uint64_t key, struct cp_pending *out);
bool cp_admit_take_request(struct cp_admit *a, enum cp_table t, uint32_t nonce, uint64_t seq,
			   struct cp_pending *out);
/* Takes the first request of table t whose deadline has passed; false when there is none. */
bool cp_admit_take_expired(struct cp_admit *a, enum cp_table t, uint64_t now,
			   struct cp_pending *out);
/* What a node says when it has no quorum: "no quorum (2/5 reachable, 3 needed)". */
void cp_admit_no_quorum(const struct cp_view *v, char *buf, size_t len);

enum cp_wait { CP_WAIT_DONE, CP_WAIT_RETRY, CP_WAIT_ANSWER };
/* Walks the held requests from *pos (start at 0): CP_WAIT_RETRY takes one that can go now (a
 * leader with a quorum is known; decide on it again), CP_WAIT_ANSWER takes one to refuse (its
 * time is up, or no quorum is in reach any more; d has the answer), CP_WAIT_DONE ends. */
enum cp_wait cp_admit_next_waiting(struct cp_admit *a, const struct cp_view *v, uint64_t now,
				   size_t *pos, struct cp_pending *out, struct cp_decision *d);

#endif /* CAPNET_CP_ADMIT_H */
