// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replica's I/O shell for AP mode: datagrams and ticks into the Dynamo state machine
 * (node/dynamo.h), its durable writes into a log in the data directory (synced before any
 * message or reply that depends on them leaves), its messages to peers and replies to clients.
 *
 * The log "ap.log" is a sequence of records (node/ap_log.h). At start every record is replayed into a fresh state machine; merging is idempotent, so replaying a version
 * twice is harmless. A record cut short or failing its CRC at the end of the file is a write torn
 * by a crash and is cut off; one with valid records after it is corruption and stops the node.
 *
 * Compaction. Once the log is more than twice what the state needs (and past a floor), the
 * state as writes (dyn_snapshot) goes into "ap.log.tmp", which is synced, renamed over the log,
 * and the directory synced: a crash at any point leaves either the old log or the new one,
 * whole, both holding everything acknowledged. A leftover "ap.log.tmp" is unfinished and
 * removed at start. Records are the same, so replay reads either file the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "lib/report.h"
#include "node/ap_log.h"
#include "node/dynamo.h"
#include "lib/files.h"
#include "node/node.h"
#include "node/node_io.h"

#define MAX_CLIENTS 1024
/* Below this a log is not worth rewriting, whatever the state. */
#define COMPACT_FLOOR (1u << 20)
#define COMPACT_BUF (64u << 10)

struct client_slot {
	bool used;
	uint64_t deadline;
	struct reply_to to;
};

struct ap {
	const struct node_config *cfg;
	struct node_io io;
	struct dynamo *d;
	int logfd;
	char log_path[4096], tmp_path[4096];
	uint64_t log_size, snapshot_size; /* bytes: the log, and the state when last measured */
	uint64_t next_handle;
	struct client_slot clients[MAX_CLIENTS];
	uint8_t reach[PROTO_BITMAP_BYTES];
	char overdrafts[512];
	uint64_t last_bank_check;
	uint8_t rec[AP_LOG_RECORD_MAX];
};

/* The hybrid logical clocks run on wall-clock time, so that the clocks of different nodes are
 * comparable; deadlines inside the state machine use the same clock. */
static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct replay {
	struct ap *a;
	const char *path;
};

static int replay_record(void *arg, const struct dyn_write *w, size_t off)
{
	struct replay *r = arg;
	int err = dyn_restore(r->a->d, w);

	if (err)
		report_fail("%s: record at byte %zu: %s", r->path, off, strerror(-err));
	return err;
}

/* Replays ap.log; cuts a torn tail. 0 or -errno (said on stderr). */
static int log_replay(struct ap *a, const char *path)
{
	struct replay r = { .a = a, .path = path };
	struct ap_log_scan scan;
	struct stat sb;
	uint8_t *buf = NULL;
	size_t n = 0;
	int err = 0;

	if (fstat(a->logfd, &sb))
		return -errno;
	if (sb.st_size) {
		buf = malloc(sb.st_size);
		if (!buf)
			return -ENOMEM;
		while (n < (size_t)sb.st_size) {
			ssize_t k = pread(a->logfd, buf + n, sb.st_size - n, n);

			if (k <= 0) {
				err = k ? -errno : -EIO;
				goto out;
			}
			n += k;
		}
	}
	err = ap_log_parse(buf, n, replay_record, &r, &scan);
	if (err == -EBADMSG)
		report_warn("%s: corrupt record at byte %zu of %zu", path, scan.bad_at, n);
	if (err)
		goto out;
	if (scan.tail) {
		if (ftruncate(a->logfd, scan.good)) {
			err = -errno;
			goto out;
		}
		report_warn("%s: cut a torn record (%zu bytes) off the end", path, scan.tail);
	}
	a->log_size = scan.good;
	if (lseek(a->logfd, scan.good, SEEK_SET) < 0)
		err = -errno;
	else if (scan.records)
		node_log(&a->io, "recovered %zu records from %s", scan.records, path);
out:
	free(buf);
	return err;
}

/* Where dyn_snapshot's writes go: counted only (fd < 0), or buffered into a file. */
struct snapshot_out {
	int fd;
	uint8_t *buf;
	size_t used;
	uint64_t size;
};

static int snapshot_put(void *arg, const struct dyn_write *w)
{
	struct snapshot_out *o = arg;
	int err;

	o->size += AP_LOG_HDR + w->len + 4;
	if (o->fd < 0)
		return 0;
	if (o->used + AP_LOG_HDR + w->len + 4 > COMPACT_BUF) {
		err = files_write_all(o->fd, o->buf, o->used);
		if (err)
			return err;
		o->used = 0;
	}
	o->used += ap_log_encode(o->buf + o->used, w);
	return 0;
}

/*
 * Rewrites the log as the current state. Nothing is pending: flush() has appended and synced
 * every write the state machine produced. A failure before the rename leaves the old log in
 * use, complete; it is said once, and tried again when the log has doubled once more.
 */
static void log_compact(struct ap *a)
{
	struct snapshot_out o = { .fd = -1 };
	uint64_t before = a->log_size;
	const char *what = "create";
	int fd, err;

	o.buf = malloc(COMPACT_BUF);
	fd = open(a->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!o.buf || fd < 0) {
		err = o.buf ? -errno : -ENOMEM;
		goto fail;
	}
	/* Locked before it becomes the log, so no other capnode ever holds the new file. */
	what = "lock";
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		goto fail;
	}
	o.fd = fd;
	what = "write";
	err = dyn_snapshot(a->d, snapshot_put, &o);
	if (!err)
		err = files_write_all(fd, o.buf, o.used);
	if (err)
		goto fail;
	what = "sync";
	if (fsync(fd)) {
		err = -errno;
		goto fail;
	}
	what = "rename";
	if (rename(a->tmp_path, a->log_path)) {
		err = -errno;
		goto fail;
	}
	/* From here the new file is the log: its records are the state, whatever follows. */
	close(a->logfd);
	a->logfd = fd;
	a->log_size = a->snapshot_size = o.size;
	free(o.buf);
	err = files_sync_dir(a->cfg->data_dir);
	if (err)
		node_log(&a->io, "cannot sync %s after compacting the log: %s", a->cfg->data_dir,
			 strerror(-err));
	node_log(&a->io, "compacted ap.log: %llu -> %llu bytes", (unsigned long long)before,
		 (unsigned long long)o.size);
	return;
fail:
	node_log(&a->io, "cannot compact the log (%s %s: %s); keeping it as it is", what,
		 a->tmp_path, strerror(-err));
	if (fd >= 0) {
		unlink(a->tmp_path);
		close(fd);
	}
	free(o.buf);
	a->snapshot_size = a->log_size;
}

static int log_open(struct ap *a)
{
	struct snapshot_out o = { .fd = -1 };
	const char *path = a->log_path;
	int err;

	err = files_mkdir_p(a->cfg->data_dir, 0755);
	if (err) {
		report_fail("create %s: %s", a->cfg->data_dir, strerror(-err));
		return err;
	}
	snprintf(a->log_path, sizeof(a->log_path), "%s/ap.log", a->cfg->data_dir);
	snprintf(a->tmp_path, sizeof(a->tmp_path), "%s/ap.log.tmp", a->cfg->data_dir);
	a->logfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (a->logfd < 0) {
		err = -errno;
		report_fail("open %s: %s", path, strerror(errno));
		return err;
	}
	if (flock(a->logfd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		report_fail("%s is in use by another capnode", path);
		return err;
	}
	/* A compaction that a crash interrupted before its rename: the log is whole. */
	if (unlink(a->tmp_path) && errno != ENOENT) {
		err = -errno;
		report_fail("remove %s: %s", a->tmp_path, strerror(errno));
		return err;
	}
	err = log_replay(a, path);
	if (err)
		return err;
	err = dyn_snapshot(a->d, snapshot_put, &o);
	a->snapshot_size = o.size;
	return err;
}

static int log_append(struct ap *a, const struct dyn_write *w)
{
	size_t len = ap_log_encode(a->rec, w);
	int err = files_write_all(a->logfd, a->rec, len);

	if (!err)
		a->log_size += len;
	return err;
}

static void reply_client(struct ap *a, const struct dyn_reply *r)
{
	struct client_slot *c = &a->clients[r->handle % MAX_CLIENTS];

	if (!c->used)
		return; /* answered already (the slot expired) */
	c->used = false;
	node_io_send_reply(&a->io, &c->to, 0, &r->rep);
}

struct overdrafts {
	char text[512];
	size_t used;
};

static int add_overdraft(void *arg, const char *name, int64_t balance)
{
	struct overdrafts *o = arg;

	if (balance < 0 && o->used < sizeof(o->text))
		o->used += snprintf(o->text + o->used, sizeof(o->text) - o->used, "%s%s is %lld",
				    o->used ? ", " : "", name, (long long)balance);
	return 0;
}

/* Overdrafts are possible in AP mode (both sides of a split may spend the same money): the log
 * says when the bank held here has one, and when it has none any more. */
static void check_overdrafts(struct ap *a)
{
	struct overdrafts o = { .used = 0 };
	int64_t total, opened;

	if (dyn_bank_foreach(a->d, add_overdraft, &o, &total, &opened))
		return;
	if (strcmp(o.text, a->overdrafts)) {
		if (o.used)
			node_log(&a->io, "overdrawn: %s (total %lld of %lld opened)", o.text,
				 (long long)total, (long long)opened);
		else
			node_log(&a->io, "no account overdrawn any more");
		snprintf(a->overdrafts, sizeof(a->overdrafts), "%s", o.text);
	}
}

/* What the state machine produced: durable first, then messages and replies. */
static int flush(struct ap *a)
{
	struct dyn_write w;
	struct dyn_reply r;
	struct dyn_msg m;
	bool wrote = false;
	int err;

	while (dyn_pop_write(a->d, &w)) {
		err = log_append(a, &w);
		if (err) {
			node_log(&a->io, "cannot write the log: %s; stopping", strerror(-err));
			return err;
		}
		wrote = true;
	}
	if (wrote && a->cfg->sync && fdatasync(a->logfd)) {
		err = -errno;
		node_log(&a->io, "cannot sync the log: %s; stopping", strerror(errno));
		return err;
	}
	while (dyn_pop_msg(a->d, &m)) {
		struct proto_header hdr = { .type = m.type };

		if (m.type == PROTO_REPLICA_PUT_ACK || m.type == PROTO_REPLICA_GET_RESP ||
		    m.type == PROTO_HINT_ACK || m.type == PROTO_DIGEST_RESP ||
		    m.type == PROTO_BANK_READ_RESP || m.type == PROTO_CLIENT_REPLY)
			hdr.flags = PROTO_FLAG_REPLY;
		node_io_send_peer(&a->io, m.to, &hdr, m.payload, m.len);
	}
	while (dyn_pop_reply(a->d, &r))
		reply_client(a, &r);
	/* Last, so that no reply waits for it. */
	if (a->log_size > COMPACT_FLOOR && a->log_size > 2 * a->snapshot_size)
		log_compact(a);
	return 0;
}

/* The state machine acts on the reachability the node reports: refreshed on every tick and
 * before every request or status answer, so a client that saw a peer reachable in a status
 * reply is served with that peer counted. */
static void refresh_reachable(struct ap *a)
{
	uint8_t bm[PROTO_BITMAP_BYTES] = { 0 };
	unsigned int i;

	node_io_reachable(&a->io, bm);
	for (i = 0; i < a->cfg->npeers; i++) {
		uint16_t id = a->cfg->peers[i].id;
		bool was = proto_bitmap_test(a->reach, id), is = proto_bitmap_test(bm, id);

		if (id != a->cfg->id && was != is)
			node_log(&a->io, "node %u %s", id, is ? "reachable" : "unreachable");
	}
	memcpy(a->reach, bm, sizeof(bm));
	dyn_set_reachable(a->d, bm);
}

static void handle_request(struct ap *a, const struct reply_to *to,
			   const struct client_request *req)
{
	struct client_slot *c = NULL;
	unsigned int k;

	refresh_reachable(a);
	for (k = 0; k < MAX_CLIENTS && !c; k++) {
		uint64_t h = a->next_handle++;

		if (!a->clients[h % MAX_CLIENTS].used) {
			c = &a->clients[h % MAX_CLIENTS];
			c->used = true;
			c->to = *to;
			/* The state machine answers within its timeout; this is a safety net. */
			c->deadline = node_now_ms() + 2 * a->cfg->request_timeout_ms;
			dyn_request(a->d, wall_ms(), h, req);
		}
	}
	if (!c) {
		struct client_reply rep = { .client_nonce = req->client_nonce,
					    .seq = req->seq,
					    .status = REPLY_UNAVAILABLE };

		snprintf(rep.reason, sizeof(rep.reason), "overloaded: too many requests");
		node_io_send_reply(&a->io, to, 0, &rep);
	}
}

static void handle_status(struct ap *a, const struct reply_to *to)
{
	struct status_reply st;
	struct dyn_stats ds;

	memset(&st, 0, sizeof(st));
	st.mode = PROTO_MODE_AP;
	st.role = PROTO_ROLE_NONE;
	refresh_reachable(a);
	/* Overdrafts are reported, never hidden: here as well as in balance. */
	check_overdrafts(a);
	if (a->overdrafts[0])
		snprintf(st.notes, sizeof(st.notes), "overdrawn: %.180s", a->overdrafts);
	dyn_stats(a->d, &ds);
	st.ap = (struct status_ap){ .keys = ds.keys,
				    .hints_pending = ds.hints,
				    .hints_delivered = ds.hints_delivered,
				    .read_repairs = ds.read_repairs,
				    .ae_rounds = ds.ae_rounds,
				    .ae_repairs = ds.ae_repairs };
	node_io_send_status(&a->io, to, &st);
}

static void handle_datagram(struct ap *a, const uint8_t *buf, size_t len,
			    const struct sockaddr_in *from)
{
	struct reply_to to = { .addr = *from };
	struct client_request req;
	struct proto_header hdr;
	const uint8_t *payload;

	if (!node_io_accept(&a->io, buf, len, from, 0, &hdr, &payload))
		return;
	to.node = hdr.from;
	if (hdr.type == PROTO_STATUS) {
		handle_status(a, &to);
		return;
	}
	if (hdr.type == PROTO_CLIENT_REQUEST && !hdr.from) {
		if (proto_decode_client_request(payload, hdr.payload_len, &req)) {
			node_io_refuse_payload(&a->io);
			return;
		}
		handle_request(a, &to, &req);
		return;
	}
	if (!hdr.from || (hdr.type < PROTO_REPLICA_PUT && hdr.type != PROTO_CLIENT_REQUEST &&
			  hdr.type != PROTO_CLIENT_REPLY)) {
		/* CP-mode traffic reaching an AP node: counted as accepted, ignored. */
		return;
	}
	if (hdr.type > PROTO_BANK_READ_RESP && hdr.type != PROTO_CLIENT_REQUEST &&
	    hdr.type != PROTO_CLIENT_REPLY)
		return;
	if (dyn_receive(a->d, wall_ms(), hdr.from, hdr.type, payload, hdr.payload_len))
		node_io_refuse_payload(&a->io);
}

static void on_tick(struct ap *a)
{
	uint64_t now = node_now_ms();
	unsigned int i;

	node_io_ping(&a->io, 0);
	refresh_reachable(a);
	dyn_tick(a->d, wall_ms());
	if (now - a->last_bank_check >= 1000) {
		a->last_bank_check = now;
		check_overdrafts(a);
	}
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client_slot *c = &a->clients[i];

		if (c->used && now >= c->deadline) {
			struct client_reply rep = { .status = REPLY_TIMEOUT };

			/* Only if the state machine lost track: say so rather than stay silent. */
			c->used = false;
			snprintf(rep.reason, sizeof(rep.reason), "no answer in time");
			node_io_send_reply(&a->io, &c->to, 0, &rep);
		}
	}
}

int node_ap_run(const struct node_config *cfg)
{
	struct dyn_config dc = { .id = cfg->id,
				 .nnodes = cfg->npeers,
				 .replicas = cfg->replicas,
				 .siblings = cfg->siblings,
				 .request_timeout_ms = cfg->request_timeout_ms,
				 .anti_entropy_ms = cfg->anti_entropy_ms };
	struct ap *a = calloc(1, sizeof(*a));
	struct epoll_event evs[8];
	bool stop = false;
	unsigned int i;
	int err = 0, k, nev;

	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->logfd = -1;
	a->io.cfg = cfg;
	a->io.sock = a->io.timer = a->io.sigfd = a->io.epfd = -1;
	if (cfg->npeers > DYN_MAX_NODES) {
		report_fail("AP mode runs at most %d nodes, not %u", DYN_MAX_NODES, cfg->npeers);
		err = -EINVAL;
		goto out;
	}
	for (i = 0; i < cfg->npeers; i++)
		dc.nodes[i] = cfg->peers[i].id;
	a->d = dyn_new(&dc);
	if (!a->d && errno == E2BIG) {
		report_fail("--siblings keeps a version vector per key: at most %d replicas "
			    "(--replicas)",
			    DYN_VV_MAX);
		err = -EINVAL;
		goto out;
	}
	if (!a->d) {
		err = -errno;
		report_fail("start AP mode: %s", strerror(errno));
		goto out;
	}
	/* Message ids stay unique across restarts: the start time in seconds is the boot number. */
	a->io.boot = (wall_ms() / 1000) & 0xffffff;
	err = log_open(a);
	if (err)
		goto out;
	err = node_io_open(&a->io, cfg);
	if (err)
		goto out;
	node_log(&a->io,
		 "AP node up: %u nodes, N=%u, %s, anti-entropy every %u ms, port %u, data %s%s",
		 cfg->npeers,
		 cfg->replicas && cfg->replicas < cfg->npeers ? cfg->replicas : cfg->npeers,
		 cfg->siblings ? "siblings" : "last-writer-wins", cfg->anti_entropy_ms, cfg->port,
		 cfg->data_dir, cfg->sync ? "" : " (no fsync)");
	while (!stop && !err) {
		nev = epoll_wait(a->io.epfd, evs, 8, -1);
		if (nev < 0 && errno == EINTR)
			continue;
		if (nev < 0) {
			err = -errno;
			break;
		}
		for (k = 0; k < nev && !err; k++) {
			int fd = evs[k].data.fd;

			if (fd == a->io.sock) {
				unsigned int got = node_io_recv_batch(&a->io), d;

				/* Bounded, so ticks keep their turn under load. */
				for (d = 0; d < got; d++)
					handle_datagram(a, a->io.in[d].data, a->io.in[d].len,
							&a->io.in[d].addr);
				/* One sync for the whole burst (group commit): nothing
				 * that depends on it has left yet. */
				err = flush(a);
			} else if (fd == a->io.timer) {
				uint64_t ticks = 0;

				if (read(a->io.timer, &ticks, sizeof(ticks)) == sizeof(ticks))
					on_tick(a);
				err = flush(a);
			} else if (fd == a->io.sigfd) {
				stop = true;
			}
		}
	}
	if (stop)
		node_log(&a->io, "stopping (signal)");
out:
	node_io_close(&a->io);
	if (a->logfd >= 0)
		close(a->logfd);
	dyn_free(a->d);
	free(a);
	return err;
}
