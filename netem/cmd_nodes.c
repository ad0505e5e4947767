// SPDX-License-Identifier: GPL-2.0-only
/* capnet start, stop, kill and restart: the replicas of a lab, one capnode per node. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netem/cli.h"
#include "lib/files.h"
#include "netem/explain.h"
#include "netem/nodes.h"
#include "node/key_file.h"

struct node_args {
	const char *dir;
	const char *mode;
	const char *nodes_text;
	int extra_argc;
	char **extra_argv;
	int signal;
	bool no_key;
};

/* [--dir DIR] [--mode cp|ap] [--no-key] [NODES] [-- CAPNODE-OPTIONS...]; which options a command takes is
 * checked by the caller. */
static int parse_node_args(const char *cmd, int argc, char **argv, struct node_args *a,
			   bool takes_mode, bool takes_signal)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->signal = SIGKILL;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			a->extra_argc = argc - i - 1;
			a->extra_argv = argv + i + 1;
			break;
		} else if (!strcmp(argv[i], "--dir")) {
			if (++i >= argc)
				return report_usage("%s: --dir needs a directory", cmd);
			a->dir = argv[i];
		} else if (takes_mode && !strcmp(argv[i], "--mode")) {
			if (++i >= argc)
				return report_usage("%s: --mode needs cp or ap", cmd);
			if (strcmp(argv[i], "cp") && strcmp(argv[i], "ap"))
				return report_usage(
					"%s: --mode \"%s\": cp (Raft) or ap (Dynamo style)", cmd,
					argv[i]);
			a->mode = argv[i];
		} else if (takes_mode && !strcmp(argv[i], "--no-key")) {
			a->no_key = true;
		} else if (takes_signal && !strcmp(argv[i], "-9")) {
			a->signal = SIGKILL;
		} else if (takes_signal && !strcmp(argv[i], "-15")) {
			a->signal = SIGTERM;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return report_usage("%s: unknown option %s", cmd, argv[i]);
		} else if (a->nodes_text) {
			return report_usage("%s: one node list please (like 1,3 or 2-4)", cmd);
		} else {
			a->nodes_text = argv[i];
		}
	}
	if (takes_mode && !a->mode)
		return report_usage("%s: which mode? --mode cp (Raft) or --mode ap (Dynamo style)",
				    cmd);
	if (!takes_mode && a->extra_argc)
		return report_usage("%s: capnode options go with start", cmd);
	return EXIT_OK;
}

static int resolve_nodes(const char *cmd, const struct node_args *a, unsigned int nodes,
			 struct node_set *set)
{
	struct spec_error e;

	if (!a->nodes_text) {
		if (!strcmp(cmd, "kill") || !strcmp(cmd, "restart"))
			return report_usage("%s: which nodes? (like 3 or 1,2)", cmd);
		return nodeset_parse("all", nodes, set, &e) ? EXIT_FAIL : EXIT_OK;
	}
	if (nodeset_parse(a->nodes_text, nodes, set, &e))
		return report_usage("%s: %s", cmd, e.msg);
	return EXIT_OK;
}

static int open_lab_nodes(struct cli *cli, const char *cmd, int argc, char **argv,
			  struct node_args *a, bool takes_mode, bool takes_signal,
			  struct lab_info *info, struct filter **filter, struct node_set *set,
			  char *run_dir, size_t len)
{
	char what[32];
	int rc;

	rc = parse_node_args(cmd, argc, argv, a, takes_mode, takes_signal);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "capnet %s", cmd);
	if (cli_need_root(what))
		return EXIT_FAIL;
	/* Replicas start only in a whole lab; stopping them works in any, to clean up. */
	rc = !strcmp(cmd, "start") ? cli_open_whole_lab(cli, info, filter) :
				     cli_open_lab(cli, info, filter);
	if (rc)
		return rc;
	rc = resolve_nodes(cmd, a, info->nodes, set);
	if (rc) {
		if (filter) {
			filter_close(*filter);
			*filter = NULL;
		}
		return rc;
	}
	nodes_run_dir(cli->lab, a->dir, run_dir, len);
	return EXIT_OK;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	static struct filter_state state;
	struct filter *filter = NULL;
	char run_dir[256], capnode[512], key_path[300];
	struct node_start st = { 0 };
	struct proto_key key;
	struct node_set set;
	struct lab_info info;
	struct node_args a;
	unsigned int i, started = 0, failed = 0;
	struct node_set already;
	char already_text[256] = "";
	int rc, err;

	rc = open_lab_nodes(cli, "start", argc, argv, &a, true, false, &info, &filter, &set,
			    run_dir, sizeof(run_dir));
	if (rc)
		return rc;
	if (!strcmp(a.mode, "cp") && info.nodes > 15) {
		filter_close(filter);
		return report_usage(
			"start: CP mode runs Raft with at most 15 voters; this lab has %u "
			"nodes (use --mode ap, or a smaller lab)",
			info.nodes);
	}
	/* The subnet is the lab's own, as the filter recorded it at up. */
	err = filter_read_state(filter, &state);
	filter_close(filter);
	if (err)
		return report_fail("start: read lab \"%s\": %s", cli->lab, strerror(-err));
	nodes_find_capnode(capnode, sizeof(capnode));
	/* One key per cluster, made by the first start and kept until down, so a node started or
	 * restarted later speaks with the others. A cluster is authenticated or not as a whole:
	 * mixing would split it in two that refuse each other. */
	snprintf(key_path, sizeof(key_path), "%s/" KEY_FILE_NAME, run_dir);
	for (i = 1; i <= info.nodes && !nodes_pid(run_dir, i); i++)
		;
	if (i <= info.nodes && a.no_key != !!access(key_path, F_OK))
		return report_fail("start: node %u already runs %s a key; capnet stop first, or "
				   "start %s --no-key like it",
				   i, a.no_key ? "with" : "without", a.no_key ? "without" : "with");
	if (a.no_key) {
		explain("rm -f %s", key_path);
		if (unlink(key_path) && errno != ENOENT)
			return report_fail("start: remove %s: %s", key_path, strerror(errno));
		report_warn("start --no-key: capnodes will not authenticate datagrams; any process "
			    "in a node can forge one");
	} else {
		explain("mkdir -p %s", run_dir);
		explain("test -e %s || (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \\n'; "
			"echo) > %s",
			key_path, key_path);
		err = files_mkdir_p(run_dir, 0755);
		if (!err)
			err = key_file_ensure(key_path, &key);
		memset(&key, 0, sizeof(key));
		if (err)
			return report_error(err, NULL);
	}
	st = (struct node_start){ .lab = cli->lab,
				  .run_dir = run_dir,
				  .capnode = capnode,
				  .mode = a.mode,
				  .nodes = info.nodes,
				  .subnet = state.lab.subnet,
				  .prefix = state.lab.prefix,
				  .key_file = a.no_key ? NULL : key_path,
				  .extra_argc = a.extra_argc,
				  .extra_argv = a.extra_argv };
	nodeset_clear(&already);
	for (i = 1; i <= info.nodes; i++) {
		char mode[8];

		if (!nodeset_has(&set, i))
			continue;
		/* A node left running by an earlier start (one killed half-way, say) is counted
		 * as such, not as a failure, unless it runs the other mode. */
		if (nodes_pid(run_dir, i)) {
			if (!nodes_mode(run_dir, i, mode, sizeof(mode)) && strcmp(mode, a.mode)) {
				report_warn("node %u already runs in %s mode, not %s (capnet stop "
					    "%u first)",
					    i, mode, a.mode, i);
				failed++;
			} else {
				nodeset_add(&already, i);
			}
			continue;
		}
		if (nodes_start(&st, i))
			failed++;
		else
			started++;
	}
	if (nodeset_count(&already))
		nodeset_format(&already, already_text, sizeof(already_text));
	if (!cli->json)
		printf("lab %s: %u capnode%s started in %s mode%s%s%s%s (logs and data in %s)\n",
		       cli->lab, started, started == 1 ? "" : "s", a.mode,
		       nodeset_count(&already) ? ", " : "",
		       nodeset_count(&already) == 1 ? "node " :
		       nodeset_count(&already)	    ? "nodes " :
						      "",
		       nodeset_count(&already) ? already_text : "",
		       nodeset_count(&already) ? " already running" : "", run_dir);
	return failed ? EXIT_FAIL : EXIT_OK;
}

static int signal_nodes(struct cli *cli, const char *cmd, int argc, char **argv, bool takes_signal,
			int sig, int wait_ms)
{
	char run_dir[256];
	struct node_set set;
	struct lab_info info;
	struct node_args a;
	unsigned int i, done = 0, absent = 0;
	int rc, err;

	rc = open_lab_nodes(cli, cmd, argc, argv, &a, false, takes_signal, &info, NULL, &set,
			    run_dir, sizeof(run_dir));
	if (rc)
		return rc;
	if (takes_signal)
		sig = a.signal;
	for (i = 1; i <= info.nodes; i++) {
		if (!nodeset_has(&set, i))
			continue;
		err = nodes_signal(run_dir, i, sig, wait_ms);
		if (err == -ESRCH) {
			absent++;
			if (a.nodes_text)
				fprintf(stderr, "capnet: %s: node %u is not running\n", cmd, i);
		} else if (err) {
			fprintf(stderr, "capnet: %s node %u: %s\n", cmd, i, strerror(-err));
			rc = EXIT_FAIL;
		} else {
			done++;
		}
	}
	if (!cli->json)
		printf("lab %s: %u node%s %s\n", cli->lab, done, done == 1 ? "" : "s",
		       !strcmp(cmd, "stop") ? "stopped" : "killed");
	/* Naming a node that is not running is a mistake worth an exit status. */
	if (absent && a.nodes_text)
		rc = EXIT_FAIL;
	return rc;
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	return signal_nodes(cli, "stop", argc, argv, false, SIGTERM, 5000);
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	/* A crash: no clean shutdown, whatever was not fsynced is gone. */
	return signal_nodes(cli, "kill", argc, argv, true, SIGKILL, 1000);
}

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	char run_dir[256];
	struct node_set set;
	struct lab_info info;
	struct node_args a;
	unsigned int i, done = 0;
	int rc;

	rc = open_lab_nodes(cli, "restart", argc, argv, &a, false, false, &info, NULL, &set,
			    run_dir, sizeof(run_dir));
	if (rc)
		return rc;
	for (i = 1; i <= info.nodes; i++) {
		if (!nodeset_has(&set, i))
			continue;
		nodes_signal(run_dir, i, SIGTERM, 5000);
		if (nodes_restart(cli->lab, run_dir, i))
			rc = EXIT_FAIL;
		else
			done++;
	}
	if (!cli->json)
		printf("lab %s: %u node%s restarted\n", cli->lab, done, done == 1 ? "" : "s");
	return rc;
}
