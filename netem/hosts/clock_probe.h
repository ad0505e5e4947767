/* SPDX-License-Identifier: GPL-2.0-only */
/* Measuring the clocks of a lab's hosts: each host's CLOCK_TAI against the reference that the
 * histories of a lab across hosts are merged on, with the bound ε that `capctl check` widens
 * their intervals by. The daemons' own bounds where every host runs a synchronised chrony or
 * a ptp4l with a grandmaster (pmc); else round trips over ssh to the controller, whose clock is
 * then the reference. */
#ifndef CAPNET_CLOCK_PROBE_H
#define CAPNET_CLOCK_PROBE_H

#include <stdint.h>

#include "netem/hosts/clock_bound.h"
#include "netem/hosts/hosts.h"

struct host_clock {
	enum clock_source source;
	int64_t offset_ns; /* host - reference: taken off the host's stamps (0 with chrony) */
	uint64_t bound_ns; /* ε: a stamp corrected by offset_ns is this close to the reference */
};

/* CLOCK_TAI - CLOCK_REALTIME in whole seconds: the kernel's TAI offset (37 where chrony is
 * told `leapsectz right/UTC`, else 0). */
long clock_tai_offset_s(void);

/* `capnet host clock`, on a host: says what chrony (else ptp4l) thinks of this clock, then answers every
 * line read on standard input with its CLOCK_TAI, until end of file. */
int clock_probe_serve(void);

/* Measures every host of the list (in turn, over the lab's shared ssh connections). 0, or -errno
 * with the host named through error_note(). */
int clock_probe_hosts(const char *lab, const struct host_list *hosts, struct host_clock *out);

#endif /* CAPNET_CLOCK_PROBE_H */
