// SPDX-License-Identifier: GPL-2.0-only
/* The delay line's steering program: XDP at ingress of switch port p<src> (frames *from* node
 * src). A frame on a delayed link goes to the AF_XDP socket of its source port, where the delay
 * line holds it until it is due and then writes it back into the bridge; every other frame
 * passes to the bridge untouched.
 *
 * Why ingress of the source port, and no decision here: the partition filter at egress of the
 * destination port stays the one place where partition, loss and duplication are decided and
 * counted. A delayed frame meets it when it is re-injected, so a partition flipped while the
 * frame waited applies to it, exactly as on the fast path. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bpf/delay.h"

#define ETH_ALEN 6

char LICENSE[] SEC("license") = "GPL";

/* Nodes in the lab: destinations above it are not nodes and never delayed. */
const volatile __u32 lab_nodes = 0;
/* Whether this kernel lets XDP programs call bpf_xdp_adjust_meta (some builds do not): set by
 * the delay line from a probe, so the verifier never sees the call where it would refuse it. */
const volatile __u32 has_meta = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CAPNET_DELAY_MAX_LINKS);
	__type(key, struct capnet_delay_key);
	__type(value, struct capnet_delay_params);
} delay_links SEC(".maps");

/* Switch port ifindex -> the node behind it: the source is known by port, not by MAC, so a
 * frame always goes to the socket bound to the device it arrived on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CAPNET_DELAY_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} port_node SEC(".maps");

/* [src node] -> the AF_XDP socket bound to port p<src>, queue 0. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, CAPNET_DELAY_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct capnet_delay_conf);
} delay_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct capnet_delay_stats);
} delay_stats SEC(".maps");

/* Most specific first, as the partition filter's impairments: link, source, destination, all. */
static __always_inline bool link_delayed(__u32 src, __u32 dst)
{
	struct capnet_delay_key key = { .src = src, .dst = dst };

	if (bpf_map_lookup_elem(&delay_links, &key))
		return true;
	key.dst = CAPNET_DELAY_ANY;
	if (bpf_map_lookup_elem(&delay_links, &key))
		return true;
	key.src = CAPNET_DELAY_ANY;
	key.dst = dst;
	if (bpf_map_lookup_elem(&delay_links, &key))
		return true;
	key.dst = CAPNET_DELAY_ANY;
	return bpf_map_lookup_elem(&delay_links, &key) != NULL;
}

SEC("xdp")
int capnet_delay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 ifindex = ctx->ingress_ifindex, *src, dst;
	const __u8 *d;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	d = eth->h_dest;
	/* Node MACs are 02:ca:fe:00:<i/256>:<i%256>; broadcast and multicast are never delayed
	 * (they fan out in the bridge, and a node's unicast is what a protocol's timing rests on). */
	if (d[0] != 0x02 || d[1] != 0xca || d[2] != 0xfe || d[3] != 0x00)
		return XDP_PASS;
	dst = (__u32)d[4] << 8 | d[5];
	if (!dst || dst > lab_nodes)
		return XDP_PASS;
	src = bpf_map_lookup_elem(&port_node, &ifindex);
	if (!src || *src == dst || !link_delayed(*src, dst))
		return XDP_PASS;
	/* The arrival time goes with the frame. Without metadata (no room, or no helper) the
	 * delay line counts from when it takes the frame, as it always could. */
	if (has_meta && !bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct capnet_delay_meta))) {
		struct capnet_delay_meta *meta = (void *)(long)ctx->data_meta;

		if ((void *)(meta + 1) <= (void *)(long)ctx->data) {
			meta->arrived_ns = bpf_ktime_get_ns();
			meta->magic = CAPNET_DELAY_META_MAGIC;
			meta->pad = 0;
		}
	}
	/* No socket yet (the delay line is still attaching): the frame passes undelayed. */
	return bpf_redirect_map(&xsks, *src, XDP_PASS);
}
