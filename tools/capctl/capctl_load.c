// SPDX-License-Identifier: GPL-2.0-only
/* capctl load: concurrent clients against chosen nodes for a while, a history for capctl check,
 * a live progress line on a terminal, and a summary (ops/s, outcomes, latency) as text or JSON. */
#include "lib/number.h"
#include "lib/report.h"
#include "lib/duration.h"
#include "tools/capctl/capctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/progress.h"
#include "netem/filter/filter.h"
#include "netem/lab/topology.h"
#include "netem/script/scenario.h"
#include "tools/capctl/exec_client.h"
#include "tools/capctl/load_hosts.h"
#include "tools/capctl/workload.h"

static volatile sig_atomic_t stop_requested;

/* --host-share (internal: what the controller of a lab across hosts runs on each host). */
static bool share_here[WORKLOAD_MAX_CLIENTS];
static char share_prefix[16];

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void load_usage(void)
{
	fprintf(stderr,
		"usage: capctl [--lab L] [--json] [--timeout MS] load [--nodes LIST] --history FILE\n"
		"           [--client capnode|redis|etcd] [--port P] [--serializable]\n"
		"           [--workload register|bank|set|append] [--clients C] [--duration T]\n"
		"           [--keys K] [--consistency one|quorum|all] [--rate R] [--seed N]\n"
		"           [--client exec -- PROGRAM [ARG...]]\n"
		"           [--settle T] [--final-nodes LIST]\n"
		"  --client C       what the service on each node speaks: capnode (default);\n"
		"                   redis (GET, SET, cas as one Lua script; SADD, SMEMBERS);\n"
		"                   etcd (v3 JSON gateway: range, put, cas as a txn);\n"
		"                   exec: PROGRAM, one per client process, in the node's\n"
		"                   namespace, in JSON lines on its stdin and stdout\n"
		"                   (docs/clients.md); its arguments may hold {i} {ip} {n}\n"
		"  --port P         the service's port (default: capnode 7070, redis 6379,\n"
		"                   etcd 2379)\n"
		"  --serializable   etcd: serializable reads (a member's own state) instead of\n"
		"                   linearizable ones\n"
		"  --nodes LIST     nodes the clients talk to, like 1-5 or 1,3 (client k: the\n"
		"                   k-th node of the list, round robin); default: -n I if\n"
		"                   given, else every node of the lab\n"
		"  --history FILE   where the history goes (docs/history-format.md)\n"
		"  --workload W     register: reads, writes and cas of unique values over K keys;\n"
		"                   bank: opens K accounts of %d, then transfers and whole-bank\n"
		"                   balance reads (default register); set (redis, exec): unique\n"
		"                   adds to K sets (default 1); append (redis, exec): unique\n"
		"                   appends to K lists (default 4) and whole-list reads; both end\n"
		"                   with final reads of every set or list from every node\n"
		"  --settle T       set, append: the quiet time before the final reads, after the\n"
		"                   last fault of the capnet run writing this history, else after\n"
		"                   the workload (default 10s); they are asked again for up to\n"
		"                   30 s until every node answers the same\n"
		"  --final-nodes L  set, append: the nodes the final reads ask (default: every node\n"
		"                   of the lab)\n"
		"  --clients C      concurrent clients, one request outstanding each (default 5)\n"
		"  --duration T     how long to run: 10, 10s, 500ms, 2m (default 10 s); Ctrl-C\n"
		"                   ends the run early\n"
		"  --keys K         registers (default 8) or accounts (default 10, at most %d)\n"
		"  --consistency    replicas an AP node waits for (CP is linearizable anyway)\n"
		"  --rate R         operations per second, all clients together (default: as fast\n"
		"                   as the nodes answer)\n"
		"  --seed N         the random choices' seed, to replay them (default random)\n"
		"  A request unanswered within --timeout is recorded as info (outcome unknown) and its\n"
		"  client goes on as a new process.\n",
		WORKLOAD_OPENING_BALANCE, WORKLOAD_MAX_ACCOUNTS);
}

static int bad(const char *fmt, const char *arg)
{
	char line[512];

	snprintf(line, sizeof(line), fmt, arg);
	return report_usage("%s", line);
}

static int parse_duration(const char *opt, const char *arg, uint64_t min_ns, double *out)
{
	uint64_t ns;

	if (duration_parse_ns(arg, DURATION_BARE_SECONDS, &ns) || ns < min_ns ||
	    ns > 10000000000000000ull) {
		error_note("%s expects a time " DURATION_EXAMPLES
			   ", from %s to 10000000s, not \"%s\"",
			   opt, min_ns ? "1ms" : "0", arg);
		return -EINVAL;
	}
	*out = ns / 1e9;
	return 0;
}

/* Every node of the lab, when the command line names none. */
static int lab_nodes(char *buf, size_t len)
{
	struct lab_info info;
	int err = lab_topology_discover(capctl_opts.lab, &info);

	if (err == -ENOENT)
		report_warn("there is no lab \"%s\" (capnet --lab %s up -n N)", capctl_opts.lab,
			    capctl_opts.lab);
	if (err)
		return err;
	snprintf(buf, len, info.nodes > 1 ? "1-%u" : "%u", info.nodes);
	return 0;
}

/* The nodes the final reads of a set or append run ask: those of --final-nodes, else every
 * node of the lab. */
static int final_nodes_of(struct workload_config *cfg, const char *list)
{
	struct workload_config tmp = { 0 };
	char all[24], err[200];

	if (!list) {
		if (lab_nodes(all, sizeof(all)))
			return CAPCTL_FAIL;
		list = all;
	}
	if (workload_parse_nodes(&tmp, list, err, sizeof(err)))
		return bad("--final-nodes %s", err);
	memcpy(cfg->final_nodes, tmp.nodes, sizeof(tmp.nodes));
	cfg->n_final_nodes = tmp.n_nodes;
	return 0;
}

/* The live line: elapsed, ops/s over the last interval, outcomes so far, and the partition the
 * lab's filter holds now (read from its maps; left out where they cannot be read). */
struct load_progress {
	struct progress line;
	uint64_t last_total;
	double last_elapsed;
};

static void fault_in_force(char *buf, size_t len)
{
	unsigned int rules;

	if (filter_partition_now(capctl_opts.lab, buf, len, &rules))
		return;
	if (rules && strlen(buf) + 16 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " +%u rule%s", rules,
			 rules == 1 ? "" : "s");
}

static void show_progress(const struct workload_config *cfg, double elapsed, uint64_t ok,
			  uint64_t fail, uint64_t info, void *arg)
{
	struct load_progress *p = arg;
	uint64_t total = ok + fail + info;
	double dt = elapsed - p->last_elapsed;
	char fault[160];

	(void)cfg;
	if (!progress_due(&p->line))
		return;
	fault_in_force(fault, sizeof(fault));
	progress_show(&p->line, "%6.1f s  %8.0f ops/s  ok %llu  fail %llu  info %llu%s%s", elapsed,
		      dt > 0 ? (total - p->last_total) / dt : 0, (unsigned long long)ok,
		      (unsigned long long)fail, (unsigned long long)info,
		      fault[0] ? "  partition " : "", fault);
	p->last_total = total;
	p->last_elapsed = elapsed;
}

/* "CLIENTS:FIRST:STEP:LABNODES:PREFIX": the clients this host runs (0-based, comma-separated,
 * maybe none),
 * the process numbers it may take after an unknown outcome, the lab's size and the run's key
 * prefix. */
static int parse_share(const char *text, struct workload_config *cfg)
{
	unsigned long long first, step, nodes;
	size_t listed = strspn(text, "0123456789,");
	char clients[1024], *save = NULL;
	int used = 0;

	/* A share of the opening or of final reads may have no clients of its own. */
	if (listed >= sizeof(clients))
		return -EINVAL;
	memcpy(clients, text, listed);
	clients[listed] = '\0';
	text += listed;
	if (sscanf(text, ":%llu:%llu:%llu:%n", &first, &step, &nodes, &used) != 3 || !used ||
	    !step || strlen(text + used) >= sizeof(share_prefix))
		return -EINVAL;
	snprintf(share_prefix, sizeof(share_prefix), "%s", text + used);
	for (char *c = strtok_r(clients, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		unsigned long k = strtoul(c, NULL, 10);

		if (k >= WORKLOAD_MAX_CLIENTS)
			return -EINVAL;
		share_here[k] = true;
	}
	cfg->share_here = share_here;
	cfg->share_process_first = first;
	cfg->share_process_step = step;
	cfg->share_key_prefix = share_prefix;
	cfg->lab_nodes = nodes;
	return 0;
}

/* "open", "clients" or "final:SLOTS:MS": the phase of the run this share is (internal, as
 * --host-share), and for final reads the lists per key slot the run used and how long the
 * round may ask. */
static int parse_phase(const char *text, struct workload_config *cfg)
{
	unsigned int slots, ms;
	int used = 0;

	if (!strcmp(text, "open"))
		cfg->phase = WORKLOAD_PHASE_OPEN;
	else if (!strcmp(text, "clients"))
		cfg->phase = WORKLOAD_PHASE_CLIENTS;
	else if (sscanf(text, "final:%u:%u%n", &slots, &ms, &used) == 2 && !text[used] && ms) {
		cfg->phase = WORKLOAD_PHASE_FINAL;
		cfg->final_slots = slots;
		cfg->final_read_s = ms / 1e3;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* What a round of final reads on this host found, after its history lines, for the controller
 * to compare with every other host's: "#final NODE PRINT", PRINT "-" for a node that gave no
 * answer. */
static void print_final_prints(const struct workload_config *cfg, const struct workload_stats *st)
{
	for (unsigned int i = 0; i < cfg->n_final_nodes; i++)
		if (st->final_answered[i])
			printf("#final %u %016llx\n", cfg->final_nodes[i],
			       (unsigned long long)st->final_print[i]);
		else
			printf("#final %u -\n", cfg->final_nodes[i]);
}

/* A host's share stops early when its controller closes its standard input (the person's
 * Ctrl-C there, or the controller gone): every client finishes its request first. */
static void share_watch_controller(const struct workload_config *cfg, double elapsed_s, uint64_t ok,
				   uint64_t fail, uint64_t info, void *arg)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	(void)cfg, (void)elapsed_s, (void)ok, (void)fail, (void)info, (void)arg;
	if (poll(&p, 1, 0) == 1 && read(STDIN_FILENO, &c, 1) <= 0)
		stop_requested = 1;
}

static void print_summary(const struct workload_config *cfg, const struct workload_stats *st,
			  const char *nodes, const char *path)
{
	uint64_t total = st->ok + st->fail + st->info;
	double rate = st->elapsed_s > 0 ? total / st->elapsed_s : 0;

	if (capctl_opts.json) {
		printf("{\"client\":\"%s\",\"workload\":\"%s\",\"nodes\":\"%s\",\"clients\":%u,\"keys\":%u,"
		       "\"elapsed_s\":%.3f,\"ops\":%llu,\"ops_per_s\":%.1f,\"ok\":%llu,\"fail\":%llu,"
		       "\"info\":%llu,\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f},\"processes\":%llu,"
		       "\"seed\":%llu,\"history\":",
		       workload_client_name(cfg->client), workload_kind_name(cfg->kind), nodes,
		       cfg->clients, cfg->keys, st->elapsed_s, (unsigned long long)total, rate,
		       (unsigned long long)st->ok, (unsigned long long)st->fail,
		       (unsigned long long)st->info, st->p50_ms, st->p99_ms,
		       (unsigned long long)st->processes, (unsigned long long)st->seed);
		/* The path as a JSON string: escape what JSON needs. */
		putchar('"');
		for (; *path; path++) {
			if (*path == '"' || *path == '\\')
				putchar('\\');
			if ((unsigned char)*path < 0x20)
				printf("\\u%04x", *path);
			else
				putchar(*path);
		}
		printf("\"}\n");
		return;
	}
	printf("%s load (%s) on nodes %s: %llu ops in %.1f s (%.0f ops/s)\n",
	       workload_kind_name(cfg->kind), workload_client_name(cfg->client), nodes,
	       (unsigned long long)total, st->elapsed_s, rate);
	printf("  %llu ok, %llu fail, %llu info (outcome unknown)\n", (unsigned long long)st->ok,
	       (unsigned long long)st->fail, (unsigned long long)st->info);
	if (st->first_info[0])
		printf("  the first unknown outcome: %s\n", st->first_info);
	if (st->ok)
		printf("  latency of ok operations: p50 %.2f ms, p99 %.2f ms\n", st->p50_ms,
		       st->p99_ms);
	printf("  %u clients, %llu processes, seed %llu; history in %s\n", cfg->clients,
	       (unsigned long long)st->processes, (unsigned long long)st->seed, path);
}

int capctl_load_main(int argc, char **argv)
{
	static struct workload_config cfg;
	static char nodes_default[24];
	const char *path = NULL, *nodes = NULL, *workload = "register", *consistency = NULL;
	const char *client = "capnode", *final_nodes = NULL;
	char faults_path[4096];
	unsigned long long clients = 5, keys = 0, seed = 0, port = 0;
	struct load_progress prog = {};
	struct sigaction sa = { .sa_handler = on_stop };
	struct workload_stats st;
	static struct lab_hosts across;
	double duration = 10, rate = 0;
	char err[200];
	int i, ret, c;
	FILE *f;

	report_set_program("capctl load");
	cfg = (struct workload_config){ .lab = capctl_opts.lab,
					.timeout_ms = capctl_opts.timeout_ms,
					.settle_s = 10 };
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
			load_usage();
			return CAPCTL_OK;
		}
		if (!strcmp(opt, "--json")) {
			capctl_opts.json = true;
			continue;
		}
		if (!strcmp(opt, "--serializable")) {
			cfg.serializable = true;
			continue;
		}
		if (!strcmp(opt, "--")) {
			cfg.exec_argv = argv + i + 1;
			cfg.exec_argc = argc - i - 1;
			break;
		}
		if (opt[0] != '-') {
			report_usage("unexpected \"%s\" (capctl load --help)", opt);
			return CAPCTL_USAGE;
		}
		if (!val)
			return bad("%s needs a value (capctl load --help)", opt);
		i++;
		ret = 0;
		if (!strcmp(opt, "--nodes"))
			nodes = val;
		else if (!strcmp(opt, "--history"))
			path = val;
		else if (!strcmp(opt, "--workload"))
			workload = val;
		else if (!strcmp(opt, "--client"))
			client = val;
		else if (!strcmp(opt, "--port"))
			ret = number_parse_whole(opt, val, 1, 65535, &port);
		else if (!strcmp(opt, "--consistency"))
			consistency = val;
		else if (!strcmp(opt, "--clients"))
			ret = number_parse_whole(opt, val, 1, WORKLOAD_MAX_CLIENTS, &clients);
		else if (!strcmp(opt, "--keys"))
			ret = number_parse_whole(opt, val, 1, WORKLOAD_MAX_KEYS, &keys);
		else if (!strcmp(opt, "--seed"))
			ret = number_parse_whole(opt, val, 1, ~0ull, &seed);
		else if (!strcmp(opt, "--duration"))
			ret = parse_duration(opt, val, 1000000, &duration);
		else if (!strcmp(opt, "--settle"))
			ret = parse_duration(opt, val, 0, &cfg.settle_s);
		else if (!strcmp(opt, "--final-nodes"))
			final_nodes = val;
		else if (!strcmp(opt, "--rate"))
			ret = number_parse_real(opt, val, 0.001, 1e9, &rate);
		else if (!strcmp(opt, "--host-share") && parse_share(val, &cfg))
			return bad("--host-share \"%s\" (internal: the controller of a lab across "
				   "hosts passes it)",
				   val);
		else if (!strcmp(opt, "--host-share"))
			continue;
		else if (!strcmp(opt, "--share-phase") && parse_phase(val, &cfg))
			return bad("--share-phase \"%s\" (internal: the controller of a lab across "
				   "hosts passes it)",
				   val);
		else if (!strcmp(opt, "--share-phase"))
			continue;
		else
			return bad("unknown option \"%s\" (capctl load --help)", opt);
		if (ret)
			return report_usage("%s", error_reason(ret));
	}
	if (!strcmp(workload, "register"))
		cfg.kind = WORKLOAD_REGISTER;
	else if (!strcmp(workload, "bank"))
		cfg.kind = WORKLOAD_BANK;
	else if (!strcmp(workload, "set"))
		cfg.kind = WORKLOAD_SET;
	else if (!strcmp(workload, "append"))
		cfg.kind = WORKLOAD_APPEND;
	else
		return bad("--workload \"%s\": register, bank, set or append", workload);
	if (!strcmp(client, "capnode"))
		cfg.client = WORKLOAD_CLIENT_CAPNODE;
	else if (!strcmp(client, "redis"))
		cfg.client = WORKLOAD_CLIENT_REDIS;
	else if (!strcmp(client, "etcd"))
		cfg.client = WORKLOAD_CLIENT_ETCD;
	else if (!strcmp(client, "exec"))
		cfg.client = WORKLOAD_CLIENT_EXEC;
	else
		return bad("--client \"%s\": capnode, redis, etcd or exec", client);
	if (cfg.client == WORKLOAD_CLIENT_EXEC && cfg.exec_argc < 1)
		return bad("%s", "--client exec needs its program after --: --client exec -- "
				 "PROGRAM [ARG...]");
	if (cfg.client != WORKLOAD_CLIENT_EXEC && cfg.exec_argv)
		return bad("a program after -- is for --client exec, not %s", client);
	if (cfg.client == WORKLOAD_CLIENT_EXEC) {
		const struct exec_program p = { .argv = cfg.exec_argv, .argc = cfg.exec_argc };

		if (exec_program_check(&p, err, sizeof(err)))
			return bad("%s", err);
	}
	if (cfg.serializable && cfg.client != WORKLOAD_CLIENT_ETCD)
		return bad("--serializable is etcd's (--client etcd), not %s's", client);
	if (cfg.client != WORKLOAD_CLIENT_CAPNODE && cfg.kind == WORKLOAD_BANK)
		return bad("--workload bank needs capnode's bank (--client capnode), not %s",
			   client);
	if ((cfg.kind == WORKLOAD_SET || cfg.kind == WORKLOAD_APPEND) &&
	    cfg.client != WORKLOAD_CLIENT_REDIS && cfg.client != WORKLOAD_CLIENT_EXEC)
		return bad("--workload set and append run against Redis sets and lists (--client "
			   "redis) or a client program (--client exec), not %s",
			   client);
	if (cfg.phase != WORKLOAD_PHASE_FINAL)
		cfg.final_read_s = 30;
	if (cfg.client != WORKLOAD_CLIENT_CAPNODE && consistency)
		return bad("--consistency is capnode's AP mode; %s has its own", client);
	cfg.port = (uint16_t)port;
	if (!keys)
		keys = cfg.kind == WORKLOAD_BANK   ? 10 :
		       cfg.kind == WORKLOAD_SET	   ? 1 :
		       cfg.kind == WORKLOAD_APPEND ? 4 :
						     8;
	if (cfg.kind == WORKLOAD_BANK && (keys < 2 || keys > WORKLOAD_MAX_ACCOUNTS)) {
		report_usage("a bank needs 2 to %d accounts (--keys)", WORKLOAD_MAX_ACCOUNTS);
		return CAPCTL_USAGE;
	}
	if (consistency) {
		c = proto_consistency_parse(consistency);
		if (c < 0 || c == CONSISTENCY_DEFAULT)
			return bad("--consistency \"%s\": one, quorum or all", consistency);
		cfg.consistency = c;
	}
	if (!nodes && capctl_opts.node) {
		snprintf(nodes_default, sizeof(nodes_default), "%u", capctl_opts.node);
		nodes = nodes_default;
	}
	if (nodes && workload_parse_nodes(&cfg, nodes, err, sizeof(err)))
		return bad("--nodes %s", err);
	if (!path)
		return bad("%s", "where should the history go? --history FILE");
	if (geteuid() != 0) {
		report_fail("talking to nodes means entering their namespaces: run as root");
		return CAPCTL_FAIL;
	}
	cfg.clients = clients;
	cfg.keys = keys;
	cfg.duration_s = duration;
	cfg.rate = rate;
	cfg.seed = seed;
	cfg.stop = &stop_requested;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cfg.phase != WORKLOAD_PHASE_WHOLE && !cfg.share_here)
		return bad("%s",
			   "--share-phase goes with --host-share (internal: the controller of a "
			   "lab across hosts passes both)");
	ret = cfg.share_here ? -ENOENT : load_hosts_lab(capctl_opts.lab, &across);
	if (ret == -EINVAL)
		return CAPCTL_FAIL;
	if (!ret) {
		if (!nodes) {
			snprintf(nodes_default, sizeof(nodes_default),
				 across.nodes > 1 ? "1-%u" : "%u", across.nodes);
			nodes = nodes_default;
			if (workload_parse_nodes(&cfg, nodes, err, sizeof(err)))
				return bad("--nodes %s", err);
		}
		if (cfg.kind == WORKLOAD_SET || cfg.kind == WORKLOAD_APPEND) {
			char all[24];

			snprintf(all, sizeof(all), across.nodes > 1 ? "1-%u" : "%u", across.nodes);
			ret = final_nodes_of(&cfg, final_nodes ? final_nodes : all);
			if (ret)
				return ret;
			scenario_faults_path(path, faults_path, sizeof(faults_path));
			cfg.faults_path = faults_path;
		}
		if (load_across_hosts(&cfg, &across, path, &st))
			return CAPCTL_FAIL;
		print_summary(&cfg, &st, nodes, path);
		return CAPCTL_OK;
	}
	if (cfg.client == WORKLOAD_CLIENT_EXEC && !cfg.share_here) {
		struct lab_info info;

		/* {n} is the lab's size, as for capnet start. */
		if (lab_nodes(nodes_default, sizeof(nodes_default)) ||
		    lab_topology_discover(capctl_opts.lab, &info))
			return CAPCTL_FAIL;
		cfg.lab_nodes = info.nodes;
	}
	if (!nodes) {
		if (lab_nodes(nodes_default, sizeof(nodes_default)) ||
		    workload_parse_nodes(&cfg, nodes_default, err, sizeof(err)))
			return CAPCTL_FAIL;
		nodes = nodes_default;
	}
	if ((cfg.kind == WORKLOAD_SET || cfg.kind == WORKLOAD_APPEND) &&
	    (!cfg.share_here || cfg.phase == WORKLOAD_PHASE_FINAL)) {
		ret = final_nodes_of(&cfg, final_nodes);
		if (ret)
			return ret;
		scenario_faults_path(path, faults_path, sizeof(faults_path));
		cfg.faults_path = faults_path;
	}
	progress_start(&prog.line, capctl_opts.quiet || cfg.share_here);
	if (prog.line.on) {
		cfg.progress = show_progress;
		cfg.progress_arg = &prog;
	}
	if (cfg.share_here)
		cfg.progress = share_watch_controller;
	/* A host's share writes its lines where its controller reads them. */
	f = cfg.share_here && !strcmp(path, "-") ? fdopen(dup(STDOUT_FILENO), "w") :
						   fopen(path, "w");
	if (!f) {
		report_fail("%s: %s", path, strerror(errno));
		return CAPCTL_FAIL;
	}
	/* Each line on its way as it is written: a host lost mid-run takes none of the lines it
	 * had written with it into a buffer. */
	if (cfg.share_here)
		setvbuf(f, NULL, _IOLBF, 0);
	cfg.history = f;
	if (cfg.client == WORKLOAD_CLIENT_EXEC && exec_clients_adopt_strays())
		report_warn("a client program's children that leave its process group may outlive "
			    "the load: %s",
			    strerror(errno));
	ret = workload_run(&cfg, &st);
	if (cfg.client == WORKLOAD_CLIENT_EXEC)
		exec_clients_end_strays();
	progress_end(&prog.line);
	if (fclose(f) && !ret) {
		ret = -errno;
		report_warn("%s: %s", path, strerror(-ret));
	}
	if (ret)
		return CAPCTL_FAIL;
	if (cfg.phase == WORKLOAD_PHASE_FINAL)
		print_final_prints(&cfg, &st);
	if (!cfg.share_here)
		print_summary(&cfg, &st, nodes, path);
	return CAPCTL_OK;
}
