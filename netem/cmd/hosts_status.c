// SPDX-License-Identifier: GPL-2.0-only
/* `capnet status` of a lab across hosts: each host's share, whether it is whole and its clock,
 * the last switch and how soon each host's filter took it, then the hosts' own status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/out_print.h"
#include "lib/report.h"
#include "netem/cmd/hosts_cmd.h"
#include "netem/hosts/clock_probe.h"
#include "netem/hosts/vxlan.h"

/* What one host said of its policy in force (`host check`). */
struct host_policy {
	bool known;
	uint64_t generation, taken_tai_ns;
};

static void read_host_policy(const struct remote_result *r, struct host_policy *hp)
{
	memset(hp, 0, sizeof(*hp));
	hp->known = !r->status && !json_text_u64(r->out, "generation", &hp->generation) &&
		    !json_text_u64(r->out, "taken_tai_ns", &hp->taken_tai_ns);
}

/* A host's clock as clock_probe_hosts measured it: against true time where every host runs a
 * synchronised chrony or ptp4l, else against the controller's clock over ssh. */
static void show_host_clock(struct out_printer *p, const struct host_dest *h,
			    const struct host_clock *hc)
{
	open_object(p, "clock");
	print_string(p, "source", NULL, clock_source_name(hc->source));
	print_int(p, "offset_ns", NULL, hc->offset_ns);
	print_uint(p, "bound_ns", NULL, hc->bound_ns);
	close_object(p);
	if (h->local && hc->source == CLOCK_SOURCE_SSH)
		print_text(p, "; clock: the controller's own");
	else if (hc->source == CLOCK_SOURCE_CHRONY)
		print_text(p, "; clock: chrony, within %.3f ms of true time", hc->bound_ns / 1e6);
	else if (hc->source == CLOCK_SOURCE_PTP)
		print_text(p,
			   "; clock: ptp, its PTP clock within %.3f ms of the grandmaster (pmc; "
			   "the system clock's step from it, phc2sys's, not read)",
			   hc->bound_ns / 1e6);
	else
		print_text(p,
			   "; clock: no clock sync, offset %+.3f ms from the controller's, within "
			   "%.3f ms (ssh round trips)",
			   hc->offset_ns / 1e6, hc->bound_ns / 1e6);
}

/* The last switch the controller made, and how soon after its instant each host's filter
 * first judged a frame by the new copy, on the host's own clock. spread_ns is the widest
 * difference between hosts, or UINT64_MAX when not every host holds that generation with a
 * frame judged by it. */
struct switch_seen {
	bool recorded;
	uint64_t generation[HOSTS_MAX], flip_at_tai_ns, spread_ns;
	int64_t after_ns[HOSTS_MAX];
	bool taken[HOSTS_MAX];
};

static void read_switch_seen(const struct lab_hosts *lh, const struct host_policy *hp,
			     const struct hosts_generations *gen, struct switch_seen *sw)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	bool all = true;

	memset(sw, 0, sizeof(*sw));
	sw->spread_ns = UINT64_MAX;
	if (!gen->recorded)
		return;
	sw->recorded = true;
	sw->flip_at_tai_ns = gen->record.flip_at_tai_ns;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		sw->generation[h] = gen->record.generation[h];
		sw->taken[h] = hp[h].known && hp[h].generation == sw->generation[h] &&
			       hp[h].taken_tai_ns;
		if (!sw->taken[h]) {
			all = false;
			continue;
		}
		/* Each host's instant in its own TAI (see hosts_switch). */
		sw->after_ns[h] = (int64_t)(hp[h].taken_tai_ns - sw->flip_at_tai_ns) -
				  gen->record.tai_shift_ns[h];
		if (sw->after_ns[h] < lo)
			lo = sw->after_ns[h];
		if (sw->after_ns[h] > hi)
			hi = sw->after_ns[h];
	}
	if (all)
		sw->spread_ns = (uint64_t)(hi - lo);
}

/* JSON: after_ns per host, null where none was judged yet; spread_ns null likewise. */
static void show_switch(struct out_printer *p, const struct lab_hosts *lh,
			const struct switch_seen *sw)
{
	if (!sw->recorded)
		return;
	open_object(p, "switch");
	print_uint(p, "generation", "last switch: generation %llu", sw->generation[0]);
	print_uint(p, "flip_at_tai_ns", NULL, sw->flip_at_tai_ns);
	print_text(p, " at CLOCK_TAI %.6f s; first frame judged by it", sw->flip_at_tai_ns / 1e9);
	if (sw->spread_ns == UINT64_MAX)
		print_json_null(p, "spread_ns");
	else
		print_uint(p, "spread_ns", NULL, sw->spread_ns);
	open_array(p, "after_ns");
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (sw->taken[h]) {
			print_int(p, NULL, NULL, sw->after_ns[h]);
			print_text(p, "%s %.1f us after the instant on %s", h ? "," : "",
				   sw->after_ns[h] / 1e3, lh->hosts.host[h].dest);
		} else {
			print_json_null(p, NULL);
			print_text(p, "%s none yet on %s", h ? "," : "", lh->hosts.host[h].dest);
		}
	}
	close_array(p);
	if (sw->spread_ns != UINT64_MAX)
		print_text(p, "; spread %.1f us, each host on its own clock\n",
			   sw->spread_ns / 1e3);
	else
		print_text(p, "; no spread until every host has judged a frame by it\n");
	close_object(p);
}

/* A host's generation in force, and the one the last switch told it where that differs. */
static void show_host_generation(struct out_printer *p, const struct hosts_generations *gen,
				 unsigned int h)
{
	if (!gen->known[h])
		return;
	print_uint(p, "generation", "; generation %llu", gen->in_force[h]);
	if (!gen->recorded)
		return;
	print_uint(p, "should_hold", NULL, gen->record.generation[h]);
	/* A host before a switch's instant holds the generation before it, rightly. */
	if (gen->astray < HOSTS_MAX && gen->in_force[h] != gen->record.generation[h])
		print_text(p, " where it should hold %llu (it did not take the last switch)",
			   (unsigned long long)gen->record.generation[h]);
}

/* The lab's line, each host's share, whether it is whole, its generation and its clock, the
 * last switch, whether every host holds the generation it was told; then, as text, the first
 * whole host's own status, or, as JSON, every whole host's within its object. */
int hosts_status(struct cli *cli, const struct lab_hosts *lh)
{
	static char status_out[HOSTS_MAX][16384];
	static struct host_policy policy[HOSTS_MAX];
	static struct host_clock clocks[HOSTS_MAX];
	static struct hosts_generations gen;
	static struct switch_seen seen;
	char set_text[4096];
	unsigned int bad = HOSTS_MAX;
	bool whole[HOSTS_MAX], clocks_known, all_answer;
	struct out_printer p;
	int err;

	err = hosts_check_all(cli, lh, &bad, &gen);
	all_answer = err != -EUCLEAN;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		whole[h] = !hosts_results[h].status;
		snprintf(status_out[h], sizeof(status_out[h]), "%s", hosts_results[h].why);
		read_host_policy(&hosts_results[h], &policy[h]);
	}
	read_switch_seen(lh, policy, &gen, &seen);
	/* Only a lab whose every host answers has clocks to compare. */
	clocks_known = all_answer && !clock_probe_hosts(cli->lab, &lh->hosts, clocks);
	if (all_answer && !clocks_known)
		report_warn("%s", error_reason(-EIO));
	hosts_run_all(cli->lab, lh, whole, cli->json ? "host status --json" : "host status");
	out_printer_init(&p, stdout, cli->json);
	open_object(&p, NULL);
	print_string(&p, "lab", "lab %s: ", cli->lab);
	print_uint(&p, "nodes", "%llu nodes", lh->nodes);
	print_text(&p, " on %u host%s", lh->hosts.count, lh->hosts.count == 1 ? "" : "s");
	print_uint(&p, "vni", ", VXLAN VNI %llu", lh->vni);
	print_uint(&p, "mtu", ", node MTU %llu", lh->mtu);
	print_text(&p, " (underlay's less %d bytes of VXLAN)\n", VXLAN_OVERHEAD);
	open_array(&p, "hosts");
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		struct node_set set;

		placement_nodes_of(&lh->place, h, &set);
		nodeset_format(&set, set_text, sizeof(set_text));
		open_object(&p, NULL);
		print_string(&p, "host", "host %s: ", lh->hosts.host[h].dest);
		print_string(&p, "nodes", "nodes %s, ", set_text);
		print_bool(&p, "whole", NULL, whole[h]);
		print_text(&p, "%s%s",
			   whole[h] ? "whole" : "not whole: ", whole[h] ? "" : status_out[h]);
		show_host_generation(&p, &gen, h);
		if (clocks_known)
			show_host_clock(&p, &lh->hosts.host[h], &clocks[h]);
		print_text(&p, "\n");
		/* A host's status that is not one JSON value is left out rather than breaking
		 * the JSON around it. */
		if (whole[h] && hosts_results[h].out[0] == '{')
			print_json_raw(&p, "status", hosts_results[h].out,
				       strcspn(hosts_results[h].out, "\n"));
		close_object(&p);
	}
	close_array(&p);
	show_switch(&p, lh, &seen);
	/* Hosts that answer on different generations than they were told hold different
	 * policies: what a person believes in force is not, on those hosts. */
	print_bool(&p, "consistent", NULL, gen.astray == HOSTS_MAX);
	if (gen.astray < HOSTS_MAX)
		print_text(&p,
			   "not consistent: host %s holds generation %llu where it should hold "
			   "%llu; %s\n",
			   lh->hosts.host[gen.astray].dest,
			   (unsigned long long)gen.in_force[gen.astray],
			   (unsigned long long)gen.record.generation[gen.astray],
			   hosts_inconsistent_remedy(cli));
	close_object(&p);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (whole[h] && !hosts_results[h].status) {
			print_text(&p, "# host %s\n%s", lh->hosts.host[h].dest,
				   hosts_results[h].out);
			break;
		}
	return err ? EXIT_FAIL : EXIT_OK;
}
