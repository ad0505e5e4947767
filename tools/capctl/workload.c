// SPDX-License-Identifier: GPL-2.0-only
/* The workload engine behind capctl load: one thread per client, one request outstanding per
 * client (a node's session expects a client's requests in order), every invoke and completion
 * written to the history under one lock so the file's order is the order of the times in it. */
#include "lib/array.h"
#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "lib/rng.h"
#include "tools/capctl/workload.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "tools/capctl/capctl.h"
#include "tools/capctl/client.h"
#include "tools/capctl/etcd_client.h"
#include "tools/capctl/exec_client.h"
#include "tools/capctl/redis_client.h"
#include "tools/check/history.h"

#define DEFAULT_PORT 7070
/* A client refused at once (no quorum, no leader) waits this long before its next request, as a
 * real client would, rather than spin and fill the history with refusals. */
#define REFUSED_PAUSE_MS 20
/* Opening the bank waits through an election; refused opens are retried for this long. */
#define OPEN_TIMEOUT_MS 5000
#define OPEN_DEADLINE_MS 15000
#define STATUS_PROBE_MS 250

struct run {
	const struct workload_config *cfg;
	pthread_mutex_t lock; /* the history, err */
	uint64_t t0, end; /* CLOCK_MONOTONIC ns */
	uint64_t history_origin; /* subtracted from the history's times: 0, or a capnet run's start */
	uint64_t interval; /* ns between one client's requests; 0 unpaced */
	uint64_t next_process;
	uint64_t ok, fail, info;
	char first_info[sizeof(((struct workload_stats *)0)->first_info)]; /* why, of the first */
	unsigned int finished;
	int err;
	volatile int abort;
	/* Keys of a real system's run begin with the run's own id: its data outlives a run (a
	 * history starts with every register absent), and two runs never share a key. */
	char key_prefix[16];
	/* append: appends begun per list slot; every LIST_MAX a slot moves to a fresh key. */
	uint64_t list_appends[WORKLOAD_MAX_KEYS];
};

/* Lists this long are left for a fresh key, as Elle's generators do: whole-list reads stay
 * small, and the history grows with its operations rather than their square. */
#define LIST_MAX 256

struct worker {
	struct run *run;
	pthread_t thread;
	bool running; /* its thread was started */
	unsigned int index, node;
	uint64_t process;
	struct capnet_client client;
	struct redis_client redis;
	struct etcd_client etcd;
	struct exec_client exec;
	bool connected;
	uint64_t rng;
	uint64_t counter;
	char **known; /* register: the last value this client saw per key, for cas */
	uint64_t read_print; /* set, append: answer_print() of the last list read */
	uint64_t *lat;
	size_t n_lat, cap_lat;
};

/* One operation as the history and the node see it. */
struct op {
	enum history_f f;
	const char *key; /* NULL for the whole bank */
	struct history_value arg;
	char *items[3];
	char key_buf[PROTO_KEY_MAX + 1];
	char val_buf[PROTO_VALUE_MAX + 1];
	char old_buf[PROTO_VALUE_MAX + 1];
	char amount_buf[24];
	struct client_request req;
};

static unsigned int rng_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(rng_next(s) % n);
}

const char *workload_client_name(enum workload_client client)
{
	return client == WORKLOAD_CLIENT_REDIS ? "redis" :
	       client == WORKLOAD_CLIENT_ETCD  ? "etcd" :
	       client == WORKLOAD_CLIENT_EXEC  ? "exec" :
						 "capnode";
}

static uint16_t service_port(const struct workload_config *cfg)
{
	if (cfg->port)
		return cfg->port;
	return cfg->client == WORKLOAD_CLIENT_REDIS ? REDIS_DEFAULT_PORT :
	       cfg->client == WORKLOAD_CLIENT_ETCD  ? ETCD_DEFAULT_PORT :
						      DEFAULT_PORT;
}

static enum exec_shape exec_shape_of(enum workload_kind kind)
{
	return kind == WORKLOAD_SET    ? EXEC_SET :
	       kind == WORKLOAD_APPEND ? EXEC_LIST :
					 EXEC_REGISTER;
}

const char *workload_kind_name(enum workload_kind kind)
{
	return kind == WORKLOAD_BANK   ? "bank" :
	       kind == WORKLOAD_SET    ? "set" :
	       kind == WORKLOAD_APPEND ? "append" :
					 "register";
}

uint64_t workload_clock_origin(uint64_t now)
{
	const char *origin = getenv("CAPNET_CLOCK_ORIGIN");
	char *end;
	unsigned long long o = origin ? strtoull(origin, &end, 10) : 0;

	return origin && *origin && !*end && o && o <= now ? o : 0;
}

int workload_parse_nodes(struct workload_config *cfg, const char *text, char *err, size_t errlen)
{
	const char *p = text;
	unsigned long a, b, i;
	char *end;

	cfg->n_nodes = 0;
	if (!*text) {
		snprintf(err, errlen, "the node list is empty (like 1-5 or 1,3,5)");
		return -EINVAL;
	}
	for (;;) {
		errno = 0;
		if (*p < '0' || *p > '9')
			goto bad;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, &end, 10);
		}
		if (errno || a < 1 || b > PROTO_MAX_NODE || a > b) {
			snprintf(err, errlen, "\"%s\": nodes are numbered 1 to %d, ranges go up",
				 text, PROTO_MAX_NODE);
			return -EINVAL;
		}
		for (i = a; i <= b; i++) {
			if (cfg->n_nodes == WORKLOAD_MAX_NODES) {
				snprintf(err, errlen, "\"%s\": at most %d nodes", text,
					 WORKLOAD_MAX_NODES);
				return -EINVAL;
			}
			cfg->nodes[cfg->n_nodes++] = i;
		}
		if (!*end)
			return 0;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
bad:
	snprintf(err, errlen, "\"%s\" is not a node list (like 1-5 or 1,3,5)", text);
	return -EINVAL;
}

static void fail_run(struct run *run, int err)
{
	pthread_mutex_lock(&run->lock);
	if (!run->err)
		run->err = err;
	pthread_mutex_unlock(&run->lock);
	run->abort = 1;
}

/* Now on the history's clock: CLOCK_MONOTONIC, or CLOCK_TAI in a host's share of a run across
 * hosts, for its controller to merge. */
static uint64_t stamp_now(const struct run *run)
{
	return run->cfg->share_here ? tai_ns() : monotonic_ns();
}

/* Writes one event stamped now (or at `at`, when not 0), under the lock, and returns its time. Beside the six fields of
 * the format, a line names the node asked and, for a refusal or an unknown outcome, why: extra
 * fields checkers ignore and people reading a violation need. */

static uint64_t record_at(struct run *run, uint64_t process, unsigned int node,
			  enum history_type type, const struct op *op,
			  const struct history_value *value, const char *why, uint64_t at)
{
	struct history_event ev = {
		.process = process,
		.type = type,
		.f = op->f,
		.key = (char *)op->key,
		.value = *value,
	};
	FILE *f = run->cfg->history;
	char *line = NULL;
	size_t len = 0;
	uint64_t t;
	FILE *ms;
	int err;

	/* Stamped and formatted outside the lock: only each process's own lines need to be in
	 * order (docs/history-format.md), and clients should not queue behind each other's
	 * formatting. */
	t = at ? at : stamp_now(run);
	ev.time = t - run->history_origin;
	ms = open_memstream(&line, &len);
	err = ms ? history_write_event(ms, &ev) : -ENOMEM;
	/* len is only known after a flush. */
	if (!err && fflush(ms))
		err = -ENOMEM;
	if (!err && len >= 2) {
		/* The writer ends a line with "}\n": add our fields over those two bytes. */
		fseek(ms, (long)len - 2, SEEK_SET);
		fprintf(ms, ",\"node\":%u", node);
		if (why) {
			fputs(",\"error\":", ms);
			json_write_string(ms, why);
		}
		fputs("}\n", ms);
	}
	if (ms && fclose(ms) && !err)
		err = -ENOMEM;
	pthread_mutex_lock(&run->lock);
	if (type == HISTORY_INFO && why && !run->first_info[0])
		snprintf(run->first_info, sizeof(run->first_info), "%s", why);
	if (!err) {
		fwrite(line, 1, len, f);
		err = ferror(f) ? -EIO : 0;
	}
	if (err && !run->err) {
		report_warn("writing the history: %s", strerror(-err));
		run->err = err;
		run->abort = 1;
	}
	pthread_mutex_unlock(&run->lock);
	free(line);
	return t;
}

static uint64_t record(struct run *run, uint64_t process, unsigned int node, enum history_type type,
		       const struct op *op, const struct history_value *value, const char *why)
{
	return record_at(run, process, node, type, op, value, why, 0);
}

static void op_init(struct op *op, enum history_f f, enum client_op cop,
		    enum client_consistency consistency)
{
	memset(op, 0, sizeof(*op));
	op->f = f;
	op->req.op = cop;
	op->req.consistency = consistency;
	op->arg.kind = HISTORY_VALUE_NULL;
}

static void op_key(struct op *op, const struct run *run, const char *name, unsigned int i)
{
	snprintf(op->key_buf, sizeof(op->key_buf), "%s%s%u", run->key_prefix, name, i);
	op->key = op->key_buf;
	memcpy(op->req.key, op->key_buf, strlen(op->key_buf) + 1);
}

static void set_value(struct proto_value *v, const char *s)
{
	v->len = strlen(s);
	memcpy(v->data, s, v->len);
}

/* "a0=70,a1=130" (node/bank.c's listing) as a history map. */
static int parse_bank(char *text, char **items, size_t max, size_t *n)
{
	char *p = text, *comma, *eq;

	*n = 0;
	while (*p) {
		comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		eq = strchr(p, '=');
		if (!eq || *n == max)
			return -EPROTO;
		*eq = 0;
		items[2 * *n] = p;
		items[2 * *n + 1] = eq + 1;
		(*n)++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

static int add_latency(struct worker *w, uint64_t ns)
{
	if (w->n_lat == w->cap_lat) {
		size_t cap = w->cap_lat ? 2 * w->cap_lat : 1024;
		uint64_t *lat = realloc(w->lat, cap * sizeof(*lat));

		if (!lat)
			return -ENOMEM;
		w->lat = lat;
		w->cap_lat = cap;
	}
	w->lat[w->n_lat++] = ns;
	return 0;
}

/* The worker's client program, as its current process. */
static int exec_start(struct worker *w)
{
	const struct workload_config *cfg = w->run->cfg;
	const struct exec_program p = { .lab = cfg->lab,
					.argv = cfg->exec_argv,
					.argc = cfg->exec_argc,
					.nodes = cfg->lab_nodes,
					.shape = exec_shape_of(cfg->kind) };

	return exec_client_start(&w->exec, &p, w->node, w->process, cfg->timeout_ms);
}

static int service_open(struct worker *w)
{
	const struct workload_config *cfg = w->run->cfg;

	if (cfg->client == WORKLOAD_CLIENT_ETCD)
		return etcd_client_open(&w->etcd, cfg->lab, w->node, service_port(cfg),
					cfg->timeout_ms, cfg->serializable);
	return redis_client_open(&w->redis, cfg->lab, w->node, service_port(cfg), cfg->timeout_ms);
}

static int connect_client(struct worker *w)
{
	const struct workload_config *cfg = w->run->cfg;
	int err;

	if (cfg->client == WORKLOAD_CLIENT_EXEC) {
		/* As a service that is down: its operations fail, said with the reason. */
		w->connected = !exec_start(w);
		return 0;
	}
	if (cfg->client != WORKLOAD_CLIENT_CAPNODE) {
		/* A service that is down now (killed, restarting) is not the end of the client:
		 * its next operations fail (they were never sent) until it answers again. */
		w->connected = !service_open(w);
		return 0;
	}
	err = client_open(&w->client, cfg->lab, w->node, service_port(cfg));
	if (err)
		report_error(err, NULL);
	w->connected = !err;
	return err;
}

static void disconnect_client(struct worker *w)
{
	if (w->run->cfg->client == WORKLOAD_CLIENT_REDIS)
		redis_client_close(&w->redis);
	else if (w->run->cfg->client == WORKLOAD_CLIENT_EXEC)
		exec_client_stop(&w->exec);
	else if (w->run->cfg->client == WORKLOAD_CLIENT_ETCD)
		etcd_client_close(&w->etcd);
	else if (w->connected)
		client_close(&w->client);
	w->connected = false;
}

static bool should_stop(const struct run *run);

/* A process number never used in the history: the next after the clients', or, in a host's
 * share of a run across hosts, the next of the numbers this host was given. */
static uint64_t next_process_number(struct run *run)
{
	const struct workload_config *cfg = run->cfg;
	uint64_t n = __atomic_fetch_add(&run->next_process, 1, __ATOMIC_RELAXED);

	if (!cfg->share_here)
		return n;
	return cfg->share_process_first + (n - cfg->clients) * cfg->share_process_step;
}

/* Another process number and client nonce: after an unknown outcome the old process may still
 * have a request in flight, so, as in Jepsen, it is considered crashed and a new one goes on.
 * When the node did not answer at all (crashed, say), the new client first waits until the node
 * answers a status request, as a client reconnects before it asks again: a dead node costs one
 * unknown outcome per client, not one per timeout. */
static int new_identity(struct worker *w, bool silent)
{
	struct status_reply st;
	int err;

	disconnect_client(w);
	w->process = next_process_number(w->run);
	err = connect_client(w);
	while (!err && silent && w->run->cfg->client == WORKLOAD_CLIENT_CAPNODE &&
	       !should_stop(w->run) &&
	       client_status(&w->client, STATUS_PROBE_MS, &st) == -ETIMEDOUT)
		;
	return err;
}

/* What the node's answer means for the history: ok, fail (it did not happen) or info. */
static enum history_type classify(const struct op *op, int err, const struct client_reply *rep)
{
	if (err)
		return HISTORY_INFO;
	switch (rep->status) {
	case REPLY_OK:
		return HISTORY_OK;
	case REPLY_NOT_FOUND:
		return op->f == HISTORY_READ ? HISTORY_OK : HISTORY_FAIL;
	case REPLY_UNAVAILABLE:
	case REPLY_NOT_LEADER:
	case REPLY_CAS_MISMATCH:
	case REPLY_INSUFFICIENT_FUNDS:
	case REPLY_BAD_REQUEST:
		return HISTORY_FAIL;
	default:
		/* TIMEOUT, ERROR: the node itself does not know. */
		return HISTORY_INFO;
	}
}

static void remember(struct worker *w, unsigned int key, const char *value)
{
	free(w->known[key]);
	w->known[key] = value ? strdup(value) : NULL;
}

static int count_outcome(struct worker *w, enum history_type type, uint64_t latency)
{
	struct run *run = w->run;

	if (type == HISTORY_OK) {
		__atomic_fetch_add(&run->ok, 1, __ATOMIC_RELAXED);
		return add_latency(w, latency);
	}
	__atomic_fetch_add(&run->fail, 1, __ATOMIC_RELAXED);
	return 0;
}

/* What a register operation's outcome teaches the client about its key (for its next cas), and
 * the counts: shared by the real-system clients. */
static int finish_register_op(struct worker *w, const struct op *op, unsigned int key_index,
			      enum history_type type, const struct history_value *result,
			      uint64_t latency)
{
	int err;

	if (type == HISTORY_INFO) {
		__atomic_fetch_add(&w->run->info, 1, __ATOMIC_RELAXED);
		return new_identity(w, false);
	}
	err = count_outcome(w, type, latency);
	if (type == HISTORY_OK && op->f == HISTORY_READ)
		remember(w, key_index, result->kind == HISTORY_VALUE_STRING ? result->str : NULL);
	else if (type == HISTORY_OK)
		remember(w, key_index, op->val_buf);
	else if (op->f == HISTORY_CAS)
		remember(w, key_index, NULL); /* it does not say what it found: read again */
	return err;
}

/* A fingerprint of a read's answer: a set's elements in any order, a list's in order. Equal
 * answers have equal prints; the checker, not this, decides what differs. */
static uint64_t answer_print(const struct history_value *v, bool ordered)
{
	uint64_t print = v->kind == HISTORY_VALUE_LIST ? v->n : 0;

	for (size_t i = 0; v->kind == HISTORY_VALUE_LIST && i < v->n; i++) {
		uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

		for (const char *p = v->items[i] ? v->items[i] : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		print = ordered ? (print ^ h) * 0x100000001b3ull :
				  print + h * 0x9e3779b97f4a7c15ull;
	}
	return print;
}

/* The same operation against etcd, through its JSON gateway (tools/capctl/etcd_client.c). */
static int execute_etcd(struct worker *w, struct op *op, unsigned int key_index)
{
	struct run *run = w->run;
	struct history_value result = op->arg;
	struct etcd_answer a;
	enum history_type type;
	uint64_t t_invoke, t_done;
	char why[300];
	int err;

	if (!w->connected || !w->etcd.curl)
		w->connected = !etcd_client_open(&w->etcd, run->cfg->lab, w->node,
						 service_port(run->cfg), run->cfg->timeout_ms,
						 run->cfg->serializable);
	t_invoke = record(run, w->process, w->node, HISTORY_INVOKE, op, &op->arg, NULL);
	if (w->connected)
		etcd_client_call(&w->etcd, op->f, op->key, op->val_buf, op->old_buf, &a);
	else
		a = (struct etcd_answer){ .transport = ETCD_NOT_SENT, .text = w->etcd.error };
	type = etcd_outcome(op->f, &a, why, sizeof(why));
	if (op->f == HISTORY_READ) {
		result.kind = HISTORY_VALUE_NULL;
		if (type == HISTORY_OK && w->etcd.found) {
			result.kind = HISTORY_VALUE_STRING;
			result.str = w->etcd.value;
		}
	}
	t_done = record(run, w->process, w->node, type, op, &result,
			type == HISTORY_OK ? NULL : why);
	err = finish_register_op(w, op, key_index, type, &result, t_done - t_invoke);
	if (!err && type == HISTORY_FAIL)
		sleep_ns(REFUSED_PAUSE_MS * 1000000ull);
	return err;
}

/* The same operation against a Redis: one request, its answer mapped by Jepsen's rules
 * (tools/capctl/redis_outcome.c). */
static int execute_redis(struct worker *w, struct op *op, unsigned int key_index)
{
	struct run *run = w->run;
	struct history_value result = op->arg;
	struct redis_answer a;
	enum history_type type;
	uint64_t t_invoke, t_done;
	char why[256];
	int err;

	if (run->cfg->client == WORKLOAD_CLIENT_ETCD)
		return execute_etcd(w, op, key_index);
	if (!w->connected || !w->redis.ctx)
		w->connected = !redis_client_open(&w->redis, run->cfg->lab, w->node,
						  service_port(run->cfg), run->cfg->timeout_ms);
	t_invoke = record(run, w->process, w->node, HISTORY_INVOKE, op, &op->arg, NULL);
	if (w->connected) {
		redis_client_call(&w->redis, op->f,
				  run->cfg->kind == WORKLOAD_SET    ? REDIS_SETS :
				  run->cfg->kind == WORKLOAD_APPEND ? REDIS_LISTS :
								      REDIS_REGISTERS,
				  op->key, op->val_buf, op->old_buf, &a);
	} else {
		a = (struct redis_answer){ .transport = REDIS_NOT_SENT, .text = w->redis.error };
	}
	type = redis_outcome(op->f, &a, why, sizeof(why));
	if (op->f == HISTORY_READ) {
		result.kind = HISTORY_VALUE_NULL;
		if (type == HISTORY_OK && a.kind == REDIS_REPLY_KIND_STRING) {
			result.kind = HISTORY_VALUE_STRING;
			result.str = (char *)a.text;
		} else if (type == HISTORY_OK && a.kind == REDIS_REPLY_KIND_ARRAY) {
			result = (struct history_value){ .kind = HISTORY_VALUE_LIST,
							 .items = w->redis.items,
							 .n = w->redis.n_items };
		}
	}
	if (run->cfg->kind == WORKLOAD_SET || run->cfg->kind == WORKLOAD_APPEND) {
		w->read_print = answer_print(&result, run->cfg->kind == WORKLOAD_APPEND);
		t_done = record(run, w->process, w->node, type, op, &result,
				type == HISTORY_OK ? NULL : why);
		if (type == HISTORY_INFO) {
			__atomic_fetch_add(&run->info, 1, __ATOMIC_RELAXED);
			return new_identity(w, false);
		}
		if (type == HISTORY_FAIL)
			sleep_ns(REFUSED_PAUSE_MS * 1000000ull);
		return count_outcome(w, type, t_done - t_invoke);
	}
	t_done = record(run, w->process, w->node, type, op, &result,
			type == HISTORY_OK ? NULL : why);
	err = finish_register_op(w, op, key_index, type, &result, t_done - t_invoke);
	if (!err && type == HISTORY_FAIL &&
	    (a.transport == REDIS_NOT_SENT || a.kind == REDIS_REPLY_KIND_ERROR))
		sleep_ns(REFUSED_PAUSE_MS * 1000000ull);
	return err;
}

/* The same operation through a client program (tools/capctl/exec_client.c): its answer is the
 * outcome, except that anything it cannot be trusted on (no answer, an exit, garbage) is info,
 * and a request it never read (it had exited) is a fail. */
static int execute_exec(struct worker *w, struct op *op, unsigned int key_index)
{
	struct run *run = w->run;
	const struct workload_config *cfg = run->cfg;
	struct history_value result = op->arg;
	struct exec_request req = {
		.f = op->f, .key = op->key, .value = op->val_buf, .from = op->old_buf
	};
	struct exec_answer a = { 0 };
	enum history_type type;
	uint64_t t_invoke, t_done;
	const char *why = NULL;
	int err = -EPIPE, rc;

	if (!w->connected)
		w->connected = !exec_start(w);
	t_invoke = record(run, w->process, w->node, HISTORY_INVOKE, op, &op->arg, NULL);
	if (w->connected)
		err = exec_client_call(&w->exec, &req, exec_shape_of(cfg->kind), cfg->timeout_ms,
				       &a);
	type = err == -EPIPE ? HISTORY_FAIL : err ? HISTORY_INFO : a.type;
	if (err) {
		why = w->exec.error;
		/* A timeout is what a partition does; an exit or garbage is the program's fault,
		 * named once each time. */
		if (err != -ETIMEDOUT && w->connected)
			report_warn("%s", why);
	} else if (type != HISTORY_OK) {
		why = a.error ? a.error : "the client program gave no reason";
	}
	if (op->f == HISTORY_READ) {
		result.kind = HISTORY_VALUE_NULL;
		if (type == HISTORY_OK && a.items)
			result = (struct history_value){ .kind = HISTORY_VALUE_LIST,
							 .items = a.items,
							 .n = a.n };
		else if (type == HISTORY_OK && a.value) {
			result.kind = HISTORY_VALUE_STRING;
			result.str = (char *)a.value;
		}
	}
	w->read_print = answer_print(&result, cfg->kind == WORKLOAD_APPEND);
	t_done = record(run, w->process, w->node, type, op, &result, why);
	if (err == -EPIPE) {
		/* Never read: started again for the next operation, under the same process. */
		exec_client_stop(&w->exec);
		w->connected = false;
	}
	if (cfg->kind == WORKLOAD_SET || cfg->kind == WORKLOAD_APPEND) {
		exec_answer_free(&a);
		if (type == HISTORY_INFO) {
			__atomic_fetch_add(&run->info, 1, __ATOMIC_RELAXED);
			return new_identity(w, false);
		}
		rc = count_outcome(w, type, t_done - t_invoke);
	} else {
		rc = finish_register_op(w, op, key_index, type, &result, t_done - t_invoke);
		exec_answer_free(&a);
	}
	if (!rc && type == HISTORY_FAIL)
		sleep_ns(REFUSED_PAUSE_MS * 1000000ull);
	return rc;
}

/* Invokes op, waits for its outcome, records both. Returns 0, or -errno to stop the client. */
static int execute(struct worker *w, struct op *op, unsigned int key_index)
{
	struct run *run = w->run;
	const struct workload_config *cfg = run->cfg;
	char result_buf[PROTO_VALUE_MAX + 1];
	char *map_items[2 * WORKLOAD_MAX_ACCOUNTS];
	char why[PROTO_REASON_MAX + 40];
	struct history_value result = op->arg;
	struct client_reply rep;
	enum history_type type;
	uint64_t t_invoke, t_done;
	int err;

	if (cfg->client == WORKLOAD_CLIENT_EXEC)
		return execute_exec(w, op, key_index);
	if (cfg->client != WORKLOAD_CLIENT_CAPNODE)
		return execute_redis(w, op, key_index);
	t_invoke = record(run, w->process, w->node, HISTORY_INVOKE, op, &op->arg, NULL);
	err = client_call(&w->client, &op->req, cfg->timeout_ms, &rep);
	if (err && err != -ETIMEDOUT) {
		report_fail("client %u: %s", w->index, strerror(-err));
		return err;
	}
	type = classify(op, err, &rep);
	if (!err && type != HISTORY_INFO) {
		memcpy(result_buf, rep.value.data, rep.value.len);
		result_buf[rep.value.len] = 0;
	}
	if (op->f == HISTORY_READ) {
		result.kind = HISTORY_VALUE_NULL;
		if (type == HISTORY_OK && rep.status == REPLY_OK) {
			result.kind = HISTORY_VALUE_STRING;
			result.str = result_buf;
		}
	} else if (op->f == HISTORY_BALANCE) {
		result = (struct history_value){ .kind = HISTORY_VALUE_NULL };
		if (type == HISTORY_OK) {
			result.kind = HISTORY_VALUE_MAP;
			result.items = map_items;
			if (parse_bank(result_buf, map_items, WORKLOAD_MAX_ACCOUNTS, &result.n)) {
				report_fail("node %u answered a balance that is not a list "
					    "of accounts",
					    w->node);
				return -EPROTO;
			}
		}
	}
	if (err)
		snprintf(why, sizeof(why), "no answer within %ld ms", cfg->timeout_ms);
	else if (type != HISTORY_OK)
		snprintf(why, sizeof(why), "%s%s%s", proto_reply_status_name(rep.status),
			 rep.reason[0] ? ": " : "", rep.reason);
	t_done = record(run, w->process, w->node, type, op, &result,
			type == HISTORY_OK ? NULL : why);
	switch (type) {
	case HISTORY_OK:
		__atomic_fetch_add(&run->ok, 1, __ATOMIC_RELAXED);
		if (add_latency(w, t_done - t_invoke))
			return -ENOMEM;
		if (op->f == HISTORY_READ)
			remember(w, key_index,
				 result.kind == HISTORY_VALUE_STRING ? result.str : NULL);
		else if (op->f == HISTORY_WRITE || op->f == HISTORY_CAS)
			remember(w, key_index, op->val_buf);
		return 0;
	case HISTORY_FAIL:
		__atomic_fetch_add(&run->fail, 1, __ATOMIC_RELAXED);
		if (rep.status == REPLY_CAS_MISMATCH)
			remember(w, key_index, result_buf);
		else if (op->f == HISTORY_CAS && rep.status == REPLY_NOT_FOUND)
			remember(w, key_index, NULL);
		if (rep.status == REPLY_UNAVAILABLE || rep.status == REPLY_NOT_LEADER)
			sleep_ns(REFUSED_PAUSE_MS * 1000000ull);
		return 0;
	default:
		__atomic_fetch_add(&run->info, 1, __ATOMIC_RELAXED);
		return new_identity(w, err == -ETIMEDOUT);
	}
}

static void register_op(struct worker *w, struct op *op, unsigned int *key_index)
{
	const struct workload_config *cfg = w->run->cfg;
	unsigned int k = rng_below(&w->rng, cfg->keys), r = rng_below(&w->rng, 100);

	*key_index = k;
	if (r < 40) {
		op_init(op, HISTORY_READ, CLIENT_OP_GET, cfg->consistency);
		op_key(op, w->run, "k", k);
		return;
	}
	/* Values unique in the whole history, so a read names the one write it saw. */
	w->counter++;
	if (r < 75 || !w->known[k]) {
		op_init(op, HISTORY_WRITE, CLIENT_OP_PUT, cfg->consistency);
		op_key(op, w->run, "k", k);
		snprintf(op->val_buf, sizeof(op->val_buf), "%u-%" PRIu64, w->index, w->counter);
		set_value(&op->req.value, op->val_buf);
		op->arg.kind = HISTORY_VALUE_STRING;
		op->arg.str = op->val_buf;
		return;
	}
	op_init(op, HISTORY_CAS, CLIENT_OP_CAS, cfg->consistency);
	op_key(op, w->run, "k", k);
	snprintf(op->val_buf, sizeof(op->val_buf), "%u-%" PRIu64, w->index, w->counter);
	snprintf(op->old_buf, sizeof(op->old_buf), "%s", w->known[k]);
	set_value(&op->req.expected, op->old_buf);
	set_value(&op->req.value, op->val_buf);
	op->items[0] = op->old_buf;
	op->items[1] = op->val_buf;
	op->arg = (struct history_value){ .kind = HISTORY_VALUE_LIST, .items = op->items, .n = 2 };
}

/* Adds of elements unique in the whole history; the sets are read once the run is over (a read
 * of a whole set during the run would make the history grow as its square). */
static void set_op(struct worker *w, struct op *op)
{
	const struct workload_config *cfg = w->run->cfg;
	unsigned int k = rng_below(&w->rng, cfg->keys);

	w->counter++;
	op_init(op, HISTORY_ADD, CLIENT_OP_PUT, cfg->consistency);
	op_key(op, w->run, "s", k);
	snprintf(op->val_buf, sizeof(op->val_buf), "%u-%" PRIu64, w->index, w->counter);
	op->arg.kind = HISTORY_VALUE_STRING;
	op->arg.str = op->val_buf;
}

/* Appends of values unique in the whole history, and reads of whole lists. */
static void append_op(struct worker *w, struct op *op)
{
	const struct workload_config *cfg = w->run->cfg;
	unsigned int k = rng_below(&w->rng, cfg->keys);
	uint64_t n;

	if (rng_below(&w->rng, 100) < 30) {
		n = __atomic_load_n(&w->run->list_appends[k], __ATOMIC_RELAXED);
		op_init(op, HISTORY_READ, CLIENT_OP_GET, cfg->consistency);
		op_key(op, w->run, "l", k + cfg->keys * (unsigned int)(n / LIST_MAX));
		return;
	}
	n = __atomic_fetch_add(&w->run->list_appends[k], 1, __ATOMIC_RELAXED);
	w->counter++;
	op_init(op, HISTORY_APPEND, CLIENT_OP_PUT, cfg->consistency);
	op_key(op, w->run, "l", k + cfg->keys * (unsigned int)(n / LIST_MAX));
	snprintf(op->val_buf, sizeof(op->val_buf), "%u-%" PRIu64, w->index, w->counter);
	op->arg.kind = HISTORY_VALUE_STRING;
	op->arg.str = op->val_buf;
}

/* The quiet time before the final reads: settle_s after the last fault of the run's faults
 * file (written live beside the history by capnet run, on the history's clock), or after the
 * workload's end when there is none; the file read again after the wait, in case a fault came
 * meanwhile. Ctrl-C cuts the wait short. */
void workload_settle(const struct workload_config *cfg, uint64_t t0)
{
	uint64_t quiet = (uint64_t)(cfg->settle_s * 1e9), from = monotonic_ns(), until, now;

	for (int tries = 0; tries < 10; tries++) {
		struct faults fs = { 0 };
		uint64_t last = from;

		if (cfg->faults_path && !read_faults(cfg->faults_path, &fs) && fs.n) {
			last = 0;
			for (size_t i = 0; i < fs.n; i++)
				if (fs.items[i].time + t0 > last)
					last = fs.items[i].time + t0;
		}
		faults_free(&fs);
		until = last + quiet;
		now = monotonic_ns();
		if (until <= now)
			return;
		while ((now = monotonic_ns()) < until) {
			if (cfg->stop && *cfg->stop)
				return;
			sleep_ns(until - now < 100000000ull ? until - now : 100000000ull);
		}
	}
}

/* How many lists an append run used for key slot k (a fresh one every LIST_MAX appends); in a
 * round of final reads across hosts, at least as many as the controller saw on any host. */
static unsigned int lists_of(const struct run *run, unsigned int k)
{
	uint64_t n = run->list_appends[k];
	unsigned int here = n ? (unsigned int)((n - 1) / LIST_MAX) + 1 : 1;

	return here > run->cfg->final_slots ? here : run->cfg->final_slots;
}

static unsigned int final_keys(const struct run *run)
{
	const struct workload_config *cfg = run->cfg;
	unsigned int n_keys = 0;

	for (unsigned int k = 0; k < cfg->keys; k++)
		n_keys += cfg->kind == WORKLOAD_APPEND ? lists_of(run, k) : 1;
	return n_keys;
}

/* One round of final reads: every set (or list) read from every node of final_nodes, a node
 * that does not answer asked again until it does or the deadline passes. answered[i] and
 * prints[i * final_keys() + key] say what node final_nodes[i] answered. */
static void final_read_round(struct run *run, uint64_t deadline, bool *answered, uint64_t *prints)
{
	const struct workload_config *cfg = run->cfg;
	bool lists = cfg->kind == WORKLOAD_APPEND;
	unsigned int n_keys = final_keys(run);

	for (unsigned int i = 0; i < cfg->n_final_nodes; i++) {
		struct worker w = { .run = run, .node = cfg->final_nodes[i] };
		unsigned int key_no = 0;

		for (unsigned int k = 0; k < cfg->keys; k++)
			for (unsigned int slot = 0; slot < (lists ? lists_of(run, k) : 1); slot++) {
				struct op op;

				op_init(&op, HISTORY_READ, CLIENT_OP_GET, cfg->consistency);
				op_key(&op, run, lists ? "l" : "s", k + cfg->keys * slot);
				for (;;) {
					uint64_t ok_before = run->ok;

					w.process = next_process_number(run);
					if (execute(&w, &op, 0))
						break;
					if (run->ok > ok_before) {
						answered[i] = true;
						prints[(size_t)i * n_keys + key_no] = w.read_print;
						break;
					}
					if (monotonic_ns() >= deadline)
						break;
					sleep_ns(200 * 1000000ull);
				}
				key_no++;
			}
		disconnect_client(&w);
		free(w.lat);
	}
}

/* One print of all of a node's answers in a round, to compare across hosts. */
static uint64_t fold_prints(const uint64_t *prints, unsigned int n)
{
	uint64_t print = 0xcbf29ce484222325ull;

	for (unsigned int i = 0; i < n; i++)
		print = (print ^ prints[i]) * 0x100000001b3ull;
	return print;
}

void workload_warn_disagree(unsigned int rounds, double final_read_s)
{
	report_warn("the nodes' final reads still disagree after %u rounds over %.0f s: "
		    "capctl check says how",
		    rounds, final_read_s);
}

void workload_warn_silent(unsigned int node, double final_read_s)
{
	report_warn("node %u gave no final read within %.0f s", node, final_read_s);
}

/* After the run and the quiet time: rounds of final reads until every node gives the same
 * answer for each set (or list) or final_read_s passes. These reads are what the checker
 * decides on: each node's last is its settled read, and settled reads that still disagree
 * diverged. A node that never answered is said, and the others decide. In a round across hosts
 * (WORKLOAD_PHASE_FINAL) the controller compares and asks again: one round, its prints in st. */
static int final_reads(struct run *run, struct workload_stats *st)
{
	const struct workload_config *cfg = run->cfg;
	unsigned int n_keys, i, round;
	uint64_t deadline, pause = 500 * 1000000ull;
	uint64_t *prints;
	bool *answered, agree = false;
	int missing = 0;

	if (cfg->phase != WORKLOAD_PHASE_FINAL)
		workload_settle(cfg, run->t0);
	deadline = monotonic_ns() + (uint64_t)(cfg->final_read_s * 1e9);
	n_keys = final_keys(run);
	prints = calloc((size_t)n_keys * cfg->n_final_nodes, sizeof(*prints));
	answered = calloc(cfg->n_final_nodes, sizeof(*answered));
	if (!prints || !answered) {
		free(prints);
		free(answered);
		return -ENOMEM;
	}
	if (cfg->phase == WORKLOAD_PHASE_FINAL) {
		final_read_round(run, deadline, answered, prints);
		for (i = 0; i < cfg->n_final_nodes; i++) {
			st->final_answered[i] = answered[i];
			st->final_print[i] = fold_prints(&prints[(size_t)i * n_keys], n_keys);
		}
		free(prints);
		free(answered);
		return 0;
	}
	for (round = 1; !agree && !run->err; round++) {
		final_read_round(run, deadline, answered, prints);
		/* Agreement among the nodes that answered; a silent node is said below. */
		agree = true;
		for (i = 0; i < cfg->n_final_nodes; i++)
			for (unsigned int j = i + 1; j < cfg->n_final_nodes; j++)
				if (answered[i] && answered[j] &&
				    memcmp(&prints[(size_t)i * n_keys], &prints[(size_t)j * n_keys],
					   n_keys * sizeof(*prints)))
					agree = false;
		if (agree || monotonic_ns() + pause >= deadline)
			break;
		sleep_ns(pause);
		pause *= 2;
	}
	if (!agree)
		workload_warn_disagree(round, cfg->final_read_s);
	for (i = 0; i < cfg->n_final_nodes; i++)
		if (!answered[i]) {
			workload_warn_silent(cfg->final_nodes[i], cfg->final_read_s);
			missing++;
		}
	free(prints);
	free(answered);
	return missing == (int)cfg->n_final_nodes ? -EIO : 0;
}

static void bank_op(struct worker *w, struct op *op)
{
	const struct workload_config *cfg = w->run->cfg;
	unsigned int from, to;

	if (rng_below(&w->rng, 100) >= 75) {
		op_init(op, HISTORY_BALANCE, CLIENT_OP_BALANCE, cfg->consistency);
		return;
	}
	op_init(op, HISTORY_TRANSFER, CLIENT_OP_TRANSFER, cfg->consistency);
	from = rng_below(&w->rng, cfg->keys);
	to = (from + 1 + rng_below(&w->rng, cfg->keys - 1)) % cfg->keys;
	snprintf(op->req.from_account, sizeof(op->req.from_account), "a%u", from);
	snprintf(op->req.to_account, sizeof(op->req.to_account), "a%u", to);
	/* Up to a quarter of an opening balance: accounts run dry now and then, not always. */
	op->req.amount = 1 + rng_below(&w->rng, WORKLOAD_OPENING_BALANCE / 4);
	snprintf(op->old_buf, sizeof(op->old_buf), "%s", op->req.from_account);
	snprintf(op->val_buf, sizeof(op->val_buf), "%s", op->req.to_account);
	snprintf(op->amount_buf, sizeof(op->amount_buf), "%" PRId64, op->req.amount);
	op->items[0] = op->old_buf;
	op->items[1] = op->val_buf;
	op->items[2] = op->amount_buf;
	op->arg = (struct history_value){ .kind = HISTORY_VALUE_LIST, .items = op->items, .n = 3 };
}

static bool should_stop(const struct run *run)
{
	return run->abort || monotonic_ns() >= run->end || (run->cfg->stop && *run->cfg->stop);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	uint64_t next = run->t0 + (run->interval / run->cfg->clients) * w->index, now;
	unsigned int key_index = 0;
	struct op op;
	int err;

	err = connect_client(w);
	while (!err && !should_stop(run)) {
		if (run->interval) {
			now = monotonic_ns();
			if (next > now) {
				sleep_ns(next - now);
				if (should_stop(run))
					break;
			}
			/* Behind after a slow answer: go on from now rather than burst. */
			next = (next > now ? next : now) + run->interval;
		}
		if (run->cfg->kind == WORKLOAD_BANK)
			bank_op(w, &op);
		else if (run->cfg->kind == WORKLOAD_SET)
			set_op(w, &op);
		else if (run->cfg->kind == WORKLOAD_APPEND)
			append_op(w, &op);
		else
			register_op(w, &op, &key_index);
		err = execute(w, &op, key_index);
	}
	if (err)
		fail_run(run, err);
	disconnect_client(w);
	__atomic_fetch_add(&run->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Opens every account before any client starts, as the bank model requires. A refused open
 * changed nothing and is retried without being recorded; anything else but ok ends the run. */
static int open_bank(struct run *run)
{
	const struct workload_config *cfg = run->cfg;
	uint64_t deadline = monotonic_ns() + OPEN_DEADLINE_MS * 1000000ull;
	struct capnet_client c;
	struct client_reply rep;
	struct op op;
	unsigned int i;
	/* Process 0 on one host; across hosts, one of the opening host's own numbers. */
	uint64_t process = cfg->share_here ? next_process_number(run) : 0;
	int err;

	err = client_open(&c, cfg->lab, cfg->nodes[0], service_port(cfg));
	if (err) {
		report_error(err, NULL);
		return err;
	}
	for (i = 0; i < cfg->keys && !err; i++) {
		op_init(&op, HISTORY_OPEN, CLIENT_OP_OPEN, cfg->consistency);
		op_key(&op, run, "a", i);
		op.req.amount = WORKLOAD_OPENING_BALANCE;
		snprintf(op.val_buf, sizeof(op.val_buf), "%d", WORKLOAD_OPENING_BALANCE);
		op.arg.kind = HISTORY_VALUE_STRING;
		op.arg.str = op.val_buf;
		for (;;) {
			long timeout = cfg->timeout_ms > OPEN_TIMEOUT_MS ? cfg->timeout_ms :
									   OPEN_TIMEOUT_MS;
			uint64_t t = stamp_now(run);

			err = client_call(&c, &op.req, timeout, &rep);
			if (!err &&
			    (rep.status == REPLY_UNAVAILABLE || rep.status == REPLY_NOT_LEADER) &&
			    monotonic_ns() < deadline) {
				sleep_ns(100 * 1000000ull);
				continue;
			}
			if (err || rep.status != REPLY_OK) {
				report_warn("opening account %s on node %u: %s%s%s", op.key_buf,
					    cfg->nodes[0],
					    err ? "no answer, the outcome is unknown" :
						  proto_reply_status_name(rep.status),
					    !err && rep.reason[0] ? ": " : "",
					    err ? "" : rep.reason);
				if (!err && rep.status == REPLY_BAD_REQUEST)
					report_fail("the bank workload needs a "
						    "cluster without accounts (a fresh start)");
				err = -EIO;
				break;
			}
			/* The attempt that took effect, recorded after the fact with the time it
			 * was sent (nothing else runs yet). */
			record_at(run, process, cfg->nodes[0], HISTORY_INVOKE, &op, &op.arg, NULL,
				  t);
			record(run, process, cfg->nodes[0], HISTORY_OK, &op, &op.arg, NULL);
			err = run->err;
			break;
		}
	}
	client_close(&c);
	return err;
}

/* Every node's namespace can be entered: one clear error before any client starts, rather than
 * one per client. */
/* Whether a client of this run talks to node: in a host's share, only its clients count. */
static bool node_is_here(const struct workload_config *cfg, unsigned int node)
{
	if (!cfg->share_here)
		return true;
	for (unsigned int k = 0; k < cfg->clients; k++)
		if (cfg->share_here[k] && cfg->nodes[k % cfg->n_nodes] == node)
			return true;
	return false;
}

static int preflight(const struct workload_config *cfg)
{
	bool answered = false;
	struct capnet_client c;
	unsigned int i;
	int err;

	for (i = 0; i < cfg->n_nodes; i++) {
		if (!node_is_here(cfg, cfg->nodes[i]))
			continue;
		if (cfg->client == WORKLOAD_CLIENT_EXEC) {
			struct worker w = { .run = &(struct run){ .cfg = cfg },
					    .node = cfg->nodes[i] };

			/* Not found, not executable, exits at once, never answers init: one clear
			 * error before any client starts. */
			err = exec_start(&w);
			if (err) {
				report_fail("%s", w.exec.error);
				return err;
			}
			exec_client_stop(&w.exec);
			continue;
		}
		if (cfg->client == WORKLOAD_CLIENT_REDIS) {
			struct redis_client r;

			/* Nothing listening, or not Redis: one clear error, not a run of info. */
			err = redis_client_open(&r, cfg->lab, cfg->nodes[i], service_port(cfg),
						cfg->timeout_ms);
			if (err) {
				report_fail("%s", r.error);
				return err;
			}
			redis_client_close(&r);
			continue;
		}
		if (cfg->client == WORKLOAD_CLIENT_ETCD) {
			static struct etcd_client e;

			err = etcd_client_open(&e, cfg->lab, cfg->nodes[i], service_port(cfg),
					       cfg->timeout_ms, cfg->serializable);
			if (err) {
				report_fail("%s", e.error);
				return err;
			}
			etcd_client_close(&e);
			continue;
		}
		err = client_open(&c, cfg->lab, cfg->nodes[i], service_port(cfg));
		if (err) {
			report_error(err, NULL);
			return err;
		}
		/* capnode speaks UDP: nothing refuses, so ask. One node down is a fault to load
		 * through; none answering is a mistake to name. */
		if (!answered) {
			struct status_reply st;

			answered = client_status(&c, 500, &st) == 0;
		}
		client_close(&c);
	}
	if (cfg->client == WORKLOAD_CLIENT_CAPNODE && !answered) {
		report_fail(
			"no capnode answered on UDP port %u of any of the %u node%s asked: "
			"is capnode running there (capnet start --mode cp|ap), or is --client capnode "
			"the wrong client for this service?",
			service_port(cfg), cfg->n_nodes, cfg->n_nodes == 1 ? "" : "s");
		return -EHOSTUNREACH;
	}
	return 0;
}

void workload_percentiles(uint64_t *lat, size_t n, struct workload_stats *st)
{
	if (!n)
		return;
	sort_u64(lat, n);
	st->p50_ms = lat[(n - 1) * 50 / 100] / 1e6;
	st->p99_ms = lat[(n - 1) * 99 / 100] / 1e6;
}

static int latency_percentiles(struct worker *ws, unsigned int n, struct workload_stats *st)
{
	size_t total = 0, at = 0;
	uint64_t *all;
	unsigned int i;

	for (i = 0; i < n; i++)
		total += ws[i].n_lat;
	if (!total)
		return 0;
	all = malloc(total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(all + at, ws[i].lat, ws[i].n_lat * sizeof(*all));
		at += ws[i].n_lat;
	}
	workload_percentiles(all, total, st);
	free(all);
	return 0;
}

static int check_config(const struct workload_config *cfg)
{
	if (!cfg->n_nodes || !cfg->clients || cfg->clients > WORKLOAD_MAX_CLIENTS || !cfg->keys ||
	    !cfg->history || cfg->timeout_ms <= 0 || cfg->duration_s <= 0 || cfg->rate < 0)
		return -EINVAL;
	if (cfg->kind == WORKLOAD_BANK && (cfg->keys < 2 || cfg->keys > WORKLOAD_MAX_ACCOUNTS))
		return -EINVAL;
	if (cfg->kind == WORKLOAD_REGISTER && cfg->keys > WORKLOAD_MAX_KEYS)
		return -EINVAL;
	if (cfg->kind == WORKLOAD_BANK && cfg->client != WORKLOAD_CLIENT_CAPNODE)
		return -EINVAL;
	if ((cfg->kind == WORKLOAD_SET || cfg->kind == WORKLOAD_APPEND) &&
	    cfg->client != WORKLOAD_CLIENT_REDIS && cfg->client != WORKLOAD_CLIENT_EXEC)
		return -EINVAL;
	if (cfg->client == WORKLOAD_CLIENT_EXEC && (cfg->exec_argc < 1 || !cfg->lab_nodes))
		return -EINVAL;
	return 0;
}

int workload_run(const struct workload_config *cfg, struct workload_stats *st)
{
	struct run run = { .cfg = cfg, .next_process = cfg->clients };
	struct worker *ws;
	uint64_t seed = cfg->seed, next_progress;
	unsigned int i, k, started = 0;
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (check_config(cfg)) {
		report_fail("invalid workload settings");
		return -EINVAL;
	}
	if (cfg->client == WORKLOAD_CLIENT_ETCD) {
		err = etcd_client_global_init();
		if (err) {
			report_fail("%s", error_reason(err));
			return err;
		}
	}
	/* A client program that exits makes its pipe refuse a write: an error, not a signal. */
	if (cfg->client == WORKLOAD_CLIENT_EXEC)
		signal(SIGPIPE, SIG_IGN);
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = monotonic_ns();
	st->seed = seed;
	if (cfg->client != WORKLOAD_CLIENT_CAPNODE && cfg->share_key_prefix) {
		snprintf(run.key_prefix, sizeof(run.key_prefix), "%s", cfg->share_key_prefix);
	} else if (cfg->client != WORKLOAD_CLIENT_CAPNODE) {
		uint32_t id;

		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint32_t)monotonic_ns();
		snprintf(run.key_prefix, sizeof(run.key_prefix), "%08x/", id);
	}
	ws = calloc(cfg->clients, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	pthread_mutex_init(&run.lock, NULL);
	if (cfg->rate > 0)
		run.interval = (uint64_t)(1e9 * cfg->clients / cfg->rate);
	/* Final reads alone ask nodes that may be down or cut off, and say so; the opening asks
	 * the first node alone, whichever host's clients talk to it. */
	if (cfg->phase == WORKLOAD_PHASE_OPEN) {
		struct workload_config first = *cfg;

		first.n_nodes = 1;
		first.share_here = NULL;
		err = preflight(&first);
	} else if (cfg->phase != WORKLOAD_PHASE_FINAL) {
		err = preflight(cfg);
	}
	if (err)
		goto out;
	run.t0 = monotonic_ns();
	run.history_origin = workload_clock_origin(run.t0);
	if (run.history_origin)
		run.t0 = run.history_origin;
	/* Otherwise the history is on CLOCK_MONOTONIC itself, as the lab's fault log is, so
	 * the faults typed by hand during the load line up with its operations. */
	if (cfg->kind == WORKLOAD_BANK &&
	    (cfg->phase == WORKLOAD_PHASE_WHOLE || cfg->phase == WORKLOAD_PHASE_OPEN)) {
		err = open_bank(&run);
		if (err)
			goto out;
	}
	run.end = monotonic_ns() + (uint64_t)(cfg->duration_s * 1e9);
	for (i = 0; i < cfg->clients; i++) {
		if (cfg->phase == WORKLOAD_PHASE_OPEN || cfg->phase == WORKLOAD_PHASE_FINAL)
			break;
		struct worker *w = &ws[i];

		if (cfg->share_here && !cfg->share_here[i])
			continue;
		w->run = &run;
		w->index = i;
		w->process = i;
		w->node = cfg->nodes[i % cfg->n_nodes];
		/* Scrambled, not seed + i: splitmix64 streams from neighbouring states are the
		 * same stream shifted, and clients would make the same choices in step. */
		w->rng = seed ^ (i + 1) * 0xd1b54a32d192ed03ull;
		w->rng = rng_next(&w->rng);
		if (cfg->kind == WORKLOAD_REGISTER) {
			w->known = calloc(cfg->keys, sizeof(*w->known));
			if (!w->known) {
				err = -ENOMEM;
				break;
			}
		}
		err = -pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			report_fail("starting client %u: %s", i, strerror(-err));
			break;
		}
		w->running = true;
		started++;
	}
	if (err)
		fail_run(&run, err);
	next_progress = monotonic_ns() + 1000000000ull;
	while (__atomic_load_n(&run.finished, __ATOMIC_ACQUIRE) < started) {
		sleep_ns(50 * 1000000ull);
		if (cfg->progress && monotonic_ns() >= next_progress) {
			cfg->progress(cfg, (monotonic_ns() - run.t0) / 1e9,
				      __atomic_load_n(&run.ok, __ATOMIC_RELAXED),
				      __atomic_load_n(&run.fail, __ATOMIC_RELAXED),
				      __atomic_load_n(&run.info, __ATOMIC_RELAXED),
				      cfg->progress_arg);
			next_progress += 1000000000ull;
		}
	}
	for (i = 0; i < cfg->clients; i++)
		if (ws[i].running)
			pthread_join(ws[i].thread, NULL);
	st->elapsed_s = (monotonic_ns() - run.t0) / 1e9;
	if (!err && !run.err && (cfg->kind == WORKLOAD_SET || cfg->kind == WORKLOAD_APPEND) &&
	    (cfg->phase == WORKLOAD_PHASE_WHOLE || cfg->phase == WORKLOAD_PHASE_FINAL)) {
		run.abort = 0;
		err = final_reads(&run, st);
		if (err)
			report_warn("no node gave a final read: the history cannot "
				    "say what was lost");
	}
	st->ok = run.ok;
	st->fail = run.fail;
	st->info = run.info;
	snprintf(st->first_info, sizeof(st->first_info), "%s", run.first_info);
	st->processes = run.next_process;
	if (!err)
		err = run.err;
	if (!err)
		err = latency_percentiles(ws, cfg->clients, st);
	if (fflush(cfg->history) && !err) {
		err = -errno;
		report_warn("writing the history: %s", strerror(-err));
	}
out:
	for (i = 0; i < cfg->clients; i++) {
		if (ws[i].known)
			for (k = 0; k < cfg->keys; k++)
				free(ws[i].known[k]);
		free(ws[i].known);
		free(ws[i].lat);
	}
	free(ws);
	pthread_mutex_destroy(&run.lock);
	return err;
}
