// SPDX-License-Identifier: GPL-2.0-only
/* The commands that act on nodes of a lab across hosts, each host on the nodes of its share:
 * exec, start, stop, kill, pause, resume, restart, clock, and link --delay. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/files.h"
#include "lib/json.h"
#include "lib/report.h"
#include "netem/cmd/hosts_cmd.h"
#include "netem/lab/run_dir.h"
#include "netem/svc/nodes.h"
#include "netem/svc/nodes_report.h"
#include "node/key_file.h"

/* `exec I -- CMD...` on the host of node I, with this terminal's input and output. */
int hosts_exec(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static char args[16384];
	char prefix[32];
	const char *remedy;
	unsigned int node, h;
	int rc;

	if (argc < 1)
		return report_usage("exec: which node? (capnet exec I -- CMD ...)");
	rc = cli_parse_node(argv[0], lh->nodes, &node);
	if (rc)
		return rc;
	h = lh->place.host_of[node];
	/* Asked first, since exec becomes ssh: a host lost would otherwise answer with ssh's exit
	 * 255 and its raw words. */
	remedy = hosts_lost_remedy(cli, lh, h);
	if (*remedy)
		return report_fail("exec: host %s: %s%s", lh->hosts.host[h].dest, hosts_why_of(h),
				   remedy);
	snprintf(prefix, sizeof(prefix), "host exec %u", node);
	remote_line(prefix, argc - 1, argv + 1, args, sizeof(args));
	rc = remote_exec(cli->lab, &lh->hosts.host[h], args);
	return report_fail("exec on host %s: %s", lh->hosts.host[h].dest, strerror(-rc));
}

/* ---- start, stop, kill, pause, resume, restart: every host acts on its own share ---------- */

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} node_commands[] = { { "start", cmd_start }, { "stop", cmd_stop },	{ "kill", cmd_kill },
		      { "pause", cmd_pause }, { "resume", cmd_resume }, { "restart", cmd_restart } };

int (*hosts_node_command(const char *name))(struct cli *cli, int argc, char **argv)
{
	for (size_t c = 0; c < sizeof(node_commands) / sizeof(node_commands[0]); c++)
		if (!strcmp(name, node_commands[c].name))
			return node_commands[c].run;
	return NULL;
}

/* The cluster's one key on every host, before any capnode starts: the controller keeps it in
 * its run directory and hands it to each host on standard input, never on a command line. */
static int share_key(struct cli *cli, const struct lab_hosts *lh, const char *dir)
{
	static char args[1024], text[PROTO_KEY_TEXT_LEN + 1];
	const char *input[HOSTS_MAX];
	char run_dir[256], path[300];
	struct proto_key key;
	int err;

	run_dir_of_lab(cli->lab, NULL, run_dir, sizeof(run_dir));
	snprintf(path, sizeof(path), "%s/" KEY_FILE_NAME, run_dir);
	err = files_mkdir_p(run_dir, 0755);
	if (!err)
		err = key_file_ensure(path, &key);
	if (err)
		return report_error(err, NULL);
	proto_key_format(&key, text);
	memset(&key, 0, sizeof(key));
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		input[h] = text;
	remote_line("host key", dir ? 2 : 0, (char *[]){ "--dir", (char *)dir }, args,
		    sizeof(args));
	hosts_run_all_input(cli->lab, lh, NULL, args, input);
	memset(text, 0, sizeof(text));
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (hosts_results[h].status)
			return report_fail("start: host %s: %s; no capnode was started",
					   lh->hosts.host[h].dest,
					   hosts_said(hosts_results[h].why));
	return EXIT_OK;
}

/* The command on every host (each acting on the nodes of its share, named by their numbers in
 * the whole lab), and one report adding up theirs, in the words of a lab on one host. */
int hosts_nodes(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
		char **argv)
{
	static char args[16384], line[2048];
	static struct nodes_report sum, one;
	const char *dir = NULL;
	bool capnode = false, no_key = false;
	unsigned int failed = HOSTS_MAX, answered = 0;
	int rc;

	cli_take_json(cli, &argc, argv);
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[i + 1];
		capnode |= !strcmp(argv[i], "--mode");
		no_key |= !strcmp(argv[i], "--no-key");
	}
	snprintf(line, sizeof(line), "capnet %s", name);
	if (cli_need_root(line))
		return EXIT_FAIL;
	if (!strcmp(name, "start")) {
		rc = hosts_refuse_unless_whole(cli, lh, name);
		if (!rc && capnode && !no_key)
			rc = share_key(cli, lh, dir);
		if (rc)
			return rc;
	}
	snprintf(line, sizeof(line), "host nodes %s", name);
	remote_line(line, argc, argv, args, sizeof(args));
	hosts_run_all(cli->lab, lh, NULL, args);
	/* A usage error is the same on every host: said once, as on one host. */
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (hosts_results[h].status == EXIT_USAGE)
			return report_usage("%s", hosts_said(hosts_results[h].why));
	rc = EXIT_OK;
	memset(&sum, 0, sizeof(sum));
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (hosts_results[h].status)
			rc = EXIT_FAIL;
		if (nodes_report_parse(hosts_last_line(hosts_results[h].out), &one)) {
			if (failed == HOSTS_MAX)
				failed = h;
			continue;
		}
		hosts_relay_warnings(lh, h);
		nodes_report_add(&sum, &one);
		answered++;
	}
	if (answered && nodes_report_format(&sum, cli->lab, cli->json, line, sizeof(line)) > 0)
		fputs(line, stdout);
	if (nodeset_count(&sum.hit))
		hosts_log_fault(cli, lh, name, argc, argv, NULL, &sum.hit, 0, NULL);
	if (failed < HOSTS_MAX) {
		/* Read before the remedy asks the host again over hosts_results. */
		const char *why = hosts_why_of(failed);

		return report_fail("%s: host %s: %s%s", name, lh->hosts.host[failed].dest, why,
				   hosts_lost_remedy(cli, lh, failed));
	}
	return rc;
}

/* ---- clock: each host moves the clocks of its nodes ------------------------------------- */

/* Where a host's clock line names its nodes: the value of "nodes" in JSON, else what stands
 * between "clock of node(s) " and ": ". 0 with *at and *len, or -EINVAL. */
static int clock_nodes_span(const char *line, bool json, const char **at, size_t *len)
{
	const char *p = json ? strstr(line, "\"nodes\":\"") : strstr(line, "clock of node");

	if (!p)
		return -EINVAL;
	p += json ? strlen("\"nodes\":\"") : strlen("clock of node");
	if (!json)
		p += strspn(p, "s ");
	*at = p;
	*len = strcspn(p, json ? "\"" : ":");
	return p[*len] ? 0 : -EINVAL;
}

/* One line for the hosts' lines when they say the same of their nodes (the nodes joined), else
 * every host's line: each names its nodes. */
static void print_clock_lines(struct cli *cli, const struct lab_hosts *lh, const bool *ran)
{
	static char first_rest[16384], rest[16384];
	struct node_set all, one;
	struct spec_error e;
	char nodes[4096], text[4096];
	const char *at, *first = NULL;
	size_t len;
	bool same = true;

	nodeset_clear(&all);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		const char *line = hosts_last_line(hosts_results[h].out);

		if (!ran[h])
			continue;
		if (clock_nodes_span(line, cli->json, &at, &len) || len >= sizeof(text)) {
			same = false;
			continue;
		}
		snprintf(text, sizeof(text), "%.*s", (int)len, at);
		if (nodeset_parse(text, lh->nodes, &one, &e))
			same = false;
		for (unsigned int i = 1; i <= lh->nodes; i++)
			if (nodeset_has(&one, i))
				nodeset_add(&all, i);
		snprintf(rest, sizeof(rest), "%.*s%s", (int)(at - line), line, at + len);
		if (!first) {
			first = line;
			snprintf(first_rest, sizeof(first_rest), "%s", rest);
		} else if (strcmp(rest, first_rest)) {
			same = false;
		}
	}
	if (!first)
		return;
	if (!same) {
		for (unsigned int h = 0; h < lh->hosts.count; h++)
			if (ran[h])
				fputs(hosts_last_line(hosts_results[h].out), stdout);
		return;
	}
	clock_nodes_span(first, cli->json, &at, &len);
	nodeset_format(&all, nodes, sizeof(nodes));
	if (cli->json)
		printf("%.*s%s%s", (int)(at - first), first, nodes, at + len);
	else
		printf("clock of node%s %s%s", nodeset_count(&all) == 1 ? "" : "s", nodes,
		       at + len);
}

/* Every host that holds one of NODES checks them all first; only then does any clock move, on
 * each host through its own libfaketime control files. */
int hosts_clock(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static char args[16384];
	bool ran[HOSTS_MAX] = { false };
	struct node_set set;
	struct spec_error e;

	cli_take_json(cli, &argc, argv);
	if (argc < 2)
		return report_usage("clock: usage: capnet clock NODES --offset ±T | --rate R | "
				    "--strobe T,PERIOD | --reset");
	if (nodeset_parse(argv[0], lh->nodes, &set, &e))
		return report_usage("clock: %s", e.msg);
	/* As every command acting on the lab: with a host lost, refused, even if NODES are all
	 * on hosts still there. */
	if (cli_need_root("capnet clock") || hosts_refuse_unless_whole(cli, lh, "clock"))
		return EXIT_FAIL;
	for (unsigned int i = 1; i <= lh->nodes; i++)
		if (nodeset_has(&set, i))
			ran[lh->place.host_of[i]] = true;
	remote_line("host clock-check", argc, argv, args, sizeof(args));
	hosts_run_all(cli->lab, lh, ran, args);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && hosts_results[h].status == EXIT_USAGE)
			return report_usage("%s", hosts_said(hosts_results[h].why));
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && hosts_results[h].status) {
			/* Read before the remedy asks the host again over hosts_results. */
			const char *why = hosts_why_of(h);

			return report_fail("clock: host %s: %s; no clock was changed%s",
					   lh->hosts.host[h].dest, why,
					   hosts_lost_remedy(cli, lh, h));
		}
	remote_line(cli->json ? "--json host clock-set" : "host clock-set", argc, argv, args,
		    sizeof(args));
	hosts_run_all(cli->lab, lh, ran, args);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && hosts_results[h].status == 0)
			hosts_relay_warnings(lh, h);
	print_clock_lines(cli, lh, ran);
	hosts_log_fault(cli, lh, "clock", argc, argv, NULL, &set, 0, NULL);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && hosts_results[h].status)
			return report_fail("clock: host %s: %s", lh->hosts.host[h].dest,
					   hosts_said(hosts_results[h].why));
	return EXIT_OK;
}

/* ---- link --delay: each host's delay line, for the links whose sender it holds ------------ */

/* Whether a link command changes delays and nothing the filter's policy holds: then there is
 * no switch to make, and each host applies it at once. */
bool hosts_link_delays_only(int argc, char **argv)
{
	static const char *const delay_opts[] = { "--delay", "--jitter", "--distribution", "--rate",
						  "--reorder" };
	static const char *const policy_opts[] = { "--loss",	"--dup",
						   "--corrupt", "--corrupt-payload",
						   "--only",	"--except" };
	bool delays = false;

	for (int i = 0; i < argc; i++) {
		for (size_t k = 0; k < sizeof(delay_opts) / sizeof(delay_opts[0]); k++)
			delays |= !strcmp(argv[i], delay_opts[k]);
		for (size_t k = 0; k < sizeof(policy_opts) / sizeof(policy_opts[0]); k++)
			if (!strcmp(argv[i], policy_opts[k]))
				return false;
	}
	return delays;
}

/* Every host records the lab's delays and its delay line takes the frames of the links whose
 * sender it holds: a frame is delayed once, where it enters the switch, and then crosses to
 * its destination's host over VXLAN. */
int hosts_delay(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static char args[16384], delays[4096];

	cli_take_json(cli, &argc, argv);
	if (cli_need_root("capnet link"))
		return EXIT_FAIL;
	if (hosts_refuse_unless_whole(cli, lh, "link"))
		return EXIT_FAIL;
	remote_line("--json host link", argc, argv, args, sizeof(args));
	hosts_run_all(cli->lab, lh, NULL, args);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (hosts_results[h].status == EXIT_USAGE)
			return report_usage("%s", hosts_said(hosts_results[h].why));
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (hosts_results[h].status)
			return report_fail(
				"link: host %s: %s; the delays of the other hosts are set "
				"(capnet --lab %s heal --delays clears them)",
				lh->hosts.host[h].dest, hosts_said(hosts_results[h].why), cli->lab);
		hosts_relay_warnings(lh, h);
	}
	hosts_log_fault(cli, lh, "link", argc, argv, NULL, NULL, 0, NULL);
	if (json_text_str(hosts_results[0].out, "delays", delays, sizeof(delays)))
		snprintf(delays, sizeof(delays), "?");
	if (cli->json) {
		printf("{\"lab\":");
		json_write_string(stdout, cli->lab);
		printf(",\"delays\":");
		json_write_string(stdout, delays);
		printf(",\"hosts\":%u}\n", lh->hosts.count);
	} else {
		printf("delays: %s\n", delays[0] ? delays : "none");
	}
	return EXIT_OK;
}
