// SPDX-License-Identifier: GPL-2.0-only
/* capnet clock NODES --offset ±T | --rate R | --strobe T,PERIOD | --reset: the wall clock of
 * the services capnet started on NODES, through libfaketime (netem/svc/clock_ctl.h). Every node is
 * checked before any clock is touched. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/report.h"
#include "netem/cli.h"
#include "netem/lab/fault_log.h"
#include "netem/lab/lab_record.h"
#include "netem/svc/clock_ctl.h"
#include "netem/svc/nodes.h"

/* The services of one node, and whether each follows the node's clock. */
struct node_services {
	const char *lab;
	unsigned int node;
	unsigned int running;
	char deaf[SERVICE_NAME_MAX + 1]; /* one that runs without libfaketime, or "" */
};

static int visit_service(const char *name, const char *dir, void *arg)
{
	struct node_services *ns = arg;
	pid_t pid = nodes_pid(dir, ns->node);

	if (!pid)
		return 0;
	ns->running++;
	if (!ns->deaf[0] && !clock_process_follows(pid, dir, ns->node))
		snprintf(ns->deaf, sizeof(ns->deaf), "%s", name);
	return 0;
}

static int check_node(const char *lab, const char *run_dir, unsigned int node)
{
	struct node_services ns = { .lab = lab, .node = node };

	run_dir_for_each_service(run_dir, visit_service, &ns);
	if (!ns.running)
		return report_fail(
			"clock: node %u runs no service that capnet started (capnet start); "
			"a clock fault reaches only those",
			node);
	if (ns.deaf[0])
		return report_fail(
			"clock: %s on node %u was started without --clock, so its clock cannot "
			"be moved (capnet stop %u --name %s, then capnet start ... --clock -- "
			"PROGRAM ...)",
			ns.deaf, node, node, ns.deaf);
	return EXIT_OK;
}

/* The command, or with apply false its checks alone (every node of this host runs a service
 * that follows its clock), printing nothing: a lab across hosts checks every host before any
 * clock moves. */
static int clock_run(struct cli *cli, int argc, char **argv, bool apply)
{
	char faketime[PATH_MAX], mend[PATH_MAX], why[256], run_dir[256], nodes_text[4096];
	char setting[64], human[96], strobe[96] = "";
	struct clock_setting cur, next;
	struct clock_change change;
	struct filter *filter = NULL;
	struct lab_info info;
	struct spec_error e;
	struct node_set set;
	unsigned int i;
	int rc, err;

	cli_take_json(cli, &argc, argv);
	if (argc < 2)
		return report_usage("clock: usage: capnet clock NODES --offset ±T | --rate R | "
				    "--strobe T,PERIOD | --reset");
	if (clock_change_parse(argc - 1, argv + 1, &change, &e))
		return report_usage("clock: %s", e.msg);
	if (cli_need_root("capnet clock"))
		return EXIT_FAIL;
	rc = cli_open_whole_lab(cli, &info, &filter);
	filter_close(filter);
	if (rc)
		return rc;
	if (nodeset_parse(argv[0], info.nodes, &set, &e))
		return report_usage("clock: %s", e.msg);
	lab_record_keep_share(cli->lab, &set);
	if (!nodeset_count(&set))
		return report_fail("clock: none of nodes %s lives on this host", argv[0]);
	nodeset_format(&set, nodes_text, sizeof(nodes_text));
	run_dir_of_lab(cli->lab, NULL, run_dir, sizeof(run_dir));
	/* A reset is how every fault ends: it needs no service, and no libfaketime. */
	if (change.action != CLOCK_RESET) {
		if (clock_preload_find(faketime, sizeof(faketime), mend, sizeof(mend), why,
				       sizeof(why)))
			return report_fail("clock: %s", why);
		for (i = 1; i <= info.nodes; i++)
			if (nodeset_has(&set, i) && check_node(cli->lab, run_dir, i))
				return EXIT_FAIL;
	}
	if (!apply)
		return EXIT_OK;
	for (i = 1; i <= info.nodes; i++) {
		if (!nodeset_has(&set, i))
			continue;
		err = clock_read(cli->lab, i, &cur);
		if (err == -EBADMSG && change.action == CLOCK_RESET)
			err = 0;
		if (err)
			return report_fail("clock: read the clock of node %u: %s", i,
					   err == -EBADMSG ? "not a file capnet wrote" :
							     strerror(-err));
		clock_strobe_stop(cli->lab, i);
		clock_apply(&cur, &change, clock_true_now_ns(), &next);
		err = clock_write(cli->lab, i, &next);
		if (!err && change.action == CLOCK_STROBE)
			err = clock_strobe_start(cli->lab, i, &next, change.offset_ns,
						 change.period_ns);
		if (err)
			return report_fail("clock: set the clock of node %u: %s", i,
					   strerror(-err));
	}
	clock_wait_in_force();
	clock_setting_format(&next, setting, sizeof(setting));
	clock_setting_describe(&next, clock_true_now_ns(), human, sizeof(human));
	if (change.action == CLOCK_STROBE)
		snprintf(strobe, sizeof(strobe), "; strobe %+.9g s every %.9g s",
			 change.offset_ns / 1e9, change.period_ns / 1e9);
	{
		char words[1024], value[sizeof(words) + sizeof(nodes_text)];

		fault_log_words(argc - 1, argv + 1, words, sizeof(words));
		snprintf(value, sizeof(value), "%s %s", nodes_text, words);
		if (fault_log_append(cli->lab, &(struct fault_change){
						       .command = "clock",
						       .value = value,
						       .nodes = &set,
						       .generation = FAULT_LOG_READ_GENERATION }))
			report_warn("%s (the clock is set, but not in the fault log)",
				    error_reason(-EIO));
	}
	if (cli->json)
		printf("{\"lab\":\"%s\",\"nodes\":\"%s\",\"offset_ns\":%lld,\"rate\":%g,"
		       "\"strobe_ns\":%lld,\"strobe_period_ns\":%llu,\"libfaketime\":\"%s\"}\n",
		       cli->lab, nodes_text, (long long)next.offset_ns, next.rate,
		       change.action == CLOCK_STROBE ? (long long)change.offset_ns : 0,
		       change.action == CLOCK_STROBE ? (unsigned long long)change.period_ns : 0,
		       setting);
	else
		printf("clock of node%s %s: %s%s (in force for the services capnet started there)\n",
		       nodeset_count(&set) == 1 ? "" : "s", nodes_text, human, strobe);
	return EXIT_OK;
}

int cmd_clock(struct cli *cli, int argc, char **argv)
{
	return clock_run(cli, argc, argv, true);
}

int cmd_clock_check(struct cli *cli, int argc, char **argv)
{
	return clock_run(cli, argc, argv, false);
}
