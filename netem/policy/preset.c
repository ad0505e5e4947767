// SPDX-License-Identifier: GPL-2.0-only
/* Jepsen-style partition presets (halves, random-halves, majorities-ring, bridge,
 * isolate-random): the random ones draw from their seed alone, so a seed replays. Pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"

#include "netem/policy/spec_internal.h"

/* Uniform in 0..bound-1: rejects the top sliver that would favour small values. */
static unsigned int rng_below(uint64_t *state, unsigned int bound)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t v;

	do
		v = rng_next(state);
	while (v >= limit);
	return (unsigned int)(v % bound);
}

/* order[0..nodes-1]: the nodes 1..nodes, shuffled (Fisher-Yates). */
static void shuffle_nodes(uint16_t *order, unsigned int nodes, uint64_t seed)
{
	uint64_t state = seed;

	for (unsigned int i = 0; i < nodes; i++)
		order[i] = (uint16_t)(i + 1);
	for (unsigned int i = nodes - 1; i > 0; i--) {
		unsigned int j = rng_below(&state, i + 1);
		uint16_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

/* The first floor(n/2) nodes of `order` against the rest. With one node the first side is
 * empty: nothing to split, so the result is healthy rather than an error. */
static void split_halves(struct partition *p, unsigned int nodes, const uint16_t *order)
{
	uint16_t group_of[CAPNET_NODE_SLOTS] = { 0 };

	for (unsigned int i = nodes / 2; i < nodes; i++)
		group_of[order[i]] = 1;
	partition_build_groups(p, nodes, group_of);
}

static void preset_halves(struct partition *p, unsigned int nodes, uint64_t seed)
{
	uint16_t order[CAPNET_NODE_SLOTS];

	(void)seed;
	for (unsigned int i = 0; i < nodes; i++)
		order[i] = (uint16_t)(i + 1);
	split_halves(p, nodes, order);
}

static void preset_random_halves(struct partition *p, unsigned int nodes, uint64_t seed)
{
	uint16_t order[CAPNET_NODE_SLOTS];

	shuffle_nodes(order, nodes, seed);
	split_halves(p, nodes, order);
}

/* Every node sees itself and its nearest r neighbours on each side of a shuffled ring, with the
 * smallest r such that 2r+1 >= floor(n/2)+1: a majority, symmetric, and a different arc for
 * every node while the arc is shorter than the ring. An arc centred on its node has an odd
 * size, so when the majority is even (n = 4k+2 or 4k+3) a node sees one node more than a bare
 * majority. Up to 3 nodes the arc covers the whole ring: healthy. */
static void preset_majorities_ring(struct partition *p, unsigned int nodes, uint64_t seed)
{
	unsigned int r = (nodes / 2 + 1) / 2;
	uint16_t order[CAPNET_NODE_SLOTS];

	shuffle_nodes(order, nodes, seed);
	partition_heal(p, nodes);
	if (2 * r + 1 >= nodes)
		return;
	for (unsigned int i = 0; i < nodes; i++)
		for (unsigned int d = r + 1; d < nodes - r; d++)
			nodeset_add(&p->blocked_to[order[i]], order[(i + d) % nodes]);
}

/* Halves as in `halves`, except that the first node of the second half stays connected to
 * everyone (Jepsen's bridge): 5 nodes give 1,2 | 4,5 with 3 in the middle. With 1 or 2 nodes
 * one side is empty and the result is healthy. */
static void preset_bridge(struct partition *p, unsigned int nodes, uint64_t seed)
{
	unsigned int half = nodes / 2;
	struct node_set left, right;

	(void)seed;
	partition_heal(p, nodes);
	nodeset_clear(&left);
	nodeset_clear(&right);
	for (unsigned int i = 1; i <= half; i++)
		nodeset_add(&left, i);
	for (unsigned int i = half + 2; i <= nodes; i++)
		nodeset_add(&right, i);
	if (nodeset_empty(&left) || nodeset_empty(&right))
		return;
	/* Cannot fail: both sides are nonempty, disjoint and within the lab. */
	partition_cut(p, &left, &right, NULL);
	partition_cut(p, &right, &left, NULL);
}

/* One node, drawn from the seed, alone. A lab of one node has no one to cut it from: healthy. */
static void preset_isolate_random(struct partition *p, unsigned int nodes, uint64_t seed)
{
	uint16_t group_of[CAPNET_NODE_SLOTS] = { 0 };
	uint64_t state = seed;

	group_of[1 + rng_below(&state, nodes)] = 1;
	partition_build_groups(p, nodes, group_of);
}

static const struct preset {
	const char *name;
	void (*build)(struct partition *p, unsigned int nodes, uint64_t seed);
} presets[] = {
	{ "halves", preset_halves },
	{ "random-halves", preset_random_halves },
	{ "majorities-ring", preset_majorities_ring },
	{ "bridge", preset_bridge },
	{ "isolate-random", preset_isolate_random },
};

#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

const char *partition_preset_name(unsigned int index)
{
	return index < NPRESETS ? presets[index].name : NULL;
}

int partition_preset(struct partition *p, unsigned int nodes, const char *name, uint64_t seed,
		     struct spec_error *err)
{
	struct span sp = span_of(name);
	struct out names = { 0 };
	char list[128];
	int rc = spec_check_lab(nodes, err);

	if (rc)
		return rc;
	for (size_t i = 0; i < NPRESETS; i++) {
		if (span_is(sp, presets[i].name)) {
			presets[i].build(p, nodes, seed);
			return 0;
		}
	}
	names = (struct out){ list, sizeof(list), 0 };
	for (size_t i = 0; i < NPRESETS; i++)
		out_printf(&names, "%s%s", i ? ", " : "", presets[i].name);
	out_end(&names);
	return spec_fail(err, "unknown preset \"%.*s%s\" (presets: %s)", QUOTE(sp), list);
}
