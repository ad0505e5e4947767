// SPDX-License-Identifier: GPL-2.0-only
/* Taking captured frames apart: Ethernet, IPv4, UDP or TCP, and the capnet header. */
#include <errno.h>
#include <string.h>

#include <linux/types.h>

#include "bpf/partition.h"
#include "tools/captrace/trace_packet.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

unsigned int trace_mac_node(const uint8_t mac[6])
{
	unsigned int node;

	if (mac[0] != 0x02 || mac[1] != 0xca || mac[2] != 0xfe || mac[3] != 0x00)
		return 0;
	node = (unsigned int)mac[4] << 8 | mac[5];
	return node >= 1 && node <= CAPNET_MAX_NODES ? node : 0;
}

int trace_packet_parse(const uint8_t *frame, uint32_t caplen, struct trace_packet *p)
{
	const uint8_t *ip, *l4;
	uint32_t ihl, tot, l4len, off = 14;
	uint16_t frag;

	memset(p, 0, sizeof(*p));
	if (caplen < 14)
		return -ENOENT;
	p->dst_node = trace_mac_node(frame);
	p->src_node = trace_mac_node(frame + 6);
	p->ethertype = be16(frame + 12);
	if (p->ethertype == 0x8100 && caplen >= 18) {
		p->ethertype = be16(frame + 16);
		off = 18;
	}
	if (p->ethertype != TRACE_ETH_IPV4)
		return -ENOENT;
	if (caplen < off + 20)
		return -EBADMSG;
	ip = frame + off;
	ihl = (ip[0] & 0x0f) * 4u;
	tot = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || caplen < off + ihl || tot < ihl)
		return -EBADMSG;
	p->ip_proto = ip[9];
	p->ip_id = be16(ip + 4);
	memcpy(&p->saddr, ip + 12, 4);
	memcpy(&p->daddr, ip + 16, 4);
	frag = be16(ip + 6);
	if (frag & 0x1fff)
		return 0; /* a later fragment: no L4 header of its own */
	l4 = ip + ihl;
	/* The L4 part is what both the IP length and the capture allow. */
	l4len = tot - ihl;
	if (l4len > caplen - off - ihl)
		l4len = caplen - off - ihl;
	if (p->ip_proto == 17 && l4len >= 8) {
		p->sport = be16(l4);
		p->dport = be16(l4 + 2);
		p->l4_csum = be16(l4 + 6);
		p->has_l4 = true;
		p->payload = l4 + 8;
		p->payload_len = l4len - 8;
		if (!proto_peek(p->payload, p->payload_len, &p->hdr))
			p->capnet = true;
	} else if (p->ip_proto == 6 && l4len >= 20) {
		uint32_t doff = (l4[12] >> 4) * 4u;

		p->sport = be16(l4);
		p->dport = be16(l4 + 2);
		p->l4_csum = be16(l4 + 16);
		p->has_l4 = true;
		if (doff >= 20 && doff <= l4len) {
			p->payload = l4 + doff;
			p->payload_len = l4len - doff;
		}
	}
	return 0;
}
