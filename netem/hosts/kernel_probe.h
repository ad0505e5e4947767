/* SPDX-License-Identifier: GPL-2.0-only */
/* Does this host's kernel have what its share of a lab across hosts needs? Asked by `host
 * hello`, on every host, before anything of the lab is built anywhere. */
#ifndef CAPNET_KERNEL_PROBE_H
#define CAPNET_KERNEL_PROBE_H

#include <stddef.h>

/* The kernel makes a VXLAN device (in a scratch network namespace, gone with the probe), loads
 * tc programs, and gives them bpf_ktime_get_tai_ns (Linux 6.1), which the switch's instant is
 * read with. 0, or -EOPNOTSUPP with what is missing said in why.
 * For tests, so that a host can be made whose kernel refuses one of them:
 * CAPNET_TEST_PROBE_VXLAN_KIND names the link kind asked for instead of "vxlan",
 * CAPNET_TEST_PROBE_BPF_PROG_TYPE the program type (a number) instead of BPF_PROG_TYPE_SCHED_CLS,
 * CAPNET_TEST_PROBE_BPF_HELPER the helper (a number) instead of bpf_ktime_get_tai_ns. */
int kernel_probe(char *why, size_t len);

#endif /* CAPNET_KERNEL_PROBE_H */
