/* SPDX-License-Identifier: GPL-2.0-only */
/* A Redis client of one node's service, through hiredis: it connects from inside the node's
 * namespace to the service on that node (loopback, else the node's own address), so client
 * traffic never crosses the emulated network. Register operations: GET, SET, and cas as one
 * Lua script (atomic on the server). */
#ifndef CAPNET_REDIS_CLIENT_H
#define CAPNET_REDIS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/capctl/redis_outcome.h"

#define REDIS_DEFAULT_PORT 6379

struct redisContext;

struct redis_client {
	struct redisContext *ctx;
	unsigned int node;
	uint16_t port;
	long timeout_ms;
	char error[400];
	char text[1200]; /* the last reply's string, status or error */
	char cas_sha[48]; /* the cas script, loaded once per connection ("" when not) */
	/* The last array reply's strings (pointing into it, kept until the next call). */
	void *last_reply;
	char **items;
	size_t n_items, cap_items;
};

/* Connects to node's service and checks that it speaks Redis (PING). 0, or -errno with the
 * reason for a person in c->error: nothing listening, not Redis, no such node. */
int redis_client_open(struct redis_client *c, const char *lab, unsigned int node, uint16_t port,
		      long timeout_ms);
void redis_client_close(struct redis_client *c);

/* What the keys hold: registers (GET, SET, cas), sets (add: SADD, read: SMEMBERS) or lists
 * (append: RPUSH, read: LRANGE). */
enum redis_shape {
	REDIS_REGISTERS,
	REDIS_SETS,
	REDIS_LISTS,
};

/* One operation; *a says what came back (a->text points into c; a set's or list's elements are
 * in c->items). After REDIS_LOST the connection is closed: open again before the next call. */
void redis_client_call(struct redis_client *c, enum history_f f, enum redis_shape shape,
		       const char *key, const char *value, const char *expected,
		       struct redis_answer *a);

#endif /* CAPNET_REDIS_CLIENT_H */
