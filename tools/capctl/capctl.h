/* SPDX-License-Identifier: GPL-2.0-only */
/* What capctl's subcommands share: the global options given before the subcommand, and the exit
 * codes the README promises. Each subcommand is one capctl_<name>_main() in its own file. */
#ifndef CAPNET_CAPCTL_H
#define CAPNET_CAPCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/check/history_edn.h"

enum {
	CAPCTL_OK = 0,
	CAPCTL_FAIL = 1, /* for check: a violation */
	CAPCTL_USAGE = 2, /* for check: an error, nothing decided */
	CAPCTL_UNAVAILABLE = 3,
	CAPCTL_INDETERMINATE = 4,
};

struct capctl_opts {
	const char *lab;
	bool json;
	int verbose;
	bool quiet; /* -q: no progress line */
	unsigned int node; /* -n I; 0 when not given */
	long timeout_ms;
	int consistency; /* enum client_consistency for AP requests; 0: the node's default */
	const char *history; /* --history: get, put and cas append what they did to it */
	unsigned int process; /* --process: the process number they record */
	/* --on-host (internal): the controller of a lab across hosts sent this request to the
	 * node's host; the node is reached here, never sent on again. */
	bool on_host;
};

extern struct capctl_opts capctl_opts;

/* Parses the global options at the start of argv (argv[0] is the program) into capctl_opts,
 * after setting their defaults. Sets *next to the index of the subcommand. Returns 0, or
 * -EINVAL after printing what is wrong. */
int capctl_parse_globals(int argc, char **argv, int *next);
void capctl_print_globals_usage(void);

int capctl_check_main(int argc, char **argv);
/* check --model list-append|rw-register of the history in f; models_arg as given to
 * --consistency-models, or NULL for strict-serializable. An exit code. */
int capctl_check_txn(const char *name, FILE *f, const char *model, const char *models_arg);
int capctl_report_main(int argc, char **argv);

/* A faults file: the lab's fault log, or the one of a capnet run beside its history
 * ({"time":SECONDS,"f":"partition","value":"1 | 2-5",...} per line). */
struct faults {
	struct history_fault *items;
	char **texts;
	size_t n;
};
/* 0, -errno, or -EINVAL after saying which line is not a fault. */
int read_faults(const char *path, struct faults *fs);
void faults_free(struct faults *fs);
/* A heal, a resume, a restart or a start: what ends a fault window rather than opens one. */
bool fault_ends_one(const char *f);
/* The faults of a history that ran from `from` to `to` (ns): those of the file given, else of
 * H.faults.jsonl beside H.jsonl (capnet run's), else those of the lab's fault log (--lab) in
 * force in that span; none if there is none. The file read goes into used ("" if none). */
int faults_for_history(const char *history, const char *given, uint64_t from, uint64_t to,
		       struct faults *fs, char *used, size_t len);
/* The time of a line get, put and cas append to --history: CLOCK_MONOTONIC, counted from a
 * capnet run's start under one (as a load's times and the run's faults are). */
uint64_t history_now(void);
int capctl_load_main(int argc, char **argv);
int capctl_get_main(int argc, char **argv);
int capctl_put_main(int argc, char **argv);
int capctl_cas_main(int argc, char **argv);
int capctl_open_main(int argc, char **argv);
int capctl_transfer_main(int argc, char **argv);
int capctl_balance_main(int argc, char **argv);
int capctl_status_main(int argc, char **argv);
int capctl_history_main(int argc, char **argv);

#endif /* CAPNET_CAPCTL_H */
