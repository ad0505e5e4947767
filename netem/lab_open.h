/* SPDX-License-Identifier: GPL-2.0-only */
/* Opening a running lab for a command: its topology, its filter, and, for the commands that act
 * on the policy, the proof that it is whole. One place, so that capnet and captrace refuse the
 * same labs with the same words. */
#ifndef CAPNET_LAB_OPEN_H
#define CAPNET_LAB_OPEN_H

#include <stdbool.h>

#include "netem/filter.h"
#include "netem/topology.h"

/* Fills info and, when filter is not NULL, opens the filter (the caller closes it). With whole,
 * refuses a lab that is not (filter_check_whole). 0, or -errno with the message left
 * (lib/report.h): what is missing or broken, and the command that fixes it. */
int lab_open(const char *lab, struct lab_info *info, struct filter **filter, bool whole);

#endif /* CAPNET_LAB_OPEN_H */
