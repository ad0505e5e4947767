// SPDX-License-Identifier: GPL-2.0-only
/* Compiling a partition into the filter's policy (the group of every node, reach bits between
 * groups) and expanding it back; the classes both need. Pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/policy/spec_internal.h"

/* Transposes a 64x64 bit block in place (bit j of a[i] <-> bit i of a[j]) by swapping ever
 * smaller sub-blocks: 6 rounds of 32 word operations instead of 4096 bit moves. */
static void transpose64(uint64_t a[64])
{
	uint64_t m = 0x00000000ffffffffULL;

	for (unsigned int j = 32; j; j >>= 1, m ^= m << j) {
		for (unsigned int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
			uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;

			a[k] ^= t << j;
			a[k | j] ^= t;
		}
	}
}

/* cols[dst] = the nodes that cannot send to dst, for the first `words` words. */
static void transpose(const struct node_set *rows, struct node_set *cols, unsigned int words)
{
	uint64_t block[64];

	for (unsigned int bi = 0; bi < words; bi++) {
		for (unsigned int bj = 0; bj < words; bj++) {
			for (unsigned int k = 0; k < 64; k++)
				block[k] = rows[bi * 64 + k].bits[bj];
			transpose64(block);
			for (unsigned int k = 0; k < 64; k++)
				cols[bj * 64 + k].bits[bi] = block[k];
		}
	}
}

static uint64_t hash_words(uint64_t h, const uint64_t *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h;
}

/* Rejects what no partition can mean: a bad size, nodes outside the lab, a node cut from
 * itself (a node always reaches itself; its own frames never cross the switch). */
int spec_check_partition(const struct partition *p, struct spec_error *err)
{
	struct node_set all;
	int rc = spec_check_lab(p->nodes, err);

	if (rc)
		return rc;
	nodeset_all(&all, p->nodes);
	for (unsigned int i = 0; i < CAPNET_NODE_SLOTS; i++) {
		const struct node_set *row = &p->blocked_to[i];

		if (nodeset_empty(row))
			continue;
		if (!nodeset_has(&all, i))
			return spec_fail(err,
					 "the partition cuts node %u, outside the lab of %u node%s",
					 i, p->nodes, spec_plural(p->nodes));
		for (unsigned int w = 0; w < SET_WORDS; w++) {
			uint64_t stray = row->bits[w] & ~all.bits[w];

			if (stray)
				return spec_fail(
					err,
					"the partition cuts node %u from node %u, outside the "
					"lab of %u node%s",
					i, w * 64 + (unsigned int)__builtin_ctzll(stray), p->nodes,
					spec_plural(p->nodes));
		}
		if (nodeset_has(row, i))
			return spec_fail(err, "the partition cuts node %u from itself", i);
	}
	return 0;
}

/* Two nodes share a class when their rows and their columns of the blocked relation are equal:
 * then the relation between any two nodes is a function of their classes, and no coarser
 * grouping is, so this is the fewest groups. Rows and columns are hashed together into an open
 * addressing table, so the work is linear in the size of the matrix. */
int spec_classify(const struct partition *p, struct classes *c, struct spec_error *err)
{
	enum { TABLE = 2 * CAPNET_NODE_SLOTS }; /* a power of two, at most half full */
	unsigned int nodes = p->nodes, words;
	uint16_t slot_node[TABLE] = { 0 };
	uint64_t slot_hash[TABLE];
	struct node_set *cols;
	int rc = spec_check_partition(p, err);

	if (rc)
		return rc;
	/* Sized to the lab: transpose fills the columns of the first `words` words only. */
	words = nodes / 64 + 1;
	cols = calloc(words * 64, sizeof(*cols));
	if (!cols)
		return -ENOMEM;
	transpose(p->blocked_to, cols, words);
	c->count = 0;
	for (unsigned int i = 1; i <= nodes; i++) {
		uint64_t h = hash_words(hash_words(0, p->blocked_to[i].bits, words), cols[i].bits,
					words);
		unsigned int s = (unsigned int)(h ^ (h >> 32)) & (TABLE - 1);

		for (;; s = (s + 1) & (TABLE - 1)) {
			unsigned int j = slot_node[s];

			if (!j) {
				slot_node[s] = (uint16_t)i;
				slot_hash[s] = h;
				c->first[c->count] = (uint16_t)i;
				c->group_of[i] = (uint16_t)c->count++;
				break;
			}
			if (slot_hash[s] == h &&
			    !memcmp(p->blocked_to[i].bits, p->blocked_to[j].bits, words * 8) &&
			    !memcmp(cols[i].bits, cols[j].bits, words * 8)) {
				c->group_of[i] = c->group_of[j];
				break;
			}
		}
	}
	free(cols);
	return 0;
}

/* Whether class a can send to class b. */
bool spec_class_reaches(const struct partition *p, const struct classes *c, unsigned int a,
			unsigned int b)
{
	return !nodeset_has(&p->blocked_to[c->first[a]], c->first[b]);
}

static bool reach_bit(const uint64_t *reach, unsigned int from, unsigned int to)
{
	unsigned int bit = from * CAPNET_MAX_GROUPS + to;

	return (reach[bit / 64] >> (bit % 64)) & 1;
}

bool policy_reaches(const struct policy *pol, unsigned int from_group, unsigned int to_group)
{
	/* Words past the groups in use are never written: a group out of use reaches nothing. */
	return from_group < pol->groups && to_group < pol->groups &&
	       reach_bit(pol->reach, from_group, to_group);
}

int policy_compile(const struct partition *p, struct policy *out, struct spec_error *err)
{
	struct classes c;
	int rc = spec_classify(p, &c, err);

	/* More groups than CAPNET_MAX_GROUPS cannot happen: there are never more classes than
	 * nodes (see the static assertion at the top). */
	if (rc)
		return rc;
	/* Only the words in use are written, not the whole policy (130 KiB for 1,024 groups): the
	 * group of each node and one reach row per group; nothing reads past them. */
	out->nodes = p->nodes;
	out->groups = c.count;
	memcpy(out->group_of, c.group_of, (p->nodes + 1) * sizeof(out->group_of[0]));
	memset(out->reach, 0, c.count * (CAPNET_MAX_GROUPS / 64) * sizeof(out->reach[0]));
	/* Branch-free: with a thousand groups the bits are as good as random. */
	for (unsigned int a = 0; a < c.count; a++) {
		const uint64_t *row = p->blocked_to[c.first[a]].bits;
		uint64_t *reach = &out->reach[a * CAPNET_MAX_GROUPS / 64];

		for (unsigned int b = 0; b < c.count; b++) {
			unsigned int f = c.first[b];

			reach[b / 64] |= (~row[f / 64] >> (f % 64) & 1) << (b % 64);
		}
	}
	return 0;
}

int policy_expand(const struct policy *pol, struct partition *out, struct spec_error *err)
{
	unsigned int nodes = pol->nodes, groups = pol->groups;
	uint16_t first[CAPNET_MAX_GROUPS] = { 0 };

	if (nodes < 1 || nodes > CAPNET_MAX_NODES)
		return spec_fail(err, "the policy has %u nodes (a lab has 1 to %d)", nodes,
				 CAPNET_MAX_NODES);
	if (groups < 1 || groups > CAPNET_MAX_GROUPS)
		return spec_fail(err, "the policy has %u groups (1 to %d are possible)", groups,
				 CAPNET_MAX_GROUPS);
	for (unsigned int i = 1; i <= nodes; i++) {
		unsigned int g = pol->group_of[i];

		if (g >= groups)
			return spec_fail(err,
					 "node %u is in group %u, but the policy has %u group%s", i,
					 g, groups, spec_plural(groups));
		if (!reach_bit(pol->reach, g, g))
			return spec_fail(err, "group %u (node %u) cannot reach itself", g, i);
	}
	partition_heal(out, nodes);
	for (unsigned int i = 1; i <= nodes; i++) {
		unsigned int g = pol->group_of[i];
		struct node_set *row = &out->blocked_to[i];

		/* Members of a group share their row: work it out once per group. */
		if (first[g]) {
			*row = out->blocked_to[first[g]];
			continue;
		}
		first[g] = (uint16_t)i;
		for (unsigned int j = 1; j <= nodes; j++)
			row->bits[j / 64] |= (uint64_t)!reach_bit(pol->reach, g, pol->group_of[j])
					     << (j % 64);
	}
	return 0;
}
