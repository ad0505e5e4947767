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

#endif /* CAPNET_CLSACT_BULK_H */
