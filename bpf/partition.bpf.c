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
#define ETH_P_ARP 0x0806
#define BPF_F_MARK_MANGLED_0 (1ULL << 5)
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

/* [(copy * CAPNET_LAYERS + layer) * CAPNET_NODE_SLOTS + node] -> group */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_POLICY_COPIES *CAPNET_LAYERS *CAPNET_NODE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} group_of SEC(".maps");

/* [(copy * CAPNET_LAYERS + layer) * CAPNET_REACH_WORDS + word]: bit (from * CAPNET_MAX_GROUPS
 * + to) set = from reaches to */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_POLICY_COPIES *CAPNET_LAYERS *CAPNET_REACH_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} reach SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct capnet_link_key);
	__type(value, struct capnet_impairment);
} impair SEC(".maps");

/* [copy * CAPNET_MAX_MATCHES + i]: what rule i + 1, or an impairment scoped to match i + 1,
 * applies to. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPNET_POLICY_COPIES *CAPNET_MAX_MATCHES);
	__type(key, __u32);
	__type(value, struct capnet_match);
} rule_match SEC(".maps");

/* Seeded loss: how often a frame of this identity (hash) was seen, so that a retransmission,
 * identical to its original, is decided anew and a replay sees the same sequence. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} seen_frames SEC(".maps");

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

/* Frames passed, per link (capnet_link_index); user space sizes it to nodes^2. One slot per
 * link shared by every CPU, added to atomically: a per-CPU slot would make it CPUs x nodes^2
 * (512 MB at 1,000 nodes on 64 CPUs), and one link's frames mostly come from one sender, so
 * its cache line seldom moves between CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} link_passed SEC(".maps");

/* Created on a link's first drop or duplicate: few links ever have one. User space sizes it.
 * Shared by every CPU and added to atomically, like link_passed: its memory grows with the
 * links that drop, not with them times the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
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

/* What --only and --except look at, and seeded loss hashes: parsed once, when first needed. */
struct frame_id {
	__u32 parsed;
	__u16 corrupt_was; /* the word corrupt_frame changed, as sent */
	__u16 csum_was; /* the L4 checksum as sent, host order (0: none read) */
	__u32 is_ip;
	__u32 ip_proto;
	__u32 has_ports;
	__u32 l4_off; /* 0: no L4 header here (not IP, or a later fragment) */
	__u16 sport, dport;
	__u32 saddr[4], daddr[4];
};

/* Returns where the L4 payload starts in the frame (0: no payload read). */
static __always_inline __u32 fill_l4(struct __sk_buff *skb, struct capnet_drop_event *ev,
				     __u32 l4_off)
{
	__u16 ports[2];
	__u16 csum;
	__u8 doff;
	__u32 payload_off, avail;

	if (ev->ip_proto != IPPROTO_UDP && ev->ip_proto != IPPROTO_TCP)
		return 0;
	if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)))
		return 0;
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
			return 0;
		payload_off = l4_off + (doff >> 4) * 4;
	}
	if (payload_off >= skb->len)
		return 0;
	avail = skb->len - payload_off;
	if (avail >= CAPNET_EVENT_PAYLOAD) {
		if (!bpf_skb_load_bytes(skb, payload_off, ev->payload, CAPNET_EVENT_PAYLOAD))
			ev->payload_len = CAPNET_EVENT_PAYLOAD;
		return payload_off;
	}
	/* A short payload: the verifier wants a length it can bound from both sides, and clang
	 * would drop a plain mask it can prove redundant, so the mask is spelled in asm. */
	{
		__u64 n = avail;

		asm volatile("%[n] &= 0x1f" : [n] "+r"(n));
		if (n && !bpf_skb_load_bytes(skb, payload_off, ev->payload, n))
			ev->payload_len = n;
	}
	return payload_off;
}

/* A corrupted frame's event shows the frame as it was sent, so that it names the message a
 * capture of the sender saw (captrace); corrupt_off and the bit say what changed. */
static __always_inline void event_as_sent(struct capnet_drop_event *ev, const struct frame_id *f,
					  __u32 payload_off)
{
	__u32 i;

	if (f->csum_was)
		ev->l4_csum = f->csum_was;
	if (!payload_off || ev->corrupt_off < payload_off)
		return;
	i = ev->corrupt_off - payload_off;
	if (i + 2 > ev->payload_len || i > CAPNET_EVENT_PAYLOAD - 2)
		return;
	ev->payload[i & (CAPNET_EVENT_PAYLOAD - 1)] = f->corrupt_was & 0xff;
	ev->payload[(i + 1) & (CAPNET_EVENT_PAYLOAD - 1)] = f->corrupt_was >> 8;
}

/* Headers are read in place when they are in the linear part of the frame (always, for what a
 * socket of the lab sends): a bounds check instead of a helper call per header. */
static __always_inline int read_hdr(struct __sk_buff *skb, __u32 off, void *buf, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (off < 128 && data + off + len <= data_end) {
		__builtin_memcpy(buf, data + (off & 127), len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, buf, len);
}

/* A function of its own (global: the verifier checks it once, not at every call). */
__noinline int frame_parse_once(struct __sk_buff *skb, __u32 ethertype, struct frame_id *f)
{
	__u16 ports[2];

	if (!f)
		return 0;
	f->parsed = 1;
	if (ethertype == ETH_P_IP) {
		struct iphdr iph;

		if (read_hdr(skb, ETH_HLEN, &iph, sizeof(iph)))
			return 0;
		f->is_ip = 1;
		f->ip_proto = iph.protocol;
		f->saddr[0] = iph.saddr;
		f->daddr[0] = iph.daddr;
		if (iph.frag_off & bpf_htons(0x1fff))
			return 0;
		f->l4_off = ETH_HLEN + (iph.ihl & 0xf) * 4;
	} else if (ethertype == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (read_hdr(skb, ETH_HLEN, &ip6, sizeof(ip6)))
			return 0;
		f->is_ip = 1;
		f->ip_proto = ip6.nexthdr;
		__builtin_memcpy(f->saddr, &ip6.saddr, 16);
		__builtin_memcpy(f->daddr, &ip6.daddr, 16);
		f->l4_off = ETH_HLEN + sizeof(ip6);
	} else {
		return 0;
	}
	if ((f->ip_proto == IPPROTO_TCP || f->ip_proto == IPPROTO_UDP) &&
	    !read_hdr(skb, f->l4_off, ports, sizeof(ports))) {
		f->has_ports = 1;
		f->sport = bpf_ntohs(ports[0]);
		f->dport = bpf_ntohs(ports[1]);
	}
	return 0;
}

static __always_inline void frame_parse(struct __sk_buff *skb, __u16 ethertype, struct frame_id *f)
{
	if (!f->parsed)
		frame_parse_once(skb, ethertype, f);
}

static __always_inline bool term_matches(const struct capnet_match_term *t, __u16 ethertype,
					 const struct frame_id *f)
{
	switch (t->kind) {
	case CAPNET_MATCH_ETHERTYPE:
		return ethertype == t->value;
	case CAPNET_MATCH_ICMP:
		return f->is_ip && f->ip_proto == (ethertype == ETH_P_IP ? IPPROTO_ICMP : 58);
	case CAPNET_MATCH_IP_PROTO:
		if (!f->is_ip || f->ip_proto != t->ip_proto)
			return false;
		return !t->value ||
		       (f->has_ports && (f->sport == t->value || f->dport == t->value));
	}
	return false;
}

/* Whether match index i (0-based) of the copy applies to the frame. */
static __always_inline bool frame_matches(struct __sk_buff *skb, __u32 copy, __u32 i,
					  __u16 ethertype, struct frame_id *f)
{
	struct capnet_match *m;
	__u32 key = copy * CAPNET_MAX_MATCHES + (i & (CAPNET_MAX_MATCHES - 1)), t;
	bool hit = false;

	m = bpf_map_lookup_elem(&rule_match, &key);
	if (!m)
		return false;
	frame_parse(skb, ethertype, f);
	for (t = 0; t < CAPNET_MATCH_TERMS; t++) {
		if (t >= m->count)
			break;
		if (term_matches(&m->term[t], ethertype, f)) {
			hit = true;
			break;
		}
	}
	return hit != !!m->negate;
}

/* Whether layer `layer` of the copy lets src reach dst. */
static __always_inline bool layer_reaches(__u32 copy, __u32 layer, __u32 src, __u32 dst)
{
	__u32 base = copy * CAPNET_LAYERS + layer, key, bit, *gsrc, *gdst;
	__u64 *word;

	key = base * CAPNET_NODE_SLOTS + (src & (CAPNET_NODE_SLOTS - 1));
	gsrc = bpf_map_lookup_elem(&group_of, &key);
	key = base * CAPNET_NODE_SLOTS + (dst & (CAPNET_NODE_SLOTS - 1));
	gdst = bpf_map_lookup_elem(&group_of, &key);
	if (!gsrc || !gdst)
		return true;
	bit = (*gsrc & (CAPNET_MAX_GROUPS - 1)) * CAPNET_MAX_GROUPS +
	      (*gdst & (CAPNET_MAX_GROUPS - 1));
	key = base * CAPNET_REACH_WORDS + bit / 64;
	word = bpf_map_lookup_elem(&reach, &key);
	return !word || ((*word >> (bit % 64)) & 1);
}

/* A keyed hash of what makes a frame the frame it is, whoever sends it when: addresses,
 * protocol, ports, length and the first payload bytes. Not the IP id or checksums, which a
 * rerun draws anew, nor TCP sequence numbers (random per connection). */
static __always_inline __u64 frame_identity(struct __sk_buff *skb, __u16 ethertype,
					    struct frame_id *f)
{
	__u64 words[4] = {};
	__u32 payload_off, i;
	__u8 doff;
	__u64 h;

	frame_parse(skb, ethertype, f);
	h = capnet_mix64((__u64)ethertype << 32 | skb->len);
	h = capnet_mix64(h ^ ((__u64)f->ip_proto << 32 | (__u32)f->sport << 16 | f->dport));
	for (i = 0; i < 4; i++)
		h = capnet_mix64(h ^ ((__u64)f->saddr[i] << 32 | f->daddr[i]));
	if (!f->l4_off)
		return h;
	payload_off = f->l4_off;
	if (f->ip_proto == IPPROTO_UDP) {
		payload_off += 8;
	} else if (f->ip_proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, f->l4_off + 12, &doff, 1))
			return h;
		payload_off += (doff >> 4) * 4;
	}
	/* Whole words only, so short payloads need no length the verifier cannot bound; the
	 * length, hashed above, tells a short payload from a long one. */
	for (i = 0; i < 4; i++) {
		if (payload_off + 8 * (i + 1) > skb->len)
			break;
		if (bpf_skb_load_bytes(skb, payload_off + 8 * i, &words[i], 8))
			break;
		h = capnet_mix64(h ^ words[i]);
	}
	return h;
}

/* Seeded loss: the frame's identity, the seed and how often this identity was seen decide. */
static __always_inline bool seeded_chance(struct __sk_buff *skb, __u16 ethertype,
					  struct frame_id *f, const struct capnet_impairment *imp)
{
	__u64 id = frame_identity(skb, ethertype, f) ^ imp->seed, h;
	__u32 *count, one = 1, n = 0;

	count = bpf_map_lookup_elem(&seen_frames, &id);
	if (count) {
		n = READ_ONCE(*count);
		__sync_fetch_and_add(count, 1);
	} else
		bpf_map_update_elem(&seen_frames, &id, &one, BPF_ANY);
	h = capnet_mix64(id ^ capnet_mix64(imp->seed + n));
	return imp->loss_ppm && (((h >> 32) * 1000000) >> 32) < imp->loss_ppm;
}

/* Flips one random bit of the frame's L4 payload (after the UDP or TCP header; for other IP
 * protocols anywhere after the IP header). The checksum is left stale, so the receiver's stack
 * drops the frame, or (CAPNET_IMPAIR_FIX_CSUM) mended, so the data reaches the application.
 * 0 when a bit was flipped; its word's offset and the bit in *off and *bit. */
static __always_inline int corrupt_frame(struct __sk_buff *skb, __u16 ethertype, struct frame_id *f,
					 bool fix_csum, __u32 *off, __u32 *bit)
{
	__u32 payload_off, csum_off, words, r;
	__u16 old, new;
	__u8 doff;
	__u64 flags = 2;

	frame_parse(skb, ethertype, f);
	if (!f->l4_off)
		return -1;
	payload_off = f->l4_off;
	if (f->ip_proto == IPPROTO_UDP) {
		payload_off += 8;
		csum_off = f->l4_off + 6;
		flags |= BPF_F_MARK_MANGLED_0;
	} else if (f->ip_proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, f->l4_off + 12, &doff, 1))
			return -1;
		payload_off += (doff >> 4) * 4;
		csum_off = f->l4_off + 16;
	} else if (f->ip_proto == IPPROTO_ICMP || f->ip_proto == 58) {
		csum_off = f->l4_off + 2;
	} else {
		fix_csum = false;
		csum_off = 0;
	}
	if (payload_off + 2 > skb->len)
		return -1;
	words = (skb->len - payload_off) / 2;
	r = bpf_get_prandom_u32();
	*off = payload_off + 2 * (r % words);
	*bit = bpf_get_prandom_u32() & 15;
	if (bpf_skb_load_bytes(skb, *off, &old, 2))
		return -1;
	f->corrupt_was = old;
	if (csum_off && (f->ip_proto == IPPROTO_UDP || f->ip_proto == IPPROTO_TCP)) {
		__u16 c;

		if (!bpf_skb_load_bytes(skb, csum_off, &c, 2))
			f->csum_was = bpf_ntohs(c);
	}
	new = old ^ bpf_htons(1 << *bit);
	if (bpf_skb_store_bytes(skb, *off, &new, 2, 0))
		return -1;
	if (fix_csum)
		bpf_l4_csum_replace(skb, csum_off, old, new, flags);
	return 0;
}

static __always_inline void report_drop(struct __sk_buff *skb, __u32 src, __u32 dst, __u8 reason,
					__u64 generation, __u16 ethertype, __u8 rule, __u8 flags,
					__u16 corrupt_off, const struct frame_id *f)
{
	struct capnet_drop_event *ev;
	struct capnet_global_stats *g;
	__u32 payload_off = 0;

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
	ev->rule = rule;
	ev->flags = flags;
	ev->corrupt_off = corrupt_off;
	ev->corrupt_was = f->corrupt_was;
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
				payload_off = fill_l4(skb, ev, ETH_HLEN + (iph.ihl & 0xf) * 4);
		}
	} else if (ethertype == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (!bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6))) {
			ev->ip_proto = ip6.nexthdr;
			__builtin_memcpy(ev->saddr, &ip6.saddr, 16);
			__builtin_memcpy(ev->daddr, &ip6.daddr, 16);
			payload_off = fill_l4(skb, ev, ETH_HLEN + sizeof(ip6));
		}
	}
	if (reason == CAPNET_CORRUPTED)
		event_as_sent(ev, f, payload_off);
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
	__u64 flip_at;
	struct capnet_policy_meta *meta;
	struct capnet_impairment *imp;
	struct capnet_global_stats *g;
	struct frame_id f = {};
	__u32 *dst_p, key, ifindex, src, dst, copy, r, off = 0, bit = 0;
	__u64 *passed;
	__u16 ethertype;
	__u8 reason, rule = 0, flags = 0;

	/* Our own duplicate coming round again: it was decided and counted as its original. */
	if (skb->mark == CAPNET_DUP_MARK) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	/* The switch's answer to a node's ARP request: not a frame between nodes. */
	if (skb->mark == CAPNET_ARP_MARK) {
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
	/* Read once: every lookup below must use the same copy, even if a flip lands now. A
	 * scheduled flip (a lab across hosts) is read first: see struct capnet_control. */
	flip_at = READ_ONCE(ctl->flip_at_tai_ns);
	if (flip_at && bpf_ktime_get_tai_ns() >= flip_at)
		copy = READ_ONCE(ctl->pending) & 1;
	else
		copy = READ_ONCE(ctl->active) & 1;
	meta = bpf_map_lookup_elem(&policy_meta, &copy);
	if (!meta)
		return TC_ACT_OK;
	/* Once per copy: frames on other CPUs at the same moment may each write their own time,
	 * all of them first to within those frames. */
	if (!READ_ONCE(meta->taken_tai_ns))
		meta->taken_tai_ns = bpf_ktime_get_tai_ns();

	reason = CAPNET_PASS;
	if (!layer_reaches(copy, 0, src, dst))
		reason = CAPNET_DROP_PARTITION;
	/* Rules cost nothing until one is loaded; then only the frames they name pay for a
	 * partition lookup. */
	for (r = 0; r < CAPNET_MAX_RULES && reason == CAPNET_PASS; r++) {
		if (r >= meta->rules)
			break;
		if (frame_matches(skb, copy, r, ethertype, &f) &&
		    !layer_reaches(copy, r + 1, src, dst)) {
			reason = CAPNET_DROP_PARTITION;
			rule = r + 1;
		}
	}
	if (reason == CAPNET_PASS && meta->impaired) {
		imp = link_impairment(copy, src, dst);
		if (imp && imp->match && !frame_matches(skb, copy, imp->match - 1, ethertype, &f))
			imp = NULL;
		if (imp && (imp->flags & CAPNET_IMPAIR_SEEDED) ?
			    seeded_chance(skb, ethertype, &f, imp) :
			    imp && chance(imp->loss_ppm)) {
			reason = CAPNET_DROP_LOSS;
			if (imp->flags & CAPNET_IMPAIR_SEEDED)
				flags = CAPNET_EVENT_SEEDED;
		} else if (imp && chance(imp->corrupt_ppm) &&
			   !corrupt_frame(skb, ethertype, &f, imp->flags & CAPNET_IMPAIR_FIX_CSUM,
					  &off, &bit)) {
			reason = CAPNET_CORRUPTED;
			flags = bit << 4;
		}
		if (reason != CAPNET_DROP_LOSS && imp && chance(imp->dup_ppm)) {
			skb->mark = CAPNET_DUP_MARK;
			if (bpf_clone_redirect(skb, ifindex, 0) == 0) {
				drops = link_drop_counters(src, dst);
				if (drops)
					__sync_fetch_and_add(&drops->duplicated, 1);
			} else {
				g = global();
				if (g)
					g->dup_failed++;
			}
			skb->mark = 0;
		}
	}

	if (reason == CAPNET_PASS || reason == CAPNET_CORRUPTED) {
		if (passed)
			__sync_fetch_and_add(passed, 1);
		if (reason == CAPNET_PASS)
			return TC_ACT_OK;
	}
	drops = link_drop_counters(src, dst);
	if (drops) {
		if (reason == CAPNET_DROP_PARTITION)
			__sync_fetch_and_add(&drops->dropped_partition, 1);
		else if (reason == CAPNET_DROP_LOSS)
			__sync_fetch_and_add(&drops->dropped_loss, 1);
		else
			__sync_fetch_and_add(&drops->corrupted, 1);
	}
	report_drop(skb, src, dst, reason, meta->generation, ethertype, rule, flags, off, &f);
	return reason == CAPNET_CORRUPTED ? TC_ACT_OK : TC_ACT_SHOT;
}

/* An ARP packet for IPv4 over Ethernet, after the Ethernet header. */
struct arp_ipv4 {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

/* At ingress of every switch port, for ARP frames only (the filter is added with protocol arp,
 * so no other frame runs it): a node's request for another node's address is answered here, at
 * once, as a static ARP table on the switch would, whatever the partition. Nodes then keep no
 * entry per peer until they talk to it (a lab of N nodes had N(N-1) permanent ones), no request
 * is ever flooded to the other nodes, and a partition leaves no failed entry behind: the
 * sender still cannot tell a cut from a quiet peer. Any other ARP (a gratuitous one, a request
 * for an address no node has) goes on to the bridge, and the egress filter decides it. */
SEC("tc")
int capnet_arp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct arp_ipv4 *arp = (void *)(eth + 1);
	struct capnet_lab_meta *lab;
	__u8 mac[ETH_ALEN] = { 0x02, 0xca, 0xfe, 0x00 };
	__u32 key = 0, tip, node, mask;

	if ((void *)(arp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_ARP))
		return TC_ACT_OK;
	if (arp->hrd != bpf_htons(1) || arp->pro != bpf_htons(ETH_P_IP) || arp->hln != ETH_ALEN ||
	    arp->pln != 4 || arp->op != bpf_htons(1 /* request */))
		return TC_ACT_OK;
	lab = bpf_map_lookup_elem(&lab_meta, &key);
	if (!lab || lab->prefix < 1 || lab->prefix > 30)
		return TC_ACT_OK;
	tip = (__u32)arp->tpa[0] << 24 | (__u32)arp->tpa[1] << 16 | (__u32)arp->tpa[2] << 8 |
	      arp->tpa[3];
	mask = ~0u << (32 - lab->prefix);
	if ((tip & mask) != lab->subnet)
		return TC_ACT_OK;
	node = tip - lab->subnet;
	if (node < 1 || node > lab->nodes)
		return TC_ACT_OK;
	mac[4] = node >> 8;
	mac[5] = node & 0xff;
	/* The request turned round in place: to the asker, from the node asked about. */
	__builtin_memcpy(eth->h_dest, arp->sha, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	arp->op = bpf_htons(2 /* reply */);
	__builtin_memcpy(arp->tha, arp->sha, ETH_ALEN);
	__builtin_memcpy(arp->sha, mac, ETH_ALEN);
	{
		__u8 spa[4];

		__builtin_memcpy(spa, arp->spa, 4);
		__builtin_memcpy(arp->spa, arp->tpa, 4);
		__builtin_memcpy(arp->tpa, spa, 4);
	}
	skb->mark = CAPNET_ARP_MARK;
	/* Back out of the port it came in by, to the node that asked. */
	return bpf_redirect(skb->ifindex, 0);
}
