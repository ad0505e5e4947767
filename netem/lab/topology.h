/* SPDX-License-Identifier: GPL-2.0-only */
/* The lab's topology: one namespace per node and a switch namespace with a bridge, joined by
 * veth pairs, all through libnl-route-3 and setns (no ip processes). */
#ifndef CAPNET_TOPOLOGY_H
#define CAPNET_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "lib/lab_name.h"

struct lab_config {
	char name[LAB_NAME_MAX + 1]; /* [A-Za-z0-9_-], 1..LAB_NAME_MAX chars */
	unsigned int nodes; /* 1..CAPNET_MAX_NODES */
	uint32_t subnet; /* network address, host order (default 10.77.0.0) */
	unsigned int prefix; /* default 16 */
	unsigned int
		filter_hook; /* enum filter_hook (netem/filter/filter.h): default clsact, or tcx */
	/* One host's share of a lab across hosts (netem/hosts): NULL builds every node here;
	 * else only the nodes i with node_here[i], the others living on other hosts. */
	const bool *node_here;
	unsigned int mtu; /* 0: the kernel's default; else of every port and eth0 */
	/* Called after each node is built, for a progress line; may be NULL. */
	void (*node_built)(unsigned int node, unsigned int nodes, void *arg);
	void *node_built_arg;
};

/* What a running lab looks like, rediscovered from the kernel. */
struct lab_info {
	char name[LAB_NAME_MAX + 1];
	unsigned int nodes;
	int port_ifindex[1024]; /* [node]: ifindex of switch port p<node> in <lab>-sw */
	/* One host's share of a lab across hosts: nodes on other hosts have port_ifindex 0. */
	bool shared;
	/* A lab of namespaces capnet did not build (capnet adopt, netem/lab/adopt.h): its ports
	 * have the names the runtime gave them, its nodes their own MACs. */
	bool adopted;
	uint8_t node_mac[1024][6];
};

/* Whether node i of a discovered lab lives on this host. */
static inline bool lab_node_is_here(const struct lab_info *info, unsigned int node)
{
	return !info->shared || info->port_ifindex[node] != 0;
}

/* The ports of the nodes on this host, in node order: their ifindexes and nodes (arrays of
 * info->nodes entries at least). Returns how many: every node but in a share of a lab across
 * hosts. */
unsigned int lab_ports_here(const struct lab_info *info, int *ifindex, unsigned int *node);

struct nl_sock;
/* A route netlink socket in the current namespace (ns names it in messages). 0 or -errno. */
int nl_open_here(const char *ns, struct nl_sock **out);

/* Every node's side of its veth. */
#define NODE_IF "eth0"

/* The subnet of a lab when `up` is given none. */
#define LAB_DEFAULT_SUBNET "10.77.0.0/16"
/* "10.77.0.0/16": fails on junk, host bits set, or a subnet too small for `nodes` hosts. */
int lab_parse_subnet(const char *text, unsigned int nodes, uint32_t *subnet, unsigned int *prefix,
		     char *err, size_t errlen);
/* The address of node i: the i-th host of the subnet (host order). */
uint32_t lab_node_addr(const struct lab_config *cfg, unsigned int node);
/* 02:ca:fe:00:<i/256>:<i%256> */
void lab_node_mac(unsigned int node, uint8_t mac[6]);

/* Namespace names: "<lab>-sw" and "<lab>-n<i>". */
void lab_switch_ns(const char *lab, char *buf, size_t len);
void lab_node_ns(const char *lab, unsigned int node, char *buf, size_t len);

/* Builds the lab: namespaces (named, as `ip netns add` makes them, under /run/netns), bridge br0
 * and ports p1..pN in <lab>-sw with bridge netfilter off, eth0 in every <lab>-n<i> with its
 * address, MAC and loopback up (no neighbour entries: the filter's ARP responder at the switch
 * answers every node's requests); returns once every port forwards. Fails with -EEXIST, creating nothing, if any namespace of the lab already
 * exists. On any other failure it removes what it built, as `down` does. Every step is announced
 * through explain(). Returns 0 or -errno and prints one line on stderr. */
int lab_topology_up(const struct lab_config *cfg);
/* Removes the switch namespace (and with it every port and peer) and every node namespace of
 * the lab, also the remains of a crashed up. Idempotent: 0 when nothing was there. */
int lab_topology_down(const char *lab);
/* Rediscovers a running lab: number of nodes and port ifindexes. -ENOENT if there is none;
 * -EIO (with a message) if it is broken (a node namespace or port missing). */
int lab_topology_discover(const char *lab, struct lab_info *info);
/* Enters / leaves a named namespace: netns_enter returns an fd of the namespace we came from.
 * Both act on the calling thread only. They print nothing: the caller knows what the namespace
 * was for and reports (-ENOENT: no such namespace). */
int netns_enter(const char *name);
int netns_return(int saved_fd);
/* netns_enter for a namespace file by its path (/proc/PID/ns/net). */
int netns_enter_file(const char *path);
/* fork() into a named namespace and a session of its own (so that a signal to its process
 * group reaches whatever it forks): 0 in the child, which _exit(126)s if it cannot enter; the
 * child's pid in the parent; -errno. */
pid_t netns_fork_session(const char *name);
/* An fd of the named namespace (O_RDONLY on /run/netns/NAME) or -errno. Prints nothing. */
int netns_open(const char *name);
/* The first IPv4 address of the named namespace that is not loopback's (a node's own), as text
 * into buf: 0, -ENOENT when it has none, -errno. Prints nothing. */
int netns_address(const char *name, char *buf, size_t len);

/* Named namespaces as `ip netns add/del` make them (netem/lab/netns.c). */
#define NETNS_RUN_DIR "/run/netns"
/* Creates /run/netns/NAME bound to a new network namespace; the calling thread stays where it
 * was. -EEXIST if the name is taken. Reports its own errors and explains `ip netns add`. */
int netns_create(const char *name);
/* Names the namespace of ns_file (/proc/PID/ns/net, another /run/netns/X) NAME too, as
 * `ip netns attach` does: nothing in it changes, and netns_delete(NAME) later removes only the
 * name. Reports its own errors. */
int netns_attach(const char *name, const char *ns_file);
/* Unmounts and removes /run/netns/NAME (the namespace dies with its last user). -ENOENT, silently,
 * if there is no such name; other errors are reported. Explains `ip netns del`. */
int netns_delete(const char *name);
/* Calls fn for every name under /run/netns (none if the directory does not exist), stopping at
 * the first nonzero return, which it passes on. */
int netns_for_each(int (*fn)(const char *name, void *arg), void *arg);

/* Which namespace of `lab` the namespace `ns` is: 0 for <lab>-sw, i for <lab>-n<i> (i in
 * 1..CAPNET_MAX_NODES, no leading zeros), -1 if it is not one of the lab's. A suffix ("sw" or
 * "n<digits>") never contains '-', so the lab a namespace belongs to is everything before its
 * last '-': lab "a" never claims "a-n1-n2" (node 2 of lab "a-n1"). */
int lab_ns_index(const char *lab, const char *ns);

#endif /* CAPNET_TOPOLOGY_H */
