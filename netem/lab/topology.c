// SPDX-License-Identifier: GPL-2.0-only
/* The lab's topology: names and addresses, then building, rediscovering and removing the
 * namespaces, bridge, veth pairs and addresses with libnl-route-3. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "lib/monotonic.h"
#include "lib/report.h"
#include "bpf/partition.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"
#include "netem/hosts/vxlan.h"
#include "netem/lab/adopt.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/topology.h"
#include "netem/policy/spec.h"

#define THREAD_NETNS "/proc/thread-self/ns/net"
#define PORT_IFINDEX(node) (2 + (node))
#define BRIDGE "br0"
/* Seconds up waits for every port to forward. */
#define PORTS_READY_TIMEOUT 5

/* ---- Names and addresses ---------------------------------------------------------------- */

static void ip4_str(uint32_t host_order, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = htonl(host_order) };

	inet_ntop(AF_INET, &a, buf, len);
}

/* The checks lab_parse_subnet and lab_topology_up share; `text` names the subnet in messages. */
static int subnet_check(uint32_t subnet, unsigned int prefix, unsigned int nodes, const char *text,
			char *err, size_t errlen)
{
	char net[INET_ADDRSTRLEN];
	unsigned int top = subnet >> 24;
	uint64_t hosts;
	uint32_t mask;

	if (prefix > 32) {
		snprintf(err, errlen, "\"%s\": the prefix length must be 0 to 32", text);
		return -EINVAL;
	}
	mask = prefix ? ~0u << (32 - prefix) : 0;
	hosts = prefix >= 31 ? 0 : (1ull << (32 - prefix)) - 2;
	if (subnet & ~mask) {
		ip4_str(subnet & mask, net, sizeof(net));
		snprintf(err, errlen, "\"%s\" has host bits set; did you mean %s/%u?", text, net,
			 prefix);
		return -EINVAL;
	}
	if (top == 0 || top == 127 || top >= 224) {
		snprintf(err, errlen,
			 "\"%s\" is not a unicast network (0/8, 127/8 and 224/3 cannot hold nodes)",
			 text);
		return -EINVAL;
	}
	if (nodes > hosts) {
		snprintf(err, errlen, "a /%u holds %llu hosts, too few for %u node%s", prefix,
			 (unsigned long long)hosts, nodes, nodes == 1 ? "" : "s");
		return -EINVAL;
	}
	return 0;
}

int lab_parse_subnet(const char *text, unsigned int nodes, uint32_t *subnet, unsigned int *prefix,
		     char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	struct in_addr a;
	unsigned long p = 0;
	size_t alen;
	int ret;

	if (!slash) {
		snprintf(err, errlen, "\"%s\" is not ADDRESS/PREFIX (e.g. 10.77.0.0/16)", text);
		return -EINVAL;
	}
	alen = slash - text;
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "\"%s\": the address is not an IPv4 address", text);
		return -EINVAL;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1) {
		snprintf(err, errlen, "\"%s\": %s is not an IPv4 address", text, addr);
		return -EINVAL;
	}
	/* Digits only: strtoul would take "+16", " 16" and "16abc". */
	if (!slash[1] || strlen(slash + 1) > 2 ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
		snprintf(err, errlen, "\"%s\": the prefix length must be 0 to 32", text);
		return -EINVAL;
	}
	p = strtoul(slash + 1, NULL, 10);
	ret = subnet_check(ntohl(a.s_addr), p, nodes, text, err, errlen);
	if (ret)
		return ret;
	*subnet = ntohl(a.s_addr);
	*prefix = p;
	return 0;
}

uint32_t lab_node_addr(const struct lab_config *cfg, unsigned int node)
{
	return cfg->subnet + node;
}

void lab_node_mac(unsigned int node, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0xca;
	mac[2] = 0xfe;
	mac[3] = 0x00;
	mac[4] = node / 256;
	mac[5] = node % 256;
}

unsigned int lab_ports_here(const struct lab_info *info, int *ifindex, unsigned int *node)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i <= info->nodes; i++)
		if (lab_node_is_here(info, i)) {
			ifindex[n] = info->port_ifindex[i];
			node[n++] = i;
		}
	return n;
}

void lab_switch_ns(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "%s-sw", lab);
}

void lab_node_ns(const char *lab, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s-n%u", lab, node);
}

int lab_ns_index(const char *lab, const char *ns)
{
	size_t len = strlen(lab);
	const char *s;
	unsigned int i = 0;

	if (strncmp(ns, lab, len) || ns[len] != '-')
		return -1;
	s = ns + len + 1;
	if (!strcmp(s, "sw"))
		return 0;
	if (s[0] != 'n' || s[1] < '1' || s[1] > '9')
		return -1;
	for (s++; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		i = i * 10 + (*s - '0');
		if (i > CAPNET_MAX_NODES)
			return -1;
	}
	return i;
}

/* ---- Batched netlink requests ----------------------------------------------------------- */

/* Requests are built by libnl-route and copied into one buffer that goes to the kernel in a single
 * sendmsg, with an ack asked for the last message only: the kernel answers the others only when
 * they fail. A lab of N nodes needs several requests per node (its veth, its address, its links
 * up), so waiting for one ack per request (what rtnl_link_add and its kind do) would dominate
 * `up`. */
#define BATCH_BYTES 32768 /* well below the 64 KiB send buffer nl_connect sets */
#define BATCH_MSGS 1024

enum op_kind { OP_GET_LINK, OP_LINK_UP, OP_BRIDGE, OP_VETH, OP_ADDR };

/* What a message in the batch does, to name it if the kernel refuses it. */
struct batch_op {
	enum op_kind kind;
	unsigned int arg; /* OP_VETH, OP_ADDR: node */
	const char *ifname; /* OP_GET_LINK, OP_LINK_UP */
	int *ifindex; /* OP_GET_LINK: where the answer goes */
};

struct nl_batch {
	struct nl_sock *sk;
	const struct lab_config *cfg;
	char ns[LAB_NAME_MAX + 16]; /* the namespace the socket lives in */
	uint32_t seq; /* sequence number of buf's first message */
	unsigned int count;
	size_t len, last;
	struct batch_op ops[BATCH_MSGS];
	unsigned char buf[BATCH_BYTES] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* Opens a route socket in the calling thread's namespace: a socket stays in the namespace it was
 * created in, whichever namespace its user later moves to. */
int nl_open_here(const char *ns, struct nl_sock **out)
{
	int one = 1, err;
	struct nl_sock *sk;

	sk = nl_socket_alloc();
	if (!sk) {
		error_note("netlink socket in %s: %s", ns, strerror(ENOMEM));
		return -ENOMEM;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		error_note("netlink socket in %s: %s", ns, nl_geterror(err));
		nl_socket_free(sk);
		return -EIO;
	}
	/* Errors carry the kernel's reason as text, and not a copy of the request. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = sk;
	return 0;
}

static void op_describe(const struct nl_batch *b, const struct batch_op *op, char *buf, size_t len)
{
	const struct lab_config *cfg = b->cfg;
	char ip[INET_ADDRSTRLEN];

	switch (op->kind) {
	case OP_GET_LINK:
		snprintf(buf, len, "find %s in %s", op->ifname, b->ns);
		break;
	case OP_LINK_UP:
		snprintf(buf, len, "set %s up in %s", op->ifname, b->ns);
		break;
	case OP_BRIDGE:
		snprintf(buf, len, "create bridge %s in %s", BRIDGE, b->ns);
		break;
	case OP_VETH:
		snprintf(buf, len, "create veth p%u in %s (peer %s in %s-n%u)", op->arg, b->ns,
			 NODE_IF, cfg->name, op->arg);
		break;
	case OP_ADDR:
		ip4_str(lab_node_addr(cfg, op->arg), ip, sizeof(ip));
		snprintf(buf, len, "add address %s/%u to %s in %s", ip, cfg->prefix, NODE_IF,
			 b->ns);
		break;
	}
}

static void batch_reset(struct nl_batch *b, struct nl_sock *sk, const char *ns)
{
	b->sk = sk;
	snprintf(b->ns, sizeof(b->ns), "%s", ns);
	b->count = 0;
	b->len = 0;
}

/* The kernel's own words for an error, when NETLINK_EXT_ACK gave some. */
static const char *ext_ack_msg(struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = nlmsg_data(nlh);
	size_t off = sizeof(*e);
	struct nlattr *a;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off >= (size_t)nlmsg_datalen(nlh))
		return NULL;
	nla_for_each_attr(a, (struct nlattr *)((char *)e + off), nlmsg_datalen(nlh) - off, rem)
	{
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 1 &&
		    ((char *)nla_data(a))[nla_len(a) - 1] == '\0')
			return nla_data(a);
	}
	return NULL;
}

/* Sends what is queued and waits for the ack of the last message; reports the first refusal. */
static int batch_flush(struct nl_batch *b)
{
	uint32_t last_seq = b->seq + b->count - 1;
	char what[160], why[256] = "";
	struct sockaddr_nl peer;
	unsigned char *data = NULL;
	int err = 0, n;
	bool done = false;
	unsigned int failed = 0;

	if (!b->count)
		return 0;
	((struct nlmsghdr *)(b->buf + b->last))->nlmsg_flags |= NLM_F_ACK;
	n = nl_sendto(b->sk, b->buf, b->len);
	if (n < 0) {
		error_note("send netlink requests in %s: %s", b->ns, nl_geterror(n));
		err = -EIO;
		goto out;
	}
	while (!done) {
		struct nlmsghdr *nlh;

		n = nl_recv(b->sk, &peer, &data, NULL);
		if (n <= 0) {
			error_note("receive netlink answers in %s: %s", b->ns,
				   n ? nl_geterror(n) : "connection closed");
			err = -EIO;
			goto out;
		}
		for (nlh = (struct nlmsghdr *)data; nlmsg_ok(nlh, n); nlh = nlmsg_next(nlh, &n)) {
			struct batch_op *op;

			if (nlh->nlmsg_seq - b->seq > last_seq - b->seq)
				continue; /* not ours: an answer to an earlier batch */
			op = &b->ops[nlh->nlmsg_seq - b->seq];
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(nlh);
				const char *msg;

				if (e->error && !err) {
					err = e->error;
					failed = nlh->nlmsg_seq - b->seq;
					msg = ext_ack_msg(nlh);
					if (msg)
						snprintf(why, sizeof(why), " (%s)", msg);
				}
				if (nlh->nlmsg_seq == last_seq)
					done = true;
			} else if (nlh->nlmsg_type == RTM_NEWLINK && op->kind == OP_GET_LINK) {
				struct ifinfomsg *ifi = nlmsg_data(nlh);

				*op->ifindex = ifi->ifi_index;
			}
		}
		free(data);
		data = NULL;
	}
	if (err) {
		op_describe(b, &b->ops[failed], what, sizeof(what));
		error_note("%s: %s%s%s", what, strerror(-err), why, report_root_hint(-err));
	}
out:
	free(data);
	b->seq += b->count;
	b->count = 0;
	b->len = 0;
	return err;
}

/* Queues a copy of msg (and frees it), flushing first if the batch is full. */
static int batch_add(struct nl_batch *b, struct nl_msg *msg, struct batch_op op)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg), *copy;
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);
	int err = 0;

	if (len > BATCH_BYTES) {
		err = -EMSGSIZE;
		goto out;
	}
	if (b->count == BATCH_MSGS || b->len + len > BATCH_BYTES) {
		err = batch_flush(b);
		if (err)
			goto out;
	}
	copy = (struct nlmsghdr *)(b->buf + b->len);
	memcpy(copy, nlh, nlh->nlmsg_len);
	memset((char *)copy + nlh->nlmsg_len, 0, len - nlh->nlmsg_len);
	copy->nlmsg_flags = (copy->nlmsg_flags & ~NLM_F_ACK) | NLM_F_REQUEST;
	copy->nlmsg_seq = b->seq + b->count;
	copy->nlmsg_pid = 0;
	b->ops[b->count++] = op;
	b->last = b->len;
	b->len += len;
out:
	nlmsg_free(msg);
	return err;
}

/* libnl-route returns its own error codes; only the few that can occur here are mapped back. */
static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

static int batch_get_link(struct nl_batch *b, const char *ifname, int *ifindex)
{
	struct nl_msg *msg;
	int err;

	err = rtnl_link_build_get_request(0, ifname, &msg);
	if (err < 0)
		return nl_errno(err);
	return batch_add(
		b, msg,
		(struct batch_op){ .kind = OP_GET_LINK, .ifname = ifname, .ifindex = ifindex });
}

static int batch_link_up(struct nl_batch *b, int ifindex, const char *ifname)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *up = rtnl_link_alloc();
	struct nl_msg *msg;
	int err = -ENOMEM;

	if (!orig || !up)
		goto out;
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_flags(up, IFF_UP);
	err = rtnl_link_build_change_request(orig, up, 0, &msg);
	if (err < 0) {
		err = nl_errno(err);
		goto out;
	}
	explain("ip -n %s link set %s up", b->ns, ifname);
	err = batch_add(b, msg, (struct batch_op){ .kind = OP_LINK_UP, .ifname = ifname });
out:
	rtnl_link_put(up);
	rtnl_link_put(orig);
	return err;
}

/* libnl-route has no setter for the bridge's own attributes, so the request is put together
 * with libnl's attribute API. Forward delay 0 and no STP: a port forwards as soon as it is up. */
static int batch_bridge(struct nl_batch *b)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_flags = IFF_UP,
				 .ifi_change = IFF_UP };
	struct nlattr *info, *data;
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, BRIDGE) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, 0) < 0 ||
	    nla_put_u32(msg, IFLA_BR_STP_STATE, 0) < 0 ||
	    /* A plain switch: with IGMP/MLD snooping, a partition that cut a node's membership
	     * reports would change where multicast goes long after the heal, and the bridge
	     * would send reports of its own into every node's capture. */
	    nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	explain("ip -n %s link add %s up type bridge forward_delay 0 stp_state 0 mcast_snooping 0",
		b->ns, BRIDGE);
	return batch_add(b, msg, (struct batch_op){ .kind = OP_BRIDGE });
}

/* ---- Building a lab --------------------------------------------------------------------- */

struct lab_build {
	const struct lab_config *cfg;
	struct nl_batch *sw, *node; /* the node batch is reused for every node */
	struct rtnl_link *veth; /* one request object, renamed for every port */
	int bridge_ifindex;
	unsigned int nodes_here; /* the nodes built on this host: all but in a lab across hosts */
};

static int sysctl_write(const char *ns, const char *key, const char *value, bool may_be_absent)
{
	char path[PATH_MAX];
	int fd, err = 0;
	size_t len = strlen(value);
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT && may_be_absent)
			return 0;
		goto fail;
	}
	n = write(fd, value, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	if (err)
		goto fail;
	explain("ip netns exec %s sysctl -qw %s=%s", ns, key, value);
	return 0;
fail:
	error_note("sysctl %s=%s in %s: %s%s", key, value, ns, strerror(-err),
		   report_root_hint(-err));
	return err;
}

/* Runs in the namespace just entered: the socket that will configure it, and sysctls. */
static int switch_setup_inside(const char *ns, struct nl_sock **sk)
{
	static const char *const bridge_nf[] = {
		"net.bridge.bridge-nf-call-iptables",
		"net.bridge.bridge-nf-call-ip6tables",
		"net.bridge.bridge-nf-call-arptables",
	};
	int err;

	err = nl_open_here(ns, sk);
	/* Bridge netfilter costs even without rules. Without br_netfilter the keys do not
	 * exist, and there is nothing to turn off. */
	for (size_t i = 0; !err && i < sizeof(bridge_nf) / sizeof(bridge_nf[0]); i++)
		err = sysctl_write(ns, bridge_nf[i], "0", true);
	/* The switch has no IP role: without IPv6 its bridge and ports stay silent (no router
	 * solicitations or MLD reports from frames no node sent). Set before they exist. */
	if (!err)
		err = sysctl_write(ns, "net.ipv6.conf.default.disable_ipv6", "1", true);
	return err;
}

static int node_setup_inside(const char *ns, struct nl_sock **sk, int *ns_fd)
{
	int err;

	err = nl_open_here(ns, sk);
	/* Set before eth0 exists so it inherits it: no duplicate address detection, so the IPv6
	 * link-local address is usable as soon as eth0 is up. Absent when IPv6 is disabled. */
	if (!err)
		err = sysctl_write(ns, "net.ipv6.conf.default.accept_dad", "0", true);
	/* There is no router in a lab: soliciting one only puts noise in every capture. */
	if (!err)
		err = sysctl_write(ns, "net.ipv6.conf.default.router_solicitations", "0", true);
	if (!err) {
		*ns_fd = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
		if (*ns_fd < 0) {
			err = -errno;
			error_note("open %s in %s: %s", THREAD_NETNS, ns, strerror(-err));
		}
	}
	return err;
}

/* Creates a named namespace and runs setup inside it (node or switch). */
static int ns_create_setup(const char *ns, struct nl_sock **sk, int *ns_fd)
{
	int saved, err, ret;

	err = netns_create(ns);
	if (err)
		return err;
	saved = netns_enter(ns);
	if (saved < 0) {
		error_note("enter namespace %s: %s", ns, strerror(-saved));
		return saved;
	}
	if (ns_fd)
		err = node_setup_inside(ns, sk, ns_fd);
	else
		err = switch_setup_inside(ns, sk);
	ret = netns_return(saved);
	if (ret) {
		error_note("leave namespace %s: %s", ns, strerror(-ret));
		err = err ?: ret;
	}
	return err;
}

static int switch_up(struct lab_build *lb, struct nl_sock **sk)
{
	char ns[LAB_NAME_MAX + 16];
	int lo = 0, err;

	lab_switch_ns(lb->cfg->name, ns, sizeof(ns));
	err = ns_create_setup(ns, sk, NULL);
	if (err)
		return err;
	batch_reset(lb->sw, *sk, ns);
	err = batch_get_link(lb->sw, "lo", &lo);
	if (!err)
		err = batch_flush(lb->sw);
	if (!err)
		err = batch_link_up(lb->sw, lo, "lo");
	if (!err)
		err = batch_bridge(lb->sw);
	if (!err)
		err = batch_get_link(lb->sw, BRIDGE, &lb->bridge_ifindex);
	if (!err)
		err = batch_flush(lb->sw);
	return err;
}

static int node_veth(struct lab_build *lb, unsigned int node, int ns_fd)
{
	struct rtnl_link *peer = rtnl_link_veth_get_peer(lb->veth);
	char port[16], ns[LAB_NAME_MAX + 16], mac_str[18];
	struct nl_addr *mac = NULL;
	struct nl_msg *msg;
	uint8_t m[6];
	int err;

	lab_node_ns(lb->cfg->name, node, ns, sizeof(ns));
	lab_node_mac(node, m);
	snprintf(port, sizeof(port), "p%u", node);
	mac = nl_addr_build(AF_LLC, m, sizeof(m));
	if (!mac) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_link_set_name(lb->veth, port);
	/* A fixed index, the one the kernel would give anyway (lo is 1, br0 2): --explain's
	 * `ip link add ... index N` then builds the same ports, and node_of_port's keys hold. */
	rtnl_link_set_ifindex(lb->veth, PORT_IFINDEX(node));
	rtnl_link_set_master(lb->veth, lb->bridge_ifindex);
	rtnl_link_set_flags(lb->veth, IFF_UP);
	/* One queue each way, as veth would pick anyway: asked for at creation, it spares the
	 * RCU grace period that shrinking the default (one queue per CPU) costs per device. */
	rtnl_link_set_num_tx_queues(lb->veth, 1);
	rtnl_link_set_num_rx_queues(lb->veth, 1);
	rtnl_link_set_num_tx_queues(peer, 1);
	rtnl_link_set_num_rx_queues(peer, 1);
	if (lb->cfg->mtu) {
		rtnl_link_set_mtu(lb->veth, lb->cfg->mtu);
		rtnl_link_set_mtu(peer, lb->cfg->mtu);
	}
	/* The peer is born in the node's namespace: no second request to move it, and never a
	 * moment with two eth0 in the switch namespace. It cannot be set up in this request. */
	rtnl_link_set_name(peer, NODE_IF);
	rtnl_link_set_ns_fd(peer, ns_fd);
	rtnl_link_set_addr(peer, mac);
	err = rtnl_link_build_add_request(lb->veth, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if (err < 0) {
		err = nl_errno(err);
		goto out;
	}
	snprintf(mac_str, sizeof(mac_str), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	explain("ip -n %s link add %s index %u numtxqueues 1 numrxqueues 1 master %s up type veth peer name %s netns %s address %s numtxqueues 1 numrxqueues 1",
		lb->sw->ns, port, PORT_IFINDEX(node), BRIDGE, NODE_IF, ns, mac_str);
	if (lb->cfg->mtu)
		explain("ip -n %s link set %s mtu %u && ip -n %s link set %s mtu %u", lb->sw->ns,
			port, lb->cfg->mtu, ns, NODE_IF, lb->cfg->mtu);
	err = batch_add(lb->sw, msg, (struct batch_op){ .kind = OP_VETH, .arg = node });
	if (!err)
		err = batch_flush(lb->sw);
out:
	nl_addr_put(mac);
	rtnl_link_put(peer);
	return err;
}

static int node_addr(struct lab_build *lb, int ifindex, unsigned int node)
{
	struct nl_batch *b = lb->node;
	struct rtnl_addr *addr = rtnl_addr_alloc();
	uint32_t ip = htonl(lab_node_addr(lb->cfg, node));
	char ip_str[INET_ADDRSTRLEN];
	struct nl_addr *local = nl_addr_build(AF_INET, &ip, sizeof(ip));
	struct nl_msg *msg;
	int err = -ENOMEM;

	if (!addr || !local)
		goto out;
	nl_addr_set_prefixlen(local, lb->cfg->prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	err = rtnl_addr_set_local(addr, local);
	if (err < 0) {
		err = nl_errno(err);
		goto out;
	}
	rtnl_addr_set_prefixlen(addr, lb->cfg->prefix);
	err = rtnl_addr_build_add_request(addr, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if (err < 0) {
		err = nl_errno(err);
		goto out;
	}
	ip4_str(lab_node_addr(lb->cfg, node), ip_str, sizeof(ip_str));
	explain("ip -n %s addr add %s/%u dev %s", b->ns, ip_str, lb->cfg->prefix, NODE_IF);
	err = batch_add(b, msg, (struct batch_op){ .kind = OP_ADDR, .arg = node });
out:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return err;
}

static int node_up(struct lab_build *lb, unsigned int node)
{
	char ns[LAB_NAME_MAX + 16];
	struct nl_sock *sk = NULL;
	int ns_fd = -1, eth0 = 0, lo = 0, err;
	struct nl_batch *b = lb->node;

	lab_node_ns(lb->cfg->name, node, ns, sizeof(ns));
	err = ns_create_setup(ns, &sk, &ns_fd);
	if (!err)
		err = node_veth(lb, node, ns_fd);
	if (err)
		goto out;
	batch_reset(b, sk, ns);
	err = batch_get_link(b, NODE_IF, &eth0);
	if (!err)
		err = batch_get_link(b, "lo", &lo);
	if (!err)
		err = batch_flush(b);
	if (!err)
		err = batch_link_up(b, eth0, NODE_IF);
	if (!err)
		err = batch_link_up(b, lo, "lo");
	if (!err)
		err = node_addr(lb, eth0, node);
	if (!err)
		err = batch_flush(b);
out:
	if (ns_fd >= 0)
		close(ns_fd);
	nl_socket_free(sk);
	return err;
}

/* A port forwards, and a veth gets its real queue, once the kernel's link watcher has handled
 * its carrier, from a work queue, a moment after both ends are up: until then frames are
 * dropped. Waiting here means the first frame sent after up arrives. eth0's carrier event is
 * queued before its port's (both in veth_open, which runs for eth0), so a forwarding port
 * also means a ready eth0. */
static int switch_wait_forwarding(struct lab_build *lb, struct nl_sock *sk)
{
	double deadline = 0;
	unsigned int ready = 0;

	for (;;) {
		struct nl_cache *cache;
		struct nl_object *obj;
		double t;
		int err;

		err = rtnl_link_alloc_cache(sk, AF_BRIDGE, &cache);
		if (err < 0) {
			error_note("list bridge ports in %s: %s", lb->sw->ns, nl_geterror(err));
			return nl_errno(err);
		}
		ready = 0;
		for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
			struct rtnl_link *link = (struct rtnl_link *)obj;

			if (rtnl_link_get_master(link) == lb->bridge_ifindex &&
			    rtnl_link_get_operstate(link) == IF_OPER_UP &&
			    rtnl_link_bridge_get_port_state(link) == BR_STATE_FORWARDING)
				ready++;
		}
		nl_cache_free(cache);
		if (ready == lb->nodes_here)
			return 0;
		t = monotonic_s();
		if (!deadline)
			deadline = t + PORTS_READY_TIMEOUT;
		if (t > deadline)
			break;
		usleep(1000);
	}
	error_note("%u of %u ports of %s in %s are not forwarding after %d s",
		   lb->nodes_here - ready, lb->nodes_here, BRIDGE, lb->sw->ns, PORTS_READY_TIMEOUT);
	return -ETIMEDOUT;
}

/* Stops at the first namespace of the lab that exists. */
static int ns_of_lab(const char *name, void *arg)
{
	const char *lab = arg;

	return lab_ns_index(lab, name) >= 0 ? -EEXIST : 0;
}

int lab_topology_up(const struct lab_config *cfg)
{
	struct lab_build lb = { .cfg = cfg };
	struct nl_sock *sw_sk = NULL;
	char msg[160], text[48], net[INET_ADDRSTRLEN];
	int err;

	if (!lab_name_valid(cfg->name, msg, sizeof(msg))) {
		error_note("%s", msg);
		return -EINVAL;
	}
	if (cfg->nodes < 1 || cfg->nodes > CAPNET_MAX_NODES) {
		error_note("a lab has 1 to %d nodes, not %u", CAPNET_MAX_NODES, cfg->nodes);
		return -EINVAL;
	}
	ip4_str(cfg->subnet, net, sizeof(net));
	snprintf(text, sizeof(text), "%s/%u", net, cfg->prefix);
	if (subnet_check(cfg->subnet, cfg->prefix, cfg->nodes, text, msg, sizeof(msg))) {
		error_note("%s", msg);
		return -EINVAL;
	}
	/* Nothing is created if any part of the lab is there: up never adds to a lab. */
	err = netns_for_each(ns_of_lab, (void *)cfg->name);
	if (err == -EEXIST)
		error_note("lab \"%s\" already exists (capnet --lab %s down removes it)", cfg->name,
			   cfg->name);
	if (err)
		return err;

	lb.sw = malloc(sizeof(*lb.sw));
	lb.node = malloc(sizeof(*lb.node));
	lb.veth = rtnl_link_veth_alloc();
	if (!lb.sw || !lb.node || !lb.veth) {
		error_note("lab %s: %s", cfg->name, strerror(ENOMEM));
		err = -ENOMEM;
		goto cleanup;
	}
	lb.sw->cfg = lb.node->cfg = cfg;
	lb.sw->seq = lb.node->seq = 1;

	err = switch_up(&lb, &sw_sk);
	for (unsigned int i = 1; !err && i <= cfg->nodes; i++) {
		if (cfg->node_here && !cfg->node_here[i])
			continue;
		lb.nodes_here++;
		err = node_up(&lb, i);
		if (!err && cfg->node_built)
			cfg->node_built(i, cfg->nodes, cfg->node_built_arg);
	}
	if (!err)
		err = switch_wait_forwarding(&lb, sw_sk);
cleanup:
	if (lb.veth)
		rtnl_link_veth_release(lb.veth);
	nl_socket_free(sw_sk);
	free(lb.node);
	free(lb.sw);
	/* A half-built lab is of no use: remove what was made, as `down` would. */
	if (err)
		lab_topology_down(cfg->name);
	return err;
}

/* ---- Removing and rediscovering a lab --------------------------------------------------- */

struct lab_scan {
	const char *lab;
	bool sw;
	unsigned int max; /* highest node index seen */
	bool node[CAPNET_MAX_NODES + 1];
};

static int scan_one(const char *name, void *arg)
{
	struct lab_scan *s = arg;
	int i = lab_ns_index(s->lab, name);

	if (i == 0)
		s->sw = true;
	if (i > 0) {
		s->node[i] = true;
		if ((unsigned int)i > s->max)
			s->max = i;
	}
	return 0;
}

static int lab_scan(const char *lab, struct lab_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->lab = lab;
	return netns_for_each(scan_one, s);
}

int lab_topology_down(const char *lab)
{
	char msg[160], ns[LAB_NAME_MAX + 16];
	struct lab_scan *s;
	int err, ret = 0;

	if (!lab_name_valid(lab, msg, sizeof(msg))) {
		error_note("%s", msg);
		return -EINVAL;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		error_note("lab %s: %s", lab, strerror(ENOMEM));
		return -ENOMEM;
	}
	err = lab_scan(lab, s);
	if (err)
		goto out;
	/* The switch first: its namespace takes every port, and with each the peer in a node
	 * namespace, in one batch. Then the node namespaces, emptied. Keep going past an error:
	 * down removes whatever it can. */
	if (s->sw) {
		lab_switch_ns(lab, ns, sizeof(ns));
		err = netns_delete(ns);
		if (err && err != -ENOENT)
			ret = ret ?: err;
	}
	for (unsigned int i = 1; i <= s->max; i++) {
		if (!s->node[i])
			continue;
		lab_node_ns(lab, i, ns, sizeof(ns));
		err = netns_delete(ns);
		if (err && err != -ENOENT)
			ret = ret ?: err;
	}
	err = ret;
out:
	free(s);
	return err;
}

/* A namespace name that is only a file, not a mounted namespace, is what an up that died in the
 * middle of creating it leaves. */
static bool ns_is_mounted(const char *ns)
{
	char path[PATH_MAX];
	struct statfs st;

	/* By its path: one call, where open, fstatfs and close were three, per node. */
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, ns);
	return !statfs(path, &st) && st.f_type == NSFS_MAGIC;
}

/* The quick look at the ports: a dump of the bridge's ports (AF_BRIDGE), which unlike a dump
 * of every link does not name each veth's peer namespace, a search through every namespace id
 * per link and so N^2 for the lab. True if p1..pN are all ports of br0 and there is no
 * p(N+1); otherwise the full dump says what is wrong. */
/* The bridge's ports, read straight off a raw AF_BRIDGE dump: only each port's name and master
 * are wanted, and libnl's cache, which parses every attribute of every port into objects,
 * took most of a partition's time at 1,000 ports. Calls `port` for each; 0 or -errno. */
static int bridge_port_dump(int fd,
			    void (*port)(const char *name, int ifindex, int master, void *arg),
			    void *arg)
{
	static char buf[1 << 16];
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_BRIDGE },
	};

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return -errno;
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;
		int len;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)got;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			struct ifinfomsg *ifi = NLMSG_DATA(nh);
			struct rtattr *a = IFLA_RTA(ifi);
			int alen = IFLA_PAYLOAD(nh), master = 0;
			const char *name = NULL;

			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EIO;
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type == IFLA_IFNAME)
					name = RTA_DATA(a);
				else if (a->rta_type == IFLA_MASTER &&
					 RTA_PAYLOAD(a) >= sizeof(uint32_t))
					master = (int)*(uint32_t *)RTA_DATA(a);
			}
			if (name)
				port(name, ifi->ifi_index, master, arg);
		}
	}
}

struct port_walk {
	struct lab_info *info;
	int bridge;
	unsigned int seen;
	bool extra; /* a p(N+1) in the bridge, or a port of a node that lives on another host */
	const struct node_set *here; /* a share of a lab across hosts: its nodes; else NULL */
	char foreign[IFNAMSIZ]; /* the first port of the bridge that is capnet's for no reason */
};

static void port_seen(const char *name, int ifindex, int master, void *arg)
{
	struct port_walk *w = arg;
	unsigned long i;
	char *end;

	if (master != w->bridge)
		return;
	i = name[0] == 'p' && name[1] != '0' ? strtoul(name + 1, &end, 10) : 0;
	if (!i || *end) {
		/* A lab across hosts reaches the other hosts through vx0, and a delay line has
		 * its port; any other port on the bridge carries frames that no node's filtered
		 * port sees leave. */
		if (!(w->here && !strcmp(name, VXLAN_DEV)) && strcmp(name, DELAY_PORT) &&
		    !w->foreign[0])
			snprintf(w->foreign, sizeof(w->foreign), "%s", name);
		return;
	}
	if (i > w->info->nodes || (w->here && !nodeset_has(w->here, i))) {
		w->extra = true;
		return;
	}
	w->info->port_ifindex[i] = ifindex;
	w->seen++;
}

/* The quick look at the ports: a dump of the bridge's ports (AF_BRIDGE), which unlike a dump
 * of every link does not name each veth's peer namespace (a search through every namespace id
 * per link, so N^2 for the lab), read in one pass. True if p1..pN are all ports of br0 and
 * there is no p(N+1) (nor one outside the bridge); otherwise the full dump says what is
 * wrong. */
static bool ports_look_whole(struct nl_sock *sk, int raw, struct lab_info *info,
			     const struct node_set *here, char *foreign)
{
	struct port_walk w = { .info = info, .here = here };
	unsigned int expected = here ? nodeset_count(here) : info->nodes;
	struct rtnl_link *link = NULL;
	char port[16];

	if (raw < 0 || rtnl_link_get_kernel(sk, 0, BRIDGE, &link) < 0)
		return false;
	w.bridge = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	link = NULL;
	snprintf(port, sizeof(port), "p%u", info->nodes + 1);
	if (rtnl_link_get_kernel(sk, 0, port, &link) >= 0) {
		rtnl_link_put(link);
		return false;
	}
	if (bridge_port_dump(raw, port_seen, &w))
		return false;
	memcpy(foreign, w.foreign, sizeof(w.foreign));
	if (w.extra || w.seen != expected || foreign[0])
		return false;
	for (unsigned int i = 1; i <= info->nodes; i++)
		if (!info->port_ifindex[i] && (!here || nodeset_has(here, i)))
			return false;
	return true;
}

static int discover_ports(const char *lab, const char *sw, struct lab_info *info,
			  const struct node_set *here)
{
	struct nl_cache *cache = NULL;
	struct nl_sock *sk = NULL;
	struct rtnl_link *link;
	int saved, err, ret, bridge, raw;
	char port[16], foreign[IFNAMSIZ] = "";

	saved = netns_enter(sw);
	if (saved < 0) {
		error_note("enter namespace %s: %s", sw, strerror(-saved));
		return saved;
	}
	err = nl_open_here(sw, &sk);
	raw = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ret = netns_return(saved);
	if (ret) {
		error_note("leave namespace %s: %s", sw, strerror(-ret));
		err = err ?: ret;
	}
	if (err)
		goto out;
	if (ports_look_whole(sk, raw, info, here, foreign))
		goto out;
	if (foreign[0]) {
		error_note(
			"lab %s is not whole: %s is a port of its bridge and no node's, so frames "
			"through it are not filtered; ip -n %s link del %s, or capnet --lab %s "
			"down && capnet --lab %s up -n %u, makes it whole",
			lab, foreign, sw, foreign, lab, lab, info->nodes);
		err = -EUCLEAN;
		goto out;
	}
	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err < 0) {
		error_note("list links in %s: %s", sw, nl_geterror(err));
		err = nl_errno(err);
		goto out;
	}
	bridge = rtnl_link_name2i(cache, BRIDGE);
	if (!bridge) {
		error_note(
			"lab %s is broken: %s has no bridge %s (capnet --lab %s down removes it)",
			lab, sw, BRIDGE, lab);
		err = -EIO;
		goto out;
	}
	for (unsigned int i = 1; i <= info->nodes + 1; i++) {
		snprintf(port, sizeof(port), "p%u", i);
		link = rtnl_link_get_by_name(cache, port);
		if (i > info->nodes) {
			if (link) {
				error_note(
					"lab %s is broken: port %s in %s has no node namespace %s-n%u (capnet --lab %s down removes it)",
					lab, port, sw, lab, i, lab);
				rtnl_link_put(link);
				err = -EIO;
			}
			break;
		}
		if (here && !nodeset_has(here, i)) {
			rtnl_link_put(link); /* a port of a node on another host is not looked at */
			continue;
		}
		if (!link || rtnl_link_get_master(link) != bridge) {
			error_note(
				"lab %s is broken: port %s is %s (capnet --lab %s down removes it)",
				lab, port,
				link ? "not a port of " BRIDGE : "missing in the switch namespace",
				lab);
			rtnl_link_put(link);
			err = -EIO;
			goto out;
		}
		info->port_ifindex[i] = rtnl_link_get_ifindex(link);
		rtnl_link_put(link);
	}
out:
	if (raw >= 0)
		close(raw);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return err;
}

/* One host's share of a lab across hosts: exactly the nodes recorded as here have namespaces;
 * the lab's size is the one `up` recorded. */
static int discover_share(const char *lab, const struct lab_scan *s, const struct node_set *here,
			  struct lab_info *info)
{
	char ns[LAB_NAME_MAX + 16];
	unsigned int n = lab_record_nodes(lab);

	if (!n || n > CAPNET_MAX_NODES) {
		error_note("lab %s is broken: its share on this host has no recorded size (capnet "
			   "--lab %s down removes it)",
			   lab, lab);
		return -EIO;
	}
	for (unsigned int i = 1; i <= CAPNET_MAX_NODES; i++) {
		bool want = nodeset_has(here, i);

		if (want && i > n) {
			error_note("lab %s is broken: node %u of its share is beyond its %u nodes "
				   "(capnet --lab %s down removes it)",
				   lab, i, n, lab);
			return -EIO;
		}
		if (want == s->node[i])
			continue;
		lab_node_ns(lab, i, ns, sizeof(ns));
		error_note("lab %s is broken: %s %s on this host (capnet --lab %s down removes it)",
			   lab, ns, want ? "is missing" : "should not be", lab);
		return -EIO;
	}
	for (unsigned int i = 1; i <= n; i++) {
		lab_node_ns(lab, i, ns, sizeof(ns));
		if (nodeset_has(here, i) && !ns_is_mounted(ns)) {
			error_note("lab %s is broken: %s is not a namespace (capnet --lab %s down "
				   "removes it)",
				   lab, ns, lab);
			return -EIO;
		}
	}
	info->nodes = n;
	info->shared = true;
	return 0;
}

int lab_topology_discover(const char *lab, struct lab_info *info)
{
	char msg[160], sw[LAB_NAME_MAX + 16], ns[LAB_NAME_MAX + 16];
	struct node_set here;
	struct lab_scan *s;
	unsigned int n;
	int err;

	if (!lab_name_valid(lab, msg, sizeof(msg))) {
		error_note("%s", msg);
		return -EINVAL;
	}
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", lab);
	/* Namespaces capnet did not build: their ports have the runtime's names. */
	if (adopt_is_adopted(lab))
		return adopt_discover(lab, info);
	s = malloc(sizeof(*s));
	if (!s) {
		error_note("lab %s: %s", lab, strerror(ENOMEM));
		return -ENOMEM;
	}
	err = lab_scan(lab, s);
	if (err)
		goto out;
	lab_switch_ns(lab, sw, sizeof(sw));
	if (!s->sw) {
		err = -ENOENT;
		goto out;
	}
	err = -EIO;
	if (!ns_is_mounted(sw)) {
		error_note(
			"lab %s is broken: %s is not a namespace (capnet --lab %s down removes it)",
			lab, sw, lab);
		goto out;
	}
	if (!lab_record_share(lab, &here)) {
		err = discover_share(lab, s, &here, info);
		if (!err)
			err = discover_ports(lab, sw, info, &here);
		goto out;
	}
	for (n = 0; n < s->max && s->node[n + 1]; n++)
		;
	if (n == 0) {
		error_note(
			"lab %s is broken: it has no node namespace %s-n1 (capnet --lab %s down removes it)",
			lab, lab, lab);
		goto out;
	}
	if (n < s->max) {
		error_note(
			"lab %s is broken: %s-n%u is missing but %s-n%u exists (capnet --lab %s down removes it)",
			lab, lab, n + 1, lab, s->max, lab);
		goto out;
	}
	for (unsigned int i = 1; i <= n; i++) {
		lab_node_ns(lab, i, ns, sizeof(ns));
		if (!ns_is_mounted(ns)) {
			error_note(
				"lab %s is broken: %s is not a namespace (capnet --lab %s down removes it)",
				lab, ns, lab);
			goto out;
		}
	}
	info->nodes = n;
	err = discover_ports(lab, sw, info, NULL);
out:
	if (err && err != -ENOENT)
		memset(info->port_ifindex, 0, sizeof(info->port_ifindex));
	if (err)
		info->nodes = 0;
	free(s);
	return err;
}
