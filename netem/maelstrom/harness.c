// SPDX-License-Identifier: GPL-2.0-only
/* capnet maelstrom test: builds a lab, runs a Maelstrom workload's clients against unmodified
 * node programs through the shims, draws faults from the nemesis, checks the history with the
 * workload's checker, writes what Maelstrom writes into store/, and tears the lab down. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/progress.h"
#include "lib/files.h"
#include "lib/json.h"
#include "lib/rng.h"
#include "netem/filter/filter.h"
#include "netem/maelstrom/faults.h"
#include "netem/maelstrom/lost.h"
#include "netem/maelstrom/maelstrom.h"
#include "netem/maelstrom/plots.h"
#include "netem/maelstrom/services.h"
#include "netem/lab/topology.h"
#include "tools/check/maelstrom_check.h"
#include "tools/check/txn_check.h"

struct options {
	enum mael_workload workload;
	char **argv; /* the node program and its arguments */
	unsigned int nodes, concurrency;
	double time_limit, rate, nemesis_interval, latency_ms, timeout_s, final_wait;
	unsigned int nemesis; /* bits of enum nemesis_kind */
	char nemesis_text[64]; /* as given */
	bool keep, log_stderr, availability_total;
	bool quiet; /* capnet -q: no progress line */
	const char *topology;
	uint64_t seed; /* of the operations and the nemesis's schedule */
	bool has_seed;
	unsigned int models; /* txn workloads: bits of enum txn_model */
	char models_text[160];
};

/* kafka: the keys "0" .. "7"; txn: keys in play at once, each retired after 16 writes, as
 * Maelstrom's --key-count and --max-writes-per-key have them; transactions of 1 to 4 steps. */
enum { KAFKA_KEYS = 8, TXN_KEYS = 5, TXN_WRITES_PER_KEY = 16, TXN_MAX_LENGTH = 4 };

/* One shim, as the harness sees it. */
struct shim_conn {
	int fd;
	pid_t pid;
	char *in;
	size_t in_len, in_cap;
	bool eof, init_ok, topology_ok;
	int exit_status; /* -1 while running */
	uint64_t sent, received;
	uint64_t forged, repeated; /* datagrams its shim refused */
};

/* A client: one request outstanding, as in Maelstrom. */
struct client {
	unsigned int id; /* c<id> */
	unsigned int node;
	uint64_t process;
	bool busy;
	uint64_t msg_id, next_msg_id;
	size_t op; /* the op it waits for */
	uint64_t deadline;
	/* kafka: the keys assigned and where the next poll of each starts, as Jepsen's client
	 * keeps them; a commit of what the last poll read, owed before anything else. */
	bool assigned[KAFKA_KEYS], asked[KAFKA_KEYS], positioned[KAFKA_KEYS];
	int64_t next_offset[KAFKA_KEYS];
	bool has_assignment, last_poll_empty;
	char commit[256];
};

struct op_store {
	struct mael_op *ops;
	size_t n, cap;
	char **owned; /* strings the ops point at */
	size_t n_owned, cap_owned;
};

struct harness {
	const struct options *o;
	struct progress line; /* on a terminal, while the test runs */
	char lab[LAB_NAME_MAX + 1];
	char self[PATH_MAX];
	char store[PATH_MAX];
	struct shim_conn shims[MAEL_MAX_NODES];
	struct client *clients;
	unsigned int n_clients;
	struct op_store st;
	uint64_t t0, next_process, next_value;
	uint64_t started_ns, cluster_ns; /* the command's start; when every node said init_ok */
	uint64_t rng;
	FILE *faults;
	struct mael_services *services;
	struct filter *filter; /* for its drop events */
	struct mael_drop *drops;
	size_t n_drops, cap_drops;
	uint64_t other_drops; /* frames dropped that were no numbered message */
	struct mael_lost_report lost;
	struct mael_sent *sent;
	size_t n_sent;
	struct mael_band bands[512]; /* the fault windows, for the pictures */
	size_t n_bands;
	bool band_open;
	uint64_t end_ns; /* the test's length, for the pictures */
	uint64_t next_gossip;
	uint64_t txn_key[TXN_KEYS], txn_written[TXN_KEYS], next_txn_key;
	struct mael_faults nemesis; /* the schedule, drawn from the seed */
	char bad[512]; /* a shim's complaint: the run stops */
	bool stopping; /* the shims were told to stop */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The first complaint stops the run and is what the run reports. */
static void bad(struct harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	if (h->bad[0])
		return;
	va_start(ap, fmt);
	vsnprintf(h->bad, sizeof(h->bad), fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

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

/* Runs this capnet again with --lab and args; its exit status. quiet: its output discarded. */
static int capnet(struct harness *h, bool quiet, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int capnet(struct harness *h, bool quiet, const char *fmt, ...)
{
	char cmd[PATH_MAX + 1024];
	va_list ap;
	int n, rc;

	n = snprintf(cmd, sizeof(cmd), "'%s' --lab '%s' ", h->self, h->lab);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	if (quiet)
		strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	fflush(stdout);
	rc = system(cmd);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

/* One line of faults.jsonl, and the picture's band: a fault opens it, its heal closes it. */
static void fault(struct harness *h, const char *f, const char *value, const char *command)
{
	uint64_t t = now_ns() - h->t0;
	bool heal = !strcmp(f, "heal") || !strcmp(f, "restart") || !strcmp(f, "resume");

	if (heal && h->band_open) {
		h->bands[h->n_bands - 1].to_ns = t;
		h->band_open = false;
	} else if (!heal && !h->band_open && h->n_bands < sizeof(h->bands) / sizeof(h->bands[0])) {
		struct mael_band *b = &h->bands[h->n_bands++];

		*b = (struct mael_band){ .from_ns = t, .to_ns = t };
		snprintf(b->label, sizeof(b->label), "%s %s", f, value);
		h->band_open = true;
	}
	if (!h->faults)
		return;
	/* Seconds from the test's start, as lost.jsonl's and every capnet file's times. */
	fprintf(h->faults, "{\"time\":%.9f,\"f\":\"%s\",\"value\":", t / 1e9, f);
	json_write_string(h->faults, value);
	fputs(",\"command\":", h->faults);
	json_write_string(h->faults, command);
	fputs("}\n", h->faults);
	fflush(h->faults);
}

static int send_line(struct harness *h, unsigned int node, const char *line)
{
	size_t n = strlen(line), done = 0;

	/* Blocking: a shim always reads its harness side. */
	while (done < n) {
		ssize_t k = write(h->shims[node].fd, line + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EIO;
		done += (size_t)k;
	}
	return write(h->shims[node].fd, "\n", 1) == 1 ? 0 : -EIO;
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
	return send_line(h, node, line);
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

static const char *request_type(enum mael_workload w, const struct mael_op *op)
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
static int issue(struct harness *h, struct client *c, bool read, bool final)
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
	op->invoke_ns = now_ns() - h->t0;
	c->deadline = now_ns() + (uint64_t)(o->timeout_s * 1e9);
	return send_request(h, c->id, c->node, c->msg_id, request_type(o->workload, op), extra);
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

static void complete(struct harness *h, struct client *c, const struct json_value *body)
{
	struct mael_op *op = &h->st.ops[c->op];
	const struct json_value *type = json_member(body, "type"), *v;
	char want[32];
	uint64_t code = 13;

	snprintf(want, sizeof(want), "%s_ok", request_type(h->o->workload, op));
	op->complete_ns = now_ns() - h->t0;
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

static int handle_line(struct harness *h, unsigned int node, char *line)
{
	const struct json_value *dest, *body, *irt, *type;
	struct json_value root;
	uint64_t reply_to;
	int k;

	if (line[0] == '!') {
		char who[16];
		unsigned long long a, b, f, r;
		int st;

		if (sscanf(line, "!stats %15s sent %llu received %llu forged %llu repeated %llu",
			   who, &a, &b, &f, &r) == 5) {
			h->shims[node].sent = a;
			h->shims[node].received = b;
			h->shims[node].forged = f;
			h->shims[node].repeated = r;
		} else if (sscanf(line, "!exit %15s %d", who, &st) == 2) {
			/* Only a program that ended on its own says this: the nemesis's kills and
			 * the harness's stop do not. */
			h->shims[node].exit_status = st;
			bad(h, "n%u exited with status %d during the run", node, st);
		} else if (!strncmp(line, "!bad ", 5)) {
			bad(h, "%s", line + 5);
		}
		return 0;
	}
	if (json_parse(line, strlen(line), 64, &root, NULL)) {
		bad(h, "n%u sent a line that is not JSON: %.200s", node, line);
		return -EINVAL;
	}
	dest = json_member(&root, "dest");
	body = json_member(&root, "body");
	type = body ? json_member(body, "type") : NULL;
	irt = body ? json_member(body, "in_reply_to") : NULL;
	if (!dest || dest->kind != JSON_STRING || !body || body->kind != JSON_OBJECT) {
		bad(h, "n%u sent a message without dest or body: %.200s", node, line);
		json_value_free(&root);
		return -EINVAL;
	}
	if (!strcmp(dest->str, "c0") && type && type->kind == JSON_STRING) {
		/* The harness's own requests: init and topology. */
		if (!strcmp(type->str, "init_ok"))
			h->shims[node].init_ok = true;
		else if (!strcmp(type->str, "topology_ok"))
			h->shims[node].topology_ok = true;
	} else if ((k = mael_id_parse(dest->str, 'c', h->n_clients + 1)) > 0) {
		if (irt && json_is_u64(irt, &reply_to) && h->clients[k - 1].busy &&
		    h->clients[k - 1].msg_id == reply_to)
			complete(h, &h->clients[k - 1], body);
		/* Anything else is a late answer to a request already given up: dropped. */
	} else if (mael_service_parse(dest->str) >= 0) {
		const struct json_value *mid = json_member(body, "msg_id");
		char *answer = NULL;
		uint64_t id;

		if (mid && json_is_u64(mid, &id) &&
		    !mael_services_handle(h->services, mael_service_parse(dest->str), node, body,
					  now_ns(), &answer)) {
			/* The answer's body with in_reply_to put in front of its members. */
			char *reply = NULL;
			int n = asprintf(
				&reply,
				"{\"src\":\"%s\",\"dest\":\"n%u\",\"body\":{\"in_reply_to\":"
				"%llu,%s}",
				dest->str, node, (unsigned long long)id, answer + 1);

			if (n > 0)
				send_line(h, node, reply);
			free(reply);
		}
		free(answer);
	} else {
		/* A client, node or service this test does not have: the program's mistake. */
		bad(h,
		    "n%u sent a message to \"%.40s\", which names no node, client or service in "
		    "this test: %.200s",
		    node, dest->str, line);
	}
	json_value_free(&root);
	return 0;
}

/* One frame the filter dropped: if it starts a numbered message between shims, which one. */
static int on_drop(const struct capnet_drop_event *ev, void *arg)
{
	struct harness *h = arg;
	uint64_t seq;
	size_t start;

	if (ev->ip_proto != 17 || ev->dport != MAEL_SHIM_PORT || !ev->src || !ev->dst ||
	    ev->src > h->o->nodes || ev->dst > h->o->nodes ||
	    (ev->reason != CAPNET_DROP_PARTITION && ev->reason != CAPNET_DROP_LOSS) ||
	    mael_wire_parse((const char *)ev->payload, ev->payload_len, &seq, &start)) {
		h->other_drops++;
		return 0;
	}
	if (h->n_drops == h->cap_drops) {
		size_t cap = h->cap_drops ? 2 * h->cap_drops : 4096;
		struct mael_drop *d = realloc(h->drops, cap * sizeof(*d));

		if (!d)
			return 0;
		h->drops = d;
		h->cap_drops = cap;
	}
	h->drops[h->n_drops++] = (struct mael_drop){
		.src = ev->src - 1u,
		.dest = ev->dst - 1u,
		.seq = seq,
		.time_ns = ev->time_ns,
		.cause = ev->reason == CAPNET_DROP_PARTITION ? MAEL_LOST_PARTITION : MAEL_LOST_LOSS,
	};
	return 0;
}

/* Reads whatever the shims sent; handles whole lines. */
static void pump(struct harness *h, int timeout_ms)
{
	struct pollfd p[MAEL_MAX_NODES];
	unsigned int i;

	for (i = 0; i < h->o->nodes; i++)
		p[i] = (struct pollfd){ .fd = h->shims[i].eof ? -1 : h->shims[i].fd,
					.events = POLLIN };
	if (h->filter)
		filter_events_poll(h->filter, 0, on_drop, h);
	if (poll(p, h->o->nodes, timeout_ms) <= 0)
		return;
	for (i = 0; i < h->o->nodes; i++) {
		struct shim_conn *s = &h->shims[i];
		char *nl, *start;
		ssize_t k;

		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (s->in_cap - s->in_len < 65536) {
			size_t cap = s->in_cap ? 2 * s->in_cap : 262144;
			char *b = realloc(s->in, cap);

			if (!b)
				continue;
			s->in = b;
			s->in_cap = cap;
		}
		k = read(s->fd, s->in + s->in_len, s->in_cap - s->in_len - 1);
		if (k <= 0) {
			if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				s->eof = true;
				/* A shim closes only when told to, or after its "!exit". */
				if (!h->stopping)
					bad(h, "n%u's shim stopped", i);
			}
			continue;
		}
		s->in_len += (size_t)k;
		start = s->in;
		while ((nl = memchr(start, '\n', s->in_len - (size_t)(start - s->in)))) {
			*nl = 0;
			if (*start)
				handle_line(h, i, start);
			start = nl + 1;
		}
		memmove(s->in, start, s->in_len - (size_t)(start - s->in));
		s->in_len -= (size_t)(start - s->in);
	}
}

/* Requests past their timeout: unknown outcome, a new process. */
static void expire(struct harness *h)
{
	uint64_t now = now_ns();

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
static int topology_json(const struct options *o, char *buf, size_t len)
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

/* Waits until every shim says ok to one of the harness's requests (or gives up). */
static int wait_all(struct harness *h, bool topology, double seconds)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	unsigned int i;

	for (;;) {
		unsigned int ready = 0;

		for (i = 0; i < h->o->nodes; i++)
			ready += topology ? h->shims[i].topology_ok : h->shims[i].init_ok;
		if (ready == h->o->nodes)
			return 0;
		for (i = 0; i < h->o->nodes; i++)
			if (h->shims[i].eof || h->shims[i].exit_status >= 0 || h->bad[0])
				return -ECHILD;
		if (now_ns() >= end || interrupted)
			return -ETIMEDOUT;
		pump(h, 20);
	}
}

static int start_shims(struct harness *h, const struct lab_config *cfg)
{
	const struct options *o = h->o;
	struct mael_shim s = { .nodes = o->nodes, .argv = o->argv, .log_stderr = o->log_stderr };
	char log[PATH_MAX + 32], net_log[PATH_MAX + 32], ns[64];

	for (unsigned int i = 0; i < o->nodes; i++)
		s.addrs[i] = lab_node_addr(cfg, i + 1);
	for (unsigned int i = 0; i < o->nodes; i++) {
		int sv[2];
		pid_t pid;

		h->shims[i].exit_status = -1;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return -errno;
		lab_node_ns(h->lab, i + 1, ns, sizeof(ns));
		snprintf(log, sizeof(log), "%s/n%u.log", h->store, i);
		snprintf(net_log, sizeof(net_log), "%s/net-n%u.log", h->store, i);
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			int saved;

			close(sv[0]);
			signal(SIGINT, SIG_IGN);
			saved = netns_enter(ns);
			if (saved < 0)
				_exit(126);
			close(saved);
			s.index = i;
			s.harness_fd = sv[1];
			s.log_path = log;
			s.net_log_path = net_log;
			_exit(mael_shim_run(&s));
		}
		close(sv[1]);
		h->shims[i].fd = sv[0];
		h->shims[i].pid = pid;
	}
	return 0;
}

static void stop_shims(struct harness *h)
{
	uint64_t end = now_ns() + 3000000000ull;
	unsigned int i, open;

	h->stopping = true;
	for (i = 0; i < h->o->nodes; i++)
		if (h->shims[i].pid)
			shutdown(h->shims[i].fd, SHUT_WR);
	/* Read their last words (exit status, message counts) until they close. */
	do {
		pump(h, 50);
		for (i = 0, open = 0; i < h->o->nodes; i++)
			open += h->shims[i].pid && !h->shims[i].eof;
	} while (open && now_ns() < end);
	for (i = 0; i < h->o->nodes; i++) {
		if (!h->shims[i].pid)
			continue;
		kill(h->shims[i].pid, SIGKILL);
		waitpid(h->shims[i].pid, NULL, 0);
		close(h->shims[i].fd);
		free(h->shims[i].in);
	}
}

/* One step of the nemesis's schedule: a partition or heal on the filter, or a kill, pause,
 * restart or resume of some nodes' programs by their shims. */
static void nemesis_step(struct harness *h, const struct nemesis_step *step)
{
	const char *cmd = step->command;
	char word[16] = "", names[MAEL_MAX_NODES * 6] = "";
	bool victims[MAEL_MAX_NODES];
	int rc;

	sscanf(cmd, "%15s", word);
	if (!strcmp(word, "partition") || !strcmp(word, "heal")) {
		rc = mael_switch(h->lab, h->o->nodes, cmd, names, sizeof(names));
		if (rc) {
			bad(h, "the nemesis's \"%s\": %s", cmd, error_reason(rc));
			return;
		}
		fault(h, word, names, cmd);
		return;
	}
	rc = mael_nodes_of(cmd, h->o->nodes, victims, names, sizeof(names));
	if (rc) {
		bad(h, "%s", error_reason(rc));
		return;
	}
	for (unsigned int i = 0; i < h->o->nodes; i++) {
		char line[24];

		snprintf(line, sizeof(line), "!%s", word);
		if (victims[i])
			send_line(h, i, line);
	}
	fault(h, word, names, cmd);
}

/* The test proper: init, topology, the load under the nemesis, then the final reads. */
static int run_test(struct harness *h)
{
	const struct options *o = h->o;
	uint64_t end, next_op;
	double interval = o->rate > 0 ? 1e9 / o->rate : 0;
	size_t step = 0; /* the next step of the nemesis: odd while a fault is on */
	bool has_final = (o->workload >= MAEL_BROADCAST && o->workload <= MAEL_PN_COUNTER) ||
			 o->workload == MAEL_KAFKA;
	char line[65536], ids[4096];
	unsigned int i, used = 0;
	int rc;

	for (i = 0; i < o->nodes; i++)
		used += snprintf(ids + used, sizeof(ids) - used, "%s\"n%u\"", i ? "," : "", i);
	for (i = 0; i < o->nodes; i++) {
		snprintf(
			line, sizeof(line),
			"{\"src\":\"c0\",\"dest\":\"n%u\",\"body\":{\"type\":\"init\",\"msg_id\":1,"
			"\"node_id\":\"n%u\",\"node_ids\":[%s]}}",
			i, i, ids);
		if (send_line(h, i, line))
			return -EIO;
	}
	rc = wait_all(h, false, 10);
	h->cluster_ns = now_ns();
	if (rc) {
		for (i = 0; i < o->nodes && h->shims[i].init_ok; i++)
			;
		if (!h->bad[0])
			snprintf(h->bad, sizeof(h->bad), "n%u %s", i,
				 rc == -ETIMEDOUT ? "never answered init with init_ok within 10 s" :
						    "exited before answering init");
		return rc;
	}
	if (o->workload == MAEL_BROADCAST) {
		char topo[32768];

		if (topology_json(o, topo, sizeof(topo)))
			return -ENOSPC;
		for (i = 0; i < o->nodes; i++) {
			snprintf(line, sizeof(line),
				 "{\"src\":\"c0\",\"dest\":\"n%u\",\"body\":{\"type\":\"topology\","
				 "\"msg_id\":2,\"topology\":%s}}",
				 i, topo);
			if (send_line(h, i, line))
				return -EIO;
		}
		rc = wait_all(h, true, 10);
		if (rc) {
			if (!h->bad[0])
				snprintf(h->bad, sizeof(h->bad),
					 "a node never answered topology with topology_ok");
			return rc;
		}
	}
	h->t0 = now_ns();
	end = h->t0 + (uint64_t)(o->time_limit * 1e9);
	next_op = h->t0;
	progress_start(&h->line, o->quiet);
	while (now_ns() < end && !interrupted && !h->bad[0]) {
		uint64_t now = now_ns();

		if (progress_due(&h->line))
			progress_show(&h->line, "maelstrom: %.1f of %g s, %zu history events%s%s",
				      (now - h->t0) / 1e9, o->time_limit, h->st.n,
				      step % 2 ? ", fault: " : "",
				      step % 2 ? h->nemesis.steps[step - 1].command : "");
		/* The schedule starts one interval in, after a healthy stretch, as Maelstrom's. */
		if (step < h->nemesis.n && now >= h->t0 + (uint64_t)((h->nemesis.steps[step].at_ms +
								      o->nemesis_interval * 1000) *
								     1e6))
			nemesis_step(h, &h->nemesis.steps[step++]);
		/* One operation per interval, to a client that is free: a busy system does not get
		 * a burst when it answers again. */
		while (now >= next_op) {
			unsigned int start = (unsigned int)(rng_next(&h->rng) % h->n_clients), k;

			for (k = 0; k < h->n_clients; k++) {
				struct client *c = &h->clients[(start + k) % h->n_clients];
				bool read = has_final && rng_next(&h->rng) % 4 == 0;

				/* lin-kv draws its own mix of reads, writes and cas. */

				if (c->busy)
					continue;
				if (issue(h, c, read, false))
					return -EIO;
				break;
			}
			next_op += interval ? (uint64_t)interval : 1000000;
			if (next_op < now)
				next_op = now;
			if (!interval)
				break;
		}
		pump(h, 1);
		expire(h);
		if (now >= h->next_gossip) {
			mael_services_gossip(h->services);
			h->next_gossip = now + 100000000ull;
		}
	}
	progress_end(&h->line);
	if (step % 2)
		nemesis_step(h, &h->nemesis.steps[step]);
	/* What is still asked gets its time to answer. */
	for (end = now_ns() + (uint64_t)(o->timeout_s * 1e9) + 100000000ull;
	     now_ns() < end && !h->bad[0];) {
		bool busy = false;

		for (i = 0; i < h->n_clients; i++)
			busy |= h->clients[i].busy;
		if (!busy)
			break;
		pump(h, 10);
		expire(h);
	}
	if (!has_final || h->bad[0] || interrupted)
		return 0;
	/* Time to converge, then a final read of every node, asked again until it answers. */
	for (end = now_ns() + (uint64_t)(o->final_wait * 1e9); now_ns() < end && !h->bad[0];)
		pump(h, 50);
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
			uint64_t give_up = now_ns() + 10000000000ull;

			while (now_ns() < give_up && !h->bad[0] && !interrupted) {
				if (!fc->busy) {
					/* kafka's final reads poll every key from 0 until a poll
					 * brings nothing more. */
					if (fc->next_msg_id &&
					    h->st.ops[fc->op].outcome == MAEL_OK &&
					    (o->workload != MAEL_KAFKA || fc->last_poll_empty))
						break;
					if (o->workload == MAEL_KAFKA && !fc->has_assignment)
						kafka_from_start(fc);
					if (issue(h, fc, true, true))
						return -EIO;
				}
				pump(h, 10);
				expire(h);
			}
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	size_t ok, fail, info, total;
	double p50, p95, p99, max; /* ms, ok operations */
	uint64_t messages;
	uint64_t forged, repeated; /* datagrams the shims refused */
	double availability;
};

static void summarize(const struct harness *h, struct summary *s)
{
	uint64_t *lat = malloc((h->st.n ? h->st.n : 1) * sizeof(*lat));
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < h->st.n; i++) {
		const struct mael_op *op = &h->st.ops[i];

		if (op->final)
			continue;
		s->total++;
		if (op->outcome == MAEL_OK) {
			s->ok++;
			if (lat)
				lat[n++] = op->complete_ns - op->invoke_ns;
		} else if (op->outcome == MAEL_FAIL) {
			s->fail++;
		} else {
			s->info++;
		}
	}
	if (lat && n) {
		qsort(lat, n, sizeof(*lat), cmp_u64);
		s->p50 = lat[(n - 1) * 50 / 100] / 1e6;
		s->p95 = lat[(n - 1) * 95 / 100] / 1e6;
		s->p99 = lat[(n - 1) * 99 / 100] / 1e6;
		s->max = lat[n - 1] / 1e6;
	}
	free(lat);
	for (unsigned int i = 0; i < h->o->nodes; i++) {
		s->messages += h->shims[i].sent;
		s->forged += h->shims[i].forged;
		s->repeated += h->shims[i].repeated;
	}
	s->availability = s->total ? (double)s->ok / s->total : 0;
}

/* The shims' message logs against the filter's drops: which messages were lost, and why;
 * written to lost.jsonl, one message a line, in time order. */
static int find_lost(struct harness *h)
{
	struct mael_recv *recv = NULL;
	size_t n_recv = 0, cap_recv = 0, cap_sent = 0;
	char path[PATH_MAX + 32], line[256];
	FILE *f;
	int err;

	if (h->filter)
		filter_events_poll(h->filter, 0, on_drop, h);
	for (unsigned int i = 0; i < h->o->nodes; i++) {
		snprintf(path, sizeof(path), "%s/net-n%u.log", h->store, i);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long seq, t;
			long long id, irt;
			unsigned int peer;
			char type[40];

			if (n_recv == cap_recv || h->n_sent == cap_sent) {
				size_t cr = cap_recv ? 2 * cap_recv : 4096,
				       cs = cap_sent ? 2 * cap_sent : 4096;
				struct mael_recv *r = realloc(recv, cr * sizeof(*r));
				struct mael_sent *m = r ? realloc(h->sent, cs * sizeof(*m)) : NULL;

				if (r)
					recv = r;
				if (!r || !m) {
					fclose(f);
					free(recv);
					return -ENOMEM;
				}
				h->sent = m;
				cap_recv = cr;
				cap_sent = cs;
			}
			if (sscanf(line, "s %llu %llu %u %39s %lld %lld", &seq, &t, &peer, type,
				   &id, &irt) == 6 &&
			    peer < h->o->nodes) {
				struct mael_sent *m = &h->sent[h->n_sent++];

				*m = (struct mael_sent){ .src = i,
							 .dest = peer,
							 .seq = seq,
							 .time_ns = t,
							 .msg_id = id,
							 .in_reply_to = irt };
				snprintf(m->type, sizeof(m->type), "%s", type);
			} else if ((line[0] == 'r' || line[0] == 'd') &&
				   sscanf(line + 1, " %u %llu %llu", &peer, &seq, &t) == 3) {
				recv[n_recv++] = (struct mael_recv){ .src = peer,
								     .seq = seq,
								     .time_ns = t,
								     .node_down = line[0] == 'd' };
			}
		}
		fclose(f);
	}
	err = mael_lost_find(h->sent, h->n_sent, recv, n_recv, h->drops, h->n_drops,
			     h->t0 + h->end_ns, &h->lost);
	free(recv);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/lost.jsonl", h->store);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < h->lost.n_lost; i++) {
		const struct mael_lost *l = &h->lost.lost[i];

		fprintf(f,
			"{\"time\":%.6f,\"src\":\"n%u\",\"dest\":\"n%u\",\"seq\":%llu,"
			"\"type\":\"%s\",\"msg_id\":%lld,\"in_reply_to\":%lld,\"cause\":\"%s\"}\n",
			((double)l->time_ns - (double)h->t0) / 1e9, l->m->src, l->m->dest,
			(unsigned long long)l->m->seq, l->m->type, (long long)l->m->msg_id,
			(long long)l->m->in_reply_to, mael_loss_cause_name(l->cause));
	}
	return fclose(f) ? -errno : 0;
}

/* messages.svg and latency.svg in the store. */
static void draw(struct harness *h)
{
	char path[PATH_MAX + 32], title[128];
	struct mael_plot_input in = {
		.nodes = h->o->nodes,
		.t0_ns = h->t0,
		.end_ns = h->end_ns,
		.bands = h->bands,
		.n_bands = h->n_bands,
		.sent = h->sent,
		.n_sent = h->n_sent,
		.lost = &h->lost,
		.ops = h->st.ops,
		.n_ops = h->st.n,
		.title = title,
		.workload = h->o->workload,
	};
	FILE *f;

	snprintf(title, sizeof(title), "%s on %u nodes", mael_workload_name(h->o->workload),
		 h->o->nodes);
	snprintf(path, sizeof(path), "%s/messages.svg", h->store);
	f = fopen(path, "w");
	if (f) {
		mael_plot_messages(f, &in);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/latency.svg", h->store);
	f = fopen(path, "w");
	if (f) {
		mael_plot_latency(f, &in);
		fclose(f);
	}
}

static void write_history(const struct harness *h, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	if (h->o->workload == MAEL_LIN_KV) {
		/* capnet's own history format: capctl check --model register reads it again. */
		struct history kv;

		if (!mael_kv_history(h->st.ops, h->st.n, &kv)) {
			for (size_t i = 0; i < kv.n_events; i++)
				history_write_event(f, &kv.events[i]);
			history_free(&kv);
		}
		fclose(f);
		return;
	}
	for (size_t i = 0; i < h->st.n; i++) {
		const struct mael_op *op = &h->st.ops[i];

		fprintf(f,
			"{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"node\":\"n%u\","
			"\"final\":%s,\"invoke_ns\":%llu,\"complete_ns\":%llu",
			(unsigned long long)op->process,
			op->outcome == MAEL_OK	 ? "ok" :
			op->outcome == MAEL_FAIL ? "fail" :
						   "info",
			request_type(h->o->workload, op), op->node, op->final ? "true" : "false",
			(unsigned long long)op->invoke_ns, (unsigned long long)op->complete_ns);
		if (op->key)
			fprintf(f, ",\"key\":%s", op->key);
		if (op->arg)
			fprintf(f, ",\"value\":%s", op->arg);
		if ((h->o->workload == MAEL_G_COUNTER || h->o->workload == MAEL_PN_COUNTER) &&
		    !op->read)
			fprintf(f, ",\"value\":%lld", (long long)op->delta);
		if (op->result)
			fprintf(f, ",\"result\":%s", op->result);
		if (op->elements) {
			fputs(",\"result\":[", f);
			for (size_t k = 0; k < op->n_elements; k++)
				fprintf(f, "%s%s", k ? "," : "", op->elements[k]);
			fputc(']', f);
		}
		fputs("}\n", f);
	}
	fclose(f);
}

static void report(const struct harness *h, const struct summary *s, const struct mael_result *r,
		   bool valid, const char *why_invalid)
{
	char path[PATH_MAX + 32];
	FILE *f;

	printf("\n%s on %u node%s, %g s at %.4g ops/s%s%s (lab %s, seed %llu)\n",
	       mael_workload_name(h->o->workload), h->o->nodes, h->o->nodes == 1 ? "" : "s",
	       h->o->time_limit, h->o->rate, h->o->nemesis ? ", nemesis " : "", h->o->nemesis_text,
	       h->lab, (unsigned long long)h->o->seed);
	printf("  operations: %zu ok, %zu fail, %zu info (availability %.3f)\n", s->ok, s->fail,
	       s->info, s->availability);
	printf("  latency of ok operations (ms): p50 %.2f, p95 %.2f, p99 %.2f, max %.2f\n", s->p50,
	       s->p95, s->p99, s->max);
	printf("  messages between nodes: %llu (%.2f per operation)\n",
	       (unsigned long long)s->messages, s->total ? (double)s->messages / s->total : 0);
	printf("  messages lost between nodes: %zu of %zu (partition %zu, loss %zu, node killed "
	       "%zu, not dropped by the filter %zu)\n",
	       h->lost.n_lost, h->lost.sent, h->lost.by_cause[MAEL_LOST_PARTITION],
	       h->lost.by_cause[MAEL_LOST_LOSS], h->lost.by_cause[MAEL_LOST_NODE_DOWN],
	       h->lost.by_cause[MAEL_LOST_ELSEWHERE]);
	printf("  datagrams the shims refused: %llu forged (not from a peer shim's address and "
	       "port, or not its own message), %llu repeated\n",
	       (unsigned long long)s->forged, (unsigned long long)s->repeated);
	if (h->lost.in_flight)
		printf("    and %zu sent after the test's end, still in flight as the nodes "
		       "stopped\n",
		       h->lost.in_flight);
	for (size_t i = 0; i < h->lost.n_lost && i < 5; i++) {
		const struct mael_lost *l = &h->lost.lost[i];

		printf("    %8.3f s  n%u -> n%u  %s", ((double)l->time_ns - (double)h->t0) / 1e9,
		       l->m->src, l->m->dest, l->m->type);
		if (l->m->msg_id >= 0)
			printf(" msg_id %lld", (long long)l->m->msg_id);
		if (l->m->in_reply_to >= 0)
			printf(" in_reply_to %lld", (long long)l->m->in_reply_to);
		printf("  (%s)\n", mael_loss_cause_name(l->cause));
	}
	if (h->lost.n_lost > 5)
		printf("    ... every one in %s/lost.jsonl\n", h->store);
	printf("  checker: %s\n", r->summary);
	for (size_t i = 0; i < r->n_evidence; i++)
		printf("    %s\n", r->evidence[i]);
	if (r->problems > r->n_evidence)
		printf("    ... and %zu more\n", r->problems - r->n_evidence);
	if (why_invalid)
		printf("  %s\n", why_invalid);
	printf("  results, history, node logs and faults in %s\n", h->store);
	printf("%s\n", valid ? "Everything looks good!" : "Analysis invalid!");
	snprintf(path, sizeof(path), "%s/results.json", h->store);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"{\"valid\":%s,\"seed\":%llu,\"workload\":\"%s\",\"nodes\":%u,\"time_limit_s\":%g,\"rate\":%g,"
		"\"nemesis\":\"%s\",\"consistency_models\":\"%s\",\"ok\":%zu,\"fail\":%zu,\"info\":%zu,\"availability\":%.4f,"
		"\"latency_ms\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		"\"setup_s\":%.3f,\"messages\":%llu,\"messages_per_op\":%.3f,\"lost\":{\"total\":%zu,"
		"\"partition\":%zu,\"loss\":%zu,\"node_killed\":%zu,\"elsewhere\":%zu},"
		"\"refused\":{\"forged\":%llu,\"repeated\":%llu},\"checker\":",
		valid ? "true" : "false", (unsigned long long)h->o->seed,
		mael_workload_name(h->o->workload), h->o->nodes, h->o->time_limit, h->o->rate,
		h->o->nemesis_text, h->o->models_text, s->ok, s->fail, s->info, s->availability,
		s->p50, s->p95, s->p99, s->max, (h->cluster_ns - h->started_ns) / 1e9,
		(unsigned long long)s->messages, s->total ? (double)s->messages / s->total : 0,
		h->lost.n_lost, h->lost.by_cause[MAEL_LOST_PARTITION],
		h->lost.by_cause[MAEL_LOST_LOSS], h->lost.by_cause[MAEL_LOST_NODE_DOWN],
		h->lost.by_cause[MAEL_LOST_ELSEWHERE], (unsigned long long)s->forged,
		(unsigned long long)s->repeated);
	json_write_string(f, r->summary);
	fputs(",\"evidence\":[", f);
	for (size_t i = 0; i < r->n_evidence; i++) {
		fputs(i ? "," : "", f);
		json_write_string(f, r->evidence[i]);
	}
	fputs("]}\n", f);
	fclose(f);
}

#define WORKLOADS                                                                    \
	"echo, unique-ids, broadcast, g-set, g-counter, pn-counter, lin-kv, kafka, " \
	"txn-list-append, txn-rw-register"
#define MODELS                                                                    \
	"read-uncommitted, read-committed, snapshot-isolation, repeatable-read, " \
	"serializable, strict-serializable"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: capnet [--lab NAME] maelstrom test -w WORKLOAD --bin PROGRAM [ARG...]\n"
		"         [--node-count N] [--time-limit S] [--rate R] [--concurrency C|Kn]\n"
		"         [--latency MS] [--nemesis partition,kill,pause] [--nemesis-interval S]\n"
		"         [--topology grid|line|total|tree2|tree3|tree4] [--availability total|F]\n"
		"         [--consistency-models MODEL[,MODEL...]]\n"
		"         [--timeout S] [--seed N] [--log-stderr] [--keep]\n"
		"  workloads: " WORKLOADS "\n"
		"  consistency models (txn workloads; default strict-serializable):\n"
		"    " MODELS "\n"
		"  services nodes may call: lin-kv, seq-kv, lww-kv, lin-tso\n"
		"  Builds a lab of N nodes (the --lab name, else a fresh one), runs PROGRAM as n0..n(N-1)\n"
		"  with Maelstrom's protocol, its messages between nodes as UDP through the lab's\n"
		"  filter, checks the history and tears the lab down (--keep leaves it up).\n"
		"  Exit status: 0 valid, 1 invalid, 2 usage or set-up error.\n");
}

static int parse_number(const char *opt, const char *v, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = v ? strtod(v, &end) : 0;
	if (!v || errno || end == v || *end || *out < min || *out > max)
		return report_usage("maelstrom: %s needs a number from %g to %g%s%s%s", opt, min,
				    max, v ? ", not \"" : "", v ? v : "", v ? "\"" : "");
	return 0;
}

/* The options of maelstrom test: after --bin PROGRAM, every other word is the program's. */
static bool known_option(const char *w)
{
	static const char *const names[] = { "-w",
					     "--workload",
					     "--bin",
					     "--node-count",
					     "--time-limit",
					     "--rate",
					     "--concurrency",
					     "--latency",
					     "--nemesis",
					     "--nemesis-interval",
					     "--timeout",
					     "--topology",
					     "--availability",
					     "--seed",
					     "--log-stderr",
					     "--consistency-models",
					     "--keep",
					     "-h",
					     "--help" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(w, names[i]))
			return true;
	return false;
}

static int parse_options(int argc, char **argv, struct options *o, const char **concurrency)
{
	int i;

	*o = (struct options){ .workload = -1,
			       .nodes = 1,
			       .time_limit = 10,
			       .rate = 5,
			       .nemesis_interval = 10,
			       .timeout_s = 1,
			       .final_wait = 3,
			       .topology = "grid",
			       .models = 1u << TXN_STRICT_SERIALIZABLE,
			       .models_text = "strict-serializable" };
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(a, "-w") || !strcmp(a, "--workload")) {
			int w = v ? mael_workload_parse(v) : -1;

			if (w < 0)
				return report_usage("maelstrom: workload \"%s\": one of " WORKLOADS,
						    v ? v : "");
			o->workload = w;
			i++;
		} else if (!strcmp(a, "--bin")) {
			int k = 0;

			if (!v)
				return report_usage("maelstrom: --bin needs the node program");
			/* The program, then its own arguments: every word up to the next option of
			 * maelstrom test (--no-retry is the program's). */
			o->argv = calloc((size_t)argc + 1, sizeof(char *));
			if (!o->argv)
				return EXIT_FAIL;
			for (i++; i < argc && (!k || !known_option(argv[i])); i++)
				o->argv[k++] = argv[i];
			i--;
		} else if (!strcmp(a, "--node-count")) {
			if (parse_number(a, v, 1, MAEL_MAX_NODES, &d))
				return EXIT_USAGE;
			o->nodes = (unsigned int)d;
			i++;
		} else if (!strcmp(a, "--time-limit")) {
			if (parse_number(a, v, 0.1, 86400, &o->time_limit))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--rate")) {
			if (parse_number(a, v, 0.01, 1e6, &o->rate))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--concurrency")) {
			if (!v)
				return report_usage("maelstrom: --concurrency needs C or Kn");
			*concurrency = v;
			i++;
		} else if (!strcmp(a, "--latency")) {
			if (parse_number(a, v, 0, 10000, &o->latency_ms))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--nemesis")) {
			char list[64], *tok, *save = NULL;

			if (!v || strlen(v) >= sizeof(list))
				return report_usage(
					"maelstrom: --nemesis needs partition, kill, pause "
					"or a list of them (partition,kill)");
			snprintf(list, sizeof(list), "%s", v);
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (!strcmp(tok, "partition"))
					o->nemesis |= 1u << NEMESIS_PARTITION;
				else if (!strcmp(tok, "kill"))
					o->nemesis |= 1u << NEMESIS_KILL;
				else if (!strcmp(tok, "pause"))
					o->nemesis |= 1u << NEMESIS_PAUSE;
				else
					return report_usage("maelstrom: --nemesis: \"%s\" is not a "
							    "fault; known: partition, kill, pause",
							    tok);
			}
			if (!o->nemesis)
				return report_usage("maelstrom: --nemesis needs partition, kill or "
						    "pause");
			snprintf(o->nemesis_text, sizeof(o->nemesis_text), "%s", v);
			i++;
		} else if (!strcmp(a, "--nemesis-interval")) {
			if (parse_number(a, v, 0.1, 86400, &o->nemesis_interval))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--timeout")) {
			if (parse_number(a, v, 0.01, 600, &o->timeout_s))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--topology")) {
			if (!v || (strcmp(v, "grid") && strcmp(v, "line") && strcmp(v, "total") &&
				   strcmp(v, "tree2") && strcmp(v, "tree3") && strcmp(v, "tree4")))
				return report_usage(
					"maelstrom: --topology \"%s\": grid, line, total, "
					"tree2, tree3 or tree4",
					v ? v : "");
			o->topology = v;
			i++;
		} else if (!strcmp(a, "--availability")) {
			if (v && !strcmp(v, "total"))
				o->availability_total = true;
			else if (!v || strcmp(v, "0"))
				return report_usage("maelstrom: --availability \"%s\": total",
						    v ? v : "");
			i++;
		} else if (!strcmp(a, "--seed")) {
			if (parse_number(a, v, 0, 1e18, &d))
				return EXIT_USAGE;
			o->seed = (uint64_t)d;
			o->has_seed = true;
			i++;
		} else if (!strcmp(a, "--consistency-models")) {
			char list[sizeof(o->models_text)], *save = NULL, *m;

			if (!v || strlen(v) >= sizeof(list))
				return report_usage("maelstrom: --consistency-models needs a "
						    "comma-separated list of: " MODELS);
			snprintf(list, sizeof(list), "%s", v);
			o->models = 0;
			for (m = strtok_r(list, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
				int model = txn_model_parse(m);

				if (model < 0)
					return report_usage("maelstrom: consistency model \"%s\": "
							    "one of " MODELS,
							    m);
				o->models |= 1u << model;
			}
			if (!o->models)
				return report_usage("maelstrom: --consistency-models needs a "
						    "comma-separated list of: " MODELS);
			snprintf(o->models_text, sizeof(o->models_text), "%s", v);
			i++;
		} else if (!strcmp(a, "--log-stderr")) {
			o->log_stderr = true;
		} else if (!strcmp(a, "--keep")) {
			o->keep = true;
		} else {
			return report_usage(
				"maelstrom: unknown option \"%s\" (capnet maelstrom test "
				"--help)",
				a);
		}
	}
	if ((int)o->workload < 0)
		return report_usage("maelstrom: which workload? -w, one of " WORKLOADS);
	if (!o->argv || !o->argv[0])
		return report_usage("maelstrom: which node program? --bin PROGRAM");
	return 0;
}

static void free_ops(struct harness *h)
{
	for (size_t i = 0; i < h->st.n_owned; i++)
		free(h->st.owned[i]);
	free(h->st.owned);
	free(h->st.ops);
	free(h->clients);
}

/* store/latest to run (relative to store/), replaced in one rename so that it never points at
 * nothing; NULL removes it. A convenience only: a failure leaves the runs as they are. */
static void point_latest(const char *run)
{
	char tmp[64];

	if (!run) {
		unlink("store/latest");
		return;
	}
	snprintf(tmp, sizeof(tmp), "store/.latest.%d", (int)getpid());
	unlink(tmp);
	if (!symlink(run, tmp) && rename(tmp, "store/latest"))
		unlink(tmp);
}

/* A run deleted by hand leaves store/latest pointing at nothing: it goes back to the newest run
 * there is (the names of runs are times, so the greatest is the newest). */
static void repair_latest(void)
{
	char newest[2 * NAME_MAX + 2] = "", run[2 * NAME_MAX + 2];
	const char *newest_time = "";
	struct dirent *w, *r;
	struct stat st;
	DIR *store, *dir;

	if (lstat("store/latest", &st) || !stat("store/latest", &st))
		return;
	store = opendir("store");
	while (store && (w = readdir(store))) {
		if (w->d_name[0] == '.' || !strcmp(w->d_name, "latest"))
			continue;
		snprintf(run, sizeof(run), "store/%s", w->d_name);
		dir = opendir(run);
		while (dir && (r = readdir(dir))) {
			if (r->d_name[0] == '.' || strcmp(r->d_name, newest_time) <= 0)
				continue;
			snprintf(newest, sizeof(newest), "%s/%s", w->d_name, r->d_name);
			newest_time = strchr(newest, '/') + 1;
		}
		if (dir)
			closedir(dir);
	}
	if (store)
		closedir(store);
	point_latest(newest[0] ? newest : NULL);
}

/* store/<workload>/<time>/, as Maelstrom's, and store/latest pointing at it. */
static int make_store(struct harness *h)
{
	char stamp[64];
	struct timespec ts;
	struct tm tm;
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(h->store, sizeof(h->store), "store/%s/%s.%03ld",
		 mael_workload_name(h->o->workload), stamp, ts.tv_nsec / 1000000);
	err = files_mkdir_p(h->store, 0755);
	if (err)
		return err;
	point_latest(h->store + strlen("store/"));
	return 0;
}

/* What a program that exited said last on its stderr, so that the failure is read here. */
static void say_last_words(const struct harness *h, unsigned int node)
{
	char path[PATH_MAX + 32], tail[1024], *line, *save = NULL;
	char *start;

	snprintf(path, sizeof(path), "%s/n%u.log", h->store, node);
	if (h->o->log_stderr) {
		return; /* --log-stderr: it is on the terminal already */
	}
	files_read_tail(path, tail, sizeof(tail));
	/* Whole lines only: the last five. */
	start = tail;
	for (int lines = 0, i = (int)strlen(tail) - 1; i >= 0; i--)
		if (tail[i] == '\n' && ++lines == 5) {
			start = tail + i + 1;
			break;
		}
	report_warn("maelstrom: the end of n%u's stderr (%s)%s", node, path,
		    tail[0] ? ":" : ": empty");
	for (line = strtok_r(start, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "    %s\n", line);
}

static bool lab_exists(const char *lab)
{
	char ns[64], path[128];

	lab_switch_ns(lab, ns, sizeof(ns));
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	return !access(path, F_OK);
}

int cmd_maelstrom(struct cli *cli, int argc, char **argv)
{
	static struct filter_state state;
	const char *concurrency = NULL;
	struct harness h = { 0 };
	struct options o;
	struct lab_config cfg = { 0 };
	struct mael_result r;
	struct summary sum;
	char path[PATH_MAX + 32], why[160] = "";
	struct sigaction sa = { .sa_handler = on_signal };
	struct filter *filter = NULL;
	struct lab_info info;
	struct cli lab_cli;
	ssize_t n;
	bool valid;
	int rc;

	if (argc < 1 || strcmp(argv[0], "test")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	repair_latest();
	rc = parse_options(argc - 1, argv + 1, &o, &concurrency);
	o.quiet = cli->quiet;
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	/* A name without a slash is looked up on PATH by exec, which says if it is not there. */
	if (strchr(o.argv[0], '/') && access(o.argv[0], X_OK))
		return report_usage("maelstrom: --bin %s: %s", o.argv[0],
				    errno == ENOENT ? "no such file" : "not executable");
	o.concurrency = o.nodes;
	if (concurrency) {
		char *end;
		double c = strtod(concurrency, &end);

		if (*end == 'n' && !end[1])
			c *= o.nodes;
		else if (*end)
			c = 0;
		if (c < 1 || c > 1024)
			return report_usage("maelstrom: --concurrency \"%s\": a count (4) or a "
					    "multiple of the nodes (2n), up to 1024",
					    concurrency);
		o.concurrency = (unsigned int)c;
	}
	if (cli_need_root("capnet maelstrom"))
		return EXIT_USAGE;
	h.o = &o;
	h.started_ns = now_ns();
	/* Drawn when not given, and always printed and stored, so that any run replays. */
	if (!o.has_seed)
		o.seed = (now_ns() ^ (uint64_t)getpid() << 32) % 1000000000000ull;
	h.rng = o.seed;
	if (o.nemesis &&
	    mael_faults_draw(o.nemesis, o.nemesis_interval, o.time_limit - o.nemesis_interval,
			     o.seed, o.nodes, &h.nemesis))
		return report_usage("maelstrom: --nemesis: %s", error_reason(-EINVAL));
	n = readlink("/proc/self/exe", h.self, sizeof(h.self) - 1);
	if (n <= 0)
		return report_fail("maelstrom: where is this capnet? %s", strerror(errno));
	h.self[n] = 0;
	if (cli->lab_given)
		snprintf(h.lab, sizeof(h.lab), "%s", cli->lab);
	else
		snprintf(h.lab, sizeof(h.lab), "mael%d", (int)getpid());
	if (lab_exists(h.lab))
		return report_usage(
			"maelstrom: lab %s exists; a test builds its own (capnet --lab %s "
			"down, or another --lab)",
			h.lab, h.lab);
	if (make_store(&h))
		return report_fail("maelstrom: create %s: %s", h.store, strerror(errno));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal stops the run as ^C does: the lab comes down. */
	sigaction(SIGHUP, &sa, NULL);
	/* A shim that is gone is an error of the write, and its last words say why. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "%s/faults.jsonl", h.store);
	h.faults = fopen(path, "w");
	printf("maelstrom: lab %s, %u node%s, %s, seed %llu\n", h.lab, o.nodes,
	       o.nodes == 1 ? "" : "s", mael_workload_name(o.workload), (unsigned long long)o.seed);
	if (capnet(&h, false, "up -n %u > '%s/up.log' 2>&1", o.nodes, h.store)) {
		report_warn("maelstrom: the lab would not come up; see %s/up.log", h.store);
		rc = EXIT_USAGE;
		goto down;
	}
	lab_cli = *cli;
	lab_cli.lab = h.lab;
	if (cli_open_whole_lab(&lab_cli, &info, &filter) || filter_read_state(filter, &state)) {
		filter_close(filter);
		rc = EXIT_USAGE;
		goto down;
	}
	/* Kept open: its drop events say which messages the faults took. */
	h.filter = filter;
	filter_events_discard(filter);
	cfg.nodes = o.nodes;
	cfg.subnet = state.lab.subnet;
	cfg.prefix = state.lab.prefix;
	if (o.latency_ms > 0 && capnet(&h, true, "link all all --delay %gms", o.latency_ms / 2)) {
		report_warn("maelstrom: --latency: the delay line would not start");
		rc = EXIT_USAGE;
		goto down;
	}
	h.services = mael_services_new(o.nodes, h.rng ^ 0x5e41c35ull);
	if (!h.services) {
		rc = EXIT_FAIL;
		goto down;
	}
	h.n_clients = o.concurrency;
	h.next_process = o.concurrency;
	h.clients = calloc(o.concurrency, sizeof(*h.clients));
	for (unsigned int i = 0; h.clients && i < o.concurrency; i++)
		h.clients[i] = (struct client){ .id = i + 1, .node = i % o.nodes, .process = i };
	if (!h.clients || start_shims(&h, &cfg)) {
		rc = EXIT_USAGE;
		goto stop;
	}
	rc = run_test(&h);
	if (h.t0) {
		h.end_ns = now_ns() - h.t0;
		if (h.band_open)
			h.bands[h.n_bands - 1].to_ns = h.end_ns;
	}
	/* What was sent before the end gets the time to arrive: a message still on its way as
	 * the nodes stop is in flight, not lost. */
	for (uint64_t drain = now_ns() + (uint64_t)(2 * o.latency_ms * 1e6) + 200000000ull;
	     !rc && !h.bad[0] && !interrupted && now_ns() < drain;)
		pump(&h, 10);
stop:
	stop_shims(&h);
	if (interrupted) {
		report_warn("maelstrom: interrupted");
		rc = EXIT_USAGE;
		goto down;
	}
	if (h.bad[0] || rc) {
		report_warn("maelstrom: %s", h.bad[0] ? h.bad : strerror(-rc));
		for (unsigned int i = 0; i < o.nodes; i++)
			if (h.shims[i].exit_status >= 0)
				say_last_words(&h, i);
		rc = EXIT_USAGE;
		goto down;
	}
	if (mael_check_models(o.workload, h.st.ops, h.st.n, o.models, &r)) {
		rc = EXIT_USAGE;
		goto down;
	}
	if (find_lost(&h))
		report_warn("maelstrom: the lost-message report could not be made");
	draw(&h);
	summarize(&h, &sum);
	valid = r.valid;
	if (o.availability_total && sum.ok != sum.total) {
		valid = false;
		snprintf(why, sizeof(why),
			 "--availability total: %zu of %zu operations did not "
			 "succeed",
			 sum.total - sum.ok, sum.total);
	}
	snprintf(path, sizeof(path), "%s/history.jsonl", h.store);
	write_history(&h, path);
	report(&h, &sum, &r, valid, why[0] ? why : NULL);
	rc = valid ? EXIT_OK : EXIT_FAIL;
down:
	if (h.faults)
		fclose(h.faults);
	if (o.keep)
		printf("maelstrom: lab %s left up (--keep): capnet --lab %s down\n", h.lab, h.lab);
	else
		capnet(&h, true, "down");
	free_ops(&h);
	mael_services_free(h.services);
	filter_close(h.filter);
	mael_lost_report_free(&h.lost);
	free(h.sent);
	free(h.drops);
	free(o.argv);
	mael_faults_free(&h.nemesis);
	return rc;
}
