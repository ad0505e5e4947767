/* SPDX-License-Identifier: GPL-2.0-only */
/* Scenario scripts for `capnet run`: a timed list of steps, one per line. Parsing only: no I/O,
 * no clock, so every script error is found, with its line, before anything runs.
 *
 *	# the five-node split, under load
 *	start cp
 *	load --clients 5 --duration 10s --workload register --history h.jsonl
 *	at 2s partition 1,2 3-5
 *	at 5s kill 3
 *	at 6s restart 3
 *	at 8s heal
 *	wait
 *	check register h.jsonl
 *
 * A line is an optional `at TIME` (from the start of the run; times never go back), then one
 * action:
 * - a capnet command (partition, cut, heal, link, start, stop, kill, restart, pause, resume,
 *   status, exec, clock; words may be quoted with '...');
 * - `load ARGS` (capctl load, in the background), `wait` (for every load), `sleep TIME`;
 * - `capctl ARGS` (one capctl command, say `capctl -n 1 put k v`, which must succeed);
 * - `check MODEL HISTORY` (register, bank, set or append; a violation fails the run) and
 *   `expect-violation MODEL HISTORY` (the same check, where a violation is the expected
 *   verdict);
 * - `expect-lost-writes HISTORY` (the AP report of a register history must find a lost write);
 * - `expect-unavailable NODE` and `expect-ok NODE` (a write through NODE is refused / accepted);
 * - `record DIR --duration T` (captrace record in the background; `wait` waits for it too),
 *   `report DIR` (captrace);
 * - `nemesis KINDS --interval T [--duration T] [--seed S] [--name SERVICE]`, which plays its
 *   drawn faults before the next line runs. */
#ifndef CAPNET_SCENARIO_H
#define CAPNET_SCENARIO_H

#include <stddef.h>

#define SCENARIO_MAX_ARGS 64
#define SCENARIO_MAX_STEPS 1024

enum scenario_action {
	SCENARIO_CAPNET, /* argv is a capnet command */
	SCENARIO_LOAD,
	SCENARIO_WAIT,
	SCENARIO_SLEEP,
	SCENARIO_CHECK,
	SCENARIO_EXPECT_VIOLATION, /* check, and the run passes only if the checker finds one */
	SCENARIO_EXPECT_UNAVAILABLE,
	SCENARIO_EXPECT_OK,
	SCENARIO_REPORT,
	SCENARIO_RECORD, /* captrace record, in the background until its duration or the end */
	SCENARIO_NEMESIS, /* faults drawn at random from a seed (netem/script/nemesis.h), healed by the end */
	SCENARIO_CAPCTL, /* argv[1..] is a capctl command (one request, say), which must succeed */
	SCENARIO_EXPECT_LOST, /* the AP report of a register history must find a lost write */
};

struct scenario_step {
	unsigned int line;
	long at_ms; /* -1: right after the previous step */
	long sleep_ms;
	enum scenario_action action;
	int argc;
	char *argv[SCENARIO_MAX_ARGS + 1]; /* into the scenario's own copy of the text */
};

struct scenario {
	char *text;
	unsigned int nsteps;
	struct scenario_step steps[SCENARIO_MAX_STEPS];
};

/* Parses a whole script. Returns 0, or -EINVAL with "LINE: what" in err. */
int scenario_parse(const char *text, struct scenario *sc, char *err, size_t errlen);
void scenario_free(struct scenario *sc);
/* "2s", "500ms", "1.5s", "3" (seconds): milliseconds, or -1. */
long scenario_parse_time(const char *text);
const char *scenario_action_name(enum scenario_action a);
/* The history a load step writes (its --history), or NULL. */
const char *scenario_load_history(const struct scenario_step *st);
/* Every node a step names (a partition's groups, a cut's ends, kill 2, clock 1,3, load --nodes
 * 1-5, capctl -n 4) exists in a lab of `nodes` nodes: 0, or -ERANGE with "LINE: what" in err,
 * so that a script, a replayed nemesis among them, is refused before anything runs. */
int scenario_check_nodes(const struct scenario *sc, unsigned int nodes, char *err, size_t errlen);
/* The history a capctl step appends to (its --history), or NULL. */
const char *scenario_capctl_history(const struct scenario_step *st);
/* Where the faults of a run go beside a history: h.jsonl -> h.faults.jsonl. */
void scenario_faults_path(const char *history, char *buf, size_t len);

#endif /* CAPNET_SCENARIO_H */
