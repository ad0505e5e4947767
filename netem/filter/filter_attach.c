// SPDX-License-Identifier: GPL-2.0-only
/* Loading the filter and hooking it into a lab: the skeleton load, the pins, the node maps,
 * and the attach at every switch port's egress (clsact or tcx) with the ARP responder at
 * ingress. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/files.h"
#include "lib/report.h"
#include "lib/test_hook.h"
#include "netem/lab/lab_record.h"
#include "netem/explain.h"
#include "netem/filter/clsact_bulk.h"
#include "netem/filter/filter_internal.h"
#include "partition.skel.h"

/* Where make leaves the object the skeleton embeds, for --explain's bpftool lines. */
#define BPF_OBJECT ".output/partition.bpf.o"

static const char *hint(int err)
{
	if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
		return " (run as root, with CAP_BPF and CAP_NET_ADMIN)";
	return "";
}

/* bpffs may not be mounted on a fresh machine: mount it, as `mount -t bpf` would. */
static int bpffs_ensure(void)
{
	struct statfs fs;

	if (statfs(CAPNET_BPFFS, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
		return 0;
	explain("mount -t bpf bpf %s", CAPNET_BPFFS);
	if (mount("bpf", CAPNET_BPFFS, "bpf", 0, "mode=0700")) {
		int err = -errno;

		error_note("mount bpffs on %s: %s%s", CAPNET_BPFFS, strerror(errno), hint(err));
		return err;
	}
	return 0;
}

/* A node's MAC: capnet's own, or the one an adopted namespace has. */
static void node_mac(const struct lab_info *info, unsigned int node, uint8_t mac[6])
{
	if (info->adopted)
		memcpy(mac, info->node_mac[node], 6);
	else
		lab_node_mac(node, mac);
}

static uint64_t mac_key(const struct lab_info *info, unsigned int node)
{
	uint8_t mac[6];
	uint64_t key = 0;

	node_mac(info, node, mac);
	memcpy(&key, mac, sizeof(mac));
	return key;
}

static int fill_node_maps(struct partition_bpf *skel, const struct lab_config *cfg,
			  const struct lab_info *info)
{
	int mac_fd = bpf_map__fd(skel->maps.node_of_mac);
	int port_fd = bpf_map__fd(skel->maps.node_of_port);
	char pin[256];
	unsigned int i;

	filter_pin_dir(cfg->name, pin, sizeof(pin));
	for (i = 1; i <= cfg->nodes; i++) {
		uint64_t mac = mac_key(info, i);
		uint32_t node = i, ifindex = info->port_ifindex[i];
		uint8_t m[6];

		if (ifindex >= CAPNET_PORT_SLOTS) {
			error_note(
				"filter: port p%u has interface index %u, beyond the %d the filter "
				"maps (was the switch namespace reused?)",
				i, ifindex, CAPNET_PORT_SLOTS);
			return -ERANGE;
		}

		/* A node on another host has no port here; its MAC is still known, so frames
		 * from it (through VXLAN) are judged by their source. */
		if (bpf_map_update_elem(mac_fd, &mac, &node, BPF_ANY) ||
		    (ifindex && bpf_map_update_elem(port_fd, &ifindex, &node, BPF_ANY))) {
			int err = -errno;

			error_note("filter: fill node maps: %s", strerror(errno));
			return err;
		}
		node_mac(info, i, m);
		if (explain_enabled()) {
			char meaning[96];

			snprintf(meaning, sizeof(meaning),
				 "node_of_mac[%02x:%02x:%02x:%02x:%02x:%02x] = node %u", m[0], m[1],
				 m[2], m[3], m[4], m[5], i);
			filter_explain_update(pin, "node_of_mac", &mac, sizeof(mac), &node,
					      sizeof(node), meaning);
			if (!ifindex)
				continue;
			snprintf(meaning, sizeof(meaning),
				 "node_of_port[ifindex %u, p%u] = node %u", ifindex, i, i);
			filter_explain_update(pin, "node_of_port", &ifindex, sizeof(ifindex), &node,
					      sizeof(node), meaning);
		}
	}
	return 0;
}

/* tcx's attach types (Linux 6.6); the uapi headers of older systems do not name them. */
#define CAPNET_TCX_INGRESS ((enum bpf_attach_type)46)
#define CAPNET_TCX_EGRESS ((enum bpf_attach_type)47)

const char *filter_hook_name(enum filter_hook hook)
{
	switch (hook) {
	case FILTER_HOOK_TCX:
		return "tcx";
	case FILTER_HOOK_CLSACT:
		return "clsact";
	case FILTER_HOOK_BLOCKS:
		return "blocks";
	case FILTER_HOOK_AUTO:
		break;
	}
	return "none";
}

int filter_hook_parse(const char *text, enum filter_hook *hook)
{
	if (!strcmp(text, "tcx"))
		*hook = FILTER_HOOK_TCX;
	else if (!strcmp(text, "clsact"))
		*hook = FILTER_HOOK_CLSACT;
	else if (!strcmp(text, "blocks"))
		*hook = FILTER_HOOK_BLOCKS;
	else
		return -EINVAL;
	return 0;
}

int filter_port_attach(int ifindex, int prog_fd, enum filter_hook hook)
{
	LIBBPF_OPTS(bpf_prog_attach_opts, opts);
	LIBBPF_OPTS(bpf_tc_hook, tc_hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts, .prog_fd = prog_fd, .handle = 1, .priority = 1);
	int err;

	if (hook == FILTER_HOOK_TCX) {
		err = bpf_prog_attach_opts(prog_fd, ifindex, CAPNET_TCX_EGRESS, &opts);
		/* Already there (the same program attached twice): nothing to do. */
		return err == -EEXIST ? 0 : err;
	}
	err = bpf_tc_hook_create(&tc_hook);
	if (err && err != -EEXIST)
		return err;
	tc_opts.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&tc_hook, &tc_opts);
}

int filter_port_detach(int ifindex, int prog_fd, enum filter_hook hook)
{
	LIBBPF_OPTS(bpf_tc_hook, tc_hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts, .handle = 1, .priority = 1);
	int err;

	if (hook == FILTER_HOOK_TCX)
		err = bpf_prog_detach2(prog_fd, ifindex, CAPNET_TCX_EGRESS);
	else
		err = bpf_tc_detach(&tc_hook, &tc_opts);
	return err == -ENOENT ? 0 : err;
}

bool filter_port_has_tcx(int ifindex, uint32_t prog_id)
{
	uint32_t ids[8], count = 8, flags = 0, i;

	if (bpf_prog_query(ifindex, CAPNET_TCX_EGRESS, 0, &flags, ids, &count))
		return false;
	for (i = 0; i < count && i < 8; i++)
		if (ids[i] == prog_id)
			return true;
	return false;
}

uint32_t filter_port_tcx_other(int ifindex, uint32_t own_id)
{
	static const enum bpf_attach_type points[] = { CAPNET_TCX_INGRESS, CAPNET_TCX_EGRESS };
	uint32_t ids[8], count, flags, i, p;

	for (p = 0; p < 2; p++) {
		count = 8;
		flags = 0;
		/* ENOSPC: more than fit, and the first eight are there all the same. */
		if (bpf_prog_query(ifindex, points[p], 0, &flags, ids, &count) && errno != ENOSPC)
			continue;
		for (i = 0; i < count && i < 8; i++)
			if (ids[i] != own_id)
				return ids[i];
	}
	return 0;
}

enum filter_hook filter_port_hook(int ifindex, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	uint32_t ids[8], count = 8, flags = 0, i;

	if (!bpf_prog_query(ifindex, CAPNET_TCX_EGRESS, 0, &flags, ids, &count))
		for (i = 0; i < count && i < 8; i++)
			if (ids[i] == prog_id)
				return FILTER_HOOK_TCX;
	if (!bpf_tc_query(&hook, &opts) && opts.prog_id == prog_id)
		return FILTER_HOOK_CLSACT;
	return FILTER_HOOK_AUTO;
}

static void explain_attach(const char *sw, const char *pin, unsigned int port, unsigned int nodes,
			   enum filter_hook hook)
{
	/* nsenter, not ip netns exec: that one remounts /sys, and the pins go with it. */
	(void)nodes;
	if (port == 1 && hook == FILTER_HOOK_TCX)
		explain("# tcx: tc's BPF hook without a qdisc (Linux 6.6). Debian 12's bpftool 7.1 "
			"cannot attach through it (7.3 can, as below); capnet up with the default "
			"hook, blocks, or with clsact builds a lab whose every line replays");
	if (hook == FILTER_HOOK_TCX) {
		explain("# nsenter --net=%s/%s bpftool net attach tcx_egress pinned %s/%s dev p%u",
			NETNS_RUN_DIR, sw, pin, PROG_PIN_NAME, port);
	} else {
		explain("nsenter --net=%s/%s tc qdisc add dev p%u clsact", NETNS_RUN_DIR, sw, port);
		explain("nsenter --net=%s/%s tc filter add dev p%u egress handle 1 pref 1 bpf "
			"direct-action pinned %s/%s",
			NETNS_RUN_DIR, sw, port, pin, PROG_PIN_NAME);
	}
}

/* The two shared blocks of a lab's ports, egress and ingress. */
struct lab_blocks {
	uint32_t egress, ingress;
};

/* Binds every port's new clsact qdisc to two blocks no other qdisc of the switch namespace is
 * bound to (a lab's own namespace has none; an adopted lab's may hold another's), recorded
 * first, then gives the egress block the filter. */
static int attach_blocks(const struct lab_config *cfg, const struct lab_info *info, int prog_fd,
			 struct lab_blocks *blocks)
{
	static int ifindex[CAPNET_NODE_SLOTS];
	static unsigned int node[CAPNET_NODE_SLOTS];
	unsigned int i, failed = 0, ports = lab_ports_here(info, ifindex, node);
	char sw[64], pin[256];
	uint32_t highest = 0;
	int saved, err, ns_lock = -1;

	lab_switch_ns(cfg->name, sw, sizeof(sw));
	filter_pin_dir(cfg->name, pin, sizeof(pin));
	saved = netns_enter(sw);
	if (saved < 0)
		return saved;
	/* Two labs adopted on bridges of one namespace, coming up at once, would both take the
	 * blocks after the highest bound: the namespace itself, locked, makes them take turns
	 * from choosing the blocks until the filter holds its block. */
	ns_lock = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns_lock < 0 || flock(ns_lock, LOCK_EX)) {
		err = -errno;
		error_note("lock the namespace %s: %s", sw, strerror(-err));
		goto out;
	}
	err = clsact_highest_block(&highest);
	if (err) {
		error_note("list the qdiscs of %s: %s%s", sw, strerror(-err), hint(err));
		goto out;
	}
	blocks->egress = highest + 1;
	blocks->ingress = highest + 2;
	err = lab_record_blocks_create(cfg->name, blocks->egress, blocks->ingress);
	if (err)
		goto out;
	explain("# every port's clsact qdisc is bound to two shared blocks, %u at egress and %u at "
		"ingress: their filters, added once, run for every port bound to them",
		blocks->egress, blocks->ingress);
	for (i = 0; i < ports && explain_enabled(); i++)
		explain("nsenter --net=%s/%s tc qdisc add dev p%u ingress_block %u egress_block %u "
			"clsact",
			NETNS_RUN_DIR, sw, node[i], blocks->ingress, blocks->egress);
	err = clsact_bind_all(ifindex, ports, blocks->ingress, blocks->egress, &failed);
	if (err) {
		error_note("bind p%u to the lab's tc blocks: %s%s",
			   failed < ports ? node[failed] : failed + 1, strerror(-err), hint(err));
		goto out;
	}
	explain("nsenter --net=%s/%s tc filter add block %u handle 1 pref 1 bpf direct-action "
		"pinned %s/%s",
		NETNS_RUN_DIR, sw, blocks->egress, pin, PROG_PIN_NAME);
	err = ports ? clsact_block_attach(blocks->egress, ETH_P_ALL, prog_fd, PROG_PIN_NAME) : 0;
	if (err)
		error_note("attach the filter to tc block %u: %s%s", blocks->egress, strerror(-err),
			   hint(err));
out:
	if (ns_lock >= 0)
		close(ns_lock);
	netns_return(saved);
	return err;
}

/* The ARP responder (capnet_arp) at ingress of every port, for ARP frames only: in the lab's
 * ingress block, or on every port in one batch, with the clsact qdisc when the egress filter
 * went through tcx and made none. */
static int attach_arp(const struct lab_config *cfg, const struct lab_info *info, int prog_fd,
		      enum filter_hook hook, const struct lab_blocks *blocks)
{
	static int ifindex[CAPNET_NODE_SLOTS];
	static unsigned int node[CAPNET_NODE_SLOTS];
	char sw[64], pin[256];
	unsigned int i, failed = 0, ports = lab_ports_here(info, ifindex, node);
	int saved, err;

	lab_switch_ns(cfg->name, sw, sizeof(sw));
	filter_pin_dir(cfg->name, pin, sizeof(pin));
	if (explain_enabled())
		explain("# ARP is answered at the switch: a node's request for a node's address "
			"comes back from its own port at once, so no node keeps an entry per peer "
			"and no request is flooded");
	if (hook == FILTER_HOOK_BLOCKS) {
		explain("nsenter --net=%s/%s tc filter add block %u protocol arp handle 1 pref 1 "
			"bpf direct-action pinned %s/%s",
			NETNS_RUN_DIR, sw, blocks->ingress, pin, ARP_PIN_NAME);
		if (!ports)
			return 0;
		saved = netns_enter(sw);
		if (saved < 0)
			return saved;
		err = clsact_block_attach(blocks->ingress, ETH_P_ARP, prog_fd, ARP_PIN_NAME);
		netns_return(saved);
		if (err)
			error_note("attach the ARP responder to tc block %u: %s%s", blocks->ingress,
				   strerror(-err), hint(err));
		return err;
	}
	if (explain_enabled()) {
		for (i = 1; i <= cfg->nodes; i++) {
			if (!lab_node_is_here(info, i))
				continue;
			if (hook == FILTER_HOOK_TCX)
				explain("nsenter --net=%s/%s tc qdisc add dev p%u clsact",
					NETNS_RUN_DIR, sw, i);
			explain("nsenter --net=%s/%s tc filter add dev p%u ingress protocol arp "
				"handle 1 pref 1 bpf direct-action pinned %s/%s",
				NETNS_RUN_DIR, sw, i, pin, ARP_PIN_NAME);
		}
	}
	saved = netns_enter(sw);
	if (saved < 0)
		return saved;
	err = clsact_attach_all(ifindex, ports, hook == FILTER_HOOK_TCX, true, ETH_P_ARP, prog_fd,
				ARP_PIN_NAME, &failed);
	netns_return(saved);
	if (err)
		error_note("attach the ARP responder at ingress of p%u: %s%s",
			   failed < ports ? node[failed] : failed + 1, strerror(-err), hint(err));
	return err;
}

/* Attaches the program at egress of every port: through the lab's shared blocks unless a hook
 * of each port's own is asked for. tcx costs less per frame but waits for an RCU grace period
 * under RTNL at every attach, one port after the other: near nothing on some machines, 12 to
 * 18 ms a port on a busy 2-CPU one (tools/bench/README.md), so it is for labs built once and
 * flooded long; it has no blocks, so it stays a program per port. */
static int attach_ports(const struct lab_config *cfg, const struct lab_info *info, int prog_fd,
			enum filter_hook *used, struct lab_blocks *blocks)
{
	enum filter_hook hook = cfg->filter_hook == FILTER_HOOK_AUTO ? FILTER_HOOK_BLOCKS :
								       cfg->filter_hook;
	char sw[64], pin[256];
	unsigned int i;
	int saved, err = 0;

	*used = hook;
	if (hook == FILTER_HOOK_BLOCKS)
		return attach_blocks(cfg, info, prog_fd, blocks);
	lab_switch_ns(cfg->name, sw, sizeof(sw));
	filter_pin_dir(cfg->name, pin, sizeof(pin));
	saved = netns_enter(sw);
	if (saved < 0)
		return saved;
	for (i = 1; i <= cfg->nodes; i++) {
		if (!lab_node_is_here(info, i))
			continue;
		err = filter_port_attach(info->port_ifindex[i], prog_fd, hook);
		explain_attach(sw, pin, i, cfg->nodes, hook);
		if (err) {
			error_note("attach the filter at egress of p%u (%s): %s%s%s", i,
				   filter_hook_name(hook), strerror(-err), hint(err),
				   hook == FILTER_HOOK_TCX && err == -EINVAL ?
					   " (tcx needs Linux 6.6: capnet up without --hook tcx)" :
					   "");
			break;
		}
	}
	netns_return(saved);
	return err;
}

int filter_install(const struct lab_config *cfg, const struct lab_info *info,
		   enum filter_hook *used)
{
	struct partition_bpf *skel = NULL;
	struct capnet_lab_meta meta = {
		.version = CAPNET_LAB_META_VERSION,
		.nodes = cfg->nodes,
		.subnet = cfg->subnet,
		.prefix = cfg->prefix,
	};
	struct lab_blocks blocks = {};
	struct filter *f = NULL;
	uint32_t zero = 0, link_slots;
	char dir[256], path[320];
	struct bpf_map *map;
	int err;

	libbpf_set_print(filter_libbpf_print);
	err = bpffs_ensure();
	if (err)
		return err;
	filter_pin_dir(cfg->name, dir, sizeof(dir));
	explain("mkdir -p %s", dir);
	err = files_mkdir_p(dir, 0700);
	if (err) {
		error_note("mkdir -p %s: %s", dir, strerror(-err));
		return err;
	}

	skel = partition_bpf__open();
	if (!skel) {
		err = -errno;
		error_note("filter: open BPF object: %s", strerror(errno));
		return err;
	}
	/* One pass counter per directed link; drop entries are only made for links that drop. */
	link_slots = cfg->nodes * cfg->nodes;
	bpf_map__set_max_entries(skel->maps.link_passed, link_slots);
	bpf_map__set_max_entries(skel->maps.link_drops, link_slots);
	err = partition_bpf__load(skel);
	if (err) {
		error_note("filter: load BPF program: %s%s (capnet -v shows the verifier's log)",
			   strerror(-err), hint(err));
		goto out;
	}

	bpf_object__for_each_map(map, skel->obj)
	{
		if (!strcmp(bpf_map__name(map), ".bss") || !strcmp(bpf_map__name(map), ".rodata"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			error_note("filter: pin %s: %s", path, strerror(-err));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PROG_PIN_NAME);
	/* bpftool loads maps at the sizes the object declares: the two sized by the lab's size
	 * are made first, in a folder of their own, and handed to the load. */
	explain("mkdir -p %s-sized", dir);
	explain("bpftool map create %s-sized/link_passed type array key 4 value 8 entries %u "
		"name link_passed   # (src - 1) * %u + (dst - 1)",
		dir, link_slots, cfg->nodes);
	explain("bpftool map create %s-sized/link_drops type hash key 4 value %zu entries %u "
		"name link_drops flags 1   # BPF_F_NO_PREALLOC",
		dir, sizeof(struct capnet_link_drops), link_slots);
	explain("bpftool prog loadall %s %s type classifier map name link_passed pinned "
		"%s-sized/link_passed map name link_drops pinned %s-sized/link_drops pinmaps %s   "
		"# make builds the object",
		BPF_OBJECT, dir, dir, dir, dir);
	explain("rm -r %s-sized", dir);
	err = bpf_program__pin(skel->progs.capnet_egress, path);
	if (err) {
		error_note("filter: pin %s: %s", path, strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, ARP_PIN_NAME);
	err = bpf_program__pin(skel->progs.capnet_arp, path);
	if (err) {
		error_note("filter: pin %s: %s", path, strerror(-err));
		goto out;
	}

	test_hook_phase("maps-pinned");
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.lab_meta), &zero, &meta, BPF_ANY)) {
		err = -errno;
		error_note("filter: write lab_meta: %s", strerror(errno));
		goto out;
	}
	filter_explain_update(dir, "lab_meta", &zero, sizeof(zero), &meta, sizeof(meta),
			      "lab_meta: version, nodes, subnet (host order), prefix, whole = 0");
	err = fill_node_maps(skel, cfg, info);
	if (err)
		goto out;
	err = filter_open(cfg->name, &f);
	if (err) {
		error_note("filter: reopen pins of lab %s: %s", cfg->name, strerror(-err));
		goto out;
	}
	err = filter_write_healthy(f);
	if (err)
		goto out;
	test_hook_phase("pinned");
	err = attach_ports(cfg, info, bpf_program__fd(skel->progs.capnet_egress), used, &blocks);
	if (!err)
		test_hook_phase("filter-attached");
	if (!err)
		err = attach_arp(cfg, info, bpf_program__fd(skel->progs.capnet_arp), *used,
				 &blocks);
out:
	filter_close(f);
	partition_bpf__destroy(skel);
	return err;
}
