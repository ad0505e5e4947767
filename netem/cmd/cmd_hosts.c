// SPDX-License-Identifier: GPL-2.0-only
/* A lab across hosts, from the controller: `up --hosts` and `down`, and the pieces every command
 * of such a lab shares; each host is reached through netem/hosts/remote.c. The commands are in
 * hosts_status.c, hosts_switch.c (partition, cut, heal, link), hosts_nodes.c (exec, services,
 * clock, delays) and hosts_watch.c; what each host runs, `capnet host VERB`, in cmd_host.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lib/files.h"
#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/options.h"
#include "lib/report.h"
#include "netem/cli.h"
#include "netem/cmd/hosts_cmd.h"
#include "netem/hosts/vxlan.h"
#include "netem/lab/fault_log.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/run_dir.h"
#include "netem/policy/spec.h"
#include "netem/svc/nodes.h"

struct remote_result hosts_results[HOSTS_MAX];

void hosts_run_all_input(const char *lab, const struct lab_hosts *lh, const bool *run,
			 const char *args, const char *const *input)
{
	static char *all[HOSTS_MAX];

	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		free(all[h]);
		all[h] = strdup(args);
	}
	remote_run_input(lab, &lh->hosts, run, all, input, hosts_results);
}

void hosts_run_all(const char *lab, const struct lab_hosts *lh, const bool *run, const char *args)
{
	hosts_run_all_input(lab, lh, run, args, NULL);
}

const char *hosts_said(const char *line)
{
	return strncmp(line, "capnet: ", 8) ? line : line + 8;
}

/* Kept in its own buffer: the next hosts_run_all writes over hosts_results. */
const char *hosts_why_of(unsigned int h)
{
	static char why[sizeof(hosts_results[0].why)];

	snprintf(why, sizeof(why), "%s",
		 hosts_said(hosts_results[h].why[0] ? hosts_results[h].why : "it gave no report"));
	return why;
}

const char *hosts_not_whole_remedy(const struct cli *cli)
{
	static char text[256];

	snprintf(text, sizeof(text),
		 "the lab is not whole (capnet --lab %s down, again once that host is back, then "
		 "up)",
		 cli->lab);
	return text;
}

const char *hosts_lost_remedy(struct cli *cli, const struct lab_hosts *lh, unsigned int h)
{
	static char text[300];
	bool only[HOSTS_MAX] = { false };

	only[h] = true;
	hosts_run_all(cli->lab, lh, only, "host check");
	snprintf(text, sizeof(text), "; %s", hosts_not_whole_remedy(cli));
	return hosts_results[h].status ? text : "";
}

/* Every line of what host h wrote on standard error, naming the host. */
void hosts_relay_text(const struct lab_hosts *lh, unsigned int h, const char *err)
{
	static char text[sizeof(hosts_results[0].err)];
	char *save = NULL;

	snprintf(text, sizeof(text), "%s", err);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		report_warn("host %s: %s", lh->hosts.host[h].dest, hosts_said(line));
}

void hosts_relay_warnings(const struct lab_hosts *lh, unsigned int h)
{
	hosts_relay_text(lh, h, hosts_results[h].err);
}

/* The last line of a host's output: its report. */
const char *hosts_last_line(const char *out)
{
	const char *end = out + strlen(out), *start;

	while (end > out && end[-1] == '\n')
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	return start;
}

int hosts_switch_record(const char *lab, const struct lab_hosts *lh, struct switch_record *r)
{
	static char text[HOSTS_SWITCH_RECORD_MAX];
	int err = lab_record_read(lab, SWITCH_RECORD, text, sizeof(text));

	return err ? err : switch_record_parse(text, lh->hosts.count, r);
}

const char *hosts_inconsistent_remedy(const struct cli *cli)
{
	static char text[256];

	snprintf(text, sizeof(text),
		 "the lab is not consistent (capnet --lab %s heal, or any partition, cut or link, "
		 "brings every host to one generation once all answer)",
		 cli->lab);
	return text;
}

/* Every host says whether its share is whole, and which generation it holds: the first that is
 * not whole is named, else the first not on the generation the last switch told it. */
int hosts_check_all(struct cli *cli, const struct lab_hosts *lh, unsigned int *bad,
		    struct hosts_generations *gen)
{
	static struct hosts_generations own;
	uint64_t asked;

	if (!gen)
		gen = &own;
	memset(gen, 0, sizeof(*gen));
	gen->astray = HOSTS_MAX;
	hosts_run_all(cli->lab, lh, NULL, "host check");
	asked = tai_ns();
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		gen->known[h] =
			!hosts_results[h].status &&
			!json_text_u64(hosts_results[h].out, "generation", &gen->in_force[h]);
	gen->recorded = !hosts_switch_record(cli->lab, lh, &gen->record);
	if (gen->recorded)
		gen->astray =
			switch_record_first_astray(&gen->record, gen->known, gen->in_force, asked);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (hosts_results[h].status) {
			*bad = h;
			return -EUCLEAN;
		}
	if (gen->astray < HOSTS_MAX) {
		*bad = gen->astray;
		return -ESTALE;
	}
	return 0;
}

/* A lab whose hosts are not all there, or whose shares are not all whole, or whose hosts are
 * not all on the generation the last switch told them, is refused before any host acts: naming
 * the first such host, its reason, and the remedy. */
int hosts_refuse_unless_whole(struct cli *cli, const struct lab_hosts *lh, const char *name)
{
	static struct hosts_generations gen;
	unsigned int bad = HOSTS_MAX;
	int err = hosts_check_all(cli, lh, &bad, &gen);

	if (!err)
		return EXIT_OK;
	if (err == -ESTALE)
		return report_fail("%s: host %s holds generation %llu where it should hold %llu "
				   "(it did not take the last switch); %s",
				   name, lh->hosts.host[bad].dest,
				   (unsigned long long)gen.in_force[bad],
				   (unsigned long long)gen.record.generation[bad],
				   hosts_inconsistent_remedy(cli));
	return report_fail("%s: host %s: %s; %s", name, lh->hosts.host[bad].dest,
			   hosts_said(hosts_results[bad].why), hosts_not_whole_remedy(cli));
}

/* The controller's own fault log: each host logs its share on its own clock, and this line,
 * on the controller's clock, is what `capnet run` copies beside its histories. The groups of a
 * switch come from the partition the hosts took; the nodes of other commands as given. */
void hosts_log_fault(struct cli *cli, const struct lab_hosts *lh, const char *command, int argc,
		     char **argv, const char *partition_text, const struct node_set *nodes,
		     uint64_t generation, const char *note)
{
	static struct partition part;
	static struct policy pol;
	struct spec_error e;
	char words[4096];
	bool grouped;

	fault_log_words(argc, argv, words, sizeof(words) / 2);
	if (note)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s",
			 words[0] ? "; " : "", note);
	grouped = partition_text && !partition_parse(&part, lh->nodes, partition_text, &e) &&
		  !policy_compile(&part, &pol, &e);
	if (fault_log_append(cli->lab, &(struct fault_change){ .command = command,
							       .value = words,
							       .policy = grouped ? &pol : NULL,
							       .nodes = grouped ? NULL : nodes,
							       .generation = generation }))
		report_warn("%s (done, but not in the controller's fault log)", error_reason(-EIO));
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
	if (!text[1]) {
		snprintf(e->msg, sizeof(e->msg), "--hosts @: which file? (@FILE, one host a line)");
		return -EINVAL;
	}
	n = files_read_small(text + 1, file, sizeof(file));
	if (n < 0) {
		snprintf(e->msg, sizeof(e->msg), "--hosts: read %.200s: %s", text + 1,
			 strerror((int)-n));
		return -EINVAL;
	}
	if ((size_t)n == sizeof(file) - 1) {
		snprintf(e->msg, sizeof(e->msg), "--hosts: %.120s is larger than %zu bytes",
			 text + 1, sizeof(file) - 2);
		return -EINVAL;
	}
	/* A NUL would end the text early and drop the hosts after it without a word. */
	if (memchr(file, '\0', (size_t)n)) {
		snprintf(e->msg, sizeof(e->msg),
			 "--hosts: %.120s holds a NUL byte at byte %zu: not a text file of hosts",
			 text + 1, (size_t)((char *)memchr(file, '\0', (size_t)n) - file));
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
	static char why[HOSTS_MAX][sizeof(hosts_results[0].why)];
	bool all = true, remote[HOSTS_MAX], local[HOSTS_MAX];
	int status[HOSTS_MAX];

	/* The remote hosts first: `local`'s down removes this machine's run directory of the lab,
	 * where the ssh connections to the others are shared. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		local[h] = lh->hosts.host[h].local;
		remote[h] = !local[h];
	}
	for (int pass = 0; pass < 2; pass++) {
		hosts_run_all(lab, lh, pass ? local : remote, "host down");
		for (unsigned int h = 0; h < lh->hosts.count; h++)
			if (pass ? local[h] : remote[h]) {
				status[h] = hosts_results[h].status;
				snprintf(why[h], sizeof(why[h]), "%s", hosts_results[h].why);
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

/* Asks every host who it is (`host hello`) and checks the answers: the same version, an
 * address to carry VXLAN, no machine named twice. The narrowest MTU into *mtu (0 if none
 * said). EXIT_OK, or the one line of a refusal reported. */
static int read_hellos(const char *lab, const struct lab_hosts *lh, struct hello *hello,
		       unsigned int *mtu)
{
	uint32_t controller = 0;
	char net[INET_ADDRSTRLEN];

	*mtu = 0;
	hosts_run_all(lab, lh, NULL, "host hello");
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (hosts_results[h].status)
			return report_fail("up: host %s: %s; nothing was built",
					   lh->hosts.host[h].dest, hosts_results[h].why);
		if (parse_hello(hosts_results[h].out, &hello[h]))
			return report_fail("up: host %s: its capnet does not know `host hello` (an "
					   "older version?); nothing was built",
					   lh->hosts.host[h].dest);
		if (strcmp(hello[h].version, CAPNET_VERSION))
			return report_fail("up: host %s runs capnet %s, this is capnet %s: install "
					   "the same version on every host; nothing was built",
					   lh->hosts.host[h].dest, hello[h].version,
					   CAPNET_VERSION);
		if (!hello[h].addr && !lh->hosts.host[h].local)
			return report_fail("up: host %s: no IPv4 address to carry VXLAN (the ssh "
					   "connection is not over IPv4); nothing was built",
					   lh->hosts.host[h].dest);
		if (hello[h].controller)
			controller = hello[h].controller;
		if (hello[h].mtu && (!*mtu || hello[h].mtu < *mtu))
			*mtu = hello[h].mtu;
	}
	/* `local` is reached at the address the other hosts saw the controller at. */
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		if (lh->hosts.host[h].local)
			hello[h].addr = controller;
	/* Two names of one machine (h and h:22, a name and its address, local and this
	 * machine's address) pass the parser: the address ssh reached tells. Two shares there
	 * would fight over one lab, and VXLAN could not tell them apart anyway. */
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		for (unsigned int k = h + 1; k < lh->hosts.count; k++)
			if (hello[h].addr && hello[h].addr == hello[k].addr) {
				ip_text(hello[h].addr, net, sizeof(net));
				return report_fail(
					"up: hosts %s and %s are one machine (both reached "
					"at %s): name it once; nothing was built",
					lh->hosts.host[h].dest, lh->hosts.host[k].dest, net);
			}
	return EXIT_OK;
}

int hosts_up(struct cli *cli, struct lab_config *cfg, const char *hosts_text,
	     const char *place_text)
{
	static struct lab_hosts lh;
	static struct hello hello[HOSTS_MAX];
	static char record[32768], left[4096];
	static char *share[HOSTS_MAX]; /* each host's `host up` */
	struct spec_error e;
	unsigned int mtu = 0, failed = HOSTS_MAX;
	char net[INET_ADDRSTRLEN], dir[256];
	int rc;

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
	if (!lab_hosts_read(cli->lab, &(struct lab_hosts){ 0 }))
		return report_fail("lab \"%s\" already exists (capnet --lab %s down removes it)",
				   cli->lab, cli->lab);

	/* Every host first answers who it is: nothing is built until all have. A refusal
	 * leaves no ssh connection open and no run directory on the controller. */
	rc = read_hellos(cli->lab, &lh, hello, &mtu);
	if (rc != EXIT_OK) {
		remote_close(cli->lab, &lh.hosts);
		run_dir_of_lab(cli->lab, NULL, dir, sizeof(dir));
		rmdir(dir);
		return rc;
	}
	lh.mtu = (mtu ? mtu : 1500) - VXLAN_OVERHEAD;
	lab_hosts_format(&lh, record, sizeof(record));
	/* Recorded before anything is built: a killed `up` leaves a lab `down` can find. */
	if (lab_record_write(cli->lab, HOSTS_RECORD, record, "the hosts of the lab"))
		return report_error(-EIO, NULL);

	for (unsigned int h = 0; h < lh.hosts.count; h++) {
		free(share[h]);
		share[h] = share_args(&lh, hello, h, cfg->filter_hook);
	}
	remote_run(cli->lab, &lh.hosts, NULL, share, hosts_results);
	for (unsigned int h = 0; h < lh.hosts.count && failed == HOSTS_MAX; h++)
		if (hosts_results[h].status)
			failed = h;
	if (failed < HOSTS_MAX) {
		char why[sizeof(hosts_results[0].why)];

		snprintf(why, sizeof(why), "%s", hosts_results[failed].why);
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
		printf("lab %s: %u nodes up on %u host%s (%s), VXLAN VNI %u, node MTU %u\n",
		       cli->lab, lh.nodes, lh.hosts.count, lh.hosts.count == 1 ? "" : "s", record,
		       lh.vni, lh.mtu);
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
		printf("lab %s: down on %u host%s\n", cli->lab, lh->hosts.count,
		       lh->hosts.count == 1 ? "" : "s");
	return EXIT_OK;
}

int hosts_lab_whole(struct cli *cli, const char *name, unsigned int *nodes)
{
	static struct lab_hosts lh;
	int err = lab_hosts_read(cli->lab, &lh);

	if (err == -ENOENT)
		return err;
	if (err)
		return report_error(err, NULL);
	*nodes = lh.nodes;
	return hosts_refuse_unless_whole(cli, &lh, name);
}

bool hosts_dispatch(struct cli *cli, const char *name, int argc, char **argv, int *rc)
{
	static struct lab_hosts lh;
	int err;

	if (!strcmp(name, "up"))
		return false; /* up refuses a lab that exists, across hosts or not */
	err = lab_hosts_read(cli->lab, &lh);
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
	if (!strcmp(name, "link") && hosts_link_delays_only(argc, argv)) {
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
	if (hosts_node_command(name)) {
		*rc = hosts_nodes(cli, &lh, name, argc, argv);
		return true;
	}
	*rc = report_fail("lab %s spans %u hosts: `capnet %s` does not work across hosts yet (up, "
			  "status, down, exec, partition, cut, heal and link do)",
			  cli->lab, lh.hosts.count, name);
	return true;
}
