// SPDX-License-Identifier: GPL-2.0-only
/* hiredis inside a node's namespace. hiredis is loaded when the first Redis client opens, so no
 * other capctl command loads it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include "lib/dynlib.h"
#include "lib/report.h"
#include "netem/lab/topology.h"
#include "tools/capctl/redis_client.h"

/* Compare and set in one step on the server: 1 set, 0 another value found, -1 absent. */
static const char cas_script[] =
	"local v = redis.call('GET', KEYS[1]) "
	"if v == false then return -1 end "
	"if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end "
	"return 0";

/* The hiredis functions the client calls, resolved once by load_hiredis. */
static struct {
	__typeof__(redisConnectWithTimeout) *connect_with_timeout;
	__typeof__(redisSetTimeout) *set_timeout;
	__typeof__(redisCommand) *command;
	__typeof__(freeReplyObject) *free_reply;
	__typeof__(redisFree) *free;
} hiredis;
static pthread_once_t hiredis_once = PTHREAD_ONCE_INIT;
static int hiredis_err;
static char hiredis_why[256];

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static void load_hiredis(void)
{
	const struct dynlib_symbol symbols[] = {
		{ "redisConnectWithTimeout", (void **)&hiredis.connect_with_timeout },
		{ "redisSetTimeout", (void **)&hiredis.set_timeout },
		{ "redisCommand", (void **)&hiredis.command },
		{ "freeReplyObject", (void **)&hiredis.free_reply },
		{ "redisFree", (void **)&hiredis.free },
	};

	/* The soname of the hiredis whose header this was built with. */
	hiredis_err = dynlib_load("libhiredis.so." STRINGIFY(HIREDIS_SONAME),
				  "libhiredis" STRINGIFY(HIREDIS_SONAME), symbols,
				  sizeof(symbols) / sizeof(symbols[0]));
	if (hiredis_err)
		snprintf(hiredis_why, sizeof(hiredis_why), "%s", error_reason(hiredis_err));
}

static struct timeval tv_of(long ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

static redisContext *connect_to(const char *host, uint16_t port, long timeout_ms)
{
	struct timeval tv = tv_of(timeout_ms);

	return hiredis.connect_with_timeout(host, port, tv);
}

int redis_client_open(struct redis_client *c, const char *lab, unsigned int node, uint16_t port,
		      long timeout_ms)
{
	char ns[64], addr[INET_ADDRSTRLEN] = "";
	redisReply *r;
	int saved, err = 0;

	c->ctx = NULL;
	c->last_reply = NULL;
	c->items = NULL;
	c->n_items = c->cap_items = 0;
	c->node = node;
	c->port = port;
	c->timeout_ms = timeout_ms;
	c->error[0] = 0;
	pthread_once(&hiredis_once, load_hiredis);
	if (hiredis_err) {
		snprintf(c->error, sizeof(c->error), "%s", hiredis_why);
		return hiredis_err;
	}
	lab_node_ns(lab, node, ns, sizeof(ns));
	saved = netns_enter(ns);
	if (saved < 0) {
		snprintf(c->error, sizeof(c->error), "enter node %u of lab %s (%s): %s", node, lab,
			 ns, strerror(-saved));
		return saved;
	}
	/* Loopback first (a Redis in protected mode answers only there), then the node's
	 * address (a Redis bound to {ip}). Both stay inside the node. */
	c->ctx = connect_to("127.0.0.1", port, timeout_ms);
	if ((!c->ctx || c->ctx->err) && !netns_address(ns, addr, sizeof(addr))) {
		if (c->ctx)
			hiredis.free(c->ctx);
		c->ctx = connect_to(addr, port, timeout_ms);
	}
	netns_return(saved);
	if (!c->ctx || c->ctx->err) {
		snprintf(c->error, sizeof(c->error),
			 "no Redis listening on node %u port %u (127.0.0.1%s%s): %s", node, port,
			 addr[0] ? " and " : "", addr, c->ctx ? c->ctx->errstr : "out of memory");
		err = -ECONNREFUSED;
		goto fail;
	}
	{
		struct timeval tv = tv_of(timeout_ms);

		hiredis.set_timeout(c->ctx, tv);
	}
	r = hiredis.command(c->ctx, "PING");
	if (!r || r->type != REDIS_REPLY_STATUS || strcmp(r->str, "PONG")) {
		snprintf(c->error, sizeof(c->error),
			 "node %u port %u does not answer PING as Redis does (%s): is --client "
			 "redis the right client for this service?",
			 node, port,
			 !r			      ? c->ctx->errstr :
			 r->type == REDIS_REPLY_ERROR ? r->str :
							"another answer");
		if (r)
			hiredis.free_reply(r);
		err = -EPROTO;
		goto fail;
	}
	hiredis.free_reply(r);
	/* Loaded once: each cas then sends its hash, not the script (EVAL remains the fallback). */
	c->cas_sha[0] = 0;
	r = hiredis.command(c->ctx, "SCRIPT LOAD %s", cas_script);
	if (r && r->type == REDIS_REPLY_STRING && r->len < sizeof(c->cas_sha))
		snprintf(c->cas_sha, sizeof(c->cas_sha), "%s", r->str);
	if (r)
		hiredis.free_reply(r);
	return 0;
fail:
	if (c->ctx)
		hiredis.free(c->ctx);
	c->ctx = NULL;
	return err;
}

static void drop_last_reply(struct redis_client *c)
{
	if (c->last_reply)
		hiredis.free_reply(c->last_reply);
	c->last_reply = NULL;
	c->n_items = 0;
}

void redis_client_close(struct redis_client *c)
{
	drop_last_reply(c);
	free(c->items);
	c->items = NULL;
	c->cap_items = 0;
	if (c->ctx)
		hiredis.free(c->ctx);
	c->ctx = NULL;
}

void redis_client_call(struct redis_client *c, enum history_f f, enum redis_shape shape,
		       const char *key, const char *value, const char *expected,
		       struct redis_answer *a)
{
	redisReply *r = NULL;

	*a = (struct redis_answer){ .transport = REDIS_NOT_SENT, .text = c->text };
	c->text[0] = 0;
	drop_last_reply(c);
	if (!c->ctx) {
		snprintf(c->text, sizeof(c->text), "not connected");
		return;
	}
	if (f == HISTORY_READ && shape == REDIS_SETS)
		r = hiredis.command(c->ctx, "SMEMBERS %s", key);
	else if (f == HISTORY_READ && shape == REDIS_LISTS)
		r = hiredis.command(c->ctx, "LRANGE %s 0 -1", key);
	else if (f == HISTORY_ADD)
		r = hiredis.command(c->ctx, "SADD %s %s", key, value);
	else if (f == HISTORY_APPEND)
		r = hiredis.command(c->ctx, "RPUSH %s %s", key, value);
	else if (f == HISTORY_READ)
		r = hiredis.command(c->ctx, "GET %s", key);
	else if (f == HISTORY_WRITE)
		r = hiredis.command(c->ctx, "SET %s %s", key, value);
	else if (f == HISTORY_CAS && c->cas_sha[0]) {
		r = hiredis.command(c->ctx, "EVALSHA %s 1 %s %s %s", c->cas_sha, key, expected,
				    value);
		/* A server that lost its scripts (restarted): NOSCRIPT says it ran nothing. */
		if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
			hiredis.free_reply(r);
			r = hiredis.command(c->ctx, "EVAL %s 1 %s %s %s", cas_script, key, expected,
					    value);
		}
	} else if (f == HISTORY_CAS)
		r = hiredis.command(c->ctx, "EVAL %s 1 %s %s %s", cas_script, key, expected, value);
	if (!r) {
		/* hiredis writes the whole command before it waits: an error now came after the
		 * request may have left (a timeout, a reset). The connection is done for. */
		a->transport = REDIS_LOST;
		snprintf(c->text, sizeof(c->text), "%s",
			 c->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK) ?
				 "no answer in time" :
				 c->ctx->errstr);
		redis_client_close(c);
		return;
	}
	a->transport = REDIS_ANSWERED;
	switch (r->type) {
	case REDIS_REPLY_STRING:
		a->kind = REDIS_REPLY_KIND_STRING;
		snprintf(c->text, sizeof(c->text), "%.*s", (int)r->len, r->str);
		break;
	case REDIS_REPLY_NIL:
		a->kind = REDIS_REPLY_KIND_NIL;
		break;
	case REDIS_REPLY_STATUS:
		a->kind = REDIS_REPLY_KIND_STATUS;
		snprintf(c->text, sizeof(c->text), "%s", r->str);
		break;
	case REDIS_REPLY_INTEGER:
		a->kind = REDIS_REPLY_KIND_INTEGER;
		a->integer = r->integer;
		break;
	case REDIS_REPLY_ERROR:
		a->kind = REDIS_REPLY_KIND_ERROR;
		snprintf(c->text, sizeof(c->text), "%s", r->str);
		break;
	case REDIS_REPLY_ARRAY:
		a->kind = REDIS_REPLY_KIND_ARRAY;
		if (c->cap_items < r->elements) {
			char **items = realloc(c->items, r->elements * sizeof(*items));

			if (!items) {
				a->kind = REDIS_REPLY_KIND_OTHER;
				snprintf(c->text, sizeof(c->text), "out of memory");
				break;
			}
			c->items = items;
			c->cap_items = r->elements;
		}
		for (size_t i = 0; i < r->elements; i++) {
			if (r->element[i]->type != REDIS_REPLY_STRING) {
				a->kind = REDIS_REPLY_KIND_OTHER;
				snprintf(c->text, sizeof(c->text), "an array of non-strings");
				break;
			}
			c->items[i] = r->element[i]->str;
		}
		if (a->kind == REDIS_REPLY_KIND_ARRAY) {
			c->n_items = r->elements;
			c->last_reply = r;
			return;
		}
		break;
	default:
		a->kind = REDIS_REPLY_KIND_OTHER;
		snprintf(c->text, sizeof(c->text), "reply of type %d", r->type);
	}
	hiredis.free_reply(r);
}
