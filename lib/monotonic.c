// SPDX-License-Identifier: GPL-2.0-only
/* CLOCK_MONOTONIC (and CLOCK_TAI) in the units callers count in, and a sleep for as long. */
#include <errno.h>
#include <time.h>

#include "lib/monotonic.h"

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long long monotonic_ms(void)
{
	return (long long)(monotonic_ns() / 1000000);
}

double monotonic_s(void)
{
	return monotonic_ns() / 1e9;
}

uint64_t tai_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
