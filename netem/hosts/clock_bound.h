/* SPDX-License-Identifier: GPL-2.0-only */
/* How far a host's clock may be from the others', the pure part: chrony's own bound read from
 * `chronyc -c tracking`, and the bound a few SSH round trips to the controller prove. No I/O:
 * clock_probe.h runs chronyc and the round trips. */
#ifndef CAPNET_CLOCK_BOUND_H
#define CAPNET_CLOCK_BOUND_H

#include <stddef.h>
#include <stdint.h>

/* What a bound was measured against. */
enum clock_source {
	CLOCK_SOURCE_CHRONY, /* true time, as chrony (or PTP through chrony's refclock) keeps it */
	CLOCK_SOURCE_SSH, /* the controller's clock, through round trips over ssh */
	CLOCK_SOURCE_PTP, /* true time, as ptp4l keeps the host's PTP clock (pmc) */
};

const char *clock_source_name(enum clock_source s);

/* chrony's bound on |system clock - true time| from one line of `chronyc -c tracking`:
 * |system time offset| + root dispersion + root delay / 2, as chrony's documentation gives it.
 * -ENODATA when chrony is not synchronised (leap status "Not synchronised", stratum 0);
 * -EINVAL for a line that is not chrony's. */
int clock_bound_chrony(const char *csv_line, uint64_t *bound_ns);

/* ptp4l's bound from the answer of `pmc -u -b 0 'GET TIME_STATUS_NP'`: |master_offset|, the
 * offset of the host's PTP hardware clock from its grandmaster. It does not hold the step from
 * that clock to the system clock (phc2sys), which pmc cannot report. -ENODATA without a
 * grandmaster (gmPresent false); -EINVAL for text that is not pmc's answer. */
int clock_bound_pmc(const char *text, uint64_t *bound_ns);

/* One round trip: the controller's clock when it asked, the host's clock when it answered,
 * the controller's clock when the answer came. All CLOCK_TAI nanoseconds. */
struct clock_sample {
	uint64_t sent, remote, received;
};

/* The offset of the host's clock from the controller's (host - controller) lies, for every
 * sample, between remote - received and remote - sent, whatever the delays each way: the answer
 * was read on the host at some instant of the round trip. The intersection of those intervals
 * over all samples bounds it. Returns its middle in *offset_ns and its half width in *bound_ns
 * (at most half the shortest round trip), or -ERANGE when the intervals do not meet (a clock
 * stepped during the measure), -EINVAL without samples. */
int clock_bound_samples(const struct clock_sample *s, size_t n, int64_t *offset_ns,
			uint64_t *bound_ns);

#endif /* CAPNET_CLOCK_BOUND_H */
