/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the partition specs (netem/policy/): the pieces their parsers, printers and compiler
 * share. Pure, like them. */
#ifndef CAPNET_SPEC_INTERNAL_H
#define CAPNET_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/policy/spec.h"

#define SET_WORDS (CAPNET_NODE_SLOTS / 64)
/* User text quoted in error messages is cut here so a message always fits one line. */
#define QUOTE_MAX 48

/* Every node can need a group of its own, so a lab can never outgrow the filter's groups. */
_Static_assert(CAPNET_MAX_NODES <= CAPNET_MAX_GROUPS, "a lab must fit in the filter's groups");
_Static_assert(CAPNET_MAX_NODES < CAPNET_NODE_SLOTS, "node ids index the slots directly");
_Static_assert(CAPNET_NODE_SLOTS % 64 == 0, "node sets are whole u64 words");

/* A piece of user text, not NUL-terminated. */
struct span {
	const char *s;
	size_t n;
};

/* Arguments for "%.*s%s": the text, cut to QUOTE_MAX with "..." if longer. */
#define QUOTE(sp) \
	(int)((sp).n > QUOTE_MAX ? QUOTE_MAX : (sp).n), (sp).s, ((sp).n > QUOTE_MAX ? "..." : "")

/* spec_text.c: error text, spans of user text, bounded output */
int spec_fail(struct spec_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct span span_of(const char *s);
struct span span_trim(struct span sp);
bool span_is(struct span sp, const char *word);
/* Splits `*rest` at the first `sep`: returns the part before it and leaves the part after it in
 * `*rest`; `*more` says whether a separator was found. */
struct span span_next(struct span *rest, char sep, bool *more);
const char *spec_plural(unsigned int n);
int spec_check_lab(unsigned int nodes, struct spec_error *err);

/* Bounded output with snprintf rules: writes what fits, counts everything. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A fast path for the node numbers that make up nearly all of a large partition's text. */
void out_text(struct out *o, const char *text, size_t n);
void out_uint(struct out *o, unsigned int v);
int out_end(struct out *o);

/* nodeset.c */
/* The first member at or after `from`, or CAPNET_NODE_SLOTS if none. */
unsigned int nodeset_next(const struct node_set *s, unsigned int from);
bool nodeset_empty(const struct node_set *s);
bool nodeset_equal(const struct node_set *a, const struct node_set *b);
/* Nodes 1..nodes. */
void nodeset_all(struct node_set *s, unsigned int nodes);
int nodeset_check_node(unsigned int node, struct span text, unsigned int nodes,
		       struct spec_error *err);
int nodeset_parse_span(struct span text, unsigned int nodes, struct node_set *out,
		       struct spec_error *err);
/* Runs of three or more read better as ranges; a pair stays "1,2". */
void out_nodeset(struct out *o, const struct node_set *s);

/* partition.c */
/* Writes the relation of disjoint groups covering 1..nodes: blocked across groups, open within.
 * Group ids are below CAPNET_NODE_SLOTS. */
void partition_build_groups(struct partition *p, unsigned int nodes, const uint16_t *group_of);
/* Collects the groups of `capnet partition G1 G2 ...` one at a time. */
struct group_builder {
	unsigned int nodes;
	unsigned int groups;
	struct node_set named;
	uint16_t group_of[CAPNET_NODE_SLOTS];
};
void groups_begin(struct group_builder *b, unsigned int nodes);
int groups_add(struct group_builder *b, struct span text, struct spec_error *err);
void groups_finish(struct group_builder *b, struct partition *p);

/* policy.c: classes, nodes that every other node treats alike */
struct classes {
	unsigned int count;
	uint16_t group_of[CAPNET_NODE_SLOTS]; /* [node]: class, in order of first node */
	uint16_t first[CAPNET_NODE_SLOTS]; /* [class]: its first node */
};
/* Rejects what no partition can mean: a bad size, nodes outside the lab, a node cut from
 * itself (a node always reaches itself; its own frames never cross the switch). */
int spec_check_partition(const struct partition *p, struct spec_error *err);
/* Two nodes share a class when their rows and their columns of the blocked relation are
 * equal: the fewest groups. */
int spec_classify(const struct partition *p, struct classes *c, struct spec_error *err);
/* Whether class a can send to class b. */
bool spec_class_reaches(const struct partition *p, const struct classes *c, unsigned int a,
			unsigned int b);

#endif /* CAPNET_SPEC_INTERNAL_H */
