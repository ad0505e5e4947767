// SPDX-License-Identifier: GPL-2.0-only
/* capnet status --maps: the filter's maps as a reader decodes them, both policy copies, with
 * the keys bpftool would show, and the link counters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netem/cli.h"
#include "netem/policy/match.h"
#include "netem/filter/status_maps.h"

/* Large: a policy copy read back, once per process. */
static struct filter_state copy_state;
static struct partition layer_part;

static void print_layer(const struct policy *pol, unsigned int copy, unsigned int layer,
			unsigned int nodes)
{
	unsigned int base = copy * CAPNET_LAYERS + layer, g, h, i;
	struct spec_error e;
	char text[4096];

	for (g = 0; g < pol->groups; g++) {
		struct node_set set;

		nodeset_clear(&set);
		for (i = 1; i <= nodes; i++)
			if (pol->group_of[i] == g)
				nodeset_add(&set, i);
		nodeset_format(&set, text, sizeof(text));
		printf("    group %u: node%s %s   (group_of keys %u + node)\n", g,
		       nodeset_count(&set) == 1 ? "" : "s", text, base * CAPNET_NODE_SLOTS);
	}
	/* One bit per (from, to) group; a row of the matrix is what a group can send to. */
	printf("    reach (keys %u..%u, bit from * %u + to):\n      from\\to",
	       base * CAPNET_REACH_WORDS,
	       base * CAPNET_REACH_WORDS + pol->groups * (CAPNET_MAX_GROUPS / 64) - 1,
	       CAPNET_MAX_GROUPS);
	for (h = 0; h < pol->groups && h < 32; h++)
		printf(" %2u", h);
	printf("%s\n", pol->groups > 32 ? " ..." : "");
	for (g = 0; g < pol->groups && g < 32; g++) {
		printf("      %7u", g);
		for (h = 0; h < pol->groups && h < 32; h++)
			printf("  %c", policy_reaches(pol, g, h) ? '1' : '.');
		printf("\n");
	}
	if (!policy_expand(pol, &layer_part, &e) &&
	    partition_format(&layer_part, text, sizeof(text)) >= 0)
		printf("    = %s\n", text);
}

static void print_copy(const struct filter_state *st, unsigned int copy, unsigned int nodes)
{
	unsigned int r, i;
	char m[300];

	printf("\ncopy %u (%s): generation %llu, flipped at %.6f s, %u group%s, %u rule%s, %s\n",
	       copy, copy == st->active ? "active" : "idle",
	       (unsigned long long)st->meta.generation, st->meta.flip_ns / 1e9, st->meta.groups,
	       st->meta.groups == 1 ? "" : "s", st->rules.count, st->rules.count == 1 ? "" : "s",
	       st->meta.impaired ? "impairments loaded" : "no impairments");
	printf("  layer 0, every frame:\n");
	print_layer(&st->policy, copy, 0, nodes);
	for (r = 0; r < st->rules.count; r++) {
		match_format(&st->rules.rule[r].match, m, sizeof(m));
		printf("  layer %u, rule %u (rule_match key %u: %s):\n", r + 1, r + 1,
		       copy * CAPNET_MAX_MATCHES + r, m);
		print_layer(&st->rules.rule[r].policy, copy, r + 1, nodes);
	}
	for (i = 0; i < st->impairments.count; i++) {
		const struct link_impairment *li = &st->impairments.items[i];
		char s[8] = "all", d[8] = "all";

		if (li->src)
			snprintf(s, sizeof(s), "%u", li->src);
		if (li->dst)
			snprintf(d, sizeof(d), "%u", li->dst);
		match_format(&li->match, m, sizeof(m));
		printf("  impair {copy %u, %s -> %s}: loss %u ppm, dup %u ppm, corrupt %u ppm%s%s%s%s\n",
		       copy, s, d, li->loss_ppm, li->dup_ppm, li->corrupt_ppm,
		       li->flags & CAPNET_IMPAIR_SEEDED ? ", seeded" : "",
		       li->flags & CAPNET_IMPAIR_FIX_CSUM ? ", checksum mended" : "",
		       m[0] ? ", " : "", m);
	}
}

struct counters {
	unsigned int shown;
};

static int print_link(const struct capnet_stats_key *key, const struct capnet_link_stats *st,
		      void *arg)
{
	struct counters *c = arg;

	if (!st->passed && !st->dropped_partition && !st->dropped_loss && !st->duplicated &&
	    !st->corrupted)
		return 0;
	printf("  %u -> %u: passed %llu, partition %llu, loss %llu, duplicated %llu, corrupted "
	       "%llu\n",
	       key->src, key->dst, (unsigned long long)st->passed,
	       (unsigned long long)st->dropped_partition, (unsigned long long)st->dropped_loss,
	       (unsigned long long)st->duplicated, (unsigned long long)st->corrupted);
	c->shown++;
	return 0;
}

int status_print_maps(const char *lab, struct filter *f, unsigned int nodes)
{
	struct counters c = { 0 };
	unsigned int copy;
	char pin[256];
	int err;

	filter_pin_dir(lab, pin, sizeof(pin));
	printf("maps of lab %s, pinned in %s (bpftool map dump pinned %s/NAME shows them raw)\n",
	       lab, pin, pin);
	for (copy = 0; copy < CAPNET_POLICY_COPIES; copy++) {
		err = filter_read_copy(f, copy, &copy_state);
		if (err)
			return report_fail("status: read policy copy %u of lab \"%s\": %s", copy,
					   lab, strerror(-err));
		if (!copy)
			printf("control: copy %u is active (the one word a switch writes)\n",
			       copy_state.active);
		print_copy(&copy_state, copy, nodes);
	}
	printf("\nlink counters, one slot per link for every CPU (link_passed: key "
	       "(src - 1) * %u + (dst - 1); link_drops: key {src, dst}):\n",
	       nodes);
	err = filter_for_each_link(f, print_link, &c);
	if (err)
		return report_fail("status: read the link counters: %s", strerror(-err));
	if (!c.shown)
		printf("  none yet\n");
	return EXIT_OK;
}
