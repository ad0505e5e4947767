// SPDX-License-Identifier: GPL-2.0-only
/* The capnode client: one UDP socket inside the node's namespace, request, retry, answer. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/lab/run_dir.h"
#include "netem/lab/topology.h"
#include "node/key_file.h"
#include "tools/capctl/client.h"

static const char *key_path_given;

void client_key_file(const char *path)
{
	key_path_given = path;
}

/* The key named by client_key_file() ("-": standard input, as the controller of a lab across
 * hosts hands it over ssh), else the lab's if `capnet start` made one: a lab whose capnodes were
 * started by hand without a key is spoken to without one. */
int client_key_load(const char *lab, struct proto_key *key, bool *auth)
{
	char path[PATH_MAX];
	int err;

	*auth = false;
	if (key_path_given && !strcmp(key_path_given, "-"))
		err = key_file_read_stdin(key);
	else if (key_path_given)
		err = key_file_read(key_path_given, key);
	else {
		snprintf(path, sizeof(path), CAPNET_RUN_ROOT "/%s/" KEY_FILE_NAME, lab);
		if (access(path, F_OK))
			return 0;
		err = key_file_read(path, key);
	}
	if (err)
		return err;
	*auth = true;
	return 0;
}

/* A lost datagram is retried this often; sessions on the node make the retry harmless. */
#define RETRY_MS 250

int client_open(struct capnet_client *c, const char *lab, unsigned int node, uint16_t port)
{
	char ns[64];
	int saved, err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->node = node;
	err = client_key_load(lab, &c->key, &c->auth);
	if (err)
		return err;
	lab_node_ns(lab, node, ns, sizeof(ns));
	saved = netns_enter(ns);
	if (saved < 0) {
		error_note("enter node %u of lab %s (%s): %s%s", node, lab, ns, strerror(-saved),
			   saved == -EPERM ? " (run as root)" : "");
		return saved;
	}
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = c->fd < 0 ? -errno : 0;
	netns_return(saved);
	if (err) {
		error_note("socket in %s: %s", ns, strerror(-err));
		return err;
	}
	c->addr.sin_family = AF_INET;
	c->addr.sin_port = htons(port);
	c->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (getrandom(&c->nonce, sizeof(c->nonce), 0) != sizeof(c->nonce))
		c->nonce = (uint32_t)(monotonic_ms() * 2654435761u) ^ (uint32_t)getpid();
	if (!c->nonce)
		c->nonce = 1;
	return 0;
}

void client_close(struct capnet_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	memset(&c->key, 0, sizeof(c->key));
}

/* Sends buf every RETRY_MS until accept() says a datagram is the answer, or the deadline. */
static int exchange(struct capnet_client *c, const uint8_t *out, int outlen, long timeout_ms,
		    int (*accept)(const struct proto_header *hdr, const uint8_t *payload,
				  void *ctx),
		    void *ctx)
{
	long long deadline = monotonic_ms() + timeout_ms, next_send = 0;
	uint8_t in[PROTO_MAX_DGRAM];

	for (;;) {
		long long now = monotonic_ms();
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct proto_header hdr;
		const uint8_t *payload;
		ssize_t len;
		int wait;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= next_send) {
			sendto(c->fd, out, outlen, 0, (struct sockaddr *)&c->addr, sizeof(c->addr));
			next_send = now + RETRY_MS;
		}
		wait = (int)((next_send < deadline ? next_send : deadline) - now);
		if (poll(&p, 1, wait) <= 0)
			continue;
		len = recv(c->fd, in, sizeof(in), 0);
		/* Refused (no node listening yet), junk or forged: keep trying until the deadline. */
		if (len <= 0 || proto_decode(in, len, &hdr, &payload))
			continue;
		if (c->auth ? proto_auth_check(in, len, &c->key) != 0 :
			      (hdr.flags & PROTO_FLAG_AUTH) != 0)
			continue;
		if (accept(&hdr, payload, ctx) == 0)
			return 0;
	}
}

struct call_ctx {
	const struct client_request *req;
	struct client_reply *rep;
};

static int accept_reply(const struct proto_header *hdr, const uint8_t *payload, void *arg)
{
	struct call_ctx *ctx = arg;

	if (hdr->type != PROTO_CLIENT_REPLY ||
	    proto_decode_client_reply(payload, hdr->payload_len, ctx->rep))
		return -1;
	/* A late answer to an earlier request of ours is not this one's. */
	if (ctx->rep->client_nonce != ctx->req->client_nonce || ctx->rep->seq != ctx->req->seq)
		return -1;
	return 0;
}

int client_call(struct capnet_client *c, struct client_request *req, long timeout_ms,
		struct client_reply *rep)
{
	struct proto_header hdr = { .type = PROTO_CLIENT_REQUEST };
	struct call_ctx ctx = { .req = req, .rep = rep };
	struct proto_writer w;
	int len;

	req->client_nonce = c->nonce;
	req->seq = ++c->seq;
	hdr.msg_id = proto_client_msg_id(c->nonce, ++c->msg_seq);
	proto_msg_begin(&w, c->buf, sizeof(c->buf));
	len = proto_put_client_request(&w, req);
	if (len < 0)
		return -EINVAL;
	len = proto_msg_end(&w, &hdr);
	if (len >= 0 && c->auth)
		len = proto_auth_seal(c->buf, len, sizeof(c->buf), &c->key);
	if (len < 0)
		return -EMSGSIZE;
	return exchange(c, c->buf, len, timeout_ms, accept_reply, &ctx);
}

static int accept_status(const struct proto_header *hdr, const uint8_t *payload, void *arg)
{
	if (hdr->type != PROTO_STATUS_REPLY)
		return -1;
	return proto_decode_status_reply(payload, hdr->payload_len, arg) ? -1 : 0;
}

int client_status(struct capnet_client *c, long timeout_ms, struct status_reply *st)
{
	struct proto_header hdr = { .type = PROTO_STATUS };
	int len;

	hdr.msg_id = proto_client_msg_id(c->nonce, ++c->msg_seq);
	len = proto_encode(c->buf, sizeof(c->buf), &hdr, NULL, 0);
	if (len >= 0 && c->auth)
		len = proto_auth_seal(c->buf, len, sizeof(c->buf), &c->key);
	if (len < 0)
		return -EINVAL;
	return exchange(c, c->buf, len, timeout_ms, accept_status, st);
}
