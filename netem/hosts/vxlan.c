// SPDX-License-Identifier: GPL-2.0-only
/* vx0 in a lab's switch namespace, through libnl-route-3 as the rest of the lab. Its socket
 * stays in the namespace it was created from (the host's, which reaches the other hosts); the
 * device itself is born in the switch namespace. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include "lib/report.h"
#include "netem/explain.h"
#include "netem/hosts/vxlan.h"
#include "netem/lab/topology.h"

#define BRIDGE "br0"
/* Above every port's fixed index (2 + node), so it never takes one. */
#define VXLAN_IFINDEX (2 + CAPNET_MAX_NODES + 1)

uint32_t vxlan_lab_vni(const char *lab)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *lab; lab++)
		h = (h ^ (uint8_t)*lab) * 16777619u;
	h &= 0xffffff;
	return h ? h : 1;
}

static void ip_text(uint32_t ip, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = htonl(ip) };

	inet_ntop(AF_INET, &a, buf, len);
}

static int nl_fail(const char *what, const char *lab, int nlerr)
{
	error_note("lab %s: %s: %s", lab, what, nl_geterror(nlerr));
	return nlerr == -NLE_EXIST ? -EEXIST : -EIO;
}

/* Created from the host's namespace into the switch's. */
static int create_device(const char *lab, const char *sw, uint32_t vni, uint32_t local_ip,
			 unsigned int mtu)
{
	struct rtnl_link *link = rtnl_link_vxlan_alloc();
	uint32_t local_be = htonl(local_ip);
	struct nl_addr *local = nl_addr_build(AF_INET, &local_be, sizeof(local_be));
	struct nl_sock *sk = nl_socket_alloc();
	char local_str[INET_ADDRSTRLEN];
	int fd = netns_open(sw), err = -ENOMEM;

	if (!link || !local || !sk || fd < 0) {
		err = fd < 0 ? fd : err;
		error_note("lab %s: vxlan: %s", lab, strerror(-err));
		goto out;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		err = nl_fail("vxlan: netlink", lab, err);
		goto out;
	}
	rtnl_link_set_name(link, VXLAN_DEV);
	rtnl_link_set_ifindex(link, VXLAN_IFINDEX);
	rtnl_link_vxlan_set_id(link, vni);
	rtnl_link_vxlan_set_port(link, VXLAN_PORT);
	rtnl_link_vxlan_set_local(link, local);
	rtnl_link_vxlan_set_learning(link, 0);
	rtnl_link_set_mtu(link, mtu);
	rtnl_link_set_ns_fd(link, fd);
	ip_text(local_ip, local_str, sizeof(local_str));
	explain("ip link add %s index %u mtu %u netns %s type vxlan id %u dstport %d local %s "
		"nolearning",
		VXLAN_DEV, VXLAN_IFINDEX, mtu, sw, vni, VXLAN_PORT, local_str);
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (err < 0)
		err = nl_fail("create " VXLAN_DEV " (is the vxlan module there?)", lab, err);
out:
	if (fd >= 0)
		close(fd);
	nl_socket_free(sk);
	nl_addr_put(local);
	rtnl_link_put(link);
	return err;
}

/* In the switch namespace: vx0 a port of br0, up, learning and every kind of flooding off. */
static int attach_to_bridge(struct nl_sock *sk, const char *lab, const char *sw)
{
	struct rtnl_link *vx = NULL, *br = NULL, *change = rtnl_link_alloc();
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = VXLAN_IFINDEX };
	struct nl_msg *msg = NULL;
	struct nlattr *info;
	int err;

	if (!change)
		return -ENOMEM;
	err = rtnl_link_get_kernel(sk, 0, BRIDGE, &br);
	if (err >= 0)
		err = rtnl_link_get_kernel(sk, VXLAN_IFINDEX, NULL, &vx);
	if (err < 0) {
		err = nl_fail("find " BRIDGE " and " VXLAN_DEV, lab, err);
		goto out;
	}
	rtnl_link_set_master(change, rtnl_link_get_ifindex(br));
	rtnl_link_set_flags(change, IFF_UP);
	explain("ip -n %s link set %s master %s up", sw, VXLAN_DEV, BRIDGE);
	err = rtnl_link_change(sk, vx, change, 0);
	if (err < 0) {
		err = nl_fail("make " VXLAN_DEV " a port of " BRIDGE, lab, err);
		goto out;
	}
	explain("bridge -n %s link set dev %s learning off flood off mcast_flood off "
		"bcast_flood off",
		sw, VXLAN_DEV);
	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	err = -ENOMEM;
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		goto out;
	info = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED);
	if (!info || nla_put_u8(msg, IFLA_BRPORT_LEARNING, 0) < 0 ||
	    nla_put_u8(msg, IFLA_BRPORT_UNICAST_FLOOD, 0) < 0 ||
	    nla_put_u8(msg, IFLA_BRPORT_MCAST_FLOOD, 0) < 0 ||
	    nla_put_u8(msg, IFLA_BRPORT_BCAST_FLOOD, 0) < 0)
		goto out;
	nla_nest_end(msg, info);
	err = nl_send_auto(sk, msg);
	if (err >= 0)
		err = nl_wait_for_ack(sk);
	if (err < 0)
		err = nl_fail("turn learning and flooding off on " VXLAN_DEV, lab, err);
	else
		err = 0;
out:
	nlmsg_free(msg);
	rtnl_link_put(change);
	rtnl_link_put(vx);
	rtnl_link_put(br);
	return err;
}

/* Two entries per remote node: vx0's own (the MAC's host) and the bridge's (the MAC is behind
 * vx0), so the bridge never floods to find it. */
static int add_entries(struct nl_sock *sk, const char *lab, const char *sw, unsigned int node,
		       uint32_t remote_ip)
{
	uint32_t dst_be = htonl(remote_ip);
	struct nl_addr *mac, *dst = nl_addr_build(AF_INET, &dst_be, sizeof(dst_be));
	struct rtnl_neigh *self = rtnl_neigh_alloc(), *master = rtnl_neigh_alloc();
	char mac_str[18], dst_str[INET_ADDRSTRLEN];
	uint8_t m[6];
	int err = -ENOMEM;

	lab_node_mac(node, m);
	mac = nl_addr_build(AF_LLC, m, sizeof(m));
	if (!mac || !dst || !self || !master)
		goto out;
	nl_addr2str(mac, mac_str, sizeof(mac_str));
	ip_text(remote_ip, dst_str, sizeof(dst_str));
	/* The IPv4 destination first: libnl takes the family from it, then AF_BRIDGE over it. */
	err = rtnl_neigh_set_dst(self, dst);
	if (err < 0)
		goto out;
	rtnl_neigh_set_family(self, AF_BRIDGE);
	rtnl_neigh_set_ifindex(self, VXLAN_IFINDEX);
	rtnl_neigh_set_lladdr(self, mac);
	rtnl_neigh_set_state(self, NUD_PERMANENT);
	rtnl_neigh_set_flags(self, NTF_SELF);
	explain("bridge -n %s fdb add %s dev %s dst %s self permanent   # node %u", sw, mac_str,
		VXLAN_DEV, dst_str, node);
	err = rtnl_neigh_add(sk, self, NLM_F_CREATE | NLM_F_EXCL);
	if (err >= 0) {
		rtnl_neigh_set_family(master, AF_BRIDGE);
		rtnl_neigh_set_ifindex(master, VXLAN_IFINDEX);
		rtnl_neigh_set_lladdr(master, mac);
		rtnl_neigh_set_state(master, NUD_NOARP);
		rtnl_neigh_set_flags(master, NTF_MASTER);
		explain("bridge -n %s fdb add %s dev %s master static", sw, mac_str, VXLAN_DEV);
		err = rtnl_neigh_add(sk, master, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (err < 0)
		err = nl_fail("forwarding entry of a remote node", lab, err);
	else
		err = 0;
out:
	rtnl_neigh_put(self);
	rtnl_neigh_put(master);
	nl_addr_put(mac);
	nl_addr_put(dst);
	return err;
}

int vxlan_join(const char *lab, uint32_t vni, uint32_t local_ip, unsigned int mtu,
	       unsigned int nodes, const uint32_t *remote_ip)
{
	char sw[LAB_NAME_MAX + 16];
	struct nl_sock *sk = NULL;
	int saved, err, ret;

	lab_switch_ns(lab, sw, sizeof(sw));
	err = create_device(lab, sw, vni, local_ip, mtu);
	if (err)
		return err;
	saved = netns_enter(sw);
	if (saved < 0) {
		error_note("lab %s: enter %s: %s", lab, sw, strerror(-saved));
		return saved;
	}
	sk = nl_socket_alloc();
	err = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (err < 0)
		err = nl_fail("netlink in the switch namespace", lab, err);
	if (!err)
		err = attach_to_bridge(sk, lab, sw);
	for (unsigned int i = 1; !err && i <= nodes; i++)
		if (remote_ip[i])
			err = add_entries(sk, lab, sw, i, remote_ip[i]);
	nl_socket_free(sk);
	ret = netns_return(saved);
	return err ?: ret;
}

unsigned int vxlan_underlay_mtu(uint32_t ip)
{
	struct ifaddrs *list, *a;
	struct ifreq ifr = { 0 };
	unsigned int mtu = 0;
	int fd;

	if (getifaddrs(&list))
		return 0;
	for (a = list; a; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET &&
		    ntohl(((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr) == ip)
			break;
	fd = a ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
	if (fd >= 0) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->ifa_name);
		if (!ioctl(fd, SIOCGIFMTU, &ifr))
			mtu = ifr.ifr_mtu;
		close(fd);
	}
	freeifaddrs(list);
	return mtu;
}
