/* SPDX-License-Identifier: GPL-2.0-only */
/* Does this host's kernel have what its share of a lab across hosts needs? Asked by `host
 * hello`, on every host, before anything of the lab is built anywhere. */
#ifndef CAPNET_KERNEL_PROBE_H
#define CAPNET_KERNEL_PROBE_H

#include <stddef.h>

/* The kernel makes a VXLAN device (in a scratch network namespace, gone with the probe), loads
 * tc programs, and gives them bpf_ktime_get_tai_ns (Linux 6.1), which the switch's instant is
 * read with. 0, or -EOPNOTSUPP with what is missing said in why.
 * CAPNET_TEST_PROBE_VXLAN_KIND, for tests, names the link kind the probe asks for instead of
 * "vxlan", so that a host can be made whose kernel has no such kind. */
int kernel_probe(char *why, size_t len);

#endif /* CAPNET_KERNEL_PROBE_H */
