/* SPDX-License-Identifier: GPL-2.0-only */
/* Partition specs: node sets, groups, one-way cuts and presets, parsed and compiled into the
 * filter's policy (group of every node, reach bits between groups). Pure: no I/O, no clock. */
#ifndef CAPNET_SPEC_H
#define CAPNET_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/partition.h"

/* A set of node ids (bit i = node i; node ids run from 1). */
struct node_set {
	uint64_t bits[CAPNET_NODE_SLOTS / 64];
};

/* The directed relation a partition imposes: which node cannot send to which. Every frame
 * between two nodes is decided by it alone (loss and duplication are separate). */
struct partition {
	unsigned int nodes; /* nodes in the lab, 1..CAPNET_MAX_NODES */
	struct node_set blocked_to[CAPNET_NODE_SLOTS]; /* [src]: nodes src cannot reach */
};

/* The filter's form of a partition: nodes with the same view share a group. */
struct policy {
	unsigned int nodes;
	unsigned int groups; /* groups in use, numbered 0..groups-1 */
	uint16_t group_of[CAPNET_NODE_SLOTS]; /* [node]: its group; slot 0 unused */
	uint64_t reach[CAPNET_REACH_WORDS]; /* bit (from * MAX_GROUPS + to): from reaches to */
};

/* Error text for the user, filled by every function that can fail on input. */
struct spec_error {
	char msg[256];
};

/* node_set */
void nodeset_clear(struct node_set *s);
void nodeset_add(struct node_set *s, unsigned int node);
bool nodeset_has(const struct node_set *s, unsigned int node);
unsigned int nodeset_count(const struct node_set *s);
/* "3", "1,2", "3-5", "1,4-6,9" or "all". Fails on a node out of 1..nodes, an empty list, a
 * reversed range, or junk. */
int nodeset_parse(const char *text, unsigned int nodes, struct node_set *out,
		  struct spec_error *err);
/* Shortest form: "1,2,4-7". Returns the length written (snprintf rules). */
int nodeset_format(const struct node_set *s, char *buf, size_t len);

/* partition */
void partition_heal(struct partition *p, unsigned int nodes);
bool partition_is_healed(const struct partition *p);
/* `capnet partition G1 G2 ...`: nodes not named form one more group. Fails on a node in two
 * groups, an empty group, a node out of range. */
int partition_from_groups(struct partition *p, unsigned int nodes, int ngroups,
			  char *const groups[], struct spec_error *err);
/* Jepsen-style presets: halves, random-halves, majorities-ring, bridge, isolate-random. The
 * random ones draw from `seed` alone, so a seed replays. */
int partition_preset(struct partition *p, unsigned int nodes, const char *name, uint64_t seed,
		     struct spec_error *err);
/* The preset names, in the order usage text lists them: index 0, 1, ... until NULL. */
const char *partition_preset_name(unsigned int index);
/* `capnet cut FROM TO`: every node of `from` can no longer send to every node of `to`, on top
 * of what is already cut. Fails if the sets share a node. */
int partition_cut(struct partition *p, const struct node_set *from, const struct node_set *to,
		  struct spec_error *err);
/* A line a person reads: "1,2 | 3-5" for symmetric groups, "healthy", and for anything not
 * symmetric the groups plus directed cuts, e.g. "1,2 | 3-5; cut 1 -> 4". The groups are the
 * finest mutually blocked ones (left out when there is only one), the cuts what is blocked
 * within them: "cut 1,2 -> 4,5; cut 4,5 -> 1,2" for a bridge. Exact: partition_parse reads it
 * back. Returns the length (snprintf rules), -EINVAL for an invalid partition, or -ENOMEM. */
int partition_format(const struct partition *p, char *buf, size_t len);
bool partition_blocks(const struct partition *p, unsigned int src, unsigned int dst);
/* The inverse of partition_format: "healthy", "1,2 | 3-5", "cut 1 -> 4", or groups followed by
 * cuts, "1,2 | 3-5; cut 1 -> 2". Groups read as in partition_from_groups (nodes not named form
 * one more group), then every cut applies on top. Fills `p` only on success. */
int partition_parse(struct partition *p, unsigned int nodes, const char *text,
		    struct spec_error *err);

/* policy */
/* Groups nodes with identical rows and columns of the blocked relation: the fewest groups that
 * express the partition exactly. Fails only on a partition no lab can hold (a bad size, nodes
 * outside the lab, a node cut from itself); more than CAPNET_MAX_GROUPS can never be needed, as
 * there are never more groups than nodes (CAPNET_MAX_NODES <= CAPNET_MAX_GROUPS). */
int policy_compile(const struct partition *p, struct policy *out, struct spec_error *err);
/* The inverse, for reading back what the kernel holds. Fails on an inconsistent policy. */
int policy_expand(const struct policy *pol, struct partition *out, struct spec_error *err);
bool policy_reaches(const struct policy *pol, unsigned int from_group, unsigned int to_group);

/* Percentages as users write them: "20%", "0.5%", "20", "0": parts per million. Fails on
 * negatives, over 100%, junk. */
int percent_parse_ppm(const char *text, uint32_t *ppm, struct spec_error *err);

#endif /* CAPNET_SPEC_H */
