/* SPDX-License-Identifier: GPL-2.0-only */
/* What every capnet subcommand shares: global options, exit codes, error reporting, and opening
 * a running lab. */
#ifndef CAPNET_CLI_H
#define CAPNET_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/report.h"
#include "netem/filter/filter.h"
#include "netem/lab/topology.h"

struct cli {
	const char *lab;
	bool lab_given; /* --lab or $CAPNET_LAB, not the default */
	bool json;
	bool verbose;
	bool explain;
	bool quiet; /* -q: no progress line on a terminal */
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *args;
	const char *help;
};

/* Fails (EXIT_FAIL, with a message naming `what`) unless running as root. */
int cli_need_root(const char *what);
/* Takes a trailing --json anywhere in argv (subcommands accept it after their name too). */
void cli_take_json(struct cli *cli, int *argc, char **argv);

/* Opens a running lab: its topology and its filter's pins. Prints why not and returns
 * EXIT_FAIL when the lab is missing, broken, or has no filter state. */
int cli_open_lab(struct cli *cli, struct lab_info *info, struct filter **filter);

/* The same, for the commands that read or change the policy or start replicas: refuses (prints
 * why and the remedy, EXIT_FAIL) a lab that `up` did not finish, that has fewer nodes than it was
 * asked for, or whose filter is not on every port. filter may be NULL. */
int cli_open_whole_lab(struct cli *cli, struct lab_info *info, struct filter **filter);

/* A node number from text, 1..nodes; prints the error. */
int cli_parse_node(const char *text, unsigned int nodes, unsigned int *node);
/* Seconds as "2", "0.5", "100ms"; prints the error. */
int cli_parse_duration_ms(const char *text, const char *what, long *ms);

/* What `up` does on one host once its arguments are read: records the lab (and its share when
 * cfg->node_here), builds the topology, runs join (may be NULL: the VXLAN of a lab across
 * hosts), attaches the filter and marks the lab whole; on failure removes all it made and
 * returns -errno, its reason noted (error_note), never printed. */
int cli_build_lab(struct cli *cli, struct lab_config *cfg,
		  int (*join)(const struct lab_config *cfg, void *arg), void *join_arg,
		  enum filter_hook *used, double *t_topology, double *t_filter);
/* What `down` does: stops the delay line and the lab's services, releases an adopted lab's
 * namespaces, removes the filter, the topology and the run folder; goes on past a failure.
 * 0, or the first -errno with its reason noted (error_note). */
int cli_remove_lab(const char *lab);

int cmd_up(struct cli *cli, int argc, char **argv);

/* A lab across hosts (netem/cmd/cmd_hosts.c): `up -n N --hosts ... [--place ...]` once the
 * common options are read, into cfg. */
int hosts_up(struct cli *cli, struct lab_config *cfg, const char *hosts, const char *place);
/* When the lab is one across hosts, runs (or refuses) command `name` for it and says so with
 * true and *rc; false for a lab of this host alone. */
bool hosts_dispatch(struct cli *cli, const char *name, int argc, char **argv, int *rc);
/* For a command that acts on a lab across hosts from the controller: -ENOENT when the lab is
 * not one; 0 and its size when every host's share is whole; else EXIT_FAIL, the first host that
 * is lost or not whole named with the remedy. */
int hosts_lab_whole(struct cli *cli, const char *name, unsigned int *nodes);
/* Internal: `capnet host VERB`, what the controller runs on each host. */
#define HOST_COMMAND "host"
int cmd_host(struct cli *cli, int argc, char **argv);
int cmd_down(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_adopt(struct cli *cli, int argc, char **argv);
int cmd_partition(struct cli *cli, int argc, char **argv);
int cmd_cut(struct cli *cli, int argc, char **argv);
int cmd_heal(struct cli *cli, int argc, char **argv);
int cmd_link(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);
/* capnet watch's arguments, read the same for a lab on one host and across hosts. */
struct watch_args {
	unsigned long long count; /* --count: 0 for no limit */
	long duration_ms; /* --duration: 0 for none */
	char **cmd; /* after --: a command to watch the drops of, NULL-terminated; or NULL */
};
int watch_parse_args(int argc, char **argv, struct watch_args *a);
/* Runs watch's -- CMD: its pid, or -1 said. */
pid_t watch_command_start(char **cmd);
/* The next wait for drop events, in ms, or -1 once a watch is over: its --duration is up, or
 * its command has ended (*child then 0, its status in *status) and its last frames have had
 * 300 ms. */
int watch_next_wait(long long *deadline, pid_t *child, int *status);
/* The line that ends a watch of a command, and watch's exit status: the command's. */
int watch_command_end(const struct cli *cli, char **cmd, int status, unsigned long long seen);
/* `host watch`: each drop as "E TAI_NS LINE", and "W TAI_NS" once every drop before that
 * instant was written, until the controller closes standard input. */
int cmd_watch_for_controller(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_restart(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_clock(struct cli *cli, int argc, char **argv);
/* What cmd_clock checks before it moves any clock, alone: a lab across hosts asks every host. */
int cmd_clock_check(struct cli *cli, int argc, char **argv);
int cmd_resume(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);

#endif /* CAPNET_CLI_H */
