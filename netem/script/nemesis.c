// SPDX-License-Identifier: GPL-2.0-only
/* The nemesis schedule: a seeded generator draws each fault's kind and victims; the steps are
 * capnet commands, so the schedule written out is a script `capnet run` plays again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "netem/script/nemesis.h"
#include "netem/script/scenario.h"
#include "netem/policy/spec.h"

static const char *const kind_names[NEMESIS_KINDS] = {
	[NEMESIS_PARTITION] = "partition", [NEMESIS_CUT] = "cut",     [NEMESIS_ISOLATE] = "isolate",
	[NEMESIS_LOSS] = "loss",	   [NEMESIS_DELAY] = "delay", [NEMESIS_KILL] = "kill",
	[NEMESIS_PAUSE] = "pause",	   [NEMESIS_CLOCK] = "clock", [NEMESIS_CORRUPT] = "corrupt",
};

#define KNOWN "partition, cut, isolate, loss, delay, kill, pause, clock, corrupt"

const char *nemesis_kind_name(enum nemesis_kind k)
{
	return (unsigned int)k < NEMESIS_KINDS ? kind_names[k] : "?";
}

static int parse_kinds(const char *text, unsigned int *kinds, char *err, size_t errlen)
{
	char copy[256], *save = NULL, *w;

	if (strlen(text) >= sizeof(copy)) {
		snprintf(err, errlen, "nemesis: too long a list of kinds");
		return -EINVAL;
	}
	snprintf(copy, sizeof(copy), "%s", text);
	*kinds = 0;
	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < NEMESIS_KINDS && strcmp(w, kind_names[k]); k++)
			;
		if (k == NEMESIS_KINDS) {
			snprintf(err, errlen, "nemesis: unknown kind \"%.40s\": one of " KNOWN, w);
			return -EINVAL;
		}
		*kinds |= 1u << k;
	}
	if (!*kinds) {
		snprintf(err, errlen, "nemesis: which kinds? one or more of " KNOWN);
		return -EINVAL;
	}
	return 0;
}

int nemesis_parse(int argc, char *const argv[], struct nemesis_plan *p, char *err, size_t errlen)
{
	*p = (struct nemesis_plan){ .interval_ms = -1, .duration_ms = -1 };
	if (argc < 1) {
		snprintf(err, errlen,
			 "nemesis needs its kinds: nemesis KINDS --interval T [--duration T] "
			 "[--seed S] [--name SERVICE]");
		return -EINVAL;
	}
	if (parse_kinds(argv[0], &p->kinds, err, errlen))
		return -EINVAL;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!v) {
			snprintf(err, errlen, "nemesis: %.40s needs a value", argv[i]);
			return -EINVAL;
		}
		if (!strcmp(argv[i], "--interval") || !strcmp(argv[i], "--duration")) {
			long ms = scenario_parse_time(v);

			if (ms <= 0) {
				snprintf(err, errlen,
					 "nemesis: %s \"%.40s\": a time such as 2s or 500ms",
					 argv[i], v);
				return -EINVAL;
			}
			*(argv[i][2] == 'i' ? &p->interval_ms : &p->duration_ms) = ms;
		} else if (!strcmp(argv[i], "--seed")) {
			p->seed = strtoull(v, &end, 10);
			if (*end || end == v || v[0] == '-') {
				snprintf(err, errlen, "nemesis: --seed \"%.40s\": a whole number",
					 v);
				return -EINVAL;
			}
			p->has_seed = 1;
		} else if (!strcmp(argv[i], "--name")) {
			p->name = v;
		} else {
			snprintf(
				err, errlen,
				"nemesis: unknown option \"%.40s\" (--interval, --duration, --seed, "
				"--name)",
				argv[i]);
			return -EINVAL;
		}
		i++;
	}
	if (p->interval_ms < 0) {
		snprintf(err, errlen, "nemesis: --interval T is needed (a fault every other T)");
		return -EINVAL;
	}
	return 0;
}

static unsigned int draw(uint64_t *rng, unsigned int n)
{
	return (unsigned int)(rng_next(rng) % n);
}

/* A random set of k nodes out of 1..nodes, leaving out those in `not`. */
static void random_set(uint64_t *rng, unsigned int nodes, unsigned int k,
		       const struct node_set * not, struct node_set *out)
{
	nodeset_clear(out);
	while (nodeset_count(out) < k) {
		unsigned int v = 1 + draw(rng, nodes);

		if (!not || !nodeset_has(not, v))
			nodeset_add(out, v);
	}
}

/* One fault and its heal, as capnet commands. */
static int fault(const struct nemesis_plan *p, enum nemesis_kind k, unsigned int nodes,
		 uint64_t *rng, char *cmd, char *heal, char *err, size_t errlen)
{
	static const char *const presets[] = { "halves", "random-halves", "isolate-random",
					       "majorities-ring", "bridge" };
	static const unsigned int loss[] = { 5, 10, 25, 50 }, delay_ms[] = { 5, 20, 50, 100 };
	static const unsigned int corrupt[] = { 1, 5, 10, 25 };
	static const unsigned int skew_s[] = { 1, 5, 30, 120 };
	const size_t len = NEMESIS_COMMAND_MAX;
	char a[64], b[64], name[80] = "";
	struct node_set from, to;
	unsigned int minority = nodes > 2 ? (nodes - 1) / 2 : 1;

	if (p->name)
		snprintf(name, sizeof(name), " --name %.60s", p->name);
	switch (k) {
	case NEMESIS_PARTITION: {
		/* The ring and the bridge need three nodes. */
		const char *preset = presets[draw(rng, nodes >= 3 ? 5 : 3)];

		if (nodes < 2)
			goto one_node;
		if (!strcmp(preset, "halves"))
			snprintf(cmd, len, "partition --preset halves");
		else
			snprintf(cmd, len, "partition --preset %s --seed %u", preset,
				 (unsigned int)(rng_next(rng) % 1000000000u));
		snprintf(heal, len, "heal");
		return 0;
	}
	case NEMESIS_CUT:
		if (nodes < 2)
			goto one_node;
		random_set(rng, nodes, 1 + draw(rng, nodes - 1), NULL, &from);
		random_set(rng, nodes, 1 + draw(rng, nodes - nodeset_count(&from)), &from, &to);
		nodeset_format(&from, a, sizeof(a));
		nodeset_format(&to, b, sizeof(b));
		snprintf(cmd, len, "cut %s %s", a, b);
		snprintf(heal, len, "heal");
		return 0;
	case NEMESIS_ISOLATE:
		if (nodes < 2)
			goto one_node;
		snprintf(cmd, len, "partition %u", 1 + draw(rng, nodes));
		snprintf(heal, len, "heal");
		return 0;
	case NEMESIS_LOSS:
		snprintf(cmd, len, "link all all --loss %u%%", loss[draw(rng, 4)]);
		snprintf(heal, len, "heal --links");
		return 0;
	case NEMESIS_DELAY:
		snprintf(cmd, len, "link all all --delay %ums", delay_ms[draw(rng, 4)]);
		snprintf(heal, len, "heal --delays");
		return 0;
	case NEMESIS_KILL:
	case NEMESIS_PAUSE:
		random_set(rng, nodes, 1 + draw(rng, minority), NULL, &from);
		nodeset_format(&from, a, sizeof(a));
		snprintf(cmd, len, "%s %s%s", k == NEMESIS_KILL ? "kill" : "pause", a, name);
		snprintf(heal, len, "%s %s%s", k == NEMESIS_KILL ? "restart" : "resume", a, name);
		return 0;
	case NEMESIS_CORRUPT:
		/* Half of them reach the application: the checksum mended. */
		snprintf(cmd, len, "link all all --%s %u%%",
			 draw(rng, 2) ? "corrupt-payload" : "corrupt", corrupt[draw(rng, 4)]);
		snprintf(heal, len, "heal --links");
		return 0;
	case NEMESIS_CLOCK:
		/* A minority's clocks, ahead or behind: where last-writer-wins and leases show it. */
		random_set(rng, nodes, 1 + draw(rng, minority), NULL, &from);
		nodeset_format(&from, a, sizeof(a));
		snprintf(cmd, len, "clock %s --offset %c%us", a, draw(rng, 2) ? '+' : '-',
			 skew_s[draw(rng, 4)]);
		snprintf(heal, len, "clock %s --reset", a);
		return 0;
	default:
		snprintf(err, errlen, "nemesis: kind %s cannot be drawn", nemesis_kind_name(k));
		return -EINVAL;
	}
one_node:
	snprintf(err, errlen, "nemesis: a %s needs a lab of two nodes or more",
		 nemesis_kind_name(k));
	return -EINVAL;
}

int nemesis_schedule(const struct nemesis_plan *p, unsigned int nodes, struct nemesis_step *out,
		     size_t max, size_t *n, char *err, size_t errlen)
{
	unsigned int kinds[NEMESIS_KINDS], n_kinds = 0;
	/* The seed, mixed once, so that seeds 1, 2, 3 start far apart. */
	uint64_t rng = p->seed ^ 0x9e3779b97f4a7c15ull;

	*n = 0;
	if (p->duration_ms <= 0 || p->interval_ms <= 0 || !nodes) {
		snprintf(err, errlen, "nemesis: no duration, interval or lab to draw for");
		return -EINVAL;
	}
	rng_next(&rng);
	for (unsigned int k = 0; k < NEMESIS_KINDS; k++)
		if (p->kinds & (1u << k))
			kinds[n_kinds++] = k;
	/* A fault at 0, 2T, 4T...; each healed T later, the last by the end at the latest. */
	for (long t = 0; t < p->duration_ms; t += 2 * p->interval_ms) {
		struct nemesis_step *f = &out[*n], *h = &out[*n + 1];
		long heal_at = t + p->interval_ms;
		int rc;

		if (*n + 2 > max)
			return -ENOSPC;
		rc = fault(p, kinds[draw(&rng, n_kinds)], nodes, &rng, f->command, h->command, err,
			   errlen);
		if (rc)
			return rc;
		f->at_ms = t;
		f->heal = 0;
		h->at_ms = heal_at < p->duration_ms ? heal_at : p->duration_ms;
		h->heal = 1;
		*n += 2;
	}
	return 0;
}
