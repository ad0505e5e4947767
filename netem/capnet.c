// SPDX-License-Identifier: GPL-2.0-only
/* capnet: build a lab of network namespaces, split it, heal it, watch what was dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report.h"
#include "netem/cli.h"
#include "netem/maelstrom/maelstrom.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"
#include "lib/options.h"

static const struct cli_command commands[] = {
	{ "up", cmd_up,
	  "-n N [--subnet CIDR] [--hook blocks|tcx|clsact] [--hosts HOSTS [--place P]]",
	  "create a lab of N nodes (1..1000), across hosts with --hosts" },
	{ "adopt", cmd_adopt, "--netns NAME[,NAME...] | --pid PID[,PID...]",
	  "make namespaces capnet did not build (containers) nodes 1..N: the filter goes on "
	  "their bridge ports, nothing inside them changes" },
	{ "down", cmd_down, "",
	  "remove the lab and every trace of it (of an adopted lab, only what capnet added)" },
	{ "status", cmd_status, "[--json] [--links] | --maps",
	  "groups, rules, totals per cause and the links that lost most (--links: every link and the drop matrix; --maps: the filter's maps decoded)" },
	{ "exec", cmd_exec, "I -- CMD [ARG...]", "run a program inside node I" },
	{ "partition", cmd_partition, "GROUP... | --preset NAME [--seed S] [--only|--except SPEC]",
	  "split the lab into groups (nodes not named form one more group); with --only or "
	  "--except, a rule for some frames (SPEC: tcp:PORT udp:PORT tcp udp icmp arp ip:PROTO)" },
	{ "cut", cmd_cut, "FROM TO [--only|--except SPEC]",
	  "one-way: nodes FROM can no longer send to nodes TO" },
	{ "heal", cmd_heal, "[--links] [--delays] | --only|--except SPEC",
	  "remove partitions, cuts and rules (--links: impairments; --delays: delays, too; "
	  "--only SPEC: that rule alone)" },
	{ "link", cmd_link,
	  "FROM TO [--loss P% [--seed S]] [--dup P%] [--corrupt P% | --corrupt-payload P%] "
	  "[--only|--except SPEC] [--delay T ...] [--one-way]",
	  "impair or delay links (both directions unless --one-way; `all` for every node); "
	  "--delay takes [--jitter T] [--distribution uniform|normal] [--reorder]; [--rate R]" },
	{ "clock", cmd_clock, "NODES --offset ±T | --rate R | --strobe T,PERIOD | --reset",
	  "skew the wall clock of the services capnet started on NODES (libfaketime)" },
	{ "start", cmd_start,
	  "--mode cp|ap [NODES] [--dir D] [--no-key] [-- OPTS] | [NODES] [--name N] [--clock] "
	  "[--settle T] [--wait-port P] -- PROGRAM ARG...",
	  "start a capnode replica in each node (all by default), authenticated with the lab's "
	  "key (--no-key: not); or any program, its arguments with {i} {ip} {n} {dir} "
	  "{each:TEMPLATE} {each/SEP:TEMPLATE}; --clock: its clock can be moved (capnet clock); "
	  "--settle: it must live T, --wait-port: listen on TCP port P (within T, 30 s by "
	  "default), or the start fails" },
	{ "stop", cmd_stop, "[NODES] [--name N]", "stop services cleanly (SIGTERM)" },
	{ "kill", cmd_kill, "[-9|-15] NODES [--name N]", "crash services (SIGKILL unless -15)" },
	{ "restart", cmd_restart, "NODES [--name N]",
	  "start services again with the same options" },
	{ "pause", cmd_pause, "NODES [--name N]", "freeze every process of services (SIGSTOP)" },
	{ "resume", cmd_resume, "NODES [--name N]", "let paused services run again (SIGCONT)" },
	{ "run", cmd_run, "SCENARIO", "play a timed scenario script and give a verdict" },
	{ "maelstrom", cmd_maelstrom, "test -w WORKLOAD --bin PROGRAM [ARG...] [OPTIONS]",
	  "run a Maelstrom node program on a real lab network and check it (maelstrom test "
	  "--help)" },
	{ "watch", cmd_watch, "[--json] [--count N] [--duration S] [-- CMD ARG...]",
	  "print every dropped frame as it happens (with CMD: while CMD runs, and its status)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: capnet [--lab NAME] [--explain] [--json] [-v] [-q] COMMAND [ARGS]\n\n");
	/* Arguments too long for their column get a line of their own. */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].args) <= 38)
			fprintf(out, "  %-10s %-38s %s\n", commands[i].name, commands[i].args,
				commands[i].help);
		else
			fprintf(out, "  %-10s %s\n  %-10s %-38s %s\n", commands[i].name,
				commands[i].args, "", "", commands[i].help);
	fprintf(out,
		"\nGROUP, FROM, TO: node lists such as 3, 1,2 or 3-5 (`all` in cut and link).\n"
		"Presets: halves, random-halves, majorities-ring, bridge, isolate-random.\n"
		"--lab defaults to $CAPNET_LAB, else \"capnet\". --explain prints the ip, tc,\n"
		"sysctl and bpftool command equivalent to every change capnet makes. -q (--quiet):\n"
		"no progress line on a terminal.\n"
		"Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	struct global_opts g;
	struct cli cli;
	char err[128];
	int i, rc;
	size_t c;

	report_set_program("capnet");
	rc = options_parse_globals(argc, argv, true, NULL, &g, &i, err, sizeof(err));
	if (rc < 0)
		return report_usage(
			"%s%s", err,
			strncmp(err, "unknown option", 14) ? "" : " (capnet --help lists them)");
	if (rc == OPTIONS_HELP) {
		usage(stdout);
		return EXIT_OK;
	}
	if (rc == OPTIONS_VERSION) {
		printf("capnet %s\n", CAPNET_VERSION);
		return EXIT_OK;
	}
	cli = (struct cli){ .lab = g.lab,
			    .json = g.json,
			    .verbose = g.verbose,
			    .explain = g.explain,
			    .quiet = g.quiet };
	for (c = 1; c < (size_t)i; c++)
		if (!strcmp(argv[c], "--lab") || !strncmp(argv[c], "--lab=", 6))
			cli.lab_given = true;
	if (getenv("CAPNET_LAB") && *getenv("CAPNET_LAB"))
		cli.lab_given = true;
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	explain_enable(cli.explain);
	if (cli.verbose)
		setenv("CAPNET_VERBOSE", "1", 1);
	/* Internal: the delay line that `capnet link --delay` starts; not listed in the usage. */
	if (!strcmp(argv[i], DELAY_LINE_COMMAND))
		return cmd_delay_line(&cli, argc - i - 1, argv + i + 1);
	/* Internal: what the controller of a lab across hosts runs on each host. */
	if (!strcmp(argv[i], HOST_COMMAND))
		return cmd_host(&cli, argc - i - 1, argv + i + 1);
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name)) {
			if (hosts_dispatch(&cli, argv[i], argc - i - 1, argv + i + 1, &rc))
				return rc;
			return commands[c].run(&cli, argc - i - 1, argv + i + 1);
		}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	return report_usage("unknown command \"%s\" (capnet --help lists them)", argv[i]);
}
