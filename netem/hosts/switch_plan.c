// SPDX-License-Identifier: GPL-2.0-only
/* The two-phase switch across hosts: collect every host's prepare, then either name one
 * CLOCK_TAI instant for all or abort naming the host that failed. Pure: the controller feeds it
 * what the hosts answered and the time it read. */
#include <stdio.h>
#include <string.h>

#include "netem/hosts/hosts.h"

void switch_plan_start(struct switch_plan *plan, unsigned int hosts)
{
	memset(plan, 0, sizeof(*plan));
	plan->hosts = hosts < HOSTS_MAX ? hosts : HOSTS_MAX;
}

void switch_plan_prepared(struct switch_plan *plan, unsigned int host, uint64_t generation,
			  uint64_t round_trip_ns, uint64_t offset_bound_ns)
{
	if (host >= plan->hosts || plan->phase[host] == HOST_FAILED)
		return;
	plan->phase[host] = HOST_PREPARED;
	plan->generation[host] = generation;
	plan->round_trip_ns[host] = round_trip_ns;
	plan->offset_bound_ns[host] = offset_bound_ns;
}

void switch_plan_failed(struct switch_plan *plan, unsigned int host, const char *why)
{
	if (host >= plan->hosts)
		return;
	plan->phase[host] = HOST_FAILED;
	snprintf(plan->why[host], sizeof(plan->why[host]), "%s", why);
}

enum switch_decision switch_plan_decide(const struct switch_plan *plan, uint64_t now_tai_ns,
					struct switch_commit *out)
{
	uint64_t generation = 0, round_trip = 0, offset = 0, lead;
	bool pending = false;

	memset(out, 0, sizeof(*out));
	if (!plan->hosts)
		return SWITCH_WAIT;
	/* A failure decides at once, even with answers outstanding: nobody may switch. */
	for (unsigned int h = 0; h < plan->hosts; h++)
		if (plan->phase[h] == HOST_FAILED) {
			out->failed_host = h;
			return SWITCH_ABORT;
		}
	for (unsigned int h = 0; h < plan->hosts; h++) {
		if (plan->phase[h] != HOST_PREPARED) {
			pending = true;
			continue;
		}
		if (plan->generation[h] > generation)
			generation = plan->generation[h];
		if (plan->round_trip_ns[h] > round_trip)
			round_trip = plan->round_trip_ns[h];
		if (plan->offset_bound_ns[h] > offset)
			offset = plan->offset_bound_ns[h];
	}
	if (pending)
		return SWITCH_WAIT;
	lead = 2 * round_trip > SWITCH_MIN_LEAD_NS ? 2 * round_trip : SWITCH_MIN_LEAD_NS;
	out->generation = generation + 1;
	out->flip_at_tai_ns = now_tai_ns + lead + offset;
	return SWITCH_COMMIT;
}
