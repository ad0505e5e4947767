// SPDX-License-Identifier: GPL-2.0-only
/*
 * AP mode (node/dynamo.h) in a deterministic simulation: 3 or 5 nodes on a simulated network
 * that delays, reorders, loses and duplicates messages and is partitioned; nodes crash and come
 * back from what they persisted; clocks are skewed. Clients write and read registers at ONE,
 * QUORUM and ALL and move money between accounts. Checked: a QUORUM read after an acknowledged
 * QUORUM write returns it or a newer version; after the network heals every replica holds the
 * same versions within a bounded number of anti-entropy rounds (so last-writer-wins picked the
 * same winner everywhere); a sibling disappears only when a client that saw it wrote over it;
 * every acknowledged transfer is on every node and money is conserved. Every run replays:
 *
 *	CAPNET_SIM_SEEDS=N   seeds for the randomized test (default DEFAULT_SEEDS, below)
 *	CAPNET_SIM_BASE=B    first seed of the range (default 1)
 *	CAPNET_SIM_SEED=S    run only seed S (the failure message prints the command)
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

#include "node/dynamo.h"
#include "tests/lib/sim.h"

#define MAXN 5
#define TICK_MS 5
#define N_KEYS 6
#define MAX_REQS 4096
#define MAX_WRITES 2048
#define AE_MS 50
#define TIMEOUT_MS 200
#define RUN_TICKS 1500
/* From the heal to identical replicas: in anti-entropy periods of one node. */
#define CONVERGE_PERIODS 40

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SEEDS 600
#else
#define DEFAULT_SEEDS 4000
#endif

static const char *prog = "test_dynamo";

struct wlog {
	struct dyn_write *w;
	size_t n, cap;
};

struct snode {
	struct dynamo *d;
	bool up;
	int64_t skew;
	uint64_t restart_at;
	struct wlog log;
};

/* A request the test made, and what came of it. */
struct req {
	int node;
	struct client_request cr;
	bool done, lost; /* lost: its coordinator crashed first */
	struct client_reply rep;
	uint64_t start, end;
	int write; /* index into writes, or -1 */
	int read_key;
};

/* A value written: unique, so a reply's values name their versions. */
struct wrec {
	int key;
	char value[32];
	bool has_version, acked, quorum;
	uint64_t ack_tick;
	struct dyn_version v;
	int seen[DYN_SIBLINGS_MAX]; /* the values the writer read first (its context) */
	int nseen;
};

struct cluster {
	uint64_t seed;
	int n;
	bool random;
	struct dyn_config cfg;
	struct sim_net *net;
	struct sim_rng rng;
	struct snode nodes[MAXN + 1];
	uint64_t base;
	struct req *reqs;
	int nreqs;
	struct wrec *writes;
	int nwrites;
	uint32_t next_seq;
};

struct totals {
	uint64_t seeds, ticks, writes, acked, reads, quorum_reads_checked, unavailable, crashes;
	uint64_t balances_checked, compactions;
	uint64_t siblings_seen, overdrafts, transfers, hints, read_repairs, ae_repairs;
	uint64_t max_converge;
};

static void __attribute__((format(printf, 4, 5)))
check_failed(const struct cluster *c, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAILED at line %d: %s\n  ", line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  seed %" PRIu64 ", %d nodes, N=%u, %s, tick %" PRIu64 "\n", c->seed,
		c->n, c->cfg.replicas, c->cfg.siblings ? "siblings" : "last-writer-wins",
		sim_net_now(c->net));
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

/* ---- the simulated cluster ---- */

static uint64_t node_now(const struct cluster *c, int i)
{
	return c->base + sim_net_now(c->net) * TICK_MS + c->nodes[i].skew;
}

static void pump(struct cluster *c, int i)
{
	struct snode *s = &c->nodes[i];
	struct dyn_write w;
	struct dyn_msg m;
	struct dyn_reply r;
	uint8_t buf[PROTO_MAX_DGRAM];

	/* Writes first: a shell syncs them before anything leaves. */
	while (dyn_pop_write(s->d, &w)) {
		if (s->log.n == s->log.cap) {
			s->log.cap = s->log.cap ? s->log.cap * 2 : 64;
			s->log.w = realloc(s->log.w, s->log.cap * sizeof(w));
			assert_non_null(s->log.w);
		}
		s->log.w[s->log.n++] = w;
	}
	while (dyn_pop_msg(s->d, &m)) {
		buf[0] = m.type;
		memcpy(buf + 1, m.payload, m.len);
		sim_net_send(c->net, i, m.to, buf, m.len + 1u);
	}
	while (dyn_pop_reply(s->d, &r)) {
		struct req *q = &c->reqs[r.handle];

		assert_true(r.handle < (uint64_t)c->nreqs && !q->done);
		q->done = true;
		q->rep = r.rep;
		q->end = sim_net_now(c->net);
	}
}

/* What each node's failure detector says: both directions work and the peer runs. */
static void update_reachability(struct cluster *c)
{
	for (int i = 1; i <= c->n; i++) {
		uint8_t bm[PROTO_BITMAP_BYTES] = { 0 };

		if (!c->nodes[i].up)
			continue;
		for (int j = 1; j <= c->n; j++)
			if (j != i && c->nodes[j].up && sim_net_linked(c->net, i, j) &&
			    sim_net_linked(c->net, j, i))
				proto_bitmap_set(bm, j);
		dyn_set_reachable(c->nodes[i].d, bm);
	}
}

/* One tick of the network; the nodes' own timers run only if tick_nodes. */
static void start_node(struct cluster *c, int i)
{
	struct snode *s = &c->nodes[i];
	struct dyn_config cfg = c->cfg;
	size_t k;

	cfg.id = i;
	s->d = dyn_new(&cfg);
	assert_non_null(s->d);
	for (k = 0; k < s->log.n; k++)
		assert_int_equal(dyn_restore(s->d, &s->log.w[k]), 0);
	s->up = true;
	if (c->net)
		update_reachability(c);
}

static int collect(void *arg, const struct dyn_write *w)
{
	struct wlog *log = arg;

	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 64;
		log->w = realloc(log->w, log->cap * sizeof(*w));
		if (!log->w)
			return -ENOMEM;
	}
	log->w[log->n++] = *w;
	return 0;
}

/* What a shell does when its log has grown: the state, as writes, replaces the log. */
static size_t compact(struct cluster *c, int i)
{
	struct wlog snap = { 0 };

	assert_int_equal(dyn_snapshot(c->nodes[i].d, collect, &snap), 0);
	free(c->nodes[i].log.w);
	c->nodes[i].log = snap;
	return snap.n;
}

static void crash(struct cluster *c, int i)
{
	dyn_free(c->nodes[i].d);
	c->nodes[i].d = NULL;
	c->nodes[i].up = false;
	sim_net_flush_to(c->net, i);
	for (int r = 0; r < c->nreqs; r++)
		if (c->reqs[r].node == i && !c->reqs[r].done)
			c->reqs[r].lost = true;
}

static void step_net(struct cluster *c, bool tick_nodes)
{
	int from, to;
	void *buf;
	size_t len;

	if (sim_net_now(c->net) % 4 == 0)
		update_reachability(c);
	for (int i = 1; i <= c->n && tick_nodes; i++)
		if (c->nodes[i].up) {
			dyn_tick(c->nodes[i].d, node_now(c, i));
			pump(c, i);
		}
	while (sim_net_recv(c->net, &from, &to, &buf, &len) == 1) {
		if (c->nodes[to].up) {
			const uint8_t *p = buf;

			assert_int_equal(dyn_receive(c->nodes[to].d, node_now(c, to), from, p[0],
						     p + 1, len - 1),
					 0);
			pump(c, to);
		}
		free(buf);
	}
	sim_net_tick(c->net);
}

static void step(struct cluster *c)
{
	step_net(c, true);
}

static void cluster_init(struct cluster *c, uint64_t seed, int n, uint16_t replicas, bool siblings)
{
	struct sim_net_config nc = { .n_nodes = n, .delay_min = 1, .delay_max = 3 };

	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->n = n;
	sim_rng_seed(&c->rng, seed);
	c->net = sim_net_new(&nc, seed);
	assert_non_null(c->net);
	c->cfg.nnodes = n;
	for (int i = 0; i < n; i++)
		c->cfg.nodes[i] = i + 1;
	c->cfg.replicas = replicas;
	c->cfg.siblings = siblings;
	c->cfg.request_timeout_ms = TIMEOUT_MS;
	c->cfg.anti_entropy_ms = AE_MS;
	c->cfg.hint_retry_ms = 50;
	c->base = 1700000000000ull;
	c->reqs = calloc(MAX_REQS, sizeof(*c->reqs));
	c->writes = calloc(MAX_WRITES, sizeof(*c->writes));
	assert_true(c->reqs && c->writes);
	for (int i = 1; i <= n; i++) {
		c->nodes[i].skew = (int64_t)sim_below(&c->rng, 40) - 20;
		start_node(c, i);
	}
	update_reachability(c);
}

static void cluster_free(struct cluster *c)
{
	for (int i = 1; i <= c->n; i++) {
		dyn_free(c->nodes[i].d);
		free(c->nodes[i].log.w);
	}
	sim_net_free(c->net);
	free(c->reqs);
	free(c->writes);
}

/* ---- requests ---- */

static struct req *request(struct cluster *c, int node, struct client_request *cr)
{
	struct req *q;

	assert_true(c->nreqs < MAX_REQS);
	q = &c->reqs[c->nreqs];
	memset(q, 0, sizeof(*q));
	cr->client_nonce = 0xc0ffee;
	cr->seq = ++c->next_seq;
	q->node = node;
	q->cr = *cr;
	q->start = sim_net_now(c->net);
	q->write = -1;
	q->read_key = -1;
	dyn_request(c->nodes[node].d, node_now(c, node), c->nreqs++, cr);
	pump(c, node);
	return q;
}

/* Runs until the request is answered (or its node crashed). */
static struct req *wait_req(struct cluster *c, struct req *q)
{
	int idx = q - c->reqs;

	for (int t = 0; t < 1000 && !c->reqs[idx].done && !c->reqs[idx].lost; t++)
		step(c);
	return &c->reqs[idx];
}

static struct req *put(struct cluster *c, int node, const char *key, const char *value,
		       enum client_consistency cons, const char *ctx)
{
	struct client_request cr = { .op = CLIENT_OP_PUT, .consistency = cons };

	snprintf(cr.key, sizeof(cr.key), "%s", key);
	cr.value.len = strlen(value);
	memcpy(cr.value.data, value, cr.value.len);
	if (ctx) {
		/* A read's context, given back: replace what that read saw. */
		cr.expected.len = strlen(ctx);
		memcpy(cr.expected.data, ctx, cr.expected.len);
	}
	return request(c, node, &cr);
}

static struct req *get(struct cluster *c, int node, const char *key, enum client_consistency cons)
{
	struct client_request cr = { .op = CLIENT_OP_GET, .consistency = cons };

	snprintf(cr.key, sizeof(cr.key), "%s", key);
	return request(c, node, &cr);
}

static struct req *bank_op(struct cluster *c, int node, enum client_op op, const char *a,
			   const char *b, int64_t amount, enum client_consistency cons)
{
	struct client_request cr = { .op = op, .consistency = cons, .amount = amount };

	if (op == CLIENT_OP_OPEN || op == CLIENT_OP_BALANCE)
		snprintf(cr.key, sizeof(cr.key), "%s", a);
	if (op == CLIENT_OP_TRANSFER) {
		snprintf(cr.from_account, sizeof(cr.from_account), "%s", a);
		snprintf(cr.to_account, sizeof(cr.to_account), "%s", b);
	}
	return request(c, node, &cr);
}

static bool reply_has(const struct client_reply *rep, const char *value)
{
	size_t n = strlen(value);

	if (rep->nsiblings) {
		for (int i = 0; i < rep->nsiblings; i++)
			if (rep->siblings[i].len == n && !memcmp(rep->siblings[i].data, value, n))
				return true;
		return false;
	}
	return rep->status == REPLY_OK && rep->value.len == n && !memcmp(rep->value.data, value, n);
}

static void run(struct cluster *c, int ticks)
{
	while (ticks-- > 0)
		step(c);
}

static void partition(struct cluster *c, const int *group)
{
	sim_net_partition(c->net, group);
	update_reachability(c);
}

static void heal(struct cluster *c)
{
	sim_net_heal(c->net);
	update_reachability(c);
}

/* ---- fixed scenarios ---- */

static void test_vv_text(void **state)
{
	struct dyn_vv vv;
	char buf[64];

	(void)state;
	assert_int_equal(dyn_vv_parse("3:7,1:2", 7, &vv), 0);
	assert_int_equal(vv.n, 2);
	assert_int_equal(dyn_vv_format(&vv, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1:2,3:7");
	assert_int_equal(dyn_vv_parse("", 0, &vv), 0);
	assert_int_equal(vv.n, 0);
	assert_int_equal(dyn_vv_parse("1:2,", 4, &vv), -EINVAL);
	assert_int_equal(dyn_vv_parse("1:0", 3, &vv), -EINVAL);
	assert_int_equal(dyn_vv_parse("0:1", 3, &vv), -EINVAL);
	assert_int_equal(dyn_vv_parse("1:2,1:3", 7, &vv), -EINVAL);
	assert_int_equal(dyn_vv_parse("1001:2", 6, &vv), -EINVAL);
	assert_int_equal(dyn_vv_parse("x", 1, &vv), -EINVAL);
	assert_int_equal(dyn_vv_format(&(struct dyn_vv){ .n = 1, .e = { { 1, 2 } } }, buf, 3),
			 -ENOSPC);
}

/* The five-node story in miniature: both sides of 1,2 | 3,4,5 take writes at ONE, the minority
 * reads stale, ALL is refused at once with the numbers, and after the heal everyone agrees. */
static void test_split_story(void **state)
{
	static const int split[] = { 0, 1, 1, 2, 2, 2 };
	struct cluster c;
	struct req *q;

	(void)state;
	cluster_init(&c, 1, 5, 0, false);
	q = wait_req(&c, put(&c, 1, "x", "1", CONSISTENCY_ALL, NULL));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.replicas_answered == 5, "%s", q->rep.reason);
	partition(&c, split);
	q = put(&c, 1, "x", "minority", CONSISTENCY_ALL, NULL);
	CHECK(&c, q->done && q->rep.status == REPLY_UNAVAILABLE, "ALL must be refused at once");
	assert_string_equal(q->rep.reason, "consistency ALL: 2 of 5 replicas reachable, 5 needed");
	q = wait_req(&c, put(&c, 4, "x", "2", CONSISTENCY_ONE, NULL));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.replicas_answered >= 1, "%s", q->rep.reason);
	q = wait_req(&c, put(&c, 2, "y", "left", CONSISTENCY_ONE, NULL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	q = wait_req(&c, get(&c, 1, "x", CONSISTENCY_ONE));
	CHECK(&c, reply_has(&q->rep, "1"), "the minority still reads its stale value");
	q = wait_req(&c, get(&c, 1, "x", CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_UNAVAILABLE, "QUORUM on the minority: %s", q->rep.reason);
	q = wait_req(&c, get(&c, 3, "x", CONSISTENCY_QUORUM));
	CHECK(&c, reply_has(&q->rep, "2") && q->rep.replicas_answered >= 3, "majority read");
	heal(&c);
	run(&c, 4 * AE_MS / TICK_MS * c.n);
	for (int i = 1; i <= 5; i++) {
		struct dyn_version v[DYN_SIBLINGS_MAX];

		CHECK(&c, dyn_local(c.nodes[i].d, DYN_SPACE_KV, "x", v, 8, NULL) == 1, "node %d",
		      i);
		CHECK(&c, v[0].len == 1 && v[0].value[0] == '2', "node %d has x=%.*s", i, v[0].len,
		      v[0].value);
		CHECK(&c, dyn_local(c.nodes[i].d, DYN_SPACE_KV, "y", v, 8, NULL) == 1, "node %d",
		      i);
	}
	cluster_free(&c);
}

/* A write at ONE while two replicas are cut off is kept as a hint and handed to them after the
 * heal, with anti-entropy off so only the hints can do it; the hints survive a crash. */
static void test_hinted_handoff(void **state)
{
	static const int split[] = { 0, 1, 2, 3 };
	struct dyn_version v[DYN_SIBLINGS_MAX];
	struct dyn_stats st;
	struct cluster c;
	struct req *q;

	(void)state;
	cluster_init(&c, 2, 3, 0, false);
	c.cfg.anti_entropy_ms = 0;
	for (int i = 1; i <= 3; i++) {
		crash(&c, i);
		start_node(&c, i);
	}
	partition(&c, split);
	q = wait_req(&c, put(&c, 1, "h", "hinted", CONSISTENCY_ONE, NULL));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.replicas_answered == 1, "%s", q->rep.reason);
	dyn_stats(c.nodes[1].d, &st);
	CHECK(&c, st.hints == 2, "%" PRIu64 " hints", st.hints);
	crash(&c, 1);
	start_node(&c, 1);
	dyn_stats(c.nodes[1].d, &st);
	CHECK(&c, st.hints == 2, "hints are durable: %" PRIu64 " after restart", st.hints);
	run(&c, 50);
	CHECK(&c, dyn_local(c.nodes[2].d, DYN_SPACE_KV, "h", v, 8, NULL) == 0, "cut off");
	heal(&c);
	run(&c, 50);
	for (int i = 2; i <= 3; i++)
		CHECK(&c, dyn_local(c.nodes[i].d, DYN_SPACE_KV, "h", v, 8, NULL) == 1,
		      "node %d got the hint", i);
	dyn_stats(c.nodes[1].d, &st);
	CHECK(&c, st.hints == 0 && st.hints_delivered == 2, "%" PRIu64 " hints left", st.hints);
	cluster_free(&c);
}

/* A read at ALL that sees a stale replica repairs it (no anti-entropy, no hints in time). */
static void test_read_repair(void **state)
{
	static const int split[] = { 0, 1, 1, 2 };
	struct dyn_version v[DYN_SIBLINGS_MAX];
	struct dyn_stats st;
	struct cluster c;
	struct req *q;

	(void)state;
	cluster_init(&c, 3, 3, 0, false);
	c.cfg.anti_entropy_ms = 0;
	c.cfg.hint_retry_ms = 1000000;
	for (int i = 1; i <= 3; i++) {
		crash(&c, i);
		start_node(&c, i);
	}
	/* Node 3 looks reachable but its link drops everything: no hint at write time. */
	q = wait_req(&c, put(&c, 1, "r", "old", CONSISTENCY_ALL, NULL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	sim_net_partition(c.net, split);
	q = wait_req(&c, put(&c, 1, "r", "new", CONSISTENCY_QUORUM, NULL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	run(&c, TIMEOUT_MS / TICK_MS + 2); /* the write expires: node 1 keeps a hint for 3 */
	heal(&c);
	/* The hint's next delivery is far off; the read at ALL sees 3 stale and repairs it. */
	CHECK(&c,
	      dyn_local(c.nodes[3].d, DYN_SPACE_KV, "r", v, 8, NULL) == 1 && v[0].value[0] == 'o',
	      "node 3 is stale before the read");
	q = get(&c, 2, "r", CONSISTENCY_ALL);
	for (int t = 0; t < 10; t++)
		step_net(&c, false);
	q = &c.reqs[c.nreqs - 1];
	CHECK(&c, reply_has(&q->rep, "new") && q->rep.replicas_answered == 3, "%s", q->rep.reason);
	CHECK(&c,
	      dyn_local(c.nodes[3].d, DYN_SPACE_KV, "r", v, 8, NULL) == 1 && v[0].value[0] == 'n',
	      "node 3 repaired by the read");
	dyn_stats(c.nodes[2].d, &st);
	CHECK(&c, st.read_repairs == 1, "%" PRIu64 " read repairs", st.read_repairs);
	cluster_free(&c);
}

/* Concurrent writes on both sides of a split: last-writer-wins picks the later clock on every
 * replica; with siblings, a read shows both and a put with its context resolves them. */
static void test_siblings(void **state)
{
	static const int split[] = { 0, 1, 2, 2 };
	struct dyn_version v[DYN_SIBLINGS_MAX];
	struct cluster c;
	struct req *q;
	char ctx[PROTO_CONTEXT_MAX + 1];

	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		cluster_init(&c, 4, 3, 0, mode == 1);
		c.nodes[1].skew = 0;
		c.nodes[2].skew = 0;
		partition(&c, split);
		wait_req(&c, put(&c, 1, "s", "left", CONSISTENCY_ONE, NULL));
		run(&c, 2);
		wait_req(&c, put(&c, 2, "s", "right", CONSISTENCY_ONE, NULL));
		heal(&c);
		run(&c, 4 * AE_MS / TICK_MS * c.n);
		q = wait_req(&c, get(&c, 3, "s", CONSISTENCY_ALL));
		if (mode == 0) {
			CHECK(&c, q->rep.nsiblings == 0 && reply_has(&q->rep, "right"),
			      "the later write wins");
			/* A context that no get returned is refused, not taken for a value. */
			q = put(&c, 3, "s", "swap", CONSISTENCY_ALL, "right");
			CHECK(&c, q->done && q->rep.status == REPLY_BAD_REQUEST, "%s",
			      q->rep.reason);
			for (int i = 1; i <= 3; i++)
				CHECK(&c,
				      dyn_local(c.nodes[i].d, DYN_SPACE_KV, "s", v, 8, NULL) == 1 &&
					      v[0].len == 5,
				      "node %d", i);
			cluster_free(&c);
			continue;
		}
		CHECK(&c,
		      q->rep.nsiblings == 2 && reply_has(&q->rep, "left") &&
			      reply_has(&q->rep, "right"),
		      "both siblings: %u", q->rep.nsiblings);
		CHECK(&c, q->rep.context[0], "no context in the reply (reason %s)", q->rep.reason);
		snprintf(ctx, sizeof(ctx), "%s", q->rep.context);
		/* A blind write adds a third sibling; the resolving write keeps only itself and
		 * whatever the read did not see. */
		wait_req(&c, put(&c, 3, "s", "blind", CONSISTENCY_ALL, NULL));
		q = wait_req(&c, put(&c, 1, "s", "merged", CONSISTENCY_ALL, ctx));
		CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
		run(&c, 20);
		q = wait_req(&c, get(&c, 2, "s", CONSISTENCY_ALL));
		CHECK(&c,
		      q->rep.nsiblings == 2 && reply_has(&q->rep, "merged") &&
			      reply_has(&q->rep, "blind"),
		      "resolved but the unseen sibling stays: %u", q->rep.nsiblings);
		cluster_free(&c);
	}
}

/* Both sides of a split spend the same money: after the heal the overdraft shows, and money is
 * conserved on every replica. */
static void test_bank_overdraft(void **state)
{
	static const int split[] = { 0, 1, 1, 2, 2, 2 };
	struct cluster c;
	struct req *q;
	int64_t total, opened;

	(void)state;
	cluster_init(&c, 5, 5, 0, false);
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "acct3", NULL, 100, CONSISTENCY_ALL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "b", NULL, 0, CONSISTENCY_ALL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	partition(&c, split);
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_TRANSFER, "acct3", "b", 110, CONSISTENCY_ONE));
	CHECK(&c, q->rep.status == REPLY_INSUFFICIENT_FUNDS && q->rep.amount == 100, "checked");
	q = wait_req(&c, bank_op(&c, 2, CLIENT_OP_TRANSFER, "acct3", "b", 110, CONSISTENCY_ONE));
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_TRANSFER, "acct3", "b", 100, CONSISTENCY_ONE));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	q = wait_req(&c, bank_op(&c, 4, CLIENT_OP_TRANSFER, "acct3", "b", 120, CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_INSUFFICIENT_FUNDS, "checked on the majority too");
	q = wait_req(&c, bank_op(&c, 4, CLIENT_OP_TRANSFER, "acct3", "b", 20, CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.replicas_answered >= 3, "%s", q->rep.reason);
	heal(&c);
	run(&c, 4 * AE_MS / TICK_MS * c.n);
	for (int i = 1; i <= 5; i++) {
		q = wait_req(&c,
			     bank_op(&c, i, CLIENT_OP_BALANCE, "acct3", NULL, 0, CONSISTENCY_ONE));
		CHECK(&c, q->rep.status == REPLY_OK && q->rep.amount == -20, "node %d: %" PRId64, i,
		      q->rep.amount);
		assert_string_equal(q->rep.reason, "overdrawn: acct3 is -20 after merging a split");
		assert_int_equal(dyn_bank_foreach(c.nodes[i].d, NULL, NULL, &total, &opened), 0);
		CHECK(&c, total == 100 && opened == 100, "node %d total %" PRId64, i, total);
	}
	q = wait_req(&c, bank_op(&c, 3, CLIENT_OP_BALANCE, "", NULL, 0, CONSISTENCY_ONE));
	CHECK(&c, q->rep.value.len == 15 && !memcmp(q->rep.value.data, "acct3=-20,b=120", 15),
	      "%.*s", q->rep.value.len, q->rep.value.data);
	cluster_free(&c);
}

/* With N=3 of 5 a node outside the preference list forwards a put to a replica; only the three
 * replicas keep the key, and a non-replica reads it at QUORUM. */
static void test_preference_list(void **state)
{
	uint16_t pref[DYN_MAX_NODES];
	struct dyn_version v[DYN_SIBLINGS_MAX];
	struct cluster c;
	struct req *q;
	unsigned int n;
	int outsider = 0, holders = 0;

	(void)state;
	cluster_init(&c, 6, 5, 3, false);
	n = dyn_preference(c.nodes[1].d, DYN_SPACE_KV, "k", pref);
	assert_int_equal(n, 3);
	for (int i = 1; i <= 5 && !outsider; i++)
		if (pref[0] != i && pref[1] != i && pref[2] != i)
			outsider = i;
	q = wait_req(&c, put(&c, outsider, "k", "v", CONSISTENCY_ALL, NULL));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.replicas_answered == 3, "%s", q->rep.reason);
	for (int i = 1; i <= 5; i++)
		holders += dyn_local(c.nodes[i].d, DYN_SPACE_KV, "k", v, 8, NULL);
	CHECK(&c, holders == 3, "%d nodes hold the key", holders);
	q = wait_req(&c, get(&c, outsider, "k", CONSISTENCY_QUORUM));
	CHECK(&c, reply_has(&q->rep, "v") && q->rep.replicas_answered >= 2, "%s", q->rep.reason);
	cluster_free(&c);
}

/* Garbage, cut-short and corrupted messages of every Dynamo type are refused as such, and the
 * node goes on serving. */
static void test_bad_messages(void **state)
{
	uint8_t buf[PROTO_MAX_PAYLOAD], good[PROTO_MAX_PAYLOAD];
	struct dyn_msg m;
	struct cluster c;
	struct sim_rng g;
	struct req *q;
	size_t glen = 0;
	int refused = 0;

	(void)state;
	cluster_init(&c, 7, 3, 0, true);
	/* A real REPLICA_PUT to corrupt, taken off node 1's queue. */
	q = put(&c, 1, "k", "abc", CONSISTENCY_ONE, NULL);
	CHECK(&c, q->done && q->rep.status == REPLY_OK, "%s", q->rep.reason);
	dyn_request(c.nodes[1].d, node_now(&c, 1), c.nreqs++,
		    &(struct client_request){ .op = CLIENT_OP_PUT,
					      .key = "k",
					      .value = { .len = 3, .data = "xyz" } });
	while (dyn_pop_msg(c.nodes[1].d, &m))
		if (m.type == PROTO_REPLICA_PUT) {
			memcpy(good, m.payload, m.len);
			glen = m.len;
		}
	assert_true(glen > 0);
	sim_rng_seed(&g, 7);
	for (int k = 0; k < 20000; k++) {
		uint8_t type = PROTO_REPLICA_PUT + sim_below(&g, 11);
		size_t len;
		int rc;

		if (k % 2) {
			len = sim_below(&g, glen + 1);
			memcpy(buf, good, glen);
			if (len)
				buf[sim_below(&g, len)] ^= 1 + sim_below(&g, 255);
		} else {
			len = sim_below(&g, 80);
			for (size_t i = 0; i < len; i++)
				buf[i] = sim_rand(&g);
		}
		rc = dyn_receive(c.nodes[2].d, node_now(&c, 2), 1 + sim_below(&g, 3), type, buf,
				 len);
		assert_true(rc == 0 || rc == -EBADMSG);
		refused += rc != 0;
		pump(&c, 2);
	}
	assert_true(refused > 10000);
	assert_int_equal(dyn_receive(c.nodes[2].d, 0, 2, PROTO_REPLICA_PUT, good, glen), -EBADMSG);
	assert_int_equal(dyn_receive(c.nodes[2].d, 0, 1, 99, good, glen), -EBADMSG);
	q = wait_req(&c, put(&c, 2, "after", "fine", CONSISTENCY_ALL, NULL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	cluster_free(&c);
}

/* Runs the network only, no node timers: no hint goes out, no request times out. */
static struct req *wait_quiet(struct cluster *c, struct req *q)
{
	int idx = q - c->reqs;

	for (int t = 0; t < 50 && !c->reqs[idx].done; t++)
		step_net(c, false);
	return &c->reqs[idx];
}

static int64_t account_of(struct cluster *c, int node, const char *name)
{
	struct req *q =
		wait_quiet(c, bank_op(c, node, CLIENT_OP_BALANCE, name, NULL, 0, CONSISTENCY_ONE));

	CHECK(c, q->rep.status == REPLY_OK, "balance %s on node %d: %s", name, node, q->rep.reason);
	return q->rep.amount;
}

/* A transfer acknowledged at QUORUM by 1-3 while 4 and 5 were cut off: after the heal (no
 * anti-entropy, and no node timer runs, so no hint goes out) node 5 alone still shows only its side's transfer at ONE, but at QUORUM
 * or ALL it gathers the transfer from the replicas that have it, answers with it, and repairs
 * the stale replicas it asked. An overdraft made across the split shows the same way. */
static void test_bank_quorum_balance(void **state)
{
	static const int split[] = { 0, 1, 1, 1, 2, 2 };
	struct dyn_stats st;
	struct cluster c;
	struct req *q;

	(void)state;
	cluster_init(&c, 8, 5, 0, false);
	c.cfg.anti_entropy_ms = 0;
	for (int i = 1; i <= 5; i++) {
		crash(&c, i);
		start_node(&c, i);
	}
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "a", NULL, 100, CONSISTENCY_ALL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "b", NULL, 0, CONSISTENCY_ALL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	partition(&c, split);
	q = wait_req(&c, bank_op(&c, 2, CLIENT_OP_TRANSFER, "a", "b", 70, CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.replicas_answered == 3, "%s", q->rep.reason);
	/* The other side spends too: 70 + 50 of 100. */
	q = wait_req(&c, bank_op(&c, 4, CLIENT_OP_TRANSFER, "a", "b", 50, CONSISTENCY_ONE));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	run(&c, 5); /* to node 5; the hints wait for the heal */
	q = wait_req(&c, bank_op(&c, 5, CLIENT_OP_BALANCE, "a", NULL, 0, CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_UNAVAILABLE, "a minority's QUORUM balance is refused");
	assert_string_equal(q->rep.reason,
			    "consistency QUORUM: 2 of 5 replicas reachable, 3 needed");
	heal(&c);
	CHECK(&c, account_of(&c, 5, "a") == 50, "node 5 has only its side's transfer at ONE");
	CHECK(&c, account_of(&c, 1, "a") == 30, "node 1 is stale at ONE");
	q = wait_quiet(&c, bank_op(&c, 5, CLIENT_OP_BALANCE, "a", NULL, 0, CONSISTENCY_QUORUM));
	CHECK(&c,
	      q->rep.status == REPLY_OK && q->rep.amount == -20 && q->rep.replicas_answered >= 3,
	      "QUORUM balance on node 5: %s %" PRId64 " (%u answered): %s",
	      proto_reply_status_name(q->rep.status), q->rep.amount, q->rep.replicas_answered,
	      q->rep.reason);
	/* Never hidden: the overdraft shows in the QUORUM answer too. */
	assert_string_equal(q->rep.reason, "overdrawn: a is -20 after merging a split");
	for (int t = 0; t < 10; t++)
		step_net(&c, false);
	for (int i = 1; i <= 5; i++)
		CHECK(&c, account_of(&c, i, "a") == -20,
		      "node %d repaired by the read (asked every replica)", i);
	dyn_stats(c.nodes[5].d, &st);
	CHECK(&c, st.read_repairs >= 1, "%" PRIu64 " read repairs", st.read_repairs);
	q = wait_req(&c, bank_op(&c, 3, CLIENT_OP_BALANCE, "", NULL, 0, CONSISTENCY_ALL));
	CHECK(&c,
	      q->rep.status == REPLY_OK && q->rep.replicas_answered == 5 && q->rep.amount == 100,
	      "ALL: %s", q->rep.reason);
	cluster_free(&c);
}

/* Replicas reachable but silent: a QUORUM balance waits its timeout, then says how many
 * answered; with every replica answering, many transfers come back in several pieces. */
static void test_bank_balance_pieces(void **state)
{
	static const int split[] = { 0, 1, 1, 2 };
	struct cluster c;
	struct req *q;
	int moved = 0;

	(void)state;
	cluster_init(&c, 9, 3, 0, false);
	c.cfg.anti_entropy_ms = 0;
	c.cfg.hint_retry_ms = 1000000;
	for (int i = 1; i <= 3; i++) {
		crash(&c, i);
		start_node(&c, i);
	}
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "a", NULL, 1000, CONSISTENCY_ALL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "b", NULL, 0, CONSISTENCY_ALL));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	/* Node 3 looks reachable to 1 and 2 but hears nothing. */
	sim_net_partition(c.net, split);
	q = wait_req(&c, bank_op(&c, 3, CLIENT_OP_BALANCE, "", NULL, 0, CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_UNAVAILABLE && q->end - q->start >= TIMEOUT_MS / TICK_MS,
	      "%s", q->rep.reason);
	assert_string_equal(q->rep.reason,
			    "consistency QUORUM: 1 of 3 replicas answered, 2 needed");
	for (int k = 0; k < 300; k++) {
		q = wait_req(&c, bank_op(&c, 1 + k % 2, CLIENT_OP_TRANSFER, "a", "b", 1,
					 CONSISTENCY_QUORUM));
		CHECK(&c, q->rep.status == REPLY_OK, "transfer %d: %s", k, q->rep.reason);
		moved++;
	}
	run(&c, TIMEOUT_MS / TICK_MS + 2); /* the writes to 3 expire into hints, far off */
	heal(&c);
	CHECK(&c, account_of(&c, 3, "b") == 0, "node 3 saw none of the transfers");
	q = wait_req(&c, bank_op(&c, 3, CLIENT_OP_BALANCE, "b", NULL, 0, CONSISTENCY_QUORUM));
	CHECK(&c, q->rep.status == REPLY_OK && q->rep.amount == moved, "%" PRId64 " of %d: %s",
	      q->rep.amount, moved, q->rep.reason);
	CHECK(&c, account_of(&c, 3, "b") == moved, "node 3 keeps what the read gathered");
	cluster_free(&c);
}

/* The log replaced by a snapshot of the state rebuilds the same state: versions, siblings and
 * their contexts, pending hints, the bank, and the clock; and it is much shorter. */
static void test_snapshot_restore(void **state)
{
	static const int split[] = { 0, 1, 2, 3 };
	struct dyn_version v[DYN_SIBLINGS_MAX], w[DYN_SIBLINGS_MAX];
	struct dyn_stats st, st2;
	struct dyn_vv ctx, ctx2;
	uint64_t fp_kv, fp_bank, hlc;
	struct cluster c;
	struct req *q;
	size_t logged, snapped;
	unsigned int n;
	char value[16];

	(void)state;
	cluster_init(&c, 10, 3, 0, true);
	c.cfg.anti_entropy_ms = 0;
	for (int i = 1; i <= 3; i++) {
		crash(&c, i);
		start_node(&c, i);
	}
	/* Read-modify-write, each put replacing what its read saw; then two blind puts leave
	 * siblings, whose record context covers versions long gone. */
	for (int k = 0; k < 200; k++) {
		char ctxbuf[PROTO_CONTEXT_MAX + 1];

		q = wait_req(&c, get(&c, 1 + k % 3, k % 2 ? "odd" : "even", CONSISTENCY_ALL));
		snprintf(ctxbuf, sizeof(ctxbuf), "%s", q->rep.context);
		snprintf(value, sizeof(value), "v%d", k);
		q = wait_req(&c, put(&c, 1 + k % 3, k % 2 ? "odd" : "even", value, CONSISTENCY_ALL,
				     ctxbuf[0] ? ctxbuf : NULL));
		CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	}
	wait_req(&c, put(&c, 2, "odd", "blind2", CONSISTENCY_ALL, NULL));
	wait_req(&c, put(&c, 3, "odd", "blind3", CONSISTENCY_ALL, NULL));
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "a", NULL, 10, CONSISTENCY_ALL));
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_OPEN, "b", NULL, 0, CONSISTENCY_ALL));
	partition(&c, split);
	q = wait_req(&c, bank_op(&c, 1, CLIENT_OP_TRANSFER, "a", "b", 4, CONSISTENCY_ONE));
	CHECK(&c, q->rep.status == REPLY_OK, "%s", q->rep.reason);
	q = wait_req(&c, put(&c, 1, "hinted", "x", CONSISTENCY_ONE, NULL));
	dyn_stats(c.nodes[1].d, &st);
	CHECK(&c, st.hints == 4, "%" PRIu64 " hints", st.hints);
	fp_kv = dyn_fingerprint(c.nodes[1].d, DYN_SPACE_KV);
	fp_bank = dyn_fingerprint(c.nodes[1].d, DYN_SPACE_BANK);
	hlc = dyn_hlc(c.nodes[1].d);
	n = dyn_local(c.nodes[1].d, DYN_SPACE_KV, "odd", v, DYN_SIBLINGS_MAX, &ctx);
	CHECK(&c, n == 3 && ctx.n >= 2, "%u siblings, a context of %u entries", n, ctx.n);
	logged = c.nodes[1].log.n;
	snapped = compact(&c, 1);
	crash(&c, 1);
	start_node(&c, 1);
	CHECK(&c, snapped * 8 < logged, "%zu writes in the snapshot of %zu logged", snapped,
	      logged);
	CHECK(&c, dyn_fingerprint(c.nodes[1].d, DYN_SPACE_KV) == fp_kv, "keys differ");
	CHECK(&c, dyn_fingerprint(c.nodes[1].d, DYN_SPACE_BANK) == fp_bank, "bank differs");
	CHECK(&c, dyn_hlc(c.nodes[1].d) >= hlc, "the clock went back");
	CHECK(&c, dyn_local(c.nodes[1].d, DYN_SPACE_KV, "odd", w, DYN_SIBLINGS_MAX, &ctx2) == n,
	      "siblings");
	CHECK(&c, !memcmp(&ctx, &ctx2, sizeof(ctx)), "the context of odd differs");
	dyn_stats(c.nodes[1].d, &st2);
	CHECK(&c, st2.hints == st.hints && st2.keys == st.keys && st2.versions == st.versions,
	      "%" PRIu64 " hints, %" PRIu64 " keys, %" PRIu64 " versions after the restart",
	      st2.hints, st2.keys, st2.versions);
	/* The restored node goes on: a second snapshot restores to the same, the hints reach
	 * their targets after the heal. */
	compact(&c, 1);
	crash(&c, 1);
	start_node(&c, 1);
	CHECK(&c, dyn_fingerprint(c.nodes[1].d, DYN_SPACE_KV) == fp_kv, "keys differ again");
	heal(&c);
	run(&c, 100);
	for (int i = 2; i <= 3; i++) {
		CHECK(&c, dyn_local(c.nodes[i].d, DYN_SPACE_KV, "hinted", v, 8, NULL) == 1,
		      "node %d got the hint", i);
		CHECK(&c, account_of(&c, i, "b") == 4, "node %d got the transfer", i);
	}
	cluster_free(&c);
}

/* ---- randomized runs ---- */

static uint64_t local_fp(const struct dyn_version *v, unsigned int n)
{
	uint64_t fp = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t h = (uint64_t)v[i].dot.node << 48 ^ v[i].dot.counter ^ v[i].hlc * 31;

		for (unsigned int k = 0; k < v[i].len; k++)
			h = (h ^ v[i].value[k]) * 0x100000001b3ULL;
		fp += h * 0x9e3779b97f4a7c15ULL;
	}
	return fp;
}

static int find_write(const struct cluster *c, int key, const uint8_t *value, size_t len)
{
	for (int w = 0; w < c->nwrites; w++)
		if (c->writes[w].key == key && strlen(c->writes[w].value) == len &&
		    !memcmp(c->writes[w].value, value, len))
			return w;
	return -1;
}

static int version_cmp(const struct dyn_version *a, const struct dyn_version *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	if (a->dot.node != b->dot.node)
		return a->dot.node < b->dot.node ? -1 : 1;
	return a->dot.counter < b->dot.counter ? -1 : a->dot.counter > b->dot.counter;
}

static bool vv_covers(const struct dyn_vv *vv, const struct dyn_dot *dot)
{
	for (int i = 0; i < vv->n; i++)
		if (vv->e[i].node == dot->node)
			return vv->e[i].counter >= dot->counter;
	return false;
}

/* A QUORUM read that began after a QUORUM write was acknowledged must show it or a newer one. */
static void check_read(struct cluster *c, struct totals *tot, const struct req *q)
{
	const struct client_reply *rep = &q->rep;
	int key = q->read_key;

	/* Refusing is allowed (that is the C given up); answering stale is not. */
	if (rep->status == REPLY_UNAVAILABLE || rep->status == REPLY_TIMEOUT)
		return;
	for (int w = 0; w < c->nwrites; w++) {
		const struct wrec *x = &c->writes[w];
		bool ok = false;

		if (x->key != key || !x->acked || !x->quorum || x->ack_tick >= q->start)
			continue;
		tot->quorum_reads_checked++;
		CHECK(c, rep->status == REPLY_OK, "read of k%d after acknowledged %s: %s", key,
		      x->value, proto_reply_status_name(rep->status));
		if (!c->cfg.siblings) {
			int r = find_write(c, key, rep->value.data, rep->value.len);

			CHECK(c, r >= 0 && version_cmp(&c->writes[r].v, &x->v) >= 0,
			      "read of k%d returned %.*s, older than acknowledged %s", key,
			      rep->value.len, rep->value.data, x->value);
			continue;
		}
		for (int s = 0; s < (rep->nsiblings ? rep->nsiblings : 1) && !ok; s++) {
			const struct proto_value *pv = rep->nsiblings ? &rep->siblings[s] :
									&rep->value;
			int r = find_write(c, key, pv->data, pv->len);

			CHECK(c, r >= 0, "unknown value read");
			ok = r == w || vv_covers(&c->writes[r].v.ctx, &x->v.dot);
		}
		CHECK(c, ok, "read of k%d lost acknowledged %s", key, x->value);
	}
}

/* A balance at QUORUM or ALL is computed from its coordinator's store once the answers are
 * merged into it: every transfer acknowledged at QUORUM or ALL before it began must be there. */
static void check_balance(struct cluster *c, struct totals *tot, const struct req *q)
{
	if (!c->nodes[q->node].up)
		return;
	for (const struct req *t = c->reqs; t < q; t++) {
		struct dyn_version v[1];
		char id[64];

		if (t->cr.op != CLIENT_OP_TRANSFER || !t->done || t->rep.status != REPLY_OK ||
		    t->cr.consistency == CONSISTENCY_ONE || t->end >= q->start)
			continue;
		tot->balances_checked++;
		snprintf(id, sizeof(id), "t/%08x/%" PRIu64, t->cr.client_nonce, t->cr.seq);
		CHECK(c, dyn_local(c->nodes[q->node].d, DYN_SPACE_BANK, id, v, 1, NULL) == 1,
		      "%s balance on node %d misses transfer %s acknowledged before it",
		      q->cr.consistency == CONSISTENCY_ALL ? "ALL" : "QUORUM", q->node, id);
	}
}

static void finish_requests(struct cluster *c, struct totals *tot, int *checked)
{
	for (; *checked < c->nreqs; (*checked)++) {
		struct req *q = &c->reqs[*checked];

		if (q->lost)
			continue; /* lost with its coordinator: indeterminate */
		if (!q->done)
			return;
		if (q->rep.status == REPLY_UNAVAILABLE)
			tot->unavailable++;
		if (q->write >= 0 && q->rep.status == REPLY_OK) {
			struct wrec *x = &c->writes[q->write];

			x->acked = true;
			x->ack_tick = q->end;
			x->quorum = q->cr.consistency != CONSISTENCY_ONE;
			tot->acked++;
		}
		if (q->read_key >= 0) {
			tot->reads++;
			if (q->rep.nsiblings)
				tot->siblings_seen++;
			if (q->cr.consistency != CONSISTENCY_ONE)
				check_read(c, tot, q);
		}
		if (q->cr.op == CLIENT_OP_TRANSFER && q->rep.status == REPLY_OK)
			tot->transfers++;
		if (q->cr.op == CLIENT_OP_BALANCE && q->rep.status == REPLY_OK &&
		    q->cr.consistency != CONSISTENCY_ONE)
			check_balance(c, tot, q);
	}
}

static void random_op(struct cluster *c, struct totals *tot)
{
	static const enum client_consistency cons[] = { CONSISTENCY_ONE, CONSISTENCY_QUORUM,
							CONSISTENCY_QUORUM, CONSISTENCY_ALL };
	static const char *const acct[] = { "a", "b", "c" };
	enum client_consistency cl = cons[sim_below(&c->rng, 4)];
	uint16_t pref[DYN_MAX_NODES];
	int key = sim_below(&c->rng, N_KEYS), node, roll = sim_below(&c->rng, 10);
	char name[16];
	unsigned int n;
	struct req *q;

	snprintf(name, sizeof(name), "k%d", key);
	node = 1 + sim_below(&c->rng, c->n);
	if (!c->nodes[node].up)
		return;
	if (roll == 2 && sim_below(&c->rng, 2)) {
		bank_op(c, node, CLIENT_OP_BALANCE, sim_below(&c->rng, 2) ? "" : "a", NULL, 0, cl);
		return;
	}
	if (roll < 2) {
		int a = sim_below(&c->rng, 3), b = (a + 1 + sim_below(&c->rng, 2)) % 3;

		bank_op(c, node, CLIENT_OP_TRANSFER, acct[a], acct[b], 1 + sim_below(&c->rng, 60),
			cl);
		return;
	}
	if (roll < 6) {
		q = get(c, node, name, cl);
		q->read_key = key;
		return;
	}
	/* Writes go to a replica, which coordinates them: its store shows the new version. */
	n = dyn_preference(c->nodes[node].d, DYN_SPACE_KV, name, pref);
	node = pref[sim_below(&c->rng, n)];
	if (!c->nodes[node].up || c->nwrites >= MAX_WRITES)
		return;
	{
		struct wrec *x = &c->writes[c->nwrites];
		const char *ctx = NULL;
		char ctxbuf[PROTO_CONTEXT_MAX + 1];
		struct dyn_version v[DYN_SIBLINGS_MAX];
		unsigned int nv;

		memset(x, 0, sizeof(*x));
		x->key = key;
		snprintf(x->value, sizeof(x->value), "s%" PRIu64 "w%d", c->seed, c->nwrites);
		if (c->cfg.siblings && sim_below(&c->rng, 4)) {
			/* Read-modify-write, as a Riak client does: the read's context goes back
			 * with the put, and the writer has seen exactly the read's values. (One
			 * write in four is blind and makes siblings.) */
			const struct req *r;

			q = get(c, node, name, CONSISTENCY_ONE);
			r = wait_req(c, q);
			if (!r->done)
				return;
			if (r->rep.status == REPLY_OK && r->rep.context[0]) {
				snprintf(ctxbuf, sizeof(ctxbuf), "%s", r->rep.context);
				ctx = ctxbuf;
			}
			for (int s = 0;
			     s < r->rep.nsiblings || (s == 0 && r->rep.status == REPLY_OK); s++) {
				const struct proto_value *pv =
					r->rep.nsiblings ? &r->rep.siblings[s] : &r->rep.value;
				int w = find_write(c, key, pv->data, pv->len);

				if (w >= 0 && x->nseen < DYN_SIBLINGS_MAX)
					x->seen[x->nseen++] = w;
				if (!r->rep.nsiblings)
					break;
			}
			if (!c->nodes[node].up)
				return;
		}
		q = put(c, node, name, x->value, cl, ctx);
		q->write = c->nwrites++;
		tot->writes++;
		nv = dyn_local(c->nodes[node].d, DYN_SPACE_KV, name, v, DYN_SIBLINGS_MAX, NULL);
		for (unsigned int i = 0; i < nv && i < DYN_SIBLINGS_MAX; i++)
			if (v[i].len == strlen(x->value) &&
			    !memcmp(v[i].value, x->value, v[i].len)) {
				x->v = v[i];
				x->has_version = true;
			}
		if (!x->has_version)
			q->write = -1, c->nwrites--;
	}
}

static void random_fault(struct cluster *c, struct totals *tot)
{
	struct sim_net_config nc = { .n_nodes = c->n, .delay_min = 1, .delay_max = 3 };
	int group[MAXN + 1], roll = sim_below(&c->rng, 10);

	if (roll < 3) {
		for (int i = 1; i <= c->n; i++)
			group[i] = sim_below(&c->rng, 2);
		partition(c, group);
	} else if (roll < 5) {
		heal(c);
	} else if (roll < 7) {
		nc.loss_ppm = sim_below(&c->rng, 3) * 100000;
		nc.dup_ppm = sim_below(&c->rng, 2) * 50000;
		nc.delay_max = 1 + sim_below(&c->rng, 6);
		sim_net_set_faults(c->net, &nc);
	} else if (roll < 9) {
		int i = 1 + sim_below(&c->rng, c->n);

		if (c->nodes[i].up) {
			crash(c, i);
			c->nodes[i].restart_at = sim_net_now(c->net) + 20 + sim_below(&c->rng, 100);
			tot->crashes++;
		}
	} else {
		int i = 1 + sim_below(&c->rng, c->n);

		/* The log replaced by the state; later writes append to it, a crash replays. */
		if (c->nodes[i].up) {
			compact(c, i);
			tot->compactions++;
		}
	}
}

/* Every replica of every key holds the same versions, and every node the same bank. */
static bool converged(struct cluster *c)
{
	for (int k = 0; k < N_KEYS; k++) {
		uint16_t pref[DYN_MAX_NODES];
		struct dyn_version v[DYN_SIBLINGS_MAX];
		char name[16];
		unsigned int n, nv;
		uint64_t fp0 = 0;

		snprintf(name, sizeof(name), "k%d", k);
		n = dyn_preference(c->nodes[1].d, DYN_SPACE_KV, name, pref);
		for (unsigned int i = 0; i < n; i++) {
			nv = dyn_local(c->nodes[pref[i]].d, DYN_SPACE_KV, name, v, DYN_SIBLINGS_MAX,
				       NULL);
			if (!i)
				fp0 = local_fp(v, nv);
			else if (local_fp(v, nv) != fp0)
				return false;
		}
	}
	for (int i = 2; i <= c->n; i++)
		if (dyn_fingerprint(c->nodes[i].d, DYN_SPACE_BANK) !=
		    dyn_fingerprint(c->nodes[1].d, DYN_SPACE_BANK))
			return false;
	return true;
}

static void check_final(struct cluster *c, struct totals *tot)
{
	bool superseded[MAX_WRITES] = { false };
	int64_t total, opened;

	/* Which writes a later writer saw (and so may have replaced on purpose). */
	for (int w = 0; w < c->nwrites; w++)
		for (int s = 0; s < c->writes[w].nseen; s++)
			superseded[c->writes[w].seen[s]] = true;
	for (int w = 0; w < c->nwrites; w++) {
		const struct wrec *x = &c->writes[w];
		uint16_t pref[DYN_MAX_NODES];
		struct dyn_version v[DYN_SIBLINGS_MAX], best;
		char name[16];
		unsigned int nv, i;
		bool present = false;

		if (!x->acked)
			continue;
		snprintf(name, sizeof(name), "k%d", x->key);
		dyn_preference(c->nodes[1].d, DYN_SPACE_KV, name, pref);
		nv = dyn_local(c->nodes[pref[0]].d, DYN_SPACE_KV, name, v, DYN_SIBLINGS_MAX, NULL);
		CHECK(c, nv > 0, "k%d vanished", x->key);
		best = v[0];
		for (i = 0; i < nv; i++) {
			present |= v[i].dot.node == x->v.dot.node &&
				   v[i].dot.counter == x->v.dot.counter;
			if (version_cmp(&v[i], &best) > 0)
				best = v[i];
		}
		if (!c->cfg.siblings)
			CHECK(c, version_cmp(&best, &x->v) >= 0,
			      "last writer lost: %s beats the survivor", x->value);
		else
			CHECK(c, present || superseded[w],
			      "sibling %s dropped though no writer saw it", x->value);
	}
	for (int i = 1; i <= c->n; i++) {
		assert_int_equal(dyn_bank_foreach(c->nodes[i].d, NULL, NULL, &total, &opened), 0);
		CHECK(c, total == 300 && opened == 300,
		      "node %d: total %" PRId64 ", opened %" PRId64, i, total, opened);
		for (int r = 0; r < c->nreqs; r++) {
			const struct req *q = &c->reqs[r];
			struct dyn_version v[1];
			char id[64];

			if (q->cr.op != CLIENT_OP_TRANSFER || !q->done || q->rep.status != REPLY_OK)
				continue;
			snprintf(id, sizeof(id), "t/%08x/%" PRIu64, q->cr.client_nonce, q->cr.seq);
			CHECK(c, dyn_local(c->nodes[i].d, DYN_SPACE_BANK, id, v, 1, NULL) == 1,
			      "node %d lacks acknowledged transfer %s", i, id);
		}
	}
	for (int i = 1; i <= c->n; i++) {
		struct dyn_stats st;

		dyn_stats(c->nodes[i].d, &st);
		tot->hints += st.hints_delivered;
		tot->read_repairs += st.read_repairs;
		tot->ae_repairs += st.ae_repairs;
	}
	{
		struct req *q =
			wait_req(c, bank_op(c, 1, CLIENT_OP_BALANCE, "", NULL, 0, CONSISTENCY_ONE));

		if (strstr(q->rep.reason, "overdrawn"))
			tot->overdrafts++;
	}
}

static void run_seed(uint64_t seed, struct totals *tot, bool random)
{
	int n = seed % 2 ? 5 : 3;
	uint16_t replicas = n == 5 && seed % 4 == 1 ? 3 : 0;
	bool siblings = seed % 3 == 0;
	struct sim_net_config nc = { .n_nodes = n, .delay_min = 1, .delay_max = 3 };
	struct cluster c;
	int checked = 0;
	uint64_t healed, t;

	cluster_init(&c, seed, n, replicas, siblings);
	c.random = random;
	for (int a = 0; a < 3; a++) {
		static const char *const acct[] = { "a", "b", "c" };
		struct req *q = wait_req(&c, bank_op(&c, 1 + a % n, CLIENT_OP_OPEN, acct[a], NULL,
						     100, CONSISTENCY_ALL));

		CHECK(&c, q->rep.status == REPLY_OK, "open %s: %s", acct[a], q->rep.reason);
	}
	for (t = 0; t < RUN_TICKS; t++) {
		if (sim_below(&c.rng, 100) < 8)
			random_op(&c, tot);
		if (sim_below(&c.rng, 1000) < 8)
			random_fault(&c, tot);
		for (int i = 1; i <= n; i++)
			if (!c.nodes[i].up && sim_net_now(c.net) >= c.nodes[i].restart_at)
				start_node(&c, i);
		step(&c);
		finish_requests(&c, tot, &checked);
	}
	/* Heal everything, restart everyone, and count anti-entropy periods to agreement. */
	heal(&c);
	sim_net_set_faults(c.net, &nc);
	for (int i = 1; i <= n; i++)
		if (!c.nodes[i].up)
			start_node(&c, i);
	update_reachability(&c);
	healed = sim_net_now(c.net);
	run(&c, TIMEOUT_MS / TICK_MS + 5);
	finish_requests(&c, tot, &checked);
	while (!converged(&c)) {
		CHECK(&c, sim_net_now(c.net) - healed < CONVERGE_PERIODS * AE_MS / TICK_MS,
		      "replicas still differ %d anti-entropy periods after the heal",
		      CONVERGE_PERIODS);
		run(&c, 1);
	}
	t = (sim_net_now(c.net) - healed) * TICK_MS / AE_MS;
	if (t > tot->max_converge)
		tot->max_converge = t;
	check_final(&c, tot);
	tot->seeds++;
	tot->ticks += sim_net_now(c.net);
	cluster_free(&c);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
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
	if (one && *one)
		run_seed(strtoull(one, NULL, 0), &tot, true);
	else
		for (uint64_t s = base; s < base + n; s++)
			run_seed(s, &tot, true);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  %" PRIu64 " seeds, %" PRIu64 " ticks in %.1f s\n"
	       "  clients: %" PRIu64 " writes (%" PRIu64 " acknowledged), %" PRIu64
	       " reads (%" PRIu64
	       " checks of a QUORUM read against an earlier QUORUM write), %" PRIu64
	       " with siblings, %" PRIu64 " refused as unavailable, %" PRIu64 " transfers\n"
	       "  faults: %" PRIu64 " crashes; convergence: %" PRIu64 " hints delivered, %" PRIu64
	       " read repairs, %" PRIu64 " versions pushed by anti-entropy, slowest %" PRIu64
	       " periods after the heal; %" PRIu64 " runs ended overdrawn\n"
	       "  bank: %" PRIu64 " checks of a QUORUM/ALL balance against an earlier acknowledged "
	       "transfer; logs: %" PRIu64 " compactions\n",
	       tot.seeds, tot.ticks,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       tot.writes, tot.acked, tot.reads, tot.quorum_reads_checked, tot.siblings_seen,
	       tot.unavailable, tot.transfers, tot.crashes, tot.hints, tot.read_repairs,
	       tot.ae_repairs, tot.max_converge, tot.overdrafts, tot.balances_checked,
	       tot.compactions);
	/* A run that exercised nothing would prove nothing. */
	assert_true(tot.acked > 0 && tot.quorum_reads_checked > 0 && tot.transfers > 0);
	if (tot.seeds >= 50)
		assert_true(tot.balances_checked > 0 && tot.compactions > 0);
	if (tot.seeds >= 50)
		assert_true(tot.crashes > 0 && tot.hints > 0 && tot.read_repairs > 0 &&
			    tot.ae_repairs > 0 && tot.siblings_seen > 0 && tot.unavailable > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vv_text),
		cmocka_unit_test(test_split_story),
		cmocka_unit_test(test_hinted_handoff),
		cmocka_unit_test(test_read_repair),
		cmocka_unit_test(test_siblings),
		cmocka_unit_test(test_bank_overdraft),
		cmocka_unit_test(test_preference_list),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_bank_quorum_balance),
		cmocka_unit_test(test_bank_balance_pieces),
		cmocka_unit_test(test_snapshot_restore),
		cmocka_unit_test(test_random_seeds),
	};

	(void)argc;
	prog = argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
