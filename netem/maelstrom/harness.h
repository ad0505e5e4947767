/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside maelstrom test: the harness's state, shared by its files. harness.c runs the test
 * (the lab, the shims, the loop, the nemesis's steps); clients.c makes the workloads' requests
 * and reads their answers; options.c reads the command line; results.c checks, summarises and
 * writes the store; store.c makes the store's folders. Not for use outside netem/maelstrom. */
#ifndef CAPNET_MAELSTROM_HARNESS_H
#define CAPNET_MAELSTROM_HARNESS_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/json.h"
#include "lib/op_chart.h"
#include "lib/monotonic.h"
#include "lib/progress.h"
#include "netem/filter/filter.h"
#include "netem/lab/topology.h"
#include "netem/maelstrom/faults.h"
#include "netem/maelstrom/maelstrom.h"
#include "netem/maelstrom/services.h"
#include "netem/maelstrom/stable.h"
#include "tools/captrace/trace_pair.h"
#include "tools/check/maelstrom_check.h"

struct options {
	enum mael_workload workload;
	char **argv; /* the node program and its arguments */
	unsigned int nodes, concurrency;
	double time_limit, rate, nemesis_interval, latency_ms, timeout_s, final_wait;
	const char *latency_dist; /* constant, uniform, normal, exponential */
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

/* A message between nodes, as its sender's shim logged it: the origin of its send in the
 * pairing. */
struct mael_sent {
	unsigned int src, dest; /* 0-based: n<src> */
	uint64_t seq;
	uint64_t time_ns; /* CLOCK_MONOTONIC, as the filter's */
	char type[40]; /* the body's type */
	int64_t msg_id, in_reply_to; /* -1 when absent */
};

/* The pairing's verdicts as the report gives them. */
struct mael_lost {
	const struct trace_msg **msgs; /* lost, in the order of their loss */
	size_t n;
	size_t by_fate[TRACE_FATES];
	size_t sent;
	size_t in_flight; /* sent after the test ended, as the shims stopped: not counted lost */
};

struct harness {
	const struct options *o;
	struct progress line; /* on a terminal, while the test runs */
	char lab[LAB_NAME_MAX + 1];
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
	/* Sends and arrivals from the shims' logs, the filter's drops as they come: which
	 * messages were lost, and why. */
	struct trace_analysis pairing;
	struct mael_sent *sent;
	size_t n_sent;
	struct mael_lost lost;
	struct op_chart_band bands[512]; /* the fault windows, for the pictures */
	size_t n_bands;
	bool band_open;
	uint64_t end_ns; /* the test's length, for the pictures */
	uint64_t next_gossip;
	uint64_t txn_key[TXN_KEYS], txn_written[TXN_KEYS], next_txn_key;
	struct mael_faults nemesis; /* the schedule, drawn from the seed */
	char bad[512]; /* a shim's complaint: the run stops */
	bool stopping; /* the shims were told to stop */
};

struct summary {
	size_t ok, fail, info, total;
	double p50, p95, p99, max; /* ms, ok operations */
	uint64_t messages;
	uint64_t forged, repeated; /* datagrams the shims refused */
	double availability;
	bool has_stable; /* broadcast and g-set */
	struct mael_stable stable;
};

/* harness.c */
extern volatile sig_atomic_t mael_interrupted;
/* The first complaint stops the run and is what the run reports. */
void mael_bad(struct harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line to a node's shim. 0, or -EIO when the shim is gone. */
int mael_send_line(struct harness *h, unsigned int node, const char *line);
/* Reads whatever the shims sent and handles whole lines, waiting up to timeout_ms. */
void mael_pump(struct harness *h, int timeout_ms);

/* clients.c */
const char *mael_request_type(enum mael_workload w, const struct mael_op *op);
/* The next operation of client c, sent to its node. 0, or -errno. */
int mael_issue(struct harness *h, struct client *c, bool read, bool final);
/* The answer to client c's request. */
void mael_complete(struct harness *h, struct client *c, const struct json_value *body);
/* Requests past their timeout: unknown outcome, a new process. */
void mael_expire(struct harness *h);
/* Neighbours for the broadcast workload, as Maelstrom's --topology names them. */
int mael_topology_json(const struct options *o, char *buf, size_t len);
/* After the load: time to converge (--final-wait), then a final read of every node. */
int mael_final_reads(struct harness *h);

/* options.c */
void mael_usage(FILE *out);
/* 0, -1 after --help, or an exit status after a usage error (reported). */
int mael_parse_options(int argc, char **argv, struct options *o);

/* results.c */
/* A frame the filter dropped, for the pairing. */
int mael_on_drop(const struct capnet_drop_event *ev, void *arg);
/* What the report calls a message's fate: "partition", "loss", "node killed", "not dropped by
 * the filter". */
const char *mael_fate_name(enum trace_fate f);
/* Checks the history, prints the result as Maelstrom's and writes the store's files. The exit
 * status: 0 valid, 1 invalid, 2 when the history could not be checked. */
int mael_results(struct harness *h);
void mael_free_ops(struct harness *h);
void mael_free_messages(struct harness *h);

/* store.c */
/* store/<workload>/<time>/ for this run, store/latest pointing at it. 0 or -errno. */
int mael_make_store(struct harness *h);
/* store/latest back to the newest run there is, if its run was deleted. */
void mael_repair_latest(void);

#endif /* CAPNET_MAELSTROM_HARNESS_H */
