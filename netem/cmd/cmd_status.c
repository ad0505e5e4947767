// SPDX-License-Identifier: GPL-2.0-only
/* capnet status: what the kernel holds for a lab, read once into a struct status, then printed
 * by sections whose print_* calls write text or JSON alike (lib/out_print.h), so the two forms
 * never drift. Each form lists the sections in its own order, the one it has always had. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/monotonic.h"
#include "lib/out_print.h"
#include "netem/cli.h"
#include "netem/delay/delay_line.h"
#include "netem/svc/clock_ctl.h"
#include "netem/explain.h"
#include "netem/lab/lab_open.h"
#include "netem/lab/lab_record.h"
#include "netem/policy/match.h"
#include "netem/svc/nodes.h"
#include "netem/filter/status_maps.h"

struct link_row {
	struct capnet_stats_key key;
	struct capnet_link_stats stats;
};

struct link_rows {
	struct link_row *rows;
	size_t count, cap;
};

/* Everything status shows, read before anything is printed. */
struct status {
	const char *lab;
	struct lab_info info;
	struct filter_state state;
	struct partition part; /* the partition in force for every frame */
	struct link_rows links; /* in link order */
	struct capnet_global_stats global;
	unsigned int attached;
	enum filter_hook hook;
	char subnet[48];
	char run_dir[256];
	struct node_set running; /* nodes where capnode runs */
	char running_text[4096];
	char mode[8];
	bool every_link; /* --links */
	const char *not_whole; /* why the lab is not whole, or NULL */
};

/* A partition expanded from a rule's policy: too big for the stack, used one at a time. */
static struct partition rule_part;

/* Rule i's match ("only tcp:2380") and partition ("1 | 2,3"). */
static void rule_text(const struct status *st, unsigned int i, char *match, size_t mlen, char *text,
		      size_t tlen)
{
	struct spec_error e;

	match_format(&st->state.rules.rule[i].match, match, mlen);
	if (policy_expand(&st->state.rules.rule[i].policy, &rule_part, &e) ||
	    partition_format(&rule_part, text, tlen) < 0)
		snprintf(text, tlen, "(unreadable)");
}

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

static void show_row_header(struct out_printer *p)
{
	print_text(p, "%-12s %12s %12s %12s %12s %12s\n", "link", "passed", "partition", "loss",
		   "duplicated", "corrupted");
}

/* A link's counters: a row of the table, or an object of "links". */
static void show_row(struct out_printer *p, const struct link_row *r)
{
	char name[24];

	snprintf(name, sizeof(name), "%u -> %u", r->key.src, r->key.dst);
	open_object(p, NULL);
	print_uint(p, "from", NULL, r->key.src);
	print_uint(p, "to", NULL, r->key.dst);
	print_string(p, NULL, "%-12s", name);
	print_uint(p, "passed", " %12llu", r->stats.passed);
	print_uint(p, "dropped_partition", " %12llu", r->stats.dropped_partition);
	print_uint(p, "dropped_loss", " %12llu", r->stats.dropped_loss);
	print_uint(p, "duplicated", " %12llu", r->stats.duplicated);
	print_uint(p, "corrupted", " %12llu", r->stats.corrupted);
	print_text(p, "\n");
	close_object(p);
}

/* What a reader of a big lab wants first: totals per cause, then the links that lost the most,
 * so 1,000 nodes take a screen, not a million lines. */
#define TOP_LINKS 10

static void show_summary(struct out_printer *p, const struct status *st)
{
	const struct link_rows *lr = &st->links;
	unsigned long long passed = 0, partition = 0, loss = 0, corrupted = 0, dup = 0;
	struct link_row *top;
	size_t i, with_drops = 0, shown;

	for (i = 0; i < lr->count; i++) {
		const struct capnet_link_stats *ls = &lr->rows[i].stats;

		passed += ls->passed;
		partition += ls->dropped_partition;
		loss += ls->dropped_loss;
		corrupted += ls->corrupted;
		dup += ls->duplicated;
		with_drops += row_drops(&lr->rows[i]) != 0;
	}
	print_text(p,
		   "frames: %llu passed; dropped %llu by partition, %llu by loss; %llu corrupted, "
		   "%llu duplicated\n",
		   passed, partition, loss, corrupted, dup);
	if (!with_drops) {
		print_text(p, "links: %zu carried frames, none lost any\n", lr->count);
		return;
	}
	top = malloc(lr->count * sizeof(*top));
	if (!top)
		return;
	memcpy(top, lr->rows, lr->count * sizeof(*top));
	qsort(top, lr->count, sizeof(*top), cmp_rows_by_drops);
	shown = with_drops < TOP_LINKS ? with_drops : TOP_LINKS;
	print_text(p,
		   "\nlinks that lost frames, most first (%zu of %zu links that carried frames):\n",
		   with_drops, lr->count);
	show_row_header(p);
	for (i = 0; i < shown; i++)
		show_row(p, &top[i]);
	if (with_drops > shown)
		print_text(p, "... and %zu more (capnet status --links lists every link)\n",
			   with_drops - shown);
	free(top);
}

/* Text: every link with --links. JSON: always every link. */
static void show_links(struct out_printer *p, const struct status *st)
{
	size_t i;

	if (!print_is_json(p) && !(st->every_link && st->links.count))
		return;
	print_text(p, "\nevery link that carried frames:\n");
	show_row_header(p);
	open_array(p, "links");
	for (i = 0; i < st->links.count; i++)
		show_row(p, &st->links.rows[i]);
	close_array(p);
}

static void show_lab(struct out_printer *p, const struct status *st)
{
	bool adopted = st->info.adopted;

	print_string(p, "lab", "lab %s: ", st->lab);
	print_uint(p, "nodes", adopted ? "%llu adopted namespace" : "%llu node", st->info.nodes);
	print_text(p, "%s", st->info.nodes == 1 ? "" : "s");
	print_bool(p, "adopted", NULL, adopted);
	/* Adopted nodes keep their own addresses: the lab has no subnet, not 0.0.0.0/0. */
	if (adopted)
		print_json_null(p, "subnet");
	else
		print_string(p, "subnet", " on %s", st->subnet);
	print_text(p, ", switch %s-sw%s\n", st->lab, adopted ? " (their bridge's namespace)" : "");
}

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

/* capnode's replicas; named in the text only when they ran here, or when nothing runs at all
 * and the hint helps. */
static void show_replicas(struct out_printer *p, const struct status *st)
{
	bool running = nodeset_count(&st->running);
	struct services_seen seen = { 0 };

	print_string(p, "running", running ? "replicas: %s running" : NULL, st->running_text);
	print_string(p, "mode", running ? " (%s mode)\n" : NULL, st->mode);
	run_dir_for_each_service(st->run_dir, see_service, &seen);
	if (!running && (seen.capnode || !seen.others))
		print_text(p, "replicas: none running (capnet start --mode cp|ap)\n");
}

struct services_print {
	struct out_printer *p;
	unsigned int nodes;
};

/* A service other than capnode: where it runs, where it is paused, and where it was started but
 * no longer runs (it exited or was killed). */
static int show_service(const char *name, const char *dir, void *arg)
{
	struct services_print *sp = arg;
	struct out_printer *p = sp->p;
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
	open_object(p, NULL);
	print_string(p, "name", "service %s: ", name);
	print_string(p, "running", NULL, up_text);
	print_string(p, NULL, "running on %s", up_text[0] ? up_text : "none");
	print_string(p, "paused", paused_text[0] ? ", paused on %s" : NULL, paused_text);
	print_string(p, "not_running", down_text[0] ? ", not running on %s" : NULL, down_text);
	print_string(p, "dir", down_text[0] ? " (see %s/n<i>.log)" : NULL, dir);
	print_text(p, "\n");
	close_object(p);
	return 0;
}

static void show_services(struct out_printer *p, const struct status *st)
{
	struct services_print sp = { .p = p, .nodes = st->info.nodes };

	open_array(p, "services");
	run_dir_for_each_service(st->run_dir, show_service, &sp);
	close_array(p);
}

/* The partition in force; JSON adds its groups and the pairs of groups that cannot reach each
 * other. */
static void show_partition(struct out_printer *p, const struct status *st)
{
	const struct policy *pol = &st->state.policy;
	char text[8192];
	unsigned int g, n, a, b;

	partition_format(&st->part, text, sizeof(text));
	print_string(p, "partition", "partition: %s\n", text);
	open_array(p, "groups");
	for (g = 0; g < pol->groups; g++) {
		open_array(p, NULL);
		for (n = 1; n <= pol->nodes; n++)
			if (pol->group_of[n] == g)
				print_uint(p, NULL, NULL, n);
		close_array(p);
	}
	close_array(p);
	open_array(p, "blocked");
	for (a = 0; a < pol->groups; a++)
		for (b = 0; b < pol->groups; b++)
			if (!policy_reaches(pol, a, b)) {
				open_array(p, NULL);
				print_uint(p, NULL, NULL, a);
				print_uint(p, NULL, NULL, b);
				close_array(p);
			}
	close_array(p);
}

static void show_rules(struct out_printer *p, const struct status *st)
{
	char scope[300], text[8192];
	unsigned int i;

	open_array(p, "rules");
	for (i = 0; i < st->state.rules.count; i++) {
		rule_text(st, i, scope, sizeof(scope), text, sizeof(text));
		open_object(p, NULL);
		print_uint(p, "rule", "rule %llu, ", i + 1);
		print_string(p, "match", "%s: ", scope);
		print_string(p, "partition", "%s\n", text);
		close_object(p);
	}
	close_array(p);
}

/* The clocks capnet moved (netem/svc/clock_ctl.h): each node's whose clock is not the true
 * one. */
static void show_clocks(struct out_printer *p, const struct status *st)
{
	struct clock_setting cs;
	unsigned int i;
	int64_t jump = 0, now = clock_true_now_ns();
	uint64_t period = 0;
	char text[96];
	bool strobe;

	open_array(p, "clocks");
	for (i = 1; i <= st->info.nodes; i++) {
		if (clock_read(st->lab, i, &cs))
			continue;
		strobe = clock_strobe_running(st->lab, i, &jump, &period);
		if (clock_setting_is_true(&cs) && !strobe)
			continue;
		clock_setting_describe(&cs, now, text, sizeof(text));
		open_object(p, NULL);
		print_uint(p, "node", "clock of node %llu: ", i);
		print_string(p, NULL, "%s", text);
		print_int(p, "offset_ns", NULL, clock_offset_at(&cs, now));
		print_json_double(p, "rate", "%g", cs.rate);
		print_int(p, "strobe_ns", NULL, strobe ? jump : 0);
		print_uint(p, "strobe_period_ns", NULL, strobe ? period : 0);
		if (strobe)
			print_text(p, "; strobe %+.9g s every %.9g s", jump / 1e9, period / 1e9);
		print_text(p, "\n");
		close_object(p);
	}
	close_array(p);
}

static void show_generation(struct out_printer *p, const struct status *st)
{
	unsigned int groups = st->state.policy.groups;

	print_uint(p, "generation", "generation %llu", st->state.meta.generation);
	print_uint(p, "flip_ns", NULL, st->state.meta.flip_ns);
	print_text(p, ", switched %.1f s ago, %u group%s\n",
		   (monotonic_ns() - st->state.meta.flip_ns) / 1e9, groups, groups == 1 ? "" : "s");
}

/* Loss, duplication and corruption of links: percentages in the text, parts per million in the
 * JSON; node 0 is every node. */
static void show_impairments(struct out_printer *p, const struct status *st)
{
	char scope[300];
	unsigned int i;

	open_array(p, "impairments");
	for (i = 0; i < st->state.impairments.count; i++) {
		const struct link_impairment *li = &st->state.impairments.items[i];
		bool seeded = li->flags & CAPNET_IMPAIR_SEEDED;
		bool payload = li->flags & CAPNET_IMPAIR_FIX_CSUM;
		char s[8] = "all", d[8] = "all";

		if (li->src)
			snprintf(s, sizeof(s), "%u", li->src);
		if (li->dst)
			snprintf(d, sizeof(d), "%u", li->dst);
		match_format(&li->match, scope, sizeof(scope));
		open_object(p, NULL);
		print_uint(p, "from", NULL, li->src);
		print_uint(p, "to", NULL, li->dst);
		print_text(p, "link %s -> %s: loss %.4g%%", s, d, li->loss_ppm / 1e4);
		print_uint(p, "loss_ppm", NULL, li->loss_ppm);
		if (seeded)
			print_text(p, " (seed %llu)", (unsigned long long)li->seed);
		print_text(p, ", dup %.4g%%", li->dup_ppm / 1e4);
		print_uint(p, "dup_ppm", NULL, li->dup_ppm);
		if (li->corrupt_ppm)
			print_text(p, ", %s %.4g%%", payload ? "corrupt-payload" : "corrupt",
				   li->corrupt_ppm / 1e4);
		print_uint(p, "corrupt_ppm", NULL, li->corrupt_ppm);
		print_bool(p, "corrupt_payload", NULL, payload);
		print_bool(p, "seeded", NULL, seeded);
		print_uint(p, "seed", NULL, li->seed);
		print_string(p, "match", li->match.count ? ", %s" : NULL, scope);
		print_text(p, "\n");
		close_object(p);
	}
	close_array(p);
}

static void show_ports(struct out_printer *p, const struct status *st)
{
	print_uint(p, "ports_filtered", "filter: on %llu", st->attached);
	print_text(p, "/%u ports", st->info.nodes);
	print_string(p, "hook", " (%s); ", filter_hook_name(st->hook));
}

/* What the filter counts for the whole lab: frames from no node, drop events the ring had no
 * room for, duplicates it could not send. */
static void show_counters(struct out_printer *p, const struct status *st)
{
	print_uint(p, "unknown_src", "%llu unknown sources, ", st->global.unknown_src);
	print_uint(p, "ring_overflow", "%llu ring overflows, ", st->global.ring_overflow);
	print_uint(p, "dup_failed", "%llu failed duplications\n", st->global.dup_failed);
}

/* JSON only: the text says it on stderr, as every command refusing such a lab does. */
static void show_whole(struct out_printer *p, const struct status *st)
{
	print_bool(p, "whole", NULL, !st->not_whole);
	if (st->not_whole)
		print_string(p, "not_whole", NULL, st->not_whole);
	else
		print_json_null(p, "not_whole");
}

static void show_delay(struct out_printer *p, const struct status *st)
{
	delay_status_print(p, st->lab);
}

/* 'x': the link is cut for every frame; 'r': a rule cuts some of its frames; ' ': open. */
static char cut_mark(const struct status *st, unsigned int s, unsigned int d)
{
	unsigned int i;

	if (partition_blocks(&st->part, s, d))
		return 'x';
	for (i = 0; i < st->state.rules.count; i++) {
		struct spec_error e;

		if (!policy_expand(&st->state.rules.rule[i].policy, &rule_part, &e) &&
		    partition_blocks(&rule_part, s, d))
			return 'r';
	}
	return ' ';
}

/* A node-by-node picture of drops, text only: it fits a screen up to about a dozen nodes. */
static void show_matrix(struct out_printer *p, const struct status *st)
{
	const struct link_rows *lr = &st->links;
	unsigned int s, d, nodes = st->info.nodes;
	size_t at = 0; /* rows are in link order: one walk serves the whole matrix */

	if (!st->every_link && nodes > 12)
		return;
	print_text(p,
		   "\ndropped frames (row: from, column: to; . = none, x = link cut now%s)\n     ",
		   st->state.rules.count ? ", r = a rule cuts some of its frames" : "");
	for (d = 1; d <= nodes; d++)
		print_text(p, "%6u", d);
	print_text(p, "\n");
	for (s = 1; s <= nodes; s++) {
		print_text(p, "%5u", s);
		for (d = 1; d <= nodes; d++) {
			unsigned long long dropped = 0;
			char mark = s == d ? ' ' : cut_mark(st, s, d);

			while (at < lr->count &&
			       (lr->rows[at].key.src < s ||
				(lr->rows[at].key.src == s && lr->rows[at].key.dst < d)))
				at++;
			if (at < lr->count && lr->rows[at].key.src == s &&
			    lr->rows[at].key.dst == d)
				dropped = lr->rows[at].stats.dropped_partition +
					  lr->rows[at].stats.dropped_loss;
			if (s == d)
				print_text(p, "%6s", "-");
			else if (mark != ' ' && !dropped)
				print_text(p, "%6c", mark);
			else if (!dropped)
				print_text(p, "%6s", ".");
			else
				print_text(p, "%5llu%c", dropped, mark);
		}
		print_text(p, "\n");
	}
}

typedef void status_section(struct out_printer *p, const struct status *st);

/* The text reads from what runs to what the filter did; the JSON keeps the member order its
 * readers have always had. */
static status_section *const text_sections[] = {
	show_lab,     show_replicas,   show_services,	 show_partition, show_rules,
	show_clocks,  show_generation, show_impairments, show_ports,	 show_counters,
	show_summary, show_links,      show_delay,	 show_matrix,
};
static status_section *const json_sections[] = {
	show_lab,	  show_ports,	 show_generation, show_partition, show_rules,
	show_impairments, show_links,	 show_clocks,	  show_replicas,  show_services,
	show_delay,	  show_counters, show_whole,
};

/* Why the lab is not whole (the filter's ports, or the delay line), kept; NULL when it is. */
static const char *lab_not_whole(struct cli *cli, struct filter *filter,
				 const struct lab_info *info)
{
	static char why[512];
	int err = filter_check_whole(filter, info);

	if (!err)
		err = delay_check_applied(cli->lab);
	if (!err)
		return NULL;
	snprintf(why, sizeof(why), "%s", error_reason(err));
	return why;
}

/* Reads what status shows; the lab is open. */
static int status_read(struct status *st, struct filter *filter)
{
	struct spec_error e;
	unsigned int i, missing = 0;
	struct in_addr a;
	char net[32];
	int err;

	err = filter_read_state(filter, &st->state);
	if (!err)
		err = policy_expand(&st->state.policy, &st->part, &e) ? -EBADMSG : 0;
	if (!err)
		err = filter_for_each_link(filter, collect_link, &st->links);
	if (!err)
		err = filter_read_global(filter, &st->global);
	if (!err)
		err = filter_count_attached(st->lab, &st->info, &st->attached, &missing, &st->hook);
	if (err)
		return err;
	qsort(st->links.rows, st->links.count, sizeof(*st->links.rows), cmp_rows);
	run_dir_of_lab(st->lab, NULL, st->run_dir, sizeof(st->run_dir));
	nodeset_clear(&st->running);
	for (i = 1; i <= st->info.nodes; i++) {
		if (!nodes_pid(st->run_dir, i))
			continue;
		if (!nodeset_count(&st->running) &&
		    nodes_mode(st->run_dir, i, st->mode, sizeof(st->mode)))
			snprintf(st->mode, sizeof(st->mode), "?");
		nodeset_add(&st->running, i);
	}
	if (nodeset_count(&st->running))
		nodeset_format(&st->running, st->running_text, sizeof(st->running_text));
	a.s_addr = htonl(st->state.lab.subnet);
	inet_ntop(AF_INET, &a, net, sizeof(net));
	snprintf(st->subnet, sizeof(st->subnet), "%s/%u", net, st->state.lab.prefix);
	return 0;
}

static void status_print(const struct status *st, bool json)
{
	status_section *const *sections = json ? json_sections : text_sections;
	size_t i, count = json ? sizeof(json_sections) / sizeof(json_sections[0]) :
				 sizeof(text_sections) / sizeof(text_sections[0]);
	struct out_printer p;

	out_printer_init(&p, stdout, json);
	open_object(&p, NULL);
	for (i = 0; i < count; i++)
		sections[i](&p, st);
	close_object(&p);
}

/* {"lab":...,"whole":false,"not_whole":...}: all there is to say of a lab half built. */
static void show_not_whole_only(const struct status *st)
{
	struct out_printer p;

	out_printer_init(&p, stdout, true);
	open_object(&p, NULL);
	print_string(&p, "lab", NULL, st->lab);
	show_whole(&p, st);
	close_object(&p);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static struct status st;
	struct filter *filter = NULL;
	char dir[256];
	unsigned int i;
	int rc = EXIT_OK, err;

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
	st = (struct status){ .lab = cli->lab, .every_link = links };
	err = lab_open(cli->lab, &st.info, &filter, LAB_ANY);
	if (err) {
		/* A lab there but broken (an up that did not finish, a part removed) is news a
		 * JSON reader gets on stdout too; no lab, or no root, is only an error. */
		st.not_whole = error_reason(err);
		if (cli->json && err != -EPERM && (err != -ENOENT || lab_record_nodes(cli->lab)))
			show_not_whole_only(&st);
		return report_fail("%s", st.not_whole);
	}
	if (maps) {
		rc = status_print_maps(cli->lab, filter, st.info.nodes);
		filter_close(filter);
		return rc;
	}
	filter_pin_dir(cli->lab, dir, sizeof(dir));
	explain("bpftool map dump pinned %s/link_passed", dir);
	explain("bpftool map dump pinned %s/link_drops", dir);
	err = status_read(&st, filter);
	st.not_whole = lab_not_whole(cli, filter, &st.info);
	if (err && st.not_whole) {
		/* Maps an `up` left half-way say nothing yet: the lab's state is the news, not the
		 * read's errno; JSON readers still get it on stdout. */
		if (cli->json)
			show_not_whole_only(&st);
		rc = report_fail("%s", st.not_whole);
		goto out;
	}
	if (err) {
		rc = report_fail("read the filter of lab \"%s\": %s", cli->lab, strerror(-err));
		goto out;
	}
	status_print(&st, cli->json);
	/* Shown whatever its state, but a lab that is not whole is a failure, as it is for every
	 * command that would act on it. */
	if (st.not_whole)
		rc = report_fail("%s", st.not_whole);
out:
	free(st.links.rows);
	filter_close(filter);
	return rc;
}
