// SPDX-License-Identifier: GPL-2.0-only
/* The clients of maelstrom test: each workload's requests as Maelstrom's generators make them,
 * the answers read into the history, timeouts, the broadcast topology and the final reads. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "netem/maelstrom/harness.h"

static char *keep_str(struct harness *h, const char *s, size_t n)
{
	char *c;

	if (h->st.n_owned == h->st.cap_owned) {
		size_t cap = h->st.cap_owned ? 2 * h->st.cap_owned : 1024;
		char **p = realloc(h->st.owned, cap * sizeof(*p));

		if (!p)
			return NULL;
		h->st.owned = p;
		h->st.cap_owned = cap;
	}
	c = strndup(s, n);
	if (c)
		h->st.owned[h->st.n_owned++] = c;
	return c;
}

static char *text_of(struct harness *h, const struct json_value *v)
{
	char *buf = json_value_text(v), *kept;

	if (!buf)
		return NULL;
	kept = keep_str(h, buf, strlen(buf));
	free(buf);
	return kept;
}

/* {"src":"c<id>","dest":"n<node>","body":{"type":...,"msg_id":N <extra>}} */
static int send_request(struct harness *h, unsigned int client_id, unsigned int node,
			uint64_t msg_id, const char *type, const char *extra)
{
	char line[8192];

	snprintf(
		line, sizeof(line),
		"{\"src\":\"c%u\",\"dest\":\"n%u\",\"body\":{\"type\":\"%s\",\"msg_id\":%llu%s%s}}",
		client_id, node, type, (unsigned long long)msg_id, extra[0] ? "," : "", extra);
	return mael_send_line(h, node, line);
}

static struct mael_op *new_op(struct harness *h)
{
	if (h->st.n == h->st.cap) {
		size_t cap = h->st.cap ? 2 * h->st.cap : 4096;
		struct mael_op *p = realloc(h->st.ops, cap * sizeof(*p));

		if (!p)
			return NULL;
		h->st.ops = p;
		h->st.cap = cap;
	}
	memset(&h->st.ops[h->st.n], 0, sizeof(h->st.ops[0]));
	return &h->st.ops[h->st.n++];
}

const char *mael_request_type(enum mael_workload w, const struct mael_op *op)
{
	bool read = op->read;

	if (op->type)
		return op->type;
	switch (w) {
	case MAEL_LIN_KV:
		return read ? "read" : op->cas ? "cas" : "write";
	case MAEL_ECHO:
		return "echo";
	case MAEL_UNIQUE_IDS:
		return "generate";
	case MAEL_BROADCAST:
		return read ? "read" : "broadcast";
	default:
		return read ? "read" : "add";
	}
}

/* Jepsen's kafka client: assign (list the committed offsets of a few keys and start there),
 * then sends to any key and polls of the keys assigned, each poll that read something followed
 * by a commit of it; now and then a new assignment. A final client polls every key from 0. */
static int kafka_request(struct harness *h, struct client *c, struct mael_op *op, char *extra,
			 size_t len)
{
	char text[256];
	size_t used = 0;
	uint64_t dice = rng_next(&h->rng) % 20;

	text[0] = 0;
	if (c->commit[0]) {
		op->type = "commit_offsets";
		op->arg = keep_str(h, c->commit, strlen(c->commit));
		snprintf(extra, len, "\"offsets\":%s", c->commit);
		c->commit[0] = 0;
	} else if (!op->final && (!c->has_assignment || dice == 0)) {
		/* Two or three keys; where to start comes with the answer. */
		unsigned int want = 2 + (unsigned int)(rng_next(&h->rng) % 2);

		memset(c->asked, 0, sizeof(c->asked));
		for (unsigned int k = 0; k < want; k++)
			c->asked[rng_next(&h->rng) % KAFKA_KEYS] = true;
		used += snprintf(text, sizeof(text), "[");
		for (unsigned int k = 0; k < KAFKA_KEYS; k++)
			if (c->asked[k])
				used += snprintf(text + used, sizeof(text) - used, "%s\"%u\"",
						 used > 1 ? "," : "", k);
		snprintf(text + used, sizeof(text) - used, "]");
		op->type = "list_committed_offsets";
		op->read = true;
		op->arg = keep_str(h, text, strlen(text));
		snprintf(extra, len, "\"keys\":%s", text);
	} else if (!op->final && dice < 11) {
		char key[16], msg[24];

		snprintf(key, sizeof(key), "\"%u\"",
			 (unsigned int)(rng_next(&h->rng) % KAFKA_KEYS));
		snprintf(msg, sizeof(msg), "%llu", (unsigned long long)++h->next_value);
		op->type = "send";
		op->key = keep_str(h, key, strlen(key));
		op->arg = keep_str(h, msg, strlen(msg));
		snprintf(extra, len, "\"key\":%s,\"msg\":%s", key, msg);
	} else {
		used += snprintf(text, sizeof(text), "{");
		for (unsigned int k = 0; k < KAFKA_KEYS; k++)
			if (c->assigned[k])
				used += snprintf(text + used, sizeof(text) - used, "%s\"%u\":%lld",
						 used > 1 ? "," : "", k,
						 (long long)c->next_offset[k]);
		snprintf(text + used, sizeof(text) - used, "}");
		op->type = "poll";
		op->read = true;
		op->arg = keep_str(h, text, strlen(text));
		snprintf(extra, len, "\"offsets\":%s", text);
	}
	return op->arg ? 0 : -ENOMEM;
}

/* Elle's generator: a few keys in play, each written at most 16 times, with values counting up
 * per key so that every value names its write; 1 to 4 reads and writes per transaction. */
static int txn_request(struct harness *h, struct mael_op *op, char *extra, size_t len)
{
	const char *write_f = h->o->workload == MAEL_TXN_LIST_APPEND ? "append" : "w";
	unsigned int steps = 1 + (unsigned int)(rng_next(&h->rng) % TXN_MAX_LENGTH);
	char text[384];
	size_t used = 0;

	if (!h->next_txn_key) {
		for (unsigned int k = 0; k < TXN_KEYS; k++)
			h->txn_key[k] = k;
		h->next_txn_key = TXN_KEYS;
	}
	used += snprintf(text, sizeof(text), "[");
	for (unsigned int i = 0; i < steps; i++) {
		unsigned int slot = (unsigned int)(rng_next(&h->rng) % TXN_KEYS);
		unsigned long long key = h->txn_key[slot];

		if (rng_next(&h->rng) % 2) {
			used += snprintf(text + used, sizeof(text) - used, "%s[\"r\",%llu,null]",
					 i ? "," : "", key);
			continue;
		}
		used += snprintf(text + used, sizeof(text) - used, "%s[\"%s\",%llu,%llu]",
				 i ? "," : "", write_f, key,
				 (unsigned long long)++h->txn_written[slot]);
		if (h->txn_written[slot] >= TXN_WRITES_PER_KEY) {
			h->txn_key[slot] = h->next_txn_key++;
			h->txn_written[slot] = 0;
		}
	}
	snprintf(text + used, sizeof(text) - used, "]");
	op->type = "txn";
	op->arg = keep_str(h, text, strlen(text));
	snprintf(extra, len, "\"txn\":%s", text);
	return op->arg ? 0 : -ENOMEM;
}

/* A final kafka client: every key, from offset 0. */
static void kafka_from_start(struct client *c)
{
	for (unsigned int k = 0; k < KAFKA_KEYS; k++) {
		c->assigned[k] = c->positioned[k] = true;
		c->next_offset[k] = 0;
	}
	c->has_assignment = true;
}

/* A client whose operation's outcome is unknown is a new process, as in Jepsen, and a kafka
 * client starts over. */
static void new_process(struct harness *h, struct client *c)
{
	c->process = h->next_process++;
	c->has_assignment = false;
	c->commit[0] = 0;
	memset(c->assigned, 0, sizeof(c->assigned));
	memset(c->positioned, 0, sizeof(c->positioned));
}

/* A kafka answer moves the client on: where its polls start, what it owes as a commit. */
static void kafka_answered(struct client *c, const struct mael_op *op,
			   const struct json_value *body)
{
	const struct json_value *v;
	size_t used = 0;

	if (!strcmp(op->type, "list_committed_offsets")) {
		v = json_member(body, "offsets");
		memcpy(c->assigned, c->asked, sizeof(c->assigned));
		for (unsigned int k = 0; k < KAFKA_KEYS; k++) {
			char name[8];
			const struct json_value *at;
			int64_t off;

			if (!c->assigned[k] || c->positioned[k])
				continue;
			snprintf(name, sizeof(name), "%u", k);
			at = v ? json_member(v, name) : NULL;
			c->next_offset[k] = at && json_is_i64(at, &off) && off >= 0 ? off : 0;
			c->positioned[k] = true;
		}
		c->has_assignment = true;
		return;
	}
	if (strcmp(op->type, "poll"))
		return;
	v = json_member(body, "msgs");
	c->last_poll_empty = true;
	used = snprintf(c->commit, sizeof(c->commit), "{");
	for (size_t i = 0; v && v->kind == JSON_OBJECT && i < v->n; i++) {
		const struct json_value *pairs = &v->items[i];
		char *end;
		unsigned long k = strtoul(v->names[i], &end, 10);
		int64_t top = -1, off;

		if (*end || k >= KAFKA_KEYS || pairs->kind != JSON_ARRAY)
			continue;
		for (size_t p = 0; p < pairs->n; p++)
			if (pairs->items[p].kind == JSON_ARRAY && pairs->items[p].n == 2 &&
			    json_is_i64(&pairs->items[p].items[0], &off) && off > top)
				top = off;
		if (top < 0)
			continue;
		c->last_poll_empty = false;
		if (top + 1 > c->next_offset[k])
			c->next_offset[k] = top + 1;
		used += snprintf(c->commit + used, sizeof(c->commit) - used, "%s\"%lu\":%lld",
				 used > 1 ? "," : "", k, (long long)top);
	}
	if (c->last_poll_empty || op->final || used + 2 > sizeof(c->commit))
		c->commit[0] = 0;
	else
		snprintf(c->commit + used, sizeof(c->commit) - used, "}");
}

/* The next operation for client c, sent. */
int mael_issue(struct harness *h, struct client *c, bool read, bool final)
{
	const struct options *o = h->o;
	struct mael_op *op = new_op(h);
	char extra[512] = "", arg[64];

	if (!op)
		return -ENOMEM;
	op->process = c->process;
	op->node = c->node;
	op->read = read;
	op->final = final;
	op->outcome = MAEL_INFO;
	if (o->workload == MAEL_KAFKA) {
		if (kafka_request(h, c, op, extra, sizeof(extra)))
			return -ENOMEM;
	} else if (o->workload == MAEL_TXN_LIST_APPEND || o->workload == MAEL_TXN_RW_REGISTER) {
		if (txn_request(h, op, extra, sizeof(extra)))
			return -ENOMEM;
	} else if (o->workload == MAEL_LIN_KV) {
		/* Jepsen's linearizable register: a few keys at a time, each retired after about
		 * 100 operations, so that the search per key stays small; values 0 to 4. */
		uint64_t key = h->st.n / 500 * 5 + rng_next(&h->rng) % 5, f = rng_next(&h->rng) % 3;
		char a[24], b[24];

		snprintf(arg, sizeof(arg), "%llu", (unsigned long long)key);
		op->key = keep_str(h, arg, strlen(arg));
		snprintf(a, sizeof(a), "%llu", (unsigned long long)(rng_next(&h->rng) % 5));
		snprintf(b, sizeof(b), "%llu", (unsigned long long)(rng_next(&h->rng) % 5));
		op->read = f == 0;
		op->cas = f == 2;
		if (op->read) {
			snprintf(extra, sizeof(extra), "\"key\":%s", op->key);
		} else if (op->cas) {
			op->arg = keep_str(h, a, strlen(a));
			op->to = keep_str(h, b, strlen(b));
			snprintf(extra, sizeof(extra), "\"key\":%s,\"from\":%s,\"to\":%s", op->key,
				 a, b);
		} else {
			op->arg = keep_str(h, a, strlen(a));
			snprintf(extra, sizeof(extra), "\"key\":%s,\"value\":%s", op->key, a);
		}
	} else if (!read) {
		uint64_t v = ++h->next_value;

		switch (o->workload) {
		case MAEL_ECHO:
			snprintf(arg, sizeof(arg), "\"Please echo %llu\"", (unsigned long long)v);
			snprintf(extra, sizeof(extra), "\"echo\":%s", arg);
			op->arg = keep_str(h, arg, strlen(arg));
			break;
		case MAEL_BROADCAST:
			snprintf(arg, sizeof(arg), "%llu", (unsigned long long)v);
			snprintf(extra, sizeof(extra), "\"message\":%s", arg);
			op->arg = keep_str(h, arg, strlen(arg));
			break;
		case MAEL_G_SET:
			snprintf(arg, sizeof(arg), "%llu", (unsigned long long)v);
			snprintf(extra, sizeof(extra), "\"element\":%s", arg);
			op->arg = keep_str(h, arg, strlen(arg));
			break;
		case MAEL_G_COUNTER:
		case MAEL_PN_COUNTER:
			op->delta = o->workload == MAEL_G_COUNTER ?
					    (int64_t)(rng_next(&h->rng) % 5) :
					    (int64_t)(rng_next(&h->rng) % 11) - 5;
			snprintf(extra, sizeof(extra), "\"delta\":%lld", (long long)op->delta);
			break;
		default:
			break;
		}
	}
	c->busy = true;
	c->msg_id = ++c->next_msg_id;
	c->op = h->st.n - 1;
	op->invoke_ns = monotonic_ns() - h->t0;
	c->deadline = monotonic_ns() + (uint64_t)(o->timeout_s * 1e9);
	return send_request(h, c->id, c->node, c->msg_id, mael_request_type(o->workload, op),
			    extra);
}

/* Maelstrom's definite errors: the operation surely did not happen. */
static bool definite(uint64_t code)
{
	static const unsigned int codes[] = { 1, 10, 11, 12, 14, 20, 21, 22, 30 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (code == codes[i])
			return true;
	return false;
}

void mael_complete(struct harness *h, struct client *c, const struct json_value *body)
{
	struct mael_op *op = &h->st.ops[c->op];
	const struct json_value *type = json_member(body, "type"), *v;
	char want[32];
	uint64_t code = 13;

	snprintf(want, sizeof(want), "%s_ok", mael_request_type(h->o->workload, op));
	op->complete_ns = monotonic_ns() - h->t0;
	c->busy = false;
	if (type && type->kind == JSON_STRING && !strcmp(type->str, want)) {
		op->outcome = MAEL_OK;
		switch (h->o->workload) {
		case MAEL_ECHO:
			v = json_member(body, "echo");
			op->result = v ? text_of(h, v) : NULL;
			break;
		case MAEL_UNIQUE_IDS:
			v = json_member(body, "id");
			op->result = v ? text_of(h, v) : NULL;
			break;
		case MAEL_BROADCAST:
		case MAEL_G_SET:
			if (!op->read)
				break;
			v = json_member(body,
					h->o->workload == MAEL_BROADCAST ? "messages" : "value");
			if (v && v->kind == JSON_ARRAY) {
				op->elements = malloc((v->n ? v->n : 1) * sizeof(char *));
				for (size_t i = 0; op->elements && i < v->n; i++)
					op->elements[i] = text_of(h, &v->items[i]);
				if (op->elements)
					op->n_elements = v->n;
				/* Owned with the strings: freed at the end through the list. */
				keep_str(h, "", 0);
				h->st.owned[h->st.n_owned - 1] = (char *)op->elements;
			} else {
				op->outcome = MAEL_INFO;
			}
			break;
		case MAEL_G_COUNTER:
		case MAEL_PN_COUNTER:
		case MAEL_LIN_KV:
			v = json_member(body, "value");
			if (op->read)
				op->result = v ? text_of(h, v) : NULL;
			break;
		case MAEL_KAFKA: {
			const char *name = !strcmp(op->type, "send")	       ? "offset" :
					   !strcmp(op->type, "poll")	       ? "msgs" :
					   !strcmp(op->type, "commit_offsets") ? NULL :
										 "offsets";

			v = name ? json_member(body, name) : NULL;
			op->result = v ? text_of(h, v) : NULL;
		}
			kafka_answered(c, op, body);
			break;
		case MAEL_TXN_LIST_APPEND:
		case MAEL_TXN_RW_REGISTER:
			v = json_member(body, "txn");
			op->result = v ? text_of(h, v) : NULL;
			break;
		default:
			break;
		}
		return;
	}
	if (type && type->kind == JSON_STRING && !strcmp(type->str, "error")) {
		v = json_member(body, "code");
		if (v)
			json_is_u64(v, &code);
		op->outcome = definite(code) ? MAEL_FAIL : MAEL_INFO;
		if (h->o->workload == MAEL_LIN_KV && op->read)
			/* "Key does not exist" is a read of the initial null; other errors on a read,
			 * which changes nothing, count as failures, as in Maelstrom. */
			op->outcome = code == 20 ? MAEL_OK : MAEL_FAIL;
		if (h->o->workload == MAEL_KAFKA && op->read)
			op->outcome = MAEL_FAIL; /* a poll or a list changes nothing */
	} else {
		op->outcome = MAEL_INFO; /* an answer of another type: nobody knows */
	}
	if (op->outcome == MAEL_INFO)
		new_process(h, c);
}

/* Requests past their timeout: unknown outcome, a new process. */
void mael_expire(struct harness *h)
{
	uint64_t now = monotonic_ns();

	for (unsigned int i = 0; i < h->n_clients; i++) {
		struct client *c = &h->clients[i];

		if (!c->busy || now < c->deadline)
			continue;
		h->st.ops[c->op].outcome = MAEL_INFO;
		h->st.ops[c->op].complete_ns = now - h->t0;
		c->busy = false;
		new_process(h, c);
	}
}

/* Neighbours for the broadcast workload, as Maelstrom's --topology names them. */
int mael_topology_json(const struct options *o, char *buf, size_t len)
{
	unsigned int n = o->nodes, side = (unsigned int)ceil(sqrt(n)), i, j, used = 0;
	bool first;

	used += snprintf(buf + used, len - used, "{");
	for (i = 0; i < n; i++) {
		used += snprintf(buf + used, len - used, "%s\"n%u\":[", i ? "," : "", i);
		first = true;
		for (j = 0; j < n; j++) {
			bool link = false;

			if (i == j)
				continue;
			if (!strcmp(o->topology, "total"))
				link = true;
			else if (!strcmp(o->topology, "line"))
				link = j + 1 == i || i + 1 == j;
			else if (!strcmp(o->topology, "grid"))
				link = (i / side == j / side &&
					(i % side + 1 == j % side || j % side + 1 == i % side)) ||
				       (i % side == j % side &&
					(i / side + 1 == j / side || j / side + 1 == i / side));
			else if (!strncmp(o->topology, "tree", 4)) {
				unsigned int k = (unsigned int)atoi(o->topology + 4);

				link = (i && (i - 1) / k == j) || (j && (j - 1) / k == i);
			}
			if (link) {
				used += snprintf(buf + used, len - used, "%s\"n%u\"",
						 first ? "" : ",", j);
				first = false;
			}
		}
		used += snprintf(buf + used, len - used, "]");
	}
	used += snprintf(buf + used, len - used, "}");
	return used < len ? 0 : -ENOSPC;
}

int mael_final_reads(struct harness *h)
{
	const struct options *o = h->o;
	unsigned int i;
	uint64_t end;

	/* Time to converge, then a final read of every node, asked again until it answers. */
	for (end = monotonic_ns() + (uint64_t)(o->final_wait * 1e9);
	     monotonic_ns() < end && !h->bad[0];)
		mael_pump(h, 50);
	{
		/* One more client per node, each its own c<id>: a late answer never lands on
		 * another node's read. */
		unsigned int base = h->n_clients;
		struct client *more = realloc(h->clients, (base + o->nodes) * sizeof(*more));

		if (!more)
			return -ENOMEM;
		h->clients = more;
		for (i = 0; i < o->nodes; i++)
			h->clients[base + i] = (struct client){ .id = base + i + 1,
								.node = i,
								.process = h->next_process++ };
		h->n_clients = base + o->nodes;
		for (i = 0; i < o->nodes; i++) {
			struct client *fc = &h->clients[base + i];
			uint64_t give_up = monotonic_ns() + 10000000000ull;

			while (monotonic_ns() < give_up && !h->bad[0] && !mael_interrupted) {
				if (!fc->busy) {
					/* kafka's final reads poll every key from 0 until a poll
					 * brings nothing more. */
					if (fc->next_msg_id &&
					    h->st.ops[fc->op].outcome == MAEL_OK &&
					    (o->workload != MAEL_KAFKA || fc->last_poll_empty))
						break;
					if (o->workload == MAEL_KAFKA && !fc->has_assignment)
						kafka_from_start(fc);
					if (mael_issue(h, fc, true, true))
						return -EIO;
				}
				mael_pump(h, 10);
				mael_expire(h);
			}
		}
	}
	return 0;
}
