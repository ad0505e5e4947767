/* SPDX-License-Identifier: GPL-2.0-only */
/* What `capnet start`, `stop`, `kill`, `pause`, `resume` and `restart` did, as one summary: its
 * line of text, its JSON line, that JSON read back, and the sum of several. A lab across hosts
 * runs the command on every host's share and adds up their summaries, so the one report says
 * what a lab on one host would. Pure: no I/O. */
#ifndef CAPNET_NODES_REPORT_H
#define CAPNET_NODES_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "netem/policy/spec.h"

struct nodes_report {
	char command[16]; /* start, stop, kill, pause, resume, restart */
	char service[64]; /* start: the service started ("capnode" for --mode) */
	char mode[8]; /* start --mode: cp or ap; else "" */
	char dir[512]; /* start: where its logs and data are */
	unsigned int started, failed; /* start */
	struct node_set already; /* start: left running by an earlier start */
	struct node_set hit; /* the others: the nodes acted on */
	char names[256]; /* stop ... resume: the services signalled, ", " between */
};

/* One line (with its '\n'), text or JSON; the length (snprintf rules). */
int nodes_report_format(const struct nodes_report *r, const char *lab, bool json, char *buf,
			size_t len);
/* The JSON line of nodes_report_format; -EINVAL when it is not one. */
int nodes_report_parse(const char *text, struct nodes_report *out);
/* Adds `more` into `sum`: counts added, node sets joined, service names joined once each; the
 * first summary's command, service, mode and dir stay. */
void nodes_report_add(struct nodes_report *sum, const struct nodes_report *more);
/* Adds one service name to r->names, once. */
void nodes_report_add_name(struct nodes_report *r, const char *name);

#endif /* CAPNET_NODES_REPORT_H */
