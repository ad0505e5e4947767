// SPDX-License-Identifier: GPL-2.0-only
/* Fuzzes what users type after capnet partition, cut and link: node lists, groups, the
 * partition text format and percentages. Nothing may crash, and whatever parses must survive
 * the round trips the CLI relies on (format -> parse, compile -> expand). */
// fuzz-sources: netem/policy/spec_text.c netem/policy/nodeset.c netem/policy/partition.c netem/policy/partition_text.c netem/policy/preset.c netem/policy/policy.c netem/policy/percent.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netem/policy/spec.h"

static struct partition part, back;
static struct policy pol;

static void check_same(const struct partition *a, const struct partition *b)
{
	unsigned int s, d;

	for (s = 1; s <= a->nodes; s++)
		for (d = 1; d <= a->nodes; d++)
			if (partition_blocks(a, s, d) != partition_blocks(b, s, d))
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], *groups[16], *save = NULL, *tok, formatted[8192];
	struct spec_error err;
	struct node_set set;
	unsigned int nodes;
	uint32_t ppm;
	int n = 0;

	if (size < 1 || size >= sizeof(text))
		return 0;
	/* The first byte picks the lab's size, the rest is the text. */
	nodes = 1 + data[0] % 40;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;

	nodeset_parse(text, nodes, &set, &err);
	percent_parse_ppm(text, &ppm, &err);
	if (!partition_parse(&part, nodes, text, &err)) {
		partition_format(&part, formatted, sizeof(formatted));
		if (partition_parse(&back, nodes, formatted, &err))
			abort();
		check_same(&part, &back);
	}
	for (tok = strtok_r(text, " ", &save); tok && n < 16; tok = strtok_r(NULL, " ", &save))
		groups[n++] = tok;
	if (n && !partition_from_groups(&part, nodes, n, groups, &err)) {
		if (policy_compile(&part, &pol, &err) || policy_expand(&pol, &back, &err))
			abort();
		check_same(&part, &back);
	}
	return 0;
}
