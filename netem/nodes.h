/* SPDX-License-Identifier: GPL-2.0-only */
/* Replica processes of a lab: one capnode daemon per node, running inside the node's namespace,
 * with its pid, command line, log and data under the lab's run directory. */
#ifndef CAPNET_NODES_H
#define CAPNET_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "netem/topology.h"

#define CAPNET_RUN_ROOT "/run/capnet"
#define CAPNODE_PORT 7070

/* The lab's run directory: --dir if given, else /run/capnet/<lab>. */
void nodes_run_dir(const char *lab, const char *dir_opt, char *buf, size_t len);
/* The pid of node i's capnode, if it runs (checked against /proc, so a stale pid file or a
 * reused pid never counts); 0 if not. */
pid_t nodes_pid(const char *run_dir, unsigned int node);
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
