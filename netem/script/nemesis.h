/* SPDX-License-Identifier: GPL-2.0-only */
/* The nemesis of `capnet run`: `nemesis KINDS --interval T [--duration T] [--seed S]
 * [--name SERVICE]` draws faults at random from KINDS, one every other interval, each healed
 * an interval later, and everything healed at the end. The schedule is a pure function of the
 * seed, the kinds, the times and the lab's size: drawn again it is the same, step for step, and
 * written out as timed capnet steps it replays. No I/O, no clock. */
#ifndef CAPNET_NEMESIS_H
#define CAPNET_NEMESIS_H

#include <stddef.h>
#include <stdint.h>

enum nemesis_kind {
	NEMESIS_PARTITION, /* one of the presets */
	NEMESIS_CUT, /* a one-way cut between two random sets */
	NEMESIS_ISOLATE, /* one node alone */
	NEMESIS_LOSS, /* loss on every link */
	NEMESIS_DELAY, /* delay on every link */
	NEMESIS_KILL, /* SIGKILL a minority's service, restarted at the heal */
	NEMESIS_PAUSE, /* SIGSTOP a minority's service, resumed at the heal */
	NEMESIS_CLOCK,
	NEMESIS_CORRUPT,
	NEMESIS_KINDS,
};

struct nemesis_plan {
	unsigned int kinds; /* bits of enum nemesis_kind */
	long interval_ms;
	long duration_ms; /* -1: as long as the loads started before it */
	uint64_t seed;
	int has_seed;
	const char *name; /* the service kill and pause act on (--name), or NULL */
};

#define NEMESIS_COMMAND_MAX 160

/* One timed capnet command of the schedule: at this offset from the nemesis's start. */
struct nemesis_step {
	long at_ms;
	int heal; /* it ends a fault */
	char command[NEMESIS_COMMAND_MAX]; /* capnet's words, blank-separated */
};

const char *nemesis_kind_name(enum nemesis_kind k);
/* The words after `nemesis`. 0, or -EINVAL with a message for a person in err (an unknown
 * kind lists the known ones). */
int nemesis_parse(int argc, char *const argv[], struct nemesis_plan *p, char *err, size_t errlen);
/* Draws the whole schedule for a lab of `nodes` nodes over duration_ms (which must be set):
 * up to max steps into out, *n of them. 0; -ENOSPC when max is too small; -EINVAL with err
 * when the lab cannot take a kind (a cut or a partition of one node). */
int nemesis_schedule(const struct nemesis_plan *p, unsigned int nodes, struct nemesis_step *out,
		     size_t max, size_t *n, char *err, size_t errlen);

#endif /* CAPNET_NEMESIS_H */
