// SPDX-License-Identifier: GPL-2.0-only
/* A lab across hosts, from the controller: `up --hosts`, and `status` and `down` of such a lab,
 * each host reached through netem/hosts/remote.c; and `capnet host VERB`, the internal command
 * the controller runs on every host (not listed in the usage). */
#include <errno.h>
#include <sys/wait.h>
#include <signal.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lib/files.h"
#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/options.h"
#include "lib/out_print.h"
#include "lib/test_hook.h"
#include "netem/cli.h"
#include "netem/hosts/clock_probe.h"
#include "netem/hosts/hosts.h"
#include "netem/hosts/kernel_probe.h"
#include "netem/hosts/remote.h"
#include "netem/hosts/vxlan.h"
#include "netem/lab/fault_log.h"
#include "netem/lab/lab_open.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/run_dir.h"
#include "netem/svc/nodes.h"
#include "netem/svc/nodes_report.h"
#include "node/key_file.h"

#define HOSTS_RECORD LAB_HOSTS_RECORD
/* The last switch: its instant and the generation each host took. */
#define SWITCH_RECORD "switch"

static struct remote_result results[HOSTS_MAX];
static char *host_args[HOSTS_MAX];

int hosts_lab_read(const char *lab, struct lab_hosts *lh)
{
	return lab_hosts_read(lab, lh);
}

static void set_all_args(unsigned int hosts, const char *args)
{
	for (unsigned int h = 0; h < hosts; h++) {
		free(host_args[h]);
		host_args[h] = strdup(args);
	}
}

/* ---- up --------------------------------------------------------------------------------- */

struct hello {
	char version[64];
	uint32_t addr; /* the host's address as the controller reached it (host order) */
	unsigned int mtu;
	uint32_t controller; /* the controller's address as the host saw it */
};

static int parse_hello(const char *text, struct hello *h)
{
	char addr[64], controller[64];
	struct in_addr a;

	memset(h, 0, sizeof(*h));
	if (sscanf(text, "capnet %63s %63s %u %63s", h->version, addr, &h->mtu, controller) != 4)
		return -EINVAL;
	if (inet_pton(AF_INET, addr, &a) == 1)
		h->addr = ntohl(a.s_addr);
	if (inet_pton(AF_INET, controller, &a) == 1)
		h->controller = ntohl(a.s_addr);
	return 0;
}

static int read_hosts_arg(const char *text, struct host_list *hosts, struct spec_error *e)
{
	static char file[65536];
	ssize_t n;

	if (text[0] != '@')
		return hosts_parse_list(text, hosts, e);
	n = files_read_small(text + 1, file, sizeof(file));
	if (n < 0) {
		snprintf(e->msg, sizeof(e->msg), "--hosts: read %.200s: %s", text + 1,
			 strerror((int)-n));
		return -EINVAL;
	}
	return hosts_parse_file(file, hosts, e);
}

static void ip_text(uint32_t ip, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = htonl(ip) };

	inet_ntop(AF_INET, &a, buf, len);
}

/* `host up` for host h: its nodes, and every other host's nodes with that host's address. */
static char *share_args(const struct lab_hosts *lh, const struct hello *hello, unsigned int h,
			enum filter_hook hook)
{
	static char buf[65536];
	char set_text[4096], addr[INET_ADDRSTRLEN];
	struct node_set set;
	size_t used;

	placement_nodes_of(&lh->place, h, &set);
	nodeset_format(&set, set_text, sizeof(set_text));
	ip_text(hello[h].addr, addr, sizeof(addr));
	used = snprintf(buf, sizeof(buf),
			"host up -n %u --here %s --subnet %s --mtu %u --vni %u "
			"--local %s%s%s --peers ",
			lh->nodes, set_text, lh->subnet, lh->mtu, lh->vni, addr,
			hook == FILTER_HOOK_AUTO ? "" : " --hook ",
			hook == FILTER_HOOK_AUTO ? "" : filter_hook_name(hook));
	for (unsigned int other = 0; other < lh->hosts.count && used < sizeof(buf); other++) {
		if (other == h)
			continue;
		placement_nodes_of(&lh->place, other, &set);
		nodeset_format(&set, set_text, sizeof(set_text));
		ip_text(hello[other].addr, addr, sizeof(addr));
		used += snprintf(buf + used, sizeof(buf) - used, "%s%s@%s",
				 buf[used - 1] == ' ' ? "" : "/", set_text, addr);
	}
	if (lh->hosts.count == 1)
		snprintf(buf + used, sizeof(buf) - used, "-");
	return strdup(buf);
}

/* Takes down the share of every host that may hold one; names those it could not reach. */
static bool take_down(const char *lab, const struct lab_hosts *lh, char *left, size_t len)
{
	static char why[HOSTS_MAX][sizeof(results[0].why)];
	bool all = true, remote[HOSTS_MAX], local[HOSTS_MAX];
	int status[HOSTS_MAX];

	/* The remote hosts first: `local`'s down removes this machine's run directory of the lab,
	 * where the ssh connections to the others are shared. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		local[h] = lh->hosts.host[h].local;
		remote[h] = !local[h];
	}
	set_all_args(lh->hosts.count, "host down");
	for (int pass = 0; pass < 2; pass++) {
		remote_run(lab, &lh->hosts, pass ? local : remote, host_args, results);
		for (unsigned int h = 0; h < lh->hosts.count; h++)
			if (pass ? local[h] : remote[h]) {
				status[h] = results[h].status;
				snprintf(why[h], sizeof(why[h]), "%s", results[h].why);
			}
	}
	left[0] = '\0';
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (!status[h])
			continue;
		all = false;
		snprintf(left + strlen(left), len - strlen(left), "%s%s (%s)", *left ? ", " : "",
			 lh->hosts.host[h].dest, why[h]);
	}
	return all;
}

int hosts_up(struct cli *cli, struct lab_config *cfg, const char *hosts_text,
	     const char *place_text)
{
	static struct lab_hosts lh;
	static struct hello hello[HOSTS_MAX];
	static char record[32768], left[4096];
	struct spec_error e;
	uint32_t controller = 0;
	unsigned int mtu = 0, failed = HOSTS_MAX;
	char net[INET_ADDRSTRLEN];

	memset(&lh, 0, sizeof(lh));
	if (read_hosts_arg(hosts_text, &lh.hosts, &e))
		return report_usage("up: %s", e.msg);
	lh.nodes = cfg->nodes;
	if (place_text ? placement_parse(place_text, &lh.hosts, lh.nodes, &lh.place, &e) :
			 placement_blocks(lh.nodes, lh.hosts.count, &lh.place, &e))
		return report_usage("up: %s", e.msg);
	ip_text(cfg->subnet, net, sizeof(net));
	snprintf(lh.subnet, sizeof(lh.subnet), "%s/%u", net, cfg->prefix);
	lh.vni = vxlan_lab_vni(cli->lab);
	if (cli_need_root("capnet up --hosts"))
		return EXIT_FAIL;
	if (!hosts_lab_read(cli->lab, &(struct lab_hosts){ 0 }))
		return report_fail("lab \"%s\" already exists (capnet --lab %s down removes it)",
				   cli->lab, cli->lab);

	/* Every host first answers who it is: nothing is built until all have. */
	set_all_args(lh.hosts.count, "host hello");
	remote_run(cli->lab, &lh.hosts, NULL, host_args, results);
	for (unsigned int h = 0; h < lh.hosts.count; h++) {
		if (results[h].status)
			return report_fail("up: host %s: %s; nothing was built",
					   lh.hosts.host[h].dest, results[h].why);
		if (parse_hello(results[h].out, &hello[h]))
			return report_fail("up: host %s: its capnet does not know `host hello` (an "
					   "older version?); nothing was built",
					   lh.hosts.host[h].dest);
		if (strcmp(hello[h].version, CAPNET_VERSION))
			return report_fail("up: host %s runs capnet %s, this is capnet %s: install "
					   "the same version on every host; nothing was built",
					   lh.hosts.host[h].dest, hello[h].version, CAPNET_VERSION);
		if (!hello[h].addr && !lh.hosts.host[h].local)
			return report_fail("up: host %s: no IPv4 address to carry VXLAN (the ssh "
					   "connection is not over IPv4); nothing was built",
					   lh.hosts.host[h].dest);
		if (hello[h].controller)
			controller = hello[h].controller;
		if (hello[h].mtu && (!mtu || hello[h].mtu < mtu))
			mtu = hello[h].mtu;
	}
	/* `local` is reached at the address the other hosts saw the controller at. */
	for (unsigned int h = 0; h < lh.hosts.count; h++)
		if (lh.hosts.host[h].local)
			hello[h].addr = controller;
	lh.mtu = (mtu ? mtu : 1500) - VXLAN_OVERHEAD;
	lab_hosts_format(&lh, record, sizeof(record));
	/* Recorded before anything is built: a killed `up` leaves a lab `down` can find. */
	if (lab_record_write(cli->lab, HOSTS_RECORD, record, "the hosts of the lab"))
		return report_error(-EIO, NULL);

	for (unsigned int h = 0; h < lh.hosts.count; h++) {
		free(host_args[h]);
		host_args[h] = share_args(&lh, hello, h, cfg->filter_hook);
	}
	remote_run(cli->lab, &lh.hosts, NULL, host_args, results);
	for (unsigned int h = 0; h < lh.hosts.count && failed == HOSTS_MAX; h++)
		if (results[h].status)
			failed = h;
	if (failed < HOSTS_MAX) {
		char why[sizeof(results[0].why)];

		snprintf(why, sizeof(why), "%s", results[failed].why);
		if (take_down(cli->lab, &lh, left, sizeof(left))) {
			lab_record_forget(cli->lab, HOSTS_RECORD);
			remote_close(cli->lab, &lh.hosts);
			return report_fail("up: host %s: %s; nothing was left on any host",
					   lh.hosts.host[failed].dest, why);
		}
		return report_fail("up: host %s: %s; could not take down: %s (capnet --lab %s down "
				   "once they are back)",
				   lh.hosts.host[failed].dest, why, left, cli->lab);
	}
	if (cli->json) {
		printf("{\"lab\":\"%s\",\"nodes\":%u,\"hosts\":%u,\"vni\":%u,\"mtu\":%u}\n",
		       cli->lab, lh.nodes, lh.hosts.count, lh.vni, lh.mtu);
	} else {
		placement_format(&lh.place, &lh.hosts, record, sizeof(record));
		printf("lab %s: %u nodes up on %u hosts (%s), VXLAN VNI %u, node MTU %u\n",
		       cli->lab, lh.nodes, lh.hosts.count, record, lh.vni, lh.mtu);
	}
	return EXIT_OK;
}

/* ---- status and down -------------------------------------------------------------------- */

static int hosts_down(struct cli *cli, const struct lab_hosts *lh)
{
	static char left[4096];
	char dir[256];

	if (cli_need_root("capnet down"))
		return EXIT_FAIL;
	if (!take_down(cli->lab, lh, left, sizeof(left)))
		return report_fail("lab %s: down where reached; left on: %s (capnet --lab %s down "
				   "again once they are back)",
				   cli->lab, left, cli->lab);
	remote_close(cli->lab, &lh->hosts);
	lab_record_forget(cli->lab, SWITCH_RECORD);
	lab_record_forget(cli->lab, HOSTS_RECORD);
	run_dir_of_lab(cli->lab, NULL, dir, sizeof(dir));
	nodes_remove_all(cli->lab, dir, 0);
	if (!cli->json)
		printf("lab %s: down on %u hosts\n", cli->lab, lh->hosts.count);
	return EXIT_OK;
}

/* Every host says whether its share is whole; the first that is not is named. */
static int check_hosts(struct cli *cli, const struct lab_hosts *lh, unsigned int *bad)
{
	set_all_args(lh->hosts.count, "host check");
	remote_run(cli->lab, &lh->hosts, NULL, host_args, results);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (results[h].status) {
			*bad = h;
			return -EUCLEAN;
		}
	return 0;
}

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

static void read_switch_seen(const char *lab, const struct lab_hosts *lh,
			     const struct host_policy *hp, struct switch_seen *sw)
{
	static char text[HOSTS_MAX * 48 + 64];
	int64_t lo = INT64_MAX, hi = INT64_MIN, shift[HOSTS_MAX] = { 0 };
	const char *p;
	bool all = true;
	int n;

	memset(sw, 0, sizeof(*sw));
	sw->spread_ns = UINT64_MAX;
	if (lab_record_read(lab, SWITCH_RECORD, text, sizeof(text)) ||
	    sscanf(text, "flip_at %" SCNu64 "\ngenerations%n", &sw->flip_at_tai_ns, &n) != 1)
		return;
	p = text + n;
	for (unsigned int h = 0; h < lh->hosts.count; h++, p += n)
		if (sscanf(p, " %" SCNu64 "%n", &sw->generation[h], &n) != 1)
			return;
	/* Each host's instant in its own TAI (see hosts_switch); none recorded is none shifted. */
	n = 0;
	if (sscanf(p, "\ntai_shifts%n", &n) == 0 && n > 0)
		for (unsigned int h = 0; h < lh->hosts.count; h++) {
			p += n;
			if (sscanf(p, " %" SCNd64 "%n", &shift[h], &n) != 1)
				break;
		}
	sw->recorded = true;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		sw->taken[h] = hp[h].known && hp[h].generation == sw->generation[h] &&
			       hp[h].taken_tai_ns;
		if (!sw->taken[h]) {
			all = false;
			continue;
		}
		sw->after_ns[h] = (int64_t)(hp[h].taken_tai_ns - sw->flip_at_tai_ns) - shift[h];
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

/* The lab's line, each host's share, whether it is whole and its clock, the last switch; then,
 * as text, the first whole host's own status, or, as JSON, every whole host's within its
 * object. */
static int hosts_status(struct cli *cli, const struct lab_hosts *lh)
{
	static char status_out[HOSTS_MAX][16384];
	static struct host_policy policy[HOSTS_MAX];
	static struct host_clock clocks[HOSTS_MAX];
	static struct switch_seen seen;
	char set_text[4096];
	unsigned int bad = HOSTS_MAX;
	bool whole[HOSTS_MAX], clocks_known;
	struct out_printer p;

	check_hosts(cli, lh, &bad);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		whole[h] = !results[h].status;
		snprintf(status_out[h], sizeof(status_out[h]), "%s", results[h].why);
		read_host_policy(&results[h], &policy[h]);
	}
	read_switch_seen(cli->lab, lh, policy, &seen);
	/* Only a lab whose every host answers has clocks to compare. */
	clocks_known = bad == HOSTS_MAX && !clock_probe_hosts(cli->lab, &lh->hosts, clocks);
	if (bad == HOSTS_MAX && !clocks_known)
		report_warn("%s", error_reason(-EIO));
	set_all_args(lh->hosts.count, cli->json ? "status --json" : "status");
	remote_run(cli->lab, &lh->hosts, whole, host_args, results);
	out_printer_init(&p, stdout, cli->json);
	open_object(&p, NULL);
	print_string(&p, "lab", "lab %s: ", cli->lab);
	print_uint(&p, "nodes", "%llu nodes", lh->nodes);
	print_text(&p, " on %u hosts", lh->hosts.count);
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
		if (clocks_known)
			show_host_clock(&p, &lh->hosts.host[h], &clocks[h]);
		print_text(&p, "\n");
		/* A host's status that is not one JSON value is left out rather than breaking
		 * the JSON around it. */
		if (whole[h] && results[h].out[0] == '{')
			print_json_raw(&p, "status", results[h].out, strcspn(results[h].out, "\n"));
		close_object(&p);
	}
	close_array(&p);
	show_switch(&p, lh, &seen);
	close_object(&p);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (whole[h] && !results[h].status) {
			print_text(&p, "# host %s\n%s", lh->hosts.host[h].dest, results[h].out);
			break;
		}
	return bad < HOSTS_MAX ? EXIT_FAIL : EXIT_OK;
}

/* The controller's own fault log: each host logs its share on its own clock, and this line,
 * on the controller's clock, is what `capnet run` copies beside its histories. The groups of a
 * switch come from the partition the hosts took; the nodes of other commands as given. */
static void log_on_controller(struct cli *cli, const struct lab_hosts *lh, const char *command,
			      int argc, char **argv, const char *partition_text,
			      const struct node_set *nodes, uint64_t generation)
{
	static struct partition part;
	static struct policy pol;
	struct spec_error e;
	char words[2048];
	bool grouped;

	fault_log_words(argc, argv, words, sizeof(words));
	grouped = partition_text && !partition_parse(&part, lh->nodes, partition_text, &e) &&
		  !policy_compile(&part, &pol, &e);
	if (fault_log_append(cli->lab, &(struct fault_change){ .command = command,
							       .value = words,
							       .policy = grouped ? &pol : NULL,
							       .nodes = grouped ? NULL : nodes,
							       .generation = generation }))
		report_warn("%s (done, but not in the controller's fault log)", error_reason(-EIO));
}

/* What a host's capnet said, without its "capnet: " in front. */
static const char *said(const char *line)
{
	return strncmp(line, "capnet: ", 8) ? line : line + 8;
}

/* What host h said of its failure, kept: the next remote_run reuses the results. */
static const char *why_of(unsigned int h)
{
	static char why[sizeof(results[0].why)];

	snprintf(why, sizeof(why), "%s",
		 said(results[h].why[0] ? results[h].why : "it gave no report"));
	return why;
}

/* What a lab with a host lost, or a share not whole, needs: its words after "; ". */
static const char *not_whole_remedy(const struct cli *cli)
{
	static char text[256];

	snprintf(text, sizeof(text),
		 "the lab is not whole (capnet --lab %s down, again once that host is back, then "
		 "up)",
		 cli->lab);
	return text;
}

/* The same after a failure of host h, when h is lost or its share not whole (it is asked);
 * "" when it is whole and failed for another reason. */
static const char *lost_remedy(struct cli *cli, const struct lab_hosts *lh, unsigned int h)
{
	static char text[300];
	bool only[HOSTS_MAX] = { false };

	only[h] = true;
	set_all_args(lh->hosts.count, "host check");
	remote_run(cli->lab, &lh->hosts, only, host_args, results);
	snprintf(text, sizeof(text), "; %s", not_whole_remedy(cli));
	return results[h].status ? text : "";
}

/* ---- partition, cut, heal, link: the two-phase switch ------------------------------------ */

/* "PREFIX 'ARG' 'ARG' ...": a command line for the remote shell. */
static void remote_line(const char *prefix, int argc, char **argv, char *buf, size_t len)
{
	static char word[4096];
	size_t used = snprintf(buf, len, "%s", prefix);

	for (int i = 0; i < argc && used < len; i++) {
		remote_shell_word(argv[i], word, sizeof(word));
		used += snprintf(buf + used, len - used, " %s", word);
	}
}

/* A number member of a host's JSON line; 0 if absent or the line is not one. */
static uint64_t json_u64(const char *text, const char *key)
{
	uint64_t value = 0;

	return json_text_u64(text, key, &value) ? 0 : value;
}

/* How long a host may take to answer a step of a switch: a bound for a host that hangs, not
 * a claim about speed. */
#define SWITCH_ANSWER_MS 60000

/* Every host's session told to end (its standard input closed: a host still waiting for a
 * commit ends without switching), and waited for. */
static void end_sessions(struct remote_child *child, unsigned int n)
{
	for (unsigned int h = 0; h < n; h++)
		remote_wait(&child[h]);
}

static int hosts_switch(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
			char **argv)
{
	static char args[16384], prefix[64], what[1024], commit_line[HOSTS_MAX][64];
	static struct remote_child child[HOSTS_MAX];
	static struct remote_reply reply[HOSTS_MAX];
	static struct switch_plan plan;
	static int64_t tai_shift_ns[HOSTS_MAX];
	int64_t host_offset;
	const char *lines[HOSTS_MAX];
	bool live[HOSTS_MAX];
	struct switch_commit commit;
	bool preset = false, seed = false;
	uint64_t t0, round_trip, latest = 0, lead = UINT64_MAX, most_lead = 0;
	static char record[HOSTS_MAX * 48 + 64];
	size_t used;

	cli_take_json(cli, &argc, argv);
	for (int i = 0; i < argc; i++) {
		preset |= !strcmp(argv[i], "--preset");
		seed |= !strcmp(argv[i], "--seed");
	}
	if (cli_need_root(name))
		return EXIT_FAIL;
	snprintf(prefix, sizeof(prefix), "host prepare %s", name);
	remote_line(prefix, argc, argv, args, sizeof(args));
	used = strlen(args);
	/* A random preset must draw the same groups on every host. */
	if (preset && !seed && used < sizeof(args))
		snprintf(args + used, sizeof(args) - used, " --seed %llu",
			 (unsigned long long)(tai_ns() ^ (uint64_t)getpid() << 32));

	/* Phase one: every host writes its idle copy, says which generation it holds, and stays
	 * on the line for the commit: phase two starts no process anywhere. */
	signal(SIGPIPE, SIG_IGN); /* a host's ssh that ended is told by its output's end */
	switch_plan_start(&plan, lh->hosts.count);
	t0 = tai_ns();
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		live[h] = !remote_spawn(cli->lab, &lh->hosts.host[h], NULL, args, &child[h]);
		if (!live[h])
			snprintf(reply[h].why, sizeof(reply[h].why), "%s", error_reason(-EIO));
	}
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	round_trip = tai_ns() - t0;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t generation = live[h] ? json_u64(reply[h].line, "generation") : 0;

		if (!generation)
			switch_plan_failed(&plan, h,
					   reply[h].why[0] ? reply[h].why : "no generation");
		else
			switch_plan_prepared(&plan, h, generation, 0, 0);
	}
	if (switch_plan_decide(&plan, tai_ns(), &commit) == SWITCH_ABORT) {
		end_sessions(child, lh->hosts.count);
		return report_fail("%s: host %s did not prepare: %s; no host switched%s", name,
				   lh->hosts.host[commit.failed_host].dest,
				   plan.why[commit.failed_host],
				   lost_remedy(cli, lh, commit.failed_host));
	}
	{
		const char *p = strstr(reply[0].line, "\"partition\":\"");

		snprintf(what, sizeof(what), "%.*s", p ? (int)strcspn(p + 13, "\"") : 0,
			 p ? p + 13 : "");
	}
	test_hook_phase("switch-prepared");

	/* Every host is asked again whether it is still there, holding what it prepared, before
	 * any is told an instant: a host lost since its prepare stops the switch everywhere. The
	 * answers' round trip, over the open sessions, sets how far ahead the instant must be. */
	t0 = tai_ns();
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		lines[h] = "ready\n";
	remote_write_all(child, lh->hosts.count, live, lines, reply);
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	switch_plan_start(&plan, lh->hosts.count);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t generation = live[h] ? json_u64(reply[h].line, "ready") : 0;

		if (!live[h])
			switch_plan_failed(&plan, h, reply[h].why);
		else if (!generation)
			switch_plan_failed(&plan, h, reply[h].line);
		else
			switch_plan_prepared(&plan, h, generation, reply[h].at_ns - t0, 0);
		/* A kernel whose TAI offset is not the controller's reads CLOCK_TAI whole seconds
		 * away from it, however close chrony keeps the wall clocks: its instant is told in
		 * its own TAI. */
		tai_shift_ns[h] = 0;
		if (live[h] && !json_text_i64(reply[h].line, "tai_offset_s", &host_offset))
			tai_shift_ns[h] = (host_offset - clock_tai_offset_s()) * 1000000000ll;
	}
	if (switch_plan_decide(&plan, tai_ns(), &commit) == SWITCH_ABORT) {
		end_sessions(child, lh->hosts.count);
		return report_fail("%s: host %s was lost after it prepared: %s; no host switched",
				   name, lh->hosts.host[commit.failed_host].dest,
				   plan.why[commit.failed_host]);
	}

	/* Phase two: every host takes it at the same CLOCK_TAI instant, in its filter. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		snprintf(commit_line[h], sizeof(commit_line[h]), "commit %llu %llu\n",
			 (unsigned long long)plan.generation[h],
			 (unsigned long long)(commit.flip_at_tai_ns + tai_shift_ns[h]));
		lines[h] = commit_line[h];
	}
	remote_write_all(child, lh->hosts.count, live, lines, reply);
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t late = live[h] ? json_u64(reply[h].line, "late_ns") : 0,
			 ahead = live[h] ? json_u64(reply[h].line, "lead_ns") : 0;
		const char *why = !live[h]			    ? reply[h].why :
				  !strstr(reply[h].line, "lead_ns") ? reply[h].line :
								      NULL;

		if (why) {
			end_sessions(child, lh->hosts.count);
			return report_fail(
				"%s: host %s did not take the switch: %s; the lab is not "
				"consistent (capnet --lab %s heal once it is back)",
				name, lh->hosts.host[h].dest, why, cli->lab);
		}
		if (late > latest)
			latest = late;
		if (ahead < lead)
			lead = ahead;
		if (ahead > most_lead)
			most_lead = ahead;
	}
	end_sessions(child, lh->hosts.count);
	/* For status: how soon after this instant each host's filter acted on the new copy. */
	used = snprintf(record, sizeof(record), "flip_at %llu\ngenerations",
			(unsigned long long)commit.flip_at_tai_ns);
	for (unsigned int h = 0; h < lh->hosts.count && used < sizeof(record); h++)
		used += snprintf(record + used, sizeof(record) - used, " %llu",
				 (unsigned long long)plan.generation[h]);
	used += snprintf(record + used, used < sizeof(record) ? sizeof(record) - used : 0,
			 "\ntai_shifts");
	for (unsigned int h = 0; h < lh->hosts.count && used < sizeof(record); h++)
		used += snprintf(record + used, sizeof(record) - used, " %lld",
				 (long long)tai_shift_ns[h]);
	lab_record_forget(cli->lab, SWITCH_RECORD);
	lab_record_write(cli->lab, SWITCH_RECORD, record, "the last switch across hosts");
	if (cli->json)
		printf("{\"lab\":\"%s\",\"partition\":\"%s\",\"generation\":%llu,\"hosts\":%u,"
		       "\"flip_at_tai_ns\":%llu,\"lead_ns\":%llu,\"late_ns\":%llu,"
		       "\"arrival_spread_ns\":%llu,\"prepare_us\":%.1f}\n",
		       cli->lab, what, (unsigned long long)plan.generation[0], lh->hosts.count,
		       (unsigned long long)commit.flip_at_tai_ns, (unsigned long long)lead,
		       (unsigned long long)latest, (unsigned long long)(most_lead - lead),
		       round_trip / 1e3);
	else
		printf("%s (generation %llu) on %u hosts at one CLOCK_TAI instant: prepared in "
		       "%.1f ms, the last host %.1f ms ahead of it%s\n",
		       what, (unsigned long long)plan.generation[0], lh->hosts.count,
		       round_trip / 1e6, lead / 1e6,
		       latest ? ", one too late: it switched when it was told" : "");
	log_on_controller(cli, lh, name, argc, argv, what, NULL, plan.generation[0]);
	return EXIT_OK;
}

/* `exec I -- CMD...` on the host of node I, with this terminal's input and output. */
static int hosts_exec(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static char args[16384];
	char prefix[32];
	unsigned int node;
	int rc;

	if (argc < 1)
		return report_usage("exec: which node? (capnet exec I -- CMD ...)");
	rc = cli_parse_node(argv[0], lh->nodes, &node);
	if (rc)
		return rc;
	snprintf(prefix, sizeof(prefix), "exec %u", node);
	remote_line(prefix, argc - 1, argv + 1, args, sizeof(args));
	rc = remote_exec(cli->lab, &lh->hosts.host[lh->place.host_of[node]], args);
	return report_fail("exec on host %s: %s", lh->hosts.host[lh->place.host_of[node]].dest,
			   strerror(-rc));
}

/* ---- start, stop, kill, pause, resume, restart: every host acts on its own share ---------- */

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} node_commands[] = { { "start", cmd_start }, { "stop", cmd_stop },	{ "kill", cmd_kill },
		      { "pause", cmd_pause }, { "resume", cmd_resume }, { "restart", cmd_restart } };

static int (*node_command(const char *name))(struct cli *cli, int argc, char **argv)
{
	for (size_t c = 0; c < sizeof(node_commands) / sizeof(node_commands[0]); c++)
		if (!strcmp(name, node_commands[c].name))
			return node_commands[c].run;
	return NULL;
}

/* A lab whose hosts are not all there, or whose shares are not all whole, is refused before any
 * host acts: naming the first such host, its reason, and the remedy. */
static int refuse_unless_whole(struct cli *cli, const struct lab_hosts *lh, const char *name)
{
	unsigned int bad = HOSTS_MAX;

	if (!check_hosts(cli, lh, &bad))
		return EXIT_OK;
	return report_fail("%s: host %s: %s; %s", name, lh->hosts.host[bad].dest,
			   said(results[bad].why), not_whole_remedy(cli));
}

/* The cluster's one key on every host, before any capnode starts: the controller keeps it in
 * its run directory and hands it to each host on standard input, never on a command line. */
static int share_key(struct cli *cli, const struct lab_hosts *lh, const char *dir)
{
	static char args[1024], text[PROTO_KEY_TEXT_LEN + 1];
	const char *input[HOSTS_MAX];
	char run_dir[256], path[300];
	struct proto_key key;
	int err;

	run_dir_of_lab(cli->lab, NULL, run_dir, sizeof(run_dir));
	snprintf(path, sizeof(path), "%s/" KEY_FILE_NAME, run_dir);
	err = files_mkdir_p(run_dir, 0755);
	if (!err)
		err = key_file_ensure(path, &key);
	if (err)
		return report_error(err, NULL);
	proto_key_format(&key, text);
	memset(&key, 0, sizeof(key));
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		input[h] = text;
	remote_line("host key", dir ? 2 : 0, (char *[]){ "--dir", (char *)dir }, args,
		    sizeof(args));
	set_all_args(lh->hosts.count, args);
	remote_run_input(cli->lab, &lh->hosts, NULL, host_args, input, results);
	memset(text, 0, sizeof(text));
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (results[h].status)
			return report_fail("start: host %s: %s; no capnode was started",
					   lh->hosts.host[h].dest, said(results[h].why));
	return EXIT_OK;
}

/* Every line of what host h wrote on standard error, naming the host. */
static void relay_text(const struct lab_hosts *lh, unsigned int h, const char *err)
{
	static char text[sizeof(results[0].err)];
	char *save = NULL;

	snprintf(text, sizeof(text), "%s", err);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		report_warn("host %s: %s", lh->hosts.host[h].dest, said(line));
}

static void relay_warnings(const struct lab_hosts *lh, unsigned int h)
{
	relay_text(lh, h, results[h].err);
}

/* The last line of a host's output: its report. */
static const char *last_output_line(const char *out)
{
	const char *end = out + strlen(out), *start;

	while (end > out && end[-1] == '\n')
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	return start;
}

/* The command on every host (each acting on the nodes of its share, named by their numbers in
 * the whole lab), and one report adding up theirs, in the words of a lab on one host. */
static int hosts_nodes(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
		       char **argv)
{
	static char args[16384], line[2048];
	static struct nodes_report sum, one;
	const char *dir = NULL;
	bool capnode = false, no_key = false;
	unsigned int failed = HOSTS_MAX, answered = 0;
	int rc;

	cli_take_json(cli, &argc, argv);
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[i + 1];
		capnode |= !strcmp(argv[i], "--mode");
		no_key |= !strcmp(argv[i], "--no-key");
	}
	snprintf(line, sizeof(line), "capnet %s", name);
	if (cli_need_root(line))
		return EXIT_FAIL;
	if (!strcmp(name, "start")) {
		rc = refuse_unless_whole(cli, lh, name);
		if (!rc && capnode && !no_key)
			rc = share_key(cli, lh, dir);
		if (rc)
			return rc;
	}
	snprintf(line, sizeof(line), "host nodes %s", name);
	remote_line(line, argc, argv, args, sizeof(args));
	set_all_args(lh->hosts.count, args);
	remote_run(cli->lab, &lh->hosts, NULL, host_args, results);
	/* A usage error is the same on every host: said once, as on one host. */
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (results[h].status == EXIT_USAGE)
			return report_usage("%s", said(results[h].why));
	rc = EXIT_OK;
	memset(&sum, 0, sizeof(sum));
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (results[h].status)
			rc = EXIT_FAIL;
		if (nodes_report_parse(last_output_line(results[h].out), &one)) {
			if (failed == HOSTS_MAX)
				failed = h;
			continue;
		}
		relay_warnings(lh, h);
		nodes_report_add(&sum, &one);
		answered++;
	}
	if (answered && nodes_report_format(&sum, cli->lab, cli->json, line, sizeof(line)) > 0)
		fputs(line, stdout);
	if (nodeset_count(&sum.hit))
		log_on_controller(cli, lh, name, argc, argv, NULL, &sum.hit, 0);
	if (failed < HOSTS_MAX)
		return report_fail("%s: host %s: %s%s", name, lh->hosts.host[failed].dest,
				   why_of(failed), lost_remedy(cli, lh, failed));
	return rc;
}

/* ---- clock: each host moves the clocks of its nodes ------------------------------------- */

/* Where a host's clock line names its nodes: the value of "nodes" in JSON, else what stands
 * between "clock of node(s) " and ": ". 0 with *at and *len, or -EINVAL. */
static int clock_nodes_span(const char *line, bool json, const char **at, size_t *len)
{
	const char *p = json ? strstr(line, "\"nodes\":\"") : strstr(line, "clock of node");

	if (!p)
		return -EINVAL;
	p += json ? strlen("\"nodes\":\"") : strlen("clock of node");
	if (!json)
		p += strspn(p, "s ");
	*at = p;
	*len = strcspn(p, json ? "\"" : ":");
	return p[*len] ? 0 : -EINVAL;
}

/* One line for the hosts' lines when they say the same of their nodes (the nodes joined), else
 * every host's line: each names its nodes. */
static void print_clock_lines(struct cli *cli, const struct lab_hosts *lh, const bool *ran)
{
	static char first_rest[16384], rest[16384];
	struct node_set all, one;
	struct spec_error e;
	char nodes[4096], text[4096];
	const char *at, *first = NULL;
	size_t len;
	bool same = true;

	nodeset_clear(&all);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		const char *line = last_output_line(results[h].out);

		if (!ran[h])
			continue;
		if (clock_nodes_span(line, cli->json, &at, &len) || len >= sizeof(text)) {
			same = false;
			continue;
		}
		snprintf(text, sizeof(text), "%.*s", (int)len, at);
		if (nodeset_parse(text, lh->nodes, &one, &e))
			same = false;
		for (unsigned int i = 1; i <= lh->nodes; i++)
			if (nodeset_has(&one, i))
				nodeset_add(&all, i);
		snprintf(rest, sizeof(rest), "%.*s%s", (int)(at - line), line, at + len);
		if (!first) {
			first = line;
			snprintf(first_rest, sizeof(first_rest), "%s", rest);
		} else if (strcmp(rest, first_rest)) {
			same = false;
		}
	}
	if (!first)
		return;
	if (!same) {
		for (unsigned int h = 0; h < lh->hosts.count; h++)
			if (ran[h])
				fputs(last_output_line(results[h].out), stdout);
		return;
	}
	clock_nodes_span(first, cli->json, &at, &len);
	nodeset_format(&all, nodes, sizeof(nodes));
	if (cli->json)
		printf("%.*s%s%s", (int)(at - first), first, nodes, at + len);
	else
		printf("clock of node%s %s%s", nodeset_count(&all) == 1 ? "" : "s", nodes,
		       at + len);
}

/* Every host that holds one of NODES checks them all first; only then does any clock move, on
 * each host through its own libfaketime control files. */
static int hosts_clock(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static char args[16384];
	bool ran[HOSTS_MAX] = { false };
	struct node_set set;
	struct spec_error e;

	cli_take_json(cli, &argc, argv);
	if (argc < 2)
		return report_usage("clock: usage: capnet clock NODES --offset ±T | --rate R | "
				    "--strobe T,PERIOD | --reset");
	if (nodeset_parse(argv[0], lh->nodes, &set, &e))
		return report_usage("clock: %s", e.msg);
	if (cli_need_root("capnet clock"))
		return EXIT_FAIL;
	for (unsigned int i = 1; i <= lh->nodes; i++)
		if (nodeset_has(&set, i))
			ran[lh->place.host_of[i]] = true;
	remote_line("host clock-check", argc, argv, args, sizeof(args));
	set_all_args(lh->hosts.count, args);
	remote_run(cli->lab, &lh->hosts, ran, host_args, results);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && results[h].status == EXIT_USAGE)
			return report_usage("%s", said(results[h].why));
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && results[h].status)
			return report_fail("clock: host %s: %s; no clock was changed%s",
					   lh->hosts.host[h].dest, why_of(h),
					   lost_remedy(cli, lh, h));
	remote_line(cli->json ? "--json host clock-set" : "host clock-set", argc, argv, args,
		    sizeof(args));
	set_all_args(lh->hosts.count, args);
	remote_run(cli->lab, &lh->hosts, ran, host_args, results);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && results[h].status == 0)
			relay_warnings(lh, h);
	print_clock_lines(cli, lh, ran);
	log_on_controller(cli, lh, "clock", argc, argv, NULL, &set, 0);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (ran[h] && results[h].status)
			return report_fail("clock: host %s: %s", lh->hosts.host[h].dest,
					   said(results[h].why));
	return EXIT_OK;
}

/* ---- link --delay: each host's delay line, for the links whose sender it holds ------------ */

/* Whether a link command changes delays and nothing the filter's policy holds: then there is
 * no switch to make, and each host applies it at once. */
static bool link_delays_only(int argc, char **argv)
{
	static const char *const delay_opts[] = { "--delay", "--jitter", "--distribution", "--rate",
						  "--reorder" };
	static const char *const policy_opts[] = { "--loss",	"--dup",
						   "--corrupt", "--corrupt-payload",
						   "--only",	"--except" };
	bool delays = false;

	for (int i = 0; i < argc; i++) {
		for (size_t k = 0; k < sizeof(delay_opts) / sizeof(delay_opts[0]); k++)
			delays |= !strcmp(argv[i], delay_opts[k]);
		for (size_t k = 0; k < sizeof(policy_opts) / sizeof(policy_opts[0]); k++)
			if (!strcmp(argv[i], policy_opts[k]))
				return false;
	}
	return delays;
}

/* Every host records the lab's delays and its delay line takes the frames of the links whose
 * sender it holds: a frame is delayed once, where it enters the switch, and then crosses to
 * its destination's host over VXLAN. */
static int hosts_delay(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static char args[16384], delays[4096];

	cli_take_json(cli, &argc, argv);
	if (cli_need_root("capnet link"))
		return EXIT_FAIL;
	if (refuse_unless_whole(cli, lh, "link"))
		return EXIT_FAIL;
	remote_line("--json host link", argc, argv, args, sizeof(args));
	set_all_args(lh->hosts.count, args);
	remote_run(cli->lab, &lh->hosts, NULL, host_args, results);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (results[h].status == EXIT_USAGE)
			return report_usage("%s", said(results[h].why));
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (results[h].status)
			return report_fail(
				"link: host %s: %s; the delays of the other hosts are set "
				"(capnet --lab %s heal --delays clears them)",
				lh->hosts.host[h].dest, said(results[h].why), cli->lab);
		relay_warnings(lh, h);
	}
	log_on_controller(cli, lh, "link", argc, argv, NULL, NULL, 0);
	if (json_text_str(results[0].out, "delays", delays, sizeof(delays)))
		snprintf(delays, sizeof(delays), "?");
	if (cli->json) {
		printf("{\"lab\":");
		json_write_string(stdout, cli->lab);
		printf(",\"delays\":");
		json_write_string(stdout, delays);
		printf(",\"hosts\":%u}\n", lh->hosts.count);
	} else {
		printf("delays: %s\n", delays[0] ? delays : "none");
	}
	return EXIT_OK;
}

/* ---- watch: the drops of every host, merged in CLOCK_TAI order ---------------------------- */

struct held_drop {
	uint64_t tai_ns;
	unsigned int host;
	char *line; /* as the host wrote it, after its time */
};

/* What the hosts have said and the controller not yet printed. A drop is printed once every
 * host still watching has said it read all its drops up to a later instant (its mark), so the
 * lines come out in time order whatever the order they arrived in. */
struct watch_merge {
	const struct lab_hosts *lh;
	bool json;
	struct held_drop *held;
	size_t n, cap;
	uint64_t mark[HOSTS_MAX];
	bool ended[HOSTS_MAX];
	char line[HOSTS_MAX][4096], err[HOSTS_MAX][1024];
	size_t used[HOSTS_MAX], err_used[HOSTS_MAX];
	unsigned long long printed, limit;
};

static void print_drop(struct watch_merge *m, const struct held_drop *d)
{
	const char *dest = m->lh->hosts.host[d->host].dest;
	size_t time_len = strcspn(d->line, " ");

	if (m->json) {
		printf("{\"host\":");
		json_write_string(stdout, dest);
		printf(",\"time_tai_ns\":%llu,%s\n", (unsigned long long)d->tai_ns, d->line + 1);
	} else {
		printf("%.*s host %s%s\n", (int)time_len, d->line, dest, d->line + time_len);
	}
	m->printed++;
}

static int by_time(const void *a, const void *b)
{
	const struct held_drop *x = a, *y = b;

	return x->tai_ns < y->tai_ns ? -1 : x->tai_ns > y->tai_ns ? 1 : (int)x->host - (int)y->host;
}

/* Prints, in time order, every held drop no host can still precede; all of them with all. */
static void release_drops(struct watch_merge *m, bool all)
{
	uint64_t upto = UINT64_MAX;
	size_t k = 0;

	for (unsigned int h = 0; h < m->lh->hosts.count && !all; h++)
		if (!m->ended[h] && m->mark[h] < upto)
			upto = m->mark[h];
	qsort(m->held, m->n, sizeof(*m->held), by_time);
	for (; k < m->n && (all || m->held[k].tai_ns <= upto); k++) {
		if (!m->limit || m->printed < m->limit)
			print_drop(m, &m->held[k]);
		free(m->held[k].line);
	}
	memmove(m->held, m->held + k, (m->n - k) * sizeof(*m->held));
	m->n -= k;
	fflush(stdout);
}

/* One line of host h: "E TAI LINE" a drop, "W TAI" its mark. */
static void take_watch_line(struct watch_merge *m, unsigned int h, char *line)
{
	char *rest;
	uint64_t t = strtoull(line + 2, &rest, 10);

	if (line[0] == 'W') {
		m->mark[h] = t;
	} else if (line[0] == 'E' && *rest == ' ') {
		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			struct held_drop *more = realloc(m->held, cap * sizeof(*more));

			if (!more)
				return;
			m->held = more;
			m->cap = cap;
		}
		m->held[m->n++] =
			(struct held_drop){ .tai_ns = t, .host = h, .line = strdup(rest + 1) };
		if (!m->held[m->n - 1].line)
			m->n--;
	}
}

/* Reads what host h wrote on fd (its output, or its errors): false at its end. */
static bool read_watch(struct watch_merge *m, unsigned int h, int fd, bool errors)
{
	char *buf = errors ? m->err[h] : m->line[h];
	size_t *used = errors ? &m->err_used[h] : &m->used[h], room = errors ? 1024 : 4096;
	ssize_t got = read(fd, buf + *used, room - 1 - *used);
	char *nl;

	if (got <= 0)
		return got < 0 && errno == EINTR;
	*used += got;
	buf[*used] = '\0';
	if (errors) {
		if (*used == room - 1)
			*used = 0; /* keeps its last words only */
		return true;
	}
	while ((nl = strchr(buf, '\n'))) {
		*nl = '\0';
		take_watch_line(m, h, buf);
		*used -= nl + 1 - buf;
		memmove(buf, nl + 1, *used + 1);
	}
	if (*used == room - 1)
		*used = 0; /* a line longer than any watch writes: not one */
	return true;
}

static int hosts_watch(struct cli *cli, const struct lab_hosts *lh, int argc, char **argv)
{
	static struct watch_merge m;
	static struct remote_child child[HOSTS_MAX];
	struct pollfd fds[2 * HOSTS_MAX];
	unsigned int lost = HOSTS_MAX;
	struct watch_args a;
	long long deadline = 0;
	int rc, status = 0, err;
	pid_t cmd = 0;

	cli_take_json(cli, &argc, argv);
	rc = watch_parse_args(argc, argv, &a);
	if (!rc && cli_need_root("capnet watch"))
		rc = EXIT_FAIL;
	if (!rc)
		rc = refuse_unless_whole(cli, lh, "watch");
	if (rc)
		return rc;
	memset(&m, 0, sizeof(m));
	m.lh = lh;
	m.json = cli->json;
	m.limit = a.count;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		err = remote_spawn(cli->lab, &lh->hosts.host[h], NULL,
				   cli->json ? "--json host watch" : "host watch", &child[h]);
		if (err) {
			for (unsigned int k = 0; k < h; k++)
				remote_wait(&child[k]);
			return report_fail("watch: host %s: %s", lh->hosts.host[h].dest,
					   strerror(-err));
		}
	}
	if (!cli->json)
		printf("# time: seconds of CLOCK_TAI, each host's drops moved onto it; host: the "
		       "host whose filter dropped the frame\n");
	fflush(stdout);
	if (a.cmd)
		cmd = watch_command_start(a.cmd);
	if (a.duration_ms)
		deadline = monotonic_ms() + a.duration_ms;
	while (cmd >= 0 && lost == HOSTS_MAX && (!m.limit || m.printed < m.limit)) {
		nfds_t n = 0;
		int wait = watch_next_wait(&deadline, &cmd, &status);

		if (wait < 0)
			break;
		for (unsigned int h = 0; h < lh->hosts.count; h++) {
			fds[n++] = (struct pollfd){ .fd = child[h].out, .events = POLLIN };
			fds[n++] = (struct pollfd){ .fd = child[h].err, .events = POLLIN };
		}
		if (poll(fds, n, wait) < 0 && errno != EINTR)
			break;
		for (unsigned int h = 0; h < lh->hosts.count; h++) {
			if (fds[2 * h + 1].revents)
				read_watch(&m, h, child[h].err, true);
			if (fds[2 * h].revents && !read_watch(&m, h, child[h].out, false)) {
				m.ended[h] = true;
				lost = h; /* a host's watch ends only when the controller ends it */
			}
		}
		release_drops(&m, false);
	}
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		/* Its end of file ends its watch; what it wrote meanwhile is still read. */
		close(child[h].in);
		child[h].in = -1;
		while (!m.ended[h] && read_watch(&m, h, child[h].out, false))
			;
		while (read_watch(&m, h, child[h].err, true))
			;
		remote_wait(&child[h]);
		if (m.err[h][0] && lost != h)
			relay_text(lh, h, m.err[h]);
	}
	release_drops(&m, true);
	free(m.held);
	if (cmd > 0) {
		kill(cmd, SIGTERM);
		waitpid(cmd, &status, 0);
	}
	if (lost < HOSTS_MAX)
		return report_fail("watch: host %s was lost: %s; %s", lh->hosts.host[lost].dest,
				   m.err[lost][0] ? said(last_output_line(m.err[lost])) :
						    "its watch ended",
				   not_whole_remedy(cli));
	if (cmd < 0)
		return EXIT_FAIL;
	return watch_command_end(cli, a.cmd, status, m.printed);
}

int hosts_lab_whole(struct cli *cli, const char *name, unsigned int *nodes)
{
	static struct lab_hosts lh;
	int err = hosts_lab_read(cli->lab, &lh);

	if (err == -ENOENT)
		return err;
	if (err)
		return report_error(err, NULL);
	*nodes = lh.nodes;
	return refuse_unless_whole(cli, &lh, name);
}

bool hosts_dispatch(struct cli *cli, const char *name, int argc, char **argv, int *rc)
{
	static struct lab_hosts lh;
	int err;

	if (!strcmp(name, "up"))
		return false; /* up refuses a lab that exists, across hosts or not */
	err = hosts_lab_read(cli->lab, &lh);
	if (err == -ENOENT)
		return false;
	if (err) {
		*rc = report_error(err, NULL);
		return true;
	}
	if (!strcmp(name, "down")) {
		*rc = argc ? report_usage("down takes no arguments") : hosts_down(cli, &lh);
		return true;
	}
	if (!strcmp(name, "status")) {
		cli_take_json(cli, &argc, argv);
		*rc = argc ? report_usage("status of a lab across hosts takes only --json") :
			     hosts_status(cli, &lh);
		return true;
	}
	if (!strcmp(name, "exec")) {
		*rc = hosts_exec(cli, &lh, argc, argv);
		return true;
	}
	if (!strcmp(name, "link") && link_delays_only(argc, argv)) {
		*rc = hosts_delay(cli, &lh, argc, argv);
		return true;
	}
	if (!strcmp(name, "partition") || !strcmp(name, "cut") || !strcmp(name, "heal") ||
	    !strcmp(name, "link")) {
		*rc = hosts_switch(cli, &lh, name, argc, argv);
		return true;
	}
	/* A scenario's steps are capnet and capctl commands: each finds the hosts itself. */
	if (!strcmp(name, "run"))
		return false;
	if (!strcmp(name, "watch")) {
		*rc = hosts_watch(cli, &lh, argc, argv);
		return true;
	}
	if (!strcmp(name, "clock")) {
		*rc = hosts_clock(cli, &lh, argc, argv);
		return true;
	}
	if (node_command(name)) {
		*rc = hosts_nodes(cli, &lh, name, argc, argv);
		return true;
	}
	*rc = report_fail("lab %s spans %u hosts: `capnet %s` does not work across hosts yet (up, "
			  "status, down, exec, partition, cut, heal and link do)",
			  cli->lab, lh.hosts.count, name);
	return true;
}

/* ---- capnet host VERB: what the controller runs on each host ---------------------------- */

/* "capnet VERSION ADDR MTU CONTROLLER": the address this host was reached at and its MTU, and
 * the controller's address, from what sshd tells the session (SSH_CONNECTION). */
static int host_hello(void)
{
	const char *conn = getenv("SSH_CONNECTION");
	char client[64] = "-", server[64] = "-";
	struct in_addr a;
	unsigned int mtu = 0;
	char why[256];

	/* Refused here, before any host builds: the host's kernel cannot hold a share. */
	if (kernel_probe(why, sizeof(why)))
		return report_fail("%s", why);
	if (conn && sscanf(conn, "%63s %*s %63s", client, server) == 2 &&
	    inet_pton(AF_INET, server, &a) == 1)
		mtu = vxlan_underlay_mtu(ntohl(a.s_addr));
	printf("capnet %s %s %u %s\n", CAPNET_VERSION, server, mtu, client);
	return EXIT_OK;
}

struct share_join {
	uint32_t vni, local;
	unsigned int mtu;
	uint32_t remote[CAPNET_NODE_SLOTS];
};

static int join_vxlan(const struct lab_config *cfg, void *arg)
{
	struct share_join *j = arg;

	for (unsigned int i = 1; i <= cfg->nodes; i++)
		if (j->remote[i])
			return vxlan_join(cfg->name, j->vni, j->local, j->mtu, cfg->nodes,
					  j->remote);
	return 0; /* the only host */
}

/* "4-6@10.0.0.2/7-9@10.0.0.3", or "-" for none. */
static int parse_peers(const char *text, unsigned int nodes, uint32_t *remote)
{
	static char buf[65536];
	struct spec_error e;
	char *save = NULL;

	if (!strcmp(text, "-"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *item = strtok_r(buf, "/", &save); item; item = strtok_r(NULL, "/", &save)) {
		char *at = strchr(item, '@');
		struct node_set set;
		struct in_addr a;

		if (!at)
			return report_usage("host up: --peers \"%s\" is not NODES@ADDR", item);
		*at = '\0';
		if (nodeset_parse(item, nodes, &set, &e) || inet_pton(AF_INET, at + 1, &a) != 1)
			return report_usage("host up: --peers: %s@%s", item, at + 1);
		for (unsigned int i = 1; i <= nodes; i++)
			if (nodeset_has(&set, i))
				remote[i] = ntohl(a.s_addr);
	}
	return 0;
}

static int host_up(struct cli *cli, int argc, char **argv)
{
	static struct share_join join;
	static bool here[CAPNET_NODE_SLOTS];
	struct lab_config cfg = { 0 };
	const char *here_text = NULL, *subnet = "10.77.0.0/16", *peers = "-";
	enum filter_hook used = FILTER_HOOK_AUTO;
	double t_topology, t_filter;
	struct node_set set;
	struct spec_error e;
	struct in_addr a;
	char msg[256];

	memset(&join, 0, sizeof(join));
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "-n"))
			cfg.nodes = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--here"))
			here_text = v;
		else if (!strcmp(k, "--subnet"))
			subnet = v;
		else if (!strcmp(k, "--mtu"))
			join.mtu = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--vni"))
			join.vni = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--local") && inet_pton(AF_INET, v, &a) == 1)
			join.local = ntohl(a.s_addr);
		else if (!strcmp(k, "--peers"))
			peers = v;
		else if (!strcmp(k, "--hook") && !filter_hook_parse(v, &used))
			cfg.filter_hook = used;
		else
			return report_usage("host up: unknown argument \"%s\"", k);
	}
	if (argc % 2 || !cfg.nodes || cfg.nodes > CAPNET_MAX_NODES || !here_text || !join.mtu ||
	    nodeset_parse(here_text, cfg.nodes, &set, &e) ||
	    lab_parse_subnet(subnet, cfg.nodes, &cfg.subnet, &cfg.prefix, msg, sizeof(msg)))
		return report_usage(
			"host up: needs -n N --here NODES --mtu M (from the controller)");
	if (parse_peers(peers, cfg.nodes, join.remote))
		return EXIT_USAGE;
	if (cli_need_root("capnet host up"))
		return EXIT_FAIL;
	for (unsigned int i = 1; i <= cfg.nodes; i++)
		here[i] = nodeset_has(&set, i);
	snprintf(cfg.name, sizeof(cfg.name), "%s", cli->lab);
	cfg.node_here = here;
	cfg.mtu = join.mtu;
	used = FILTER_HOOK_AUTO;
	return cli_build_lab(cli, &cfg, join_vxlan, &join, &used, &t_topology, &t_filter) ?
		       EXIT_FAIL :
		       EXIT_OK;
}

/* The share here is whole: built to the end, every port of this host filtered. Says so in one
 * JSON line: the policy copy in force, and the CLOCK_TAI instant its filter first judged a frame
 * by it. */
static int host_check(struct cli *cli)
{
	struct capnet_policy_meta meta;
	struct lab_info info;
	struct filter *f = NULL;
	unsigned int copy;
	int err;

	if (lab_open(cli->lab, &info, &f, LAB_WHOLE))
		return report_error(-EIO, NULL);
	err = filter_active_meta(f, &copy, &meta);
	filter_close(f);
	if (err)
		return report_error(err, "read the policy in force");
	printf("{\"generation\":%llu,\"taken_tai_ns\":%llu}\n", (unsigned long long)meta.generation,
	       (unsigned long long)meta.taken_tai_ns);
	return EXIT_OK;
}

/* The generation the idle copy holds: what a prepare wrote there. */
static int idle_generation(struct filter *f, uint64_t *generation)
{
	struct capnet_policy_meta meta;
	unsigned int copy;
	int err = filter_active_meta(f, &copy, &meta);

	if (err)
		return err;
	err = filter_read_meta(f, !copy, &meta);
	if (!err)
		*generation = meta.generation;
	return err;
}

/* Phase two on this host: the prepared copy takes over at the instant, in the filter; then,
 * once it has passed, it is made the active copy. Says how far ahead of the instant it was
 * scheduled (lead_ns), or how late (late_ns: this host switched that much after the others). */
static int commit_at(struct filter *f, uint64_t generation, uint64_t flip_at)
{
	struct timespec at;
	uint64_t written;
	int err;

	err = filter_schedule_flip(f, generation, flip_at);
	written = tai_ns();
	if (err)
		return report_fail("schedule the switch: %s",
				   err == -ESTALE ? "the prepared copy was replaced" :
				   err == -EBUSY  ? "another switch is scheduled" :
						    strerror(-err));
	at.tv_sec = flip_at / 1000000000ull;
	at.tv_nsec = flip_at % 1000000000ull;
	while (clock_nanosleep(CLOCK_TAI, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	err = filter_settle_flip(f);
	if (err)
		return report_fail("settle the switch: %s", strerror(-err));
	printf("{\"lead_ns\":%llu,\"late_ns\":%llu}\n",
	       (unsigned long long)(written < flip_at ? flip_at - written : 0),
	       (unsigned long long)(written > flip_at ? written - flip_at : 0));
	return EXIT_OK;
}

/* After the prepare, the controller's lines on standard input: "ready" (is the prepared copy
 * still there? {"ready":GENERATION,"tai_offset_s":this kernel's TAI offset}), then "commit GENERATION FLIP_AT_TAI_NS". Its end before a
 * commit (the controller gave up, or died) switches nothing. */
static int await_commit(struct cli *cli)
{
	uint64_t prepared = 0, now = 0, generation, flip_at;
	struct filter *f = NULL;
	char line[128];
	int err;

	err = filter_open(cli->lab, &f);
	if (!err)
		err = idle_generation(f, &prepared);
	if (err) {
		filter_close(f);
		return report_error(err, NULL);
	}
	fflush(stdout);
	err = EXIT_OK;
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "ready\n")) {
			if (idle_generation(f, &now) || now != prepared)
				printf("the prepared copy was replaced (generation %llu, now %llu)\n",
				       (unsigned long long)prepared, (unsigned long long)now);
			else
				printf("{\"ready\":%llu,\"tai_offset_s\":%ld}\n",
				       (unsigned long long)prepared, clock_tai_offset_s());
			fflush(stdout);
			continue;
		}
		if (sscanf(line, "commit %" SCNu64 " %" SCNu64, &generation, &flip_at) == 2) {
			err = commit_at(f, generation, flip_at);
			break;
		}
		err = report_usage("host prepare: \"%.*s\" is neither ready nor commit",
				   (int)strcspn(line, "\n"), line);
		break;
	}
	filter_close(f);
	return err;
}

/* Phase one on this host: the command as it would run alone, writing the idle copy only; then
 * the session stays for phase two. */
static int host_prepare(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *cli, int argc, char **argv);
	} commands[] = { { "partition", cmd_partition },
			 { "cut", cmd_cut },
			 { "heal", cmd_heal },
			 { "link", cmd_link } };
	int rc;

	if (argc < 1)
		return report_usage("host prepare: which command?");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[0], commands[c].name)) {
			filter_defer_flips(true);
			cli->json = true;
			rc = commands[c].run(cli, argc - 1, argv + 1);
			return rc ? rc : await_commit(cli);
		}
	return report_usage("host prepare: \"%s\" is not a switch", argv[0]);
}

/* `host nodes COMMAND ARGS`: start ... restart on this host's share, its report in JSON. */
static int host_nodes(struct cli *cli, int argc, char **argv)
{
	int (*run)(struct cli * cli, int argc, char **argv) = argc ? node_command(argv[0]) : NULL;

	if (!run)
		return report_usage("host nodes: which command? (start, stop, kill, pause, resume "
				    "or restart)");
	cli->json = true;
	return run(cli, argc - 1, argv + 1);
}

/* `host key [--dir D]`: the cluster's key, read on standard input, into this host's run
 * directory, where capnode and capctl find it. */
static int host_key(struct cli *cli, int argc, char **argv)
{
	char text[PROTO_KEY_TEXT_LEN + 2], run_dir[256], path[300];
	struct proto_key key;
	size_t got = 0;
	ssize_t n;
	int err;

	if (argc != 0 && !(argc == 2 && !strcmp(argv[0], "--dir")))
		return report_usage("host key [--dir DIR] (the key on standard input)");
	/* ssh may hand it over in pieces. */
	while (got < sizeof(text) && (n = read(STDIN_FILENO, text + got, sizeof(text) - got)) > 0)
		got += (size_t)n;
	if (proto_key_parse(text, got, &key))
		return report_fail("host key: no key on standard input");
	memset(text, 0, sizeof(text));
	run_dir_of_lab(cli->lab, argc ? argv[1] : NULL, run_dir, sizeof(run_dir));
	snprintf(path, sizeof(path), "%s/" KEY_FILE_NAME, run_dir);
	err = files_mkdir_p(run_dir, 0755);
	if (!err)
		err = key_file_install(path, &key);
	memset(&key, 0, sizeof(key));
	return err ? report_error(err, NULL) : EXIT_OK;
}

int cmd_host(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return report_usage("host: which verb? (internal: the controller of a lab across "
				    "hosts runs it)");
	if (!strcmp(argv[0], "hello"))
		return host_hello();
	if (!strcmp(argv[0], "up"))
		return host_up(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "check"))
		return host_check(cli);
	if (!strcmp(argv[0], "prepare"))
		return host_prepare(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "down"))
		return cmd_down(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "clock"))
		return clock_probe_serve() ? EXIT_FAIL : EXIT_OK;
	if (!strcmp(argv[0], "nodes"))
		return host_nodes(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "key"))
		return host_key(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "link"))
		return cmd_link(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "watch"))
		return cmd_watch_for_controller(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "clock-check"))
		return cmd_clock_check(cli, argc - 1, argv + 1);
	if (!strcmp(argv[0], "clock-set"))
		return cmd_clock(cli, argc - 1, argv + 1);
	return report_usage("host: unknown verb \"%s\"", argv[0]);
}
