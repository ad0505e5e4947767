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

/* A policy copy holds layers: layer 0 decides every frame; layers 1..CAPNET_MAX_RULES are
 * per-service rules (`--only tcp:2380`), each a partition of its own that decides only the
 * frames its match names. A frame passes when no layer that applies to it blocks it. */
#define CAPNET_MAX_RULES 8
#define CAPNET_LAYERS (1 + CAPNET_MAX_RULES)
/* Matches per copy: the rules' own (index = rule - 1) and the ones impairments scope to. */
#define CAPNET_MAX_MATCHES 16
#define CAPNET_MATCH_TERMS 8

enum capnet_match_kind {
	CAPNET_MATCH_ETHERTYPE = 1, /* value: the ethertype (arp: 0x0806) */
	CAPNET_MATCH_IP_PROTO = 2, /* ip_proto over IPv4 or IPv6; value: a port (0: any) */
	CAPNET_MATCH_ICMP = 3, /* ICMP over IPv4 or ICMPv6 over IPv6 */
};

/* One SPEC of --only / --except: tcp:2380 is { IP_PROTO, 6, 2380 }. A port matches as source
 * or destination, so a service's replies to an ephemeral port match with it. */
struct capnet_match_term {
	__u8 kind;
	__u8 ip_proto;
	__u16 value;
};

/* A frame matches when any term does; `negate` (--except) turns that round. */
struct capnet_match {
	__u32 negate;
	__u32 count;
	struct capnet_match_term term[CAPNET_MATCH_TERMS];
};

/* Interface indexes of the switch namespace that node_of_port covers: the switch holds lo, br0,
 * one port per node and the delay line's port, numbered from 1 as they were made. */
#define CAPNET_PORT_SLOTS 4096

/* A wildcard node in impairment keys: `capnet link all all`. */
#define CAPNET_ANY_NODE 0

/* skb->mark bit that tells a duplicate (a clone we made) from an original. */
#define CAPNET_DUP_MARK 0xcafe0001u
/* skb->mark of an ARP reply the switch made for a node (capnet_arp): the egress filter passes it
 * as it is, since no node sent it. */
#define CAPNET_ARP_MARK 0xcafe0002u

/* Seeded loss mixes the frame's identity and the seed with splitmix64's finaliser: cheap,
 * and every input bit reaches every output bit. */
static inline __u64 capnet_mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Why a frame was dropped (drop_event.reason, and the counter it went to). */
enum capnet_verdict {
	CAPNET_PASS = 0,
	CAPNET_DROP_PARTITION = 1,
	CAPNET_DROP_LOSS = 2,
	CAPNET_DUPLICATED = 3,
	CAPNET_CORRUPTED = 4, /* passed with one bit flipped */
};

/* The one element of the `control` map: which policy copy is in force. Kept alone in its map
 * so a flip is a single aligned 4-byte store, atomic for every link at once. A lab across hosts
 * schedules its flip instead: from the CLOCK_TAI instant flip_at_tai_ns on, `pending` is in
 * force, on every host at the same instant, with no syscall at that moment; user space then
 * makes it `active` and clears flip_at_tai_ns, in that order (the filter reads them in the
 * other), so no frame is ever judged by the old copy after the instant. */
struct capnet_control {
	__u32 active;
	__u32 pending;
	__u64 flip_at_tai_ns; /* 0: no flip scheduled */
};

/* Per policy copy, written with the copy before the flip that makes it active. */
struct capnet_policy_meta {
	__u64 generation; /* bumped by every switch; stamped on drop events */
	__u64 flip_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) time of the flip */
	__u32 groups; /* groups in use in layer 0 of this copy */
	__u32 impaired; /* 1 if any link of this copy has loss, duplication or corruption */
	__u32 rules; /* rule layers in use: 1..rules */
	__u32 rule_groups[CAPNET_MAX_RULES]; /* groups in use in each rule layer */
	/* CLOCK_TAI of the first frame this copy judged, written by the filter (0 until then):
	 * where the hosts of a lab switch at one instant, how soon after it each one's data path
	 * acted on the new copy, and so the spread of the switch between hosts. */
	__u64 taken_tai_ns;
};

/* Key of the `impair` hash: a directed link in one policy copy; CAPNET_ANY_NODE matches all. */
struct capnet_link_key {
	__u16 copy;
	__u16 src;
	__u16 dst;
	__u16 pad;
};

/* capnet_impairment.flags */
#define CAPNET_IMPAIR_SEEDED 1u /* loss decided by a keyed hash of the frame, not at random */
#define CAPNET_IMPAIR_FIX_CSUM 2u /* corruption fixes the L4 checksum: the data arrives changed */

struct capnet_impairment {
	__u32 loss_ppm; /* parts per million of frames dropped */
	__u32 dup_ppm; /* parts per million of frames sent twice */
	__u32 corrupt_ppm; /* parts per million of frames with one payload bit flipped */
	__u32 match; /* 0: every frame; else 1 + the index of its match in rule_match */
	__u32 flags;
	__u32 pad;
	__u64 seed; /* the key of seeded loss */
};

/* Frames passed on a directed link: the array `link_passed`, one __u64 per link at index
 * (src - 1) * nodes + (dst - 1), shared by the CPUs (atomic adds). Dense because it is touched
 * by every frame (an array lookup is inlined; a hash lookup costs more than the rest of the
 * program); 8 bytes per link whatever the CPUs: 0.5 MB at 250 nodes, 8 MB at 1000. */
static inline __u32 capnet_link_index(__u32 nodes, __u32 src, __u32 dst)
{
	return (src - 1) * nodes + (dst - 1);
}

/* Key of the `link_drops` hash (shared by the CPUs, atomic adds): a directed link (src, dst)
 * by node id. An entry is made
 * on a link's first drop or duplicate, a path that pays for a ring event anyway. */
struct capnet_stats_key {
	__u16 src;
	__u16 dst;
};

struct capnet_link_drops {
	__u64 dropped_partition;
	__u64 dropped_loss;
	__u64 duplicated;
	__u64 corrupted;
};

/* A link's counters as user space reports them: the two maps above, read together. */
struct capnet_link_stats {
	__u64 passed;
	__u64 dropped_partition;
	__u64 dropped_loss;
	__u64 duplicated;
	__u64 corrupted;
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
#define CAPNET_LAB_META_VERSION 6

#define CAPNET_EVENT_PAYLOAD 32

/* capnet_drop_event.flags: the loss was decided by the link's seed. */
#define CAPNET_EVENT_SEEDED 1u

/* One per dropped (or corrupted) frame, through the `drop_events` ring buffer. */
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
	__u8 rule; /* the layer that dropped it: 0 for every frame, else the rule */
	__u8 flags; /* CAPNET_EVENT_SEEDED; for CAPNET_CORRUPTED, the bit flipped (0..15) << 4 */
	__u16 corrupt_off; /* CAPNET_CORRUPTED: offset in the frame of the 16-bit word changed */
	__u16 corrupt_was; /* CAPNET_CORRUPTED: that word as sent (network order) */
	__u32 pad;
	__u8 payload[CAPNET_EVENT_PAYLOAD]; /* start of the L4 payload */
};

#endif /* CAPNET_PARTITION_H */
