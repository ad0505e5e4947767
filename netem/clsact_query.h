/* SPDX-License-Identifier: GPL-2.0-only */
/* The programs at the clsact egress of many ports, asked in bulk. */
#ifndef CAPNET_CLSACT_QUERY_H
#define CAPNET_CLSACT_QUERY_H

#include <stdint.h>

/* For each ifindex[i] of the current network namespace, the id of the BPF program of capnet's
 * filter (handle 1, priority 1) at its clsact egress, 0 where there is none. 0 or -errno. */
int clsact_egress_prog_ids(const int *ifindex, unsigned int n, uint32_t *prog_id);

#endif /* CAPNET_CLSACT_QUERY_H */
