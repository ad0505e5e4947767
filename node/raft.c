// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raft consensus as a pure state machine (see raft.h for the contract with the shell).
 *
 * Memory: the log is one array of entries after the snapshot; each entry's data is its own
 * allocation, made when the entry enters the log. Queued APPEND messages name their entries by
 * index only and get pointers in raft_ready(), so growing the array never leaves a message
 * pointing at freed memory; truncation and compaction drop the queued messages they would break
 * (a dropped message is only a lost message to Raft).
 */
#include "lib/rng.h"
#include "node/raft.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum progress_state {
	PR_PROBE, /* one APPEND at a time until the follower's log matches */
	PR_REPLICATE, /* pipelined APPENDs, up to RAFT_MAX_INFLIGHT unacknowledged */
	PR_SNAPSHOT, /* a snapshot is on its way; wait for its acknowledgement */
};

enum read_state {
	READ_WAIT_INDEX, /* follower: asked the leader for a read index */
	READ_WAIT_QUORUM, /* leader: waiting for a heartbeat round to confirm leadership */
	READ_WAIT_APPLY, /* index known and confirmed: released once committed here */
};

struct raft_progress {
	uint64_t next;
	uint64_t match;
	uint64_t pending_snapshot;
	uint64_t read_ack; /* highest ReadIndex round acknowledged in this term */
	uint64_t last_heard;
	uint64_t inflight[RAFT_MAX_INFLIGHT]; /* last index of each APPEND in flight, a ring */
	uint32_t infl_head;
	uint32_t infl_count;
	uint32_t snap_wait;
	uint8_t state;
	bool paused;
	bool heard;
	bool recent_active;
	bool responded;
	bool granted;
};

struct raft_read_req {
	uint64_t id;
	uint64_t index;
	uint64_t round; /* leader: the heartbeat round; follower: the tick the leader was asked */
	uint16_t from; /* leader: who asked (own id for local); follower: the leader asked */
	uint8_t state;
	bool has_index;
};

struct raft {
	struct raft_config cfg;
	int self;
	int quorum;
	struct raft_progress prs[RAFT_MAX_VOTERS];

	uint64_t term;
	uint16_t vote;
	uint16_t leader;
	enum raft_role role;

	/* Log: ents[0] has index snap.index + 1. */
	struct raft_entry *ents;
	uint64_t n_ents;
	uint64_t cap_ents;
	struct raft_snapshot snap;
	uint64_t commit;
	uint64_t applied;
	uint64_t stable;
	uint64_t truncate_from;
	bool snap_pending;
	struct raft_hard_state hs_saved;

	uint64_t now;
	uint32_t election_elapsed;
	uint32_t heartbeat_elapsed;
	uint32_t timeout;
	uint64_t rng;

	struct raft_msg *out;
	uint32_t n_out;
	uint32_t cap_out;
	bool bcast_pending;

	struct raft_read_req *reads;
	uint32_t n_reads;
	uint32_t cap_reads;
	struct raft_read_state *done;
	uint32_t n_done;
	uint32_t cap_done;
	uint64_t read_round;

	bool in_ready;
	uint64_t rd_stable;
	uint64_t rd_applied;
	struct raft_hard_state rd_hs;
};

static void reset_timeout(struct raft *r)
{
	uint32_t span = r->cfg.election_max - r->cfg.election_min;

	r->election_elapsed = 0;
	r->timeout = r->cfg.election_min + (uint32_t)(rng_next(&r->rng) % span);
}

static int pos_of(const struct raft *r, uint16_t id)
{
	for (int i = 0; i < r->cfg.n_voters; i++)
		if (r->cfg.voters[i] == id)
			return i;
	return -1;
}

static uint64_t last_index(const struct raft *r)
{
	return r->snap.index + r->n_ents;
}

static struct raft_entry *entry_at(const struct raft *r, uint64_t index)
{
	if (index <= r->snap.index || index > last_index(r))
		return NULL;
	return &r->ents[index - r->snap.index - 1];
}

static uint64_t term_at(const struct raft *r, uint64_t index)
{
	struct raft_entry *e;

	if (index == r->snap.index)
		return r->snap.term;
	e = entry_at(r, index);
	return e ? e->term : 0;
}

static uint64_t last_term(const struct raft *r)
{
	return term_at(r, last_index(r));
}

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, (size_t)n * size);
	if (p)
		*cap = n;
	return p;
}

/* Sends are best effort: if memory runs out the message is lost, which Raft tolerates. */
static void send(struct raft *r, struct raft_msg *m)
{
	struct raft_msg *out = grow(r->out, &r->cap_out, r->n_out + 1, sizeof(*out));

	if (!out)
		return;
	r->out = out;
	m->from = r->cfg.id;
	if (m->type != RAFT_MSG_PREVOTE && m->type != RAFT_MSG_PREVOTE_RESP)
		m->term = r->term;
	m->entries = NULL;
	m->snap_data = NULL;
	r->out[r->n_out++] = *m;
}

/* Drops queued APPENDs whose entries include an index in [lo, hi]. */
static void drop_queued(struct raft *r, uint64_t lo, uint64_t hi)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < r->n_out; i++) {
		struct raft_msg *m = &r->out[i];
		uint64_t first = m->index + 1, last = m->index + m->n_entries;

		if (m->type == RAFT_MSG_APPEND && m->n_entries && first <= hi && last >= lo)
			continue;
		r->out[j++] = *m;
	}
	r->n_out = j;
}

static void free_entries(struct raft_entry *e, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		free((void *)e[i].data);
}

static int reserve_entries(struct raft *r, uint64_t n)
{
	uint64_t cap = r->cap_ents ? r->cap_ents : 64;
	struct raft_entry *e;

	if (r->n_ents + n <= r->cap_ents)
		return 0;
	while (cap < r->n_ents + n)
		cap *= 2;
	e = realloc(r->ents, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	r->ents = e;
	r->cap_ents = cap;
	return 0;
}

/* Appends a copy of e at last_index() + 1. */
static int append_entry(struct raft *r, const struct raft_entry *e)
{
	struct raft_entry *d;
	uint8_t *data = NULL;

	if (reserve_entries(r, 1))
		return -ENOMEM;
	if (e->len) {
		data = malloc(e->len);
		if (!data)
			return -ENOMEM;
		memcpy(data, e->data, e->len);
	}
	d = &r->ents[r->n_ents++];
	*d = *e;
	d->index = last_index(r);
	d->data = data;
	return 0;
}

/* Removes entries from index on: a new leader's log overrides them. */
static void truncate_log(struct raft *r, uint64_t index)
{
	uint64_t keep = index - r->snap.index - 1;

	drop_queued(r, index, UINT64_MAX);
	free_entries(r->ents + keep, r->n_ents - keep);
	r->n_ents = keep;
	if (r->stable >= index) {
		r->stable = index - 1;
		if (!r->truncate_from || r->truncate_from > index)
			r->truncate_from = index;
	}
}

static int set_snapshot_data(struct raft *r, const void *data, uint32_t len)
{
	uint8_t *copy = NULL;

	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	free((void *)r->snap.data);
	r->snap.data = copy;
	r->snap.len = len;
	return 0;
}

static int push_done(struct raft *r, uint64_t id, uint64_t index, int err)
{
	struct raft_read_state *d = grow(r->done, &r->cap_done, r->n_done + 1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	r->done = d;
	d[r->n_done++] = (struct raft_read_state){ .id = id, .index = index, .err = err };
	return 0;
}

static int push_read(struct raft *r, const struct raft_read_req *q)
{
	struct raft_read_req *v = grow(r->reads, &r->cap_reads, r->n_reads + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->reads = v;
	v[r->n_reads++] = *q;
	return 0;
}

/* Fails the reads a leader was confirming: it may no longer be the leader. */
static void fail_leader_reads(struct raft *r)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_read_req *q = &r->reads[i];

		if (q->state != READ_WAIT_QUORUM) {
			r->reads[j++] = *q;
			continue;
		}
		if (q->from == r->cfg.id) {
			push_done(r, q->id, 0, -EREMOTE);
		} else {
			struct raft_msg m = { .type = RAFT_MSG_READ_INDEX_RESP,
					      .to = q->from,
					      .context = q->id,
					      .reject = true };
			send(r, &m);
		}
	}
	r->n_reads = j;
}

/* A follower's forwarded reads die with the leader they were sent to. */
static void set_leader(struct raft *r, uint16_t leader)
{
	uint32_t j = 0;

	r->leader = leader;
	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_read_req *q = &r->reads[i];

		if (q->state == READ_WAIT_INDEX && q->from != leader)
			push_done(r, q->id, 0, -EAGAIN);
		else
			r->reads[j++] = *q;
	}
	r->n_reads = j;
}

static void become_follower(struct raft *r, uint64_t term, uint16_t leader)
{
	if (r->role == RAFT_LEADER)
		fail_leader_reads(r);
	if (term > r->term) {
		r->term = term;
		r->vote = 0;
	}
	r->role = RAFT_FOLLOWER;
	r->bcast_pending = false;
	set_leader(r, leader);
	reset_timeout(r);
}

static void reset_votes(struct raft *r)
{
	for (int i = 0; i < r->cfg.n_voters; i++) {
		r->prs[i].responded = i == r->self;
		r->prs[i].granted = i == r->self;
	}
}

/* Returns 1 when won, -1 when lost, 0 while undecided. */
static int tally(const struct raft *r)
{
	int yes = 0, no = 0;

	for (int i = 0; i < r->cfg.n_voters; i++) {
		if (!r->prs[i].responded)
			continue;
		if (r->prs[i].granted)
			yes++;
		else
			no++;
	}
	if (yes >= r->quorum)
		return 1;
	if (no > r->cfg.n_voters - r->quorum)
		return -1;
	return 0;
}

static void send_append(struct raft *r, int i);
static void maybe_commit(struct raft *r);

static void bcast_append(struct raft *r)
{
	for (int i = 0; i < r->cfg.n_voters; i++)
		if (i != r->self)
			send_append(r, i);
}

static void bcast_heartbeat(struct raft *r)
{
	for (int i = 0; i < r->cfg.n_voters; i++) {
		struct raft_progress *pr = &r->prs[i];
		struct raft_msg m = { .type = RAFT_MSG_HEARTBEAT,
				      .to = r->cfg.voters[i],
				      .context = r->read_round };

		if (i == r->self)
			continue;
		/* Never tell a follower to commit beyond what it is known to hold. */
		m.commit = pr->match < r->commit ? pr->match : r->commit;
		send(r, &m);
	}
	r->heartbeat_elapsed = 0;
}

static void become_leader(struct raft *r)
{
	struct raft_entry noop = { .term = r->term, .type = RAFT_ENTRY_NOOP };

	r->role = RAFT_LEADER;
	set_leader(r, r->cfg.id);
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	r->read_round = 0;
	for (int i = 0; i < r->cfg.n_voters; i++) {
		struct raft_progress *pr = &r->prs[i];

		pr->next = last_index(r) + 1;
		pr->match = 0;
		pr->state = PR_PROBE;
		pr->paused = false;
		pr->infl_count = 0;
		pr->read_ack = 0;
		pr->recent_active = i == r->self;
	}
	/*
	 * Entries of earlier terms commit only under an entry of this term; the no-op makes that
	 * happen at once, so reads and the previous leader's commands do not wait for a client.
	 */
	if (append_entry(r, &noop) == 0)
		maybe_commit(r);
	bcast_append(r);
}

static void campaign(struct raft *r, bool pre)
{
	uint64_t term;
	int won;

	reset_timeout(r);
	set_leader(r, 0);
	reset_votes(r);
	if (pre) {
		r->role = RAFT_PRE_CANDIDATE;
		term = r->term + 1;
	} else {
		r->role = RAFT_CANDIDATE;
		r->term++;
		r->vote = r->cfg.id;
		term = r->term;
	}
	won = tally(r);
	if (won > 0) {
		if (pre)
			campaign(r, false);
		else
			become_leader(r);
		return;
	}
	for (int i = 0; i < r->cfg.n_voters; i++) {
		struct raft_msg m = { .type = pre ? RAFT_MSG_PREVOTE : RAFT_MSG_VOTE,
				      .to = r->cfg.voters[i],
				      .term = term,
				      .index = last_index(r),
				      .log_term = last_term(r) };

		if (i != r->self)
			send(r, &m);
	}
}

static void infl_free_to(struct raft_progress *pr, uint64_t index)
{
	while (pr->infl_count && pr->inflight[pr->infl_head] <= index) {
		pr->infl_head = (pr->infl_head + 1) % RAFT_MAX_INFLIGHT;
		pr->infl_count--;
	}
}

static void infl_add(struct raft_progress *pr, uint64_t index)
{
	pr->inflight[(pr->infl_head + pr->infl_count) % RAFT_MAX_INFLIGHT] = index;
	pr->infl_count++;
}

static void send_snapshot(struct raft *r, int i)
{
	struct raft_progress *pr = &r->prs[i];
	struct raft_msg m = { .type = RAFT_MSG_SNAPSHOT, .to = r->cfg.voters[i] };

	/* index, log_term and data are filled in raft_ready() from the snapshot of that time. */
	send(r, &m);
	pr->state = PR_SNAPSHOT;
	pr->pending_snapshot = r->snap.index;
	pr->snap_wait = 0;
	pr->infl_count = 0;
}

/* Sends the follower what it lacks, as far as its progress state allows. */
static void send_append(struct raft *r, int i)
{
	struct raft_progress *pr = &r->prs[i];
	uint64_t prev, n = 0, bytes = 0, last = last_index(r);
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .to = r->cfg.voters[i] };

	if (pr->state == PR_SNAPSHOT || (pr->state == PR_PROBE && pr->paused) ||
	    (pr->state == PR_REPLICATE && pr->infl_count == RAFT_MAX_INFLIGHT))
		return;
	if (pr->next <= r->snap.index) {
		send_snapshot(r, i);
		return;
	}
	prev = pr->next - 1;
	while (prev + n < last && n < r->cfg.max_batch_entries) {
		const struct raft_entry *e = entry_at(r, prev + n + 1);

		if (n && bytes + e->len > r->cfg.max_batch_bytes)
			break;
		bytes += e->len;
		n++;
	}
	m.index = prev;
	m.log_term = term_at(r, prev);
	m.commit = r->commit;
	m.n_entries = (uint32_t)n;
	send(r, &m);
	if (pr->state == PR_REPLICATE && n) {
		pr->next = prev + n + 1;
		infl_add(pr, prev + n);
	} else if (pr->state == PR_PROBE) {
		pr->paused = true;
	}
}

static bool committed_in_term(const struct raft *r)
{
	return term_at(r, r->commit) == r->term;
}

static bool round_confirmed(const struct raft *r, uint64_t round)
{
	int acks = 0;

	for (int i = 0; i < r->cfg.n_voters; i++)
		if (i == r->self || r->prs[i].read_ack >= round)
			acks++;
	return acks >= r->quorum;
}

/* Leader: moves reads forward once their index is known and their round confirmed. */
static void advance_reads(struct raft *r)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_read_req *q = &r->reads[i];

		if (q->state == READ_WAIT_QUORUM) {
			/*
			 * Only after an entry of this term commits is the commit index at least
			 * everything any earlier leader committed.
			 */
			if (!q->has_index && committed_in_term(r)) {
				q->index = r->commit;
				q->has_index = true;
			}
			if (q->has_index && round_confirmed(r, q->round)) {
				if (q->from != r->cfg.id) {
					struct raft_msg m = { .type = RAFT_MSG_READ_INDEX_RESP,
							      .to = q->from,
							      .context = q->id,
							      .index = q->index };
					send(r, &m);
					continue;
				}
				q->state = READ_WAIT_APPLY;
			}
		}
		r->reads[j++] = *q;
	}
	r->n_reads = j;
}

static int leader_read(struct raft *r, uint64_t id, uint16_t from)
{
	struct raft_read_req q = { .id = id, .from = from, .state = READ_WAIT_QUORUM };
	int err;

	q.round = ++r->read_round;
	if (committed_in_term(r)) {
		q.index = r->commit;
		q.has_index = true;
	}
	err = push_read(r, &q);
	if (err)
		return err;
	if (r->quorum > 1)
		bcast_heartbeat(r);
	advance_reads(r);
	return 0;
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void maybe_commit(struct raft *r)
{
	uint64_t match[RAFT_MAX_VOTERS], n;

	for (int i = 0; i < r->cfg.n_voters; i++)
		match[i] = i == r->self ? last_index(r) : r->prs[i].match;
	qsort(match, r->cfg.n_voters, sizeof(match[0]), cmp_u64_desc);
	n = match[r->quorum - 1];
	/* Counting replicas proves an entry committed only for entries of the current term. */
	if (n > r->commit && term_at(r, n) == r->term) {
		r->commit = n;
		r->bcast_pending = true;
		advance_reads(r);
	}
}

static void reply_append(struct raft *r, const struct raft_msg *req, uint64_t index)
{
	struct raft_msg m = { .type = RAFT_MSG_APPEND_RESP, .to = req->from, .index = index };

	send(r, &m);
}

static void handle_append(struct raft *r, const struct raft_msg *m)
{
	uint64_t last = last_index(r), t, k, new_last;
	struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP, .to = m->from };

	if (m->index < r->commit) {
		reply_append(r, m, r->commit);
		return;
	}
	if (m->index > last) {
		resp.reject = true;
		resp.index = m->index;
		resp.hint_index = last + 1;
		send(r, &resp);
		return;
	}
	t = term_at(r, m->index);
	if (t != m->log_term) {
		uint64_t first = m->index;

		/* Point the leader at the start of the conflicting term: one round trip per term. */
		while (first - 1 > r->snap.index && first - 1 > r->commit &&
		       term_at(r, first - 1) == t)
			first--;
		resp.reject = true;
		resp.index = m->index;
		resp.hint_term = t;
		resp.hint_index = first;
		send(r, &resp);
		return;
	}
	for (k = 0; k < m->n_entries; k++) {
		const struct raft_entry *e = &m->entries[k];

		if (e->index <= last_index(r)) {
			if (term_at(r, e->index) == e->term)
				continue;
			/* Committed entries never conflict with the leader's log. */
			if (e->index <= r->commit)
				break;
			truncate_log(r, e->index);
		}
		if (append_entry(r, e))
			break;
	}
	new_last = m->index + k;
	if (m->commit > r->commit)
		r->commit = m->commit < new_last ? m->commit : new_last;
	reply_append(r, m, new_last);
}

static void handle_heartbeat(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { .type = RAFT_MSG_HEARTBEAT_RESP,
				 .to = m->from,
				 .context = m->context };
	uint64_t commit = m->commit < last_index(r) ? m->commit : last_index(r);

	if (commit > r->commit)
		r->commit = commit;
	send(r, &resp);
}

static void handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	if (m->index <= r->commit) {
		reply_append(r, m, r->commit);
		return;
	}
	if (term_at(r, m->index) == m->log_term) {
		/* Our log already holds it: only the commit index moves. */
		r->commit = m->index;
		reply_append(r, m, m->index);
		return;
	}
	if (set_snapshot_data(r, m->snap_data, m->snap_len))
		return;
	drop_queued(r, 0, UINT64_MAX);
	free_entries(r->ents, r->n_ents);
	r->n_ents = 0;
	r->snap.index = m->index;
	r->snap.term = m->log_term;
	r->commit = r->applied = r->stable = m->index;
	r->truncate_from = 0;
	r->snap_pending = true;
	reply_append(r, m, m->index);
}

static void handle_append_resp(struct raft *r, int i, const struct raft_msg *m)
{
	struct raft_progress *pr = &r->prs[i];

	if (m->reject) {
		uint64_t next = m->hint_index;

		if (pr->state == PR_SNAPSHOT || m->index <= pr->match ||
		    (pr->state == PR_PROBE && m->index != pr->next - 1))
			return; /* stale: answers an APPEND sent before the follower's state changed */
		if (m->hint_term) {
			uint64_t j = m->index < last_index(r) ? m->index : last_index(r);

			while (j > r->snap.index && term_at(r, j) > m->hint_term)
				j--;
			if (j > r->snap.index && term_at(r, j) == m->hint_term)
				next = j + 1;
		}
		if (next > m->index)
			next = m->index;
		if (next <= pr->match)
			next = pr->match + 1;
		pr->next = next;
		pr->state = PR_PROBE;
		pr->paused = false;
		pr->infl_count = 0;
		send_append(r, i);
		return;
	}
	infl_free_to(pr, m->index);
	if (m->index > pr->match) {
		pr->match = m->index;
		maybe_commit(r);
	}
	if (pr->next < m->index + 1)
		pr->next = m->index + 1;
	if (pr->state == PR_PROBE ||
	    (pr->state == PR_SNAPSHOT && pr->match >= pr->pending_snapshot)) {
		pr->state = PR_REPLICATE;
		pr->next = pr->match + 1;
		pr->infl_count = 0;
	}
	pr->paused = false;
	while (pr->state == PR_REPLICATE && pr->next <= last_index(r) &&
	       pr->infl_count < RAFT_MAX_INFLIGHT)
		send_append(r, i);
}

static void handle_heartbeat_resp(struct raft *r, int i, const struct raft_msg *m)
{
	struct raft_progress *pr = &r->prs[i];

	if (m->context > pr->read_ack) {
		pr->read_ack = m->context;
		advance_reads(r);
	}
	if (pr->match >= last_index(r))
		return;
	/*
	 * The follower is behind: lost APPENDs otherwise stall a pipeline until the next proposal.
	 * Make room for one APPEND; it either carries entries or, past the follower's log, draws
	 * a rejection that starts probing.
	 */
	if (pr->state == PR_REPLICATE && pr->infl_count == RAFT_MAX_INFLIGHT)
		infl_free_to(pr, pr->inflight[pr->infl_head]);
	if (pr->state == PR_SNAPSHOT) {
		if (pr->snap_wait < r->cfg.election_min)
			return;
		pr->state = PR_PROBE; /* the snapshot was probably lost: try again */
	}
	pr->paused = false;
	send_append(r, i);
}

static void handle_read_index_resp(struct raft *r, const struct raft_msg *m)
{
	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_read_req *q = &r->reads[i];

		if (q->state != READ_WAIT_INDEX || q->id != m->context || q->from != m->from)
			continue;
		if (m->reject) {
			push_done(r, q->id, 0, -EREMOTE);
			r->reads[i] = r->reads[--r->n_reads];
		} else {
			q->index = m->index;
			q->has_index = true;
			q->state = READ_WAIT_APPLY;
		}
		return;
	}
}

static bool log_up_to_date(const struct raft *r, const struct raft_msg *m)
{
	uint64_t lt = last_term(r);

	return m->log_term > lt || (m->log_term == lt && m->index >= last_index(r));
}

static void handle_vote(struct raft *r, const struct raft_msg *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE;
	bool can = r->vote == m->from || (r->vote == 0 && r->leader == 0) ||
		   (pre && m->term > r->term);
	struct raft_msg resp = { .type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP,
				 .to = m->from };

	resp.reject = !(can && log_up_to_date(r, m));
	/* A granted pre-vote answers in the asked term, so the candidate can match it. */
	resp.term = pre && !resp.reject ? m->term : r->term;
	if (!resp.reject && !pre) {
		r->vote = m->from;
		reset_timeout(r);
	}
	send(r, &resp);
}

static void handle_vote_resp(struct raft *r, int i, const struct raft_msg *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
	int won;

	if (r->role != (pre ? RAFT_PRE_CANDIDATE : RAFT_CANDIDATE))
		return;
	if (pre && !m->reject && m->term != r->term + 1)
		return;
	if ((!pre || m->reject) && m->term != r->term)
		return;
	r->prs[i].responded = true;
	r->prs[i].granted = !m->reject;
	won = tally(r);
	if (won > 0) {
		if (pre)
			campaign(r, false);
		else
			become_leader(r);
	} else if (won < 0) {
		become_follower(r, r->term, 0);
	}
}

static bool in_lease(const struct raft *r)
{
	return r->leader != 0 && r->election_elapsed < r->cfg.election_min;
}

static bool from_leader(uint8_t type)
{
	return type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT || type == RAFT_MSG_SNAPSHOT;
}

static int check_msg(const struct raft *r, const struct raft_msg *m)
{
	int i;

	if (!m)
		return -EINVAL;
	i = pos_of(r, m->from);
	if (m->type == 0 || m->type >= RAFT_MSG_TYPE_MAX || m->to != r->cfg.id || i < 0 ||
	    i == r->self)
		return -EINVAL;
	if (m->n_entries && !m->entries)
		return -EINVAL;
	for (uint32_t k = 0; k < m->n_entries; k++)
		if (m->entries[k].index != m->index + 1 + k ||
		    (m->entries[k].len && !m->entries[k].data))
			return -EINVAL;
	if (m->snap_len && !m->snap_data)
		return -EINVAL;
	return i;
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *pr;
	int i;

	if (r->in_ready)
		return -EBUSY;
	i = check_msg(r, m);
	if (i < 0)
		return i;
	pr = &r->prs[i];
	pr->heard = true;
	pr->last_heard = r->now;
	pr->recent_active = true;

	if (m->term > r->term) {
		bool vote_req = m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE;

		if (vote_req && in_lease(r)) {
			/*
			 * Leader stickiness: we heard from a live leader within the minimum election
			 * timeout, so this candidate is the one cut off. Answering a pre-vote tells it
			 * that we are alive; a vote request is ignored, as its term must not win.
			 */
			if (m->type == RAFT_MSG_PREVOTE) {
				struct raft_msg resp = { .type = RAFT_MSG_PREVOTE_RESP,
							 .to = m->from,
							 .term = r->term,
							 .reject = true };
				send(r, &resp);
			}
			return 0;
		}
		if (m->type != RAFT_MSG_PREVOTE &&
		    !(m->type == RAFT_MSG_PREVOTE_RESP && !m->reject))
			become_follower(r, m->term, from_leader(m->type) ? m->from : 0);
	} else if (m->term < r->term) {
		/*
		 * A stale leader learns our term and steps down; this also frees a node stuck in a
		 * higher term that the others, being sticky, would otherwise never elect.
		 */
		if (from_leader(m->type)) {
			struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP,
						 .to = m->from,
						 .reject = true };
			send(r, &resp);
		} else if (m->type == RAFT_MSG_PREVOTE) {
			struct raft_msg resp = { .type = RAFT_MSG_PREVOTE_RESP,
						 .to = m->from,
						 .term = r->term,
						 .reject = true };
			send(r, &resp);
		}
		return 0;
	}

	if (from_leader(m->type)) {
		if (r->role == RAFT_LEADER)
			return 0; /* two leaders in one term cannot happen; ignore rather than trust */
		if (r->role != RAFT_FOLLOWER || r->leader != m->from)
			become_follower(r, r->term, m->from);
		r->election_elapsed = 0;
	}

	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		handle_vote(r, m);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		handle_vote_resp(r, i, m);
		break;
	case RAFT_MSG_APPEND:
		handle_append(r, m);
		break;
	case RAFT_MSG_HEARTBEAT:
		handle_heartbeat(r, m);
		break;
	case RAFT_MSG_SNAPSHOT:
		handle_snapshot(r, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		if (r->role == RAFT_LEADER)
			handle_append_resp(r, i, m);
		break;
	case RAFT_MSG_HEARTBEAT_RESP:
		if (r->role == RAFT_LEADER)
			handle_heartbeat_resp(r, i, m);
		break;
	case RAFT_MSG_READ_INDEX:
		if (r->role == RAFT_LEADER && leader_read(r, m->context, m->from) == 0)
			break;
		{
			struct raft_msg resp = { .type = RAFT_MSG_READ_INDEX_RESP,
						 .to = m->from,
						 .context = m->context,
						 .reject = true };
			send(r, &resp);
		}
		break;
	case RAFT_MSG_READ_INDEX_RESP:
		handle_read_index_resp(r, m);
		break;
	}
	return 0;
}

/* A forwarded read whose answer was lost would otherwise wait for a leader change. */
static void expire_reads(struct raft *r)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_read_req *q = &r->reads[i];

		if (q->state == READ_WAIT_INDEX && r->now - q->round > r->cfg.election_max &&
		    push_done(r, q->id, 0, -EAGAIN) == 0)
			continue;
		r->reads[j++] = *q;
	}
	r->n_reads = j;
}

int raft_tick(struct raft *r)
{
	if (r->in_ready)
		return -EBUSY;
	r->now++;
	if (r->n_reads)
		expire_reads(r);
	r->election_elapsed++;
	if (r->role != RAFT_LEADER) {
		if (r->election_elapsed >= r->timeout)
			campaign(r, r->quorum > 1);
		return 0;
	}
	for (int i = 0; i < r->cfg.n_voters; i++)
		if (r->prs[i].state == PR_SNAPSHOT)
			r->prs[i].snap_wait++;
	if (++r->heartbeat_elapsed >= r->cfg.heartbeat_ticks)
		bcast_heartbeat(r);
	if (r->election_elapsed >= r->cfg.election_min) {
		int active = 0;

		/* Check-quorum: a leader cut off from a majority must stop serving. */
		r->election_elapsed = 0;
		for (int i = 0; i < r->cfg.n_voters; i++) {
			if (r->prs[i].recent_active || i == r->self)
				active++;
			r->prs[i].recent_active = false;
		}
		if (active < r->quorum)
			become_follower(r, r->term, 0);
	}
	return 0;
}

int raft_propose(struct raft *r, uint64_t client_id, uint64_t seq, const void *data, uint32_t len,
		 uint64_t *index)
{
	struct raft_entry e = { .term = r->term,
				.client_id = client_id,
				.seq = seq,
				.type = RAFT_ENTRY_NORMAL,
				.len = len,
				.data = data };
	int err;

	if (r->in_ready)
		return -EBUSY;
	if (len && !data)
		return -EINVAL;
	if (r->role != RAFT_LEADER)
		return -EREMOTE;
	/* A retry of a command still on its way gets the same entry, not a second one. */
	for (uint64_t i = last_index(r); client_id && i > r->applied && i > r->snap.index; i--) {
		const struct raft_entry *o = entry_at(r, i);

		if (o->client_id == client_id && o->seq == seq) {
			if (index)
				*index = i;
			return 0;
		}
	}
	err = append_entry(r, &e);
	if (err)
		return err;
	if (index)
		*index = last_index(r);
	r->bcast_pending = true;
	maybe_commit(r);
	return 0;
}

int raft_read_index(struct raft *r, uint64_t id)
{
	struct raft_read_req q = { .id = id, .state = READ_WAIT_INDEX };
	struct raft_msg m = { .type = RAFT_MSG_READ_INDEX, .context = id };
	int err;

	if (r->in_ready)
		return -EBUSY;
	if (r->role == RAFT_LEADER)
		return leader_read(r, id, r->cfg.id);
	if (!r->leader)
		return -EAGAIN;
	q.from = r->leader;
	q.round = r->now;
	err = push_read(r, &q);
	if (err)
		return err;
	m.to = r->leader;
	send(r, &m);
	return 0;
}

int raft_compact(struct raft *r, uint64_t index, const void *data, uint32_t len)
{
	uint64_t drop, term;
	int err;

	if (r->in_ready)
		return -EBUSY;
	if (index > r->applied || (len && !data))
		return -EINVAL;
	if (index <= r->snap.index)
		return 0;
	term = term_at(r, index);
	err = set_snapshot_data(r, data, len);
	if (err)
		return err;
	drop_queued(r, 0, index);
	drop = index - r->snap.index;
	free_entries(r->ents, drop);
	memmove(r->ents, r->ents + drop, (r->n_ents - drop) * sizeof(*r->ents));
	r->n_ents -= drop;
	r->snap.index = index;
	r->snap.term = term;
	return 0;
}

static bool hs_equal(const struct raft_hard_state *a, const struct raft_hard_state *b)
{
	return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

static struct raft_hard_state hard_state(const struct raft *r)
{
	return (struct raft_hard_state){ .term = r->term, .vote = r->vote, .commit = r->commit };
}

static bool read_releasable(const struct raft *r)
{
	for (uint32_t i = 0; i < r->n_reads; i++)
		if (r->reads[i].state == READ_WAIT_APPLY && r->reads[i].index <= r->commit)
			return true;
	return false;
}

bool raft_has_ready(const struct raft *r)
{
	struct raft_hard_state hs = hard_state(r);

	if (r->in_ready)
		return false;
	return r->snap_pending || r->truncate_from || r->stable < last_index(r) ||
	       !hs_equal(&hs, &r->hs_saved) || r->n_out || r->n_done || r->applied < r->commit ||
	       r->bcast_pending || read_releasable(r);
}

int raft_ready(struct raft *r, struct raft_ready *rd)
{
	uint32_t j = 0;

	if (r->in_ready)
		return -EBUSY;
	if (r->bcast_pending && r->role == RAFT_LEADER)
		bcast_append(r);
	r->bcast_pending = false;
	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_read_req *q = &r->reads[i];

		if (q->state == READ_WAIT_APPLY && q->index <= r->commit &&
		    push_done(r, q->id, q->index, 0) == 0)
			continue;
		r->reads[j++] = *q;
	}
	r->n_reads = j;
	for (uint32_t i = 0; i < r->n_out; i++) {
		struct raft_msg *m = &r->out[i];

		if (m->type == RAFT_MSG_APPEND && m->n_entries)
			m->entries = entry_at(r, m->index + 1);
		if (m->type == RAFT_MSG_SNAPSHOT) {
			m->index = r->snap.index;
			m->log_term = r->snap.term;
			m->snap_data = r->snap.data;
			m->snap_len = r->snap.len;
		}
	}

	memset(rd, 0, sizeof(*rd));
	rd->hs = hard_state(r);
	rd->hs_changed = !hs_equal(&rd->hs, &r->hs_saved);
	rd->snapshot = r->snap_pending ? &r->snap : NULL;
	rd->truncate_from = r->truncate_from;
	if (r->stable < last_index(r)) {
		rd->entries = entry_at(r, r->stable + 1);
		rd->n_entries = (uint32_t)(last_index(r) - r->stable);
	}
	rd->msgs = r->out;
	rd->n_msgs = r->n_out;
	if (r->applied < r->commit) {
		rd->committed = entry_at(r, r->applied + 1);
		rd->n_committed = (uint32_t)(r->commit - r->applied);
	}
	rd->reads = r->done;
	rd->n_reads = r->n_done;

	r->in_ready = true;
	r->rd_stable = last_index(r);
	r->rd_applied = r->commit;
	r->rd_hs = rd->hs;
	return 0;
}

int raft_advance(struct raft *r)
{
	if (!r->in_ready)
		return -EINVAL;
	r->in_ready = false;
	r->stable = r->rd_stable;
	r->applied = r->rd_applied;
	r->hs_saved = r->rd_hs;
	r->truncate_from = 0;
	r->snap_pending = false;
	r->n_out = 0;
	r->n_done = 0;
	return 0;
}

struct raft *raft_new(const struct raft_config *cfg)
{
	struct raft *r;

	if (!cfg || !cfg->n_voters || cfg->n_voters > RAFT_MAX_VOTERS || !cfg->heartbeat_ticks ||
	    cfg->election_min <= cfg->heartbeat_ticks || cfg->election_max <= cfg->election_min) {
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < cfg->n_voters; i++) {
		if (!cfg->voters[i] || cfg->voters[i] > RAFT_MAX_NODE_ID) {
			errno = EINVAL;
			return NULL;
		}
		for (int k = 0; k < i; k++) {
			if (cfg->voters[k] == cfg->voters[i]) {
				errno = EINVAL;
				return NULL;
			}
		}
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	if (!r->cfg.max_batch_entries)
		r->cfg.max_batch_entries = 64;
	if (!r->cfg.max_batch_bytes)
		r->cfg.max_batch_bytes = 1024;
	r->self = pos_of(r, cfg->id);
	if (r->self < 0) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->quorum = cfg->n_voters / 2 + 1;
	r->rng = cfg->seed ^ ((uint64_t)cfg->id << 48);
	r->role = RAFT_FOLLOWER;
	reset_timeout(r);
	return r;
}

void raft_free(struct raft *r)
{
	if (!r)
		return;
	free_entries(r->ents, r->n_ents);
	free(r->ents);
	free((void *)r->snap.data);
	free(r->out);
	free(r->reads);
	free(r->done);
	free(r);
}

int raft_restore(struct raft *r, const struct raft_hard_state *hs, const struct raft_snapshot *snap,
		 const struct raft_entry *entries, size_t n)
{
	uint64_t first = snap ? snap->index + 1 : 1;
	int err;

	if (r->in_ready || r->term || last_index(r) || !hs || (n && !entries) ||
	    (hs->vote && pos_of(r, hs->vote) < 0))
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (entries[k].index != first + k || (k && entries[k].term < entries[k - 1].term) ||
		    (snap && entries[k].term < snap->term))
			return -EINVAL;
	if (snap) {
		err = set_snapshot_data(r, snap->data, snap->len);
		if (err)
			return err;
		r->snap.index = snap->index;
		r->snap.term = snap->term;
	}
	err = reserve_entries(r, n);
	for (size_t k = 0; !err && k < n; k++)
		err = append_entry(r, &entries[k]);
	if (err) {
		free_entries(r->ents, r->n_ents);
		r->n_ents = 0;
		return err;
	}
	r->term = hs->term;
	r->vote = hs->vote;
	/*
	 * A write torn by a crash can keep entries of a term whose hard state did not reach the
	 * disk. The node did see that term, and sent nothing in it (messages wait for the whole
	 * write), so it resumes there with no vote.
	 */
	if (last_term(r) > r->term) {
		r->term = last_term(r);
		r->vote = 0;
	}
	r->commit = hs->commit > r->snap.index ? hs->commit : r->snap.index;
	if (r->commit > last_index(r))
		r->commit = last_index(r);
	r->applied = r->snap.index;
	r->stable = last_index(r);
	r->hs_saved = *hs;
	return 0;
}

bool raft_msg_before_sync(const struct raft_msg *m)
{
	return m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT;
}

enum raft_role raft_role(const struct raft *r)
{
	return r->role;
}

const char *raft_role_name(enum raft_role role)
{
	switch (role) {
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_PRE_CANDIDATE:
		return "pre-candidate";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_LEADER:
		return "leader";
	}
	return "?";
}

const char *raft_msg_type_name(uint8_t type)
{
	static const char *const names[RAFT_MSG_TYPE_MAX] = {
		[RAFT_MSG_PREVOTE] = "PREVOTE",
		[RAFT_MSG_PREVOTE_RESP] = "PREVOTE_RESP",
		[RAFT_MSG_VOTE] = "VOTE",
		[RAFT_MSG_VOTE_RESP] = "VOTE_RESP",
		[RAFT_MSG_APPEND] = "APPEND",
		[RAFT_MSG_APPEND_RESP] = "APPEND_RESP",
		[RAFT_MSG_SNAPSHOT] = "SNAPSHOT",
		[RAFT_MSG_HEARTBEAT] = "HEARTBEAT",
		[RAFT_MSG_HEARTBEAT_RESP] = "HEARTBEAT_RESP",
		[RAFT_MSG_READ_INDEX] = "READ_INDEX",
		[RAFT_MSG_READ_INDEX_RESP] = "READ_INDEX_RESP",
	};

	return type < RAFT_MSG_TYPE_MAX && names[type] ? names[type] : "?";
}

uint64_t raft_term(const struct raft *r)
{
	return r->term;
}

uint16_t raft_id(const struct raft *r)
{
	return r->cfg.id;
}

uint16_t raft_leader(const struct raft *r)
{
	return r->leader;
}

uint64_t raft_commit(const struct raft *r)
{
	return r->commit;
}

uint64_t raft_applied(const struct raft *r)
{
	return r->applied;
}

uint64_t raft_last_index(const struct raft *r)
{
	return last_index(r);
}

uint64_t raft_first_index(const struct raft *r)
{
	return r->snap.index + 1;
}

uint64_t raft_term_at(const struct raft *r, uint64_t index)
{
	return term_at(r, index);
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
	return entry_at(r, index);
}

const struct raft_snapshot *raft_snapshot(const struct raft *r)
{
	return &r->snap;
}

static bool heard_within(const struct raft *r, int i, uint64_t window)
{
	return i == r->self || (r->prs[i].heard && r->now - r->prs[i].last_heard < window);
}

int raft_reachable(const struct raft *r, uint32_t *mask)
{
	uint64_t window = 2 * (uint64_t)r->cfg.election_max;
	uint32_t bits = 0;
	int n = 0;

	for (int i = 0; i < r->cfg.n_voters; i++) {
		if (heard_within(r, i, window)) {
			bits |= 1u << i;
			n++;
		}
	}
	if (mask)
		*mask = bits;
	return n;
}

int raft_quorum(const struct raft *r)
{
	return r->quorum;
}

bool raft_has_quorum(const struct raft *r)
{
	int n = 0;

	if (r->role == RAFT_LEADER) {
		for (int i = 0; i < r->cfg.n_voters; i++)
			n += heard_within(r, i, r->cfg.election_min);
		return n >= r->quorum;
	}
	if (r->role == RAFT_FOLLOWER && r->leader)
		return heard_within(r, pos_of(r, r->leader), r->cfg.election_min);
	return false;
}
