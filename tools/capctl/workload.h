/* SPDX-License-Identifier: GPL-2.0-only */
/* Workloads: concurrent clients of a lab's capnodes that record what they did as a history
 * (docs/history-format.md) for capctl check. A register workload reads, writes unique values and
 * compare-and-sets over a few keys; a bank workload opens accounts, then moves money and reads
 * the whole bank. capctl load is the command line around it; root tests run it in-process. */
#ifndef CAPNET_WORKLOAD_H
#define CAPNET_WORKLOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "node/proto.h"

#define WORKLOAD_MAX_NODES 64
#define WORKLOAD_MAX_CLIENTS 256
#define WORKLOAD_MAX_KEYS 1000
/* Every account must fit one whole-bank balance reply (PROTO_VALUE_MAX bytes). */
#define WORKLOAD_MAX_ACCOUNTS 64
#define WORKLOAD_OPENING_BALANCE 100

enum workload_kind {
	WORKLOAD_REGISTER,
	WORKLOAD_BANK,
	WORKLOAD_SET, /* unique adds to K sets, then a final read of each from every node */
	WORKLOAD_APPEND, /* unique appends to K lists, and reads of whole lists */
};

/* What a run does: all of it (one host), or one phase of a run across hosts, each started on
 * its host by the controller (tools/capctl/load_hosts.c) once the phase before it is over. */
enum workload_phase {
	WORKLOAD_PHASE_WHOLE, /* opening, clients, quiet time and final reads */
	WORKLOAD_PHASE_OPEN, /* bank: the accounts opened, nothing else */
	WORKLOAD_PHASE_CLIENTS, /* the clients alone */
	WORKLOAD_PHASE_FINAL, /* one round of final reads of final_nodes, no quiet time */
};

/* What the clients speak: capnode's protocol, or a real system's. */
enum workload_client {
	WORKLOAD_CLIENT_CAPNODE,
	WORKLOAD_CLIENT_REDIS,
	WORKLOAD_CLIENT_ETCD,
	WORKLOAD_CLIENT_EXEC, /* a client program per process, in JSON lines (docs/clients.md) */
};

struct workload_config {
	const char *lab;
	enum workload_client client;
	uint16_t port; /* the service's; 0 for its usual one (capnode 7070, Redis 6379, etcd 2379) */
	bool serializable; /* etcd: serializable reads instead of linearizable ones */
	/* exec: the client program's command line, placeholders unexpanded; the lab's size. */
	char *const *exec_argv;
	int exec_argc;
	unsigned int lab_nodes;
	unsigned int nodes[WORKLOAD_MAX_NODES]; /* client k talks to nodes[k % n_nodes] */
	unsigned int n_nodes;
	unsigned int clients;
	double duration_s;
	enum workload_kind kind;
	unsigned int keys; /* registers, or bank accounts */
	enum client_consistency consistency;
	double rate; /* operations per second, all clients together; 0: as fast as answered */
	long timeout_ms; /* per request: past it the outcome is unknown (info) */
	uint64_t seed; /* 0: a random one */
	FILE *history;
	/* set and append: the final reads come settle_s after the last fault of faults_path (the
	 * run's faults file; NULL or absent: after the workload's end), and are asked again for up
	 * to final_read_s until every node answers and all agree. */
	double settle_s, final_read_s;
	const char *faults_path;
	/* set and append: the nodes the final reads ask (every replica, not only the clients') */
	unsigned int final_nodes[WORKLOAD_MAX_NODES];
	unsigned int n_final_nodes;
	/* One host's share of a run across hosts (tools/capctl/load_hosts.c starts one per host):
	 * NULL runs every client; else only each client k with share_here[k]. A share stamps its
	 * lines on CLOCK_TAI, absolute, for the controller to merge; the process after an unknown
	 * outcome is numbered share_process_first, then + share_process_step each time, so that
	 * no two hosts use one number; and a real system's keys begin with share_key_prefix, the
	 * run's, the same on every host. */
	const bool *share_here;
	uint64_t share_process_first, share_process_step;
	const char *share_key_prefix;
	enum workload_phase phase;
	/* append, WORKLOAD_PHASE_FINAL: the lists per key slot the run used, on every host. */
	unsigned int final_slots;
	/* Set (by a signal handler, say) to end the run early; may be NULL. */
	const volatile sig_atomic_t *stop;
	/* Called about once a second from the calling thread while clients run; may be NULL. */
	void (*progress)(const struct workload_config *cfg, double elapsed_s, uint64_t ok,
			 uint64_t fail, uint64_t info, void *arg);
	void *progress_arg;
};

struct workload_stats {
	uint64_t ok, fail, info;
	char first_info[256]; /* why the first info was one, as its history line says; or "" */
	uint64_t processes; /* process numbers used: clients, plus one per info */
	double elapsed_s;
	double p50_ms, p99_ms; /* latency of ok operations; 0 when there were none */
	uint64_t seed; /* the seed used, for a replay of the same choices */
	/* WORKLOAD_PHASE_FINAL: whether final_nodes[i] answered every read of the round, and a
	 * print of its answers (equal answers, equal prints), to compare with other hosts'. */
	bool final_answered[WORKLOAD_MAX_NODES];
	uint64_t final_print[WORKLOAD_MAX_NODES];
};

/* Where a history's times count from, CLOCK_MONOTONIC being now: a capnet run's start under it
 * (its CAPNET_CLOCK_ORIGIN), so that they line up with the run's faults; else 0. */
uint64_t workload_clock_origin(uint64_t now);

/* Parses a node list such as "1-5" or "1,3,5" or "2-3,7" into cfg->nodes. Returns 0 or -EINVAL
 * with a message for the user in err. */
int workload_parse_nodes(struct workload_config *cfg, const char *text, char *err, size_t errlen);

/* Runs the workload until duration_s has passed or *stop is set, writing the history to
 * cfg->history. For a bank, opens the accounts first and fails if they cannot all be opened
 * (a bank whose money is unknown cannot be checked). Prints what went wrong to stderr and returns
 * -errno, or 0 with st filled. Needs root (clients enter the nodes' namespaces). */
int workload_run(const struct workload_config *cfg, struct workload_stats *st);
/* The quiet time before final reads: cfg->settle_s after the last fault of cfg->faults_path
 * (times from t0, CLOCK_MONOTONIC), or from now when there is none; *cfg->stop cuts it short. */
void workload_settle(const struct workload_config *cfg, uint64_t t0);
/* The warnings of final reads that still disagree after `rounds` rounds, and of a node that
 * gave none, the same on one host and across hosts. */
void workload_warn_disagree(unsigned int rounds, double final_read_s);
void workload_warn_silent(unsigned int node, double final_read_s);
/* st's p50 and p99 of the n latencies (ns) of ok operations, sorted in place; none: unchanged. */
void workload_percentiles(uint64_t *lat, size_t n, struct workload_stats *st);

const char *workload_kind_name(enum workload_kind kind);
const char *workload_client_name(enum workload_client client);

#endif /* CAPNET_WORKLOAD_H */
