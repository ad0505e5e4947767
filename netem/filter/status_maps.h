/* SPDX-License-Identifier: GPL-2.0-only */
/* capnet status --maps: the filter's maps decoded for a reader. */
#ifndef CAPNET_STATUS_MAPS_H
#define CAPNET_STATUS_MAPS_H

#include "netem/filter/filter.h"

/* Both policy copies (groups, reach matrix, rules, impairments) and the link counters summed
 * over CPUs, as text. EXIT_OK or EXIT_FAIL (said). */
int status_print_maps(const char *lab, struct filter *f, unsigned int nodes);

#endif /* CAPNET_STATUS_MAPS_H */
