// SPDX-License-Identifier: GPL-2.0-only
/* The I/O both replica shells share: socket, timer and signals in epoll, sending, replies and
 * status to clients, and PING/PONG reachability. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "lib/monotonic.h"
#include "lib/report.h"
#include "node/node_io.h"

uint64_t node_now_ms(void)
{
	return monotonic_ns() / 1000000;
}

void node_log(const struct node_io *io, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%lld.%03ld n%u ", (long long)ts.tv_sec, ts.tv_nsec / 1000000, io->cfg->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Recovered and listening: says so on the pipe whoever started us named in CAPNODE_READY_FD
 * (capnet start and restart), so that a node that refuses to start (a damaged log, say) is
 * told from one that runs by its exit, not by a guess at how long recovery takes. */
static void tell_ready(void)
{
	const char *v = getenv("CAPNODE_READY_FD");
	char *end;
	long fd = v ? strtol(v, &end, 10) : -1;
	ssize_t told;

	if (!v || !*v || *end || fd < 3 || fd > INT_MAX)
		return;
	unsetenv("CAPNODE_READY_FD");
	/* If nobody waits any more, there is nobody to tell: the result does not matter. */
	told = write((int)fd, "1", 1);
	(void)told;
	close((int)fd);
}

int node_io_open(struct node_io *io, const struct node_config *cfg)
{
	struct itimerspec its = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
	struct epoll_event ev = { .events = EPOLLIN };
	int buf = 4 << 20, one = 1;
	sigset_t mask;

	io->cfg = cfg;
	io->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (io->sock < 0)
		return -errno;
	setsockopt(io->sock, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(io->sock, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(io->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(io->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		report_fail("bind UDP port %u: %s", cfg->port, strerror(errno));
		return -errno;
	}
	io->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (io->timer < 0)
		return -errno;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = cfg->tick_ms * 1000000L;
	if (timerfd_settime(io->timer, 0, &its, NULL))
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	io->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (io->sigfd < 0 || io->epfd < 0)
		return -errno;
	ev.data.fd = io->sock;
	epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->sock, &ev);
	ev.data.fd = io->timer;
	epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->timer, &ev);
	ev.data.fd = io->sigfd;
	epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->sigfd, &ev);
	tell_ready();
	return 0;
}

void node_io_close(struct node_io *io)
{
	if (io->sock >= 0)
		close(io->sock);
	if (io->timer >= 0)
		close(io->timer);
	if (io->sigfd >= 0)
		close(io->sigfd);
	if (io->epfd >= 0)
		close(io->epfd);
	io->sock = io->timer = io->sigfd = io->epfd = -1;
}

const struct node_peer *node_io_peer(const struct node_io *io, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < io->cfg->npeers; i++)
		if (io->cfg->peers[i].id == id)
			return &io->cfg->peers[i];
	return NULL;
}

static int peer_index(const struct node_io *io, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < io->cfg->npeers; i++)
		if (io->cfg->peers[i].id == id)
			return i;
	return -1;
}

unsigned int node_io_reachable(const struct node_io *io, uint8_t *bitmap)
{
	uint64_t now = node_now_ms();
	unsigned int i, count = 0;

	for (i = 0; i < io->cfg->npeers; i++) {
		bool ok = io->cfg->peers[i].id == io->cfg->id ||
			  (io->last_pong[i] && now - io->last_pong[i] <= NODE_REACH_FRESH_MS);

		if (!ok)
			continue;
		count++;
		if (bitmap)
			proto_bitmap_set(bitmap, io->cfg->peers[i].id);
	}
	return count;
}

uint64_t node_io_msg_id(struct node_io *io)
{
	return (io->boot << 40) | (++io->next_msg_id & ((1ull << 40) - 1));
}

void node_io_send(struct node_io *io, const struct sockaddr_in *addr, const uint8_t *buf, int len)
{
	struct node_io_dgram *d, one;

	if (len <= 0 || len > PROTO_MAX_DGRAM)
		return;
	if (io->queue_sends && io->n_out == NODE_IO_BATCH)
		node_io_flush(io);
	d = io->queue_sends ? &io->out[io->n_out] : &one;
	d->addr = *addr;
	memcpy(d->data, buf, len);
	if (io->cfg->auth) {
		len = proto_auth_seal(d->data, len, sizeof(d->data), &io->cfg->key);
		if (len < 0)
			return;
	}
	d->len = (uint32_t)len;
	if (io->queue_sends)
		io->n_out++;
	else
		sendto(io->sock, d->data, d->len, MSG_DONTWAIT, (const struct sockaddr *)&d->addr,
		       sizeof(d->addr));
}

/* One mmsghdr per datagram of d[0..n), each over its own address and data (all of data[] when
 * whole, else its len). */
static void dgram_msgs(struct node_io_dgram *d, unsigned int n, bool whole, struct mmsghdr *msgs,
		       struct iovec *iov)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		iov[i] = (struct iovec){ .iov_base = d[i].data,
					 .iov_len = whole ? sizeof(d[i].data) : d[i].len };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &d[i].addr,
							 .msg_namelen = sizeof(d[i].addr),
							 .msg_iov = &iov[i],
							 .msg_iovlen = 1 } };
	}
}

void node_io_flush(struct node_io *io)
{
	struct mmsghdr msgs[NODE_IO_BATCH];
	struct iovec iov[NODE_IO_BATCH];
	unsigned int done = 0;
	int k;

	dgram_msgs(io->out, io->n_out, false, msgs, iov);
	while (done < io->n_out) {
		k = sendmmsg(io->sock, msgs + done, io->n_out - done, MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		/* The first datagram that fails is lost (as sendto's would be); go on after it. */
		done += k > 0 ? (unsigned int)k : 1;
	}
	io->n_out = 0;
}

unsigned int node_io_recv_batch(struct node_io *io)
{
	struct mmsghdr msgs[NODE_IO_BATCH];
	struct iovec iov[NODE_IO_BATCH];
	unsigned int i;
	int k;

	dgram_msgs(io->in, NODE_IO_BATCH, true, msgs, iov);
	do
		k = recvmmsg(io->sock, msgs, NODE_IO_BATCH, MSG_DONTWAIT, NULL);
	while (k < 0 && errno == EINTR);
	if (k <= 0)
		return 0;
	for (i = 0; i < (unsigned int)k; i++)
		io->in[i].len = msgs[i].msg_len;
	return (unsigned int)k;
}

void node_io_send_peer(struct node_io *io, uint16_t to, struct proto_header *hdr,
		       const void *payload, size_t len)
{
	const struct node_peer *p = node_io_peer(io, to);

	if (!p)
		return;
	hdr->from = io->cfg->id;
	hdr->to = to;
	hdr->msg_id = node_io_msg_id(io);
	node_io_send(io, &p->addr, io->buf,
		     proto_encode(io->buf, sizeof(io->buf), hdr, payload, len));
}

void node_io_send_reply(struct node_io *io, const struct reply_to *to, uint64_t term,
			const struct client_reply *rep)
{
	struct proto_header hdr = { .type = PROTO_CLIENT_REPLY,
				    .flags = PROTO_FLAG_REPLY,
				    .from = io->cfg->id,
				    .to = to->node };
	struct proto_writer w;
	int len;

	hdr.term = term;
	hdr.msg_id = node_io_msg_id(io);
	proto_msg_begin(&w, io->buf, sizeof(io->buf));
	proto_put_client_reply(&w, rep);
	len = proto_msg_end(&w, &hdr);
	node_io_send(io, &to->addr, io->buf, len);
}

void node_io_send_status(struct node_io *io, const struct reply_to *to, struct status_reply *st)
{
	struct proto_header hdr = {
		.type = PROTO_STATUS_REPLY, .flags = PROTO_FLAG_REPLY, .from = io->cfg->id, .to = 0
	};
	struct proto_writer w;
	int len;

	st->node_id = io->cfg->id;
	st->cluster_size = io->cfg->npeers;
	memset(st->reachable, 0, sizeof(st->reachable));
	node_io_reachable(io, st->reachable);
	memcpy(st->rx, io->rx, sizeof(st->rx));
	hdr.term = st->term;
	hdr.msg_id = node_io_msg_id(io);
	proto_msg_begin(&w, io->buf, sizeof(io->buf));
	proto_put_status_reply(&w, st);
	len = proto_msg_end(&w, &hdr);
	node_io_send(io, &to->addr, io->buf, len);
}

static void send_ping(struct node_io *io, uint16_t to_id, uint8_t type, uint64_t term)
{
	struct proto_header hdr = { .type = type, .term = term };

	hdr.flags = type == PROTO_PONG ? PROTO_FLAG_REPLY : 0;
	node_io_send_peer(io, to_id, &hdr, NULL, 0);
}

void node_io_ping(struct node_io *io, uint64_t term)
{
	uint64_t now = node_now_ms();
	unsigned int i;

	if (now - io->last_ping < NODE_PING_EVERY_MS)
		return;
	io->last_ping = now;
	for (i = 0; i < io->cfg->npeers; i++)
		if (io->cfg->peers[i].id != io->cfg->id)
			send_ping(io, io->cfg->peers[i].id, PROTO_PING, term);
}

bool node_io_accept(struct node_io *io, const uint8_t *buf, size_t len,
		    const struct sockaddr_in *src, uint64_t term, struct proto_header *hdr,
		    const uint8_t **payload)
{
	const struct node_peer *peer;
	int err = proto_decode(buf, len, hdr, payload);

	if (err) {
		if (-err <= PROTO_ERR_RX_MAX)
			io->rx[-err]++;
		return false;
	}
	/* Before anything it claims is believed: only the holders of the cluster's key speak. A
	 * node without a key refuses tagged datagrams too, as it cannot tell them from forgeries. */
	if (io->cfg->auth ? proto_auth_check(buf, len, &io->cfg->key) != 0 :
			    (hdr->flags & PROTO_FLAG_AUTH) != 0) {
		io->rx[PROTO_ERR_AUTH]++;
		return false;
	}
	if (hdr->to && hdr->to != io->cfg->id) {
		io->rx[PROTO_ERR_NODE]++;
		return false;
	}
	peer = hdr->from ? node_io_peer(io, hdr->from) : NULL;
	if (hdr->from && !peer) {
		/* A node of another cluster: never trusted. */
		io->rx[PROTO_ERR_NODE]++;
		return false;
	}
	/* A member speaks from its own socket, at the address the cluster map gives it: anything
	 * else claiming its id (a stray process in another node's namespace) is refused before
	 * Raft or Dynamo sees it. (Replica messages always name a sender: decoding refuses 0.) */
	if (peer && (src->sin_addr.s_addr != peer->addr.sin_addr.s_addr ||
		     src->sin_port != peer->addr.sin_port)) {
		io->rx[PROTO_ERR_SOURCE]++;
		return false;
	}
	io->rx[0]++;
	if (hdr->type == PROTO_PING) {
		if (hdr->from)
			send_ping(io, hdr->from, PROTO_PONG, term);
		return false;
	}
	if (hdr->type == PROTO_PONG) {
		int i = peer_index(io, hdr->from);

		if (i >= 0)
			io->last_pong[i] = node_now_ms();
		return false;
	}
	return true;
}

void node_io_refuse_payload(struct node_io *io)
{
	io->rx[0]--;
	io->rx[PROTO_ERR_PAYLOAD]++;
}
