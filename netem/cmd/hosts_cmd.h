/* SPDX-License-Identifier: GPL-2.0-only */
/* What the controller's commands for a lab across hosts share (netem/cmd/cmd_hosts.c and
 * hosts_*.c): the hosts' answers to the last command run on them, and the words of a refusal. */
#ifndef CAPNET_HOSTS_CMD_H
#define CAPNET_HOSTS_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "netem/cli.h"
#include "netem/hosts/hosts.h"
#include "netem/hosts/remote.h"
#include "netem/policy/spec.h"

#define HOSTS_RECORD LAB_HOSTS_RECORD
/* The last switch: its instant and the generation each host took. */
#define SWITCH_RECORD "switch"

/* What every host answered to the last hosts_run_all: the next one reuses them. */
extern struct remote_result hosts_results[HOSTS_MAX];

/* `capnet --lab LAB ARGS` on every host h of the lab with run[h] (NULL: all), at once, into
 * hosts_results; with input, host h reads input[h] on its standard input. */
void hosts_run_all(const char *lab, const struct lab_hosts *lh, const bool *run, const char *args);
void hosts_run_all_input(const char *lab, const struct lab_hosts *lh, const bool *run,
			 const char *args, const char *const *input);

/* What a host's capnet said, without its "capnet: " in front. */
const char *hosts_said(const char *line);
/* What host h said of its failure in hosts_results, kept past the next run. */
const char *hosts_why_of(unsigned int h);
/* The last line of a host's output: its report. */
const char *hosts_last_line(const char *out);
/* Every line host h wrote on standard error (err), or in hosts_results, as warnings naming it. */
void hosts_relay_text(const struct lab_hosts *lh, unsigned int h, const char *err);
void hosts_relay_warnings(const struct lab_hosts *lh, unsigned int h);

/* What a lab with a host lost, or a share not whole, needs: its words after "; ". */
const char *hosts_not_whole_remedy(const struct cli *cli);
/* The same after a failure of host h when h is lost or its share not whole (it is asked); ""
 * when it is whole and failed for another reason. Asking writes over hosts_results: read the
 * failure's reason (hosts_why_of) first. */
const char *hosts_lost_remedy(struct cli *cli, const struct lab_hosts *lh, unsigned int h);
/* The size of a switch record's text, at most. */
#define HOSTS_SWITCH_RECORD_MAX (HOSTS_MAX * 64 + 2048)
/* The last switch's record (hosts_switch.c writes it): 0, -ENOENT when no switch was made
 * across the hosts yet, -EINVAL when it cannot be read. */
int hosts_switch_record(const char *lab, const struct lab_hosts *lh, struct switch_record *r);
/* What a lab whose hosts hold different generations needs: its words. */
const char *hosts_inconsistent_remedy(const struct cli *cli);
/* What hosts_check_all found of the hosts' generations: each host's in force (known[h]: it
 * answered whole), the last switch's record, and the first host not on the generation the
 * record says it was told (HOSTS_MAX: none). */
struct hosts_generations {
	bool known[HOSTS_MAX];
	uint64_t in_force[HOSTS_MAX];
	bool recorded;
	struct switch_record record;
	unsigned int astray;
};
/* Every host says whether its share is whole and which generation it holds (`host check`,
 * into hosts_results; gen, if not NULL, filled): 0; -EUCLEAN with the first host that is not
 * whole in *bad; else -ESTALE with the first not on the generation it was told. */
int hosts_check_all(struct cli *cli, const struct lab_hosts *lh, unsigned int *bad,
		    struct hosts_generations *gen);
/* EXIT_OK when every host is there with its share whole and on the generation it was told;
 * else EXIT_FAIL, the first host that is not named with its reason and the remedy. */
int hosts_refuse_unless_whole(struct cli *cli, const struct lab_hosts *lh, const char *name);

/* The controller's line in its own fault log for a command done on the hosts: the groups of a
 * switch from partition_text, else the nodes given; its value the words given, then "; note"
 * when note is not NULL (what did not go as the words say). */
void hosts_log_fault(struct cli *cli, const struct lab_hosts *lh, const char *command, int argc,
		     char **argv, const char *partition_text, const struct node_set *nodes,
		     uint64_t generation, const char *note);

/* The commands, each for a lab across hosts read into lh (netem/cmd/hosts_*.c). */
int hosts_status(struct cli *cli, const struct lab_hosts *lh);
int hosts_switch(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
		 char **argv);
int hosts_exec(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv);
int hosts_nodes(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
		char **argv);
int hosts_clock(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv);
/* Whether a link command changes delays and nothing the filter's policy holds. */
bool hosts_link_delays_only(int argc, char **argv);
int hosts_delay(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv);
int hosts_watch(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv);

/* start, stop, kill, pause, resume or restart as on one host; NULL for another name. */
int (*hosts_node_command(const char *name))(struct cli *cli, int argc, char **argv);

#endif
