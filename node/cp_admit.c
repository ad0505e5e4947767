// SPDX-License-Identifier: GPL-2.0-only
/* The order of the checks is the contract: a bad request is refused before anything is held, a
 * resend of a request in flight is dropped before any answer (answering it apart, say
 * UNAVAILABLE while the first copy commits, would tell the client something false), and a
 * minority refuses at once with its reason instead of waiting out a timeout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/app.h"
#include "node/cp_admit.h"
#include "node/raft_wire.h"

void cp_admit_init(struct cp_admit *a, uint64_t timeout_ms)
{
	memset(a, 0, sizeof(*a));
	a->timeout_ms = timeout_ms;
}

static void answer(struct cp_decision *d, enum reply_status status, const char *reason)
{
	d->action = CP_ANSWER;
	d->status = status;
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
}

void cp_admit_no_quorum(const struct cp_view *v, char *buf, size_t len)
{
	snprintf(buf, len, "no quorum (%u/%u reachable, %d needed)", v->reachable, v->members,
		 v->quorum);
}

static struct cp_pending *free_slot(struct cp_admit *a, enum cp_table t)
{
	unsigned int i;

	for (i = 0; i < CP_MAX_PENDING; i++)
		if (!a->t[t][i].used)
			return &a->t[t][i];
	return NULL;
}

static void hold(struct cp_pending *p, uint64_t key, uint64_t deadline, const struct reply_to *to,
		 const struct client_request *req)
{
	*p = (struct cp_pending){
		.used = true, .key = key, .deadline = deadline, .to = *to, .req = *req
	};
}

static bool is_read(const struct client_request *req)
{
	return req->op == CLIENT_OP_GET || req->op == CLIENT_OP_BALANCE;
}

static bool in_flight(const struct cp_admit *a, const struct client_request *req)
{
	unsigned int t, i;

	for (t = 0; t < CP_TABLES; t++)
		for (i = 0; i < CP_MAX_PENDING; i++)
			if (a->t[t][i].used && a->t[t][i].req.client_nonce == req->client_nonce &&
			    a->t[t][i].req.seq == req->seq)
				return true;
	return false;
}

static bool quorum_in_reach(const struct cp_view *v)
{
	return (int)v->reachable >= v->quorum;
}

/* The leader takes a request: reads by ReadIndex, writes through the log. */
static void lead(struct cp_admit *a, uint64_t now, const struct reply_to *to,
		 const struct client_request *req, struct cp_decision *d)
{
	struct cp_pending *p;

	if (is_read(req)) {
		p = free_slot(a, CP_READS);
		if (!p) {
			answer(d, REPLY_UNAVAILABLE, "overloaded: too many reads");
			return;
		}
		hold(p, ++a->next_read_id, now + a->timeout_ms, to, req);
		d->action = CP_READ_INDEX;
		d->read_id = p->key;
		return;
	}
	d->entry_len = app_encode_entry(req, d->entry, sizeof(d->entry));
	if (d->entry_len < 0 || d->entry_len > RAFT_WIRE_ENTRY_MAX) {
		answer(d, REPLY_BAD_REQUEST,
		       d->entry_len < 0 ? "malformed request" : "request too large to replicate");
		return;
	}
	if (!free_slot(a, CP_WRITES)) {
		answer(d, REPLY_UNAVAILABLE, "overloaded: too many writes");
		return;
	}
	d->action = CP_PROPOSE;
}

void cp_admit_decide(struct cp_admit *a, const struct cp_view *v, bool unsafe_local_reads,
		     uint64_t now, const struct reply_to *to, const struct client_request *req,
		     struct cp_decision *d)
{
	struct cp_pending *p;

	memset(d, 0, offsetof(struct cp_decision, entry));
	d->entry_len = 0;
	if (req->op == CLIENT_OP_STATUS || !proto_op_name(req->op)) {
		answer(d, REPLY_BAD_REQUEST, "unknown operation");
		return;
	}
	if (req->op == CLIENT_OP_PUT && req->expected.len) {
		answer(d, REPLY_BAD_REQUEST,
		       "a read context belongs to AP mode with siblings; CP keeps one value");
		return;
	}
	if (unsafe_local_reads && is_read(req)) {
		/* The teaching switch: fast, and wrong under partitions (stale reads). */
		d->action = CP_LOCAL_READ;
		return;
	}
	if (in_flight(a, req)) {
		d->action = CP_IGNORE;
		return;
	}
	if (v->leader) {
		if (!v->has_quorum) {
			answer(d, REPLY_UNAVAILABLE, "");
			cp_admit_no_quorum(v, d->reason, sizeof(d->reason));
			return;
		}
		lead(a, now, to, req, d);
		return;
	}
	if (to->node) {
		/* Forwarded to us, but we are not the leader (any more): say so, no second hop. */
		answer(d, REPLY_NOT_LEADER, "not the leader");
		return;
	}
	if (quorum_in_reach(v) && v->leader_id && v->has_quorum) {
		if (!v->leader_addressable || !free_slot(a, CP_FORWARDS)) {
			answer(d, REPLY_NOT_LEADER, "not the leader");
			return;
		}
		d->action = CP_FORWARD;
		return;
	}
	if (!quorum_in_reach(v)) {
		/* The minority's "503": refuse at once, and say why. */
		answer(d, REPLY_UNAVAILABLE, "");
		cp_admit_no_quorum(v, d->reason, sizeof(d->reason));
		return;
	}
	/* A quorum is in reach but no leader yet: an election is on; hold the request. */
	p = free_slot(a, CP_WAITING);
	if (!p) {
		answer(d, REPLY_UNAVAILABLE, "no leader elected yet");
		return;
	}
	hold(p, 0, now + a->timeout_ms, to, req);
	d->action = CP_HOLD;
}

void cp_admit_read_failed(struct cp_admit *a, uint64_t read_id, struct cp_decision *d)
{
	struct cp_pending p;

	cp_admit_take_key(a, CP_READS, read_id, &p);
	answer(d, REPLY_UNAVAILABLE, "cannot confirm leadership");
}

bool cp_admit_proposed(struct cp_admit *a, int err, uint64_t index, uint64_t now,
		       const struct reply_to *to, const struct client_request *req,
		       struct cp_decision *d)
{
	struct cp_pending *p = free_slot(a, CP_WRITES);

	if (err || !p) {
		/* -EREMOTE: Raft knows it is no longer the leader. */
		answer(d, err == -EREMOTE ? REPLY_NOT_LEADER : REPLY_UNAVAILABLE,
		       err == -EREMOTE ? "not the leader" : "leader not ready");
		return false;
	}
	hold(p, index, now + a->timeout_ms, to, req);
	return true;
}

void cp_admit_forwarded(struct cp_admit *a, uint64_t now, const struct reply_to *to,
			const struct client_request *req)
{
	struct cp_pending *p = free_slot(a, CP_FORWARDS);

	if (p)
		hold(p, 0, now + a->timeout_ms, to, req);
}

static bool take(struct cp_pending *p, struct cp_pending *out)
{
	*out = *p;
	p->used = false;
	return true;
}

bool cp_admit_take_key(struct cp_admit *a, enum cp_table t, uint64_t key, struct cp_pending *out)
{
	unsigned int i;

	for (i = 0; i < CP_MAX_PENDING; i++)
		if (a->t[t][i].used && a->t[t][i].key == key)
			return take(&a->t[t][i], out);
	return false;
}

bool cp_admit_take_request(struct cp_admit *a, enum cp_table t, uint32_t nonce, uint64_t seq,
			   struct cp_pending *out)
{
	unsigned int i;

	for (i = 0; i < CP_MAX_PENDING; i++)
		if (a->t[t][i].used && a->t[t][i].req.client_nonce == nonce &&
		    a->t[t][i].req.seq == seq)
			return take(&a->t[t][i], out);
	return false;
}

bool cp_admit_take_expired(struct cp_admit *a, enum cp_table t, uint64_t now,
			   struct cp_pending *out)
{
	unsigned int i;

	for (i = 0; i < CP_MAX_PENDING; i++)
		if (a->t[t][i].used && now >= a->t[t][i].deadline)
			return take(&a->t[t][i], out);
	return false;
}

enum cp_wait cp_admit_next_waiting(struct cp_admit *a, const struct cp_view *v, uint64_t now,
				   size_t *pos, struct cp_pending *out, struct cp_decision *d)
{
	for (; *pos < CP_MAX_PENDING; (*pos)++) {
		struct cp_pending *p = &a->t[CP_WAITING][*pos];

		if (!p->used)
			continue;
		if (v->leader_id && v->has_quorum) {
			take(p, out);
			(*pos)++;
			return CP_WAIT_RETRY;
		}
		if (now >= p->deadline || !quorum_in_reach(v)) {
			if (now >= p->deadline) {
				answer(d, REPLY_UNAVAILABLE, "no leader elected in time");
			} else {
				answer(d, REPLY_UNAVAILABLE, "");
				cp_admit_no_quorum(v, d->reason, sizeof(d->reason));
			}
			take(p, out);
			(*pos)++;
			return CP_WAIT_ANSWER;
		}
	}
	return CP_WAIT_DONE;
}
