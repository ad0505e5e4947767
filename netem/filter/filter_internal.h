/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the filter's user-space side: the pinned maps a reopened lab holds, shared by the
 * files of netem/filter/ (attach, policy, stats, events, whole-lab check) and by nothing else. */
#ifndef CAPNET_FILTER_INTERNAL_H
#define CAPNET_FILTER_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "netem/filter/filter.h"

#define PROG_PIN_NAME "capnet_egress"
#define ARP_PIN_NAME "capnet_arp"

/* Map names as pinned; the order matches the fds in struct filter. */
enum filter_map {
	FM_CONTROL,
	FM_POLICY_META,
	FM_GROUP_OF,
	FM_REACH,
	FM_IMPAIR,
	FM_NODE_OF_MAC,
	FM_NODE_OF_PORT,
	FM_LINK_PASSED,
	FM_LINK_DROPS,
	FM_GLOBAL_STATS,
	FM_DROP_EVENTS,
	FM_LAB_META,
	FM_RULE_MATCH,
	FM_SEEN_FRAMES,
	FM_COUNT
};

struct filter {
	char lab[LAB_NAME_MAX + 1];
	int fd[FM_COUNT];
	int lock_fd;
	struct ring_buffer *ring;
	int (*event_fn)(const struct capnet_drop_event *ev, void *ctx);
	void *event_ctx;
};

/* --explain: one map write as bpftool takes it, key and value as their bytes in memory order,
 * with what they mean. */
void filter_explain_update(const char *pin, const char *map, const void *key, size_t klen,
			   const void *value, size_t vlen, const char *meaning);
/* libbpf's messages, under -v only, through lib/report. */
int filter_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);
/* A fresh lab's policy: both copies healthy, copy 0 active (filter_policy.c). */
int filter_write_healthy(struct filter *f);
/* Whether tcx runs program prog_id at egress of port ifindex (filter_attach.c). */
bool filter_port_has_tcx(int ifindex, uint32_t prog_id);
/* The id of a program that tcx runs at ingress or egress of port ifindex other than own_id, 0
 * when there is none: tcx runs before clsact and its blocks, so such a program can pass what
 * the lab's filter would drop (filter_attach.c). */
uint32_t filter_port_tcx_other(int ifindex, uint32_t own_id);

#endif /* CAPNET_FILTER_INTERNAL_H */
