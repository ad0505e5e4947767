// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raft in a deterministic simulation: 3, 5, 7 (and 15) nodes in one process on a simulated network
 * that delays, reorders, loses and duplicates messages and is partitioned and cut one way; nodes
 * crash and restart from what they persisted; clients write per-key registers with retries and
 * read them through ReadIndex. Safety is checked as the run goes, and at the end of each seed;
 * liveness after the network heals. Every run replays from its seed:
 *
 *	CAPNET_SIM_SEEDS=N   seeds for the randomized test (default DEFAULT_SEEDS, below)
 *	CAPNET_SIM_BASE=B    first seed of the range (default 1)
 *	CAPNET_SIM_SEED=S    run only seed S (the failure message prints the command)
 *	CAPNET_SIM_TRACE=T   print every message delivered from tick T on
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/raft.h"
#include "tests/lib/sim.h"

#define MAX_NODES 15
#define N_KEYS 4
#define N_CLIENTS 3
#define MARKER_CLIENT (N_CLIENTS + 1) /* proposes the liveness probe after healing */
#define CMD_LEN 9 /* key byte, then the value, then padding */
#define CLIENT_TIMEOUT 60
#define HEAL_BOUND 300 /* ticks from heal to a committed, everywhere-applied new command */

/* About 20 s of seeds on one core; sanitizers slow the run down 3-5 times, so they get fewer. */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SEEDS 1500
#else
#define DEFAULT_SEEDS 8000
#endif

static const char *prog = "test_raft";
static uint64_t trace_from = UINT64_MAX; /* CAPNET_SIM_TRACE=tick: print deliveries from then on */

/* ---- the application: registers, with per-client de-duplication ---- */

struct app {
	uint64_t index; /* last entry applied */
	uint64_t hash; /* chains every entry applied: equal hashes, equal histories */
	uint64_t regs[N_KEYS];
	uint64_t writes[N_KEYS]; /* writes executed: a command executed twice shows here */
	uint64_t last_seq[MARKER_CLIENT + 1];
	uint64_t last_result[MARKER_CLIENT + 1]; /* index where last_seq executed */
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static uint64_t entry_fp(const struct raft_entry *e)
{
	uint64_t h = mix(mix(mix(e->term, e->type), e->client_id), e->seq);

	for (uint32_t i = 0; i < e->len; i++)
		h = mix(h, e->data[i]);
	return mix(h, e->len);
}

/* Commands vary in length so batching by bytes matters. */
static uint32_t cmd_encode(uint8_t *buf, uint8_t key, uint64_t value)
{
	uint32_t len = CMD_LEN + (uint32_t)(value % 33);

	memset(buf, (int)(value & 0xff), len);
	buf[0] = key;
	memcpy(buf + 1, &value, sizeof(value));
	return len;
}

static void cmd_decode(const struct raft_entry *e, uint8_t *key, uint64_t *value)
{
	*key = e->data[0];
	memcpy(value, e->data + 1, sizeof(*value));
}

/* Returns true when the entry executed, false when it was a duplicate or a no-op. */
static bool app_apply(struct app *a, const struct raft_entry *e)
{
	bool exec = false;

	if (e->type == RAFT_ENTRY_NORMAL && e->seq > a->last_seq[e->client_id]) {
		uint8_t key;
		uint64_t value;

		cmd_decode(e, &key, &value);
		a->regs[key] = value;
		a->writes[key]++;
		a->last_seq[e->client_id] = e->seq;
		a->last_result[e->client_id] = e->index;
		exec = true;
	}
	a->index = e->index;
	a->hash = mix(a->hash, entry_fp(e));
	return exec;
}

/* ---- what the simulation knows to be true: the one committed history ---- */

struct canon {
	bool set;
	bool exec;
	uint8_t key;
	uint64_t term;
	uint64_t fp;
	uint64_t client;
	uint64_t seq;
	uint64_t hash; /* application hash after applying this entry */
	uint64_t regs[N_KEYS];
};

struct ack {
	uint64_t client;
	uint64_t seq;
	uint64_t index;
};

struct disk {
	struct raft_hard_state hs;
	bool has_snap;
	struct raft_snapshot snap;
	struct app snap_app;
	struct raft_entry *wal;
	size_t n;
	size_t cap;
};

struct node {
	int id;
	bool up;
	struct raft *r;
	struct app app;
	struct disk disk;
	uint64_t restart_at;
	uint32_t restarts;
	uint64_t compact_every;
	bool tear; /* crash in the middle of the next ready's writes */
};

enum client_state { C_IDLE, C_WRITE, C_READ };

struct client {
	uint64_t id;
	enum client_state state;
	uint64_t seq;
	uint8_t key;
	uint64_t value;
	int node;
	bool submitted; /* accepted by the node it waits on */
	uint64_t retry_at;
	uint64_t deadline;
	uint64_t read_id;
	uint64_t read_floor; /* highest commit anywhere when the read started */
};

struct cluster {
	uint64_t seed;
	int n;
	struct raft_config cfg;
	struct sim_rng rng;
	struct sim_net *net;
	struct node nodes[MAX_NODES + 1];
	struct client clients[N_CLIENTS + 1];
	bool clients_on;
	bool random; /* a seed of the randomized test, replayable alone */

	struct canon *canon;
	uint64_t canon_len;
	uint64_t canon_cap;
	uint64_t canon_last_seq[MARKER_CLIENT + 1];
	uint64_t max_commit;
	uint16_t *leader_of; /* per term */
	uint64_t leader_of_len;
	struct ack *acks;
	size_t n_acks;
	size_t cap_acks;
	uint64_t next_read_id;

	/* counters, to show that the run exercised what it claims */
	uint64_t writes_acked;
	uint64_t reads_ok;
	uint64_t dups_skipped;
	uint64_t retries;
	uint64_t reads_failed;
	/* The last read completions, for scenario tests. */
	struct raft_read_state read_log[32];
	int read_log_node[32];
	int n_read_log;
	uint64_t crashes;
	uint64_t torn_writes;
	uint64_t snapshots_installed;
	uint64_t snap_msgs;
	uint64_t append_rejects;
	uint64_t elections;
	uint64_t torn_after_send; /* the leader lost entries its APPENDs had already carried */
};

/* ---- failures name the seed and how to replay it ---- */

static void __attribute__((format(printf, 4, 5)))
check_failed(const struct cluster *c, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAILED at line %d: %s\n  ", line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  seed %" PRIu64 ", %d nodes, tick %" PRIu64 "\n", c->seed, c->n,
		sim_net_now(c->net));
	for (int i = 1; i <= c->n; i++) {
		const struct node *n = &c->nodes[i];

		if (!n->up) {
			fprintf(stderr, "  node %d down\n", i);
			continue;
		}
		fprintf(stderr,
			"  node %d %s term %" PRIu64 " leader %u log %" PRIu64 "..%" PRIu64
			" commit %" PRIu64 " applied %" PRIu64 " reachable %d\n",
			i, raft_role_name(raft_role(n->r)), raft_term(n->r), raft_leader(n->r),
			raft_first_index(n->r), raft_last_index(n->r), raft_commit(n->r),
			raft_applied(n->r), raft_reachable(n->r, NULL));
	}
	if (c->random)
		fprintf(stderr, "  replay: CAPNET_SIM_SEED=%" PRIu64 " %s\n", c->seed, prog);
	else
		fprintf(stderr, "  a scenario with a fixed seed: %s replays it\n", prog);
	fail();
}

#define CHECK(c, cond, ...)                                            \
	do {                                                           \
		if (!(cond))                                           \
			check_failed(c, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* ---- messages cross the simulated network as flat copies ---- */

static void *msg_pack(const struct raft_msg *m, size_t *len)
{
	size_t size = sizeof(*m) + m->n_entries * sizeof(struct raft_entry) + m->snap_len;
	uint8_t *buf, *p;

	for (uint32_t i = 0; i < m->n_entries; i++)
		size += m->entries[i].len;
	buf = malloc(size);
	if (!buf)
		return NULL;
	memcpy(buf, m, sizeof(*m));
	p = buf + sizeof(*m) + m->n_entries * sizeof(struct raft_entry);
	if (m->n_entries)
		memcpy(buf + sizeof(*m), m->entries, m->n_entries * sizeof(struct raft_entry));
	for (uint32_t i = 0; i < m->n_entries; i++) {
		if (m->entries[i].len)
			memcpy(p, m->entries[i].data, m->entries[i].len);
		p += m->entries[i].len;
	}
	if (m->snap_len)
		memcpy(p, m->snap_data, m->snap_len);
	*len = size;
	return buf;
}

static struct raft_msg *msg_unpack(void *buf)
{
	struct raft_msg *m = buf;
	struct raft_entry *e = (struct raft_entry *)(m + 1);
	uint8_t *p = (uint8_t *)(e + m->n_entries);

	m->entries = m->n_entries ? e : NULL;
	for (uint32_t i = 0; i < m->n_entries; i++) {
		e[i].data = e[i].len ? p : NULL;
		p += e[i].len;
	}
	m->snap_data = m->snap_len ? p : NULL;
	return m;
}

/* ---- storage ---- */

static void disk_truncate(struct disk *d, uint64_t from)
{
	while (d->n && d->wal[d->n - 1].index >= from)
		free((void *)d->wal[--d->n].data);
}

static void disk_drop_upto(struct disk *d, uint64_t index)
{
	size_t k = 0;

	while (k < d->n && d->wal[k].index <= index)
		free((void *)d->wal[k++].data);
	memmove(d->wal, d->wal + k, (d->n - k) * sizeof(*d->wal));
	d->n -= k;
}

static void disk_append(struct cluster *c, struct disk *d, const struct raft_entry *e)
{
	uint8_t *data = NULL;
	uint64_t expect = d->n ? d->wal[d->n - 1].index + 1 : (d->has_snap ? d->snap.index + 1 : 1);

	CHECK(c, e->index == expect, "WAL gap: appending %" PRIu64 " after %" PRIu64, e->index,
	      expect - 1);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->wal = realloc(d->wal, d->cap * sizeof(*d->wal));
		assert_non_null(d->wal);
	}
	if (e->len) {
		data = malloc(e->len);
		assert_non_null(data);
		memcpy(data, e->data, e->len);
	}
	d->wal[d->n] = *e;
	d->wal[d->n++].data = data;
}

static void disk_free(struct disk *d)
{
	disk_truncate(d, 0);
	free(d->wal);
	memset(d, 0, sizeof(*d));
}

/* ---- the simulation ---- */

static struct canon *canon_at(struct cluster *c, uint64_t index)
{
	if (index >= c->canon_cap) {
		uint64_t cap = c->canon_cap ? c->canon_cap : 1024;

		while (cap <= index)
			cap *= 2;
		c->canon = realloc(c->canon, cap * sizeof(*c->canon));
		assert_non_null(c->canon);
		memset(c->canon + c->canon_cap, 0, (cap - c->canon_cap) * sizeof(*c->canon));
		c->canon_cap = cap;
	}
	return &c->canon[index];
}

static void note_leader(struct cluster *c, struct node *n)
{
	uint64_t term = raft_term(n->r);

	if (term >= c->leader_of_len) {
		uint64_t len = term * 2 + 16;

		c->leader_of = realloc(c->leader_of, len * sizeof(*c->leader_of));
		assert_non_null(c->leader_of);
		memset(c->leader_of + c->leader_of_len, 0,
		       (len - c->leader_of_len) * sizeof(*c->leader_of));
		c->leader_of_len = len;
	}
	if (c->leader_of[term] == n->id)
		return;
	CHECK(c, c->leader_of[term] == 0,
	      "election safety: nodes %u and %d both lead term %" PRIu64, c->leader_of[term], n->id,
	      term);
	c->leader_of[term] = (uint16_t)n->id;
	c->elections++;
	/* Leader completeness: every entry committed so far is in the new leader's log. */
	for (uint64_t i = raft_first_index(n->r); i <= c->max_commit; i++) {
		const struct raft_entry *e = raft_entry_at(n->r, i);

		CHECK(c, e && e->term == c->canon[i].term && entry_fp(e) == c->canon[i].fp,
		      "leader completeness: leader %d of term %" PRIu64
		      " lacks committed entry %" PRIu64,
		      n->id, term, i);
	}
}

static void record_apply(struct cluster *c, struct node *n, const struct raft_entry *e)
{
	struct canon *cn = canon_at(c, e->index);
	uint64_t fp = entry_fp(e);
	bool exec;

	CHECK(c, e->index == n->app.index + 1, "node %d applies %" PRIu64 " after %" PRIu64, n->id,
	      e->index, n->app.index);
	if (cn->set) {
		CHECK(c, cn->fp == fp && cn->term == e->term,
		      "state machine safety: node %d applies a different entry at %" PRIu64
		      " (term %" PRIu64 ", canonical term %" PRIu64 ")",
		      n->id, e->index, e->term, cn->term);
	} else {
		CHECK(c, e->index == 1 || c->canon[e->index - 1].set,
		      "canonical history has a gap before %" PRIu64, e->index);
		cn->set = true;
		cn->fp = fp;
		cn->term = e->term;
		cn->client = e->client_id;
		cn->seq = e->seq;
		if (e->index > 1)
			memcpy(cn->regs, c->canon[e->index - 1].regs, sizeof(cn->regs));
		/* An independent de-duplication: a (client, seq) executes at its first index. */
		if (e->type == RAFT_ENTRY_NORMAL && e->seq > c->canon_last_seq[e->client_id]) {
			uint64_t v;

			cmd_decode(e, &cn->key, &v);
			cn->regs[cn->key] = v;
			cn->exec = true;
			c->canon_last_seq[e->client_id] = e->seq;
		}
		if (e->index > c->canon_len)
			c->canon_len = e->index;
	}
	exec = app_apply(&n->app, e);
	if (!exec && e->type == RAFT_ENTRY_NORMAL)
		c->dups_skipped++;
	CHECK(c, exec == cn->exec, "node %d de-duplicates entry %" PRIu64 " differently", n->id,
	      e->index);
	if (cn->hash)
		CHECK(c, cn->hash == n->app.hash, "node %d state differs after %" PRIu64, n->id,
		      e->index);
	cn->hash = n->app.hash;
	CHECK(c, !memcmp(cn->regs, n->app.regs, sizeof(cn->regs)),
	      "node %d registers differ after %" PRIu64, n->id, e->index);
}

static void client_ack_write(struct cluster *c, struct client *cl, struct node *n)
{
	uint64_t result = n->app.last_result[cl->id];
	struct canon *cn = canon_at(c, result);

	CHECK(c, cn->set && cn->exec && cn->client == cl->id && cn->seq == cl->seq,
	      "client %" PRIu64 " seq %" PRIu64 " acked with index %" PRIu64
	      " that holds another command",
	      cl->id, cl->seq, result);
	if (c->n_acks == c->cap_acks) {
		c->cap_acks = c->cap_acks ? c->cap_acks * 2 : 256;
		c->acks = realloc(c->acks, c->cap_acks * sizeof(*c->acks));
		assert_non_null(c->acks);
	}
	c->acks[c->n_acks++] = (struct ack){ .client = cl->id, .seq = cl->seq, .index = result };
	c->writes_acked++;
	cl->state = C_IDLE;
}

static struct client *client_waiting(struct cluster *c, struct node *n, uint64_t client,
				     uint64_t seq)
{
	struct client *cl;

	if (!c->clients_on || client < 1 || client > N_CLIENTS)
		return NULL;
	cl = &c->clients[client];
	if (cl->state == C_WRITE && cl->seq == seq && cl->node == n->id && cl->submitted)
		return cl;
	return NULL;
}

static void serve_read(struct cluster *c, struct node *n, const struct raft_read_state *rs)
{
	struct client *cl = NULL;

	for (int i = 1; c->clients_on && i <= N_CLIENTS; i++)
		if (c->clients[i].state == C_READ && c->clients[i].read_id == rs->id)
			cl = &c->clients[i];
	if (rs->err)
		c->reads_failed++;
	if (c->n_read_log < 32) {
		c->read_log_node[c->n_read_log] = n->id;
		c->read_log[c->n_read_log++] = *rs;
	}
	if (!cl || cl->node != n->id)
		return; /* the client gave up on this read */
	if (rs->err) {
		cl->submitted = false;
		cl->retry_at = sim_net_now(c->net) + 1;
		return;
	}
	/* The state served includes everything committed before the read started. */
	CHECK(c, rs->index >= cl->read_floor,
	      "stale read: index %" PRIu64 " < %" PRIu64 " committed before the read started",
	      rs->index, cl->read_floor);
	CHECK(c, n->app.index >= rs->index,
	      "read released at %" PRIu64 " before its index %" PRIu64, n->app.index, rs->index);
	CHECK(c, n->app.regs[cl->key] == c->canon[n->app.index].regs[cl->key],
	      "read of key %u on node %d returns %" PRIu64 ", history says %" PRIu64, cl->key,
	      n->id, n->app.regs[cl->key], c->canon[n->app.index].regs[cl->key]);
	c->reads_ok++;
	cl->state = C_IDLE;
}

static void node_compact(struct cluster *c, struct node *n)
{
	uint64_t at = raft_applied(n->r);
	int err;

	if (!n->compact_every || at < raft_first_index(n->r) + n->compact_every)
		return;
	CHECK(c, n->app.index == at, "app at %" PRIu64 ", raft applied %" PRIu64, n->app.index, at);
	/* Persist first, as a real node would; then the WAL prefix can go. */
	n->disk.has_snap = true;
	n->disk.snap_app = n->app;
	n->disk.snap.index = at;
	n->disk.snap.term = raft_term_at(n->r, at);
	n->disk.snap.len = sizeof(n->app);
	disk_drop_upto(&n->disk, at);
	err = raft_compact(n->r, at, &n->app, sizeof(n->app));
	CHECK(c, err == 0, "compact: %d", err);
}

static void node_crash(struct cluster *c, struct node *n)
{
	raft_free(n->r);
	n->r = NULL;
	n->up = false;
	n->tear = false;
	n->restarts++;
	sim_net_flush_to(c->net, n->id);
	c->crashes++;
}

/*
 * Sends the ready's messages that may (early) or may not (!early) leave before the disk write;
 * returns how many of them carry entries.
 */
static uint32_t send_msgs(struct cluster *c, struct node *n, const struct raft_ready *rd,
			  bool early)
{
	uint32_t with_entries = 0;

	for (uint32_t i = 0; i < rd->n_msgs; i++) {
		const struct raft_msg *m = &rd->msgs[i];
		size_t len = 0;
		void *buf;
		int err;

		if (raft_msg_before_sync(m) != early)
			continue;
		buf = msg_pack(m, &len);
		assert_non_null(buf);
		CHECK(c, m->from == n->id, "message from %u sent by %d", m->from, n->id);
		if (m->type == RAFT_MSG_SNAPSHOT)
			c->snap_msgs++;
		if (m->type == RAFT_MSG_APPEND_RESP && m->reject)
			c->append_rejects++;
		with_entries += m->n_entries > 0;
		err = sim_net_send(c->net, n->id, m->to, buf, len);
		CHECK(c, err == 0, "send: %d", err);
		free(buf);
	}
	return with_entries;
}

static void node_ready(struct cluster *c, struct node *n)
{
	struct raft_ready rd;
	uint32_t early;

	while (raft_has_ready(n->r)) {
		int err = raft_ready(n->r, &rd);

		CHECK(c, err == 0, "raft_ready: %d", err);
		/*
		 * The leader's APPENDs leave before its write, as node.c sends them, so that a crash
		 * in the middle of the write (n->tear) leaves followers with entries it lost.
		 */
		early = send_msgs(c, n, &rd, true);
		if (rd.snapshot) {
			struct canon *cn = canon_at(c, rd.snapshot->index);

			CHECK(c, rd.snapshot->len == sizeof(struct app), "snapshot of %u bytes",
			      rd.snapshot->len);
			memcpy(&n->app, rd.snapshot->data, sizeof(n->app));
			CHECK(c,
			      n->app.index == rd.snapshot->index && cn->set &&
				      cn->hash == n->app.hash,
			      "node %d installs a snapshot at %" PRIu64 " that is not the history",
			      n->id, rd.snapshot->index);
			n->disk.has_snap = true;
			n->disk.snap_app = n->app;
			n->disk.snap.index = rd.snapshot->index;
			n->disk.snap.term = rd.snapshot->term;
			n->disk.snap.len = rd.snapshot->len;
			disk_truncate(&n->disk, 0);
			c->snapshots_installed++;
		}
		if (rd.truncate_from) {
			CHECK(c, rd.truncate_from > n->disk.hs.commit,
			      "node %d truncates committed entries from %" PRIu64, n->id,
			      rd.truncate_from);
			disk_truncate(&n->disk, rd.truncate_from);
		}
		if (n->tear && (rd.n_entries || rd.hs_changed)) {
			/*
			 * Power fails during the write: a prefix of the entries reached the disk,
			 * the hard state (written last) only if all did; only what may leave
			 * before the write was sent.
			 */
			uint64_t k = sim_below(&c->rng, (uint64_t)rd.n_entries + 2);

			for (uint32_t i = 0; i < rd.n_entries && i < k; i++)
				disk_append(c, &n->disk, &rd.entries[i]);
			if (k == (uint64_t)rd.n_entries + 1 && rd.hs_changed)
				n->disk.hs = rd.hs;
			n->tear = false;
			c->torn_writes++;
			c->torn_after_send += early && k < rd.n_entries;
			node_crash(c, n);
			return;
		}
		for (uint32_t i = 0; i < rd.n_entries; i++)
			disk_append(c, &n->disk, &rd.entries[i]);
		if (rd.hs_changed) {
			CHECK(c, rd.hs.term >= n->disk.hs.term, "term goes back");
			n->disk.hs = rd.hs;
		}
		/* Only now, with everything above on "disk", may the other messages leave. */
		send_msgs(c, n, &rd, false);
		for (uint32_t i = 0; i < rd.n_committed; i++) {
			const struct raft_entry *e = &rd.committed[i];
			struct client *cl;

			record_apply(c, n, e);
			cl = client_waiting(c, n, e->client_id, e->seq);
			if (cl)
				client_ack_write(c, cl, n);
		}
		for (uint32_t i = 0; i < rd.n_reads; i++)
			serve_read(c, n, &rd.reads[i]);
		err = raft_advance(n->r);
		CHECK(c, err == 0, "raft_advance: %d", err);
	}
	if (n->disk.hs.commit > c->max_commit)
		c->max_commit = n->disk.hs.commit;
	node_compact(c, n);
}

static void node_start(struct cluster *c, struct node *n)
{
	struct raft_config cfg = c->cfg;
	struct raft_entry *ents = n->disk.wal;
	int err;

	cfg.id = (uint16_t)n->id;
	cfg.seed = mix(c->seed, ((uint64_t)n->id << 32) | n->restarts);
	n->r = raft_new(&cfg);
	assert_non_null(n->r);
	if (n->disk.has_snap)
		n->disk.snap.data = (const uint8_t *)&n->disk.snap_app;
	err = raft_restore(n->r, &n->disk.hs, n->disk.has_snap ? &n->disk.snap : NULL, ents,
			   n->disk.n);
	CHECK(c, err == 0, "restore node %d: %d", n->id, err);
	memset(&n->app, 0, sizeof(n->app));
	if (n->disk.has_snap)
		n->app = n->disk.snap_app;
	n->up = true;
}

static void cluster_init_batch(struct cluster *c, uint64_t seed, int n, uint32_t batch)
{
	struct sim_net_config nc = { .n_nodes = n, .delay_min = 1, .delay_max = 2 };

	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->n = n;
	sim_rng_seed(&c->rng, mix(seed, 0x5eed));
	c->net = sim_net_new(&nc, mix(seed, 0x4e7));
	assert_non_null(c->net);
	c->cfg = (struct raft_config){ .n_voters = (uint16_t)n,
				       .election_min = 10,
				       .election_max = 20,
				       .heartbeat_ticks = 3,
				       .max_batch_entries = batch,
				       .max_batch_bytes = 200 };
	for (int i = 0; i < n; i++)
		c->cfg.voters[i] = (uint16_t)(i + 1);
	for (int i = 1; i <= n; i++) {
		c->nodes[i].id = i;
		node_start(c, &c->nodes[i]);
	}
	for (int i = 1; i <= N_CLIENTS; i++)
		c->clients[i].id = (uint64_t)i;
}

static void cluster_init(struct cluster *c, uint64_t seed, int n)
{
	cluster_init_batch(c, seed, n, 8);
}

static void cluster_free(struct cluster *c)
{
	for (int i = 1; i <= c->n; i++) {
		raft_free(c->nodes[i].r);
		disk_free(&c->nodes[i].disk);
	}
	sim_net_free(c->net);
	free(c->canon);
	free(c->leader_of);
	free(c->acks);
}

static struct node *leader(struct cluster *c)
{
	struct node *best = NULL;

	for (int i = 1; i <= c->n; i++) {
		struct node *n = &c->nodes[i];

		if (n->up && raft_role(n->r) == RAFT_LEADER &&
		    (!best || raft_term(n->r) > raft_term(best->r)))
			best = n;
	}
	return best;
}

static int random_up_node(struct cluster *c)
{
	for (int tries = 0; tries < 32; tries++) {
		int i = 1 + (int)sim_below(&c->rng, (uint64_t)c->n);

		if (c->nodes[i].up)
			return i;
	}
	return 1 + (int)sim_below(&c->rng, (uint64_t)c->n);
}

/* Sends the client's request to its node; on a redirect, moves to the hinted leader. */
static void client_submit(struct cluster *c, struct client *cl)
{
	struct node *n = &c->nodes[cl->node];
	uint64_t now = sim_net_now(c->net);
	int err;

	cl->retry_at = now + 1;
	if (!n->up)
		goto elsewhere;
	if (cl->state == C_WRITE) {
		uint8_t cmd[CMD_LEN + 32];
		uint32_t len = cmd_encode(cmd, cl->key, cl->value);

		/*
		 * Already executed (an earlier attempt committed): answer from the dedup table. Half
		 * the time propose anyway, so the duplicate is logged and de-duplicated at apply.
		 */
		if (n->app.last_seq[cl->id] == cl->seq && sim_chance(&c->rng, 500000)) {
			client_ack_write(c, cl, n);
			return;
		}
		err = raft_propose(n->r, cl->id, cl->seq, cmd, len, NULL);
	} else {
		cl->read_id = ++c->next_read_id;
		cl->read_floor = c->max_commit;
		err = raft_read_index(n->r, cl->read_id);
	}
	if (err == 0) {
		cl->submitted = true;
		/* Short, varied timeouts: retries race their original, as real clients' do. */
		cl->deadline = now + CLIENT_TIMEOUT / 6 + sim_below(&c->rng, CLIENT_TIMEOUT);
		return;
	}
	CHECK(c, err == -EREMOTE || err == -EAGAIN, "client request: %d", err);
	if (raft_leader(n->r)) {
		cl->node = raft_leader(n->r);
		return;
	}
elsewhere:
	cl->node = random_up_node(c);
}

static void clients_step(struct cluster *c)
{
	uint64_t now = sim_net_now(c->net);

	for (int i = 1; i <= N_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->state == C_IDLE) {
			if (!sim_chance(&c->rng, 300000))
				continue;
			cl->key = (uint8_t)sim_below(&c->rng, N_KEYS);
			cl->submitted = false;
			if (sim_chance(&c->rng, 350000)) {
				cl->state = C_READ;
			} else {
				cl->state = C_WRITE;
				cl->seq++;
				cl->value = (cl->id << 48) | cl->seq;
			}
			if (!c->nodes[cl->node].up || sim_chance(&c->rng, 200000))
				cl->node = random_up_node(c);
			client_submit(c, cl);
		} else if (cl->submitted && now >= cl->deadline) {
			/* Timed out: the outcome is unknown; retry elsewhere with the same seq. */
			cl->submitted = false;
			c->retries += cl->state == C_WRITE;
			cl->node = random_up_node(c);
			client_submit(c, cl);
		} else if (!cl->submitted && now >= cl->retry_at) {
			client_submit(c, cl);
		}
	}
}

/* One tick: deliveries, timers, clients, then every node's ready. */
static void cluster_step(struct cluster *c)
{
	int from, to, err;
	void *buf;
	size_t len;

	while (sim_net_recv(c->net, &from, &to, &buf, &len)) {
		struct node *n = &c->nodes[to];

		if (n->up) {
			const struct raft_msg *m = msg_unpack(buf);

			if (sim_net_now(c->net) >= trace_from)
				fprintf(stderr,
					"%" PRIu64 " %d->%d %s term %" PRIu64 " index %" PRIu64
					" log_term %" PRIu64 " commit %" PRIu64
					" n %u%s hint %" PRIu64 "/%" PRIu64 " ctx %" PRIu64 "\n",
					sim_net_now(c->net), from, to, raft_msg_type_name(m->type),
					m->term, m->index, m->log_term, m->commit, m->n_entries,
					m->reject ? " reject" : "", m->hint_index, m->hint_term,
					m->context);
			err = raft_step(n->r, m);
			CHECK(c, err == 0, "step %s %d->%d: %d",
			      raft_msg_type_name(((struct raft_msg *)buf)->type), from, to, err);
		}
		free(buf);
	}
	for (int i = 1; i <= c->n; i++)
		if (c->nodes[i].up)
			raft_tick(c->nodes[i].r);
	if (c->clients_on)
		clients_step(c);
	for (int i = 1; i <= c->n; i++)
		if (c->nodes[i].up)
			node_ready(c, &c->nodes[i]);
	for (int i = 1; i <= c->n; i++) {
		struct node *n = &c->nodes[i];

		if (n->up && raft_role(n->r) == RAFT_LEADER)
			note_leader(c, n);
	}
	sim_net_tick(c->net);
}

static void heal_all(struct cluster *c)
{
	struct sim_net_config nc = { .delay_min = 1, .delay_max = 2 };

	sim_net_heal(c->net);
	sim_net_set_faults(c->net, &nc);
	for (int i = 1; i <= c->n; i++) {
		c->nodes[i].tear = false;
		if (!c->nodes[i].up)
			node_start(c, &c->nodes[i]);
	}
}

/* After healing: a leader appears and a new command commits and applies everywhere. */
static uint64_t check_liveness(struct cluster *c)
{
	uint64_t start = sim_net_now(c->net), index = 0, seq = c->canon_last_seq[MARKER_CLIENT] + 1;
	uint8_t cmd[CMD_LEN + 32];
	uint32_t len = cmd_encode(cmd, 0, (uint64_t)MARKER_CLIENT << 48 | seq);
	uint64_t prop_term = 0;

	for (;;) {
		struct node *l = leader(c);
		bool all = index != 0;

		CHECK(c, sim_net_now(c->net) - start < HEAL_BOUND,
		      "no progress %d ticks after healing (leader %d, marker index %" PRIu64 ")",
		      HEAL_BOUND, l ? l->id : 0, index);
		/* Propose once per leader: a new leader may have lost the entry, dedup keeps one. */
		if (l && raft_has_quorum(l->r) && raft_term(l->r) != prop_term) {
			uint64_t at;

			if (raft_propose(l->r, MARKER_CLIENT, seq, cmd, len, &at) == 0) {
				index = at;
				prop_term = raft_term(l->r);
			}
		}
		for (int i = 1; all && i <= c->n; i++)
			all = c->nodes[i].app.index >= index;
		if (all && canon_at(c, index)->client == MARKER_CLIENT &&
		    c->canon[index].seq == seq)
			return sim_net_now(c->net) - start;
		cluster_step(c);
	}
}

static void check_log_matching(struct cluster *c)
{
	for (int a = 1; a <= c->n; a++) {
		for (int b = a + 1; b <= c->n; b++) {
			struct raft *x = c->nodes[a].r, *y = c->nodes[b].r;
			uint64_t lo = raft_first_index(x) > raft_first_index(y) ?
					      raft_first_index(x) :
					      raft_first_index(y);
			uint64_t hi = raft_last_index(x) < raft_last_index(y) ? raft_last_index(x) :
										raft_last_index(y);
			uint64_t top = 0;

			for (uint64_t i = hi; i >= lo && i > 0 && !top; i--)
				if (raft_term_at(x, i) == raft_term_at(y, i))
					top = i;
			for (uint64_t i = lo; i <= top; i++)
				CHECK(c,
				      entry_fp(raft_entry_at(x, i)) ==
					      entry_fp(raft_entry_at(y, i)),
				      "log matching: nodes %d and %d agree at %" PRIu64
				      " but differ at %" PRIu64,
				      a, b, top, i);
		}
	}
}

static void check_final(struct cluster *c)
{
	struct node *first = &c->nodes[1];
	uint64_t writes[N_KEYS] = { 0 };

	/* Everything settles: same commit, same applied state on every node. */
	for (int t = 0; t < 200; t++) {
		bool same = true;

		for (int i = 2; i <= c->n; i++)
			same = same && c->nodes[i].app.index == first->app.index;
		if (same && first->app.index == c->max_commit)
			break;
		cluster_step(c);
	}
	for (int i = 1; i <= c->n; i++) {
		struct node *n = &c->nodes[i];

		CHECK(c,
		      n->app.index == c->max_commit && n->app.hash == c->canon[n->app.index].hash,
		      "node %d ends at %" PRIu64 ", commit is %" PRIu64, n->id, n->app.index,
		      c->max_commit);
	}
	check_log_matching(c);
	for (size_t i = 0; i < c->n_acks; i++) {
		const struct ack *a = &c->acks[i];
		const struct canon *cn = &c->canon[a->index];

		CHECK(c, a->index <= c->max_commit && cn->client == a->client && cn->seq == a->seq,
		      "acknowledged write (client %" PRIu64 ", seq %" PRIu64 ") lost", a->client,
		      a->seq);
	}
	for (uint64_t i = 1; i <= c->max_commit; i++)
		if (c->canon[i].exec)
			writes[c->canon[i].key]++;
	for (int k = 0; k < N_KEYS; k++)
		CHECK(c, first->app.writes[k] == writes[k],
		      "key %d: %" PRIu64 " writes executed, %" PRIu64 " distinct commands", k,
		      first->app.writes[k], writes[k]);
}

/* ---- scenarios ---- */

static bool committed_in_term(const struct node *n)
{
	return raft_term_at(n->r, raft_commit(n->r)) == raft_term(n->r);
}

/* Waits for a leader other than not (may be NULL) able to serve: quorum, and its term committed. */
static struct node *wait_leader(struct cluster *c, const struct node * not, int max_ticks)
{
	for (int t = 0; t < max_ticks; t++) {
		struct node *l = leader(c);

		if (l && l != not &&raft_has_quorum(l->r) && committed_in_term(l))
			return l;
		cluster_step(c);
	}
	CHECK(c, false, "no leader within %d ticks", max_ticks);
	return NULL;
}

static int propose(struct node *n, uint64_t client, uint64_t seq, uint8_t key, uint64_t *index)
{
	uint8_t cmd[CMD_LEN + 32];
	uint32_t len = cmd_encode(cmd, key, client << 48 | seq);

	return raft_propose(n->r, client, seq, cmd, len, index);
}

/* Runs until every node that is up, and not in the skip bitmap, has applied index. */
static void wait_applied(struct cluster *c, uint64_t index, int max_ticks, uint32_t skip)
{
	for (int t = 0; t < max_ticks; t++) {
		bool all = true;

		for (int i = 1; i <= c->n; i++)
			all = all && (!c->nodes[i].up || (skip & (1u << i)) ||
				      c->nodes[i].app.index >= index);
		if (all)
			return;
		cluster_step(c);
	}
	CHECK(c, false, "index %" PRIu64 " not applied everywhere within %d ticks", index,
	      max_ticks);
}

static void isolate(struct cluster *c, const int *nodes, int count)
{
	int group[SIM_MAX_NODES + 1] = { 0 };

	for (int i = 0; i < count; i++)
		group[nodes[i]] = 1;
	sim_net_partition(c->net, group);
}

/* A leader cut off with a minority cannot commit, steps down, and its entry is discarded. */
static void test_minority_leader_cannot_commit(void **state)
{
	struct cluster c;
	struct node *old, *l;
	uint64_t x, y, base;
	int side[2], stepped = -1;

	(void)state;
	cluster_init(&c, 101, 5);
	old = wait_leader(&c, NULL, 300);
	side[0] = old->id;
	side[1] = old->id % 5 + 1;
	isolate(&c, side, 2);
	base = raft_commit(old->r);
	assert_int_equal(propose(old, 1, 1, 0, &x), 0);
	for (int t = 0; t < 100; t++) {
		cluster_step(&c);
		CHECK(&c, raft_commit(old->r) < x, "minority leader committed %" PRIu64, x);
		if (stepped < 0 && raft_role(old->r) != RAFT_LEADER)
			stepped = t;
	}
	/* Check-quorum: it stepped down within two election timeouts and knows why. */
	CHECK(&c, stepped >= 0 && stepped <= 2 * (int)c.cfg.election_min,
	      "old leader still leading after %d ticks", stepped);
	CHECK(&c, !raft_has_quorum(old->r) && raft_reachable(old->r, NULL) == 2,
	      "minority node reports quorum %d, reachable %d", raft_has_quorum(old->r),
	      raft_reachable(old->r, NULL));
	assert_int_equal(raft_quorum(old->r), 3);
	assert_int_equal(propose(old, 1, 1, 0, NULL), -EREMOTE);
	assert_int_equal(raft_commit(old->r), base);

	/* The majority elects a leader of a later term and commits. */
	l = wait_leader(&c, old, 300);
	assert_true(l != old && l->id != side[1]);
	assert_true(raft_term(l->r) > raft_term_at(old->r, x));
	assert_int_equal(propose(l, 2, 1, 1, &y), 0);
	wait_applied(&c, y, 100, 1u << side[0] | 1u << side[1]);
	CHECK(&c, c.nodes[side[1]].app.index < y, "the minority applied a majority entry");

	sim_net_heal(c.net);
	wait_applied(&c, y, 300, 0);
	c.clients_on = false;
	check_final(&c);
	/* x was never committed: the new leader's log replaced it. */
	for (uint64_t i = 1; i <= c.max_commit; i++)
		CHECK(&c, !(c.canon[i].client == 1 && c.canon[i].seq == 1),
		      "uncommitted minority entry survived at %" PRIu64, i);
	cluster_free(&c);
}

/* A node cut off for long rejoins without deposing the leader: pre-vote keeps its term. */
static void test_prevote_rejoin(void **state)
{
	struct cluster c;
	struct node *l, *x;
	uint64_t term, elections;
	bool campaigned = false;

	(void)state;
	cluster_init(&c, 202, 5);
	l = wait_leader(&c, NULL, 300);
	term = raft_term(l->r);
	x = &c.nodes[l->id % 5 + 1];
	isolate(&c, &x->id, 1);
	for (int t = 0; t < 400; t++) {
		cluster_step(&c);
		campaigned = campaigned || raft_role(x->r) == RAFT_PRE_CANDIDATE;
		CHECK(&c, raft_term(x->r) == term, "isolated node raised its term to %" PRIu64,
		      raft_term(x->r));
	}
	CHECK(&c, campaigned, "isolated node never tried an election");
	CHECK(&c, raft_reachable(x->r, NULL) == 1 && !raft_has_quorum(x->r),
	      "isolated node reports %d reachable", raft_reachable(x->r, NULL));
	elections = c.elections;
	sim_net_heal(c.net);
	for (int t = 0; t < 400; t++) {
		cluster_step(&c);
		for (int i = 1; i <= c.n; i++)
			CHECK(&c, raft_term(c.nodes[i].r) == term,
			      "node %d moved to term %" PRIu64 " after the heal", i,
			      raft_term(c.nodes[i].r));
	}
	CHECK(&c, leader(&c) == l && c.elections == elections, "the leader changed");
	CHECK(&c, raft_leader(x->r) == l->id, "rejoined node follows %u", raft_leader(x->r));

	/*
	 * Leader stickiness: x stops hearing the leader but still reaches the others. Its log is as
	 * good as theirs, so only their having heard from the leader refuses its pre-votes.
	 */
	sim_net_cut(c.net, l->id, x->id);
	campaigned = false;
	for (int t = 0; t < 400; t++) {
		cluster_step(&c);
		campaigned = campaigned || raft_role(x->r) == RAFT_PRE_CANDIDATE;
		for (int i = 1; i <= c.n; i++)
			CHECK(&c, raft_term(c.nodes[i].r) == term,
			      "node %d moved to term %" PRIu64 " with the leader alive", i,
			      raft_term(c.nodes[i].r));
	}
	CHECK(&c, campaigned && leader(&c) == l && c.elections == elections,
	      "the leader changed after a one-way cut");
	/* Pre-vote rejections told x that it reaches the others. */
	CHECK(&c, raft_reachable(x->r, NULL) == 4, "x reaches %d", raft_reachable(x->r, NULL));
	cluster_free(&c);
}

/* An isolated leader steps down, and a read it was serving fails instead of going stale. */
static void test_check_quorum_read(void **state)
{
	struct cluster c;
	struct node *l, *f, *l2;
	uint64_t w, read_id = 77;

	(void)state;
	cluster_init(&c, 303, 3);
	l = wait_leader(&c, NULL, 300);
	f = &c.nodes[l->id % 3 + 1];

	/* A read through a follower sees a committed write. */
	assert_int_equal(propose(l, 1, 1, 2, &w), 0);
	wait_applied(&c, w, 100, 0);
	assert_int_equal(raft_read_index(f->r, 1), 0);
	for (int t = 0; t < 20 && !c.n_read_log; t++)
		cluster_step(&c);
	CHECK(&c,
	      c.n_read_log == 1 && c.read_log[0].id == 1 && !c.read_log[0].err &&
		      c.read_log[0].index >= w && c.read_log_node[0] == f->id,
	      "follower read: %d completions", c.n_read_log);
	CHECK(&c, f->app.regs[2] == (1ULL << 48 | 1), "follower read value %" PRIx64,
	      f->app.regs[2]);

	isolate(&c, &l->id, 1);
	c.n_read_log = 0;
	assert_int_equal(raft_read_index(l->r, read_id), 0);
	for (int t = 0; t < 3 * (int)c.cfg.election_min; t++)
		cluster_step(&c);
	CHECK(&c, raft_role(l->r) != RAFT_LEADER, "isolated leader is %s",
	      raft_role_name(raft_role(l->r)));
	CHECK(&c, c.n_read_log == 1 && c.read_log[0].id == read_id && c.read_log[0].err == -EREMOTE,
	      "isolated leader's read: %d completions, err %d", c.n_read_log,
	      c.n_read_log ? c.read_log[0].err : 0);
	assert_int_equal(raft_read_index(l->r, read_id + 1), -EAGAIN);
	l2 = wait_leader(&c, l, 300);
	assert_true(l2 != l);
	cluster_free(&c);
}

/* A node that was down while the others compacted their logs catches up by snapshot. */
static void test_snapshot_catch_up(void **state)
{
	struct cluster c;
	struct node *l, *lag;
	uint64_t index = 0;

	(void)state;
	cluster_init(&c, 404, 3);
	for (int i = 1; i <= 3; i++)
		c.nodes[i].compact_every = 20;
	l = wait_leader(&c, NULL, 300);
	lag = &c.nodes[l->id % 3 + 1];
	node_crash(&c, lag);
	for (uint64_t s = 1; s <= 200; s++) {
		assert_int_equal(propose(l, 1, s, (uint8_t)(s % N_KEYS), &index), 0);
		if (s % 10 == 0)
			cluster_step(&c);
	}
	wait_applied(&c, index, 200, 0);
	CHECK(&c, raft_first_index(l->r) > 100, "leader log starts at %" PRIu64,
	      raft_first_index(l->r));
	node_start(&c, lag);
	wait_applied(&c, index, 300, 0);
	CHECK(&c, c.snap_msgs > 0 && c.snapshots_installed > 0 && raft_first_index(lag->r) > 100,
	      "caught up without a snapshot (%" PRIu64 " sent, %" PRIu64 " installed)", c.snap_msgs,
	      c.snapshots_installed);
	c.clients_on = false;
	check_final(&c);
	/* After a restart the snapshot and the WAL rebuild the same state. */
	node_crash(&c, lag);
	node_start(&c, lag);
	wait_applied(&c, index, 100, 0);
	CHECK(&c, lag->app.hash == c.canon[lag->app.index].hash, "restarted state differs");
	cluster_free(&c);
}

/* A retried command is stored once while pending, and executed once even if logged twice. */
static void test_dedup(void **state)
{
	struct cluster c;
	struct node *l;
	uint64_t a, b, d;

	(void)state;
	cluster_init(&c, 505, 3);
	l = wait_leader(&c, NULL, 300);
	assert_int_equal(propose(l, 2, 1, 3, &a), 0);
	assert_int_equal(propose(l, 2, 1, 3, &b), 0);
	assert_int_equal(a, b);
	wait_applied(&c, a, 100, 0);
	/* The same command after it applied (say a shell that forgot to look): logged again... */
	assert_int_equal(propose(l, 2, 1, 3, &d), 0);
	assert_true(d > a);
	wait_applied(&c, d, 100, 0);
	/* ...but executed once, and the proposer reads back the first result. */
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(c.nodes[i].app.writes[3], 1);
		assert_int_equal(c.nodes[i].app.last_result[2], a);
	}
	assert_int_equal(c.dups_skipped, 3);
	cluster_free(&c);
}

/* A follower with a long divergent tail is repaired in a few round trips, not one per entry. */
static void test_fast_backtracking(void **state)
{
	struct cluster c;
	struct node *old, *l;
	uint64_t index = 0, rejects;

	(void)state;
	cluster_init(&c, 606, 3);
	old = wait_leader(&c, NULL, 300);
	isolate(&c, &old->id, 1);
	for (uint64_t s = 1; s <= 100; s++)
		assert_int_equal(propose(old, 1, s, 0, NULL), 0);
	l = wait_leader(&c, old, 300);
	for (uint64_t s = 1; s <= 50; s++)
		assert_int_equal(propose(l, 2, s, 1, &index), 0);
	wait_applied(&c, index, 200, 1u << old->id);
	CHECK(&c, raft_last_index(old->r) > index, "old leader's tail is too short");
	/* In-order delivery: reordered pipelined APPENDs draw rejections of their own. */
	sim_net_set_faults(c.net, &(struct sim_net_config){ .delay_min = 1, .delay_max = 1 });
	rejects = c.append_rejects;
	sim_net_heal(c.net);
	wait_applied(&c, index, 200, 0);
	CHECK(&c, c.append_rejects - rejects <= 2, "%" PRIu64 " rejections to repair the log",
	      c.append_rejects - rejects);
	c.clients_on = false;
	check_final(&c);
	cluster_free(&c);
}

/* Puts each node in the group its bit in masks[g] names; nodes in no mask are alone. */
static void groups(struct cluster *c, const uint32_t *masks, int n_masks)
{
	int group[SIM_MAX_NODES + 1];

	for (int i = 1; i <= c->n; i++) {
		group[i] = 100 + i;
		for (int g = 0; g < n_masks; g++)
			if (masks[g] & (1u << i))
				group[i] = g;
	}
	sim_net_partition(c->net, group);
}

/*
 * Raft paper, figure 8: an entry of an old term stored on a majority is not committed by counting
 * replicas, because a node whose log ends in a later term can still be elected and replace it.
 */
static void test_commit_current_term_only(void **state)
{
	struct cluster c;
	struct node *s[6], *w = NULL, *v;
	uint64_t x, t1, t2;
	int t;

	(void)state;
	/* One entry per APPEND, so the old entry can reach a follower without the new no-op. */
	cluster_init_batch(&c, 808, 5, 1);
	sim_net_set_faults(c.net, &(struct sim_net_config){ .delay_min = 1, .delay_max = 1 });
	s[1] = wait_leader(&c, NULL, 300);
	for (int i = 2; i <= 5; i++)
		s[i] = &c.nodes[(s[1]->id + i - 2) % 5 + 1];
#define BIT(k) (1u << s[k]->id)

	/* 1. s1 leads term t1 and stores x on itself and s2 only. */
	t1 = raft_term(s[1]->r);
	groups(&c, (uint32_t[]){ BIT(1) | BIT(2), BIT(3) | BIT(4) | BIT(5) }, 2);
	assert_int_equal(propose(s[1], 1, 1, 0, &x), 0);
	for (t = 0; t < 50 && raft_last_index(s[2]->r) < x; t++)
		cluster_step(&c);
	CHECK(&c, raft_term_at(s[2]->r, x) == t1, "s2 did not get x");

	/* 2. s5 is elected for term t2 by s3 and s4 (who cannot elect each other) and is cut off
	 *    at once, its own entry at x reaching nobody. */
	groups(&c, (uint32_t[]){ BIT(1) | BIT(2), BIT(3) | BIT(4) | BIT(5) }, 2);
	sim_net_cut(c.net, s[3]->id, s[4]->id);
	sim_net_cut(c.net, s[4]->id, s[3]->id);
	for (t = 0; t < 300 && raft_role(s[5]->r) != RAFT_LEADER; t++)
		cluster_step(&c);
	t2 = raft_term(s[5]->r);
	CHECK(&c, raft_role(s[5]->r) == RAFT_LEADER && raft_term_at(s[5]->r, x) == t2 && t2 > t1,
	      "s5 is %s, term %" PRIu64, raft_role_name(raft_role(s[5]->r)), t2);

	/* 3. s1 or s2 is elected again with s3's vote, in a later term, and sends x to s3. */
	groups(&c, (uint32_t[]){ BIT(1) | BIT(2) | BIT(3) }, 1);
	for (t = 0; t < 400 && raft_term_at(s[3]->r, x) != t1; t++) {
		cluster_step(&c);
		w = leader(&c);
	}
	CHECK(&c, w && (w == s[1] || w == s[2]) && raft_term_at(s[3]->r, x) == t1,
	      "x did not reach s3 from a new leader");
	v = w == s[1] ? s[2] : s[1];
	/* s3's acknowledgement of x reaches the leader; nothing after it does. */
	cluster_step(&c);
	groups(&c, (uint32_t[]){ BIT(1) | BIT(2), BIT(3) | BIT(4) | BIT(5) }, 2);
	CHECK(&c, raft_term_at(s[3]->r, x + 1) == 0, "s3 also got the new leader's no-op");
	/* x of term t1 is on w, v and s3, a majority: committing it now would be wrong. */
	CHECK(&c, raft_commit(w->r) < x && raft_commit(v->r) < x,
	      "an entry of term %" PRIu64 " committed by counting in term %" PRIu64, t1,
	      raft_term(w->r));

	/* 4. Because s5, whose log ends in term t2 > t1, can still win with s3 and s4. */
	for (t = 0; t < 400 && !(leader(&c) == s[5] && raft_commit(s[5]->r) > x); t++)
		cluster_step(&c);
	CHECK(&c, leader(&c) == s[5] && raft_term_at(s[3]->r, x) == t2,
	      "s5 did not replace x on s3");
	sim_net_heal(c.net);
	wait_applied(&c, raft_last_index(s[5]->r), 300, 0);
	check_final(&c);
	CHECK(&c, c.canon[x].term == t2, "x survived");
#undef BIT
	cluster_free(&c);
}

static struct raft *lone_follower(void)
{
	struct raft_config cfg = { .id = 1,
				   .n_voters = 3,
				   .voters = { 1, 2, 3 },
				   .election_min = 10,
				   .election_max = 20,
				   .heartbeat_ticks = 3 };
	struct raft *r = raft_new(&cfg);

	assert_non_null(r);
	return r;
}

static void drain(struct raft *r, struct raft_ready *rd)
{
	assert_true(raft_has_ready(r));
	assert_int_equal(raft_ready(r, rd), 0);
	assert_int_equal(raft_advance(r), 0);
}

/*
 * A follower commits only what the leader's message proved to match: entries past the batch may
 * be a stale tail from an older leader. And the overwritten tail is reported for the WAL.
 */
static void test_follower_commit_and_truncate(void **state)
{
	struct raft_entry old[5], mine[2], next = { .term = 2, .index = 3 };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1 };
	struct raft_ready rd;
	struct raft *r = lone_follower();

	(void)state;
	for (int i = 0; i < 5; i++)
		old[i] = (struct raft_entry){ .term = 1, .index = (uint64_t)i + 1, .seq = 1 };
	m.entries = old;
	m.n_entries = 5;
	assert_int_equal(raft_step(r, &m), 0);
	assert_int_equal(raft_ready(r, &rd), 0);
	/* The term and the entries are to be persisted, then the acknowledgement sent. */
	assert_true(rd.hs_changed && rd.hs.term == 1 && rd.n_entries == 5 && rd.n_msgs == 1);
	assert_true(rd.msgs[0].type == RAFT_MSG_APPEND_RESP && !rd.msgs[0].reject &&
		    rd.msgs[0].index == 5);
	assert_int_equal(raft_step(r, &m), -EBUSY); /* no input between ready and advance */
	assert_int_equal(raft_advance(r), 0);

	/* Leader of term 2 had entries 1-2 from term 1, then its own: it proves 1-2 only. */
	for (int i = 0; i < 2; i++)
		mine[i] = (struct raft_entry){ .term = 1, .index = (uint64_t)i + 1 };
	m = (struct raft_msg){ .type = RAFT_MSG_APPEND,
			       .from = 3,
			       .to = 1,
			       .term = 2,
			       .commit = 4,
			       .entries = mine,
			       .n_entries = 2 };
	assert_int_equal(raft_step(r, &m), 0);
	assert_int_equal(raft_commit(r), 2);
	assert_int_equal(raft_leader(r), 3);
	drain(r, &rd);
	assert_true(rd.n_committed == 2 && rd.committed[1].index == 2);

	m.index = 2;
	m.log_term = 1;
	m.entries = &next;
	m.n_entries = 1;
	assert_int_equal(raft_step(r, &m), 0);
	assert_int_equal(raft_ready(r, &rd), 0);
	assert_int_equal(rd.truncate_from, 3);
	assert_true(rd.n_entries == 1 && rd.entries[0].index == 3 && rd.entries[0].term == 2);
	assert_int_equal(rd.n_committed, 1);
	assert_int_equal(raft_advance(r), 0);
	assert_int_equal(raft_last_index(r), 3);
	assert_int_equal(raft_commit(r), 3);
	raft_free(r);
}

/* A vote is on disk before the answer leaves, and survives a restart. */
static void test_vote_persisted(void **state)
{
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 5 };
	struct raft_ready rd;
	struct raft_hard_state hs;
	struct raft *r = lone_follower();

	(void)state;
	assert_int_equal(raft_step(r, &m), 0);
	assert_int_equal(raft_ready(r, &rd), 0);
	assert_true(rd.hs_changed && rd.hs.term == 5 && rd.hs.vote == 2);
	assert_true(rd.n_msgs == 1 && rd.msgs[0].type == RAFT_MSG_VOTE_RESP && !rd.msgs[0].reject);
	hs = rd.hs;
	assert_int_equal(raft_advance(r), 0);
	raft_free(r);

	r = lone_follower();
	assert_int_equal(raft_restore(r, &hs, NULL, NULL, 0), 0);
	m.from = 3;
	assert_int_equal(raft_step(r, &m), 0);
	assert_int_equal(raft_ready(r, &rd), 0);
	assert_true(rd.n_msgs == 1 && rd.msgs[0].reject); /* already voted for 2 in term 5 */
	assert_int_equal(raft_advance(r), 0);
	raft_free(r);
}

/* Entries of a term whose hard state was lost in a torn write: the node resumes in that term. */
static void test_restore_torn_write(void **state)
{
	struct raft_hard_state hs = { .term = 1, .vote = 2, .commit = 1 };
	struct raft_entry ents[3] = { { .term = 1, .index = 1 },
				      { .term = 3, .index = 2 },
				      { .term = 3, .index = 3 } };
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 3, .to = 1, .term = 3 };
	struct raft_ready rd;
	struct raft *r = lone_follower();

	(void)state;
	assert_int_equal(raft_restore(r, &hs, NULL, ents, 3), 0);
	assert_int_equal(raft_term(r), 3);
	assert_int_equal(raft_commit(r), 1);
	assert_int_equal(raft_applied(r), 0);
	/* Its log (last term 3, index 3) is ahead of this candidate's: no vote, but the new term
	 * and the re-apply of entry 1 come out to be persisted and applied. */
	m.index = 2;
	m.log_term = 3;
	assert_int_equal(raft_step(r, &m), 0);
	assert_int_equal(raft_ready(r, &rd), 0);
	assert_true(rd.hs_changed && rd.hs.term == 3 && rd.hs.vote == 0);
	assert_true(rd.n_msgs == 1 && rd.msgs[0].reject);
	assert_true(rd.n_committed == 1 && rd.committed[0].index == 1 && rd.n_entries == 0);
	assert_int_equal(raft_advance(r), 0);
	raft_free(r);
}

/*
 * The leader's APPENDs leave before its own write (raft_msg_before_sync()). When it crashes
 * before the write, the followers hold an entry the leader lost: a follower becomes leader and
 * commits it, and the old leader, back without it, is brought up to date.
 */
static void test_append_before_leader_write(void **state)
{
	static const uint8_t early[] = { RAFT_MSG_APPEND, RAFT_MSG_HEARTBEAT };
	struct cluster c;
	struct raft_ready rd;
	struct node *l;
	uint64_t index;
	bool sent = false;

	(void)state;
	for (uint8_t t = 1; t < RAFT_MSG_TYPE_MAX; t++) {
		struct raft_msg m = { .type = t };

		/* Votes and acknowledgements promise what is on disk: never before the write. */
		assert_int_equal(raft_msg_before_sync(&m), memchr(early, t, sizeof(early)) != NULL);
	}
	cluster_init(&c, 11, 3);
	l = wait_leader(&c, NULL, 200);
	assert_int_equal(propose(l, 1, 1, 0, &index), 0);
	assert_int_equal(raft_ready(l->r, &rd), 0);
	CHECK(&c, rd.n_entries == 1 && rd.entries[0].index == index, "the ready writes %u entries",
	      rd.n_entries);
	for (uint32_t i = 0; i < rd.n_msgs; i++)
		sent = sent || (rd.msgs[i].type == RAFT_MSG_APPEND && rd.msgs[i].n_entries &&
				rd.msgs[i].index + rd.msgs[i].n_entries == index);
	CHECK(&c, sent, "no APPEND carries entry %" PRIu64, index);
	send_msgs(&c, l, &rd, true);
	node_crash(&c, l); /* before a byte of the write */
	CHECK(&c, l->disk.n < index, "the entry reached the crashed leader's disk");

	wait_leader(&c, l, 300);
	wait_applied(&c, index, 100, 0);
	CHECK(&c, c.canon[index].client == 1 && c.canon[index].seq == 1,
	      "entry %" PRIu64 " is not the lost leader's", index);
	node_start(&c, l);
	CHECK(&c, raft_last_index(l->r) < index, "the old leader recovered the entry");
	wait_applied(&c, index, 300, 0);
	check_final(&c);
	cluster_free(&c);
}

/* One voter is its own majority. */
static void test_single_node(void **state)
{
	struct cluster c;
	struct node *l;
	uint64_t index;

	(void)state;
	cluster_init(&c, 707, 1);
	l = wait_leader(&c, NULL, 100);
	assert_int_equal(propose(l, 1, 1, 0, &index), 0);
	wait_applied(&c, index, 5, 0);
	assert_int_equal(raft_read_index(l->r, 9), 0);
	cluster_step(&c);
	assert_int_equal(c.n_read_log, 1);
	assert_int_equal(c.read_log[0].index, index);
	cluster_free(&c);
}

/* Bad inputs are refused, not trusted. */
static void test_invalid_input(void **state)
{
	struct raft_config cfg = { .id = 1,
				   .n_voters = 3,
				   .voters = { 1, 2, 3 },
				   .election_min = 10,
				   .election_max = 20,
				   .heartbeat_ticks = 3 };
	struct raft_entry e = { .term = 1, .index = 5 };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1 };
	struct raft *r;

	(void)state;
	cfg.election_max = 10;
	assert_null(raft_new(&cfg));
	cfg.election_max = 20;
	cfg.voters[2] = 2;
	assert_null(raft_new(&cfg));
	cfg.voters[2] = 3;
	cfg.id = 4;
	assert_null(raft_new(&cfg));
	cfg.id = 1;
	r = raft_new(&cfg);
	assert_non_null(r);
	m.from = 9;
	assert_int_equal(raft_step(r, &m), -EINVAL);
	m.from = 1;
	assert_int_equal(raft_step(r, &m), -EINVAL);
	m.from = 2;
	m.entries = &e;
	m.n_entries = 1;
	assert_int_equal(raft_step(r, &m), -EINVAL); /* entry 5 cannot follow prev index 0 */
	assert_int_equal(raft_propose(r, 1, 1, "x", 1, NULL), -EREMOTE);
	assert_int_equal(raft_compact(r, 3, "x", 1), -EINVAL);
	raft_free(r);
}

/* ---- the randomized test ---- */

struct totals {
	uint64_t seeds, ticks, writes, reads, dups, retries, crashes, snaps, elections, rejects;
	uint64_t reads_failed, sent, lost, cut, duplicated, torn, torn_after_send;
	uint64_t max_heal;
};

static void chaos_faults(struct cluster *c, uint64_t *next_change)
{
	uint64_t now = sim_net_now(c->net);
	struct sim_net_config nc = { 0 };
	int group[SIM_MAX_NODES + 1];

	for (int i = 1; i <= c->n; i++) {
		struct node *n = &c->nodes[i];

		if (n->up && sim_chance(&c->rng, 1500)) {
			if (sim_chance(&c->rng, 500000))
				n->tear = true; /* node_ready() crashes it */
			else
				node_crash(c, n);
			n->restart_at = now + 5 + sim_below(&c->rng, 150);
		} else if (!n->up && now >= n->restart_at) {
			node_start(c, n);
		}
	}
	if (now < *next_change)
		return;
	*next_change = now + 20 + sim_below(&c->rng, 250);
	nc.delay_min = 1;
	nc.delay_max = 1 + (uint32_t)sim_below(&c->rng, 6);
	nc.loss_ppm = sim_chance(&c->rng, 500000) ? (uint32_t)sim_below(&c->rng, 200000) : 0;
	nc.dup_ppm = sim_chance(&c->rng, 300000) ? (uint32_t)sim_below(&c->rng, 50000) : 0;
	sim_net_set_faults(c->net, &nc);
	sim_net_heal(c->net);
	switch (sim_below(&c->rng, 5)) {
	case 0: /* healthy */
		break;
	case 1: /* random groups */
		for (int i = 1; i <= c->n; i++)
			group[i] = (int)sim_below(&c->rng, 2 + sim_below(&c->rng, 2));
		sim_net_partition(c->net, group);
		break;
	case 2: /* the leader, or a random node, alone */
		for (int i = 1; i <= c->n; i++)
			group[i] = 0;
		group[leader(c) && sim_chance(&c->rng, 600000) ? leader(c)->id : random_up_node(c)] =
			1;
		sim_net_partition(c->net, group);
		break;
	case 3: /* one-way cuts */
	case 4:
		for (uint64_t k = 1 + sim_below(&c->rng, (uint64_t)c->n); k > 0; k--) {
			int a = 1 + (int)sim_below(&c->rng, (uint64_t)c->n);
			int b = 1 + (int)sim_below(&c->rng, (uint64_t)c->n);

			if (a != b)
				sim_net_cut(c->net, a, b);
		}
		break;
	}
}

static void run_seed(uint64_t seed, int n_nodes, struct totals *tot)
{
	struct cluster c;
	uint64_t next_change = 0, heal;
	int chaos_ticks;

	/* Small batches leave followers with a verified prefix and a stale tail more often. */
	cluster_init_batch(&c, seed, n_nodes, 1 + (uint32_t)(mix(seed, 0xba7c) % 8));
	for (int i = 1; i <= c.n; i++)
		c.nodes[i].compact_every = 20 + sim_below(&c.rng, 60);
	c.clients_on = true;
	c.random = true;
	for (int i = 1; i <= N_CLIENTS; i++)
		c.clients[i].node = 1 + (int)sim_below(&c.rng, (uint64_t)c.n);
	chaos_ticks = 1000 + (int)sim_below(&c.rng, 2000);
	for (int t = 0; t < chaos_ticks; t++) {
		chaos_faults(&c, &next_change);
		cluster_step(&c);
	}
	heal_all(&c);
	heal = check_liveness(&c);
	c.clients_on = false;
	check_final(&c);

	tot->seeds++;
	tot->ticks += sim_net_now(c.net);
	tot->writes += c.writes_acked;
	tot->reads += c.reads_ok;
	tot->dups += c.dups_skipped;
	tot->retries += c.retries;
	tot->reads_failed += c.reads_failed;
	tot->torn += c.torn_writes;
	tot->torn_after_send += c.torn_after_send;
	tot->sent += sim_net_stats(c.net)->sent;
	tot->lost += sim_net_stats(c.net)->lost;
	tot->cut += sim_net_stats(c.net)->cut;
	tot->duplicated += sim_net_stats(c.net)->duplicated;
	tot->crashes += c.crashes;
	tot->snaps += c.snapshots_installed;
	tot->elections += c.elections;
	tot->rejects += c.append_rejects;
	if (heal > tot->max_heal)
		tot->max_heal = heal;
	cluster_free(&c);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/* The seed alone decides the cluster size, so CAPNET_SIM_SEED replays any run. */
static int seed_nodes(uint64_t seed)
{
	static const int sizes[] = { 3, 5, 7 };

	/* One seed in 64 runs the largest cluster supported. */
	return seed % 64 == 63 ? RAFT_MAX_VOTERS : sizes[seed % 3];
}

static void test_random_seeds(void **state)
{
	uint64_t n = env_u64("CAPNET_SIM_SEEDS", DEFAULT_SEEDS),
		 base = env_u64("CAPNET_SIM_BASE", 1);
	const char *one = getenv("CAPNET_SIM_SEED");
	struct totals tot = { 0 };
	struct timespec t0, t1;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (one && *one) {
		uint64_t s = strtoull(one, NULL, 0);

		run_seed(s, seed_nodes(s), &tot);
	} else {
		for (uint64_t s = base; s < base + n; s++)
			run_seed(s, seed_nodes(s), &tot);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  %" PRIu64 " seeds, %" PRIu64 " ticks in %.1f s\n"
	       "  clients: %" PRIu64 " writes acknowledged (%" PRIu64 " retries, %" PRIu64
	       " duplicates skipped), %" PRIu64 " reads served, %" PRIu64 " failed and retried\n"
	       "  faults: %" PRIu64 " crashes (%" PRIu64 " in the middle of a write, %" PRIu64
	       " of them losing entries already sent to followers), %" PRIu64
	       " messages sent, %" PRIu64 " lost, %" PRIu64 " cut, %" PRIu64 " duplicated\n"
	       "  raft: %" PRIu64 " elections, %" PRIu64 " snapshots installed, %" PRIu64
	       " append rejections; slowest recovery after heal %" PRIu64 " ticks\n",
	       tot.seeds, tot.ticks,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       tot.writes, tot.retries, tot.dups, tot.reads, tot.reads_failed, tot.crashes,
	       tot.torn, tot.torn_after_send, tot.sent, tot.lost, tot.cut, tot.duplicated,
	       tot.elections, tot.snaps, tot.rejects, tot.max_heal);
	/* A run that exercised nothing would prove nothing. */
	assert_true(tot.writes > 0 && tot.reads > 0);
	if (tot.seeds >= 50)
		assert_true(tot.crashes > 0 && tot.snaps > 0 && tot.retries > 0 && tot.dups > 0 &&
			    tot.torn_after_send > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_node),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_follower_commit_and_truncate),
		cmocka_unit_test(test_vote_persisted),
		cmocka_unit_test(test_restore_torn_write),
		cmocka_unit_test(test_minority_leader_cannot_commit),
		cmocka_unit_test(test_prevote_rejoin),
		cmocka_unit_test(test_check_quorum_read),
		cmocka_unit_test(test_snapshot_catch_up),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_fast_backtracking),
		cmocka_unit_test(test_commit_current_term_only),
		cmocka_unit_test(test_append_before_leader_write),
		cmocka_unit_test(test_random_seeds),
	};

	(void)argc;
	prog = argv[0];
	trace_from = env_u64("CAPNET_SIM_TRACE", UINT64_MAX);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
