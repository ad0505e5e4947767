// SPDX-License-Identifier: GPL-2.0-only
/* Adopting namespaces: finding each one's veth and the bridge port at its other end (a veth's
 * IFLA_LINK is its peer's ifindex in the peer's namespace, so the port is the veth there whose
 * own IFLA_LINK points back), the record of what was found, and giving it all back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <signal.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>

#include "lib/files.h"
#include "lib/report.h"
#include "netem/explain.h"
#include "netem/lab/adopt.h"
#include "netem/lab/run_dir.h"

#define RECORD_NAME "adopted"
/* The namespace capnet runs in: the host's, where Docker and Podman put their bridges. */
#define HOST_NETNS "/proc/self/ns/net"

static void record_path(const char *lab, char *buf, size_t len)
{
	char dir[256];

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(buf, len, "%s/%s", dir, RECORD_NAME);
}

/* A namespace file's identity. */
static int ns_inode(const char *path, ino_t *ino)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs) || fs.f_type != NSFS_MAGIC || stat(path, &st))
		return -ENOENT;
	*ino = st.st_ino;
	return 0;
}

/* Runs fn inside the namespace of path, with a route netlink link cache of it. */
static int in_ns(const char *path, int (*fn)(struct nl_sock *sk, struct nl_cache *links, void *arg),
		 void *arg)
{
	struct nl_cache *links = NULL;
	struct nl_sock *sk = NULL;
	int saved = netns_enter_file(path), err, ret;

	if (saved < 0)
		return saved;
	err = nl_open_here(path, &sk);
	ret = netns_return(saved);
	if (!err && ret)
		err = ret;
	if (!err && rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) < 0)
		err = -EIO;
	if (!err)
		err = fn(sk, links, arg);
	nl_cache_free(links);
	nl_socket_free(sk);
	return err;
}

static bool is_kind(struct rtnl_link *l, const char *kind)
{
	const char *t = l ? rtnl_link_get_type(l) : NULL;

	return t && !strcmp(t, kind);
}

/* Inside a node: its veths whose other end is in another namespace. */
struct node_look {
	struct adopt_node *node;
	unsigned int veths;
	int ifindex, peer_ifindex;
	int32_t peer_nsid; /* the peer's namespace, by the node namespace's id for it */
};

static int look_node(struct nl_sock *sk, struct nl_cache *links, void *arg)
{
	struct node_look *nl = arg;
	struct nl_object *o;

	(void)sk;
	for (o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		struct nl_addr *a = rtnl_link_get_addr(l);
		int32_t nsid;

		if (!is_kind(l, "veth") || rtnl_link_get_link_netnsid(l, &nsid) < 0)
			continue;
		if (nl->veths++)
			continue;
		nl->ifindex = rtnl_link_get_ifindex(l);
		nl->peer_ifindex = (int)rtnl_link_get_link(l);
		nl->peer_nsid = nsid;
		snprintf(nl->node->ifname, sizeof(nl->node->ifname), "%s", rtnl_link_get_name(l));
		if (a && nl_addr_get_len(a) == 6)
			memcpy(nl->node->mac, nl_addr_get_binary_addr(a), 6);
	}
	return 0;
}

/* The id the namespace of `route` (a route netlink socket made there) has for the namespace
 * file fd (RTM_GETNSID): a veth names its peer's namespace by that id. -1 when it has none. */
static int32_t nsid_of(int route, int fd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		uint32_t fd;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_GETNSID,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1 },
		.g = { .rtgen_family = AF_UNSPEC },
		.a = { .rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = NETNSA_FD },
		.fd = (uint32_t)fd,
	};
	char buf[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t got;

	if (send(route, &req, sizeof(req), 0) != sizeof(req))
		return -1;
	got = recv(route, buf, sizeof(buf), 0);
	if (got < (ssize_t)NLMSG_LENGTH(sizeof(struct rtgenmsg)) || !NLMSG_OK(nh, (int)got) ||
	    nh->nlmsg_type != RTM_NEWNSID)
		return -1;
	{
		struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(nh) +
						     NLMSG_ALIGN(sizeof(struct rtgenmsg)));
		int len = (int)nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));

		for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= sizeof(int32_t))
				return *(int32_t *)RTA_DATA(a);
	}
	return -1;
}

/* A route netlink socket made inside the namespace of path. */
static int route_socket_in(const char *path)
{
	int saved = netns_enter_file(path), fd, err;

	if (saved < 0)
		return saved;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	err = fd < 0 ? -errno : 0;
	netns_return(saved);
	return err ? err : fd;
}

/* Whether candidate is the namespace the node's veth names as its peer's. */
static bool is_peer_ns(int route, const char *candidate, int32_t peer_nsid)
{
	int fd = open(candidate, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = nsid_of(route, fd) == peer_nsid;
	close(fd);
	return yes;
}

/* In a candidate namespace: the veth that is the node's other end, on a bridge. */
struct port_look {
	const struct node_look *node;
	bool found, on_bridge, has_clsact;
	char port[ADOPT_IFNAME], bridge[ADOPT_IFNAME];
	int port_ifindex, bridge_ifindex;
};

static int look_port(struct nl_sock *sk, struct nl_cache *links, void *arg)
{
	struct port_look *pl = arg;
	struct rtnl_link *l = rtnl_link_get(links, pl->node->peer_ifindex), *br = NULL;
	struct nl_cache *qdiscs = NULL;
	int32_t nsid;

	if (!is_kind(l, "veth") || (int)rtnl_link_get_link(l) != pl->node->ifindex ||
	    rtnl_link_get_link_netnsid(l, &nsid) < 0)
		goto out;
	pl->found = true;
	snprintf(pl->port, sizeof(pl->port), "%s", rtnl_link_get_name(l));
	pl->port_ifindex = rtnl_link_get_ifindex(l);
	if (rtnl_link_get_master(l))
		br = rtnl_link_get(links, rtnl_link_get_master(l));
	pl->on_bridge = is_kind(br, "bridge");
	if (pl->on_bridge) {
		snprintf(pl->bridge, sizeof(pl->bridge), "%s", rtnl_link_get_name(br));
		pl->bridge_ifindex = rtnl_link_get_ifindex(br);
	}
	if (rtnl_qdisc_alloc_cache(sk, &qdiscs) >= 0) {
		struct rtnl_qdisc *q =
			rtnl_qdisc_get_by_parent(qdiscs, pl->port_ifindex, TC_H_CLSACT);

		pl->has_clsact = q != NULL;
		rtnl_qdisc_put(q);
		nl_cache_free(qdiscs);
	}
out:
	rtnl_link_put(br);
	rtnl_link_put(l);
	return 0;
}

/* Where a node's other end may be: the host's namespace, then every named one but the node's. */
struct candidates {
	char (*path)[320];
	ino_t *ino;
	size_t n, cap;
};

static int add_candidate(const char *path, struct candidates *c)
{
	ino_t ino;

	if (ns_inode(path, &ino))
		return 0; /* a stale name: not a namespace */
	for (size_t i = 0; i < c->n; i++)
		if (c->ino[i] == ino)
			return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		void *p = realloc(c->path, cap * sizeof(*c->path)), *q;

		if (!p)
			return -ENOMEM;
		c->path = p;
		q = realloc(c->ino, cap * sizeof(*c->ino));
		if (!q)
			return -ENOMEM;
		c->ino = q;
		c->cap = cap;
	}
	snprintf(c->path[c->n], sizeof(c->path[0]), "%s", path);
	c->ino[c->n++] = ino;
	return 0;
}

static int add_named(const char *name, void *arg)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	return add_candidate(path, arg);
}

/* A name <lab>-n<i> of the same namespace: it is node i of that lab already. */
struct owner_look {
	ino_t ino;
	const char *source; /* the node's own name is not another lab's */
	char name[300];
};

static int look_owner(const char *name, void *arg)
{
	struct owner_look *o = arg;
	const char *dash = strrchr(name, '-');
	char path[320];
	ino_t ino;

	if (!dash || dash[1] != 'n' || !dash[2] ||
	    strspn(dash + 2, "0123456789") != strlen(dash + 2))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	if (!strcmp(path, o->source) || ns_inode(path, &ino) || ino != o->ino)
		return 0;
	/* A lab's node has its lab's switch beside it. */
	snprintf(path, sizeof(path), "%s/%.*s-sw", NETNS_RUN_DIR, (int)(dash - name), name);
	if (access(path, F_OK))
		return 0;
	snprintf(o->name, sizeof(o->name), "%s", name);
	return 1;
}

static int source_of(const char *item, bool pid, struct adopt_node *node)
{
	char *end;
	long v;

	if (pid) {
		errno = 0;
		v = strtol(item, &end, 10);
		if (!*item || *end || errno || v < 1) {
			error_note("adopt: \"%s\" is not a pid", item);
			return -EINVAL;
		}
		snprintf(node->source, sizeof(node->source), "/proc/%ld/ns/net", v);
		snprintf(node->what, sizeof(node->what), "pid %ld", v);
		if (kill((pid_t)v, 0) && errno == ESRCH) {
			error_note("adopt: there is no process %ld", v);
			return -ENOENT;
		}
		return 0;
	}
	if (!*item || strchr(item, '/') || !strcmp(item, ".") || !strcmp(item, "..")) {
		error_note("adopt: \"%s\" is not a namespace name", item);
		return -EINVAL;
	}
	snprintf(node->source, sizeof(node->source), "%s/%s", NETNS_RUN_DIR, item);
	snprintf(node->what, sizeof(node->what), "namespace %s", item);
	return 0;
}

int adopt_plan_make(char *const *items, unsigned int n, bool pids, struct adopt_plan *plan)
{
	struct candidates c = { 0 };
	ino_t host, sw_ino = 0, *seen = calloc(n + 1, sizeof(*seen));
	size_t last = 0;
	int err = 0;

	memset(plan, 0, sizeof(*plan));
	plan->nodes = n;
	if (!seen)
		return -ENOMEM;
	if (ns_inode(HOST_NETNS, &host)) {
		error_note("adopt: cannot read capnet's own namespace (%s)", HOST_NETNS);
		err = -EPERM;
		goto out;
	}
	err = add_candidate(HOST_NETNS, &c) ?: netns_for_each(add_named, &c);
	if (err)
		goto out;
	for (unsigned int i = 1; !err && i <= n; i++) {
		struct adopt_node *node = &plan->node[i];
		struct node_look look = { .node = node };
		struct port_look port = { .node = &look };
		struct owner_look owner = { 0 };
		int route;
		size_t k;

		err = source_of(items[i - 1], pids, node);
		if (err)
			break;
		if (ns_inode(node->source, &seen[i])) {
			error_note("adopt: %s: no such network namespace%s", node->what,
				   pids ? "" : " (ip netns list shows those there are)");
			err = -ENOENT;
			break;
		}
		if (seen[i] == host) {
			error_note("adopt: %s is the host's own network namespace: only a "
				   "container's or a named one can be a node",
				   node->what);
			err = -EINVAL;
			break;
		}
		for (unsigned int j = 1; j < i; j++)
			if (seen[j] == seen[i]) {
				error_note("adopt: %s is the same namespace as node %u (%s)",
					   node->what, j, plan->node[j].what);
				err = -EINVAL;
			}
		if (err)
			break;
		owner.ino = seen[i];
		owner.source = node->source;
		if (netns_for_each(look_owner, &owner) == 1) {
			error_note("adopt: %s is already in a lab: it is %s (capnet --lab %.*s "
				   "down gives it back)",
				   node->what, owner.name,
				   (int)(strrchr(owner.name, '-') - owner.name), owner.name);
			err = -EBUSY;
			break;
		}
		err = in_ns(node->source, look_node, &look);
		if (err) {
			error_note("adopt: %s: read its interfaces: %s", node->what,
				   strerror(-err));
			break;
		}
		if (look.veths != 1) {
			error_note("adopt: %s has %s veth interface to another namespace: capnet "
				   "adopts a namespace joined to a bridge by one veth",
				   node->what, look.veths ? "more than one" : "no");
			err = -EINVAL;
			break;
		}
		route = route_socket_in(node->source);
		if (route < 0) {
			err = route;
			error_note("adopt: %s: %s", node->what, strerror(-err));
			break;
		}
		/* Where the last one's port was first: a lab's nodes share one bridge. */
		for (k = 0; k < c.n && !port.found; k++) {
			size_t at = (last + k) % c.n;

			if (c.ino[at] == seen[i] || !is_peer_ns(route, c.path[at], look.peer_nsid))
				continue;
			err = in_ns(c.path[at], look_port, &port);
			if (err)
				break;
			if (port.found) {
				last = at;
				if (!sw_ino) {
					sw_ino = c.ino[at];
					snprintf(plan->sw_source, sizeof(plan->sw_source), "%s",
						 c.path[at]);
					snprintf(plan->bridge, sizeof(plan->bridge), "%s",
						 port.bridge);
					plan->bridge_ifindex = port.bridge_ifindex;
				}
			}
		}
		close(route);
		if (err)
			break;
		if (!port.found || !port.on_bridge) {
			error_note("adopt: %s: the other end of its veth %s is %s", node->what,
				   node->ifname,
				   port.found ? "on no bridge" :
						"in no namespace capnet can see (the host's or one "
						"under /run/netns)");
			err = -EINVAL;
			break;
		}
		if (c.ino[last] != sw_ino || port.bridge_ifindex != plan->bridge_ifindex) {
			error_note("adopt: %s is on bridge %s in %s, node 1 (%s) on bridge %s in "
				   "%s: a lab is one bridge",
				   node->what, port.bridge, c.path[last], plan->node[1].what,
				   plan->bridge, plan->sw_source);
			err = -EINVAL;
			break;
		}
		if (port.has_clsact) {
			error_note(
				"adopt: %s: its bridge port %s has a clsact qdisc already (another "
				"tool's programs): capnet adopts only ports it can give back as "
				"they were",
				node->what, port.port);
			err = -EBUSY;
			break;
		}
		snprintf(node->port, sizeof(node->port), "%s", port.port);
		node->port_ifindex = port.port_ifindex;
	}
out:
	free(c.path);
	free(c.ino);
	free(seen);
	return err;
}

int adopt_apply(const char *lab, const struct adopt_plan *plan)
{
	char path[320], tmp[340], name[LAB_NAME_MAX + 16];
	FILE *f;
	int err = 0;

	record_path(lab, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		error_note("adopt: write %s: %s", tmp, strerror(errno));
		return err;
	}
	fprintf(f, "bridge %s %s\n", plan->bridge, plan->sw_source);
	for (unsigned int i = 1; i <= plan->nodes; i++) {
		const struct adopt_node *nd = &plan->node[i];

		fprintf(f, "node %u %s %s %02x:%02x:%02x:%02x:%02x:%02x %s\n", i, nd->port,
			nd->ifname, nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4],
			nd->mac[5], nd->source);
	}
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		error_note("adopt: write %s: %s", path, strerror(-err));
		return err;
	}
	explain("# capnet's record of the adopted lab, %s: the bridge, and per node its port, "
		"interface and MAC",
		path);
	lab_switch_ns(lab, name, sizeof(name));
	err = netns_attach(name, plan->sw_source);
	for (unsigned int i = 1; !err && i <= plan->nodes; i++) {
		lab_node_ns(lab, i, name, sizeof(name));
		err = netns_attach(name, plan->node[i].source);
	}
	return err;
}

bool adopt_is_adopted(const char *lab)
{
	char path[320];

	record_path(lab, path, sizeof(path));
	return !access(path, F_OK);
}

/* The record, read back into plan. -ENOENT without one, -EIO when it is not ours. */
static int read_record(const char *lab, struct adopt_plan *plan)
{
	char path[320], line[1024];
	unsigned int i;
	FILE *f;
	int err = 0;

	memset(plan, 0, sizeof(*plan));
	record_path(lab, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		struct adopt_node nd = { 0 };
		unsigned int m[6];

		if (sscanf(line, "bridge %15s %319s", plan->bridge, plan->sw_source) == 2)
			continue;
		if (sscanf(line, "node %u %15s %15s %x:%x:%x:%x:%x:%x %319s", &i, nd.port,
			   nd.ifname, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], nd.source) != 10 ||
		    i != plan->nodes + 1 || i > CAPNET_MAX_NODES) {
			error_note("lab %s: %s is not capnet's record of an adopted lab", lab,
				   path);
			err = -EIO;
			break;
		}
		for (int k = 0; k < 6; k++)
			nd.mac[k] = (uint8_t)m[k];
		plan->node[i] = nd;
		plan->nodes = i;
	}
	fclose(f);
	return err;
}

struct ports_look {
	struct adopt_plan *plan;
	struct lab_info *info;
	const char *lab;
};

static int look_ports(struct nl_sock *sk, struct nl_cache *links, void *arg)
{
	struct ports_look *pl = arg;
	int bridge = rtnl_link_name2i(links, pl->plan->bridge);

	(void)sk;
	if (!bridge) {
		error_note("lab %s is not whole: its bridge %s is gone (capnet --lab %s down gives "
			   "back the rest)",
			   pl->lab, pl->plan->bridge, pl->lab);
		return -EIO;
	}
	for (unsigned int i = 1; i <= pl->plan->nodes; i++) {
		struct rtnl_link *l = rtnl_link_get_by_name(links, pl->plan->node[i].port);
		bool ok = l && (int)rtnl_link_get_master(l) == bridge;

		if (ok)
			pl->info->port_ifindex[i] = rtnl_link_get_ifindex(l);
		rtnl_link_put(l);
		if (!ok) {
			error_note("lab %s is not whole: node %u's port %s is %s (its container "
				   "stopped, or its interface %s went away; capnet --lab %s down "
				   "gives back the rest)",
				   pl->lab, i, pl->plan->node[i].port,
				   l ? "no longer on bridge " : "gone", pl->plan->node[i].ifname,
				   pl->lab);
			return -EIO;
		}
	}
	return 0;
}

int adopt_discover(const char *lab, struct lab_info *info)
{
	struct adopt_plan *plan = malloc(sizeof(*plan));
	struct ports_look pl = { .plan = plan, .info = info, .lab = lab };
	char sw[LAB_NAME_MAX + 16], path[320];
	int err;

	if (!plan)
		return -ENOMEM;
	err = read_record(lab, plan);
	if (err)
		goto out;
	info->adopted = true;
	info->nodes = plan->nodes;
	for (unsigned int i = 1; i <= plan->nodes; i++)
		memcpy(info->node_mac[i], plan->node[i].mac, 6);
	lab_switch_ns(lab, sw, sizeof(sw));
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, sw);
	err = in_ns(path, look_ports, &pl);
	if (err && err != -EIO) {
		error_note("lab %s is not whole: its switch namespace %s: %s", lab, sw,
			   strerror(-err));
		err = -EIO;
	}
out:
	free(plan);
	return err;
}

int adopt_node_macs(const char *lab, uint8_t (*macs)[6], unsigned int n)
{
	struct adopt_plan *plan = malloc(sizeof(*plan));
	int err = plan ? read_record(lab, plan) : -ENOMEM;

	for (unsigned int i = 1; !err && i <= n && i <= plan->nodes; i++)
		memcpy(macs[i], plan->node[i].mac, 6);
	free(plan);
	return err;
}

void adopt_node_ifname(const char *lab, unsigned int node, char *buf, size_t len)
{
	struct adopt_plan *plan;

	snprintf(buf, len, "%s", NODE_IF);
	if (!adopt_is_adopted(lab))
		return;
	plan = malloc(sizeof(*plan));
	if (plan && !read_record(lab, plan) && node >= 1 && node <= plan->nodes)
		snprintf(buf, len, "%s", plan->node[node].ifname);
	free(plan);
}

static int release_ports(struct nl_sock *sk, struct nl_cache *links, void *arg)
{
	const struct adopt_plan *plan = arg;

	for (unsigned int i = 1; i <= plan->nodes; i++) {
		int ifindex = rtnl_link_name2i(links, plan->node[i].port);
		struct rtnl_qdisc *q;

		if (!ifindex)
			continue; /* gone with its container */
		q = rtnl_qdisc_alloc();
		if (!q)
			return -ENOMEM;
		/* The qdisc is capnet's (adopt refuses a port that had one): deleting it takes the
		 * filter and the ARP program with it. */
		rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
		rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
		rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
		rtnl_qdisc_delete(sk, q);
		rtnl_qdisc_put(q);
		explain("nsenter --net=%s tc qdisc del dev %s clsact", plan->sw_source,
			plan->node[i].port);
	}
	return 0;
}

int adopt_release(const char *lab)
{
	struct adopt_plan *plan;
	char name[LAB_NAME_MAX + 16], path[320];
	int err;

	if (!adopt_is_adopted(lab))
		return 0;
	plan = malloc(sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	err = read_record(lab, plan);
	if (!err) {
		lab_switch_ns(lab, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
		/* Through the record's own path when the name is gone already. */
		if (in_ns(path, release_ports, plan))
			in_ns(plan->sw_source, release_ports, plan);
		netns_delete(name);
		for (unsigned int i = 1; i <= plan->nodes; i++) {
			lab_node_ns(lab, i, name, sizeof(name));
			netns_delete(name);
		}
		record_path(lab, path, sizeof(path));
		unlink(path);
	}
	free(plan);
	return err;
}
