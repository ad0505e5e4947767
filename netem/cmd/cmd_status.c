// SPDX-License-Identifier: GPL-2.0-only
/* capnet status: what the kernel holds for a lab, read once, then printed as text or as JSON
 * by two branches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/json.h"
#include "lib/monotonic.h"
#include "netem/cli.h"
#include "netem/delay/delay_line.h"
#include "netem/svc/clock_ctl.h"
#include "netem/explain.h"
#include "netem/policy/match.h"
#include "netem/svc/nodes.h"
#include "netem/filter/status_maps.h"

static struct filter_state state;
static struct partition part, rule_part;

/* The clocks capnet moved (netem/svc/clock_ctl.h): a line, or JSON objects, for each node whose
 * clock is not the true one. */
static void print_clocks(const char *lab, unsigned int nodes, bool json)
{
	struct clock_setting cs;
	unsigned int i, shown = 0;
	int64_t jump = 0, now = clock_true_now_ns();
	uint64_t period = 0;
	char text[96];
	bool strobe;

	for (i = 1; i <= nodes; i++) {
		if (clock_read(lab, i, &cs))
			continue;
		strobe = clock_strobe_running(lab, i, &jump, &period);
		if (clock_setting_is_true(&cs) && !strobe)
			continue;
		if (json) {
			printf("%s{\"node\":%u,\"offset_ns\":%lld,\"rate\":%g,\"strobe_ns\":%lld,"
			       "\"strobe_period_ns\":%llu}",
			       shown ? "," : "", i, (long long)clock_offset_at(&cs, now), cs.rate,
			       strobe ? (long long)jump : 0,
			       strobe ? (unsigned long long)period : 0);
		} else {
			clock_setting_describe(&cs, now, text, sizeof(text));
			printf("clock of node %u: %s", i, text);
			if (strobe)
				printf("; strobe %+.9g s every %.9g s", jump / 1e9, period / 1e9);
			printf("\n");
		}
		shown++;
	}
}

/* Rule i's match ("only tcp:2380") and partition ("1 | 2,3"). */
static void rule_text(unsigned int i, char *match, size_t mlen, char *text, size_t tlen)
{
	struct spec_error e;

	match_format(&state.rules.rule[i].match, match, mlen);
	if (policy_expand(&state.rules.rule[i].policy, &rule_part, &e) ||
	    partition_format(&rule_part, text, tlen) < 0)
		snprintf(text, tlen, "(unreadable)");
}

struct link_row {
	struct capnet_stats_key key;
	struct capnet_link_stats stats;
};

struct link_rows {
	struct link_row *rows;
	size_t count, cap;
};

static int collect_link(const struct capnet_stats_key *key, const struct capnet_link_stats *st,
			void *ctx)
{
	struct link_rows *lr = ctx;

	if (lr->count == lr->cap) {
		size_t cap = lr->cap ? lr->cap * 2 : 64;
		struct link_row *rows = realloc(lr->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		lr->rows = rows;
		lr->cap = cap;
	}
	lr->rows[lr->count++] = (struct link_row){ .key = *key, .stats = *st };
	return 0;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct link_row *x = a, *y = b;

	if (x->key.src != y->key.src)
		return x->key.src - y->key.src;
	return x->key.dst - y->key.dst;
}

static unsigned long long row_drops(const struct link_row *r)
{
	return r->stats.dropped_partition + r->stats.dropped_loss + r->stats.corrupted;
}

/* Most drops first; then by link, so equal rows keep a stable order. */
static int cmp_rows_by_drops(const void *a, const void *b)
{
	const struct link_row *x = a, *y = b;
	unsigned long long dx = row_drops(x), dy = row_drops(y);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return cmp_rows(a, b);
}

static void print_row_header(void)
{
	printf("%-12s %12s %12s %12s %12s %12s\n", "link", "passed", "partition", "loss",
	       "duplicated", "corrupted");
}

static void print_row(const struct link_row *r)
{
	char name[24];

	snprintf(name, sizeof(name), "%u -> %u", r->key.src, r->key.dst);
	printf("%-12s %12llu %12llu %12llu %12llu %12llu\n", name,
	       (unsigned long long)r->stats.passed, (unsigned long long)r->stats.dropped_partition,
	       (unsigned long long)r->stats.dropped_loss, (unsigned long long)r->stats.duplicated,
	       (unsigned long long)r->stats.corrupted);
}

/* What a reader of a big lab wants first: totals per cause, then the links that lost the most,
 * so 1,000 nodes take a screen, not a million lines. */
#define TOP_LINKS 10

static void print_summary(const struct link_rows *lr)
{
	unsigned long long passed = 0, partition = 0, loss = 0, corrupted = 0, dup = 0;
	struct link_row *top;
	size_t i, with_drops = 0, shown;

	for (i = 0; i < lr->count; i++) {
		const struct capnet_link_stats *st = &lr->rows[i].stats;

		passed += st->passed;
		partition += st->dropped_partition;
		loss += st->dropped_loss;
		corrupted += st->corrupted;
		dup += st->duplicated;
		with_drops += row_drops(&lr->rows[i]) != 0;
	}
	printf("frames: %llu passed; dropped %llu by partition, %llu by loss; %llu corrupted, "
	       "%llu duplicated\n",
	       passed, partition, loss, corrupted, dup);
	if (!with_drops) {
		printf("links: %zu carried frames, none lost any\n", lr->count);
		return;
	}
	top = malloc(lr->count * sizeof(*top));
	if (!top)
		return;
	memcpy(top, lr->rows, lr->count * sizeof(*top));
	qsort(top, lr->count, sizeof(*top), cmp_rows_by_drops);
	shown = with_drops < TOP_LINKS ? with_drops : TOP_LINKS;
	printf("\nlinks that lost frames, most first (%zu of %zu links that carried frames):\n",
	       with_drops, lr->count);
	print_row_header();
	for (i = 0; i < shown; i++)
		print_row(&top[i]);
	if (with_drops > shown)
		printf("... and %zu more (capnet status --links lists every link)\n",
		       with_drops - shown);
	free(top);
}

static void print_groups_json(const struct policy *pol)
{
	unsigned int g, n;
	bool first_group = true, first;

	printf("[");
	for (g = 0; g < pol->groups; g++) {
		printf("%s[", first_group ? "" : ",");
		first_group = false;
		first = true;
		for (n = 1; n <= pol->nodes; n++) {
			if (pol->group_of[n] != g)
				continue;
			printf("%s%u", first ? "" : ",", n);
			first = false;
		}
		printf("]");
	}
	printf("]");
}

static void print_blocked_json(const struct policy *pol)
{
	unsigned int a, b;
	bool first = true;

	printf("[");
	for (a = 0; a < pol->groups; a++)
		for (b = 0; b < pol->groups; b++)
			if (!policy_reaches(pol, a, b)) {
				printf("%s[%u,%u]", first ? "" : ",", a, b);
				first = false;
			}
	printf("]");
}

static double since_s(uint64_t mono_ns)
{
	return (monotonic_ns() - mono_ns) / 1e9;
}

/* 'x': the link is cut for every frame; 'r': a rule cuts some of its frames; ' ': open. */
static char cut_mark(unsigned int s, unsigned int d)
{
	unsigned int i;

	if (partition_blocks(&part, s, d))
		return 'x';
	for (i = 0; i < state.rules.count; i++) {
		struct spec_error e;

		if (!policy_expand(&state.rules.rule[i].policy, &rule_part, &e) &&
		    partition_blocks(&rule_part, s, d))
			return 'r';
	}
	return ' ';
}

static void print_matrix(const struct link_rows *lr, unsigned int nodes)
{
	unsigned int s, d;
	size_t at = 0; /* rows are in link order: one walk serves the whole matrix */

	/* A node-by-node picture of drops is readable up to about a dozen nodes. */
	printf("\ndropped frames (row: from, column: to; . = none, x = link cut now%s)\n     ",
	       state.rules.count ? ", r = a rule cuts some of its frames" : "");
	for (d = 1; d <= nodes; d++)
		printf("%6u", d);
	printf("\n");
	for (s = 1; s <= nodes; s++) {
		printf("%5u", s);
		for (d = 1; d <= nodes; d++) {
			unsigned long long dropped = 0;

			char mark = s == d ? ' ' : cut_mark(s, d);

			while (at < lr->count &&
			       (lr->rows[at].key.src < s ||
				(lr->rows[at].key.src == s && lr->rows[at].key.dst < d)))
				at++;
			if (at < lr->count && lr->rows[at].key.src == s &&
			    lr->rows[at].key.dst == d)
				dropped = lr->rows[at].stats.dropped_partition +
					  lr->rows[at].stats.dropped_loss;
			if (s == d)
				printf("%6s", "-");
			else if (mark != ' ' && !dropped)
				printf("%6c", mark);
			else if (!dropped)
				printf("%6s", ".");
			else
				printf("%5llu%c", dropped, mark);
		}
		printf("\n");
	}
}

struct services_print {
	unsigned int nodes;
	bool json;
	unsigned int count;
};

/* One line (or JSON object) per service other than capnode: where it runs, where it is paused,
 * and where it was started but no longer runs (it exited or was killed). */
/* Which services the lab ever started: capnode, and how many others. */
struct services_seen {
	bool capnode;
	unsigned int others;
};

static int see_service(const char *name, const char *dir, void *arg)
{
	struct services_seen *seen = arg;

	(void)dir;
	if (!strcmp(name, CAPNODE_SERVICE))
		seen->capnode = true;
	else
		seen->others++;
	return 0;
}

static int print_service(const char *name, const char *dir, void *arg)
{
	struct services_print *sp = arg;
	struct node_set up, paused, down;
	char up_text[1024] = "", paused_text[1024] = "", down_text[1024] = "", cmd[600];
	unsigned int i;

	if (!strcmp(name, CAPNODE_SERVICE))
		return 0;
	nodeset_clear(&up);
	nodeset_clear(&paused);
	nodeset_clear(&down);
	for (i = 1; i <= sp->nodes; i++) {
		snprintf(cmd, sizeof(cmd), "%s/n%u.cmd", dir, i);
		if (nodes_paused(dir, i))
			nodeset_add(&paused, i);
		else if (nodes_pid(dir, i))
			nodeset_add(&up, i);
		else if (!access(cmd, F_OK))
			nodeset_add(&down, i);
	}
	if (nodeset_count(&up))
		nodeset_format(&up, up_text, sizeof(up_text));
	if (nodeset_count(&paused))
		nodeset_format(&paused, paused_text, sizeof(paused_text));
	if (nodeset_count(&down))
		nodeset_format(&down, down_text, sizeof(down_text));
	if (sp->json) {
		printf("%s{\"name\":", sp->count ? "," : "");
		json_write_string(stdout, name);
		printf(",\"running\":\"%s\",\"paused\":\"%s\",\"not_running\":\"%s\","
		       "\"dir\":",
		       up_text, paused_text, down_text);
		json_write_string(stdout, dir);
		printf("}");
	} else {
		printf("service %s: running on %s", name, up_text[0] ? up_text : "none");
		if (paused_text[0])
			printf(", paused on %s", paused_text);
		if (down_text[0])
			printf(", not running on %s (see %s/n<i>.log)", down_text, dir);
		printf("\n");
	}
	sp->count++;
	return 0;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct capnet_global_stats global = {};
	struct link_rows lr = {};
	struct lab_info info;
	struct filter *filter = NULL;
	struct spec_error e;
	char text[8192], scope[300], net[32], dir[256], run_dir[256], running_text[4096],
		mode[8] = "";
	struct node_set running;
	unsigned int attached = 0, missing = 0, i;
	enum filter_hook hook = FILTER_HOOK_AUTO;
	int rc, err;

	bool maps = false, links = false;

	cli_take_json(cli, &argc, argv);
	for (i = 0; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--maps"))
			maps = true;
		else if (!strcmp(argv[i], "--links"))
			links = true;
		else
			return report_usage("status: unknown argument \"%s\" (capnet status "
					    "[--json] [--links] | --maps)",
					    argv[i]);
	}
	if (maps && links)
		return report_usage("status: --maps already decodes every link's counters");
	if (links && cli->json)
		return report_usage("status: --json already lists every link");
	if (maps && cli->json)
		return report_usage("status: --maps is for a reader; --json has the same facts");
	if (cli_need_root("capnet status"))
		return EXIT_FAIL;
	rc = cli_open_lab(cli, &info, &filter);
	if (rc)
		return rc;
	if (maps) {
		rc = status_print_maps(cli->lab, filter, info.nodes);
		filter_close(filter);
		return rc;
	}
	filter_pin_dir(cli->lab, dir, sizeof(dir));
	explain("bpftool map dump pinned %s/link_passed", dir);
	explain("bpftool map dump pinned %s/link_drops", dir);
	err = filter_read_state(filter, &state);
	if (!err)
		err = policy_expand(&state.policy, &part, &e) ? -EBADMSG : 0;
	if (!err)
		err = filter_for_each_link(filter, collect_link, &lr);
	if (!err)
		err = filter_read_global(filter, &global);
	if (!err)
		err = filter_count_attached(cli->lab, &info, &attached, &missing, &hook);
	if (err) {
		/* Maps an `up` left half-way say nothing yet: the lab's state is the news, not the
		 * read's errno. */
		int whole = filter_check_whole(filter, &info);

		rc = whole ? report_error(whole, NULL) :
			     report_fail("read the filter of lab \"%s\": %s", cli->lab,
					 strerror(-err));
		goto out;
	}
	qsort(lr.rows, lr.count, sizeof(*lr.rows), cmp_rows);
	run_dir_of_lab(cli->lab, NULL, run_dir, sizeof(run_dir));
	nodeset_clear(&running);
	for (i = 1; i <= info.nodes; i++) {
		if (!nodes_pid(run_dir, i))
			continue;
		if (!nodeset_count(&running) && nodes_mode(run_dir, i, mode, sizeof(mode)))
			snprintf(mode, sizeof(mode), "?");
		nodeset_add(&running, i);
	}
	running_text[0] = 0;
	if (nodeset_count(&running))
		nodeset_format(&running, running_text, sizeof(running_text));
	partition_format(&part, text, sizeof(text));
	{
		struct in_addr a = { .s_addr = htonl(state.lab.subnet) };

		inet_ntop(AF_INET, &a, net, sizeof(net));
	}

	if (cli->json) {
		printf("{\"lab\":\"%s\",\"nodes\":%u,\"adopted\":%s,\"subnet\":\"%s/%u\","
		       "\"ports_filtered\":%u,"
		       "\"hook\":\"%s\",\"generation\":%llu,\"flip_ns\":%llu,\"partition\":\"%s\","
		       "\"groups\":",
		       cli->lab, info.nodes, info.adopted ? "true" : "false", net, state.lab.prefix,
		       attached, filter_hook_name(hook), (unsigned long long)state.meta.generation,
		       (unsigned long long)state.meta.flip_ns, text);
		print_groups_json(&state.policy);
		printf(",\"blocked\":");
		print_blocked_json(&state.policy);
		printf(",\"rules\":[");
		for (i = 0; i < state.rules.count; i++) {
			rule_text(i, scope, sizeof(scope), text, sizeof(text));
			printf("%s{\"rule\":%u,\"match\":\"%s\",\"partition\":\"%s\"}",
			       i ? "," : "", i + 1, scope, text);
		}
		printf("],\"impairments\":[");
		for (i = 0; i < state.impairments.count; i++) {
			const struct link_impairment *li = &state.impairments.items[i];

			match_format(&li->match, scope, sizeof(scope));
			printf("%s{\"from\":%u,\"to\":%u,\"loss_ppm\":%u,\"dup_ppm\":%u,"
			       "\"corrupt_ppm\":%u,\"corrupt_payload\":%s,\"seeded\":%s,"
			       "\"seed\":%llu,\"match\":\"%s\"}",
			       i ? "," : "", li->src, li->dst, li->loss_ppm, li->dup_ppm,
			       li->corrupt_ppm,
			       li->flags & CAPNET_IMPAIR_FIX_CSUM ? "true" : "false",
			       li->flags & CAPNET_IMPAIR_SEEDED ? "true" : "false",
			       (unsigned long long)li->seed, scope);
		}
		printf("],\"links\":[");
		for (i = 0; i < lr.count; i++) {
			const struct link_row *r = &lr.rows[i];

			printf("%s{\"from\":%u,\"to\":%u,\"passed\":%llu,\"dropped_partition\":%llu,"
			       "\"dropped_loss\":%llu,\"duplicated\":%llu,\"corrupted\":%llu}",
			       i ? "," : "", r->key.src, r->key.dst,
			       (unsigned long long)r->stats.passed,
			       (unsigned long long)r->stats.dropped_partition,
			       (unsigned long long)r->stats.dropped_loss,
			       (unsigned long long)r->stats.duplicated,
			       (unsigned long long)r->stats.corrupted);
		}
		printf("],\"clocks\":[");
		print_clocks(cli->lab, info.nodes, true);
		printf("],\"running\":\"%s\",\"mode\":\"%s\",\"services\":[", running_text, mode);
		{
			struct services_print sp = { .nodes = info.nodes, .json = true };

			run_dir_for_each_service(run_dir, print_service, &sp);
		}
		printf("]");
		delay_status_print(cli->lab, true);
		printf(",\"unknown_src\":%llu,\"ring_overflow\":%llu,\"dup_failed\":%llu}\n",
		       (unsigned long long)global.unknown_src,
		       (unsigned long long)global.ring_overflow,
		       (unsigned long long)global.dup_failed);
	} else {
		if (info.adopted)
			printf("lab %s: %u adopted namespace%s, switch %s-sw (their bridge's "
			       "namespace)\n",
			       cli->lab, info.nodes, info.nodes == 1 ? "" : "s", cli->lab);
		else
			printf("lab %s: %u node%s on %s/%u, switch %s-sw\n", cli->lab, info.nodes,
			       info.nodes == 1 ? "" : "s", net, state.lab.prefix, cli->lab);
		/* What runs in the lab first; capnode named only when it ran here, or when
		 * nothing runs at all and the hint helps. */
		{
			struct services_print sp = { .nodes = info.nodes };
			struct services_seen seen = { 0 };

			run_dir_for_each_service(run_dir, see_service, &seen);
			if (nodeset_count(&running))
				printf("replicas: %s running (%s mode)\n", running_text, mode);
			else if (seen.capnode || !seen.others)
				printf("replicas: none running (capnet start --mode cp|ap)\n");

			run_dir_for_each_service(run_dir, print_service, &sp);
		}
		printf("partition: %s\n", text);
		for (i = 0; i < state.rules.count; i++) {
			rule_text(i, scope, sizeof(scope), text, sizeof(text));
			printf("rule %u, %s: %s\n", i + 1, scope, text);
		}
		print_clocks(cli->lab, info.nodes, false);
		printf("generation %llu, switched %.1f s ago, %u group%s\n",
		       (unsigned long long)state.meta.generation, since_s(state.meta.flip_ns),
		       state.policy.groups, state.policy.groups == 1 ? "" : "s");
		for (i = 0; i < state.impairments.count; i++) {
			const struct link_impairment *li = &state.impairments.items[i];
			char s[8] = "all", d[8] = "all";

			if (li->src)
				snprintf(s, sizeof(s), "%u", li->src);
			if (li->dst)
				snprintf(d, sizeof(d), "%u", li->dst);
			printf("link %s -> %s: loss %.4g%%", s, d, li->loss_ppm / 1e4);
			if (li->flags & CAPNET_IMPAIR_SEEDED)
				printf(" (seed %llu)", (unsigned long long)li->seed);
			printf(", dup %.4g%%", li->dup_ppm / 1e4);
			if (li->corrupt_ppm)
				printf(", %s %.4g%%",
				       li->flags & CAPNET_IMPAIR_FIX_CSUM ? "corrupt-payload" :
									    "corrupt",
				       li->corrupt_ppm / 1e4);
			if (li->match.count) {
				match_format(&li->match, scope, sizeof(scope));
				printf(", %s", scope);
			}
			printf("\n");
		}
		printf("filter: on %u/%u ports (%s); %llu unknown sources, %llu ring overflows, %llu "
		       "failed duplications\n",
		       attached, info.nodes, filter_hook_name(hook),
		       (unsigned long long)global.unknown_src,
		       (unsigned long long)global.ring_overflow,
		       (unsigned long long)global.dup_failed);
		print_summary(&lr);
		if (links && lr.count) {
			printf("\nevery link that carried frames:\n");
			print_row_header();
			for (i = 0; i < lr.count; i++)
				print_row(&lr.rows[i]);
		}
		delay_status_print(cli->lab, false);
		/* A node-by-node picture fits a screen up to about a dozen nodes. */
		if (links || info.nodes <= 12)
			print_matrix(&lr, info.nodes);
	}
	/* Shown whatever its state, but a lab that is not whole is a failure, as it is for every
	 * command that would act on it. */
	if (filter_check_whole(filter, &info) || delay_check_applied(cli->lab))
		rc = report_error(-EUCLEAN, NULL);
out:
	free(lr.rows);
	filter_close(filter);
	return rc;
}
