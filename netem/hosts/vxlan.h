/* SPDX-License-Identifier: GPL-2.0-only */
/* The data plane of a lab across hosts: the switch bridge of each host joined to the others'
 * through one unicast kernel VXLAN device, with a static forwarding entry for every node on
 * another host; nothing flooded, nothing learned. */
#ifndef CAPNET_VXLAN_H
#define CAPNET_VXLAN_H

#include <stdint.h>

#include "netem/policy/spec.h"

#define VXLAN_PORT 4789
/* What VXLAN adds to each frame over IPv4: outer IP 20, UDP 8, VXLAN 8, inner Ethernet 14. */
#define VXLAN_OVERHEAD 50
#define VXLAN_DEV "vx0"

/* One VNI per lab, from its name: two labs on the same hosts never share one but by a 24-bit
 * hash collision, which the kernel refuses (EEXIST) and `up` reports. */
uint32_t vxlan_lab_vni(const char *lab);

/* Creates vx0 (VNI vni, UDP VXLAN_PORT from local_ip, host order, of the calling thread's
 * namespace: the underlay) in the lab's switch namespace, as a port of its bridge with
 * learning and flooding off, MTU mtu, and for every node i with remote_ip[i] != 0 a forwarding
 * entry: its MAC to that host, in vx0 and in the bridge. 0 or -errno, message left. */
int vxlan_join(const char *lab, uint32_t vni, uint32_t local_ip, unsigned int mtu,
	       unsigned int nodes, const uint32_t *remote_ip);

/* The MTU of the interface that holds address ip (host order) in the calling thread's
 * namespace; 0 if none does. */
unsigned int vxlan_underlay_mtu(uint32_t ip);

#endif /* CAPNET_VXLAN_H */
