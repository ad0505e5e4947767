/* SPDX-License-Identifier: GPL-2.0-only */
/* The partition filter from user space: load it through its skeleton, attach it to every switch
 * port, pin its maps under /sys/fs/bpf/capnet/<lab>/, and later reopen the pins to switch
 * policies, read counters and follow drop events. */
#ifndef CAPNET_FILTER_H
#define CAPNET_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/partition.h"
#include "netem/policy/spec.h"
#include "netem/lab/topology.h"

#define CAPNET_BPFFS "/sys/fs/bpf"
#define CAPNET_PIN_ROOT CAPNET_BPFFS "/capnet"
#define CAPNET_MAX_IMPAIRMENTS 32768

/* One impaired directed link; CAPNET_ANY_NODE as src or dst stands for every node. */
struct link_impairment {
	uint16_t src;
	uint16_t dst;
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t corrupt_ppm;
	uint32_t flags; /* CAPNET_IMPAIR_SEEDED, CAPNET_IMPAIR_FIX_CSUM */
	uint64_t seed;
	struct capnet_match match; /* the frames it applies to; empty: every frame */
};

struct impairment_set {
	unsigned int count;
	struct link_impairment items[CAPNET_MAX_IMPAIRMENTS];
};

/* A per-service rule: a partition of its own that decides only the frames `match` names. */
struct filter_rule {
	struct capnet_match match;
	struct policy policy;
};

struct filter_rules {
	unsigned int count;
	struct filter_rule rule[CAPNET_MAX_RULES];
};

/* What the filter has in force: the active copy, read back. */
struct filter_state {
	struct capnet_lab_meta lab;
	struct capnet_policy_meta meta;
	unsigned int active;
	struct policy policy;
	struct filter_rules rules;
	struct impairment_set impairments;
};

struct filter;

/* Where the program hooks into a port's egress. All run it at the same point of the transmit
 * path; tcx (Linux 6.6) calls it directly, clsact through a qdisc and the cls_bpf classifier,
 * which costs more per frame (docs/how-it-works.md). With blocks, every port's clsact qdisc is
 * bound to two shared tc blocks (Linux 4.16) that hold the lab's one egress filter and one ARP
 * responder: `up` attaches two filters instead of two per port, and the whole-lab check reads
 * one qdisc dump and two filters instead of asking every port. tcx has no blocks. */
enum filter_hook {
	FILTER_HOOK_AUTO = 0, /* at up: blocks (tcx costs a grace period per port); read: none */
	FILTER_HOOK_TCX,
	FILTER_HOOK_CLSACT,
	FILTER_HOOK_BLOCKS,
};
const char *filter_hook_name(enum filter_hook hook);
/* "tcx", "clsact" or "blocks": 0, or -EINVAL. */
int filter_hook_parse(const char *text, enum filter_hook *hook);
/* Which hook runs program prog_id at egress of port ifindex of the current namespace;
 * FILTER_HOOK_AUTO when none does. */
enum filter_hook filter_port_hook(int ifindex, uint32_t prog_id);
/* Attaches / detaches program prog_fd at egress of port ifindex of the current namespace through
 * a hook of a port's own, tcx or clsact (FILTER_HOOK_AUTO: clsact). Both are idempotent. 0 or
 * -errno; they print nothing. */
int filter_port_attach(int ifindex, int prog_fd, enum filter_hook hook);
int filter_port_detach(int ifindex, int prog_fd, enum filter_hook hook);

/* The pin folder of a lab. */
void filter_pin_dir(const char *lab, char *buf, size_t len);
/* Loads the program, pins its maps, fills the node maps, sets a healthy policy, then attaches
 * to every port of the lab's switch namespace through cfg->filter_hook, and says which hook in
 * *used. Needs root. */
int filter_install(const struct lab_config *cfg, const struct lab_info *info,
		   enum filter_hook *used);
/* Removes the pins of a lab (the program goes with the ports). Idempotent. */
int filter_remove(const char *lab);
/* Reopens a lab's pinned maps: -ENOENT with no message if the lab has no pins. */
int filter_open(const char *lab, struct filter **out);
void filter_close(struct filter *f);

/* Serialises switches between concurrent capnet invocations of one lab. */
int filter_lock(struct filter *f);

int filter_read_state(struct filter *f, struct filter_state *st);
/* The partition the lab's filter holds now, as partition_format writes it, and how many rules
 * are loaded beside it: what a progress line shows. 0, or -errno with buf empty. */
int filter_partition_now(const char *lab, char *buf, size_t len, unsigned int *rules);
/* The same for either policy copy, active or idle (st->active says which is in force). */
int filter_read_copy(struct filter *f, unsigned int copy, struct filter_state *st);
/* How long a switch took: writing the idle copy, and the flip itself (one map update). */
struct filter_timing {
	uint64_t write_ns;
	uint64_t flip_ns;
};

/* Writes the idle copy (the policy for every frame, the rules, the impairments), then flips:
 * every link switches at once. Fills *meta with the new generation and flip time, and *timing
 * (if not NULL) with what each part cost. -E2BIG when rules and impairments name more than
 * CAPNET_MAX_MATCHES different matches. */
int filter_apply(struct filter *f, const struct policy *pol, const struct filter_rules *rules,
		 const struct impairment_set *imps, struct capnet_policy_meta *meta,
		 struct filter_timing *timing);

/* A lab across hosts switches in two phases. With flips deferred, filter_apply writes the idle
 * copy and stops there (the prepare); filter_schedule_flip then makes the copy of `generation`
 * take over at a CLOCK_TAI instant, in the filter itself (the commit): -ESTALE if the idle copy
 * is not that generation, -EBUSY if another switch is scheduled. filter_settle_flip makes a
 * passed flip the active copy: 0, or -EAGAIN before its instant. */
void filter_defer_flips(bool defer);
bool filter_flips_deferred(void);
int filter_schedule_flip(struct filter *f, uint64_t generation, uint64_t flip_at_tai_ns);
int filter_settle_flip(struct filter *f);
/* The copy in force now (a scheduled flip's once its instant has passed) and its meta: its
 * generation, and when the filter first judged a frame with it (taken_tai_ns). */
int filter_active_meta(struct filter *f, unsigned int *copy, struct capnet_policy_meta *meta);
/* The meta of either copy. */
int filter_read_meta(struct filter *f, unsigned int copy, struct capnet_policy_meta *meta);

/* Forgets how often each frame was seen, so seeded loss decides the next frames as it did
 * after `up`: a replay of the same traffic loses the same frames. */
int filter_seen_reset(struct filter *f);

/* Sums the per-CPU counters of every link seen so far; calls fn for each. */
int filter_for_each_link(struct filter *f,
			 int (*fn)(const struct capnet_stats_key *key,
				   const struct capnet_link_stats *stats, void *ctx),
			 void *ctx);
int filter_read_global(struct filter *f, struct capnet_global_stats *out);

/* Drop events: fn is called for each; returns what fn returns (non-zero stops the poll). */
int filter_events_poll(struct filter *f, int timeout_ms,
		       int (*fn)(const struct capnet_drop_event *ev, void *ctx), void *ctx);
int filter_events_fd(struct filter *f);
/* Consumes, without reporting, every event already waiting in the ring. */
int filter_events_discard(struct filter *f);

const char *verdict_name(enum capnet_verdict v);

/* Ports of the lab (in its switch namespace) whose egress runs the lab's pinned program; the
 * first port without it, and the hook of those with it. */
int filter_count_attached(const char *lab, const struct lab_info *info, unsigned int *ok,
			  unsigned int *first_missing, enum filter_hook *hook);
/* `up` calls this last: from now on the lab counts as whole. */
int filter_mark_whole(struct filter *f);
/* 0 when the lab is whole: `up` finished, with as many nodes as it was asked for, and the
 * filter is on every port. Else -EUCLEAN with the message left (lib/report.h) naming what is
 * missing and the command that rebuilds the lab. */
int filter_check_whole(struct filter *f, const struct lab_info *info);

#endif /* CAPNET_FILTER_H */
