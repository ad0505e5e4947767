/* SPDX-License-Identifier: GPL-2.0-only */
/* Checksums computed by the sender, so corruption on the wire shows. A veth hands the
 * receiver a frame whose checksum is still to be computed (CHECKSUM_PARTIAL) as verified;
 * with TX checksum offload off, the sender's stack computes it, and a bit flipped after that
 * leaves it stale, which the receiver's stack catches, as it would with a real NIC. */
#ifndef CAPNET_OFFLOAD_H
#define CAPNET_OFFLOAD_H

#include <stdbool.h>

/* Turns TX checksum offload off on the node's interface (ethtool -K eth0 tx off in its
 * namespace); idempotent. 0 or -errno. *changed says whether it was on. */
int node_tx_checksum_off(const char *lab, unsigned int node, bool *changed);
/* TX checksum offload on or off on the node's interface, whatever it was; prints nothing.
 * 0 or -errno. *changed (if not NULL) says whether it was otherwise. */
int node_tx_checksum_set(const char *lab, unsigned int node, bool on, bool *changed);
/* Once corruption needed it, the lab keeps its senders' checksums on until down: the delay
 * line, which turns offload off and on again for its own reasons, leaves it off. */
void offload_keep_off(const char *lab);
bool offload_kept_off(const char *lab);

#endif /* CAPNET_OFFLOAD_H */
