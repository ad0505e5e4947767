// SPDX-License-Identifier: GPL-2.0-only
/* capnet up, down and exec: a lab's life and running programs inside its nodes. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "netem/cli.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"
#include "netem/lab/adopt.h"
#include "netem/lab/lab_record.h"
#include "netem/svc/nodes.h"
#include "lib/monotonic.h"
#include "lib/progress.h"
#include "lib/test_hook.h"

static void show_built(unsigned int node, unsigned int nodes, void *arg)
{
	struct progress *p = arg;

	progress_show(p, "up: %u of %u nodes built, %.1f s", node, nodes, progress_elapsed(p));
	if (node == (nodes + 1) / 2)
		test_hook_phase("half-built");
}

static void format_addr(uint32_t host_order, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = htonl(host_order) };

	inet_ntop(AF_INET, &a, buf, len);
}

int cli_build_lab(struct cli *cli, struct lab_config *cfg,
		  int (*join)(const struct lab_config *cfg, void *arg), void *join_arg,
		  enum filter_hook *used, double *t_topology, double *t_filter)
{
	static struct lab_info info;
	struct node_set here;
	struct progress prog;
	char dir[256], why[1024];
	struct stat st;
	int err;

	filter_pin_dir(cli->lab, dir, sizeof(dir));
	if (!stat(dir, &st) && lab_topology_discover(cli->lab, &info) != -ENOENT) {
		error_clear(); /* what discovery found wrong: the lab is there, that is the error */
		error_note("lab \"%s\" already exists (capnet --lab %s down removes it)", cli->lab,
			   cli->lab);
		return -EEXIST;
	}
	if (!stat(dir, &st)) {
		error_note("lab \"%s\" has remains of an earlier run in %s (capnet --lab %s down "
			   "removes them)",
			   cli->lab, dir, cli->lab);
		return -EEXIST;
	}

	/* The size asked for, recorded before anything is built: a killed `up` leaves a lab that
	 * every command knows was meant to have n nodes, and refuses. */
	err = lab_record_create(cli->lab, cfg->nodes);
	if (err == -EEXIST) {
		error_clear();
		error_note("lab \"%s\": another `up` is building it, or one was killed (capnet "
			   "--lab %s down removes what it left)",
			   cli->lab, cli->lab);
	}
	if (err)
		return err;
	/* A host's share of a lab across hosts: discovery expects these nodes alone. */
	if (cfg->node_here) {
		nodeset_clear(&here);
		for (unsigned int i = 1; i <= cfg->nodes; i++)
			if (cfg->node_here[i])
				nodeset_add(&here, i);
		err = lab_record_share_create(cli->lab, &here);
		if (err) {
			snprintf(why, sizeof(why), "%s", error_reason(err));
			lab_record_remove(cli->lab);
			error_note("%s", why);
			return err;
		}
	}
	test_hook_phase("recorded");
	progress_start(&prog, cli->quiet);
	cfg->node_built = show_built;
	cfg->node_built_arg = &prog;
	err = lab_topology_up(cfg);
	if (err == -EEXIST) {
		progress_end(&prog);
		lab_record_remove(cli->lab);
		return err; /* said by lab_topology_up, and nothing was changed */
	}
	if (!err && join)
		err = join(cfg, join_arg);
	if (err)
		goto rollback;
	err = lab_topology_discover(cli->lab, &info);
	if (err) {
		error_note("lab \"%s\" just built but not found whole: %s", cli->lab,
			   error_reason(err));
		goto rollback;
	}
	*t_topology = monotonic_s();
	test_hook_phase("built");
	/* The attach is one long step: said once, not redrawn. */
	progress_step(&prog, "up: %u nodes built, attaching the filter to every port", cfg->nodes);
	err = filter_install(cfg, &info, used);
	progress_end(&prog);
	if (err)
		goto rollback;
	*t_filter = monotonic_s();
	test_hook_phase("attached");
	/* The very last step: only now is the lab whole. */
	{
		struct filter *filter = NULL;

		err = filter_open(cli->lab, &filter);
		if (!err)
			err = filter_mark_whole(filter);
		filter_close(filter);
	}
	if (err) {
		error_note("lab \"%s\": mark it whole: %s", cli->lab, error_reason(err));
		goto rollback;
	}
	return 0;

rollback:
	progress_end(&prog);
	/* Leave nothing half-built: the next `up` must start clean. The reason stays the one
	 * left, whatever the removal notes on its way. */
	snprintf(why, sizeof(why), "%s", error_reason(err ?: -EIO));
	filter_remove(cli->lab);
	lab_topology_down(cli->lab);
	lab_record_remove(cli->lab);
	error_note("%s", why);
	return err ?: -EIO;
}

int cli_remove_lab(const char *lab)
{
	char run_dir[256];
	int err;

	/* The delay line first: its pid file is in the run folder removed below, and its pins
	 * in the filter's folder. */
	delay_stop(lab, NULL, false);
	/* An adopted lab's namespaces are not capnet's: only the qdiscs on their ports and the
	 * names go, before the run folder with the record of them. */
	err = adopt_release(lab);
	/* Replicas first: a process must not outlive the namespace it runs in. */
	run_dir_of_lab(lab, NULL, run_dir, sizeof(run_dir));
	err = nodes_remove_all(lab, run_dir, CAPNET_MAX_NODES) ?: err;
	err = filter_remove(lab) ?: err;
	return lab_topology_down(lab) ?: err;
}

int cmd_up(struct cli *cli, int argc, char **argv)
{
	struct lab_config cfg = { .prefix = 16, .subnet = 0x0a4d0000 /* 10.77.0.0 */ };
	enum filter_hook hook = FILTER_HOOK_AUTO, used = FILTER_HOOK_AUTO;
	const char *subnet = NULL, *hosts = NULL, *place = NULL;
	char err_text[256], first[32], last[32];
	unsigned long n = 0;
	double t0, t_topology = 0, t_filter = 0;
	char *end;
	int i, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--nodes")) {
			if (++i >= argc)
				return report_usage("up: -n needs a number of nodes");
			errno = 0;
			n = strtoul(argv[i], &end, 10);
			if (!*argv[i] || *end || errno || argv[i][0] == '-')
				return report_usage("up: \"%s\" is not a number of nodes", argv[i]);
			if (n < 1 || n > CAPNET_MAX_NODES)
				return report_usage(
					"up: %lu nodes: a lab has 1 to %d nodes (a Linux "
					"bridge takes at most 1023 ports)",
					n, CAPNET_MAX_NODES);
		} else if (!strcmp(argv[i], "--subnet")) {
			if (++i >= argc)
				return report_usage(
					"up: --subnet needs a CIDR such as 10.77.0.0/16");
			subnet = argv[i];
		} else if (!strcmp(argv[i], "--hook")) {
			if (++i >= argc || filter_hook_parse(argv[i], &hook))
				return report_usage(
					"up: --hook takes tcx or clsact%s%s%s (or blocks, the "
					"default)",
					i < argc ? ", not \"" : "", i < argc ? argv[i] : "",
					i < argc ? "\"" : "");
		} else if (!strcmp(argv[i], "--hosts") || !strcmp(argv[i], "--place")) {
			if (i + 1 >= argc)
				return report_usage("up: %s needs a value (capnet up -n N --hosts "
						    "h1,h2 [--place 1-3@h1,4-6@h2])",
						    argv[i]);
			*(!strcmp(argv[i], "--hosts") ? &hosts : &place) = argv[i + 1];
			i++;
		} else {
			return report_usage(
				"up: unknown argument \"%s\" (usage: capnet up -n N "
				"[--subnet CIDR] [--hook blocks|tcx|clsact] [--hosts HOSTS "
				"[--place NODES@HOST,...]])",
				argv[i]);
		}
	}
	if (!n)
		return report_usage("up: how many nodes? (capnet up -n 5)");
	cfg.nodes = n;
	cfg.filter_hook = hook;
	snprintf(cfg.name, sizeof(cfg.name), "%s", cli->lab);
	if (subnet && lab_parse_subnet(subnet, cfg.nodes, &cfg.subnet, &cfg.prefix, err_text,
				       sizeof(err_text)))
		return report_usage("up: %s", err_text);
	if (!subnet && lab_parse_subnet(LAB_DEFAULT_SUBNET, cfg.nodes, &cfg.subnet, &cfg.prefix,
					err_text, sizeof(err_text)))
		return report_usage("up: %s", err_text);
	if (place && !hosts)
		return report_usage("up: --place needs --hosts");
	if (hosts)
		return hosts_up(cli, &cfg, hosts, place);
	if (cli_need_root("capnet up"))
		return EXIT_FAIL;

	t0 = monotonic_s();
	err = cli_build_lab(cli, &cfg, NULL, NULL, &used, &t_topology, &t_filter);
	if (err)
		return report_error(err, NULL);

	format_addr(lab_node_addr(&cfg, 1), first, sizeof(first));
	format_addr(lab_node_addr(&cfg, cfg.nodes), last, sizeof(last));
	if (cli->json)
		printf("{\"lab\":\"%s\",\"nodes\":%u,\"first\":\"%s\",\"last\":\"%s\","
		       "\"prefix\":%u,\"hook\":\"%s\",\"seconds\":%.3f,\"topology_s\":%.3f,"
		       "\"filter_s\":%.3f}\n",
		       cli->lab, cfg.nodes, first, last, cfg.prefix, filter_hook_name(used),
		       monotonic_s() - t0, t_topology - t0, t_filter - t_topology);
	else
		printf("lab %s: %u node%s up (%s..%s/%u), switch %s-sw, filter on every port "
		       "(%s), healthy (%.2f s)\n",
		       cli->lab, cfg.nodes, cfg.nodes == 1 ? "" : "s", first, last, cfg.prefix,
		       cli->lab, filter_hook_name(used), monotonic_s() - t0);
	return EXIT_OK;
}

int cmd_down(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return report_usage("down takes no arguments");
	if (cli_need_root("capnet down"))
		return EXIT_FAIL;
	/* What failed on the way was noted, and each note printed when the next replaced it. */
	if (cli_remove_lab(cli->lab)) {
		error_flush();
		return EXIT_FAIL;
	}
	if (!cli->json)
		printf("lab %s: down\n", cli->lab);
	return EXIT_OK;
}

/* As `ip netns exec` does: a private mount namespace with /sys remounted, so tools that read
 * /sys/class/net see the node's interfaces and not the host's. Best effort. */
static void remount_sys(void)
{
	if (unshare(CLONE_NEWNS))
		return;
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL))
		return;
	if (umount2("/sys", MNT_DETACH) == 0)
		mount("capnet", "/sys", "sysfs", 0, NULL);
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	struct lab_info info;
	unsigned int node;
	char ns[64], nodestr[16];
	int rc, saved;

	if (argc < 1)
		return report_usage("exec: which node? (capnet exec I -- CMD ...)");
	if (argc >= 2 && !strcmp(argv[1], "--")) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2)
		return report_usage("exec: what to run? (capnet exec %s -- CMD ...)", argv[0]);
	if (cli_need_root("capnet exec"))
		return EXIT_FAIL;
	rc = cli_open_lab(cli, &info, NULL);
	if (rc)
		return rc;
	rc = cli_parse_node(argv[0], info.nodes, &node);
	if (rc)
		return rc;
	lab_node_ns(cli->lab, node, ns, sizeof(ns));
	explain("ip netns exec %s %s ...", ns, argv[1]);
	saved = netns_enter(ns);
	if (saved < 0)
		return report_fail("exec: enter namespace %s: %s", ns, strerror(-saved));
	close(saved);
	remount_sys();
	snprintf(nodestr, sizeof(nodestr), "%u", node);
	setenv("CAPNET_LAB", cli->lab, 1);
	setenv("CAPNET_NODE", nodestr, 1);
	execvp(argv[1], argv + 1);
	rc = errno;
	report_fail("exec %s in node %u: %s", argv[1], node, strerror(rc));
	/* As a shell does: 127 when there is no such program, 126 when it cannot run. */
	return rc == ENOENT ? 127 : 126;
}
