/* SPDX-License-Identifier: GPL-2.0-only */
/* Labs of namespaces capnet did not build (capnet adopt): the containers of Docker, Podman or
 * CNI, or namespaces an `ip` script made, each joined to one bridge by a veth pair. capnet names
 * them <lab>-n<i> and the bridge's namespace <lab>-sw, as `ip netns attach` does, so every
 * command finds them where it finds its own; a record in the lab's run directory says which
 * host-side veth is each node's port and what each node's MAC is. Nothing inside the namespaces
 * changes. Releasing takes off the qdiscs that hold the filter and the names, nothing else. */
#ifndef CAPNET_ADOPT_H
#define CAPNET_ADOPT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/partition.h"
#include "netem/lab/topology.h"

#define ADOPT_IFNAME 16 /* IFNAMSIZ, without the header that clashes with linux/if.h */

struct adopt_node {
	char source[320]; /* the namespace file: /run/netns/NAME or /proc/PID/ns/net */
	char what[96]; /* for people: "namespace web1", "pid 4242" */
	char ifname[ADOPT_IFNAME]; /* its interface, inside */
	uint8_t mac[6];
	char port[ADOPT_IFNAME]; /* the host-side veth, a port of the bridge */
	int port_ifindex;
};

struct adopt_plan {
	unsigned int nodes;
	struct adopt_node node[CAPNET_MAX_NODES + 1]; /* 1-based */
	char sw_source[320]; /* the bridge's namespace file */
	char bridge[ADOPT_IFNAME];
	int bridge_ifindex;
};

/* Finds, for each of items (namespace names under /run/netns, or pids when pids), its veth,
 * the bridge port at the other end and the bridge, looking in the host's namespace and every
 * named one. Refuses, with the message left (lib/report.h): a namespace or pid that does not
 * exist, the host's own namespace, one given twice, one already a node of a lab, one with no
 * veth or several, a veth whose other end is on no bridge, two on different bridges, a port
 * with a clsact qdisc already (another tool's programs, which capnet could not give back as
 * they were). 0 or -errno. Changes nothing. */
int adopt_plan_make(char *const *items, unsigned int n, bool pids, struct adopt_plan *plan);

/* Writes the record, then names the namespaces <lab>-sw and <lab>-n<i>. 0 or -errno with the
 * message left; on failure, what it made is for adopt_release to take back. */
int adopt_apply(const char *lab, const struct adopt_plan *plan);

/* Whether the lab is an adopted one (its record is there). */
bool adopt_is_adopted(const char *lab);

/* The lab's ports and MACs from its record, each port checked to be on the bridge still: fills
 * info (adopted, nodes, port_ifindex, node_mac). -ENOENT without a record; -EIO with the message
 * left when a port or the bridge is gone (a container stopped, an interface deleted). */
int adopt_discover(const char *lab, struct lab_info *info);

/* The nodes' MACs from the record, macs[1..n]. 0, -ENOENT when the lab is not adopted. */
int adopt_node_macs(const char *lab, uint8_t (*macs)[6], unsigned int n);

/* Node i's interface inside its namespace: NODE_IF (eth0), or what an adopted namespace's is
 * called. */
void adopt_node_ifname(const char *lab, unsigned int node, char *buf, size_t len);

/* Takes off what capnet added to an adopted lab: the clsact qdisc of every port still there
 * (with the filter and the ARP program in it), the names <lab>-sw and <lab>-n<i>, and the
 * record. The namespaces, their processes, the veths and the bridge stay as they were.
 * Idempotent; 0 when the lab is not adopted. */
int adopt_release(const char *lab);

#endif /* CAPNET_ADOPT_H */
