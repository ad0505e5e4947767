/* SPDX-License-Identifier: GPL-2.0-only */
/* The lab's fault log: every command that changes what the lab does to its nodes (partition,
 * cut, heal, link, clock, start, stop, kill, pause, resume, restart) appends one JSON line to
 * faults.jsonl in the lab's run directory, whoever typed it, so a report can shade the faults of
 * any experiment. docs/history-format.md describes the line. */
#ifndef CAPNET_FAULT_LOG_H
#define CAPNET_FAULT_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "netem/policy/spec.h"

#define FAULT_LOG_NAME "faults.jsonl"
/* The generation is not known to the caller: the log reads the one in force. */
#define FAULT_LOG_READ_GENERATION UINT64_MAX

struct fault_change {
	const char *command; /* "partition", "kill", ... */
	const char *value; /* what it did, naming its nodes: "1,2 | 3-5", "3", "1 --offset 2s" */
	const struct policy *policy; /* after a switch of the filter: its groups; or NULL */
	const struct node_set *nodes; /* else the nodes it acted on, as one group; or NULL */
	uint64_t generation; /* of the filter's policy after the change */
	uint64_t time_ns; /* CLOCK_MONOTONIC, the clock of capctl's histories; 0: now */
};

/* /run/capnet/<lab>/faults.jsonl */
void fault_log_path(const char *lab, char *buf, size_t len);
/* Appends one line. 0 or -errno, with error_note(). */
int fault_log_append(const char *lab, const struct fault_change *c);
/* A command killed between its switch of the filter and its line leaves the switch in force and
 * unlogged. Called under the filter's lock with the state just read, before a new switch: when
 * the policy in force is newer than the last line, appends it (a partition or heal line, its
 * value saying it was logged late, at its own flip instant and generation) so that no fault in
 * force is missing from the log. 0 or -errno. */
struct filter_state;
int fault_log_catch_up(const char *lab, const struct filter_state *now);
/* The words as typed, one blank apart, into buf. */
void fault_log_words(int argc, char **argv, char *buf, size_t len);
/* The log's size now: where the lines of the next commands will start. */
off_t fault_log_size(const char *lab);
/* Copies the lines appended since *from to out, their times counted from origin_ns (the start
 * of a `capnet run`, as its histories are), and moves *from past them. 0 or -errno. */
int fault_log_copy(const char *lab, off_t *from, uint64_t origin_ns, FILE *const *out,
		   unsigned int n_out);

#endif /* CAPNET_FAULT_LOG_H */
