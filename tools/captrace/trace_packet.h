/* SPDX-License-Identifier: GPL-2.0-only */
/* One captured Ethernet frame, taken apart as far as captrace needs: which lab nodes it goes
 * between (by MAC), its IPv4 header fields, its UDP/TCP ports and checksum, and, for a capnet
 * datagram, its message header. Pure: no I/O. */
#ifndef CAPNET_TRACE_PACKET_H
#define CAPNET_TRACE_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "node/proto.h"

#define TRACE_ETH_IPV4 0x0800
#define TRACE_ETH_IPV6 0x86dd

struct trace_packet {
	uint16_t src_node; /* by source MAC 02:ca:fe:00:hi:lo, 0 if not a node's */
	uint16_t dst_node; /* by destination MAC, 0 if not a node's (broadcast, multicast) */
	uint16_t ethertype;
	uint8_t ip_proto; /* IPv4 only; 0 otherwise */
	uint32_t saddr, daddr; /* network order */
	uint16_t ip_id;
	uint16_t sport, dport;
	uint16_t l4_csum; /* as on the wire (network order bytes read big-endian) */
	bool has_l4; /* sport, dport and l4_csum are valid */
	bool capnet; /* a UDP payload starting with the capnet magic and version */
	struct proto_header hdr; /* valid if capnet */
	const uint8_t *payload; /* the L4 payload as captured */
	uint32_t payload_len;
};

/* Fills *p from a frame of caplen bytes. 0 for an IPv4 frame (a fragment other than the first
 * has no L4 fields), -ENOENT for anything else (src_node, dst_node and ethertype still set when
 * the Ethernet header was captured), -EBADMSG when the IPv4 header is cut short or wrong. */
int trace_packet_parse(const uint8_t *frame, uint32_t caplen, struct trace_packet *p);

/* The node a lab MAC names (02:ca:fe:00:hi:lo, 1..CAPNET_MAX_NODES), else 0. */
unsigned int trace_mac_node(const uint8_t mac[6]);

#endif /* CAPNET_TRACE_PACKET_H */
