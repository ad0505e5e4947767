/* SPDX-License-Identifier: GPL-2.0-only */
/* Link delay, jitter and rate without sch_netem: the delay line of a lab (one long-running
 * process, netem/delay/delay_line.c), how the CLI starts, configures, reads and stops it, and the
 * switch-side set-up it needs (netem/delay/delay_setup.c). */
#ifndef CAPNET_DELAY_LINE_H
#define CAPNET_DELAY_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "bpf/delay.h"
#include "netem/lab/topology.h"

#define DELAY_RUN_ROOT "/run/capnet"
/* How long `link --delay` waits for the running delay line to take new delays: a bound for a
 * daemon that hangs, not a guess at how long attaching takes. */
#define DELAY_APPLY_WAIT_S 60
/* The delay line's end of the re-injection veth pair, and its bridge port. */
#define DELAY_IF "dl0"
#define DELAY_PORT "dl0p"

/* One delayed directed link; CAPNET_DELAY_ANY as src or dst stands for every node. */
struct delay_link {
	uint16_t src;
	uint16_t dst;
	struct capnet_delay_params p;
};

struct delay_set {
	unsigned int count;
	struct delay_link items[CAPNET_DELAY_MAX_LINKS];
};

/* /sys/fs/bpf/capnet/<lab>/delay, /run/capnet/<lab>/delay.pid and delay.log. */
void delay_pin_dir(const char *lab, char *buf, size_t len);
void delay_run_path(const char *lab, const char *file, char *buf, size_t len);

/* Removes the delay line's pins (and their folder). */
void delay_unpin(const char *lab);
/* The delay line's pid if it runs (0 if not). */
pid_t delay_running(const char *lab);
/* 0 when the lab's delays are applied (none are set, or the delay line runs); -EUCLEAN with the
 * message left (lib/report.h) when they are set but the delay line is dead. */
int delay_check_applied(const char *lab);
/* Starts the delay line of a running lab unless it runs; returns once it is ready (its program
 * loaded and pinned, the switch-side set-up done), or -errno with why it could not start noted
 * (error_note). */
int delay_start(const char *lab, const struct lab_info *info);
/* Puts a set of delayed links in force: starts the delay line if it does not run and hands it
 * the set. 0, or -errno with the reason noted; a delay line that died meanwhile is cleared. */
int delay_apply(const char *lab, const struct lab_info *info, const struct delay_set *set);
/* Stops the delay line and removes every trace of it (program, sockets, the extra port, static
 * FDB entries, pins, pid file); restores TX checksum offload on the nodes. Idempotent, also
 * after a crash of the delay line. `lab_alive` false when the lab is about to be removed
 * anyway (only pins and files then). */
int delay_stop(const char *lab, const struct lab_info *info, bool lab_alive);

/* The configured links (empty, 0, when the delay line never ran). */
int delay_links_read(const char *lab, struct delay_set *set);
/* Replaces the configured links and waits (up to 2 s) until the delay line applied them. */
int delay_links_write(const char *lab, const struct delay_set *set);
/* Sets (or, when delay, jitter and rate are all 0, removes) one link of the set. */
int delay_set_put(struct delay_set *set, uint16_t src, uint16_t dst,
		  const struct capnet_delay_params *p);
/* Why the delay line last stopped, from its log ("" if it does not say). */
void delay_last_error(const char *lab, char *buf, size_t len);
/* The delay line's counters: -ENOENT when it does not run. */
int delay_stats_read(const char *lab, struct capnet_delay_stats *st);

struct out_printer;
/* The delay line's section of `capnet status`, text or JSON (lib/out_print.h): the member
 * "delay_line" (null when it does not run), or its text lines. */
void delay_status_print(struct out_printer *p, const char *lab);

/* Parsers for the CLI: "20ms", "1.5s", "250us", "0"; "10mbit", "512kbit", "1gbit", "9600bit". */
int delay_parse_time_ns(const char *text, uint64_t *ns);
int delay_parse_rate_bps(const char *text, uint64_t *bps);
/* "1->2 20ms +-5ms normal 10mbit reorder" */
void delay_link_format(const struct delay_link *l, char *buf, size_t len);
/* "uniform", "normal" or "exponential"; delay_dist_parse is its inverse (0 or -EINVAL). */
const char *delay_dist_name(uint32_t dist);
int delay_dist_parse(const char *text, uint32_t *dist);

/* The delay line itself (internal command `capnet _delay-line`): runs in the switch namespace
 * until SIGTERM; reports readiness or the first error on ready_fd. */
int delay_line_main(const char *lab, int ready_fd);
/* The internal command: `capnet --lab L _delay-line --ready-fd N`. */
struct cli;
int cmd_delay_line(struct cli *cli, int argc, char **argv);
#define DELAY_LINE_COMMAND "_delay-line"

/* Switch-side set-up, in the switch namespace (the calling thread must be in it). */
int delay_setup_ports(const char *lab, unsigned int nodes, int *dl_ifindex);
/* Undoes delay_setup_ports; quiet about what is already gone. */
void delay_teardown_ports(const char *lab, unsigned int nodes);
/* TX checksum offload of every node's eth0 (SIOCETHTOOL ETHTOOL_STXCSUM). */
int delay_node_txcsum(const char *lab, unsigned int nodes, bool on);

#endif /* CAPNET_DELAY_LINE_H */
