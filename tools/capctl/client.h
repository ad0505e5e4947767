/* SPDX-License-Identifier: GPL-2.0-only */
/* A client of one capnode: enters the node's namespace and talks to it over loopback, so client
 * traffic never crosses the emulated network (as Jepsen's control node). Retries a request with
 * the same sequence number until it is answered or the time is up: the node's sessions make a
 * retried write safe. */
#ifndef CAPNET_CLIENT_H
#define CAPNET_CLIENT_H

#include <stdint.h>
#include <netinet/in.h>

#include "node/proto.h"
#include "node/proto_auth.h"

struct capnet_client {
	int fd;
	unsigned int node;
	uint32_t nonce;
	uint64_t seq;
	uint64_t msg_seq;
	struct sockaddr_in addr;
	bool auth; /* requests sealed, replies checked with key */
	struct proto_key key;
	uint8_t buf[PROTO_MAX_DGRAM];
};

/* Where a client finds the cluster's key: the file given (client_key_file; "-" for standard
 * input), else the one `capnet start` made in the lab's run directory, if there is one. */
void client_key_file(const char *path);
/* That key, read: 0 with *auth true, 0 with *auth false when there is none, or -errno with the
 * reason left by error_note(). "-" reads it from standard input (once). */
int client_key_load(const char *lab, struct proto_key *key, bool *auth);

/* Opens a client of node `node` of lab `lab` (port: capnode's, 7070 by default), with the
 * cluster's key when there is one. Needs root. Prints what is wrong and returns -errno. */
int client_open(struct capnet_client *c, const char *lab, unsigned int node, uint16_t port);
void client_close(struct capnet_client *c);

/* Sends req (its nonce and seq are filled here) and waits for the node's answer. Returns 0 with
 * *rep filled, or -ETIMEDOUT: no answer in time, the outcome is unknown. */
int client_call(struct capnet_client *c, struct client_request *req, long timeout_ms,
		struct client_reply *rep);
/* Asks for the node's status. 0 or -ETIMEDOUT. */
int client_status(struct capnet_client *c, long timeout_ms, struct status_reply *st);

#endif /* CAPNET_CLIENT_H */
