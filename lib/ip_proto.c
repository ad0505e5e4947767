// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "lib/ip_proto.h"

const char *ip_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	}
	snprintf(buf, len, "ip-proto-%u", proto);
	return buf;
}
