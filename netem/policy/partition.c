// SPDX-License-Identifier: GPL-2.0-only
/* The partition relation: who cannot send to whom, healed, split into groups
 * (`capnet partition G1 G2 ...`) or cut one way (`capnet cut`). Pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/policy/spec_internal.h"

void partition_heal(struct partition *p, unsigned int nodes)
{
	memset(p, 0, sizeof(*p));
	p->nodes = nodes;
}

bool partition_is_healed(const struct partition *p)
{
	for (unsigned int i = 0; i < CAPNET_NODE_SLOTS; i++)
		if (!nodeset_empty(&p->blocked_to[i]))
			return false;
	return true;
}

bool partition_blocks(const struct partition *p, unsigned int src, unsigned int dst)
{
	return src < CAPNET_NODE_SLOTS && nodeset_has(&p->blocked_to[src], dst);
}

/* Writes the relation of disjoint groups covering 1..nodes: blocked across groups, open within.
 * Group ids are below CAPNET_NODE_SLOTS. */
void partition_build_groups(struct partition *p, unsigned int nodes, const uint16_t *group_of)
{
	uint16_t first[CAPNET_NODE_SLOTS] = { 0 };
	struct node_set all;

	partition_heal(p, nodes);
	nodeset_all(&all, nodes);
	/* The first node of each group holds the group's members until the others are done. */
	for (unsigned int i = 1; i <= nodes; i++) {
		if (!first[group_of[i]])
			first[group_of[i]] = (uint16_t)i;
		nodeset_add(&p->blocked_to[first[group_of[i]]], i);
	}
	for (unsigned int i = 1; i <= nodes; i++) {
		const struct node_set *members = &p->blocked_to[first[group_of[i]]];

		if (first[group_of[i]] == i)
			continue;
		for (int w = 0; w < SET_WORDS; w++)
			p->blocked_to[i].bits[w] = all.bits[w] & ~members->bits[w];
	}
	for (unsigned int i = 1; i <= nodes; i++) {
		if (first[group_of[i]] != i)
			continue;
		for (int w = 0; w < SET_WORDS; w++)
			p->blocked_to[i].bits[w] = all.bits[w] & ~p->blocked_to[i].bits[w];
	}
}

void groups_begin(struct group_builder *b, unsigned int nodes)
{
	memset(b, 0, sizeof(*b));
	b->nodes = nodes;
}

int groups_add(struct group_builder *b, struct span text, struct spec_error *err)
{
	struct node_set set;
	int rc;

	if (!text.n)
		return spec_fail(err, "group %u is empty", b->groups + 1);
	rc = nodeset_parse_span(text, b->nodes, &set, err);
	if (rc)
		return rc;
	for (unsigned int i = nodeset_next(&set, 1); i < CAPNET_NODE_SLOTS;
	     i = nodeset_next(&set, i + 1)) {
		if (nodeset_has(&b->named, i))
			return spec_fail(err, "node %u is in two groups", i);
		nodeset_add(&b->named, i);
		b->group_of[i] = (uint16_t)b->groups;
	}
	b->groups++;
	return 0;
}

void groups_finish(struct group_builder *b, struct partition *p)
{
	/* Nodes nobody named form one more group, so `partition 3` isolates node 3. */
	for (unsigned int i = 1; i <= b->nodes; i++)
		if (!nodeset_has(&b->named, i))
			b->group_of[i] = (uint16_t)b->groups;
	partition_build_groups(p, b->nodes, b->group_of);
}

int partition_from_groups(struct partition *p, unsigned int nodes, int ngroups,
			  char *const groups[], struct spec_error *err)
{
	struct group_builder b;
	int rc = spec_check_lab(nodes, err);

	if (rc)
		return rc;
	if (ngroups < 1)
		return spec_fail(err, "a partition needs at least one group of nodes");
	groups_begin(&b, nodes);
	for (int g = 0; g < ngroups; g++) {
		rc = groups_add(&b, span_of(groups[g]), err);
		if (rc)
			return rc;
	}
	groups_finish(&b, p);
	return 0;
}

int partition_cut(struct partition *p, const struct node_set *from, const struct node_set *to,
		  struct spec_error *err)
{
	unsigned int nodes = p->nodes;
	struct node_set all;
	int rc = spec_check_lab(nodes, err);

	if (rc)
		return rc;
	if (nodeset_empty(from) || nodeset_empty(to))
		return spec_fail(err, "a cut needs at least one node on each side");
	nodeset_all(&all, nodes);
	for (int w = 0; w < SET_WORDS; w++) {
		uint64_t stray = (from->bits[w] | to->bits[w]) & ~all.bits[w];
		uint64_t both = from->bits[w] & to->bits[w];

		if (stray)
			return nodeset_check_node(w * 64 + (unsigned int)__builtin_ctzll(stray),
						  span_of(""), nodes, err);
		if (both)
			return spec_fail(err, "node %u is on both sides of the cut",
					 w * 64 + (unsigned int)__builtin_ctzll(both));
	}
	for (unsigned int i = nodeset_next(from, 1); i < CAPNET_NODE_SLOTS;
	     i = nodeset_next(from, i + 1))
		for (int w = 0; w < SET_WORDS; w++)
			p->blocked_to[i].bits[w] |= to->bits[w];
	return 0;
}
