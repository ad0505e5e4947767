/* SPDX-License-Identifier: GPL-2.0-only */
/* capctl load against a lab across hosts: the clients of node N run inside node N on its own
 * host (a share of the run per host, capctl itself started there over ssh), each host stamps its
 * lines on its CLOCK_TAI, and the controller merges them into one history, every line corrected
 * by its host's measured offset and carrying its bound ε (docs/history-format.md). */
#ifndef CAPNET_LOAD_HOSTS_H
#define CAPNET_LOAD_HOSTS_H

#include "netem/hosts/hosts.h"
#include "tools/capctl/workload.h"

/* 0 with its record in *lh when lab spans hosts (its controller is here); -ENOENT when it does
 * not; -EINVAL after saying why when its record is unreadable. */
int load_hosts_lab(const char *lab, struct lab_hosts *lh);

/* Runs cfg (its nodes, clients, workload; cfg->history unused) across the hosts of lh and writes
 * the merged history to path. 0 with st filled, or -errno after saying why, naming the host. */
int load_across_hosts(const struct workload_config *cfg, const struct lab_hosts *lh,
		      const char *path, struct workload_stats *st);

/* What capctl said on a host: its exit status (255 when ssh failed), its standard output
 * (malloc'd, NUL-terminated; free it), the end of its standard error, and that end's last line. */
struct host_capctl {
	int status;
	char *out;
	size_t out_len;
	char err[2048];
	char why[512];
};

/* Runs `capctl --lab LAB ARGS` (args: safe words) on host h as a share of a load is run, input
 * (NULL: none) on its standard input so that a secret is on no command line, and waits for it.
 * Its first lead_lines lines of output go to lead() as each comes, until one returns false:
 * that line and the rest are its output. 0 with r filled, or -errno when it could not be
 * started or its output not kept. */
int capctl_on_host(const char *lab, const struct host_dest *h, const char *args, const char *input,
		   unsigned int lead_lines, bool (*lead)(const char *line, void *ctx), void *ctx,
		   struct host_capctl *r);

/* Where the digits of a history line's "time" are: 0 with [*at, *end), or -EINVAL. */
int history_time_digits(const char *line, size_t len, size_t *at, size_t *end);

#endif /* CAPNET_LOAD_HOSTS_H */
