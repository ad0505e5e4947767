// SPDX-License-Identifier: GPL-2.0-only
/*
 * CP request admission (node/cp_admit.h): fixed cases for each branch, then a deterministic
 * simulation. In it, clients send and resend requests to one node whose view of Raft and of the
 * network changes at random (leader or not, a leader known or not, a quorum in reach or not),
 * while a model of Raft commits, fails and serves what the node proposed, and a model leader
 * answers what it forwarded. Checked on every step:
 *  - every request gets exactly one answer, and a resend is dropped only while a copy of it is
 *    being worked on (so a client never hears two different things about one request);
 *  - nothing is held past its deadline plus one tick;
 *  - a minority refuses at once with its reason, and so does a leader without a quorum;
 *  - admission itself never answers OK, and a request a follower forwarded never hops again.
 * Every run replays from its seed:
 *
 *	CAPNET_SIM_SEEDS=N   seeds (default 100)
 *	CAPNET_SIM_SEED=S    run only seed S (a failure prints it)
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "node/cp_admit.h"
#include "tests/lib/sim.h"

#define TIMEOUT_MS 200
#define TICK_MS 10
#define CLIENTS 24
#define STEPS 20000

static struct cp_admit adm;

static struct cp_view majority_follower(void)
{
	return (struct cp_view){ .leader_id = 3,
				 .leader_addressable = true,
				 .has_quorum = true,
				 .reachable = 3,
				 .members = 5,
				 .quorum = 3 };
}

static struct client_request request(uint32_t nonce, uint64_t seq, enum client_op op)
{
	struct client_request r = { .client_nonce = nonce, .seq = seq, .op = op };

	snprintf(r.key, sizeof(r.key), "x");
	r.value.len = 1;
	r.value.data[0] = 'v';
	return r;
}

static void test_minority_refuses_with_reason(void **state)
{
	struct cp_view v = majority_follower();
	struct client_request r = request(1, 1, CLIENT_OP_PUT);
	struct reply_to to = { 0 };
	struct cp_decision d;

	(void)state;
	cp_admit_init(&adm, TIMEOUT_MS);
	v.reachable = 2;
	v.has_quorum = false;
	v.leader_id = 0;
	cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
	assert_int_equal(d.action, CP_ANSWER);
	assert_int_equal(d.status, REPLY_UNAVAILABLE);
	assert_string_equal(d.reason, "no quorum (2/5 reachable, 3 needed)");
	/* A leader cut off from its majority says the same. */
	v.leader = true;
	cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
	assert_int_equal(d.action, CP_ANSWER);
	assert_string_equal(d.reason, "no quorum (2/5 reachable, 3 needed)");
}

static void test_bad_requests_held_nowhere(void **state)
{
	struct cp_view v = majority_follower();
	struct client_request r = request(1, 1, CLIENT_OP_STATUS);
	struct reply_to to = { 0 };
	struct cp_decision d;

	(void)state;
	cp_admit_init(&adm, TIMEOUT_MS);
	cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
	assert_int_equal(d.status, REPLY_BAD_REQUEST);
	assert_string_equal(d.reason, "unknown operation");
	r = request(1, 2, CLIENT_OP_PUT);
	r.expected.len = 3;
	cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
	assert_int_equal(d.status, REPLY_BAD_REQUEST);
	v.leader = true;
	r = request(1, 3, CLIENT_OP_PUT);
	r.value.len = PROTO_VALUE_MAX;
	memset(r.value.data, 'v', r.value.len);
	snprintf(r.key, sizeof(r.key), "%0*d", PROTO_KEY_MAX, 0);
	cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
	/* Either it fits in a log entry and is proposed, or it is refused: never held. */
	assert_true(d.action == CP_PROPOSE ||
		    (d.action == CP_ANSWER && d.status == REPLY_BAD_REQUEST));
	for (int t = 0; t < CP_TABLES; t++)
		for (int i = 0; i < CP_MAX_PENDING; i++)
			assert_false(adm.t[t][i].used);
}

static void test_resend_in_flight_is_dropped(void **state)
{
	struct cp_view v = majority_follower();
	struct client_request r = request(7, 1, CLIENT_OP_GET);
	struct reply_to to = { 0 };
	struct cp_decision d;
	struct cp_pending p;

	(void)state;
	cp_admit_init(&adm, TIMEOUT_MS);
	v.leader = true;
	cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
	assert_int_equal(d.action, CP_READ_INDEX);
	cp_admit_decide(&adm, &v, false, 5, &to, &r, &d);
	assert_int_equal(d.action, CP_IGNORE);
	assert_true(cp_admit_take_key(&adm, CP_READS, 1, &p));
	assert_int_equal(p.req.client_nonce, 7);
	/* Answered: the next resend is a new decision. */
	cp_admit_decide(&adm, &v, false, 6, &to, &r, &d);
	assert_int_equal(d.action, CP_READ_INDEX);
}

static void test_forwarded_never_hops_twice(void **state)
{
	struct cp_view v = majority_follower();
	struct client_request r = request(1, 1, CLIENT_OP_PUT);
	struct reply_to from_follower = { .node = 2 }, client = { 0 };
	struct cp_decision d;

	(void)state;
	cp_admit_init(&adm, TIMEOUT_MS);
	cp_admit_decide(&adm, &v, false, 0, &from_follower, &r, &d);
	assert_int_equal(d.action, CP_ANSWER);
	assert_int_equal(d.status, REPLY_NOT_LEADER);
	cp_admit_decide(&adm, &v, false, 0, &client, &r, &d);
	assert_int_equal(d.action, CP_FORWARD);
	/* A leader outside the cluster map cannot be forwarded to. */
	v.leader_addressable = false;
	r.seq = 2;
	cp_admit_decide(&adm, &v, false, 0, &client, &r, &d);
	assert_int_equal(d.status, REPLY_NOT_LEADER);
}

static void test_election_holds_then_times_out(void **state)
{
	struct cp_view v = majority_follower();
	struct client_request r = request(1, 1, CLIENT_OP_PUT);
	struct reply_to to = { 0 };
	struct cp_decision d;
	struct cp_pending p;
	size_t pos = 0;

	(void)state;
	cp_admit_init(&adm, TIMEOUT_MS);
	v.leader_id = 0;
	v.has_quorum = false;
	cp_admit_decide(&adm, &v, false, 100, &to, &r, &d);
	assert_int_equal(d.action, CP_HOLD);
	assert_int_equal(cp_admit_next_waiting(&adm, &v, 150, &pos, &p, &d), CP_WAIT_DONE);
	pos = 0;
	assert_int_equal(cp_admit_next_waiting(&adm, &v, 100 + TIMEOUT_MS, &pos, &p, &d),
			 CP_WAIT_ANSWER);
	assert_string_equal(d.reason, "no leader elected in time");
	/* Held again, and a leader appears: it goes. */
	cp_admit_decide(&adm, &v, false, 400, &to, &r, &d);
	v.leader_id = 4;
	v.has_quorum = true;
	pos = 0;
	assert_int_equal(cp_admit_next_waiting(&adm, &v, 410, &pos, &p, &d), CP_WAIT_RETRY);
	assert_int_equal(p.req.seq, 1);
	assert_int_equal(cp_admit_next_waiting(&adm, &v, 410, &pos, &p, &d), CP_WAIT_DONE);
}

static void test_overload_says_so(void **state)
{
	struct cp_view v = majority_follower();
	struct reply_to to = { 0 };
	struct cp_decision d;
	uint32_t i;

	(void)state;
	cp_admit_init(&adm, TIMEOUT_MS);
	v.leader = true;
	for (i = 1; i <= CP_MAX_PENDING; i++) {
		struct client_request r = request(i, 1, CLIENT_OP_GET);

		cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
		assert_int_equal(d.action, CP_READ_INDEX);
	}
	{
		struct client_request r = request(i, 1, CLIENT_OP_GET);

		cp_admit_decide(&adm, &v, false, 0, &to, &r, &d);
		assert_int_equal(d.status, REPLY_UNAVAILABLE);
		assert_string_equal(d.reason, "overloaded: too many reads");
	}
}

/* ---- the simulation ---- */

struct sim_client {
	bool busy;
	uint64_t seq, sent_at, answers;
	bool via_follower; /* this request comes as if forwarded by node 2 */
	struct client_request req; /* a resend is the same request */
};

struct sim {
	struct sim_rng rng;
	uint64_t seed, now;
	struct cp_view v;
	struct sim_client c[CLIENTS + 1];
	uint64_t next_index;
	uint64_t requests, answers, ignored, refused_minority, forwarded, held, proposed, committed,
		lost_index, timeouts, overloaded;
};

#define SIM_CHECK(s, cond, ...)                                                  \
	do {                                                                     \
		if (!(cond)) {                                                   \
			print_error("seed %" PRIu64 " (CAPNET_SIM_SEED=%" PRIu64 \
				    " replays), ms %" PRIu64 ": ",               \
				    (s)->seed, (s)->seed, (s)->now);             \
			print_error(__VA_ARGS__);                                \
			print_error("\n");                                       \
			fail();                                                  \
		}                                                                \
	} while (0)

static bool tracked(const struct cp_admit *a, uint32_t nonce, uint64_t seq)
{
	for (int t = 0; t < CP_TABLES; t++)
		for (int i = 0; i < CP_MAX_PENDING; i++)
			if (a->t[t][i].used && a->t[t][i].req.client_nonce == nonce &&
			    a->t[t][i].req.seq == seq)
				return true;
	return false;
}

static void deliver(struct sim *s, const struct client_request *req, enum reply_status status)
{
	struct sim_client *c = &s->c[req->client_nonce];

	SIM_CHECK(s, c->busy && c->seq == req->seq,
		  "answer to client %u seq %" PRIu64 " that is not waiting for it",
		  req->client_nonce, req->seq);
	c->answers++;
	c->busy = false;
	s->answers++;
	s->timeouts += status == REPLY_TIMEOUT;
}

/* The shell's part: carry a decision out against the model of Raft. */
static void carry_out(struct sim *s, const struct reply_to *to, const struct client_request *req,
		      struct cp_decision *d)
{
	bool was_tracked = tracked(&adm, req->client_nonce, req->seq);

	switch (d->action) {
	case CP_IGNORE:
		SIM_CHECK(s, was_tracked, "a resend dropped while no copy is in flight");
		s->ignored++;
		return;
	case CP_HOLD:
		s->held++;
		return;
	case CP_LOCAL_READ:
		deliver(s, req, REPLY_OK);
		return;
	case CP_READ_INDEX:
		if (!sim_chance(&s->rng, 100000))
			return; /* Raft took the read; it is served or fails later */
		cp_admit_read_failed(&adm, d->read_id, d);
		break;
	case CP_PROPOSE: {
		int err = sim_chance(&s->rng, 50000) ? -EREMOTE :
			  sim_chance(&s->rng, 20000) ? -EAGAIN :
						       0;

		if (cp_admit_proposed(&adm, err, s->next_index + 1, s->now, to, req, d)) {
			s->next_index++;
			s->proposed++;
			return;
		}
		break;
	}
	case CP_FORWARD:
		cp_admit_forwarded(&adm, s->now, to, req);
		s->forwarded++;
		return;
	case CP_ANSWER:
		SIM_CHECK(s, d->status != REPLY_OK, "admission answered OK by itself");
		SIM_CHECK(s, !was_tracked,
			  "answered a resend while a copy is in flight (%d \"%s\")", d->status,
			  d->reason);
		s->overloaded += !strncmp(d->reason, "overloaded", 10);
		break;
	}
	deliver(s, req, d->status);
}

static void decide(struct sim *s, const struct reply_to *to, const struct client_request *req)
{
	struct cp_decision d;
	bool minority = !s->v.leader && (int)s->v.reachable < s->v.quorum && !to->node;
	bool dup = tracked(&adm, req->client_nonce, req->seq);

	cp_admit_decide(&adm, &s->v, false, s->now, to, req, &d);
	if (!dup && req->op != CLIENT_OP_STATUS && !req->expected.len) {
		if (minority || (s->v.leader && !s->v.has_quorum)) {
			char want[PROTO_REASON_MAX];

			cp_admit_no_quorum(&s->v, want, sizeof(want));
			SIM_CHECK(s,
				  d.action == CP_ANSWER && d.status == REPLY_UNAVAILABLE &&
					  !strcmp(d.reason, want),
				  "no quorum, yet not refused at once (action %d, \"%s\")",
				  d.action, d.reason);
			s->refused_minority++;
		}
		if (to->node && !s->v.leader)
			SIM_CHECK(s, d.action == CP_ANSWER && d.status == REPLY_NOT_LEADER,
				  "a forwarded request hopped again");
	}
	carry_out(s, to, req, &d);
}

/* A new request, or (resend) the same one again. */
static void submit(struct sim *s, uint32_t id, bool resend)
{
	static const enum client_op ops[] = { CLIENT_OP_GET, CLIENT_OP_PUT, CLIENT_OP_CAS,
					      CLIENT_OP_TRANSFER, CLIENT_OP_BALANCE };
	struct sim_client *c = &s->c[id];
	struct reply_to to = { .node = c->via_follower ? 2 : 0 };

	if (!resend) {
		c->req = request(id, c->seq,
				 sim_chance(&s->rng, 10000) ? CLIENT_OP_STATUS :
							      ops[sim_below(&s->rng, 5)]);
		if (c->req.op == CLIENT_OP_PUT && sim_chance(&s->rng, 10000))
			c->req.expected.len = 1;
	}
	s->requests++;
	decide(s, &to, &c->req);
}

static void raft_progress(struct sim *s)
{
	struct cp_pending p;

	/* Commit some write: ours, or another entry that won the index after a leader change. */
	if (s->next_index && sim_chance(&s->rng, 300000) &&
	    cp_admit_take_key(&adm, CP_WRITES, s->next_index - sim_below(&s->rng, 2), &p)) {
		bool lost = sim_chance(&s->rng, 50000);

		s->committed += !lost;
		s->lost_index += lost;
		deliver(s, &p.req, lost ? REPLY_UNAVAILABLE : REPLY_OK);
	}
	if (sim_chance(&s->rng, 300000) &&
	    cp_admit_take_key(&adm, CP_READS, adm.next_read_id - sim_below(&s->rng, 3), &p))
		deliver(s, &p.req, sim_chance(&s->rng, 100000) ? REPLY_UNAVAILABLE : REPLY_OK);
	/* The leader answers a forwarded request, or has stepped down (decide afresh). */
	if (sim_chance(&s->rng, 300000)) {
		uint32_t id = 1 + (uint32_t)sim_below(&s->rng, CLIENTS);

		if (cp_admit_take_request(&adm, CP_FORWARDS, id, s->c[id].seq, &p)) {
			if (sim_chance(&s->rng, 200000))
				decide(s, &p.to, &p.req);
			else
				deliver(s, &p.req, REPLY_OK);
		}
	}
}

static void tick(struct sim *s)
{
	static const enum cp_table timed[] = { CP_WRITES, CP_READS, CP_FORWARDS };
	struct cp_decision d;
	struct cp_pending p;
	size_t pos = 0;

	for (size_t t = 0; t < 3; t++)
		while (cp_admit_take_expired(&adm, timed[t], s->now, &p))
			deliver(s, &p.req, REPLY_TIMEOUT);
	for (;;) {
		enum cp_wait w = cp_admit_next_waiting(&adm, &s->v, s->now, &pos, &p, &d);

		if (w == CP_WAIT_DONE)
			break;
		if (w == CP_WAIT_RETRY)
			decide(s, &p.to, &p.req);
		else
			deliver(s, &p.req, d.status);
	}
	/* Nothing outlives its deadline by more than a tick. */
	for (int t = 0; t < CP_TABLES; t++)
		for (int i = 0; i < CP_MAX_PENDING; i++)
			SIM_CHECK(s, !adm.t[t][i].used || adm.t[t][i].deadline > s->now,
				  "table %d holds a request past its deadline", t);
}

static void change_view(struct sim *s)
{
	struct cp_view *v = &s->v;

	v->members = 5;
	v->quorum = 3;
	v->reachable = 1 + (unsigned int)sim_below(&s->rng, 5);
	v->leader = v->reachable >= 3 && sim_chance(&s->rng, 400000);
	v->leader_id = sim_chance(&s->rng, 700000) ? 1 + (uint16_t)sim_below(&s->rng, 5) : 0;
	v->leader_addressable = sim_chance(&s->rng, 950000);
	v->has_quorum = sim_chance(&s->rng, 700000);
}

static void run_seed(struct sim *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	sim_rng_seed(&s->rng, seed);
	cp_admit_init(&adm, TIMEOUT_MS);
	change_view(s);
	for (s->now = 1; s->now <= STEPS; s->now++) {
		if (sim_chance(&s->rng, 5000))
			change_view(s);
		for (uint32_t id = 1; id <= CLIENTS; id++) {
			struct sim_client *c = &s->c[id];

			if (!c->busy && sim_chance(&s->rng, 20000)) {
				c->busy = true;
				c->seq++;
				c->answers = 0;
				c->sent_at = s->now;
				c->via_follower = sim_chance(&s->rng, 50000);
				submit(s, id, false);
			} else if (c->busy && s->now - c->sent_at >= 50 &&
				   sim_chance(&s->rng, 100000)) {
				/* No answer yet: the client resends the same request. */
				c->sent_at = s->now;
				submit(s, id, true);
			}
		}
		raft_progress(s);
		if (s->now % TICK_MS == 0)
			tick(s);
	}
	/* Heal and let every held request finish: each client hears exactly once. */
	s->v = majority_follower();
	s->v.leader = true;
	for (int k = 0; k < TIMEOUT_MS / TICK_MS + 2; k++) {
		s->now += TICK_MS;
		tick(s);
	}
	for (uint32_t id = 1; id <= CLIENTS; id++)
		SIM_CHECK(s, !s->c[id].busy, "client %u never heard about seq %" PRIu64, id,
			  s->c[id].seq);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 10) : def;
}

static void test_random_seeds(void **state)
{
	static struct sim s;
	uint64_t one = env_u64("CAPNET_SIM_SEED", 0), n = env_u64("CAPNET_SIM_SEEDS", 100);
	uint64_t requests = 0, answers = 0, ignored = 0, refused = 0, forwarded = 0, held = 0,
		 proposed = 0, committed = 0, lost = 0, timeouts = 0, overloaded = 0;

	(void)state;
	for (uint64_t seed = one ? one : 1; seed <= (one ? one : n); seed++) {
		run_seed(&s, seed);
		requests += s.requests;
		answers += s.answers;
		ignored += s.ignored;
		refused += s.refused_minority;
		forwarded += s.forwarded;
		held += s.held;
		proposed += s.proposed;
		committed += s.committed;
		lost += s.lost_index;
		timeouts += s.timeouts;
		overloaded += s.overloaded;
	}
	printf("  %" PRIu64 " requests (%" PRIu64 " resends dropped while in flight), %" PRIu64
	       " answers; %" PRIu64 " refused at once without a quorum, %" PRIu64
	       " forwarded, %" PRIu64 " held for an election, %" PRIu64 " proposed (%" PRIu64
	       " committed, %" PRIu64 " lost their index), %" PRIu64 " timeouts, %" PRIu64
	       " overloaded\n",
	       requests, ignored, answers, refused, forwarded, held, proposed, committed, lost,
	       timeouts, overloaded);
	assert_true(answers > 0 && refused > 0 && forwarded > 0 && held > 0 && committed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minority_refuses_with_reason),
		cmocka_unit_test(test_bad_requests_held_nowhere),
		cmocka_unit_test(test_resend_in_flight_is_dropped),
		cmocka_unit_test(test_forwarded_never_hops_twice),
		cmocka_unit_test(test_election_holds_then_times_out),
		cmocka_unit_test(test_overload_says_so),
		cmocka_unit_test(test_random_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
