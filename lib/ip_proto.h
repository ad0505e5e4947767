/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of IP protocol numbers as capnet prints them (watch, captrace). */
#ifndef CAPNET_IP_PROTO_H
#define CAPNET_IP_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* "tcp", "udp", "icmp", "icmpv6", or "ip-proto-<n>" written into buf. Not /etc/protocols: a
 * minimal system may lack it, and its names ("ipv6-icmp") are not the ones people read. */
const char *ip_proto_name(uint8_t proto, char *buf, size_t len);

#endif /* CAPNET_IP_PROTO_H */
