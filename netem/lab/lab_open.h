/* SPDX-License-Identifier: GPL-2.0-only */
/* Opening a running lab for a command: its topology, its filter, and, for the commands that act
 * on the policy, the proof that it is whole. One place, so that capnet and captrace refuse the
 * same labs with the same words. */
#ifndef CAPNET_LAB_OPEN_H
#define CAPNET_LAB_OPEN_H

#include <stdbool.h>

#include "netem/filter/filter.h"
#include "netem/lab/topology.h"

enum lab_open_need {
	LAB_ANY = 0, /* whatever state it is in: status, stop, down */
	LAB_WHOLE = 1, /* `up` finished, every port filtered (filter_check_whole) */
	LAB_DELAYS_APPLIED = 2, /* and the delays set are applied (delay_check_applied) */
};

/* Fills info and, when filter is not NULL, opens the filter (the caller closes it), refusing a
 * lab that lacks what `need` (a mask of enum lab_open_need) asks. 0, or -errno with the message
 * left (lib/report.h): what is missing or broken, and the command that fixes it. */
int lab_open(const char *lab, struct lab_info *info, struct filter **filter, unsigned int need);

#endif /* CAPNET_LAB_OPEN_H */
