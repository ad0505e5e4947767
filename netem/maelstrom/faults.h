/* SPDX-License-Identifier: GPL-2.0-only */
/* The faults of maelstrom test: the nemesis schedule of netem/script (one vocabulary with
 * `capnet run`: partition, kill, pause), drawn from a seed so that it replays, and the
 * partitions and heals done through the filter's API. */
#ifndef CAPNET_MAELSTROM_FAULTS_H
#define CAPNET_MAELSTROM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/script/nemesis.h"

struct mael_faults {
	struct nemesis_step *steps; /* in time order: a fault, its heal, the next fault... */
	size_t n;
};

/* Draws the schedule of `kinds` (bits of enum nemesis_kind) for a run of duration_s: a fault
 * every other interval_s, each healed interval_s later. 0, or -errno with error_note. */
int mael_faults_draw(unsigned int kinds, double interval_s, double duration_s, uint64_t seed,
		     unsigned int nodes, struct mael_faults *out);
void mael_faults_free(struct mael_faults *f);

/* The nodes of a kill, pause, restart or resume step ("kill 1,3"): victims[i] for n<i>, and
 * their Maelstrom names ("n0,n2") in names. 0, or -EINVAL. */
int mael_nodes_of(const char *command, unsigned int nodes, bool *victims, char *names, size_t len);

/* Does a partition step ("partition --preset halves", "partition --preset P --seed S") or a
 * "heal" on the lab's filter, as capnet partition and heal would, and writes the groups in force
 * in Maelstrom's names ("n0,n1 | n2"); the lab's fault log gets the line capnet partition
 * would write. 0, or -errno with error_note. */
int mael_switch(const char *lab, unsigned int nodes, const char *command, char *groups, size_t len);
/* A kill, pause, restart or resume of the victims (victims[i] for n<i>) in the lab's fault log,
 * as capnet kill and its kin write it. 0, or -errno with error_note. */
int mael_log_nodes(const char *lab, const char *command, unsigned int nodes, const bool *victims);

#endif /* CAPNET_MAELSTROM_FAULTS_H */
