// SPDX-License-Identifier: GPL-2.0-only
/* The faults of maelstrom test: the schedule is the nemesis of `capnet run` (netem/script), drawn
 * from the seed, and each of its steps is done here: partitions and heals straight through the
 * filter's API, kills and pauses by the shims that run the programs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report.h"
#include "netem/filter/filter.h"
#include "netem/lab/fault_log.h"
#include "netem/maelstrom/faults.h"
#include "netem/policy/spec.h"

int mael_faults_draw(unsigned int kinds, double interval_s, double duration_s, uint64_t seed,
		     unsigned int nodes, struct mael_faults *out)
{
	struct nemesis_plan plan = { .kinds = kinds,
				     .interval_ms = (long)(interval_s * 1000),
				     .duration_ms = (long)(duration_s * 1000),
				     .seed = seed,
				     .has_seed = 1 };
	size_t max = (size_t)(duration_s / interval_s) + 4;
	char err[256];
	int rc;

	*out = (struct mael_faults){ .steps = calloc(max, sizeof(*out->steps)) };
	if (!out->steps)
		return -ENOMEM;
	if (plan.duration_ms <= 0)
		return 0; /* a run no longer than one interval: no fault */
	rc = nemesis_schedule(&plan, nodes, out->steps, max, &out->n, err, sizeof(err));
	if (rc) {
		error_note("%s", err);
		mael_faults_free(out);
	}
	return rc;
}

void mael_faults_free(struct mael_faults *f)
{
	free(f->steps);
	f->steps = NULL;
	f->n = 0;
}

/* Lab node k is Maelstrom's n<k-1>: "1,2 | 3-5" becomes "n0,n1 | n2-n4". */
static void maelstrom_names(const char *lab_text, char *buf, size_t len)
{
	size_t used = 0;

	for (const char *c = lab_text; *c && used + 1 < len;) {
		if (*c >= '0' && *c <= '9') {
			char *end;
			unsigned long k = strtoul(c, &end, 10);

			used += (size_t)snprintf(buf + used, len - used, "n%lu", k ? k - 1 : 0);
			c = end;
		} else {
			buf[used++] = *c++;
		}
	}
	buf[used < len ? used : len - 1] = 0;
}

int mael_nodes_of(const char *command, unsigned int nodes, bool *victims, char *names, size_t len)
{
	const char *list = strchr(command, ' ');
	struct node_set set;
	struct spec_error e;
	char text[128];

	if (!list || nodeset_parse(list + 1, nodes, &set, &e)) {
		error_note("a nemesis step without nodes: %s", command);
		return -EINVAL;
	}
	for (unsigned int k = 1; k <= nodes; k++)
		victims[k - 1] = nodeset_has(&set, k);
	nodeset_format(&set, text, sizeof(text));
	maelstrom_names(text, names, len);
	return 0;
}

int mael_switch(const char *lab, unsigned int nodes, const char *command, char *groups, size_t len)
{
	/* Large (policies are 130 KiB): never on the stack. */
	static struct filter_state state;
	static struct partition part;
	static struct policy next;
	char preset[64] = "", text[512];
	unsigned long long seed = 0;
	struct capnet_policy_meta meta;
	struct filter_timing timing;
	struct spec_error e;
	struct filter *f;
	int rc;

	if (!strcmp(command, "heal")) {
		partition_heal(&part, nodes);
	} else if (sscanf(command, "partition --preset %63s --seed %llu", preset, &seed) >= 1) {
		if (partition_preset(&part, nodes, preset, seed, &e)) {
			error_note("%s", e.msg);
			return -EINVAL;
		}
	} else {
		error_note("maelstrom does not do the nemesis step \"%s\"", command);
		return -EINVAL;
	}
	if (policy_compile(&part, &next, &e)) {
		error_note("%s", e.msg);
		return -EINVAL;
	}
	rc = filter_open(lab, &f);
	if (rc)
		return rc;
	/* As capnet partition: the lock for the read and the flip, the rules and impaired links
	 * as they are. */
	rc = filter_lock(f);
	if (!rc)
		rc = filter_read_state(f, &state);
	if (!rc)
		fault_log_catch_up(lab, &state);
	if (!rc)
		rc = filter_apply(f, &next, &state.rules, &state.impairments, &meta, &timing);
	filter_close(f);
	if (rc)
		return rc;
	if (partition_format(&part, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	maelstrom_names(text, groups, len);
	/* In the lab's own fault log too, as capnet partition and heal write it. The switch is
	 * made either way: a line that could not be written leaves its note, which is printed. */
	fault_log_append(lab, &(struct fault_change){ .command = preset[0] ? "partition" : "heal",
						      .value = text,
						      .policy = &next,
						      .generation = meta.generation,
						      .time_ns = meta.flip_ns });
	return 0;
}

int mael_log_nodes(const char *lab, const char *command, unsigned int nodes, const bool *victims)
{
	struct node_set set;
	char word[16] = "", text[128];

	nodeset_clear(&set);
	for (unsigned int i = 0; i < nodes; i++)
		if (victims[i])
			nodeset_add(&set, i + 1);
	sscanf(command, "%15s", word);
	nodeset_format(&set, text, sizeof(text));
	return fault_log_append(lab,
				&(struct fault_change){ .command = word,
							.value = text,
							.nodes = &set,
							.generation = FAULT_LOG_READ_GENERATION });
}
