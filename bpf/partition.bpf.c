// SPDX-License-Identifier: GPL-2.0-only
/* The partition filter: one tc program at egress of every switch port, deciding for each frame
 * between two nodes whether it passes, is dropped by the partition, or is lost at random.
 *
 * Why egress of the switch port (frames *to* node i leave the bridge through p<i>):
 *  - the sender cannot tell: the frame left its eth0 normally, so no ENOBUFS, no IP_RECVERR;
 *  - the receiver's capture cannot see it: the frame is gone before it crosses the veth, while
 *    a drop at the receiver's ingress would still show in its capture (taps run before tc);
 *  - flooded frames (ARP, IPv6 multicast) are cloned per port first, so each destination is
 *    decided on its own.
 * The destination is the port's node; the source is found by its MAC, so ARP, IPv6 and any
 * other ethertype are cut exactly like IPv4. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/partition.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_HLEN 14
#define ETH_ALEN 6
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

char LICENSE[] SEC("license") = "GPL";

/* Which policy copy is in force: the one word a switch writes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capnet_control);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_POLICY_COPIES);
	__type(key, __u32);
	__type(value, struct capnet_policy_meta);
} policy_meta SEC(".maps");

/* [copy * CAPNET_NODE_SLOTS + node] -> group */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_POLICY_COPIES *CAPNET_NODE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} group_of SEC(".maps");

/* [copy * CAPNET_REACH_WORDS + word]: bit (from * CAPNET_MAX_GROUPS + to) set = from reaches to */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_POLICY_COPIES *CAPNET_REACH_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} reach SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct capnet_link_key);
	__type(value, struct capnet_impairment);
} impair SEC(".maps");

/* Source MAC (low 48 bits, in wire byte order) -> node id, for MACs outside the lab's own
 * 02:ca:fe:00:<hi>:<lo> pattern, which is decoded without a lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CAPNET_NODE_SLOTS);
	__type(key, __u64);
	__type(value, __u32);
} node_of_mac SEC(".maps");

/* Switch port ifindex -> the node behind it (0: not a node's port). An array, not a hash: it is
 * read for every frame. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_PORT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} node_of_port SEC(".maps");

/* Frames passed, per link (capnet_link_index); user space sizes it to nodes^2. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} link_passed SEC(".maps");

/* Created on a link's first drop or duplicate: few links ever have one. User space sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct capnet_stats_key);
	__type(value, struct capnet_link_drops);
} link_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capnet_global_stats);
} global_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} drop_events SEC(".maps");

/* The lab's shape: its node count bounds node ids and lays out link_passed; it also lets a later
 * capnet invocation rediscover the lab from the pins. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capnet_lab_meta);
} lab_meta SEC(".maps");

static __always_inline struct capnet_global_stats *global(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&global_stats, &zero);
}

/* The sender of a frame: the lab's MACs carry the node id (02:ca:fe:00:<hi>:<lo>), so the
 * common case needs no hash lookup; any other MAC is looked up. 0: not a node of this lab. */
static __always_inline __u32 source_node(const struct ethhdr *eth, __u32 nodes)
{
	const unsigned char *m = eth->h_source;
	__u64 mac = 0;
	__u32 *found;

	if (m[0] == 0x02 && m[1] == 0xca && m[2] == 0xfe && m[3] == 0x00)
		return (__u32)m[4] << 8 | m[5];
	__builtin_memcpy(&mac, m, ETH_ALEN);
	found = bpf_map_lookup_elem(&node_of_mac, &mac);
	return found && *found <= nodes ? *found : 0;
}

static __always_inline struct capnet_link_drops *link_drop_counters(__u32 src, __u32 dst)
{
	struct capnet_stats_key key = { .src = src, .dst = dst };
	struct capnet_link_drops *d, zero = {};

	d = bpf_map_lookup_elem(&link_drops, &key);
	if (d)
		return d;
	bpf_map_update_elem(&link_drops, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&link_drops, &key);
}

/* Most specific impairment first: the link itself, then its source, its destination, all. */
static __always_inline struct capnet_impairment *link_impairment(__u32 copy, __u32 src, __u32 dst)
{
	struct capnet_link_key key = { .copy = copy, .src = src, .dst = dst };
	struct capnet_impairment *imp;

	imp = bpf_map_lookup_elem(&impair, &key);
	if (imp)
		return imp;
	key.dst = CAPNET_ANY_NODE;
	imp = bpf_map_lookup_elem(&impair, &key);
	if (imp)
		return imp;
	key.src = CAPNET_ANY_NODE;
	key.dst = dst;
	imp = bpf_map_lookup_elem(&impair, &key);
	if (imp)
		return imp;
	key.dst = CAPNET_ANY_NODE;
	return bpf_map_lookup_elem(&impair, &key);
}

/* True with probability ppm / 1e6; the multiply avoids the bias of a modulo. */
static __always_inline bool chance(__u32 ppm)
{
	return ppm && (((__u64)bpf_get_prandom_u32() * 1000000) >> 32) < ppm;
}

static __always_inline void fill_l4(struct __sk_buff *skb, struct capnet_drop_event *ev,
				    __u32 l4_off)
{
	__u16 ports[2];
	__u16 csum;
	__u8 doff;
	__u32 payload_off, avail;

	if (ev->ip_proto != IPPROTO_UDP && ev->ip_proto != IPPROTO_TCP)
		return;
	if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)))
		return;
	ev->sport = bpf_ntohs(ports[0]);
	ev->dport = bpf_ntohs(ports[1]);
	if (ev->ip_proto == IPPROTO_UDP) {
		if (!bpf_skb_load_bytes(skb, l4_off + 6, &csum, sizeof(csum)))
			ev->l4_csum = bpf_ntohs(csum);
		payload_off = l4_off + 8;
	} else {
		if (!bpf_skb_load_bytes(skb, l4_off + 16, &csum, sizeof(csum)))
			ev->l4_csum = bpf_ntohs(csum);
		if (bpf_skb_load_bytes(skb, l4_off + 12, &doff, sizeof(doff)))
			return;
		payload_off = l4_off + (doff >> 4) * 4;
	}
	if (payload_off >= skb->len)
		return;
	avail = skb->len - payload_off;
	if (avail >= CAPNET_EVENT_PAYLOAD) {
		if (!bpf_skb_load_bytes(skb, payload_off, ev->payload, CAPNET_EVENT_PAYLOAD))
			ev->payload_len = CAPNET_EVENT_PAYLOAD;
		return;
	}
	/* A short payload: the verifier wants a length it can bound from both sides, and clang
	 * would drop a plain mask it can prove redundant, so the mask is spelled in asm. */
	{
		__u64 n = avail;

		asm volatile("%[n] &= 0x1f" : [n] "+r"(n));
		if (n && !bpf_skb_load_bytes(skb, payload_off, ev->payload, n))
			ev->payload_len = n;
	}
}

static __always_inline void report_drop(struct __sk_buff *skb, __u32 src, __u32 dst, __u8 reason,
					__u64 generation, __u16 ethertype)
{
	struct capnet_drop_event *ev;
	struct capnet_global_stats *g;

	ev = bpf_ringbuf_reserve(&drop_events, sizeof(*ev), 0);
	if (!ev) {
		g = global();
		if (g)
			g->ring_overflow++;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = bpf_ktime_get_ns();
	ev->generation = generation;
	ev->src = src;
	ev->dst = dst;
	ev->reason = reason;
	ev->ethertype = ethertype;
	ev->len = skb->len;

	if (ethertype == ETH_P_IP) {
		struct iphdr iph;

		if (!bpf_skb_load_bytes(skb, ETH_HLEN, &iph, sizeof(iph))) {
			ev->ip_proto = iph.protocol;
			ev->saddr[0] = iph.saddr;
			ev->daddr[0] = iph.daddr;
			ev->ip_id = bpf_ntohs(iph.id);
			/* Only a first fragment carries the L4 header. */
			if (!(iph.frag_off & bpf_htons(0x1fff)))
				fill_l4(skb, ev, ETH_HLEN + (iph.ihl & 0xf) * 4);
		}
	} else if (ethertype == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (!bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6))) {
			ev->ip_proto = ip6.nexthdr;
			__builtin_memcpy(ev->saddr, &ip6.saddr, 16);
			__builtin_memcpy(ev->daddr, &ip6.daddr, 16);
			fill_l4(skb, ev, ETH_HLEN + sizeof(ip6));
		}
	}
	bpf_ringbuf_submit(ev, 0);
}

SEC("tc")
int capnet_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct capnet_link_drops *drops;
	struct capnet_lab_meta *lab;
	struct capnet_control *ctl;
	struct capnet_policy_meta *meta;
	struct capnet_impairment *imp;
	struct capnet_global_stats *g;
	__u32 *dst_p, *gsrc, *gdst;
	__u32 key, ifindex, src, dst, copy, bit;
	__u64 *word, *passed;
	__u16 ethertype;
	__u8 reason;

	/* Our own duplicate coming round again: it was decided and counted as its original. */
	if (skb->mark == CAPNET_DUP_MARK) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;

	ifindex = skb->ifindex;
	dst_p = bpf_map_lookup_elem(&node_of_port, &ifindex);
	key = 0;
	lab = bpf_map_lookup_elem(&lab_meta, &key);
	if (!dst_p || !lab || !*dst_p || *dst_p > lab->nodes)
		return TC_ACT_OK;
	dst = *dst_p;
	src = source_node(eth, lab->nodes);
	/* Within the lab's size: a forged MAC of a node that does not exist decides nothing. */
	if (!src || src > lab->nodes) {
		g = global();
		if (g)
			g->unknown_src++;
		return TC_ACT_OK;
	}
	/* Saved now: a clone below invalidates every pointer into the packet. */
	ethertype = bpf_ntohs(eth->h_proto);

	key = capnet_link_index(lab->nodes, src, dst);
	passed = bpf_map_lookup_elem(&link_passed, &key);

	key = 0;
	ctl = bpf_map_lookup_elem(&control, &key);
	if (!ctl)
		return TC_ACT_OK;
	/* Read once: every lookup below must use the same copy, even if a flip lands now. */
	copy = READ_ONCE(ctl->active) & 1;
	meta = bpf_map_lookup_elem(&policy_meta, &copy);
	if (!meta)
		return TC_ACT_OK;

	key = copy * CAPNET_NODE_SLOTS + (src & (CAPNET_NODE_SLOTS - 1));
	gsrc = bpf_map_lookup_elem(&group_of, &key);
	key = copy * CAPNET_NODE_SLOTS + (dst & (CAPNET_NODE_SLOTS - 1));
	gdst = bpf_map_lookup_elem(&group_of, &key);
	if (!gsrc || !gdst)
		return TC_ACT_OK;
	bit = (*gsrc & (CAPNET_MAX_GROUPS - 1)) * CAPNET_MAX_GROUPS +
	      (*gdst & (CAPNET_MAX_GROUPS - 1));
	key = copy * CAPNET_REACH_WORDS + bit / 64;
	word = bpf_map_lookup_elem(&reach, &key);
	if (!word)
		return TC_ACT_OK;

	reason = CAPNET_PASS;
	if (!((*word >> (bit % 64)) & 1)) {
		reason = CAPNET_DROP_PARTITION;
	} else if (meta->impaired) {
		imp = link_impairment(copy, src, dst);
		if (imp && chance(imp->loss_ppm)) {
			reason = CAPNET_DROP_LOSS;
		} else if (imp && chance(imp->dup_ppm)) {
			skb->mark = CAPNET_DUP_MARK;
			if (bpf_clone_redirect(skb, ifindex, 0) == 0) {
				drops = link_drop_counters(src, dst);
				if (drops)
					drops->duplicated++;
			} else {
				g = global();
				if (g)
					g->dup_failed++;
			}
			skb->mark = 0;
		}
	}

	if (reason == CAPNET_PASS) {
		if (passed)
			(*passed)++;
		return TC_ACT_OK;
	}
	drops = link_drop_counters(src, dst);
	if (drops) {
		if (reason == CAPNET_DROP_PARTITION)
			drops->dropped_partition++;
		else
			drops->dropped_loss++;
	}
	report_drop(skb, src, dst, reason, meta->generation, ethertype);
	return TC_ACT_SHOT;
}
