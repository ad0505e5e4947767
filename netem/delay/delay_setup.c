// SPDX-License-Identifier: GPL-2.0-only
/* Switch-side set-up of the delay line, done when it starts and undone when it stops:
 *  - a veth pair dl0 <-> dl0p, dl0p a port of br0 with learning and flooding off: the delay line
 *    writes due frames into dl0, they enter the bridge at dl0p, and the bridge never learns a
 *    node's MAC there (which would send that node's traffic into the delay line);
 *  - a static FDB entry for every node's MAC on its own port, so re-injected unicast is forwarded
 *    to the one right port without flooding, whatever the bridge had learned or aged;
 *  - TX checksum offload off on every node's eth0: a frame taken out by XDP loses the "checksum
 *    to be completed" mark that travels beside it, so it must carry a complete checksum.
 * Plain rtnetlink requests on a socket of the switch namespace (libnl has no bridge port flags
 * or bridge FDB calls that fit), each acknowledged, so every error is the kernel's own. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "lib/report.h"
#include "netem/lab/adopt.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/offload.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"

#define BRIDGE "br0"

struct nl_req {
	struct nlmsghdr *nlh;
	char buf[1024];
};

static void *req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t hdr_len)
{
	memset(r->buf, 0, sizeof(r->buf));
	r->nlh = (struct nlmsghdr *)r->buf;
	r->nlh->nlmsg_type = type;
	r->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->nlh->nlmsg_len = NLMSG_LENGTH(hdr_len);
	return NLMSG_DATA(r->nlh);
}

static struct rtattr *req_attr(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)(r->buf + NLMSG_ALIGN(r->nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->nlh->nlmsg_len = NLMSG_ALIGN(r->nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void req_nest_end(struct nl_req *r, struct rtattr *nest)
{
	nest->rta_len = (char *)r->nlh + r->nlh->nlmsg_len - (char *)nest;
}

/* Sends one request and returns the kernel's answer: 0 or -errno. */
static int req_send(int fd, struct nl_req *r)
{
	char ans[4096];
	struct nlmsghdr *h;
	ssize_t n;

	if (send(fd, r->buf, r->nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)ans; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

static int rtnl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return fd < 0 ? -errno : fd;
}

static int link_set_up(int fd, int ifindex)
{
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return req_send(fd, &r);
}

static int veth_add(int fd, int bridge)
{
	struct rtattr *linkinfo, *data, *peer;
	struct ifinfomsg *ifi, *pifi;
	struct nl_req r;
	uint32_t master = bridge;

	ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	req_attr(&r, IFLA_IFNAME, DELAY_PORT, sizeof(DELAY_PORT));
	req_attr(&r, IFLA_MASTER, &master, sizeof(master));
	linkinfo = req_attr(&r, IFLA_LINKINFO, NULL, 0);
	req_attr(&r, IFLA_INFO_KIND, "veth", sizeof("veth"));
	data = req_attr(&r, IFLA_INFO_DATA, NULL, 0);
	peer = req_attr(&r, VETH_INFO_PEER, NULL, 0);
	pifi = (struct ifinfomsg *)RTA_DATA(peer);
	memset(pifi, 0, sizeof(*pifi));
	r.nlh->nlmsg_len += NLMSG_ALIGN(sizeof(*pifi));
	req_attr(&r, IFLA_IFNAME, DELAY_IF, sizeof(DELAY_IF));
	req_nest_end(&r, peer);
	req_nest_end(&r, data);
	req_nest_end(&r, linkinfo);
	return req_send(fd, &r);
}

static int link_del(int fd, int ifindex)
{
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_DELLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return req_send(fd, &r);
}

/* Learning and every kind of flooding off on the re-injection port. */
static int port_quiet(int fd, int ifindex)
{
	static const uint16_t off[] = { IFLA_BRPORT_LEARNING, IFLA_BRPORT_UNICAST_FLOOD,
					IFLA_BRPORT_MCAST_FLOOD, IFLA_BRPORT_BCAST_FLOOD };
	struct rtattr *prot;
	struct ifinfomsg *ifi;
	struct nl_req r;
	uint8_t zero = 0;
	size_t i;

	ifi = req_init(&r, RTM_SETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = ifindex;
	prot = req_attr(&r, IFLA_PROTINFO | NLA_F_NESTED, NULL, 0);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		req_attr(&r, off[i], &zero, sizeof(zero));
	req_nest_end(&r, prot);
	return req_send(fd, &r);
}

static int fdb_static(int fd, int port, const uint8_t mac[6], bool add)
{
	struct nl_req r;
	struct ndmsg *nd;

	nd = req_init(&r, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
		      sizeof(*nd));
	nd->ndm_family = AF_BRIDGE;
	nd->ndm_ifindex = port;
	nd->ndm_state = NUD_NOARP;
	nd->ndm_flags = NTF_MASTER;
	req_attr(&r, NDA_LLADDR, mac, 6);
	return req_send(fd, &r);
}

/* No IPv6 on the pair: its own router solicitations would enter the bridge from an unknown MAC. */
static void pair_no_ipv6(const char *sw)
{
	const char *names[] = { DELAY_IF, DELAY_PORT };
	char path[128];
	size_t i;
	int fd;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", names[i]);
		explain("ip netns exec %s sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", sw,
			names[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* a kernel without IPv6 has nothing to say */
		if (write(fd, "1", 1) < 0)
			error_note("delay line: %s: %s", path, strerror(errno));
		close(fd);
	}
}

int delay_setup_ports(const char *lab, unsigned int nodes, int *dl_ifindex)
{
	struct node_set here;
	char sw[LAB_NAME_MAX + 16], port_name[16];
	int fd, bridge, port, dl, err;
	unsigned int i;
	uint8_t mac[6];

	/* Its own port on the bridge and static forwarding entries would change the adopted
	 * bridge, which capnet promises to leave as it found it. */
	if (adopt_is_adopted(lab)) {
		error_note(
			"delay line: lab %s is adopted (capnet adopt): delay needs a bridge capnet "
			"built; partition, cut and link --loss, --dup and --corrupt work on it",
			lab);
		return -EOPNOTSUPP;
	}
	lab_switch_ns(lab, sw, sizeof(sw));
	fd = rtnl_open();
	if (fd < 0) {
		error_note("delay line: rtnetlink socket: %s", strerror(-fd));
		return fd;
	}
	bridge = if_nametoindex(BRIDGE);
	if (!bridge) {
		err = -errno;
		error_note("delay line: no %s in %s: %s", BRIDGE, sw, strerror(errno));
		goto out;
	}
	explain("ip -n %s link add %s master %s type veth peer name %s", sw, DELAY_PORT, BRIDGE,
		DELAY_IF);
	err = veth_add(fd, bridge);
	if (err) {
		error_note("delay line: ip -n %s link add %s type veth peer name %s: %s", sw,
			   DELAY_PORT, DELAY_IF, strerror(-err));
		goto out;
	}
	port = if_nametoindex(DELAY_PORT);
	dl = if_nametoindex(DELAY_IF);
	if (!port || !dl) {
		err = -ENODEV;
		error_note("delay line: %s or %s vanished in %s", DELAY_PORT, DELAY_IF, sw);
		goto out;
	}
	pair_no_ipv6(sw);
	explain("bridge -n %s link set dev %s learning off flood off mcast_flood off "
		"bcast_flood off",
		sw, DELAY_PORT);
	err = port_quiet(fd, port);
	if (err) {
		error_note("delay line: bridge link set dev %s learning off flood off: %s",
			   DELAY_PORT, strerror(-err));
		goto out;
	}
	/* A node on another host of a lab across hosts is behind vx0 already, statically. */
	lab_record_nodes_here(lab, nodes, &here);
	for (i = 1; i <= nodes; i++) {
		if (!nodeset_has(&here, i))
			continue;
		snprintf(port_name, sizeof(port_name), "p%u", i);
		lab_node_mac(i, mac);
		if (i <= 3 || i == nodes)
			explain("bridge -n %s fdb replace %02x:%02x:%02x:%02x:%02x:%02x dev %s "
				"master static",
				sw, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], port_name);
		else if (i == 4)
			explain("# ... the same for nodes 4 to %u", nodes - 1);
		port = if_nametoindex(port_name);
		err = port ? fdb_static(fd, port, mac, true) : -ENODEV;
		if (err) {
			error_note("delay line: bridge fdb replace (node %u) dev %s: %s", i,
				   port_name, strerror(-err));
			goto out;
		}
	}
	explain("ip -n %s link set %s up", sw, DELAY_PORT);
	explain("ip -n %s link set %s up", sw, DELAY_IF);
	err = link_set_up(fd, if_nametoindex(DELAY_PORT));
	if (!err)
		err = link_set_up(fd, dl);
	if (err) {
		error_note("delay line: ip link set %s up: %s", DELAY_IF, strerror(-err));
		goto out;
	}
	*dl_ifindex = dl;
out:
	close(fd);
	return err;
}

void delay_teardown_ports(const char *lab, unsigned int nodes)
{
	char sw[LAB_NAME_MAX + 16], port_name[16];
	unsigned int i;
	uint8_t mac[6];
	int fd, idx;

	lab_switch_ns(lab, sw, sizeof(sw));
	fd = rtnl_open();
	if (fd < 0)
		return;
	idx = if_nametoindex(DELAY_PORT);
	if (idx) {
		explain("ip -n %s link del %s", sw, DELAY_PORT);
		link_del(fd, idx);
	}
	for (i = 1; i <= nodes; i++) {
		snprintf(port_name, sizeof(port_name), "p%u", i);
		idx = if_nametoindex(port_name);
		lab_node_mac(i, mac);
		if (i == 1)
			explain("bridge -n %s fdb del <node MAC> dev p<node> master static # for "
				"nodes 1 to %u",
				sw, nodes);
		if (idx)
			fdb_static(fd, idx, mac, false);
	}
	close(fd);
}

int delay_node_txcsum(const char *lab, unsigned int nodes, bool on)
{
	struct node_set here;
	char ns[LAB_NAME_MAX + 16];
	unsigned int i;
	int e, err = 0;

	if (on && offload_kept_off(lab)) {
		explain("# TX checksum offload stays off: link --corrupt needs the senders' checksums");
		return 0;
	}
	lab_record_nodes_here(lab, nodes, &here);
	for (i = 1; i <= nodes; i++) {
		if (!nodeset_has(&here, i))
			continue;
		lab_node_ns(lab, i, ns, sizeof(ns));
		if (i <= 3 || i == nodes)
			explain("ip netns exec %s ethtool -K eth0 tx %s", ns, on ? "on" : "off");
		else if (i == 4)
			explain("# ... the same for nodes 4 to %u", nodes - 1);
		e = node_tx_checksum_set(lab, i, on, NULL);
		if (e && !on)
			error_note("delay line: ethtool -K eth0 tx off in %s: %s", ns,
				   strerror(-e));
		err = err ?: e;
	}
	return err;
}
