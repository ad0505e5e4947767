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

#include "lib/report.h"
#include "node/app.h"
#include "node/cp_admit.h"
#include "node/node.h"
#include "node/node_io.h"
#include "node/raft.h"
#include "node/raft_wire.h"
#include "node/storage.h"

struct node {
	const struct node_config *cfg;
	struct node_io io;
	struct raft *raft;
	struct app *app;
	struct storage *storage;
	struct raft_wire_assembler snap_in;
	uint64_t last_snapshot_index;
	struct cp_admit admit; /* requests being worked on, and what to do with new ones */
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

/* What admission decides on: Raft's view and the network's, now. */
static void admit_view(const struct node *n, struct cp_view *v)
{
	*v = (struct cp_view){ .leader = raft_role(n->raft) == RAFT_LEADER,
			       .leader_id = raft_leader(n->raft),
			       .leader_addressable = peer(n, raft_leader(n->raft)) != NULL,
			       .has_quorum = raft_has_quorum(n->raft),
			       .reachable = reachable(n, NULL),
			       .members = n->cfg->npeers,
			       .quorum = raft_quorum(n->raft) };
}

static void forward(struct node *n, const struct reply_to *to, const struct client_request *req)
{
	const struct node_peer *leader = peer(n, raft_leader(n->raft));
	struct proto_header hdr = { .type = PROTO_CLIENT_REQUEST, .from = n->cfg->id };
	struct proto_writer w;
	int len;

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
	cp_admit_forwarded(&n->admit, node_now_ms(), to, req);
	send_to(n, &leader->addr, n->io.buf, len);
}

/* Carries out what admission decided (node/cp_admit.h); Raft and the sockets are here. */
static void handle_request(struct node *n, const struct reply_to *to,
			   const struct client_request *req)
{
	uint64_t index = 0, now = node_now_ms();
	struct client_reply rep;
	int err;
	struct cp_decision d;
	struct cp_view v;

	admit_view(n, &v);
	cp_admit_decide(&n->admit, &v, n->cfg->unsafe_local_reads, now, to, req, &d);
	switch (d.action) {
	case CP_IGNORE:
	case CP_HOLD:
		return;
	case CP_LOCAL_READ:
		app_read(n->app, req, &rep);
		send_reply(n, to, &rep);
		return;
	case CP_READ_INDEX:
		if (!raft_read_index(n->raft, d.read_id))
			return;
		cp_admit_read_failed(&n->admit, d.read_id, &d);
		break;
	case CP_PROPOSE:
		/* index is written by the proposal: read it only after. */
		err = raft_propose(n->raft, req->client_nonce, req->seq, d.entry, d.entry_len,
				   &index);
		if (cp_admit_proposed(&n->admit, err, index, now, to, req, &d))
			return;
		break;
	case CP_FORWARD:
		forward(n, to, req);
		return;
	case CP_ANSWER:
		break;
	}
	reply_status(n, to, req, d.status, d.reason);
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
	struct cp_pending p;

	if (!cp_admit_take_request(&n->admit, CP_FORWARDS, rep->client_nonce, rep->seq, &p))
		return;
	if (rep->status == REPLY_NOT_LEADER) {
		/* Our leader stepped down: decide afresh (refuse without a quorum, else wait for
		 * the next leader) rather than pass a stale NOT_LEADER on. */
		handle_request(n, &p.to, &p.req);
		return;
	}
	send_reply(n, &p.to, rep);
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

	if (!node_io_accept(&n->io, buf, len, from, raft_term(n->raft), &hdr, &payload))
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
	struct cp_pending p;

	while (cp_admit_take_key(&n->admit, CP_WRITES, index, &p)) {
		if (p.req.client_nonce == nonce && p.req.seq == seq)
			send_reply(n, &p.to, rep);
		else
			/* Another entry won this index. Ours was proposed once (resends of an
			 * in-flight request are dropped, and a client never reuses a sequence
			 * after an answer), so it existed only here: never applied. */
			reply_status(n, &p.to, &p.req, REPLY_UNAVAILABLE,
				     "leadership changed before commit; not applied");
	}
}

/* 0, or -ENOMEM when the entry could not be applied: the node must stop, as a replica that
 * skipped an entry would diverge. */
static int apply_committed(struct node *n, const struct raft_entry *e)
{
	struct client_reply rep;
	int err;

	if (e->type != RAFT_ENTRY_NORMAL)
		return 0;
	memset(&rep, 0, sizeof(rep));
	err = app_apply(n->app, e->index, e->data, e->len, &rep);
	if (err == -EALREADY)
		return 0;
	if (err == -ENOMEM) {
		node_log(&n->io, "out of memory applying entry %llu: stopping",
			 (unsigned long long)e->index);
		return err;
	}
	answer_write(n, e->index, &rep, e->client_id, e->seq);
	return 0;
}

static void serve_read(struct node *n, const struct raft_read_state *rs)
{
	struct client_reply rep;
	struct cp_pending p;

	if (!cp_admit_take_key(&n->admit, CP_READS, rs->id, &p))
		return;
	if (rs->err) {
		reply_status(n, &p.to, &p.req, REPLY_UNAVAILABLE,
			     "leadership lost during the read");
		return;
	}
	app_read(n->app, &p.req, &rep);
	rep.client_nonce = p.req.client_nonce;
	rep.seq = p.req.seq;
	send_reply(n, &p.to, &rep);
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
		for (i = 0; i < rd.n_committed; i++) {
			err = apply_committed(n, &rd.committed[i]);
			if (err)
				return err;
		}
		for (i = 0; i < rd.n_reads; i++)
			serve_read(n, &rd.reads[i]);
		err = raft_advance(n->raft);
		if (err)
			return err;
	}
	maybe_snapshot(n);
	return 0;
}

static void expire(struct node *n, enum cp_table table, uint64_t now, const char *reason)
{
	struct cp_pending p;

	while (cp_admit_take_expired(&n->admit, table, now, &p))
		reply_status(n, &p.to, &p.req, REPLY_TIMEOUT, reason);
}

/* Requests held for want of a leader: serve those that can go now, refuse the rest in time. */
static void retry_waiting(struct node *n, uint64_t now)
{
	struct cp_decision d;
	struct cp_pending p;
	struct cp_view v;
	size_t pos = 0;

	for (;;) {
		admit_view(n, &v);
		switch (cp_admit_next_waiting(&n->admit, &v, now, &pos, &p, &d)) {
		case CP_WAIT_DONE:
			return;
		case CP_WAIT_RETRY:
			handle_request(n, &p.to, &p.req);
			break;
		case CP_WAIT_ANSWER:
			reply_status(n, &p.to, &p.req, d.status, d.reason);
			break;
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
	expire(n, CP_WRITES, now, "no answer in time; the write may or may not have happened");
	expire(n, CP_READS, now, "no answer in time");
	expire(n, CP_FORWARDS, now, "the leader did not answer in time; outcome unknown");
	retry_waiting(n, now);
}

static int recover(struct node *n)
{
	struct storage_recovered rec;
	const char *why = NULL;
	int err;

	err = storage_open(n->cfg->data_dir, n->cfg->sync, &n->storage, &rec);
	if (err) {
		report_error(err, NULL);
		return err;
	}
	if (rec.torn_bytes)
		report_warn("cut a torn write of %zu bytes off the end of the log", rec.torn_bytes);
	n->io.boot = rec.boot;
	if (rec.has_snapshot) {
		err = app_restore(n->app, rec.snapshot.data, rec.snapshot.len, &why);
		if (err) {
			report_fail("snapshot in %s is unusable: %s", n->cfg->data_dir,
				    why ? why : strerror(-err));
			return err;
		}
		n->last_snapshot_index = rec.snapshot.index;
	}
	if (rec.has_state || rec.has_snapshot || rec.n_entries) {
		err = raft_restore(n->raft, &rec.hs, rec.has_snapshot ? &rec.snapshot : NULL,
				   rec.entries, rec.n_entries);
		if (err) {
			report_fail("recovered log in %s is inconsistent: %s", n->cfg->data_dir,
				    strerror(-err));
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
	cp_admit_init(&n->admit, cfg->request_timeout_ms);
	n->io.sock = n->io.timer = n->io.sigfd = n->io.epfd = -1;
	if (cfg->npeers > RAFT_MAX_VOTERS) {
		report_fail("CP mode runs Raft with at most %d voters, not %u", RAFT_MAX_VOTERS,
			    cfg->npeers);
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
		report_fail("start Raft: %s", strerror(errno));
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
