// SPDX-License-Identifier: GPL-2.0-only
/* capnet start, stop, kill, restart, pause and resume: a lab's services, capnode (its own
 * replicas) or any program, one process per node. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netem/cli.h"
#include "lib/duration.h"
#include "lib/files.h"
#include "netem/explain.h"
#include "netem/lab/fault_log.h"
#include "netem/lab/lab_record.h"
#include "netem/svc/clock_ctl.h"
#include "netem/svc/nodes.h"
#include "netem/svc/nodes_report.h"
#include "netem/svc/placeholder.h"
#include "node/key_file.h"

struct node_args {
	const char *dir;
	const char *mode;
	const char *nodes_text;
	int extra_argc;
	char **extra_argv;
	int signal;
	bool no_key;
	bool clock; /* --clock: a program preloaded with libfaketime, for capnet clock */
	const char *name; /* --name: one service only */
	uint64_t settle_ns; /* --settle: how long a program must live to count as started */
	unsigned int wait_port; /* --wait-port: the TCP port it must listen on */
};

/* --wait-port without --settle waits this long at most. */
#define WAIT_PORT_DEFAULT_NS (30ull * 1000000000ull)

/* [--dir DIR] [--mode cp|ap] [--no-key] [--name NAME] [NODES] [-- CAPNODE-OPTIONS... | -- PROGRAM
 * ARG...]; which options a command takes is checked by the caller. */
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
		} else if (takes_mode && !strcmp(argv[i], "--clock")) {
			a->clock = true;
		} else if (takes_mode && !strcmp(argv[i], "--settle")) {
			if (++i >= argc ||
			    duration_parse_ns(argv[i], DURATION_BARE_SECONDS, &a->settle_ns) ||
			    !a->settle_ns || a->settle_ns > 3600ull * 1000000000ull)
				return report_usage("%s: --settle needs a time " DURATION_EXAMPLES
						    ", at most an hour",
						    cmd);
		} else if (takes_mode && !strcmp(argv[i], "--wait-port")) {
			char *end;
			unsigned long port = ++i < argc ? strtoul(argv[i], &end, 10) : 0;

			if (!port || port > 65535 || *end)
				return report_usage("%s: --wait-port needs a TCP port, 1 to 65535",
						    cmd);
			a->wait_port = (unsigned int)port;
		} else if (!strcmp(argv[i], "--name")) {
			if (++i >= argc)
				return report_usage("%s: --name needs a service name", cmd);
			if (!run_dir_service_name_ok(argv[i]))
				return report_usage(
					"%s: --name \"%s\": 1 to %d letters, digits, '-', "
					"'_' or '.'",
					cmd, argv[i], SERVICE_NAME_MAX);
			a->name = argv[i];
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
	if (takes_mode && !a->mode && !a->extra_argc)
		return report_usage("%s: what? --mode cp (Raft) or --mode ap (Dynamo style) for "
				    "capnode, or -- PROGRAM [ARG...] for any program",
				    cmd);
	if (takes_mode && a->mode && a->name && strcmp(a->name, CAPNODE_SERVICE))
		return report_usage("%s: --mode starts capnode, whose name is capnode; --name goes "
				    "with -- PROGRAM",
				    cmd);
	if (!takes_mode && a->extra_argc)
		return report_usage("%s: capnode options and programs go with start", cmd);
	if ((a->settle_ns || a->wait_port) && (a->mode || !a->extra_argc))
		return report_usage("%s: --settle and --wait-port go with -- PROGRAM", cmd);
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

static void print_report(const struct cli *cli, const struct nodes_report *r)
{
	char line[2048];

	if (nodes_report_format(r, cli->lab, cli->json, line, sizeof(line)) > 0)
		fputs(line, stdout);
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
	run_dir_of_lab(cli->lab, a->dir, run_dir, len);
	return EXIT_OK;
}

/* The name a program runs under: --name, else its file name. */
static int program_name(const struct node_args *a, char *name, size_t len)
{
	const char *base = strrchr(a->extra_argv[0], '/');

	snprintf(name, len, "%s", a->name ? a->name : base ? base + 1 : a->extra_argv[0]);
	if (!strcmp(name, CAPNODE_SERVICE))
		return report_usage("start: capnode is the name of capnet's own replicas (start "
				    "--mode cp|ap); give this one another --name");
	if (!run_dir_service_name_ok(name))
		return report_usage("start: \"%s\" cannot name a service: give it --name (1 to %d "
				    "letters, digits, '-', '_' or '.')",
				    name, SERVICE_NAME_MAX);
	return EXIT_OK;
}

/* What starting a service on a set of nodes did. */
struct start_tally {
	unsigned int started, failed;
	struct node_set already; /* left running by an earlier start: counted, not started */
};

/* Starts a service on every node of `set` where it does not run yet, through start(node, arg),
 * and keeps the pid of each started in pids[node] (pids may be NULL); a node where it runs
 * counts as already running unless refuse(dir, node, arg) says it runs in a way it must not
 * (then as a failure, said by refuse). */
static void start_on_nodes(const struct node_set *set, unsigned int nodes, const char *dir,
			   int (*start)(unsigned int node, void *arg),
			   bool (*refuse)(const char *dir, unsigned int node, void *arg), void *arg,
			   struct start_tally *t, pid_t *pids)
{
	unsigned int i;
	int err;

	memset(t, 0, sizeof(*t));
	for (i = 1; i <= nodes; i++) {
		if (!nodeset_has(set, i))
			continue;
		if (nodes_pid(dir, i)) {
			if (refuse && refuse(dir, i, arg))
				t->failed++;
			else
				nodeset_add(&t->already, i);
			continue;
		}
		err = start(i, arg);
		if (err) {
			report_warn("%s", error_reason(err));
			t->failed++;
		} else {
			t->started++;
			if (pids)
				pids[i] = nodes_pid(dir, i);
		}
	}
}

static void report_started(const struct cli *cli, const char *name, const char *mode,
			   const char *dir, const struct start_tally *t)
{
	struct nodes_report r = { .command = "start",
				  .started = t->started,
				  .failed = t->failed,
				  .already = t->already };

	snprintf(r.service, sizeof(r.service), "%s", name);
	snprintf(r.mode, sizeof(r.mode), "%s", mode ? mode : "");
	snprintf(r.dir, sizeof(r.dir), "%s", dir);
	print_report(cli, &r);
}

static int start_service(unsigned int node, void *arg)
{
	return nodes_service_start(arg, node);
}

static int start_capnode(unsigned int node, void *arg)
{
	return nodes_start(arg, node);
}

/* A node left running by an earlier start (one killed half-way, say) is counted as such, not
 * as a failure, unless it runs the other mode. */
static bool other_mode(const char *dir, unsigned int node, void *arg)
{
	const struct node_start *st = arg;
	char mode[8];

	if (nodes_mode(dir, node, mode, sizeof(mode)) || !strcmp(mode, st->mode))
		return false;
	report_warn("node %u already runs in %s mode, not %s (capnet stop %u first)", node, mode,
		    st->mode, node);
	return true;
}

/* capnet start [NODES] [--name NAME] -- PROGRAM [ARG...]: any program as a node's service. */
static int start_program(struct cli *cli, const struct node_args *a, const struct lab_info *info,
			 struct filter *filter, const struct node_set *set, const char *run_dir)
{
	static struct filter_state state;
	char name[SERVICE_NAME_MAX + 1], dir[512], deaf_text[256];
	struct node_set deaf;
	struct service_start st;
	struct node_set here;
	struct start_tally tally;
	struct spec_error e;
	pid_t *pids;
	int rc, err, k;

	if (!a->extra_argv[0][0]) {
		filter_close(filter);
		return report_usage("start: the program after -- is empty");
	}
	rc = program_name(a, name, sizeof(name));
	for (k = 0; !rc && k < a->extra_argc; k++)
		if (placeholder_check(a->extra_argv[k], &e))
			rc = report_usage("start: argument %d (%s): %s", k, a->extra_argv[k],
					  e.msg);
	if (rc) {
		filter_close(filter);
		return rc;
	}
	if (a->no_key) {
		filter_close(filter);
		return report_usage("start: --no-key is for capnode (--mode); a program keeps "
				    "its own security");
	}
	if (a->clock) {
		char faketime[PATH_MAX], mend[PATH_MAX], why[256];

		if (clock_preload_find(faketime, sizeof(faketime), mend, sizeof(mend), why,
				       sizeof(why))) {
			filter_close(filter);
			return report_fail("start: --clock: %s", why);
		}
	}
	err = filter_read_state(filter, &state);
	filter_close(filter);
	if (err)
		return report_fail("start: read lab \"%s\": %s", cli->lab, strerror(-err));
	run_dir_of_service(run_dir, name, dir, sizeof(dir));
	/* The last start decides, for the nodes it starts and for later restarts. */
	err = clock_enable(dir, a->clock);
	if (err)
		return report_fail("start: %s: %s", dir, strerror(-err));
	st = (struct service_start){ .lab = cli->lab,
				     .dir = dir,
				     .nodes = info->nodes,
				     .where = set,
				     .subnet = state.lab.subnet,
				     .prefix = state.lab.prefix,
				     .argc = a->extra_argc,
				     .argv = a->extra_argv };
	pids = calloc(info->nodes + 1, sizeof(*pids));
	if (!pids)
		return report_fail("start: out of memory");
	/* {each:...} names every node of the service, wherever it lives; this host starts its own. */
	here = *set;
	lab_record_keep_share(cli->lab, &here);
	start_on_nodes(&here, info->nodes, dir, start_service, NULL, &st, &tally, pids);
	nodeset_clear(&deaf);
	if (a->settle_ns || a->wait_port) {
		const struct service_settle settle = {
			.lab = cli->lab,
			.dir = dir,
			.name = name,
			.settle_ns = a->settle_ns ? a->settle_ns : WAIT_PORT_DEFAULT_NS,
			.port = a->wait_port,
		};
		unsigned int bad = nodes_service_settle(&settle, pids, info->nodes, &deaf);

		tally.started -= bad;
		tally.failed += bad;
	}
	free(pids);
	report_started(cli, name, NULL, dir, &tally);
	if (nodeset_count(&deaf)) {
		nodeset_format(&deaf, deaf_text, sizeof(deaf_text));
		report_warn("%s still runs on node%s %s without listening on TCP port %u: "
			    "`capnet --lab %s stop --name %s` ends it",
			    name, nodeset_count(&deaf) == 1 ? "" : "s", deaf_text, a->wait_port,
			    cli->lab, name);
	}
	return tally.failed ? EXIT_FAIL : EXIT_OK;
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
	struct start_tally tally;
	unsigned int i;
	int rc, err;

	rc = open_lab_nodes(cli, "start", argc, argv, &a, true, false, &info, &filter, &set,
			    run_dir, sizeof(run_dir));
	if (rc)
		return rc;
	if (!a.mode)
		return start_program(cli, &a, &info, filter, &set, run_dir);
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
	lab_record_keep_share(cli->lab, &set);
	start_on_nodes(&set, info.nodes, run_dir, start_capnode, other_mode, &st, &tally, NULL);
	report_started(cli, CAPNODE_SERVICE, a.mode, run_dir, &tally);
	return tally.failed ? EXIT_FAIL : EXIT_OK;
}

struct signal_job {
	const char *cmd;
	const struct node_set *set;
	unsigned int nodes;
	int sig, wait_ms;
	struct nodes_report report; /* the nodes where some service was signalled, and which */
	int rc;
};

static int signal_service(const char *name, const char *dir, void *arg)
{
	struct signal_job *job = arg;
	unsigned int i, done = 0;
	int err;

	for (i = 1; i <= job->nodes; i++) {
		if (!nodeset_has(job->set, i) || !nodes_pid(dir, i))
			continue;
		/* pause what runs, resume what is paused: either, again, changes nothing. */
		if ((job->sig == SIGSTOP && nodes_paused(dir, i)) ||
		    (job->sig == SIGCONT && !nodes_paused(dir, i)))
			continue;
		err = nodes_signal(dir, i, job->sig, job->wait_ms);
		if (err == -ESRCH)
			continue;
		if (err) {
			report_warn("%s node %u (%s): %s", job->cmd, i, name, strerror(-err));
			job->rc = EXIT_FAIL;
			continue;
		}
		nodeset_add(&job->report.hit, i);
		done++;
	}
	if (done)
		nodes_report_add_name(&job->report, name);
	return 0;
}

static int list_service(const char *name, const char *dir, void *arg)
{
	char *list = arg;
	size_t used = strlen(list);

	(void)dir;
	if (used + strlen(name) + 3 < 256)
		snprintf(list + used, 256 - used, "%s%s", used ? ", " : "", name);
	return 0;
}

static int find_service(const char *name, const char *dir, void *arg)
{
	(void)dir;
	return !strcmp(name, arg);
}

/* --name NAME must be a service of the lab: a typo is an error, not "0 nodes stopped". */
static int check_named(const char *cmd, const char *lab, const char *run_dir, const char *name)
{
	char list[256] = "";

	if (!name || run_dir_for_each_service(run_dir, find_service, (void *)name))
		return EXIT_OK;
	run_dir_for_each_service(run_dir, list_service, list);
	return report_fail("%s: lab %s has no service %s (%s%s)", cmd, lab, name,
			   list[0] ? "started: " : "none started", list);
}

/* The fault log names the nodes acted on, and the service when one was named. */
static void log_change(struct cli *cli, const char *cmd, const struct node_set *hit,
		       const char *name)
{
	char nodes[1024], value[1200];

	if (!nodeset_count(hit))
		return;
	nodeset_format(hit, nodes, sizeof(nodes));
	snprintf(value, sizeof(value), "%s%s%s", nodes, name ? " --name " : "", name ? name : "");
	if (fault_log_append(cli->lab,
			     &(struct fault_change){ .command = cmd,
						     .value = value,
						     .nodes = hit,
						     .generation = FAULT_LOG_READ_GENERATION }))
		report_warn("%s (done, but not in the fault log)", error_reason(-EIO));
}

static int signal_nodes(struct cli *cli, const char *cmd, int argc, char **argv, bool takes_signal,
			int sig, int wait_ms)
{
	char run_dir[256], dir[512];
	struct signal_job job = { .cmd = cmd, .sig = sig, .wait_ms = wait_ms };
	struct node_set set;
	struct lab_info info;
	struct node_args a;
	unsigned int i;
	int rc;

	rc = open_lab_nodes(cli, cmd, argc, argv, &a, false, takes_signal, &info, NULL, &set,
			    run_dir, sizeof(run_dir));
	if (rc)
		return rc;
	rc = check_named(cmd, cli->lab, run_dir, a.name);
	if (rc)
		return rc;
	if (takes_signal)
		job.sig = a.signal;
	lab_record_keep_share(cli->lab, &set);
	job.set = &set;
	job.nodes = info.nodes;
	snprintf(job.report.command, sizeof(job.report.command), "%s", cmd);
	if (a.name) {
		run_dir_of_service(run_dir, a.name, dir, sizeof(dir));
		signal_service(a.name, dir, &job);
	} else {
		run_dir_for_each_service(run_dir, signal_service, &job);
	}
	rc = job.rc;
	log_change(cli, cmd, &job.report.hit, a.name);
	/* Naming a node where nothing was there to act on is a mistake worth an exit status. */
	for (i = 1; a.nodes_text && i <= info.nodes; i++)
		if (nodeset_has(&set, i) && !nodeset_has(&job.report.hit, i)) {
			report_warn("%s: node %u %s%s%s", cmd, i,
				    !strcmp(cmd, "resume") ? "is not paused" :
				    !strcmp(cmd, "pause")  ? "is not running or already paused" :
							     "is not running",
				    a.name ? " " : "", a.name ? a.name : "");
			rc = EXIT_FAIL;
		}
	print_report(cli, &job.report);
	return rc;
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	/* SIGSTOP to the service's process group: frozen mid-step, its sockets open, as a long GC
	 * pause or a stalled VM. */
	return signal_nodes(cli, "pause", argc, argv, false, SIGSTOP, 0);
}

int cmd_resume(struct cli *cli, int argc, char **argv)
{
	return signal_nodes(cli, "resume", argc, argv, false, SIGCONT, 0);
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

struct restart_job {
	const char *lab;
	const struct node_set *set;
	unsigned int nodes;
	struct nodes_report report;
	int rc;
};

static int restart_service(const char *name, const char *dir, void *arg)
{
	struct restart_job *job = arg;
	char path[600];
	unsigned int i;
	int err;

	for (i = 1; i <= job->nodes; i++) {
		snprintf(path, sizeof(path), "%s/n%u.cmd", dir, i);
		if (!nodeset_has(job->set, i) || access(path, F_OK))
			continue;
		nodes_signal(dir, i, SIGTERM, 5000);
		err = nodes_restart(job->lab, dir, i);
		if (err) {
			if (error_message())
				report_warn("%s", error_reason(err));
			report_warn("restart node %u (%s) failed", i, name);
			job->rc = EXIT_FAIL;
		} else {
			nodeset_add(&job->report.hit, i);
		}
	}
	return 0;
}

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	char run_dir[256], dir[512];
	struct restart_job job = { .lab = cli->lab };
	struct node_set set;
	struct lab_info info;
	struct node_args a;
	unsigned int i;
	int rc;

	rc = open_lab_nodes(cli, "restart", argc, argv, &a, false, false, &info, NULL, &set,
			    run_dir, sizeof(run_dir));
	if (rc)
		return rc;
	rc = check_named("restart", cli->lab, run_dir, a.name);
	if (rc)
		return rc;
	lab_record_keep_share(cli->lab, &set);
	job.set = &set;
	job.nodes = info.nodes;
	snprintf(job.report.command, sizeof(job.report.command), "restart");
	if (a.name) {
		run_dir_of_service(run_dir, a.name, dir, sizeof(dir));
		restart_service(a.name, dir, &job);
	} else {
		run_dir_for_each_service(run_dir, restart_service, &job);
	}
	rc = job.rc;
	log_change(cli, "restart", &job.report.hit, a.name);
	for (i = 1; i <= info.nodes; i++)
		if (nodeset_has(&set, i) && !nodeset_has(&job.report.hit, i) && job.rc == EXIT_OK) {
			report_warn("restart: nothing was ever started on node %u%s%s", i,
				    a.name ? " as " : "", a.name ? a.name : "");
			rc = EXIT_FAIL;
		}
	print_report(cli, &job.report);
	return rc;
}
