// SPDX-License-Identifier: GPL-2.0-only
/* Partition specs: the node-list and percentage parsers, groups, cuts and Jepsen-style presets,
 * the printed form of a partition and its parser, and the compiler into the filter's policy. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
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

static int fail(struct spec_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct spec_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Arguments for "%.*s%s": the text, cut to QUOTE_MAX with "..." if longer. */
#define QUOTE(sp) \
	(int)((sp).n > QUOTE_MAX ? QUOTE_MAX : (sp).n), (sp).s, ((sp).n > QUOTE_MAX ? "..." : "")

static struct span span_of(const char *s)
{
	return (struct span){ s ? s : "", s ? strlen(s) : 0 };
}

static struct span span_trim(struct span sp)
{
	while (sp.n && (sp.s[0] == ' ' || sp.s[0] == '\t')) {
		sp.s++;
		sp.n--;
	}
	while (sp.n && (sp.s[sp.n - 1] == ' ' || sp.s[sp.n - 1] == '\t'))
		sp.n--;
	return sp;
}

static bool span_is(struct span sp, const char *word)
{
	return sp.n == strlen(word) && !memcmp(sp.s, word, sp.n);
}

/* Splits `*rest` at the first `sep`: returns the part before it and leaves the part after it in
 * `*rest`; `*more` says whether a separator was found. */
static struct span span_next(struct span *rest, char sep, bool *more)
{
	const char *at = memchr(rest->s, sep, rest->n);
	struct span head = *rest;

	*more = at != NULL;
	if (!at) {
		rest->s += rest->n;
		rest->n = 0;
		return head;
	}
	head.n = (size_t)(at - rest->s);
	rest->n -= head.n + 1;
	rest->s = at + 1;
	return head;
}

static const char *plural(unsigned int n)
{
	return n == 1 ? "" : "s";
}

static int check_lab(unsigned int nodes, struct spec_error *err)
{
	if (nodes < 1 || nodes > CAPNET_MAX_NODES)
		return fail(err, "a lab has 1 to %d nodes, not %u", CAPNET_MAX_NODES, nodes);
	return 0;
}

/* Bounded output with snprintf rules: writes what fits, counts everything. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->pos < o->len)
		n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* A fast path for the node numbers that make up nearly all of a large partition's text. */
static void out_text(struct out *o, const char *text, size_t n)
{
	if (o->pos < o->len)
		memcpy(o->buf + o->pos, text, n < o->len - o->pos ? n : o->len - o->pos);
	o->pos += n;
}

static void out_uint(struct out *o, unsigned int v)
{
	char digits[12];
	size_t i = sizeof(digits);

	do
		digits[--i] = (char)('0' + v % 10);
	while (v /= 10);
	out_text(o, digits + i, sizeof(digits) - i);
}

static int out_end(struct out *o)
{
	if (o->len)
		o->buf[o->pos < o->len ? o->pos : o->len - 1] = '\0';
	return o->pos > INT_MAX ? -EOVERFLOW : (int)o->pos;
}

/* node_set */

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
static unsigned int nodeset_next(const struct node_set *s, unsigned int from)
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

static bool nodeset_empty(const struct node_set *s)
{
	for (int i = 0; i < SET_WORDS; i++)
		if (s->bits[i])
			return false;
	return true;
}

static bool nodeset_equal(const struct node_set *a, const struct node_set *b)
{
	return !memcmp(a->bits, b->bits, sizeof(a->bits));
}

/* Nodes 1..nodes. */
static void nodeset_all(struct node_set *s, unsigned int nodes)
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

static int check_node(unsigned int node, struct span text, unsigned int nodes,
		      struct spec_error *err)
{
	if (node >= 1 && node <= nodes)
		return 0;
	if (node == UINT_MAX / 16) /* saturated: say it as written */
		return fail(err, "node %.*s%s is out of range (the lab has %u node%s)", QUOTE(text),
			    nodes, plural(nodes));
	return fail(err, "node %u is out of range (the lab has %u node%s)", node, nodes,
		    plural(nodes));
}

static int parse_item(struct span item, struct span list, unsigned int nodes, struct node_set *set,
		      struct spec_error *err)
{
	const char *dash = memchr(item.s, '-', item.n);
	struct span lo_text, hi_text;
	unsigned int lo, hi;
	int rc;

	if (!item.n)
		return fail(err, "empty item in node list \"%.*s%s\"", QUOTE(list));
	if (span_is(item, "all"))
		return fail(err, "\"all\" stands alone, not in a list (\"%.*s%s\")", QUOTE(list));
	if (!dash) {
		if (!parse_number(item, &lo))
			return fail(err, "\"%.*s%s\" is not a node number", QUOTE(item));
		rc = check_node(lo, item, nodes, err);
		if (rc)
			return rc;
		/* "1,1,1" is a slip, as "1 1" is: refused either way. */
		if (nodeset_has(set, lo))
			return fail(err, "node %u is named twice in \"%.*s%s\"", lo, QUOTE(list));
		nodeset_add(set, lo);
		return 0;
	}
	lo_text = (struct span){ item.s, (size_t)(dash - item.s) };
	hi_text = (struct span){ dash + 1, item.n - lo_text.n - 1 };
	if (!parse_number(lo_text, &lo) || !parse_number(hi_text, &hi) || lo > hi)
		return fail(err, "bad range \"%.*s%s\"", QUOTE(item));
	rc = check_node(lo, lo_text, nodes, err);
	if (!rc)
		rc = check_node(hi, hi_text, nodes, err);
	if (rc)
		return rc;
	for (unsigned int i = lo; i <= hi; i++) {
		if (nodeset_has(set, i))
			return fail(err, "node %u is named twice in \"%.*s%s\"", i, QUOTE(list));
		nodeset_add(set, i);
	}
	return 0;
}

static int parse_set(struct span text, unsigned int nodes, struct node_set *out,
		     struct spec_error *err)
{
	struct span rest = text;
	struct node_set set;
	bool more = true;
	int rc = check_lab(nodes, err);

	if (rc)
		return rc;
	if (!text.n)
		return fail(err, "empty node list");
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
	return parse_set(span_of(text), nodes, out, err);
}

/* Runs of three or more read better as ranges; a pair stays "1,2". */
static void out_nodeset(struct out *o, const struct node_set *s)
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

/* partition */

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
static void build_groups(struct partition *p, unsigned int nodes, const uint16_t *group_of)
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

/* Collects the groups of `capnet partition G1 G2 ...` one at a time. */
struct group_builder {
	unsigned int nodes;
	unsigned int groups;
	struct node_set named;
	uint16_t group_of[CAPNET_NODE_SLOTS];
};

static void groups_begin(struct group_builder *b, unsigned int nodes)
{
	memset(b, 0, sizeof(*b));
	b->nodes = nodes;
}

static int groups_add(struct group_builder *b, struct span text, struct spec_error *err)
{
	struct node_set set;
	int rc;

	if (!text.n)
		return fail(err, "group %u is empty", b->groups + 1);
	rc = parse_set(text, b->nodes, &set, err);
	if (rc)
		return rc;
	for (unsigned int i = nodeset_next(&set, 1); i < CAPNET_NODE_SLOTS;
	     i = nodeset_next(&set, i + 1)) {
		if (nodeset_has(&b->named, i))
			return fail(err, "node %u is in two groups", i);
		nodeset_add(&b->named, i);
		b->group_of[i] = (uint16_t)b->groups;
	}
	b->groups++;
	return 0;
}

static void groups_finish(struct group_builder *b, struct partition *p)
{
	/* Nodes nobody named form one more group, so `partition 3` isolates node 3. */
	for (unsigned int i = 1; i <= b->nodes; i++)
		if (!nodeset_has(&b->named, i))
			b->group_of[i] = (uint16_t)b->groups;
	build_groups(p, b->nodes, b->group_of);
}

int partition_from_groups(struct partition *p, unsigned int nodes, int ngroups,
			  char *const groups[], struct spec_error *err)
{
	struct group_builder b;
	int rc = check_lab(nodes, err);

	if (rc)
		return rc;
	if (ngroups < 1)
		return fail(err, "a partition needs at least one group of nodes");
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
	int rc = check_lab(nodes, err);

	if (rc)
		return rc;
	if (nodeset_empty(from) || nodeset_empty(to))
		return fail(err, "a cut needs at least one node on each side");
	nodeset_all(&all, nodes);
	for (int w = 0; w < SET_WORDS; w++) {
		uint64_t stray = (from->bits[w] | to->bits[w]) & ~all.bits[w];
		uint64_t both = from->bits[w] & to->bits[w];

		if (stray)
			return check_node(w * 64 + (unsigned int)__builtin_ctzll(stray),
					  span_of(""), nodes, err);
		if (both)
			return fail(err, "node %u is on both sides of the cut",
				    w * 64 + (unsigned int)__builtin_ctzll(both));
	}
	for (unsigned int i = nodeset_next(from, 1); i < CAPNET_NODE_SLOTS;
	     i = nodeset_next(from, i + 1))
		for (int w = 0; w < SET_WORDS; w++)
			p->blocked_to[i].bits[w] |= to->bits[w];
	return 0;
}

/* presets */

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
	build_groups(p, nodes, group_of);
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
	build_groups(p, nodes, group_of);
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
	int rc = check_lab(nodes, err);

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
	return fail(err, "unknown preset \"%.*s%s\" (presets: %s)", QUOTE(sp), list);
}

/* classes: nodes that every other node treats alike */

struct classes {
	unsigned int count;
	uint16_t group_of[CAPNET_NODE_SLOTS]; /* [node]: class, in order of first node */
	uint16_t first[CAPNET_NODE_SLOTS]; /* [class]: its first node */
};

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
static int check_partition(const struct partition *p, struct spec_error *err)
{
	struct node_set all;
	int rc = check_lab(p->nodes, err);

	if (rc)
		return rc;
	nodeset_all(&all, p->nodes);
	for (unsigned int i = 0; i < CAPNET_NODE_SLOTS; i++) {
		const struct node_set *row = &p->blocked_to[i];

		if (nodeset_empty(row))
			continue;
		if (!nodeset_has(&all, i))
			return fail(err, "the partition cuts node %u, outside the lab of %u node%s",
				    i, p->nodes, plural(p->nodes));
		for (unsigned int w = 0; w < SET_WORDS; w++) {
			uint64_t stray = row->bits[w] & ~all.bits[w];

			if (stray)
				return fail(err,
					    "the partition cuts node %u from node %u, outside the "
					    "lab of %u node%s",
					    i, w * 64 + (unsigned int)__builtin_ctzll(stray),
					    p->nodes, plural(p->nodes));
		}
		if (nodeset_has(row, i))
			return fail(err, "the partition cuts node %u from itself", i);
	}
	return 0;
}

/* Two nodes share a class when their rows and their columns of the blocked relation are equal:
 * then the relation between any two nodes is a function of their classes, and no coarser
 * grouping is, so this is the fewest groups. Rows and columns are hashed together into an open
 * addressing table, so the work is linear in the size of the matrix. */
static int classify(const struct partition *p, struct classes *c, struct spec_error *err)
{
	enum { TABLE = 2 * CAPNET_NODE_SLOTS }; /* a power of two, at most half full */
	unsigned int nodes = p->nodes, words;
	uint16_t slot_node[TABLE] = { 0 };
	uint64_t slot_hash[TABLE];
	struct node_set *cols;
	int rc = check_partition(p, err);

	if (rc)
		return rc;
	cols = calloc(CAPNET_NODE_SLOTS, sizeof(*cols));
	if (!cols)
		return -ENOMEM;
	words = nodes / 64 + 1;
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
static bool class_reaches(const struct partition *p, const struct classes *c, unsigned int a,
			  unsigned int b)
{
	return !nodeset_has(&p->blocked_to[c->first[a]], c->first[b]);
}

/* printed form */

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

	if (check_lab(p->nodes, NULL))
		return -EINVAL;
	if (partition_is_healed(p)) {
		out_printf(&o, "healthy");
		return out_end(&o);
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = classify(p, c, NULL);
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
			if (class_reaches(p, c, a, b) || class_reaches(p, c, b, a))
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
		return fail(err, "bad cut \"%.*s%s\" (write: cut FROM -> TO)", QUOTE(clause));
	rc = parse_set(span_trim((struct span){ body.s, (size_t)(arrow - body.s) }), p->nodes,
		       &from, err);
	if (!rc)
		rc = parse_set(span_trim((struct span){ arrow + 2,
							body.n - (size_t)(arrow - body.s) - 2 }),
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
	int rc = check_lab(nodes, err);

	if (rc)
		return rc;
	if (!span_trim(rest).n)
		return fail(err, "empty partition (write e.g. \"healthy\" or \"1,2 | 3-5\")");
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	partition_heal(tmp, nodes);
	for (unsigned int i = 0; more && !rc; i++) {
		struct span clause = span_trim(span_next(&rest, ';', &more));
		bool is_cut = clause.n > 3 && !memcmp(clause.s, "cut", 3) &&
			      (clause.s[3] == ' ' || clause.s[3] == '\t');

		if (!clause.n)
			rc = fail(err, "empty clause in partition \"%.*s%s\"",
				  QUOTE(span_of(text)));
		else if (span_is(clause, "healthy"))
			rc = i || more ? fail(err, "\"healthy\" stands alone") : 0;
		else if (is_cut)
			rc = parse_cut(tmp, clause, err);
		else if (memmem(clause.s, clause.n, "->", 2))
			rc = fail(err, "\"%.*s%s\" is not a cut (write: cut FROM -> TO)",
				  QUOTE(clause));
		else if (i)
			rc = fail(err, "\"%.*s%s\" is not a cut (groups come first, then cuts)",
				  QUOTE(clause));
		else
			rc = parse_groups(tmp, nodes, clause, err);
	}
	if (!rc)
		memcpy(p, tmp, sizeof(*p));
	free(tmp);
	return rc;
}

/* policy */

static bool reach_bit(const uint64_t *reach, unsigned int from, unsigned int to)
{
	unsigned int bit = from * CAPNET_MAX_GROUPS + to;

	return (reach[bit / 64] >> (bit % 64)) & 1;
}

bool policy_reaches(const struct policy *pol, unsigned int from_group, unsigned int to_group)
{
	return from_group < CAPNET_MAX_GROUPS && to_group < CAPNET_MAX_GROUPS &&
	       reach_bit(pol->reach, from_group, to_group);
}

int policy_compile(const struct partition *p, struct policy *out, struct spec_error *err)
{
	struct classes c;
	int rc = classify(p, &c, err);

	/* More groups than CAPNET_MAX_GROUPS cannot happen: there are never more classes than
	 * nodes (see the static assertion at the top). */
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->nodes = p->nodes;
	out->groups = c.count;
	memcpy(out->group_of, c.group_of, sizeof(out->group_of));
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
		return fail(err, "the policy has %u nodes (a lab has 1 to %d)", nodes,
			    CAPNET_MAX_NODES);
	if (groups < 1 || groups > CAPNET_MAX_GROUPS)
		return fail(err, "the policy has %u groups (1 to %d are possible)", groups,
			    CAPNET_MAX_GROUPS);
	for (unsigned int i = 1; i <= nodes; i++) {
		unsigned int g = pol->group_of[i];

		if (g >= groups)
			return fail(err, "node %u is in group %u, but the policy has %u group%s", i,
				    g, groups, plural(groups));
		if (!reach_bit(pol->reach, g, g))
			return fail(err, "group %u (node %u) cannot reach itself", g, i);
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

/* percentages */

int percent_parse_ppm(const char *text, uint32_t *ppm, struct spec_error *err)
{
	struct span sp = span_of(text);
	uint64_t whole = 0, frac = 0;
	unsigned int digits = 0, decimals = 0;
	bool finer = false;
	size_t i = 0;

	if (!sp.n)
		return fail(err, "empty percentage");
	if (sp.s[0] == '-')
		return fail(err, "negative percentage \"%.*s%s\"", QUOTE(sp));
	for (; i < sp.n && sp.s[i] >= '0' && sp.s[i] <= '9'; i++, digits++)
		whole = whole > 1000 ? whole : whole * 10 + (uint64_t)(sp.s[i] - '0');
	if (i < sp.n && sp.s[i] == '.') {
		for (i++; i < sp.n && sp.s[i] >= '0' && sp.s[i] <= '9'; i++, digits++) {
			/* 4 decimals of a percent are whole ppm; zeros after them change nothing. */
			if (decimals < 4)
				frac = frac * 10 + (uint64_t)(sp.s[i] - '0');
			else if (sp.s[i] != '0')
				finer = true;
			decimals++;
		}
	}
	if (i < sp.n && sp.s[i] == '%')
		i++;
	if (!digits || i != sp.n)
		return fail(err, "\"%.*s%s\" is not a percentage (write e.g. 20%%, 0.5%%)",
			    QUOTE(sp));
	if (finer)
		return fail(err, "\"%.*s%s\" is finer than 0.0001%% (1 ppm)", QUOTE(sp));
	for (; decimals < 4; decimals++)
		frac *= 10;
	if (whole * 10000 + frac > 1000000)
		return fail(err, "\"%.*s%s\" is over 100%%", QUOTE(sp));
	*ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}
