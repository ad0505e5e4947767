// SPDX-License-Identifier: GPL-2.0-only
/* The replica's I/O shell for CP mode: datagrams in, Raft and the application in between,
 * datagrams out, the log on disk before any acknowledgement leaves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>

#include "node/app.h"
#include "node/node.h"
#include "node/node_io.h"
#include "node/raft.h"
#include "node/raft_wire.h"
#include "node/storage.h"

/* Requests in flight per table; a full table answers UNAVAILABLE (overloaded). */
#define MAX_PENDING 256
struct pending {
	bool used;
	uint64_t key; /* write: log index; read: read id; forward/wait: 0 */
	uint64_t deadline; /* ms */
	struct reply_to to;
	struct client_request req;
};

struct node {
	const struct node_config *cfg;
	struct node_io io;
	struct raft *raft;
	struct app *app;
	struct storage *storage;
	struct raft_wire_assembler snap_in;
	uint64_t next_read_id;
	uint64_t last_snapshot_index;
	struct pending writes[MAX_PENDING]; /* on the leader, by log index */
	struct pending reads[MAX_PENDING]; /* on the leader, by read id */
	struct pending forwards[MAX_PENDING]; /* on a follower, by (nonce, seq) */
	struct pending waiting[MAX_PENDING]; /* no leader yet, but a quorum is in reach */
	struct raft_entry entries[RAFT_WIRE_BATCH_ENTRIES * 4];
};

int node_parse_cluster(const char *text, struct node_config *cfg, char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *item;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	cfg->npeers = 0;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *colon, *end;
		unsigned long id, port = cfg->port;
		struct node_peer *p;
		unsigned int i;

		if (!eq) {
			snprintf(err, errlen, "cluster member \"%s\" is not ID=ADDRESS", item);
			rc = -EINVAL;
			break;
		}
		*eq = 0;
		id = strtoul(item, &end, 10);
		if (!*item || *end || id < 1 || id > PROTO_MAX_NODE) {
			snprintf(err, errlen, "cluster member id \"%s\" is not a node id (1..%d)",
				 item, PROTO_MAX_NODE);
			rc = -EINVAL;
			break;
		}
		colon = strchr(eq + 1, ':');
		if (colon) {
			*colon = 0;
			port = strtoul(colon + 1, &end, 10);
			if (!colon[1] || *end || !port || port > 65535) {
				snprintf(err, errlen, "bad port in cluster member %lu", id);
				rc = -EINVAL;
				break;
			}
		}
		for (i = 0; i < cfg->npeers; i++)
			if (cfg->peers[i].id == id) {
				snprintf(err, errlen, "node %lu is in the cluster twice", id);
				rc = -EINVAL;
				goto out;
			}
		if (cfg->npeers >= NODE_MAX_CLUSTER) {
			snprintf(err, errlen, "more than %d cluster members", NODE_MAX_CLUSTER);
			rc = -EINVAL;
			break;
		}
		p = &cfg->peers[cfg->npeers];
		memset(p, 0, sizeof(*p));
		p->id = id;
		p->addr.sin_family = AF_INET;
		p->addr.sin_port = htons(port);
		if (inet_pton(AF_INET, eq + 1, &p->addr.sin_addr) != 1) {
			snprintf(err, errlen, "\"%s\" is not an IPv4 address (node %lu)", eq + 1,
				 id);
			rc = -EINVAL;
			break;
		}
		cfg->npeers++;
	}
out:
	free(copy);
	if (!rc && !cfg->npeers) {
		snprintf(err, errlen, "the cluster is empty");
		rc = -EINVAL;
	}
	return rc;
}

static const struct node_peer *peer(const struct node *n, uint16_t id)
{
	return node_io_peer(&n->io, id);
}

/* Members this node can talk with both ways right now, itself included. */
static unsigned int reachable(const struct node *n, uint8_t *bitmap)
{
	return node_io_reachable(&n->io, bitmap);
}

/* Enough members reachable both ways for a majority (Raft's own count of one). */
static bool quorum_in_reach(const struct node *n)
{
	return (int)reachable(n, NULL) >= raft_quorum(n->raft);
}

static uint64_t next_msg_id(struct node *n)
{
	return node_io_msg_id(&n->io);
}

static void send_to(struct node *n, const struct sockaddr_in *addr, const uint8_t *buf, int len)
{
	node_io_send(&n->io, addr, buf, len);
}

static void send_raft(struct node *n, const struct raft_msg *m)
{
	const struct node_peer *p = peer(n, m->to);
	uint32_t k, chunks;
	int len;

	if (!p)
		return;
	if (m->type != RAFT_MSG_SNAPSHOT) {
		len = raft_wire_encode(m, next_msg_id(n), n->io.buf, sizeof(n->io.buf));
		if (len < 0)
			node_log(&n->io, "cannot encode %s to %u: %s", raft_msg_type_name(m->type),
				 m->to, proto_strerror(len));
		send_to(n, &p->addr, n->io.buf, len);
		return;
	}
	chunks = raft_wire_snapshot_chunks(m);
	for (k = 0; k < chunks; k++) {
		len = raft_wire_encode_snapshot_chunk(m, k, next_msg_id(n), n->io.buf,
						      sizeof(n->io.buf));
		send_to(n, &p->addr, n->io.buf, len);
	}
}

static void send_reply(struct node *n, const struct reply_to *to, const struct client_reply *rep)
{
	node_io_send_reply(&n->io, to, raft_term(n->raft), rep);
}

static void reply_status(struct node *n, const struct reply_to *to,
			 const struct client_request *req, enum reply_status status,
			 const char *reason)
{
	struct client_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.client_nonce = req->client_nonce;
	rep.seq = req->seq;
	rep.status = status;
	rep.leader_hint = raft_leader(n->raft);
	if (reason)
		snprintf(rep.reason, sizeof(rep.reason), "%s", reason);
	send_reply(n, to, &rep);
}

static void no_quorum_reason(const struct node *n, char *buf, size_t len)
{
	snprintf(buf, len, "no quorum (%u/%u reachable, %d needed)", reachable(n, NULL),
		 n->cfg->npeers, raft_quorum(n->raft));
}

static struct pending *slot(struct pending *table)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++)
		if (!table[i].used)
			return &table[i];
	return NULL;
}

static bool is_read(const struct client_request *req)
{
	return req->op == CLIENT_OP_GET || req->op == CLIENT_OP_BALANCE;
}

static void forward(struct node *n, const struct reply_to *to, const struct client_request *req)
{
	const struct node_peer *leader = peer(n, raft_leader(n->raft));
	struct proto_header hdr = { .type = PROTO_CLIENT_REQUEST, .from = n->cfg->id };
	struct pending *p = slot(n->forwards);
	struct proto_writer w;
	int len;

	if (!leader || !p) {
		reply_status(n, to, req, REPLY_NOT_LEADER, "not the leader");
		return;
	}
	hdr.to = leader->id;
	hdr.term = raft_term(n->raft);
	hdr.msg_id = next_msg_id(n);
	proto_msg_begin(&w, n->io.buf, sizeof(n->io.buf));
	proto_put_client_request(&w, req);
	len = proto_msg_end(&w, &hdr);
	if (len < 0) {
		reply_status(n, to, req, REPLY_BAD_REQUEST, "request too large to forward");
		return;
	}
	*p = (struct pending){ .used = true,
			       .deadline = node_now_ms() + n->cfg->request_timeout_ms,
			       .to = *to,
			       .req = *req };
	send_to(n, &leader->addr, n->io.buf, len);
}

/* The leader takes a request: reads by ReadIndex, writes through the log. */
static void lead(struct node *n, const struct reply_to *to, const struct client_request *req)
{
	uint8_t entry[PROTO_MAX_PAYLOAD];
	struct pending *p;
	uint64_t index;
	int len, err;

	if (is_read(req)) {
		p = slot(n->reads);
		if (!p) {
			reply_status(n, to, req, REPLY_UNAVAILABLE, "overloaded: too many reads");
			return;
		}
		*p = (struct pending){ .used = true,
				       .key = ++n->next_read_id,
				       .to = *to,
				       .req = *req,
				       .deadline = node_now_ms() + n->cfg->request_timeout_ms };
		err = raft_read_index(n->raft, p->key);
		if (err) {
			p->used = false;
			reply_status(n, to, req, REPLY_UNAVAILABLE, "cannot confirm leadership");
		}
		return;
	}
	len = app_encode_entry(req, entry, sizeof(entry));
	if (len < 0 || len > RAFT_WIRE_ENTRY_MAX) {
		reply_status(n, to, req, REPLY_BAD_REQUEST,
			     len < 0 ? "malformed request" : "request too large to replicate");
		return;
	}
	p = slot(n->writes);
	if (!p) {
		reply_status(n, to, req, REPLY_UNAVAILABLE, "overloaded: too many writes");
		return;
	}
	err = raft_propose(n->raft, req->client_nonce, req->seq, entry, len, &index);
	if (err) {
		reply_status(n, to, req, err == -EREMOTE ? REPLY_NOT_LEADER : REPLY_UNAVAILABLE,
			     err == -EREMOTE ? "not the leader" : "leader not ready");
		return;
	}
	*p = (struct pending){ .used = true,
			       .key = index,
			       .to = *to,
			       .req = *req,
			       .deadline = node_now_ms() + n->cfg->request_timeout_ms };
}

static bool in_table(const struct pending *table, const struct client_request *req)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++)
		if (table[i].used && table[i].req.client_nonce == req->client_nonce &&
		    table[i].req.seq == req->seq)
			return true;
	return false;
}

/* A request of this client and sequence is already being worked on here. */
static bool in_flight(const struct node *n, const struct client_request *req)
{
	return in_table(n->writes, req) || in_table(n->reads, req) || in_table(n->forwards, req) ||
	       in_table(n->waiting, req);
}

static void handle_request(struct node *n, const struct reply_to *to,
			   const struct client_request *req)
{
	char reason[PROTO_REASON_MAX];
	struct pending *p;

	if (req->op == CLIENT_OP_STATUS || !proto_op_name(req->op)) {
		reply_status(n, to, req, REPLY_BAD_REQUEST, "unknown operation");
		return;
	}
	if (req->op == CLIENT_OP_PUT && req->expected.len) {
		reply_status(n, to, req, REPLY_BAD_REQUEST,
			     "a read context belongs to AP mode with siblings; CP keeps one value");
		return;
	}
	if (n->cfg->unsafe_local_reads && is_read(req)) {
		/* The teaching switch: fast, and wrong under partitions (stale reads). */
		struct client_reply rep;

		app_read(n->app, req, &rep);
		send_reply(n, to, &rep);
		return;
	}
	/* A client resends what it has no answer to yet. The copy in flight will be answered;
	 * answering the resend apart (say, UNAVAILABLE while the first commits) would tell the
	 * client something false. */
	if (in_flight(n, req))
		return;
	if (raft_role(n->raft) == RAFT_LEADER) {
		if (!raft_has_quorum(n->raft)) {
			no_quorum_reason(n, reason, sizeof(reason));
			reply_status(n, to, req, REPLY_UNAVAILABLE, reason);
			return;
		}
		lead(n, to, req);
		return;
	}
	if (to->node) {
		/* Forwarded to us, but we are not the leader (any more): say so, no second hop. */
		reply_status(n, to, req, REPLY_NOT_LEADER, "not the leader");
		return;
	}
	if (quorum_in_reach(n) && raft_leader(n->raft) && raft_has_quorum(n->raft)) {
		forward(n, to, req);
		return;
	}
	if (!quorum_in_reach(n)) {
		/* The minority's "503": refuse at once, and say why. */
		no_quorum_reason(n, reason, sizeof(reason));
		reply_status(n, to, req, REPLY_UNAVAILABLE, reason);
		return;
	}
	/* A quorum is in reach but no leader yet: an election is on; hold the request. */
	p = slot(n->waiting);
	if (!p) {
		reply_status(n, to, req, REPLY_UNAVAILABLE, "no leader elected yet");
		return;
	}
	*p = (struct pending){ .used = true,
			       .to = *to,
			       .req = *req,
			       .deadline = node_now_ms() + n->cfg->request_timeout_ms };
}

static void handle_status(struct node *n, const struct reply_to *to, uint64_t msg_id)
{
	static const uint8_t roles[] = { [RAFT_FOLLOWER] = PROTO_ROLE_FOLLOWER,
					 [RAFT_PRE_CANDIDATE] = PROTO_ROLE_PRECANDIDATE,
					 [RAFT_CANDIDATE] = PROTO_ROLE_CANDIDATE,
					 [RAFT_LEADER] = PROTO_ROLE_LEADER };
	struct status_reply st;

	(void)msg_id;
	memset(&st, 0, sizeof(st));
	st.mode = PROTO_MODE_CP;
	st.role = roles[raft_role(n->raft)];
	st.term = raft_term(n->raft);
	st.leader = raft_leader(n->raft);
	st.commit_index = raft_commit(n->raft);
	st.applied_index = raft_applied(n->raft);
	st.last_log_index = raft_last_index(n->raft);
	node_io_send_status(&n->io, to, &st);
}

/* A reply from the leader to a request this follower forwarded: pass it on to the client. */
static void relay_reply(struct node *n, const struct client_reply *rep)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &n->forwards[i];

		if (!p->used || p->req.client_nonce != rep->client_nonce || p->req.seq != rep->seq)
			continue;
		p->used = false;
		if (rep->status == REPLY_NOT_LEADER) {
			/* Our leader stepped down: decide afresh (refuse without a quorum, else
			 * wait for the next leader) rather than pass a stale NOT_LEADER on. */
			struct pending copy = *p;

			handle_request(n, &copy.to, &copy.req);
			return;
		}
		send_reply(n, &p->to, rep);
		return;
	}
}

static void handle_datagram(struct node *n, const uint8_t *buf, size_t len,
			    const struct sockaddr_in *from)
{
	struct raft_wire_chunk chunk;
	struct client_request req;
	struct client_reply rep;
	struct proto_header hdr;
	struct reply_to to = { .addr = *from };
	const uint8_t *payload;
	struct raft_msg m;
	int err;

	if (!node_io_accept(&n->io, buf, len, raft_term(n->raft), &hdr, &payload))
		return;
	to.node = hdr.from;
	if (raft_wire_is_raft(hdr.type)) {
		err = raft_wire_decode(&hdr, payload, &m, n->entries,
				       sizeof(n->entries) / sizeof(n->entries[0]), &chunk);
		if (err == 1) {
			err = raft_wire_assemble(&n->snap_in, &chunk, n->cfg->id, &m);
			if (err == 1) {
				raft_step(n->raft, &m);
				raft_wire_assembler_reset(&n->snap_in);
			}
			return;
		}
		if (err) {
			node_io_refuse_payload(&n->io);
			return;
		}
		raft_step(n->raft, &m);
		return;
	}
	switch (hdr.type) {
	case PROTO_CLIENT_REQUEST:
		if (proto_decode_client_request(payload, hdr.payload_len, &req)) {
			node_io_refuse_payload(&n->io);
			return;
		}
		handle_request(n, &to, &req);
		break;
	case PROTO_CLIENT_REPLY:
		if (hdr.from && !proto_decode_client_reply(payload, hdr.payload_len, &rep))
			relay_reply(n, &rep);
		break;
	case PROTO_STATUS:
		handle_status(n, &to, hdr.msg_id);
		break;
	default:
		/* AP-mode or unknown traffic reaching a CP node: counted as accepted, ignored. */
		break;
	}
}

static void answer_write(struct node *n, uint64_t index, const struct client_reply *rep,
			 uint64_t nonce, uint64_t seq)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &n->writes[i];

		if (!p->used || p->key != index)
			continue;
		if (p->req.client_nonce == nonce && p->req.seq == seq) {
			send_reply(n, &p->to, rep);
		} else {
			/* Another entry won this index. Ours was proposed once (resends of an
			 * in-flight request are dropped, and a client never reuses a sequence
			 * after an answer), so it existed only here: never applied. */
			reply_status(n, &p->to, &p->req, REPLY_UNAVAILABLE,
				     "leadership changed before commit; not applied");
		}
		p->used = false;
	}
}

static void apply_committed(struct node *n, const struct raft_entry *e)
{
	struct client_reply rep;
	int err;

	if (e->type != RAFT_ENTRY_NORMAL)
		return;
	memset(&rep, 0, sizeof(rep));
	err = app_apply(n->app, e->index, e->data, e->len, &rep);
	if (err == -EALREADY)
		return;
	if (err == -ENOMEM) {
		node_log(&n->io, "out of memory applying entry %llu: stopping",
			 (unsigned long long)e->index);
		exit(1);
	}
	answer_write(n, e->index, &rep, e->client_id, e->seq);
}

static void serve_read(struct node *n, const struct raft_read_state *rs)
{
	struct client_reply rep;
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &n->reads[i];

		if (!p->used || p->key != rs->id)
			continue;
		p->used = false;
		if (rs->err) {
			reply_status(n, &p->to, &p->req, REPLY_UNAVAILABLE,
				     "leadership lost during the read");
			return;
		}
		app_read(n->app, &p->req, &rep);
		rep.client_nonce = p->req.client_nonce;
		rep.seq = p->req.seq;
		send_reply(n, &p->to, &rep);
		return;
	}
}

static void maybe_snapshot(struct node *n)
{
	uint64_t applied = app_applied(n->app);
	uint8_t *data = NULL;
	size_t len = 0;
	uint64_t term;

	if (!n->cfg->snapshot_every || applied < n->last_snapshot_index + n->cfg->snapshot_every)
		return;
	if (applied > raft_applied(n->raft))
		applied = raft_applied(n->raft);
	term = raft_term_at(n->raft, applied);
	if (!term || app_snapshot(n->app, &data, &len))
		return;
	if (!storage_compact(n->storage, applied, term, data, len) &&
	    !raft_compact(n->raft, applied, data, len))
		n->last_snapshot_index = applied;
	free(data);
}

static int process_ready(struct node *n)
{
	struct raft_ready rd;
	const char *why = NULL;
	uint32_t i;
	int err;

	while (raft_has_ready(n->raft)) {
		err = raft_ready(n->raft, &rd);
		if (err)
			return err;
		for (i = 0; i < rd.n_msgs; i++)
			if (raft_msg_before_sync(&rd.msgs[i]))
				send_raft(n, &rd.msgs[i]);
		/* Out now, so that the followers' syncs overlap ours. */
		node_io_flush(&n->io);
		err = storage_save(n->storage, &rd);
		if (err) {
			/* Acknowledging what is not on disk would break Raft: stop instead. */
			node_log(&n->io, "cannot persist the log: %s; stopping", strerror(-err));
			return err;
		}
		if (rd.snapshot) {
			err = app_restore(n->app, rd.snapshot->data, rd.snapshot->len, &why);
			if (err) {
				node_log(&n->io, "snapshot from the leader is unusable: %s",
					 why ? why : strerror(-err));
				return err;
			}
			n->last_snapshot_index = rd.snapshot->index;
		}
		for (i = 0; i < rd.n_msgs; i++)
			if (!raft_msg_before_sync(&rd.msgs[i]))
				send_raft(n, &rd.msgs[i]);
		for (i = 0; i < rd.n_committed; i++)
			apply_committed(n, &rd.committed[i]);
		for (i = 0; i < rd.n_reads; i++)
			serve_read(n, &rd.reads[i]);
		err = raft_advance(n->raft);
		if (err)
			return err;
	}
	maybe_snapshot(n);
	return 0;
}

static void expire(struct node *n, struct pending *table, uint64_t now, const char *reason)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &table[i];

		if (p->used && now >= p->deadline) {
			reply_status(n, &p->to, &p->req, REPLY_TIMEOUT, reason);
			p->used = false;
		}
	}
}

/* Requests held for want of a leader: serve those that can go now, refuse the rest in time. */
static void retry_waiting(struct node *n, uint64_t now)
{
	char reason[PROTO_REASON_MAX];
	unsigned int i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &n->waiting[i];
		struct pending copy;

		if (!p->used)
			continue;
		if (raft_leader(n->raft) && raft_has_quorum(n->raft)) {
			copy = *p;
			p->used = false;
			handle_request(n, &copy.to, &copy.req);
		} else if (now >= p->deadline || !quorum_in_reach(n)) {
			no_quorum_reason(n, reason, sizeof(reason));
			reply_status(n, &p->to, &p->req, REPLY_UNAVAILABLE,
				     now >= p->deadline ? "no leader elected in time" : reason);
			p->used = false;
		}
	}
}

static void on_tick(struct node *n, uint64_t ticks)
{
	uint64_t now = node_now_ms();

	while (ticks--)
		raft_tick(n->raft);
	node_io_ping(&n->io, raft_term(n->raft));
	/* Writes are indeterminate once proposed: the client must treat a timeout as unknown. */
	expire(n, n->writes, now, "no answer in time; the write may or may not have happened");
	expire(n, n->reads, now, "no answer in time");
	expire(n, n->forwards, now, "the leader did not answer in time; outcome unknown");
	retry_waiting(n, now);
}

static int recover(struct node *n)
{
	struct storage_recovered rec;
	const char *why = NULL;
	int err;

	err = storage_open(n->cfg->data_dir, n->cfg->sync, &n->storage, &rec);
	if (err)
		return err;
	n->io.boot = rec.boot;
	if (rec.has_snapshot) {
		err = app_restore(n->app, rec.snapshot.data, rec.snapshot.len, &why);
		if (err) {
			fprintf(stderr, "capnode: snapshot in %s is unusable: %s\n",
				n->cfg->data_dir, why ? why : strerror(-err));
			return err;
		}
		n->last_snapshot_index = rec.snapshot.index;
	}
	if (rec.has_state || rec.has_snapshot || rec.n_entries) {
		err = raft_restore(n->raft, &rec.hs, rec.has_snapshot ? &rec.snapshot : NULL,
				   rec.entries, rec.n_entries);
		if (err) {
			fprintf(stderr, "capnode: recovered log in %s is inconsistent: %s\n",
				n->cfg->data_dir, strerror(-err));
			return err;
		}
		node_log(&n->io, "recovered term %llu, %zu entries after snapshot %llu",
			 (unsigned long long)rec.hs.term, rec.n_entries,
			 (unsigned long long)(rec.has_snapshot ? rec.snapshot.index : 0));
	}
	return 0;
}

int node_run(const struct node_config *cfg)
{
	struct raft_config rc = { .id = cfg->id,
				  .heartbeat_ticks = 5,
				  .election_min = 30,
				  .election_max = 60,
				  .seed = cfg->seed,
				  .max_batch_entries = RAFT_WIRE_BATCH_ENTRIES,
				  .max_batch_bytes = RAFT_WIRE_BATCH_BYTES };
	struct node *n = calloc(1, sizeof(*n));
	struct epoll_event evs[8];
	unsigned int i;
	int err = 0, k, nev;
	bool stop = false;

	if (!n)
		return -ENOMEM;
	if (cfg->mode == NODE_MODE_AP) {
		free(n);
		return node_ap_run(cfg);
	}
	n->cfg = cfg;
	n->io.cfg = cfg;
	n->io.sock = n->io.timer = n->io.sigfd = n->io.epfd = -1;
	if (cfg->npeers > RAFT_MAX_VOTERS) {
		fprintf(stderr, "capnode: CP mode runs Raft with at most %d voters, not %u\n",
			RAFT_MAX_VOTERS, cfg->npeers);
		err = -EINVAL;
		goto out;
	}
	rc.n_voters = cfg->npeers;
	for (i = 0; i < cfg->npeers; i++)
		rc.voters[i] = cfg->peers[i].id;
	n->raft = raft_new(&rc);
	n->app = app_open(0);
	if (!n->raft || !n->app) {
		err = -errno;
		fprintf(stderr, "capnode: start Raft: %s\n", strerror(errno));
		goto out;
	}
	err = recover(n);
	if (err)
		goto out;
	err = node_io_open(&n->io, cfg);
	if (err)
		goto out;
	/* Sends wait for the end of the loop's turn and leave in one sendmmsg(). */
	n->io.queue_sends = true;
	node_log(&n->io, "CP node up: %u voters, port %u, data %s%s", cfg->npeers, cfg->port,
		 cfg->data_dir, cfg->sync ? "" : " (no fsync)");

	while (!stop && !err) {
		nev = epoll_wait(n->io.epfd, evs, 8, -1);
		if (nev < 0 && errno == EINTR)
			continue;
		if (nev < 0) {
			err = -errno;
			break;
		}
		for (k = 0; k < nev; k++) {
			int fd = evs[k].data.fd;

			if (fd == n->io.sock) {
				unsigned int got = node_io_recv_batch(&n->io), d;

				/* The whole batch goes into Raft before one Ready: its entries
				 * share one WAL write and sync, and one APPEND per follower. */
				for (d = 0; d < got; d++)
					handle_datagram(n, n->io.in[d].data, n->io.in[d].len,
							&n->io.in[d].addr);
			} else if (fd == n->io.timer) {
				uint64_t ticks = 0;

				if (read(n->io.timer, &ticks, sizeof(ticks)) == sizeof(ticks))
					on_tick(n, ticks);
			} else if (fd == n->io.sigfd) {
				stop = true;
			}
		}
		if (!err)
			err = process_ready(n);
		node_io_flush(&n->io);
	}
	if (stop)
		node_log(&n->io, "stopping (signal)");
out:
	node_io_close(&n->io);
	raft_wire_assembler_reset(&n->snap_in);
	storage_close(n->storage);
	app_close(n->app);
	raft_free(n->raft);
	free(n);
	return err;
}
