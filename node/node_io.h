/* SPDX-License-Identifier: GPL-2.0-only */
/* What both replica shells (CP and AP) need from the outside world: the UDP socket, the tick
 * timer and signals in one epoll set, message ids, replies and status to clients, and the
 * PING/PONG reachability that tells a node which peers it can talk with both ways. */
#ifndef CAPNET_NODE_IO_H
#define CAPNET_NODE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "node/node.h"
#include "node/proto.h"

/* Reachability: every peer is pinged this often, and counts while its pong is this fresh. A
 * pong proves both directions, so a one-way cut makes a peer unreachable, as it should. */
#define NODE_PING_EVERY_MS 100
#define NODE_REACH_FRESH_MS 400

/* Where an answer goes: straight to a client, or back to the node that forwarded the request. */
struct reply_to {
	struct sockaddr_in addr;
	uint16_t node; /* 0: a client */
};

/* Datagrams taken or sent per system call (recvmmsg, sendmmsg). */
#define NODE_IO_BATCH 64

struct node_io_dgram {
	struct sockaddr_in addr;
	uint32_t len;
	uint8_t data[PROTO_MAX_DGRAM];
};

struct node_io {
	const struct node_config *cfg;
	int sock, timer, sigfd, epfd;
	uint64_t boot, next_msg_id;
	uint64_t rx[PROTO_ERR_RX_MAX + 1];
	uint64_t last_ping;
	uint64_t last_pong[NODE_MAX_CLUSTER]; /* ms, by index in cfg->peers */
	uint8_t buf[PROTO_MAX_DGRAM]; /* what we send */
	/* A shell that sets queue_sends gets its sends held in out[] until node_io_flush(). */
	bool queue_sends;
	unsigned int n_out;
	struct node_io_dgram out[NODE_IO_BATCH];
	struct node_io_dgram in[NODE_IO_BATCH]; /* what node_io_recv_batch() took */
};

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t node_now_ms(void);
/* A log line on stderr: wall-clock time, node id, the message. */
void node_log(const struct node_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Binds the socket, starts the tick timer, blocks SIGTERM and SIGINT into a signalfd, and puts
 * the three in an epoll set. 0 or -errno (said on stderr). node_io_close() in any case. */
int node_io_open(struct node_io *io, const struct node_config *cfg);
void node_io_close(struct node_io *io);

const struct node_peer *node_io_peer(const struct node_io *io, uint16_t id);
/* Members this node can talk with both ways right now, itself included (bits set in bitmap if
 * not NULL). */
unsigned int node_io_reachable(const struct node_io *io, uint8_t *bitmap);
/* Unique per sender across restarts: the boot count stored with the data, then a counter. */
uint64_t node_io_msg_id(struct node_io *io);

/* Datagrams are best effort: a full socket buffer is a lost message, as on a network. With
 * queue_sends they wait in out[] (a full queue is flushed first) for node_io_flush(). */
void node_io_send(struct node_io *io, const struct sockaddr_in *addr, const uint8_t *buf, int len);
/* Sends hdr (type, from, to, term, flags; msg_id is filled) and payload to a peer. */
void node_io_send_peer(struct node_io *io, uint16_t to, struct proto_header *hdr,
		       const void *payload, size_t len);
void node_io_send_reply(struct node_io *io, const struct reply_to *to, uint64_t term,
			const struct client_reply *rep);
/* Completes st with what the shell knows (node id, cluster size, reachability, counters) and
 * sends it. */
void node_io_send_status(struct node_io *io, const struct reply_to *to, struct status_reply *st);

/* Sends what is queued, in as few system calls as the kernel takes it. */
void node_io_flush(struct node_io *io);
/* Takes up to NODE_IO_BATCH waiting datagrams into in[]; returns how many (0 when none). */
unsigned int node_io_recv_batch(struct node_io *io);

/* Pings every peer once per NODE_PING_EVERY_MS; call on every tick. */
void node_io_ping(struct node_io *io, uint64_t term);

/*
 * Vets one datagram: decodes it, counts refusals by kind, refuses nodes of other clusters and
 * datagrams whose source address is not their sender's, and answers PING and records PONG
 * itself. Returns true when the caller should handle it (*hdr and *payload set), false when it
 * was refused or consumed here.
 */
bool node_io_accept(struct node_io *io, const uint8_t *buf, size_t len,
		    const struct sockaddr_in *src, uint64_t term, struct proto_header *hdr,
		    const uint8_t **payload);
/* The payload of an accepted datagram did not parse: count it as refused instead. */
void node_io_refuse_payload(struct node_io *io);

#endif /* CAPNET_NODE_IO_H */
