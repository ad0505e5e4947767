// SPDX-License-Identifier: GPL-2.0-only
/* A Maelstrom node in C, with jansson: `c_node echo|unique-ids|broadcast|g-counter [--no-retry]`.
 * One thread, poll() on stdin with a 100 ms tick for retries and gossip.
 *   echo        answers echo_ok with the same echo;
 *   unique-ids  "<node>-<counter>", unique as long as node ids are;
 *   broadcast   floods each new message to its neighbours and retries every tick until each
 *               acknowledges it (--no-retry: sends once, the classic bug partitions expose);
 *   g-counter   counts its own adds, gossips every node's count it knows, merges by maximum. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_NODES 64
#define MAX_MESSAGES 65536

static char self[32];
static char nodes[MAX_NODES][32];
static size_t n_nodes;
static long long next_msg_id;
static const char *workload;
static bool no_retry;

static json_int_t messages[MAX_MESSAGES];
static size_t n_messages;
/* broadcast: which neighbour still owes an ack for which message (by index). */
static bool unacked[MAX_NODES][MAX_MESSAGES];
static bool neighbour[MAX_NODES];
static json_int_t counts[MAX_NODES];
static long long ids;

static void send_msg(const char *dest, json_t *body)
{
	json_t *m = json_pack("{s:s, s:s, s:o}", "src", self, "dest", dest, "body", body);
	char *text = json_dumps(m, JSON_COMPACT);

	printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(m);
}

static void reply(json_t *req, json_t *body)
{
	json_object_set_new(body, "msg_id", json_integer(++next_msg_id));
	json_object_set(body, "in_reply_to",
			json_object_get(json_object_get(req, "body"), "msg_id"));
	send_msg(json_string_value(json_object_get(req, "src")), body);
}

static int node_index(const char *id)
{
	for (size_t i = 0; i < n_nodes; i++)
		if (!strcmp(nodes[i], id))
			return (int)i;
	return -1;
}

static bool have(json_int_t v, size_t *at)
{
	for (size_t i = 0; i < n_messages; i++)
		if (messages[i] == v) {
			*at = i;
			return true;
		}
	return false;
}

static void gossip_one(size_t peer, size_t k)
{
	send_msg(nodes[peer], json_pack("{s:s, s:I}", "type", "gossip", "message", messages[k]));
}

/* A new message: kept, and owed to every neighbour but the one it came from. */
static void learn(json_int_t v, int from)
{
	size_t k;

	if (have(v, &k) || n_messages == MAX_MESSAGES)
		return;
	k = n_messages++;
	messages[k] = v;
	for (size_t p = 0; p < n_nodes; p++) {
		if (!neighbour[p] || (int)p == from)
			continue;
		unacked[p][k] = !no_retry;
		gossip_one(p, k);
	}
}

static void handle(json_t *msg)
{
	json_t *body = json_object_get(msg, "body");
	const char *type = json_string_value(json_object_get(body, "type"));
	const char *src = json_string_value(json_object_get(msg, "src"));

	if (!type || !src)
		return;
	if (!strcmp(type, "init")) {
		json_t *ids_json = json_object_get(body, "node_ids"), *v;
		size_t i;

		snprintf(self, sizeof(self), "%s",
			 json_string_value(json_object_get(body, "node_id")));
		json_array_foreach(ids_json, i, v)
		{
			if (n_nodes < MAX_NODES)
				snprintf(nodes[n_nodes++], sizeof(nodes[0]), "%s",
					 json_string_value(v));
		}
		/* Until told a topology, everyone is a neighbour. */
		for (i = 0; i < n_nodes; i++)
			neighbour[i] = strcmp(nodes[i], self) != 0;
		reply(msg, json_pack("{s:s}", "type", "init_ok"));
	} else if (!strcmp(type, "echo")) {
		reply(msg, json_pack("{s:s, s:O}", "type", "echo_ok", "echo",
				     json_object_get(body, "echo")));
	} else if (!strcmp(type, "generate")) {
		char id[64];

		snprintf(id, sizeof(id), "%s-%lld", self, ++ids);
		reply(msg, json_pack("{s:s, s:s}", "type", "generate_ok", "id", id));
	} else if (!strcmp(type, "topology")) {
		json_t *mine = json_object_get(json_object_get(body, "topology"), self), *v;
		size_t i;

		memset(neighbour, 0, sizeof(neighbour));
		json_array_foreach(mine, i, v)
		{
			int k = node_index(json_string_value(v));

			if (k >= 0)
				neighbour[k] = true;
		}
		reply(msg, json_pack("{s:s}", "type", "topology_ok"));
	} else if (!strcmp(type, "broadcast")) {
		learn(json_integer_value(json_object_get(body, "message")), -1);
		reply(msg, json_pack("{s:s}", "type", "broadcast_ok"));
	} else if (!strcmp(type, "gossip")) {
		json_int_t v = json_integer_value(json_object_get(body, "message"));
		int from = node_index(src);

		learn(v, from);
		if (from >= 0)
			send_msg(src, json_pack("{s:s, s:I}", "type", "gossip_ok", "message", v));
	} else if (!strcmp(type, "gossip_ok")) {
		size_t k;
		int from = node_index(src);

		if (from >= 0 && have(json_integer_value(json_object_get(body, "message")), &k))
			unacked[from][k] = false;
	} else if (!strcmp(type, "add")) {
		int me = node_index(self);

		if (me >= 0)
			counts[me] += json_integer_value(json_object_get(body, "delta"));
		reply(msg, json_pack("{s:s}", "type", "add_ok"));
	} else if (!strcmp(type, "counts")) {
		json_t *all = json_object_get(body, "counts"), *v;
		const char *id;

		json_object_foreach(all, id, v)
		{
			int k = node_index(id);

			if (k >= 0 && json_integer_value(v) > counts[k])
				counts[k] = json_integer_value(v);
		}
	} else if (!strcmp(type, "read") && !strcmp(workload, "g-counter")) {
		json_int_t sum = 0;

		for (size_t i = 0; i < n_nodes; i++)
			sum += counts[i];
		reply(msg, json_pack("{s:s, s:I}", "type", "read_ok", "value", sum));
	} else if (!strcmp(type, "read")) {
		json_t *all = json_array();

		for (size_t i = 0; i < n_messages; i++)
			json_array_append_new(all, json_integer(messages[i]));
		reply(msg, json_pack("{s:s, s:o}", "type", "read_ok", "messages", all));
	}
}

static void tick(void)
{
	if (!strcmp(workload, "broadcast")) {
		for (size_t p = 0; p < n_nodes; p++)
			for (size_t k = 0; k < n_messages; k++)
				if (unacked[p][k])
					gossip_one(p, k);
	} else if (!strcmp(workload, "g-counter")) {
		json_t *all = json_object();

		for (size_t i = 0; i < n_nodes; i++)
			json_object_set_new(all, nodes[i], json_integer(counts[i]));
		for (size_t p = 0; p < n_nodes; p++)
			if (strcmp(nodes[p], self))
				send_msg(nodes[p],
					 json_pack("{s:s, s:O}", "type", "counts", "counts", all));
		json_decref(all);
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	size_t len = 0;

	workload = argc > 1 ? argv[1] : "";
	no_retry = argc > 2 && !strcmp(argv[2], "--no-retry");
	if (strcmp(workload, "echo") && strcmp(workload, "unique-ids") &&
	    strcmp(workload, "broadcast") && strcmp(workload, "g-counter")) {
		fprintf(stderr, "usage: c_node echo|unique-ids|broadcast|g-counter [--no-retry]\n");
		return 2;
	}
	for (long long next_tick = now_ms() + 100;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		long long wait = next_tick - now_ms();
		char *nl;
		ssize_t k;

		/* Retries and gossip keep their pace however busy stdin is. */
		if (wait <= 0) {
			tick();
			next_tick = now_ms() + 100;
			continue;
		}
		if (poll(&p, 1, (int)wait) == 0)
			continue;
		k = read(0, buf + len, sizeof(buf) - len - 1);
		if (k <= 0)
			return 0;
		len += (size_t)k;
		while ((nl = memchr(buf, '\n', len))) {
			json_error_t err;
			json_t *msg = json_loadb(buf, (size_t)(nl - buf), 0, &err);

			if (msg) {
				handle(msg);
				json_decref(msg);
			} else if (nl > buf) {
				fprintf(stderr, "not JSON: %s\n", err.text);
			}
			len -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, len);
		}
	}
}
