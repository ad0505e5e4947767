/* SPDX-License-Identifier: GPL-2.0-only */
/* clsact filters of many ports at once: asked and added in bulk, a few netlink round trips for
 * a whole lab instead of one socket or one request each. */
#ifndef CAPNET_CLSACT_BULK_H
#define CAPNET_CLSACT_BULK_H

#include <stdbool.h>
#include <stdint.h>

/* For each ifindex[i] of the current network namespace, the id of the BPF program of the filter
 * handle 1, priority 1, for `protocol` (ETH_P_ALL, ETH_P_ARP, in host order) at its clsact
 * egress or ingress, 0 where there is none. 0 or -errno. */
int clsact_prog_ids(const int *ifindex, unsigned int n, bool ingress, uint16_t protocol,
		    uint32_t *prog_id);

/* Adds program prog_fd, in direct-action mode, as that filter on every port; with make_qdisc,
 * adds the clsact qdisc first. 0, or the first error, with the index in *failed. */
int clsact_attach_all(const int *ifindex, unsigned int n, bool make_qdisc, bool ingress,
		      uint16_t protocol, int prog_fd, const char *prog_name, unsigned int *failed);

/* Shared blocks: the filters of a block run for every port bound to it, so a lab's ports share
 * one filter at egress and one at ingress instead of holding one each. */

/* Adds a clsact qdisc bound to the two blocks on every port (a block is made when its first
 * port binds). 0, or the first error, with the index in *failed. */
int clsact_bind_all(const int *ifindex, unsigned int n, uint32_t ingress_block,
		    uint32_t egress_block, unsigned int *failed);
/* Adds program prog_fd as filter handle 1, priority 1 for `protocol` of a block that ports are
 * bound to; -EEXIST if the block has that filter already. */
int clsact_block_attach(uint32_t block, uint16_t protocol, int prog_fd, const char *prog_name);
/* The id of that filter's program, 0 when the block has none (or does not exist). */
int clsact_block_prog_id(uint32_t block, uint16_t protocol, uint32_t *prog_id);
/* How many filters the block holds, in every chain and priority: a lab's block holds its one
 * filter alone, since one added beside it (at the same priority it even runs first) could pass
 * what the lab's filter drops. */
int clsact_block_filters(uint32_t block, unsigned int *count);
/* For each ifindex[i], how many filters its clsact qdisc holds at ingress or egress: a dump a
 * port, all on one socket. A lab's port holds its own filter there alone, as a block does. */
int clsact_port_filters(const int *ifindex, unsigned int n, bool ingress, unsigned int *count);
/* For each ifindex[i], the blocks its clsact qdisc is bound to (0: none, or no clsact): one
 * dump of the namespace's qdiscs. */
int clsact_port_blocks(const int *ifindex, unsigned int n, uint32_t *ingress_block,
		       uint32_t *egress_block);
/* The highest block index any clsact qdisc of the namespace is bound to, 0 when none is. */
int clsact_highest_block(uint32_t *highest);

#endif /* CAPNET_CLSACT_BULK_H */
