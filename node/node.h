/* SPDX-License-Identifier: GPL-2.0-only */
/* The replica's I/O shells: one UDP socket, a tick timer and signals in an epoll loop
 * (node/node_io.h), around the pure state machines: Raft and the application in CP mode
 * (node.c), Dynamo in AP mode (node_ap.c). Only the shells do network I/O or read a clock. */
#ifndef CAPNET_NODE_H
#define CAPNET_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "node/proto.h"
#include "node/proto_auth.h"

#define NODE_MAX_CLUSTER PROTO_MAX_NODE

enum node_mode {
	NODE_MODE_CP = 1,
	NODE_MODE_AP = 2,
};

struct node_peer {
	uint16_t id;
	struct sockaddr_in addr;
};

struct node_config {
	uint16_t id;
	enum node_mode mode;
	uint16_t port;
	const char *data_dir;
	bool sync; /* fsync before acknowledging (--sync none turns it off) */
	bool unsafe_local_reads; /* teaching switch: reads from local state, no ReadIndex */
	unsigned int tick_ms;
	unsigned int request_timeout_ms; /* a client request unanswered by then gets TIMEOUT */
	unsigned int snapshot_every; /* applied entries between snapshots */
	uint16_t replicas; /* AP: replicas per key (N); 0 means every node */
	bool siblings; /* AP: keep concurrent values instead of last-writer-wins */
	unsigned int anti_entropy_ms; /* AP: between digest exchanges; 0 turns them off */
	uint16_t npeers; /* every member, self included */
	struct node_peer peers[NODE_MAX_CLUSTER];
	uint64_t seed;
	/* With a key, every datagram sent carries a tag made with it and every one received must
	 * (node/proto_auth.h); without, none may. */
	bool auth;
	struct proto_key key;
};

/* Parses "1=10.77.0.1,2=10.77.0.2[:port]" into cfg->peers; the default port is cfg->port.
 * Fails (with a message in err) on junk, duplicate ids, or ids out of 1..1000. */
int node_parse_cluster(const char *text, struct node_config *cfg, char *err, size_t errlen);

/* Runs until SIGTERM or SIGINT; 0 on a clean stop, -errno on a fatal error (said on stderr). */
int node_run(const struct node_config *cfg);
/* The AP shell (node/node_ap.c), which node_run() hands --mode ap to. */
int node_ap_run(const struct node_config *cfg);

#endif /* CAPNET_NODE_H */
