/* SPDX-License-Identifier: GPL-2.0-only */
/* What the partition filter shares with user space: limits, map layouts, the drop event. */
#ifndef CAPNET_PARTITION_H
#define CAPNET_PARTITION_H

/* Node ids run from 1; slot 0 stays unused so a node id indexes directly. */
#define CAPNET_MAX_NODES 1000
#define CAPNET_NODE_SLOTS 1024
/* Groups: one per partition side, plus extra ones that one-way cuts split off. */
#define CAPNET_MAX_GROUPS 1024
/* The reach matrix is a bit per (from group, to group), packed in u64 words. */
#define CAPNET_REACH_WORDS (CAPNET_MAX_GROUPS * CAPNET_MAX_GROUPS / 64)

/* Policies are double-buffered: user space fills the idle copy, then flips `active`. */
#define CAPNET_POLICY_COPIES 2

/* Interface indexes of the switch namespace that node_of_port covers: the switch holds lo, br0,
 * one port per node and the delay line's port, numbered from 1 as they were made. */
#define CAPNET_PORT_SLOTS 4096

/* A wildcard node in impairment keys: `capnet link all all`. */
#define CAPNET_ANY_NODE 0

/* skb->mark bit that tells a duplicate (a clone we made) from an original. */
#define CAPNET_DUP_MARK 0xcafe0001u

/* Why a frame was dropped (drop_event.reason, and the counter it went to). */
enum capnet_verdict {
	CAPNET_PASS = 0,
	CAPNET_DROP_PARTITION = 1,
	CAPNET_DROP_LOSS = 2,
	CAPNET_DUPLICATED = 3,
};

/* The one element of the `control` map: which policy copy is in force. Kept alone in its map
 * so a flip is a single aligned 4-byte store, atomic for every link at once. */
struct capnet_control {
	__u32 active;
};

/* Per policy copy, written with the copy before the flip that makes it active. */
struct capnet_policy_meta {
	__u64 generation; /* bumped by every switch; stamped on drop events */
	__u64 flip_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) time of the flip */
	__u32 groups; /* groups in use in this copy */
	__u32 impaired; /* 1 if any link of this copy has loss or duplication */
};

/* Key of the `impair` hash: a directed link in one policy copy; CAPNET_ANY_NODE matches all. */
struct capnet_link_key {
	__u16 copy;
	__u16 src;
	__u16 dst;
	__u16 pad;
};

struct capnet_impairment {
	__u32 loss_ppm; /* parts per million of frames dropped */
	__u32 dup_ppm; /* parts per million of frames sent twice */
};

/* Frames passed on a directed link: the per-CPU array `link_passed`, one __u64 per link at
 * index (src - 1) * nodes + (dst - 1). Dense because it is touched by every frame (an array
 * lookup is inlined; a hash lookup costs more than the rest of the program); 8 bytes per link per
 * CPU: 0.5 MB per CPU at 250 nodes, 8 MB at 1000. */
static inline __u32 capnet_link_index(__u32 nodes, __u32 src, __u32 dst)
{
	return (src - 1) * nodes + (dst - 1);
}

/* Key of the per-CPU `link_drops` hash: a directed link (src, dst) by node id. An entry is made
 * on a link's first drop or duplicate, a path that pays for a ring event anyway. */
struct capnet_stats_key {
	__u16 src;
	__u16 dst;
};

struct capnet_link_drops {
	__u64 dropped_partition;
	__u64 dropped_loss;
	__u64 duplicated;
};

/* A link's counters as user space reports them: the two maps above, summed over CPUs. */
struct capnet_link_stats {
	__u64 passed;
	__u64 dropped_partition;
	__u64 dropped_loss;
	__u64 duplicated;
};

/* Filter-wide counters (per-CPU array, one element). */
struct capnet_global_stats {
	__u64 unknown_src; /* frames whose source MAC is no node's: passed, counted */
	__u64 ring_overflow; /* drop events lost because the ring buffer was full */
	__u64 dup_failed; /* duplications the kernel refused */
};

/* The lab's shape, for user space: pinned with the maps so every invocation rediscovers it. */
struct capnet_lab_meta {
	__u32 version; /* CAPNET_LAB_META_VERSION */
	__u32 nodes;
	__u32 subnet; /* host order */
	__u32 prefix;
	__u32 whole; /* 1 once `up` finished: every port filtered; commands refuse a lab without */
};
#define CAPNET_LAB_META_VERSION 3

#define CAPNET_EVENT_PAYLOAD 32

/* One per dropped frame, through the `drop_events` ring buffer. */
struct capnet_drop_event {
	__u64 time_ns; /* bpf_ktime_get_ns() */
	__u64 generation;
	__u16 src;
	__u16 dst;
	__u8 reason; /* enum capnet_verdict */
	__u8 ip_proto;
	__u16 ethertype; /* host order */
	__u32 saddr[4]; /* network order; IPv4 in saddr[0] */
	__u32 daddr[4];
	__u16 sport; /* host order */
	__u16 dport;
	__u16 ip_id; /* IPv4 identification, host order (0 for IPv6) */
	__u16 l4_csum; /* UDP/TCP checksum as on the wire */
	__u32 len; /* frame length */
	__u16 payload_len; /* bytes of payload[] that are valid */
	__u16 pad;
	__u8 payload[CAPNET_EVENT_PAYLOAD]; /* start of the L4 payload */
};

#endif /* CAPNET_PARTITION_H */
