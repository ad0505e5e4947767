/* SPDX-License-Identifier: GPL-2.0-only */
/* What the delay line's XDP program shares with user space: which links are delayed and how,
 * and the delay line's own state and counters. */
#ifndef CAPNET_DELAY_H
#define CAPNET_DELAY_H

/* Sockets are indexed by source node id, as in the partition filter (slot 0 unused). */
#define CAPNET_DELAY_SLOTS 1024
#define CAPNET_DELAY_MAX_LINKS 65536

/* A wildcard node in delay keys, as in the partition filter's impairments. */
#define CAPNET_DELAY_ANY 0

enum capnet_delay_dist {
	CAPNET_DIST_UNIFORM = 0,
	CAPNET_DIST_NORMAL = 1,
	/* delay - jitter + an exponential draw of mean jitter: with jitter = delay, exponential
	 * latencies of mean delay, as Maelstrom's --latency-dist exponential. */
	CAPNET_DIST_EXPONENTIAL = 2,
};

/* Key of the `delay_links` hash: a directed link; CAPNET_DELAY_ANY matches every node. */
/* What the XDP program puts in front of a frame it hands to the delay line (XDP metadata, copied
 * into the socket's buffer with the frame): when the frame arrived, so that its delay counts
 * from then and not from when the delay line woke up to take it. */
struct capnet_delay_meta {
	__u64 arrived_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 magic; /* CAPNET_DELAY_META_MAGIC; the delay line clears it after reading */
	__u32 pad;
};
#define CAPNET_DELAY_META_MAGIC 0xde1a7ed0u

struct capnet_delay_key {
	__u16 src;
	__u16 dst;
};

struct capnet_delay_params {
	__u64 delay_ns;
	__u64 jitter_ns; /* uniform: +-jitter; normal: standard deviation */
	__u64 rate_bps; /* 0: no rate limit */
	__u32 dist; /* enum capnet_delay_dist */
	__u32 reorder; /* 1: jitter may reorder frames of the link */
};

/* Written by the CLI after it changed `delay_links`: the delay line rereads the links when the
 * generation moves. Mmapable, so the delay line checks it without a syscall. */
struct capnet_delay_conf {
	__u64 generation;
};

/* Written only by the delay line (mmapable): what `capnet status` shows. */
struct capnet_delay_stats {
	__u64 pid;
	__u64 started_ns; /* CLOCK_MONOTONIC */
	__u64 heartbeat_ns; /* last loop, CLOCK_MONOTONIC */
	__u64 generation; /* the configuration generation in force */
	__u64 links; /* delayed directed links (a wildcard counts once) */
	__u64 sources; /* ports with the XDP program and a socket */
	__u64 received; /* frames taken from the sockets */
	__u64 queued; /* frames waiting now */
	__u64 sent; /* frames written back into the bridge */
	__u64 dropped_full; /* frames the kernel could not queue: no free buffer (queue full) */
	__u64 dropped_send; /* frames the re-injection port refused */
	__u64 late_max_ns; /* worst lateness of a send after its due time */
};

#endif /* CAPNET_DELAY_H */
