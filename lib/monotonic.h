/* SPDX-License-Identifier: GPL-2.0-only */
/* The monotonic clock, for durations and deadlines: what every program measures time with
 * (never the wall clock, which steps). */
#ifndef CAPNET_MONOTONIC_H
#define CAPNET_MONOTONIC_H

#include <stdint.h>

uint64_t monotonic_ns(void);
/* Signed, so that a deadline minus now goes below zero when it has passed. */
long long monotonic_ms(void);
double monotonic_s(void);
/* CLOCK_TAI, the clock the hosts of a lab across hosts switch on (the filter reads it with
 * bpf_ktime_get_tai_ns): like the wall clock synchronised, unlike it never stepped by leap
 * seconds. */
uint64_t tai_ns(void);
/* Sleeps ns, through any signal that interrupts it (a caller that must stop on one sleeps in
 * short steps and looks between them). */
void sleep_ns(uint64_t ns);

#endif /* CAPNET_MONOTONIC_H */
