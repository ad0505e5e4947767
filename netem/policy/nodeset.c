// SPDX-License-Identifier: GPL-2.0-only
/* Node sets: "1,4-6,9" or "all" parsed against a lab's size, and printed back in their
 * shortest form. Pure. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/policy/spec_internal.h"

void nodeset_clear(struct node_set *s)
{
	memset(s, 0, sizeof(*s));
}

void nodeset_add(struct node_set *s, unsigned int node)
{
	if (node < CAPNET_NODE_SLOTS)
		s->bits[node / 64] |= 1ULL << (node % 64);
}

bool nodeset_has(const struct node_set *s, unsigned int node)
{
	return node < CAPNET_NODE_SLOTS && (s->bits[node / 64] >> (node % 64)) & 1;
}

unsigned int nodeset_count(const struct node_set *s)
{
	unsigned int n = 0;

	for (int i = 0; i < SET_WORDS; i++)
		n += (unsigned int)__builtin_popcountll(s->bits[i]);
	return n;
}

/* The first member at or after `from`, or CAPNET_NODE_SLOTS if none. */
unsigned int nodeset_next(const struct node_set *s, unsigned int from)
{
	unsigned int w = from / 64;
	uint64_t bits;

	if (from >= CAPNET_NODE_SLOTS)
		return CAPNET_NODE_SLOTS;
	bits = s->bits[w] & (~0ULL << (from % 64));
	while (!bits) {
		if (++w == SET_WORDS)
			return CAPNET_NODE_SLOTS;
		bits = s->bits[w];
	}
	return w * 64 + (unsigned int)__builtin_ctzll(bits);
}

bool nodeset_empty(const struct node_set *s)
{
	for (int i = 0; i < SET_WORDS; i++)
		if (s->bits[i])
			return false;
	return true;
}

bool nodeset_equal(const struct node_set *a, const struct node_set *b)
{
	return !memcmp(a->bits, b->bits, sizeof(a->bits));
}

/* Nodes 1..nodes. */
void nodeset_all(struct node_set *s, unsigned int nodes)
{
	nodeset_clear(s);
	for (unsigned int w = 0; w <= nodes / 64; w++) {
		unsigned int hi = nodes - w * 64; /* highest bit of this word in range, if < 64 */

		s->bits[w] = hi >= 63 ? ~0ULL : (2ULL << hi) - 1;
	}
	s->bits[0] &= ~1ULL;
}

/* A node number: digits only. Saturates, so huge numbers still read as out of range. */
static bool parse_number(struct span sp, unsigned int *out)
{
	unsigned long v = 0;

	if (!sp.n)
		return false;
	for (size_t i = 0; i < sp.n; i++) {
		if (sp.s[i] < '0' || sp.s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(sp.s[i] - '0');
		if (v > UINT_MAX / 16)
			v = UINT_MAX / 16;
	}
	*out = (unsigned int)v;
	return true;
}

int nodeset_check_node(unsigned int node, struct span text, unsigned int nodes,
		       struct spec_error *err)
{
	if (node >= 1 && node <= nodes)
		return 0;
	if (node == UINT_MAX / 16) /* saturated: say it as written */
		return spec_fail(err, "node %.*s%s is out of range (the lab has %u node%s)",
				 QUOTE(text), nodes, spec_plural(nodes));
	return spec_fail(err, "node %u is out of range (the lab has %u node%s)", node, nodes,
			 spec_plural(nodes));
}

static int parse_item(struct span item, struct span list, unsigned int nodes, struct node_set *set,
		      struct spec_error *err)
{
	const char *dash = memchr(item.s, '-', item.n);
	struct span lo_text, hi_text;
	unsigned int lo, hi;
	int rc;

	if (!item.n)
		return spec_fail(err, "empty item in node list \"%.*s%s\"", QUOTE(list));
	if (span_is(item, "all"))
		return spec_fail(err, "\"all\" stands alone, not in a list (\"%.*s%s\")",
				 QUOTE(list));
	if (!dash) {
		if (!parse_number(item, &lo))
			return spec_fail(err, "\"%.*s%s\" is not a node number", QUOTE(item));
		rc = nodeset_check_node(lo, item, nodes, err);
		if (rc)
			return rc;
		/* "1,1,1" is a slip, as "1 1" is: refused either way. */
		if (nodeset_has(set, lo))
			return spec_fail(err, "node %u is named twice in \"%.*s%s\"", lo,
					 QUOTE(list));
		nodeset_add(set, lo);
		return 0;
	}
	lo_text = (struct span){ item.s, (size_t)(dash - item.s) };
	hi_text = (struct span){ dash + 1, item.n - lo_text.n - 1 };
	if (!parse_number(lo_text, &lo) || !parse_number(hi_text, &hi) || lo > hi)
		return spec_fail(err, "bad range \"%.*s%s\"", QUOTE(item));
	rc = nodeset_check_node(lo, lo_text, nodes, err);
	if (!rc)
		rc = nodeset_check_node(hi, hi_text, nodes, err);
	if (rc)
		return rc;
	for (unsigned int i = lo; i <= hi; i++) {
		if (nodeset_has(set, i))
			return spec_fail(err, "node %u is named twice in \"%.*s%s\"", i,
					 QUOTE(list));
		nodeset_add(set, i);
	}
	return 0;
}

int nodeset_parse_span(struct span text, unsigned int nodes, struct node_set *out,
		       struct spec_error *err)
{
	struct span rest = text;
	struct node_set set;
	bool more = true;
	int rc = spec_check_lab(nodes, err);

	if (rc)
		return rc;
	if (!text.n)
		return spec_fail(err, "empty node list");
	nodeset_clear(&set);
	if (span_is(text, "all")) {
		nodeset_all(&set, nodes);
	} else {
		while (more) {
			rc = parse_item(span_next(&rest, ',', &more), text, nodes, &set, err);
			if (rc)
				return rc;
		}
	}
	*out = set;
	return 0;
}

int nodeset_parse(const char *text, unsigned int nodes, struct node_set *out,
		  struct spec_error *err)
{
	return nodeset_parse_span(span_of(text), nodes, out, err);
}

/* Runs of three or more read better as ranges; a pair stays "1,2". */
void out_nodeset(struct out *o, const struct node_set *s)
{
	const char *sep = "";
	unsigned int i = nodeset_next(s, 0);

	while (i < CAPNET_NODE_SLOTS) {
		unsigned int j = i;

		while (nodeset_has(s, j + 1))
			j++;
		out_text(o, sep, strlen(sep));
		out_uint(o, i);
		if (j > i) {
			out_text(o, j == i + 1 ? "," : "-", 1);
			out_uint(o, j);
		}
		sep = ",";
		i = nodeset_next(s, j + 1);
	}
}

int nodeset_format(const struct node_set *s, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	out_nodeset(&o, s);
	return out_end(&o);
}
