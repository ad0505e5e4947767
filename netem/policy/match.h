/* SPDX-License-Identifier: GPL-2.0-only */
/* --only and --except: which frames a rule or an impairment applies to. Parsed, compared and
 * written back here; the filter matches them (bpf/partition.bpf.c). Pure: no I/O, no clock. */
#ifndef CAPNET_MATCH_H
#define CAPNET_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "bpf/partition.h"
#include "netem/policy/spec.h"

/* "tcp:2380,udp:5000", "tcp", "udp", "icmp", "arp" or "ip:PROTO" (1..255): any of them
 * matches; with negate (--except) every other frame does. The terms are kept sorted and
 * without repeats, so two matches of the same frames compare equal. Fails on a port outside
 * 1..65535, an unknown protocol, an empty SPEC, or more than CAPNET_MATCH_TERMS of them. */
int match_parse(const char *text, bool negate, struct capnet_match *out, struct spec_error *err);
/* "only tcp:2380,udp:5000" or "except arp"; "" for the empty match (every frame). Returns the
 * length (snprintf rules). */
int match_format(const struct capnet_match *m, char *buf, size_t len);
/* The SPECs alone, as match_parse reads them: "tcp:2380,udp:5000". */
int match_format_specs(const struct capnet_match *m, char *buf, size_t len);
bool match_equal(const struct capnet_match *a, const struct capnet_match *b);
/* The empty match: every frame (what a command without --only or --except means). */
bool match_is_all(const struct capnet_match *m);

/* The --only / --except options of a command line: at most one of them, given once. */
struct match_opt {
	bool given;
	struct capnet_match match;
};
/* If argv[*i] is --only or --except, reads its value (argv[*i + 1]) into *opt, advances *i
 * and returns 1; returns 0 for any other argument, -1 (err filled) on bad input. */
int match_take_option(int argc, char **argv, int *i, struct match_opt *opt, struct spec_error *err);

#endif /* CAPNET_MATCH_H */
