/* SPDX-License-Identifier: GPL-2.0-only */
/* Services of a lab: daemons running inside node namespaces, each with its pid, command line,
 * log and data directory per node. capnet's own replicas (capnode) live in the lab's run
 * directory; any other program started with `capnet start --name NAME -- PROGRAM ...` in
 * <run dir>/svc/NAME. Every function taking a run_dir takes such a service directory. */
#ifndef CAPNET_NODES_H
#define CAPNET_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netem/policy/spec.h"
#include "netem/lab/run_dir.h"
#include "netem/lab/topology.h"

#define CAPNODE_PORT 7070

/* The pid of node i's process, if it runs (its start time checked against /proc, so a stale
 * pid file or a reused pid never counts); 0 if not. */
pid_t nodes_pid(const char *run_dir, unsigned int node);
/* It runs, stopped by pause (SIGSTOP). */
bool nodes_paused(const char *run_dir, unsigned int node);

struct service_start {
	const char *lab;
	const char *dir; /* run_dir_of_service() */
	unsigned int nodes; /* the lab's size */
	const struct node_set *where; /* the nodes it runs on: {each:} */
	uint32_t subnet; /* host order */
	unsigned int prefix;
	int argc;
	char **argv; /* PROGRAM ARG..., with placeholders (netem/svc/placeholder.h) */
};

/* Starts the program in node i: its arguments expanded for i, recorded for restart, its data
 * directory (<dir>/data/n<i>) created and made its working directory. Fails if it already
 * runs there, or exits at once (with its status and last words). */
int nodes_service_start(const struct service_start *st, unsigned int node);

/* What `capnet start --settle T | --wait-port P` waits for after starting. */
struct service_settle {
	const char *lab;
	const char *dir; /* the service's run directory */
	const char *name;
	uint64_t settle_ns; /* how long each must live (or, with port, the longest wait) */
	unsigned int port; /* TCP port each must listen on; 0: none */
};

/* Waits until the service has listened on settle->port in every node of pids (or, without a
 * port, has lived settle_ns), reaping those that exit: each one that exits, or does not listen
 * in time, is reported with its exit status and its log's last lines. pids[i] is node i's
 * service (0: not started here). Returns how many failed; those among them still running
 * (alive, not listening in time) in *deaf. */
unsigned int nodes_service_settle(const struct service_settle *settle, const pid_t *pids,
				  unsigned int nodes, struct node_set *deaf);
/* The mode ("cp"/"ap") node i was started with, from its recorded command line. */
int nodes_mode(const char *run_dir, unsigned int node, char *mode, size_t len);

struct node_start {
	const char *lab;
	const char *run_dir;
	const char *capnode; /* path of the capnode binary */
	const char *mode; /* cp | ap */
	unsigned int nodes; /* cluster size */
	uint32_t subnet; /* host order */
	unsigned int prefix;
	const char *key_file; /* the cluster's key (node/key_file.h) */
	int extra_argc; /* more capnode options, passed through */
	char **extra_argv;
};

/* Starts node i's capnode as a daemon in <lab>-n<i>; fails if it already runs. The command
 * line is recorded so restart can repeat it. */
int nodes_start(const struct node_start *st, unsigned int node);
/* Starts node i again with its recorded command line. */
int nodes_restart(const char *lab, const char *run_dir, unsigned int node);
/* Sends sig; with wait_ms, waits that long for the process to exit (then SIGKILL). Returns 0,
 * or -ESRCH if it was not running. */
int nodes_signal(const char *run_dir, unsigned int node, int sig, int wait_ms);
/* Kills every process in the lab's namespaces (replicas, programs started with exec) and
 * removes the lab's run directory (for down). */
int nodes_remove_all(const char *lab, const char *run_dir, unsigned int max_nodes);

/* The capnode binary: beside this program, else on PATH. */
int nodes_find_capnode(char *buf, size_t len);

#endif /* CAPNET_NODES_H */
