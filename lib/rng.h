/* SPDX-License-Identifier: GPL-2.0-only */
/* The one seeded random number generator: splitmix64 (Steele, Lea and Flood, 2014). Tiny, every
 * seed including 0 gives a good stream, and the sequence is the same on every platform, so a
 * seed alone replays a simulation, a preset, a workload or a delay pattern. */
#ifndef CAPNET_RNG_H
#define CAPNET_RNG_H

#include <stdint.h>

/* The finalizer alone: a strong 64-bit mix, for hashing as well as for the stream. */
static inline uint64_t rng_mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The next number of the stream whose state is *state. */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = *state;

	*state += 0x9e3779b97f4a7c15ULL;
	return rng_mix64(z);
}

#endif /* CAPNET_RNG_H */
