// SPDX-License-Identifier: GPL-2.0-only
/* capnet partition, cut, heal and link: compute the new policy from what the kernel holds,
 * write it to the idle copy and flip. Every input is checked before anything is written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/monotonic.h"
#include "netem/cli.h"
#include "lib/test_hook.h"
#include "netem/lab/fault_log.h"
#include "netem/lab/lab_open.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"
#include "netem/policy/match.h"
#include "netem/lab/offload.h"

/* Large (policies are 130 KiB): one of each per process, never on the stack. `part` is the
 * partition of every frame, `rule_part` the one of the rule a command changes, `next_rules`
 * the rules as they will be. */
static struct filter_state state;
static struct partition part, rule_part;
static struct policy next_policy;
static struct filter_rules next_rules;
static struct delay_set delays;

struct switch_ctx {
	struct cli *cli;
	struct lab_info info;
	struct filter *filter;
	const char *command; /* "partition", ...: for the fault log */
	char words[1024]; /* link: its words as typed, which name its nodes */
};

/* link and heal are how a dead delay line is restarted or its delays removed: they act on a lab
 * whose delays are not applied, and say so; partition and cut refuse it. */
static int open_for_switch(struct cli *cli, struct switch_ctx *ctx, const char *what,
			   bool repairs_delays)
{
	int rc, err;

	ctx->cli = cli;
	ctx->filter = NULL;
	ctx->command = what + strlen("capnet ");
	ctx->words[0] = 0;
	if (cli_need_root(what))
		return EXIT_FAIL;
	if (!repairs_delays) {
		rc = cli_open_whole_lab(cli, &ctx->info, &ctx->filter);
	} else {
		rc = lab_open(cli->lab, &ctx->info, &ctx->filter, LAB_WHOLE) ?
			     report_error(-EIO, NULL) :
			     EXIT_OK;
		if (!rc && delay_check_applied(cli->lab))
			report_warn("%s", error_reason(-EUCLEAN));
	}
	if (rc)
		return rc;
	err = filter_lock(ctx->filter);
	if (!err)
		err = filter_read_state(ctx->filter, &state);
	if (!err && !filter_flips_deferred() && fault_log_catch_up(cli->lab, &state))
		report_warn("%s (a switch in force is not in the fault log)", error_reason(-EIO));
	if (err) {
		filter_close(ctx->filter);
		ctx->filter = NULL;
		return report_fail("read the filter state of lab \"%s\": %s", cli->lab,
				   strerror(-err));
	}
	/* The rules in use only: each is a policy of 130 KiB, and most labs have none. */
	next_rules.count = state.rules.count;
	memcpy(next_rules.rule, state.rules.rule, state.rules.count * sizeof(state.rules.rule[0]));
	return EXIT_OK;
}

/* "only tcp:2380: 1 | 2,3; except arp: cut 1 -> 2": every rule, as status shows them. */
static void describe_rules(const struct filter_rules *rules, char *buf, size_t len)
{
	char m[300], p[2048];
	size_t used = 0;
	unsigned int i;
	struct spec_error e;

	buf[0] = 0;
	for (i = 0; i < rules->count && used < len; i++) {
		match_format(&rules->rule[i].match, m, sizeof(m));
		if (policy_expand(&rules->rule[i].policy, &rule_part, &e) ||
		    partition_format(&rule_part, p, sizeof(p)) < 0)
			snprintf(p, sizeof(p), "(unreadable: %s)", e.msg);
		used += snprintf(buf + used, len - used, "%s%s: %s", i ? "; " : "", m, p);
	}
}

/* The rule of match m in next_rules: its index, or -1 when there is none. */
static int rule_find(const struct capnet_match *m)
{
	unsigned int i;

	for (i = 0; i < next_rules.count; i++)
		if (match_equal(&next_rules.rule[i].match, m))
			return i;
	return -1;
}

static void rule_remove(int idx)
{
	if (idx < 0)
		return;
	memmove(&next_rules.rule[idx], &next_rules.rule[idx + 1],
		(next_rules.count - idx - 1) * sizeof(next_rules.rule[0]));
	next_rules.count--;
}

/* Puts rule_part in force for the frames m names: a new rule, a changed one, or (healed) none. */
static int rule_put(const struct capnet_match *m, struct spec_error *e)
{
	int idx = rule_find(m);

	if (partition_is_healed(&rule_part)) {
		rule_remove(idx);
		return 0;
	}
	if (idx < 0) {
		if (next_rules.count >= CAPNET_MAX_RULES) {
			snprintf(e->msg, sizeof(e->msg),
				 "a lab holds at most %d rules (--only or --except); heal one "
				 "with capnet heal --only SPEC",
				 CAPNET_MAX_RULES);
			return -E2BIG;
		}
		idx = next_rules.count++;
		next_rules.rule[idx].match = *m;
	}
	return policy_compile(&rule_part, &next_rules.rule[idx].policy, e);
}

/* rule_part := what the rule of m blocks now (healthy when there is no such rule). */
static int rule_current(const struct capnet_match *m, unsigned int nodes, struct spec_error *e)
{
	int idx = rule_find(m);

	if (idx < 0) {
		partition_heal(&rule_part, nodes);
		return 0;
	}
	return policy_expand(&next_rules.rule[idx].policy, &rule_part, e);
}

static int current_partition(struct switch_ctx *ctx)
{
	struct spec_error e;

	if (policy_expand(&state.policy, &part, &e))
		return report_fail("the filter of lab \"%s\" holds an inconsistent policy: %s",
				   ctx->cli->lab, e.msg);
	return EXIT_OK;
}

/* The fault log names the nodes, whatever the command was given (a preset, a seed). */
static void log_change(struct switch_ctx *ctx, const struct capnet_policy_meta *meta,
		       const char *text, const char *rules)
{
	char value[sizeof(ctx->words) + 64];

	if (ctx->words[0])
		snprintf(value, sizeof(value), "%s", ctx->words);
	else
		snprintf(value, sizeof(value), "%s%s%s", text, rules[0] ? "; " : "", rules);
	if (fault_log_append(ctx->cli->lab,
			     &(struct fault_change){ .command = ctx->command,
						     .value = value,
						     .policy = meta ? &next_policy : &state.policy,
						     .generation = meta ? meta->generation :
									  state.meta.generation,
						     .time_ns = meta ? meta->flip_ns : 0 }))
		report_warn("%s (the change is made, but not in the fault log)",
			    error_reason(-EIO));
}

/* Compiles `part` with the given impairments and flips to it; prints the outcome. */
static int apply(struct switch_ctx *ctx, const struct impairment_set *imps, const char *extra)
{
	struct capnet_policy_meta meta;
	struct filter_timing timing;
	struct spec_error e;
	uint64_t t0;
	char text[4096], rules[8192];
	int err;

	if (policy_compile(&part, &next_policy, &e))
		return report_fail("%s", e.msg);
	t0 = monotonic_ns();
	err = filter_apply(ctx->filter, &next_policy, &next_rules, imps, &meta, &timing);
	if (err == -E2BIG)
		return report_fail("switch the filter of lab \"%s\": rules and impaired links "
				   "name more than %d different --only/--except matches",
				   ctx->cli->lab, CAPNET_MAX_MATCHES);
	if (err)
		return report_fail("switch the filter of lab \"%s\": %s", ctx->cli->lab,
				   strerror(-err));
	test_hook_phase("flipped");
	partition_format(&part, text, sizeof(text));
	describe_rules(&next_rules, rules, sizeof(rules));
	if (ctx->cli->json)
		printf("{\"lab\":\"%s\",\"partition\":\"%s\",\"rules\":\"%s\",\"groups\":%u,"
		       "\"generation\":%llu,\"flip_ns\":%llu,\"switch_us\":%.1f,\"write_us\":%.1f,"
		       "\"flip_us\":%.2f%s%s}\n",
		       ctx->cli->lab, text, rules, next_policy.groups,
		       (unsigned long long)meta.generation, (unsigned long long)meta.flip_ns,
		       (monotonic_ns() - t0) / 1e3, timing.write_ns / 1e3, timing.flip_ns / 1e3,
		       extra ? "," : "", extra ? extra : "");
	else
		printf("%s (generation %llu, %u group%s; idle copy written in %.0f us, flipped in "
		       "%.1f us)\n%s%s%s",
		       text, (unsigned long long)meta.generation, next_policy.groups,
		       next_policy.groups == 1 ? "" : "s", timing.write_ns / 1e3,
		       timing.flip_ns / 1e3, rules[0] ? "rules: " : "", rules,
		       rules[0] ? "\n" : "");
	/* A prepared copy is not a change yet: the controller of a lab across hosts logs it. */
	if (!filter_flips_deferred())
		log_change(ctx, &meta, text, rules);
	return EXIT_OK;
}

static void close_switch(struct switch_ctx *ctx)
{
	filter_close(ctx->filter);
}

static int parse_seed(const char *text, uint64_t *seed)
{
	char *end;

	errno = 0;
	*seed = strtoull(text, &end, 0);
	if (!*text || *end || errno || text[0] == '-')
		return report_usage("partition: --seed \"%s\" is not a number", text);
	return EXIT_OK;
}

int cmd_partition(struct cli *cli, int argc, char **argv)
{
	const char *preset = NULL, *seed_text = NULL;
	struct match_opt only = {};
	struct switch_ctx ctx;
	struct spec_error e;
	struct partition *target = &part;
	char *groups[CAPNET_MAX_NODES + 1];
	char extra[64];
	int i, ngroups = 0, rc;
	uint64_t seed = 0;
	bool random_seed = false;

	cli_take_json(cli, &argc, argv);
	for (i = 0; i < argc; i++) {
		rc = match_take_option(argc, argv, &i, &only, &e);
		if (rc < 0)
			return report_usage("partition: %s", e.msg);
		if (rc)
			continue;
		if (!strcmp(argv[i], "--preset")) {
			if (++i >= argc)
				return report_usage("partition: --preset needs a name (halves, "
						    "random-halves, majorities-ring, bridge, "
						    "isolate-random)");
			preset = argv[i];
		} else if (!strcmp(argv[i], "--seed")) {
			if (++i >= argc)
				return report_usage("partition: --seed needs a number");
			seed_text = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return report_usage("partition: unknown option %s", argv[i]);
		} else if (ngroups >= CAPNET_MAX_NODES) {
			return report_usage("partition: more groups than nodes");
		} else {
			groups[ngroups++] = argv[i];
		}
	}
	if (preset && ngroups)
		return report_usage("partition: give groups or --preset, not both");
	if (!preset && !ngroups)
		return report_usage(
			"partition: which groups? (capnet partition 1,2 3-5, or --preset "
			"halves)");
	if (seed_text && !preset)
		return report_usage("partition: --seed goes with --preset");
	if (seed_text && parse_seed(seed_text, &seed))
		return EXIT_USAGE;
	if (preset && !seed_text) {
		struct timespec ts;

		/* Printed below, so any random split can be replayed with --seed. */
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
		random_seed = true;
	}

	rc = open_for_switch(cli, &ctx, "capnet partition", false);
	if (rc)
		return rc;
	/* A rule leaves the partition of every frame as it is. */
	if (only.given) {
		target = &rule_part;
		rc = current_partition(&ctx);
		if (rc) {
			close_switch(&ctx);
			return rc;
		}
	}
	if (preset)
		rc = partition_preset(target, ctx.info.nodes, preset, seed, &e);
	else
		rc = partition_from_groups(target, ctx.info.nodes, ngroups, groups, &e);
	if (!rc && only.given)
		rc = rule_put(&only.match, &e);
	if (rc) {
		close_switch(&ctx);
		return report_usage("partition: %s", e.msg);
	}
	if (preset && !cli->json)
		printf("preset %s, seed %llu%s\n", preset, (unsigned long long)seed,
		       random_seed ? " (replay with --seed)" : "");
	snprintf(extra, sizeof(extra), "\"preset\":\"%s\",\"seed\":%llu", preset ? preset : "",
		 (unsigned long long)seed);
	rc = apply(&ctx, &state.impairments, preset ? extra : NULL);
	close_switch(&ctx);
	return rc;
}

int cmd_cut(struct cli *cli, int argc, char **argv)
{
	struct match_opt only = {};
	struct node_set from, to;
	struct switch_ctx ctx;
	struct spec_error e;
	const char *ends[2];
	int i, nends = 0, rc;

	cli_take_json(cli, &argc, argv);
	for (i = 0; i < argc; i++) {
		rc = match_take_option(argc, argv, &i, &only, &e);
		if (rc < 0)
			return report_usage("cut: %s", e.msg);
		if (rc)
			continue;
		if ((argv[i][0] == '-' && argv[i][1]) || nends >= 2)
			return report_usage(
				"cut: usage: capnet cut FROM TO [--only SPEC | --except "
				"SPEC] (FROM can no longer send to TO)");
		ends[nends++] = argv[i];
	}
	if (nends != 2)
		return report_usage("cut: usage: capnet cut FROM TO [--only SPEC | --except SPEC] "
				    "(FROM can no longer send to TO)");
	rc = open_for_switch(cli, &ctx, "capnet cut", false);
	if (rc)
		return rc;
	if (nodeset_parse(ends[0], ctx.info.nodes, &from, &e) ||
	    nodeset_parse(ends[1], ctx.info.nodes, &to, &e)) {
		close_switch(&ctx);
		return report_usage("cut: %s", e.msg);
	}
	rc = current_partition(&ctx);
	if (!rc && only.given &&
	    (rule_current(&only.match, ctx.info.nodes, &e) ||
	     partition_cut(&rule_part, &from, &to, &e) || rule_put(&only.match, &e))) {
		close_switch(&ctx);
		return report_usage("cut: %s", e.msg);
	}
	if (!rc && !only.given && partition_cut(&part, &from, &to, &e)) {
		close_switch(&ctx);
		return report_usage("cut: %s", e.msg);
	}
	if (!rc)
		rc = apply(&ctx, &state.impairments, NULL);
	close_switch(&ctx);
	return rc;
}

static void describe_impairments(const struct impairment_set *imps, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < imps->count && used < len; i++) {
		const struct link_impairment *li = &imps->items[i];
		char src[8], dst[8], seed[40] = "", corrupt[48] = "", scope[300] = "";

		snprintf(src, sizeof(src), "%u", li->src);
		snprintf(dst, sizeof(dst), "%u", li->dst);
		if (li->flags & CAPNET_IMPAIR_SEEDED)
			snprintf(seed, sizeof(seed), " seed %llu", (unsigned long long)li->seed);
		if (li->corrupt_ppm)
			snprintf(corrupt, sizeof(corrupt), " %s %.4g%%",
				 li->flags & CAPNET_IMPAIR_FIX_CSUM ? "corrupt-payload" : "corrupt",
				 li->corrupt_ppm / 1e4);
		if (li->match.count) {
			scope[0] = ' ';
			match_format(&li->match, scope + 1, sizeof(scope) - 1);
		}
		used += snprintf(buf + used, len - used, "%s%s->%s loss %.4g%%%s dup %.4g%%%s%s",
				 i ? ", " : "", li->src ? src : "all", li->dst ? dst : "all",
				 li->loss_ppm / 1e4, seed, li->dup_ppm / 1e4, corrupt, scope);
	}
}

int cmd_heal(struct cli *cli, int argc, char **argv)
{
	static struct impairment_set none;
	struct match_opt only = {};
	struct switch_ctx ctx;
	struct spec_error e;
	bool links = false, stop_delays = false;
	char text[1024], m[300];
	int i, rc;

	cli_take_json(cli, &argc, argv);
	for (i = 0; i < argc; i++) {
		rc = match_take_option(argc, argv, &i, &only, &e);
		if (rc < 0)
			return report_usage("heal: %s", e.msg);
		if (rc)
			continue;
		if (!strcmp(argv[i], "--links"))
			links = true;
		else if (!strcmp(argv[i], "--delays"))
			stop_delays = true;
		else
			return report_usage("heal: unknown argument \"%s\" (capnet heal [--links] "
					    "[--delays] [--only SPEC | --except SPEC])",
					    argv[i]);
	}
	if (only.given && (links || stop_delays))
		return report_usage("heal: --only and --except heal one rule; --links and "
				    "--delays go without them");
	rc = open_for_switch(cli, &ctx, "capnet heal", true);
	if (rc)
		return rc;
	if (only.given) {
		/* One rule goes; the partition of every frame and the other rules stay. */
		match_format(&only.match, m, sizeof(m));
		if (rule_find(&only.match) < 0) {
			describe_rules(&next_rules, text, sizeof(text));
			close_switch(&ctx);
			return report_usage("heal: no rule %s (rules: %s)", m,
					    text[0] ? text : "none");
		}
		rule_remove(rule_find(&only.match));
		rc = current_partition(&ctx);
		if (!rc)
			rc = apply(&ctx, &state.impairments, NULL);
		close_switch(&ctx);
		return rc;
	}
	partition_heal(&part, ctx.info.nodes);
	next_rules.count = 0;
	rc = apply(&ctx, links ? &none : &state.impairments, NULL);
	if (!rc && !links && state.impairments.count && !cli->json) {
		describe_impairments(&state.impairments, text, sizeof(text));
		printf("links still impaired: %s (capnet heal --links clears them)\n", text);
	}
	/* Frames still held in the delay line are dropped with it: a heal ends the delays now. */
	if (!rc && stop_delays) {
		delay_stop(cli->lab, &ctx.info, true);
		if (!cli->json)
			printf("delays: none (delay line stopped)\n");
	} else if (!rc && !cli->json && !delay_links_read(cli->lab, &delays) && delays.count &&
		   delay_running(cli->lab)) {
		printf("links still delayed: %u (capnet heal --delays clears them)\n",
		       delays.count);
	}
	close_switch(&ctx);
	return rc;
}

/* What one `capnet link` changes in a link's impairment; NULL / false: keep it. */
struct impair_change {
	const uint32_t *loss, *dup, *corrupt;
	bool fix_csum; /* with corrupt: --corrupt-payload */
	const uint64_t *seed; /* with loss: seeded; a loss without it is random again */
	const struct capnet_match *match;
};

/* Sets (or, with every rate 0, removes) one directed impairment in the set. */
static int impairment_set_put(struct impairment_set *imps, uint16_t src, uint16_t dst,
			      const struct impair_change *c)
{
	struct link_impairment *li = NULL;
	unsigned int i;

	for (i = 0; i < imps->count; i++)
		if (imps->items[i].src == src && imps->items[i].dst == dst)
			li = &imps->items[i];
	if (!li) {
		if (imps->count >= CAPNET_MAX_IMPAIRMENTS)
			return -E2BIG;
		li = &imps->items[imps->count++];
		*li = (struct link_impairment){ .src = src, .dst = dst };
	}
	if (c->loss) {
		li->loss_ppm = *c->loss;
		li->flags &= ~CAPNET_IMPAIR_SEEDED;
		li->seed = 0;
		if (c->seed) {
			li->flags |= CAPNET_IMPAIR_SEEDED;
			li->seed = *c->seed;
		}
	}
	if (c->dup)
		li->dup_ppm = *c->dup;
	if (c->corrupt) {
		li->corrupt_ppm = *c->corrupt;
		li->flags &= ~CAPNET_IMPAIR_FIX_CSUM;
		if (c->fix_csum)
			li->flags |= CAPNET_IMPAIR_FIX_CSUM;
	}
	if (c->match)
		li->match = *c->match;
	if (!li->loss_ppm && !li->dup_ppm && !li->corrupt_ppm)
		*li = imps->items[--imps->count];
	return 0;
}

/* Corruption needs every sender of a corrupted link to compute its own checksums
 * (netem/lab/offload.h): the nodes of `from` (NULL: all), and of `to` (NULL: all) when the link
 * is two-way. */
static int checksums_by_sender(struct switch_ctx *ctx, const struct node_set *from,
			       const struct node_set *to, bool two_way)
{
	unsigned int i;
	bool changed;
	int err;

	offload_keep_off(ctx->cli->lab);
	for (i = 1; i <= ctx->info.nodes; i++) {
		bool sends = !from || nodeset_has(from, i) ||
			     (two_way && (!to || nodeset_has(to, i)));

		if (!sends)
			continue;
		err = node_tx_checksum_off(ctx->cli->lab, i, &changed);
		if (err)
			return report_fail("link: turn TX checksum offload off on node %u, so that "
					   "corruption shows: %s",
					   i, strerror(-err));
	}
	return EXIT_OK;
}

/* Node list or `all` (the wildcard that also covers nodes' future traffic patterns). */
static int parse_endpoint(const char *text, unsigned int nodes, struct node_set *set, bool *any,
			  struct spec_error *e)
{
	*any = !strcmp(text, "all");
	if (*any)
		return 0;
	return nodeset_parse(text, nodes, set, e);
}

#define LINK_USAGE                                                                               \
	"link: usage: capnet link FROM TO [--loss P%% [--seed S]] [--dup P%%] [--corrupt P%% | " \
	"--corrupt-payload P%%] [--only SPEC | --except SPEC] [--delay T [--jitter T] "          \
	"[--distribution uniform|normal|exponential] [--reorder]] [--rate R] [--one-way]"

/* What --delay, --jitter, --distribution, --rate and --reorder asked for; unset fields keep the
 * link's current value. */
struct delay_opts {
	bool any, delay, jitter, dist, rate, reorder;
	struct capnet_delay_params p;
};

static int parse_delay_opt(struct delay_opts *o, const char *opt, const char *val)
{
	uint64_t v;

	if (!strcmp(opt, "--delay") || !strcmp(opt, "--jitter")) {
		bool is_delay = opt[2] == 'd';

		if (delay_parse_time_ns(val, &v))
			return report_usage(
				"link: %s \"%s\" is not a time (like 20ms, 500us, 1s, or 0)", opt,
				val);
		if (is_delay) {
			o->p.delay_ns = v;
			o->delay = true;
		} else {
			o->p.jitter_ns = v;
			o->jitter = true;
		}
	} else if (!strcmp(opt, "--distribution")) {
		if (delay_dist_parse(val, &o->p.dist))
			return report_usage("link: --distribution \"%s\": uniform, normal or "
					    "exponential",
					    val);
		o->dist = true;
	} else {
		if (delay_parse_rate_bps(val, &v))
			return report_usage(
				"link: --rate \"%s\" is not a rate (like 10mbit, 512kbit, "
				"1gbit, or 0)",
				val);
		o->p.rate_bps = v;
		o->rate = true;
	}
	o->any = true;
	return EXIT_OK;
}

/* The link's new parameters: `--delay 0` alone clears delay, jitter and rate together. */
static void delay_merge(const struct delay_opts *o, const struct delay_set *set, uint16_t s,
			uint16_t d, struct capnet_delay_params *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < set->count; i++)
		if (set->items[i].src == s && set->items[i].dst == d)
			*out = set->items[i].p;
	if (o->delay && !o->p.delay_ns && !o->jitter && !o->rate) {
		memset(out, 0, sizeof(*out));
		return;
	}
	if (o->delay)
		out->delay_ns = o->p.delay_ns;
	if (o->jitter)
		out->jitter_ns = o->p.jitter_ns;
	if (o->dist)
		out->dist = o->p.dist;
	if (o->rate)
		out->rate_bps = o->p.rate_bps;
	if (o->reorder)
		out->reorder = 1;
	else if (o->delay || o->jitter)
		out->reorder = 0;
}

static void describe_delays(const struct delay_set *set, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;
	char one[160];

	buf[0] = 0;
	for (i = 0; i < set->count && used < len; i++) {
		delay_link_format(&set->items[i], one, sizeof(one));
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", one);
	}
}

/* Puts the new delays in force: starts the delay line when the first link gets one. */
static int apply_delays(struct switch_ctx *ctx)
{
	int err;

	if (!delays.count && !delay_running(ctx->cli->lab))
		return EXIT_OK;
	err = delay_apply(ctx->cli->lab, &ctx->info, &delays);
	return err ? report_fail("link: %s", error_reason(err)) : EXIT_OK;
}

int cmd_link(struct cli *cli, int argc, char **argv)
{
	uint32_t loss, dup, corrupt, *lossp = NULL, *dupp = NULL;
	struct impair_change change = {};
	struct match_opt only = {};
	const char *seed_text = NULL, *corrupt_opt = NULL;
	uint64_t seed;
	struct delay_opts dopt = {};
	struct capnet_delay_params dp;
	struct node_set from, to;
	bool one_way = false, from_any, to_any;
	struct switch_ctx ctx;
	struct spec_error e;
	const char *ends[2];
	char text[1024], dtext[2048], extra[3400];
	int i, nends = 0, rc, err = 0;
	unsigned int s, d;

	cli_take_json(cli, &argc, argv);
	for (i = 0; i < argc; i++) {
		rc = match_take_option(argc, argv, &i, &only, &e);
		if (rc < 0)
			return report_usage("link: %s", e.msg);
		if (rc)
			continue;
		if (!strcmp(argv[i], "--corrupt") || !strcmp(argv[i], "--corrupt-payload")) {
			if (corrupt_opt)
				return report_usage(
					"link: give one of --corrupt (the receiver's stack "
					"drops the frame) and --corrupt-payload (the "
					"application gets it), once");
			corrupt_opt = argv[i];
			if (++i >= argc)
				return report_usage("link: %s needs a percentage", corrupt_opt);
			if (percent_parse_ppm(argv[i], &corrupt, &e))
				return report_usage("link: %s: %s", corrupt_opt, e.msg);
			change.corrupt = &corrupt;
			change.fix_csum = !strcmp(corrupt_opt, "--corrupt-payload");
		} else if (!strcmp(argv[i], "--seed")) {
			if (++i >= argc)
				return report_usage("link: --seed needs a number");
			seed_text = argv[i];
		} else if (!strcmp(argv[i], "--loss") || !strcmp(argv[i], "--dup")) {
			bool is_loss = argv[i][2] == 'l';

			if (++i >= argc)
				return report_usage("link: %s needs a percentage", argv[i - 1]);
			if (percent_parse_ppm(argv[i], is_loss ? &loss : &dup, &e))
				return report_usage("link: %s: %s", argv[i - 1], e.msg);
			if (is_loss)
				lossp = &loss;
			else
				dupp = &dup;
		} else if (!strcmp(argv[i], "--one-way")) {
			one_way = true;
		} else if (!strcmp(argv[i], "--delay") || !strcmp(argv[i], "--jitter") ||
			   !strcmp(argv[i], "--distribution") || !strcmp(argv[i], "--rate")) {
			if (++i >= argc)
				return report_usage("link: %s needs a value", argv[i - 1]);
			if (parse_delay_opt(&dopt, argv[i - 1], argv[i]))
				return EXIT_USAGE;
		} else if (!strcmp(argv[i], "--reorder")) {
			dopt.reorder = dopt.any = true;
		} else if (argv[i][0] == '-') {
			return report_usage("link: unknown option %s", argv[i]);
		} else if (nends < 2) {
			ends[nends++] = argv[i];
		} else {
			return report_usage(LINK_USAGE);
		}
	}
	if (nends != 2)
		return report_usage(LINK_USAGE);
	if (!lossp && !dupp && !change.corrupt && !dopt.any && !only.given)
		return report_usage("link: what to change? (--loss P%%, --dup P%%, --corrupt P%%, "
				    "--delay T, --rate R)");
	if (seed_text && !lossp)
		return report_usage("link: --seed goes with --loss: it decides which frames are "
				    "lost");
	if (seed_text) {
		char *end;

		errno = 0;
		seed = strtoull(seed_text, &end, 0);
		if (!*seed_text || *end || errno || seed_text[0] == '-')
			return report_usage("link: --seed \"%s\" is not a number", seed_text);
		change.seed = &seed;
	}
	if (only.given && dopt.any)
		return report_usage("link: --only and --except scope loss, duplication and "
				    "corruption; the delay line delays every frame of a link");
	change.loss = lossp;
	change.dup = dupp;
	change.match = only.given ? &only.match : NULL;
	if ((dopt.jitter || dopt.dist || dopt.reorder) && !dopt.delay)
		return report_usage("link: --jitter, --distribution and --reorder go with --delay");
	if (dopt.p.jitter_ns && dopt.delay && !dopt.p.delay_ns)
		return report_usage("link: --jitter needs a --delay above 0");

	rc = open_for_switch(cli, &ctx, "capnet link", true);
	if (rc)
		return rc;
	fault_log_words(argc, argv, ctx.words, sizeof(ctx.words));
	if (parse_endpoint(ends[0], ctx.info.nodes, &from, &from_any, &e) ||
	    parse_endpoint(ends[1], ctx.info.nodes, &to, &to_any, &e)) {
		close_switch(&ctx);
		return report_usage("link: %s", e.msg);
	}
	if (!from_any && !to_any && nodeset_count(&from) == 1 && nodeset_count(&to) == 1) {
		for (s = 1; s < ctx.info.nodes && !nodeset_has(&from, s); s++)
			;
		if (nodeset_has(&to, s)) {
			close_switch(&ctx);
			return report_usage(
				"link: node %u to itself: its frames never cross the switch", s);
		}
	}
	if (dopt.any && delay_links_read(cli->lab, &delays)) {
		close_switch(&ctx);
		return report_fail("link: read the delays of lab \"%s\"", cli->lab);
	}
	/* Wildcards stay wildcards in the filter: `all` is one entry, not N^2. */
	for (s = from_any ? 0 : 1; s <= (from_any ? 0 : ctx.info.nodes) && !err; s++) {
		if (!from_any && !nodeset_has(&from, s))
			continue;
		for (d = to_any ? 0 : 1; d <= (to_any ? 0 : ctx.info.nodes) && !err; d++) {
			if ((!to_any && !nodeset_has(&to, d)) || (s && s == d))
				continue;
			if (lossp || dupp || change.corrupt || only.given) {
				err = impairment_set_put(&state.impairments, s, d, &change);
				if (!err && !one_way)
					err = impairment_set_put(&state.impairments, d, s, &change);
			}
			if (!err && dopt.any) {
				delay_merge(&dopt, &delays, s, d, &dp);
				err = delay_set_put(&delays, s, d, &dp);
				if (!err && !one_way) {
					delay_merge(&dopt, &delays, d, s, &dp);
					err = delay_set_put(&delays, d, s, &dp);
				}
			}
		}
	}
	if (err) {
		close_switch(&ctx);
		return report_fail("link: more than %d impaired or delayed links (use `all`)",
				   CAPNET_MAX_IMPAIRMENTS);
	}
	rc = current_partition(&ctx);
	if (!rc && change.corrupt && corrupt)
		rc = checksums_by_sender(&ctx, from_any ? NULL : &from, to_any ? NULL : &to,
					 !one_way);
	if (!rc && seed_text && filter_seen_reset(ctx.filter))
		rc = report_fail("link: reset the seeded loss of lab \"%s\"", cli->lab);
	if (!rc && dopt.any)
		rc = apply_delays(&ctx);
	describe_delays(&delays, dtext, sizeof(dtext));
	if (!rc && (lossp || dupp || change.corrupt || only.given)) {
		describe_impairments(&state.impairments, text, sizeof(text));
		snprintf(extra, sizeof(extra), "\"links\":\"%s\"%s%s%s", text,
			 dopt.any ? ",\"delays\":\"" : "", dopt.any ? dtext : "",
			 dopt.any ? "\"" : "");
		rc = apply(&ctx, &state.impairments, extra);
		if (!rc && !cli->json)
			printf("links: %s\n", state.impairments.count ? text : "none impaired");
	} else if (!rc && cli->json) {
		printf("{\"lab\":\"%s\",\"delays\":\"%s\",\"delay_line_pid\":%d}\n", cli->lab,
		       dtext, (int)delay_running(cli->lab));
	}
	if (!rc && dopt.any && !cli->json)
		printf("delays: %s\n", delays.count ? dtext : "none");
	/* Delays alone leave the policy as it is: its generation and groups. */
	if (!rc && !(lossp || dupp || change.corrupt || only.given))
		log_change(&ctx, NULL, NULL, NULL);
	close_switch(&ctx);
	return rc;
}
