// SPDX-License-Identifier: GPL-2.0-only
/* The printed form of a partition ("1,2 | 3-5; cut 1 -> 4") and its parser, exact inverses
 * of each other. Pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/policy/spec_internal.h"

static unsigned int uf_find(uint16_t *parent, unsigned int x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* One "cut S -> D" of the printed form: the sources share the same destinations. */
struct cut_line {
	struct node_set to;
	struct node_set from;
	unsigned int first;
};

static int cmp_cut_to(const void *a, const void *b)
{
	const struct cut_line *x = a, *y = b;

	for (int w = SET_WORDS - 1; w >= 0; w--)
		if (x->to.bits[w] != y->to.bits[w])
			return x->to.bits[w] < y->to.bits[w] ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

static int cmp_cut_first(const void *a, const void *b)
{
	const struct cut_line *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* The groups are the connected parts of "a reaches b or b reaches a": the finest split whose
 * groups are all mutually blocked, so it explains as many blocked pairs as groups can. What is
 * left is blocked within a group, printed as cuts whose sources share their destinations. */
int partition_format(const struct partition *p, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	struct classes *c = NULL;
	struct node_set *comp_set = NULL;
	struct cut_line *cuts = NULL;
	uint16_t *parent = NULL, *comp_of = NULL;
	unsigned int ncomp = 0, ncuts = 0, k;
	const char *sep = "";
	int rc;

	if (spec_check_lab(p->nodes, NULL))
		return -EINVAL;
	if (partition_is_healed(p)) {
		out_printf(&o, "healthy");
		return out_end(&o);
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = spec_classify(p, c, NULL);
	if (rc)
		goto cleanup;
	k = c->count;
	rc = -ENOMEM;
	parent = malloc(k * sizeof(*parent));
	comp_of = malloc(k * sizeof(*comp_of));
	comp_set = calloc(k, sizeof(*comp_set));
	cuts = calloc(k, sizeof(*cuts));
	if (!parent || !comp_of || !comp_set || !cuts)
		goto cleanup;

	for (unsigned int a = 0; a < k; a++)
		parent[a] = (uint16_t)a;
	for (unsigned int a = 0; a < k; a++)
		for (unsigned int b = a + 1; b < k; b++)
			if (spec_class_reaches(p, c, a, b) || spec_class_reaches(p, c, b, a))
				parent[uf_find(parent, a)] = (uint16_t)uf_find(parent, b);
	/* Classes are numbered by first node, so this numbers the groups by first node too. */
	for (unsigned int a = 0; a < k; a++)
		comp_of[a] = UINT16_MAX;
	for (unsigned int a = 0; a < k; a++) {
		unsigned int root = uf_find(parent, a);

		if (comp_of[root] == UINT16_MAX)
			comp_of[root] = (uint16_t)ncomp++;
		comp_of[a] = comp_of[root];
	}
	for (unsigned int i = 1; i <= p->nodes; i++)
		nodeset_add(&comp_set[comp_of[c->group_of[i]]], i);

	/* cuts[a]: what class a cannot reach within its own group; then drop the empty ones. */
	for (unsigned int a = 0; a < k; a++) {
		const struct node_set *row = &p->blocked_to[c->first[a]];
		const struct node_set *own = &comp_set[comp_of[a]];

		for (int w = 0; w < SET_WORDS; w++)
			cuts[a].to.bits[w] = row->bits[w] & own->bits[w];
		cuts[a].first = c->first[a];
	}
	for (unsigned int i = 1; i <= p->nodes; i++)
		nodeset_add(&cuts[c->group_of[i]].from, i);
	for (unsigned int a = 0; a < k; a++)
		if (!nodeset_empty(&cuts[a].to))
			cuts[ncuts++] = cuts[a];
	/* Merge sources with the same destinations. They are disjoint from them: a source among
	 * its own destinations would be cut from itself. */
	qsort(cuts, ncuts, sizeof(*cuts), cmp_cut_to);
	{
		unsigned int merged = 0;

		for (unsigned int i = 0; i < ncuts; i++) {
			if (merged && nodeset_equal(&cuts[merged - 1].to, &cuts[i].to)) {
				for (int w = 0; w < SET_WORDS; w++)
					cuts[merged - 1].from.bits[w] |= cuts[i].from.bits[w];
			} else {
				cuts[merged++] = cuts[i];
			}
		}
		ncuts = merged;
	}
	qsort(cuts, ncuts, sizeof(*cuts), cmp_cut_first);

	if (ncomp > 1) {
		for (unsigned int g = 0; g < ncomp; g++) {
			out_printf(&o, "%s", g ? " | " : "");
			out_nodeset(&o, &comp_set[g]);
		}
		sep = "; ";
	}
	for (unsigned int i = 0; i < ncuts; i++) {
		out_printf(&o, "%scut ", sep);
		out_nodeset(&o, &cuts[i].from);
		out_printf(&o, " -> ");
		out_nodeset(&o, &cuts[i].to);
		sep = "; ";
	}
	rc = out_end(&o);
cleanup:
	free(cuts);
	free(comp_set);
	free(comp_of);
	free(parent);
	free(c);
	return rc;
}

static int parse_cut(struct partition *p, struct span clause, struct spec_error *err)
{
	struct span body = span_trim((struct span){ clause.s + 3, clause.n - 3 });
	struct node_set from, to;
	const char *arrow = memmem(body.s, body.n, "->", 2);
	int rc;

	if (!arrow)
		return spec_fail(err, "bad cut \"%.*s%s\" (write: cut FROM -> TO)", QUOTE(clause));
	rc = nodeset_parse_span(span_trim((struct span){ body.s, (size_t)(arrow - body.s) }),
				p->nodes, &from, err);
	if (!rc)
		rc = nodeset_parse_span(span_trim((struct span){
						arrow + 2, body.n - (size_t)(arrow - body.s) - 2 }),
					p->nodes, &to, err);
	if (!rc)
		rc = partition_cut(p, &from, &to, err);
	return rc;
}

static int parse_groups(struct partition *p, unsigned int nodes, struct span clause,
			struct spec_error *err)
{
	struct group_builder *b = malloc(sizeof(*b));
	struct span rest = clause;
	bool more = true;
	int rc = 0;

	if (!b)
		return -ENOMEM;
	groups_begin(b, nodes);
	while (more && !rc)
		rc = groups_add(b, span_trim(span_next(&rest, '|', &more)), err);
	if (!rc)
		groups_finish(b, p);
	free(b);
	return rc;
}

int partition_parse(struct partition *p, unsigned int nodes, const char *text,
		    struct spec_error *err)
{
	struct span rest = span_of(text);
	struct partition *tmp;
	bool more = true;
	int rc = spec_check_lab(nodes, err);

	if (rc)
		return rc;
	if (!span_trim(rest).n)
		return spec_fail(err, "empty partition (write e.g. \"healthy\" or \"1,2 | 3-5\")");
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	partition_heal(tmp, nodes);
	for (unsigned int i = 0; more && !rc; i++) {
		struct span clause = span_trim(span_next(&rest, ';', &more));
		bool is_cut = clause.n > 3 && !memcmp(clause.s, "cut", 3) &&
			      (clause.s[3] == ' ' || clause.s[3] == '\t');

		if (!clause.n)
			rc = spec_fail(err, "empty clause in partition \"%.*s%s\"",
				       QUOTE(span_of(text)));
		else if (span_is(clause, "healthy"))
			rc = i || more ? spec_fail(err, "\"healthy\" stands alone") : 0;
		else if (is_cut)
			rc = parse_cut(tmp, clause, err);
		else if (memmem(clause.s, clause.n, "->", 2))
			rc = spec_fail(err, "\"%.*s%s\" is not a cut (write: cut FROM -> TO)",
				       QUOTE(clause));
		else if (i)
			rc = spec_fail(err,
				       "\"%.*s%s\" is not a cut (groups come first, then cuts)",
				       QUOTE(clause));
		else
			rc = parse_groups(tmp, nodes, clause, err);
	}
	if (!rc)
		memcpy(p, tmp, sizeof(*p));
	free(tmp);
	return rc;
}
