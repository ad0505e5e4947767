// SPDX-License-Identifier: GPL-2.0-only
/* `capnet host VERB`: what the controller of a lab across hosts runs on every host (internal,
 * not in the usage): hello, up, check, prepare and its commit, nodes, key, clock, link, watch,
 * down. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lib/files.h"
#include "lib/monotonic.h"
#include "lib/options.h"
#include "lib/report.h"
#include "netem/cli.h"
#include "netem/cmd/hosts_cmd.h"
#include "netem/hosts/clock_probe.h"
#include "netem/hosts/kernel_probe.h"
#include "netem/hosts/vxlan.h"
#include "netem/lab/lab_open.h"
#include "netem/lab/run_dir.h"
#include "node/key_file.h"

/* "capnet VERSION ADDR MTU CONTROLLER": the address this host was reached at and its MTU, and
 * the controller's address, from what sshd tells the session (SSH_CONNECTION). */
static int host_hello(void)
{
	const char *conn = getenv("SSH_CONNECTION");
	char client[64] = "-", server[64] = "-";
	struct in_addr a;
	unsigned int mtu = 0;
	char why[256];

	/* Refused here, before any host builds: the host's kernel cannot hold a share. */
	if (kernel_probe(why, sizeof(why)))
		return report_fail("%s", why);
	if (conn && sscanf(conn, "%63s %*s %63s", client, server) == 2 &&
	    inet_pton(AF_INET, server, &a) == 1)
		mtu = vxlan_underlay_mtu(ntohl(a.s_addr));
	printf("capnet %s %s %u %s\n", CAPNET_VERSION, server, mtu, client);
	return EXIT_OK;
}

struct share_join {
	uint32_t vni, local;
	unsigned int mtu;
	uint32_t remote[CAPNET_NODE_SLOTS];
};

static int join_vxlan(const struct lab_config *cfg, void *arg)
{
	struct share_join *j = arg;

	for (unsigned int i = 1; i <= cfg->nodes; i++)
		if (j->remote[i])
			return vxlan_join(cfg->name, j->vni, j->local, j->mtu, cfg->nodes,
					  j->remote);
	return 0; /* the only host */
}

/* "4-6@10.0.0.2/7-9@10.0.0.3", or "-" for none. */
static int parse_peers(const char *text, unsigned int nodes, uint32_t *remote)
{
	static char buf[65536];
	struct spec_error e;
	char *save = NULL;

	if (!strcmp(text, "-"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *item = strtok_r(buf, "/", &save); item; item = strtok_r(NULL, "/", &save)) {
		char *at = strchr(item, '@');
		struct node_set set;
		struct in_addr a;

		if (!at)
			return report_usage("host up: --peers \"%s\" is not NODES@ADDR", item);
		*at = '\0';
		if (nodeset_parse(item, nodes, &set, &e) || inet_pton(AF_INET, at + 1, &a) != 1)
			return report_usage("host up: --peers: %s@%s", item, at + 1);
		for (unsigned int i = 1; i <= nodes; i++)
			if (nodeset_has(&set, i))
				remote[i] = ntohl(a.s_addr);
	}
	return 0;
}

static int host_up(struct cli *cli, int argc, char **argv)
{
	static struct share_join join;
	static bool here[CAPNET_NODE_SLOTS];
	struct lab_config cfg = { 0 };
	const char *here_text = NULL, *subnet = "10.77.0.0/16", *peers = "-";
	enum filter_hook used = FILTER_HOOK_AUTO;
	double t_topology, t_filter;
	struct node_set set;
	struct spec_error e;
	struct in_addr a;
	char msg[256];

	memset(&join, 0, sizeof(join));
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "-n"))
			cfg.nodes = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--here"))
			here_text = v;
		else if (!strcmp(k, "--subnet"))
			subnet = v;
		else if (!strcmp(k, "--mtu"))
			join.mtu = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--vni"))
			join.vni = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--local") && inet_pton(AF_INET, v, &a) == 1)
			join.local = ntohl(a.s_addr);
		else if (!strcmp(k, "--peers"))
			peers = v;
		else if (!strcmp(k, "--hook") && !filter_hook_parse(v, &used))
			cfg.filter_hook = used;
		else
			return report_usage("host up: unknown argument \"%s\"", k);
	}
	if (argc % 2 || !cfg.nodes || cfg.nodes > CAPNET_MAX_NODES || !here_text || !join.mtu ||
	    nodeset_parse(here_text, cfg.nodes, &set, &e) ||
	    lab_parse_subnet(subnet, cfg.nodes, &cfg.subnet, &cfg.prefix, msg, sizeof(msg)))
		return report_usage(
			"host up: needs -n N --here NODES --mtu M (from the controller)");
	if (parse_peers(peers, cfg.nodes, join.remote))
		return EXIT_USAGE;
	if (cli_need_root("capnet host up"))
		return EXIT_FAIL;
	for (unsigned int i = 1; i <= cfg.nodes; i++)
		here[i] = nodeset_has(&set, i);
	snprintf(cfg.name, sizeof(cfg.name), "%s", cli->lab);
	cfg.node_here = here;
	cfg.mtu = join.mtu;
	used = FILTER_HOOK_AUTO;
	return cli_build_lab(cli, &cfg, join_vxlan, &join, &used, &t_topology, &t_filter) ?
		       EXIT_FAIL :
		       EXIT_OK;
}

/* The share here is whole: built to the end, every port of this host filtered. Says so in one
 * JSON line: the policy copy in force, and the CLOCK_TAI instant its filter first judged a frame
 * by it. */
static int host_check(struct cli *cli)
{
	struct capnet_policy_meta meta;
	struct lab_info info;
	struct filter *f = NULL;
	unsigned int copy;
	int err;

	if (lab_open(cli->lab, &info, &f, LAB_WHOLE))
		return report_error(-EIO, NULL);
	err = filter_active_meta(f, &copy, &meta);
	filter_close(f);
	if (err)
		return report_error(err, "read the policy in force");
	printf("{\"generation\":%llu,\"taken_tai_ns\":%llu}\n", (unsigned long long)meta.generation,
	       (unsigned long long)meta.taken_tai_ns);
	return EXIT_OK;
}

/* The generation the idle copy holds: what a prepare wrote there. */
static int idle_generation(struct filter *f, uint64_t *generation)
{
	struct capnet_policy_meta meta;
	unsigned int copy;
	int err = filter_active_meta(f, &copy, &meta);

	if (err)
		return err;
	err = filter_read_meta(f, !copy, &meta);
	if (!err)
		*generation = meta.generation;
	return err;
}

/* Phase two on this host: the prepared copy takes over at the instant, in the filter; then,
 * once it has passed, it is made the active copy. Says how far ahead of the instant it was
 * scheduled (lead_ns), or how late (late_ns: this host switched that much after the others). */
static int commit_at(struct filter *f, uint64_t generation, uint64_t flip_at)
{
	struct timespec at;
	uint64_t written;
	int err;

	err = filter_schedule_flip(f, generation, flip_at);
	written = tai_ns();
	if (err)
		return report_fail("schedule the switch: %s",
				   err == -ESTALE ? "the prepared copy was replaced" :
				   err == -EBUSY  ? "another switch is scheduled" :
						    strerror(-err));
	at.tv_sec = flip_at / 1000000000ull;
	at.tv_nsec = flip_at % 1000000000ull;
	while (clock_nanosleep(CLOCK_TAI, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	err = filter_settle_flip(f);
	if (err)
		return report_fail("settle the switch: %s", strerror(-err));
	printf("{\"lead_ns\":%llu,\"late_ns\":%llu}\n",
	       (unsigned long long)(written < flip_at ? flip_at - written : 0),
	       (unsigned long long)(written > flip_at ? written - flip_at : 0));
	return EXIT_OK;
}

/* After the prepare, the controller's lines on standard input: "ready" (is the prepared copy
 * still there? {"ready":GENERATION,"tai_offset_s":this kernel's TAI offset}), then "commit GENERATION FLIP_AT_TAI_NS". Its end before a
 * commit (the controller gave up, or died) switches nothing. */
static int await_commit(struct cli *cli)
{
	uint64_t prepared = 0, now = 0, generation, flip_at;
	struct filter *f = NULL;
	char line[128];
	int err;

	err = filter_open(cli->lab, &f);
	if (!err)
		err = idle_generation(f, &prepared);
	if (err) {
		filter_close(f);
		return report_error(err, NULL);
	}
	fflush(stdout);
	err = EXIT_OK;
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "ready\n")) {
			if (idle_generation(f, &now) || now != prepared)
				printf("the prepared copy was replaced (generation %llu, now %llu)\n",
				       (unsigned long long)prepared, (unsigned long long)now);
			else
				printf("{\"ready\":%llu,\"tai_offset_s\":%ld}\n",
				       (unsigned long long)prepared, clock_tai_offset_s());
			fflush(stdout);
			continue;
		}
		if (sscanf(line, "commit %" SCNu64 " %" SCNu64, &generation, &flip_at) == 2) {
			err = commit_at(f, generation, flip_at);
			break;
		}
		err = report_usage("host prepare: \"%.*s\" is neither ready nor commit",
				   (int)strcspn(line, "\n"), line);
		break;
	}
	filter_close(f);
	return err;
}

/* A host lost before it took a commit holds the generation before it, with the one it missed
 * still prepared in its idle copy. The controller says which generation the host should hold
 * (its record of the last switch); a host behind takes the copy it missed now, so that the
 * command builds on the policy every other host holds. A host that cannot (its prepared copy
 * was replaced, or it is ahead) fails: no host switches. */
static int catch_up(struct cli *cli, uint64_t should)
{
	struct capnet_policy_meta meta;
	uint64_t idle = 0;
	struct filter *f = NULL;
	unsigned int copy;
	int err;

	err = filter_open(cli->lab, &f);
	if (!err)
		err = filter_active_meta(f, &copy, &meta);
	if (!err && meta.generation != should) {
		err = idle_generation(f, &idle);
		if (!err && (meta.generation > should || idle != should))
			err = -ESTALE;
		if (!err)
			err = filter_schedule_flip(f, should, tai_ns());
		if (!err)
			err = filter_settle_flip(f);
		if (!err)
			report_warn("took generation %llu, the switch it missed, over %llu",
				    (unsigned long long)should,
				    (unsigned long long)meta.generation);
	}
	filter_close(f);
	if (err == -ESTALE)
		return report_fail("it holds generation %llu where it should hold %llu, and no "
				   "longer holds that one prepared (capnet --lab %s down, then up, "
				   "makes the lab again)",
				   (unsigned long long)meta.generation, (unsigned long long)should,
				   cli->lab);
	return err ? report_error(err, "take the switch it missed") : EXIT_OK;
}

/* Phase one on this host, `host prepare [--holds GENERATION] COMMAND ARGS`: the command as it
 * would run alone, writing the idle copy only; then the session stays for phase two. */
static int host_prepare(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *cli, int argc, char **argv);
	} commands[] = { { "partition", cmd_partition },
			 { "cut", cmd_cut },
			 { "heal", cmd_heal },
			 { "link", cmd_link } };
	int rc;

	if (argc >= 2 && !strcmp(argv[0], "--holds")) {
		char *end;
		uint64_t should = strtoull(argv[1], &end, 10);

		if (!*argv[1] || *end || !should)
			return report_usage("host prepare: --holds \"%s\" is not a generation",
					    argv[1]);
		if (cli_need_root("capnet host prepare"))
			return EXIT_FAIL;
		rc = catch_up(cli, should);
		if (rc)
			return rc;
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		return report_usage("host prepare: which command?");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[0], commands[c].name)) {
			filter_defer_flips(true);
			cli->json = true;
			rc = commands[c].run(cli, argc - 1, argv + 1);
			return rc ? rc : await_commit(cli);
		}
	return report_usage("host prepare: \"%s\" is not a switch", argv[0]);
}

/* `host nodes COMMAND ARGS`: start ... restart on this host's share, its report in JSON. */
static int host_nodes(struct cli *cli, int argc, char **argv)
{
	int (*run)(struct cli * cli, int argc, char **argv) = argc ? hosts_node_command(argv[0]) :
								     NULL;

	if (!run)
		return report_usage("host nodes: which command? (start, stop, kill, pause, resume "
				    "or restart)");
	cli->json = true;
	return run(cli, argc - 1, argv + 1);
}

/* `host key [--dir D]`: the cluster's key, read on standard input, into this host's run
 * directory, where capnode and capctl find it. */
static int host_key(struct cli *cli, int argc, char **argv)
{
	char run_dir[256], path[300];
	struct proto_key key;
	int err;

	if (argc != 0 && !(argc == 2 && !strcmp(argv[0], "--dir")))
		return report_usage("host key [--dir DIR] (the key on standard input)");
	if (key_file_read_stdin(&key))
		return report_fail("host key: %s", error_reason(-EINVAL));
	run_dir_of_lab(cli->lab, argc ? argv[1] : NULL, run_dir, sizeof(run_dir));
	snprintf(path, sizeof(path), "%s/" KEY_FILE_NAME, run_dir);
	err = files_mkdir_p(run_dir, 0755);
	if (!err)
		err = key_file_install(path, &key);
	memset(&key, 0, sizeof(key));
	return err ? report_error(err, NULL) : EXIT_OK;
}

int cmd_host(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return report_usage("host: which verb? (internal: the controller of a lab across "
				    "hosts runs it)");
	if (!strcmp(argv[0], "hello"))
		return host_hello();
	if (!strcmp(argv[0], "up"))
		return host_up(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "check"))
		return host_check(cli);
	if (!strcmp(argv[0], "prepare"))
		return host_prepare(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "down"))
		return cmd_down(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "clock"))
		return clock_probe_serve() ? EXIT_FAIL : EXIT_OK;
	if (!strcmp(argv[0], "nodes"))
		return host_nodes(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "key"))
		return host_key(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "link"))
		return cmd_link(cli, argc - 1, argv + 1);
	/* The one-host commands on this host's share, never through the lab's record of its
	 * hosts: on `local` that record is in the same run directory, and `capnet status` or
	 * `capnet exec` there would ask the hosts again, without end. */
	if (!strcmp(argv[0], "status"))
		return cmd_status(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "exec"))
		return cmd_exec(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "watch"))
		return cmd_watch_for_controller(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "clock-check"))
		return cmd_clock_check(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "clock-set"))
		return cmd_clock(cli, argc - 1, argv + 1);
	return report_usage("host: unknown verb \"%s\"", argv[0]);
}
