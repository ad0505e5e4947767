// SPDX-License-Identifier: GPL-2.0-only
/* Whether a lab is whole: `up` finished with the nodes it was asked for, and the filter and
 * the ARP responder are on every port (each its own, or the lab's shared blocks bound to it);
 * `up` marks it whole last. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/report.h"
#include "netem/explain.h"
#include "netem/filter/clsact_bulk.h"
#include "netem/filter/filter_internal.h"
#include "netem/lab/lab_record.h"

/* Ports whose egress runs our pinned program: anything less means a half-working lab. The
 * first port says which hook the lab uses; every port is then asked about that hook in bulk
 * (tcx: one query each, clsact: all in a few netlink round trips), and only the ports without
 * it are asked about the other. */
/* The id of a pinned program of the lab. */
static int pinned_prog_id(const char *dir, const char *name, uint32_t *id)
{
	struct bpf_prog_info pinfo = {};
	__u32 plen = sizeof(pinfo);
	char path[320];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &pinfo, &plen))
		err = -errno;
	close(fd);
	*id = pinfo.id;
	return err;
}

/* A lab on shared blocks: its ports count when their qdisc is bound to the lab's two blocks
 * (one dump of the namespace's qdiscs) and the blocks hold the lab's two programs (one request
 * each). A port bound elsewhere, or to nothing, is missing exactly as a port without its filter
 * is. ingress and egress are arrays of `ports` entries. Called in the switch namespace. */
static int count_bound(const int *ifindex, const unsigned int *node, unsigned int ports,
		       uint32_t egress_id, uint32_t arp_id, uint32_t egress_block,
		       uint32_t ingress_block, uint32_t *ingress, uint32_t *egress,
		       unsigned int *ok, unsigned int *first_missing)
{
	uint32_t in_egress = 0, in_ingress = 0;
	unsigned int i, egress_filters = 0, ingress_filters = 0;
	bool blocks_ok;
	int err;

	err = clsact_block_prog_id(egress_block, ETH_P_ALL, &in_egress);
	if (!err)
		err = clsact_block_prog_id(ingress_block, ETH_P_ARP, &in_ingress);
	if (!err)
		err = clsact_block_filters(egress_block, &egress_filters);
	if (!err)
		err = clsact_block_filters(ingress_block, &ingress_filters);
	if (!err)
		err = clsact_port_blocks(ifindex, ports, ingress, egress);
	blocks_ok = in_egress == egress_id && in_ingress == arp_id && egress_filters == 1 &&
		    ingress_filters == 1;
	for (i = 0; i < ports && !err; i++) {
		if (blocks_ok && egress[i] == egress_block && ingress[i] == ingress_block &&
		    !filter_port_tcx_other(ifindex[i], egress_id))
			(*ok)++;
		else if (!*first_missing)
			*first_missing = node[i];
	}
	return err;
}

int filter_count_attached(const char *lab, const struct lab_info *info, unsigned int *ok,
			  unsigned int *first_missing, enum filter_hook *hook)
{
	uint32_t egress_block, ingress_block;
	bool blocks;
	static int ifindex[CAPNET_NODE_SLOTS];
	static unsigned int node[CAPNET_NODE_SLOTS];
	char dir[256], sw[64];
	uint32_t *ids = NULL, *arp = NULL, egress_id, arp_id;
	unsigned int *in_count = NULL, *out_count = NULL;
	enum filter_hook first;
	unsigned int i, ports;
	int saved, err;

	*ok = 0;
	*first_missing = 0;
	filter_pin_dir(lab, dir, sizeof(dir));
	err = pinned_prog_id(dir, PROG_PIN_NAME, &egress_id);
	if (!err)
		err = pinned_prog_id(dir, ARP_PIN_NAME, &arp_id);
	/* Only the ports of this host: in a lab across hosts the others are theirs to check. */
	ports = lab_ports_here(info, ifindex, node);
	if (err || !ports)
		return err;
	ids = calloc(ports, sizeof(*ids));
	arp = calloc(ports, sizeof(*arp));
	in_count = calloc(ports, sizeof(*in_count));
	out_count = calloc(ports, sizeof(*out_count));
	if (!ids || !arp || !in_count || !out_count) {
		err = -ENOMEM;
		goto out_free;
	}
	/* What `up` recorded says whether the ports share blocks: a lab whose record is lost is
	 * asked port by port, and its ports bound to blocks then hold no filter of their own. */
	blocks = lab_record_blocks(lab, &egress_block, &ingress_block) == 0;
	lab_switch_ns(lab, sw, sizeof(sw));
	saved = netns_enter(sw);
	if (saved < 0) {
		err = saved;
		goto out_free;
	}
	if (blocks) {
		err = count_bound(ifindex, node, ports, egress_id, arp_id, egress_block,
				  ingress_block, arp, ids, ok, first_missing);
		if (*ok)
			*hook = FILTER_HOOK_BLOCKS;
		goto out;
	}
	/* A port counts when it has both: the filter at egress and the ARP responder at
	 * ingress, without which its node cannot reach anyone. */
	err = clsact_prog_ids(ifindex, ports, true, ETH_P_ARP, arp);
	/* The filter and the ARP responder each alone where they are: another filter beside
	 * either (at the same priority it runs first) can pass what the lab's would drop. */
	if (!err)
		err = clsact_port_filters(ifindex, ports, true, in_count);
	if (!err)
		err = clsact_port_filters(ifindex, ports, false, out_count);
	first = filter_port_hook(ifindex[0], egress_id);
	if (!err && first == FILTER_HOOK_CLSACT)
		err = clsact_prog_ids(ifindex, ports, false, ETH_P_ALL, ids);
	for (i = 0; i < ports && !err; i++) {
		enum filter_hook h = FILTER_HOOK_AUTO;

		if (first == FILTER_HOOK_CLSACT && ids[i] == egress_id)
			h = FILTER_HOOK_CLSACT;
		else if (first == FILTER_HOOK_TCX && filter_port_has_tcx(ifindex[i], egress_id))
			h = FILTER_HOOK_TCX;
		else if (first == FILTER_HOOK_AUTO || i > 0)
			h = filter_port_hook(ifindex[i], egress_id);
		if (h != FILTER_HOOK_AUTO && arp[i] == arp_id && in_count[i] == 1 &&
		    out_count[i] == (h == FILTER_HOOK_CLSACT) &&
		    !filter_port_tcx_other(ifindex[i], egress_id)) {
			(*ok)++;
			*hook = h;
		} else if (!*first_missing) {
			*first_missing = node[i];
		}
	}
out:
	netns_return(saved);
out_free:
	free(ids);
	free(arp);
	free(in_count);
	free(out_count);
	return err;
}

/* The first port that runs another program through tcx, or (a lab without blocks) holds
 * another filter beside the lab's at its clsact qdisc, said in why; empty when none does. */
static void port_fault(const char *lab, const int *ifindex, const unsigned int *node,
		       unsigned int ports, char *why, size_t len)
{
	uint32_t own = 0, other = 0, egress_block, ingress_block;
	bool blocks = lab_record_blocks(lab, &egress_block, &ingress_block) == 0;
	unsigned int i, in = 0, out = 0;
	char dir[256], sw[64];
	int saved;

	why[0] = 0;
	filter_pin_dir(lab, dir, sizeof(dir));
	lab_switch_ns(lab, sw, sizeof(sw));
	if (pinned_prog_id(dir, PROG_PIN_NAME, &own))
		return;
	saved = netns_enter(sw);
	if (saved < 0)
		return;
	for (i = 0; i < ports && !why[0]; i++) {
		other = filter_port_tcx_other(ifindex[i], own);
		if (other) {
			snprintf(
				why, len,
				"p%u runs another program (id %u) through tcx beside the lab's filter",
				node[i], other);
			break;
		}
		if (blocks || clsact_port_filters(&ifindex[i], 1, true, &in) ||
		    clsact_port_filters(&ifindex[i], 1, false, &out))
			continue;
		if (in > 1 || out > 1)
			snprintf(why, len,
				 "p%u holds %u filters at %s, not the lab's alone, and another "
				 "filter there can undo what the lab's does",
				 node[i], in > 1 ? in : out, in > 1 ? "ingress" : "egress");
	}
	netns_return(saved);
}

/* What is wrong with a shared block of the lab, said in why; empty when both blocks hold the
 * lab's program alone (then a port is not bound to them). Only on the way to a refusal. */
static void block_fault(const char *lab, char *why, size_t len)
{
	static const struct {
		const char *pin, *what;
		uint16_t protocol;
		bool egress;
	} blocks[] = { { PROG_PIN_NAME, "filter", ETH_P_ALL, true },
		       { ARP_PIN_NAME, "ARP responder", ETH_P_ARP, false } };
	uint32_t block[2], want, has;
	unsigned int i, filters;
	char dir[256], sw[64];
	int saved;

	why[0] = 0;
	if (lab_record_blocks(lab, &block[0], &block[1]))
		return;
	filter_pin_dir(lab, dir, sizeof(dir));
	lab_switch_ns(lab, sw, sizeof(sw));
	saved = netns_enter(sw);
	if (saved < 0)
		return;
	for (i = 0; i < 2 && !why[0]; i++) {
		if (pinned_prog_id(dir, blocks[i].pin, &want) ||
		    clsact_block_prog_id(block[i], blocks[i].protocol, &has) ||
		    clsact_block_filters(block[i], &filters))
			break;
		if (has != want)
			snprintf(why, len, "block %u (%s) does not hold the lab's %s", block[i],
				 blocks[i].egress ? "egress" : "ingress", blocks[i].what);
		else if (filters != 1)
			snprintf(why, len,
				 "block %u (%s) holds %u filters, not the lab's %s alone, and one "
				 "beside it can pass what it drops",
				 block[i], blocks[i].egress ? "egress" : "ingress", filters,
				 blocks[i].what);
	}
	netns_return(saved);
}

int filter_mark_whole(struct filter *f)
{
	struct capnet_lab_meta meta;
	uint32_t zero = 0;
	char dir[256], v[3 * sizeof(meta) + 1];

	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &meta))
		return -errno;
	meta.whole = 1;
	filter_pin_dir(f->lab, dir, sizeof(dir));
	explain_hex(&meta, sizeof(meta), v, sizeof(v));
	explain("bpftool map update pinned %s/lab_meta key hex 00 00 00 00 value hex %s   # the lab "
		"is whole",
		dir, v);
	if (bpf_map_update_elem(f->fd[FM_LAB_META], &zero, &meta, BPF_ANY))
		return -errno;
	return 0;
}

int filter_check_whole(struct filter *f, const struct lab_info *info)
{
	static int ifindex[CAPNET_NODE_SLOTS];
	static unsigned int node[CAPNET_NODE_SLOTS];
	unsigned int asked = lab_record_nodes(f->lab), attached = 0, missing = 0, size;
	unsigned int ports = lab_ports_here(info, ifindex, node);
	enum filter_hook hook = FILTER_HOOK_AUTO;
	struct capnet_lab_meta meta;
	uint32_t zero = 0;
	char remedy[200], made_by[32];
	int err;

	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &meta))
		return -errno;
	size = asked ? asked : meta.nodes ? meta.nodes : info->nodes;
	lab_record_remedy(f->lab, size, made_by, sizeof(made_by), remedy, sizeof(remedy));
	/* All zero: the maps exist but `up` was stopped before it described the lab in them. */
	if (!meta.version && !meta.nodes) {
		error_note("lab \"%s\" is not whole: %s did not finish; %s rebuilds it", f->lab,
			   made_by, remedy);
		return -EUCLEAN;
	}
	if (meta.version != CAPNET_LAB_META_VERSION) {
		error_note("lab \"%s\" was built by another version of capnet; %s rebuilds it",
			   f->lab, remedy);
		return -EUCLEAN;
	}
	if (asked && asked != info->nodes) {
		error_note("lab \"%s\" is not whole: %s did not finish (%u node namespaces); "
			   "%s rebuilds it",
			   f->lab, made_by, info->nodes, remedy);
		return -EUCLEAN;
	}
	if (!meta.whole) {
		error_note("lab \"%s\" is not whole: %s did not finish; %s rebuilds it", f->lab,
			   made_by, remedy);
		return -EUCLEAN;
	}
	err = filter_count_attached(f->lab, info, &attached, &missing, &hook);
	if (err) {
		error_note("lab \"%s\": read the filter's ports: %s", f->lab, strerror(-err));
		return err;
	}
	if (attached != ports) {
		uint32_t egress, ingress;
		char why[160];

		port_fault(f->lab, ifindex, node, ports, why, sizeof(why));
		if (!why[0])
			block_fault(f->lab, why, sizeof(why));
		if (why[0]) {
			error_note("lab \"%s\" is not whole: %s, so partitions would not hold; %s "
				   "rebuilds it",
				   f->lab, why, remedy);
			return -EUCLEAN;
		}
		if (!lab_record_blocks(f->lab, &egress, &ingress)) {
			error_note(
				"lab \"%s\" is not whole: %u of %u ports are not bound to its "
				"blocks (egress %u, ingress %u; first: p%u), so partitions would "
				"not hold there; %s rebuilds it",
				f->lab, ports - attached, ports, egress, ingress, missing, remedy);
			return -EUCLEAN;
		}
		error_note(
			"lab \"%s\" is not whole: the filter or its ARP responder is missing on %u of %u ports (first: "
			"p%u), so partitions would not hold there; %s rebuilds it",
			f->lab, ports - attached, ports, missing, remedy);
		return -EUCLEAN;
	}
	return 0;
}
