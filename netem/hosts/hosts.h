/* SPDX-License-Identifier: GPL-2.0-only */
/* A lab across hosts, the pure parts: the list of hosts (`--hosts`), which node lives on which
 * host (`--place`, or contiguous blocks), and the two-phase switch that makes every host take a
 * new policy at one instant. No I/O, no clock: the callers (netem/cmd) run SSH and read clocks. */
#ifndef CAPNET_HOSTS_H
#define CAPNET_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#include "netem/policy/spec.h"

/* More hosts than this is more SSH connections than one controller should hold open. */
#define HOSTS_MAX 64
/* "local": this machine, reached without SSH. */
#define HOST_LOCAL "local"

/* One SSH destination, `[user@]host[:port]`, or `local`. An IPv6 address with a port is
 * written in brackets: `[fd00::2]:2222`. */
struct host_dest {
	char dest[256]; /* as the user wrote it: what `--place` and messages name */
	char user[64]; /* "" when not given: ssh's own default (its config, then the login) */
	char host[192]; /* name or address, without brackets */
	unsigned int port; /* 0 when not given: ssh's own default */
	bool local;
};

struct host_list {
	unsigned int count;
	struct host_dest host[HOSTS_MAX];
};

/* `--hosts h1,root@h2:2222,local`. Fails on an empty entry, a bad user, host or port, the same
 * host twice (the same name and port, whoever logs in) and `local` twice. */
int hosts_parse_list(const char *text, struct host_list *out, struct spec_error *err);
/* The text of `--hosts @FILE`: one destination a line; blank lines and lines starting with '#'
 * are skipped, as are spaces around a destination. The same checks as hosts_parse_list. */
int hosts_parse_file(const char *text, struct host_list *out, struct spec_error *err);
/* The index of `name` in the list (its dest as written, or its bare host when that is unique
 * in the list), or -1. */
int hosts_find(const struct host_list *hosts, const char *name);
/* The ssh destination argument: "user@host" or "host" (the port goes in -p). */
int host_ssh_target(const struct host_dest *h, char *buf, size_t len);

/* Which host holds each node: host_of[i] indexes the host list. Every node has exactly one
 * host and every host at least one node. */
struct placement {
	unsigned int nodes;
	unsigned int hosts;
	uint8_t host_of[CAPNET_NODE_SLOTS]; /* slot 0 unused */
};

/* The default: contiguous blocks as even as can be, the first hosts taking one node more
 * (12 nodes on 3 hosts: 1-4, 5-8, 9-12; 5 on 2: 1-3, 4-5). Fails when there are more hosts
 * than nodes. */
int placement_blocks(unsigned int nodes, unsigned int hosts, struct placement *out,
		     struct spec_error *err);
/* `--place 1-3@h1,4-12@h2` (node sets as `capnet partition` reads them, "1,3@h1,2@h2" too).
 * Fails on a host not in the list, a node placed twice, a node left unplaced, a host left
 * without nodes, or junk. */
int placement_parse(const char *text, const struct host_list *hosts, unsigned int nodes,
		    struct placement *out, struct spec_error *err);
/* The nodes of one host. */
void placement_nodes_of(const struct placement *p, unsigned int host, struct node_set *out);
/* "1-4@h1,5-8@h2": placement_parse reads it back. Returns the length (snprintf rules). */
int placement_format(const struct placement *p, const struct host_list *hosts, char *buf,
		     size_t len);

/* What the controller records of a lab across hosts, in its run directory: enough for every
 * later command to reach each host's share. LAB_HOSTS_RECORD is its name among the lab's
 * records (netem/lab/lab_record.h). */
#define LAB_HOSTS_RECORD "hosts"
struct lab_hosts {
	unsigned int nodes;
	char subnet[32]; /* "10.77.0.0/16" */
	uint32_t vni;
	unsigned int mtu; /* of every node's eth0: the narrowest underlay's less VXLAN's */
	struct host_list hosts;
	struct placement place;
};

/* "nodes 6\nsubnet ...\nvni ...\nmtu ...\nhosts h1,h2\nplace 1-3@h1,4-6@h2\n"; the length
 * (snprintf rules). */
int lab_hosts_format(const struct lab_hosts *lh, char *buf, size_t len);
/* The inverse; fails on anything else, with the checks of --hosts and --place. */
int lab_hosts_parse(const char *text, struct lab_hosts *out, struct spec_error *err);
/* The record of lab, when this machine is its controller: 0, -ENOENT when the lab does not
 * span hosts (or is not here), -EINVAL with error_note() when the record is unreadable. */
int lab_hosts_read(const char *lab, struct lab_hosts *lh);

/* The two-phase switch. Every host is asked to prepare (write the new policy into its idle
 * copy, report its current generation, its clock's offset bound and how long the round trip
 * took); only when all have prepared does the controller commit, telling every host the same
 * CLOCK_TAI instant at which its filter takes the new copy. One failure aborts: no host
 * switches, and the abort names the host. */
enum host_phase {
	HOST_PENDING = 0,
	HOST_PREPARED,
	HOST_FAILED,
};

struct switch_plan {
	unsigned int hosts;
	enum host_phase phase[HOSTS_MAX];
	uint64_t generation[HOSTS_MAX]; /* each host's generation before the switch */
	uint64_t round_trip_ns[HOSTS_MAX]; /* the prepare's round trip, as the controller saw it */
	uint64_t offset_bound_ns[HOSTS_MAX]; /* |host clock - true time| <= this, as it reported */
	char why[HOSTS_MAX][160]; /* what a failed host said */
};

/* The least time between the commit's sending and the instant it names, whatever the round
 * trips measured: a host must read the commit before the instant passes. */
#define SWITCH_MIN_LEAD_NS (2 * 1000 * 1000ull)

void switch_plan_start(struct switch_plan *plan, unsigned int hosts);
void switch_plan_prepared(struct switch_plan *plan, unsigned int host, uint64_t generation,
			  uint64_t round_trip_ns, uint64_t offset_bound_ns);
void switch_plan_failed(struct switch_plan *plan, unsigned int host, const char *why);

enum switch_decision {
	SWITCH_WAIT, /* some host has not answered yet */
	SWITCH_COMMIT, /* every host prepared: take the new copy at flip_at */
	SWITCH_ABORT, /* a host failed: no host takes it */
};

struct switch_commit {
	uint64_t generation; /* one more than the highest any host holds, the same on all */
	uint64_t flip_at_tai_ns; /* the instant, on CLOCK_TAI */
	unsigned int failed_host; /* SWITCH_ABORT: the first host that failed */
};

/* What to do now, the controller's CLOCK_TAI being now_tai_ns. The instant is far enough ahead
 * for the slowest host to read the commit (twice its round trip, at least SWITCH_MIN_LEAD_NS)
 * plus the widest clock offset bound, so that no host's clock has passed it on arrival. */
enum switch_decision switch_plan_decide(const struct switch_plan *plan, uint64_t now_tai_ns,
					struct switch_commit *out);

/* The controller's record of the last switch, written before any host is told to commit and
 * again once the hosts answered: a controller killed between commits leaves it, so a host that
 * did not take its commit is found by comparing the generation it holds with the one here. */
struct switch_record {
	unsigned int hosts;
	uint64_t flip_at_tai_ns; /* the instant, on the controller's CLOCK_TAI */
	uint64_t generation[HOSTS_MAX]; /* what each host was told to take: it should hold it */
	int64_t tai_shift_ns[HOSTS_MAX]; /* each host's instant is flip_at plus this, in its TAI */
	bool confirmed[HOSTS_MAX]; /* the host answered that it took the commit */
	char command[16]; /* partition, cut, heal or link; "" in an older record */
	char partition[1024]; /* the partition it switches to, as partition_format writes it */
	bool logged; /* its line is in the controller's fault log */
};

/* The record as text, lines "flip_at N", "generations G...", "tai_shifts S...", "confirmed
 * 0|1...", "logged 0|1", "command NAME", "partition TEXT" (the rest of its line): 0, or
 * -E2BIG when len is too small. */
int switch_record_format(const struct switch_record *r, char *buf, size_t len);
/* The record of a lab of `hosts` hosts from its text: 0 or -EINVAL. */
int switch_record_parse(const char *text, unsigned int hosts, struct switch_record *r);
/* The first host whose generation in force (known[h]: it answered) is not the one it was told,
 * the hosts having been asked no later than asked_tai_ns (the controller's CLOCK_TAI): a switch
 * whose instant had not come yet lets a host hold the generation before it. HOSTS_MAX when
 * every host that answered holds what it should. */
unsigned int switch_record_first_astray(const struct switch_record *r, const bool *known,
					const uint64_t *in_force, uint64_t asked_tai_ns);

#endif /* CAPNET_HOSTS_H */
