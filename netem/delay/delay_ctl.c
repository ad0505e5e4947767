// SPDX-License-Identifier: GPL-2.0-only
/* The delay line from the CLI: start it (a double-forked daemon that re-executes capnet), hand
 * it links through its pinned maps, read its counters, stop it and clear what a crash left. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/duration.h"
#include "netem/cli.h"
#include "lib/files.h"
#include "lib/monotonic.h"
#include "lib/out_print.h"
#include "lib/report.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"

static const char *const pin_names[] = { "delay_links", "port_node",   "xsks",
					 "delay_conf",	"delay_stats", "capnet_delay" };

void delay_pin_dir(const char *lab, char *buf, size_t len)
{
	char dir[200];

	filter_pin_dir(lab, dir, sizeof(dir));
	snprintf(buf, len, "%s/delay", dir);
}

void delay_run_path(const char *lab, const char *file, char *buf, size_t len)
{
	if (file)
		snprintf(buf, len, "%s/%s/%s", DELAY_RUN_ROOT, lab, file);
	else
		snprintf(buf, len, "%s/%s", DELAY_RUN_ROOT, lab);
}

void delay_unpin(const char *lab)
{
	char dir[256], path[320];
	size_t i;

	delay_pin_dir(lab, dir, sizeof(dir));
	for (i = 0; i < sizeof(pin_names) / sizeof(pin_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* True if pid is this lab's delay line (a recycled pid is someone else's process). */
static bool is_delay_line(pid_t pid, const char *lab)
{
	char path[64], cmd[512];
	bool cmd_ok = false, lab_ok = false;
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmd[n] = 0;
	for (i = 0; i < n; i += strlen(cmd + i) + 1) {
		cmd_ok |= !strcmp(cmd + i, DELAY_LINE_COMMAND);
		lab_ok |= !strcmp(cmd + i, lab);
	}
	return cmd_ok && lab_ok;
}

pid_t delay_running(const char *lab)
{
	char path[256], text[32];
	long pid;

	delay_run_path(lab, "delay.pid", path, sizeof(path));
	if (files_read_small(path, text, sizeof(text)) <= 0)
		return 0;
	pid = strtol(text, NULL, 10);
	if (pid <= 1 || kill(pid, 0) || !is_delay_line(pid, lab))
		return 0;
	return pid;
}

/* What a crashed delay line left in a live lab: XDP on ports, the extra pair, FDB entries,
 * nodes without TX checksum offload. */
static void clear_kernel_remains(const char *lab, const struct lab_info *info)
{
	char sw[LAB_NAME_MAX + 16];
	unsigned int i;
	int saved;

	lab_switch_ns(lab, sw, sizeof(sw));
	saved = netns_enter(sw);
	if (saved < 0)
		return;
	for (i = 1; i <= info->nodes; i++) {
		struct bpf_prog_info pinfo = {};
		__u32 len = sizeof(pinfo), id = 0;
		int fd;

		if (bpf_xdp_query_id(info->port_ifindex[i], XDP_FLAGS_DRV_MODE, &id) || !id)
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &pinfo, &len) &&
		    !strcmp(pinfo.name, "capnet_delay")) {
			explain("ip -n %s link set dev p%u xdpdrv off", sw, i);
			bpf_xdp_detach(info->port_ifindex[i], XDP_FLAGS_DRV_MODE, NULL);
		}
		close(fd);
	}
	delay_teardown_ports(lab, info->nodes);
	netns_return(saved);
	delay_node_txcsum(lab, info->nodes, true);
}

static bool pins_exist(const char *lab)
{
	char dir[256];
	struct stat st;

	delay_pin_dir(lab, dir, sizeof(dir));
	return !stat(dir, &st);
}

int delay_stop(const char *lab, const struct lab_info *info, bool lab_alive)
{
	char path[256];
	pid_t pid = delay_running(lab);
	int i;

	/* Only a delay line capnet started has anything here to undo: a replay has none. */
	explain_aside(true);
	if (pid) {
		explain("kill -TERM %d   # the delay line of lab %s", (int)pid, lab);
		kill(pid, SIGTERM);
		/* It detaches, closes and tears down before it exits: give it time to. */
		for (i = 0; i < 300 && !kill(pid, 0); i++)
			usleep(10000);
		if (!kill(pid, 0)) {
			fprintf(stderr, "delay line %d did not stop in 3 s: killing it\n",
				(int)pid);
			kill(pid, SIGKILL);
			for (i = 0; i < 100 && !kill(pid, 0); i++)
				usleep(10000);
		}
	}
	if (pins_exist(lab)) {
		if (lab_alive && info)
			clear_kernel_remains(lab, info);
		delay_pin_dir(lab, path, sizeof(path));
		explain("rm -r %s", path);
		delay_unpin(lab);
	}
	explain_aside(false);
	delay_run_path(lab, "delay.pid", path, sizeof(path));
	unlink(path);
	if (!lab_alive) {
		delay_run_path(lab, "delay.log", path, sizeof(path));
		unlink(path);
		delay_run_path(lab, NULL, path, sizeof(path));
		rmdir(path);
	}
	return 0;
}

int delay_start(const char *lab, const struct lab_info *info)
{
	char fdtext[16], line[1024], err_text[1024] = "";
	bool ready = false;
	pid_t child;
	FILE *in;
	int p[2], status;

	if (delay_running(lab))
		return 0;
	if (pins_exist(lab))
		delay_stop(lab, info, true);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (child == 0) {
		char *argv[] = { "capnet",	     "--lab",	   (char *)lab, "--explain",
				 DELAY_LINE_COMMAND, "--ready-fd", fdtext,	NULL };
		int devnull = open("/dev/null", O_RDWR);

		/* A session of its own, then a second fork: no terminal can ever come back. */
		setsid();
		if (fork() != 0)
			_exit(0);
		close(p[0]);
		fcntl(p[1], F_SETFD, 0);
		snprintf(fdtext, sizeof(fdtext), "%d", p[1]);
		/* Nothing of our caller's terminal or pipes: a caller reading our output to its
		 * end must not wait for the daemon. */
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		if (!explain_enabled())
			memmove(&argv[3], &argv[4], 4 * sizeof(argv[0]));
		execv("/proc/self/exe", argv);
		dprintf(p[1], "error: exec capnet: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	explain("# the delay line is capnet's own process (capnet link A B --delay T starts it): it "
		"moves frames through AF_XDP sockets, which no ip, tc or bpftool command can make, so "
		"what it does is shown as comments");
	waitpid(child, &status, 0);
	in = fdopen(p[0], "r");
	if (!in) {
		close(p[0]);
		return -errno;
	}
	/* The daemon's --explain lines, then "ready" or "error: ..." (EOF: it died). */
	while (fgets(line, sizeof(line), in)) {
		if (!strncmp(line, "+ ", 2))
			printf("+ #   %s", line + 2);
		else if (!strcmp(line, "ready\n"))
			ready = true;
		else if (!strncmp(line, "error: ", 7))
			snprintf(err_text, sizeof(err_text), "%s", line + 7);
	}
	fclose(in);
	if (ready)
		return 0;
	err_text[strcspn(err_text, "\n")] = 0;
	delay_stop(lab, info, true);
	error_note("the delay line of lab \"%s\" did not start: %s", lab,
		   err_text[0] ? err_text : "it exited during set-up (see its log)");
	return -EIO;
}

int delay_apply(const char *lab, const struct lab_info *info, const struct delay_set *set)
{
	char why[512];
	int err;

	if (!delay_running(lab)) {
		err = delay_start(lab, info);
		if (err)
			return err;
	}
	err = delay_links_write(lab, set);
	if (err == -ESRCH) {
		delay_last_error(lab, why, sizeof(why));
		delay_stop(lab, info, true);
		error_note("the delay line of lab \"%s\" stopped: %s", lab,
			   why[0] ? why : "see its log");
	} else if (err == -ETIMEDOUT) {
		error_note("the delay line of lab \"%s\" runs but did not take the delays within "
			   "%d s (its log: %s/%s/delay.log)",
			   lab, DELAY_APPLY_WAIT_S, DELAY_RUN_ROOT, lab);
	} else if (err) {
		error_note("hand the delays to the delay line of lab \"%s\": %s (its log: %s/%s/"
			   "delay.log)",
			   lab, strerror(-err), DELAY_RUN_ROOT, lab);
	}
	return err;
}

int delay_check_applied(const char *lab)
{
	char why[512];

	if (!pins_exist(lab) || delay_running(lab))
		return 0;
	/* Killed: its maps say links are delayed, but nothing delays them. */
	delay_last_error(lab, why, sizeof(why));
	error_note(
		"the delay line of lab \"%s\" is not running%s%s%s: the delays `link --delay` "
		"set are not applied (capnet --lab %s link ... --delay restarts it; capnet --lab "
		"%s heal --delays removes them)",
		lab, why[0] ? " (" : "", why, why[0] ? ")" : "", lab, lab);
	return -EUCLEAN;
}

/* Why the delay line stopped: the line its log has before "stopped". */
void delay_last_error(const char *lab, char *buf, size_t len)
{
	char path[256], line[512], prev[512] = "";
	FILE *f;

	buf[0] = 0;
	delay_run_path(lab, "delay.log", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "delay line: stopped", 19))
			snprintf(buf, len, "%s", prev);
		snprintf(prev, sizeof(prev), "%s", line);
	}
	fclose(f);
}

static int pinned(const char *lab, const char *name)
{
	char dir[256], path[320];
	int fd;

	delay_pin_dir(lab, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int delay_links_read(const char *lab, struct delay_set *set)
{
	struct capnet_delay_key key, next;
	struct capnet_delay_params p;
	int fd = pinned(lab, "delay_links");

	set->count = 0;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (!bpf_map_get_next_key(fd, NULL, &next)) {
		do {
			key = next;
			if (bpf_map_lookup_elem(fd, &key, &p))
				continue;
			if (set->count >= CAPNET_DELAY_MAX_LINKS)
				break;
			set->items[set->count++] =
				(struct delay_link){ .src = key.src, .dst = key.dst, .p = p };
		} while (!bpf_map_get_next_key(fd, &key, &next));
	}
	close(fd);
	return 0;
}

static bool set_has(const struct delay_set *set, const struct capnet_delay_key *k)
{
	unsigned int i;

	for (i = 0; i < set->count; i++)
		if (set->items[i].src == k->src && set->items[i].dst == k->dst)
			return true;
	return false;
}

int delay_links_write(const char *lab, const struct delay_set *set)
{
	int links = -1, conf = -1, stats = -1, err = 0;
	struct capnet_delay_key key, next;
	struct capnet_delay_conf c;
	struct capnet_delay_stats st;
	char dir[256], text[160], k_hex[16], v_hex[3 * sizeof(struct capnet_delay_params) + 1];
	uint32_t zero = 0;
	unsigned int k;
	uint64_t deadline;
	pid_t pid;
	bool more;

	delay_pin_dir(lab, dir, sizeof(dir));
	links = pinned(lab, "delay_links");
	conf = pinned(lab, "delay_conf");
	stats = pinned(lab, "delay_stats");
	if (links < 0 || conf < 0 || stats < 0) {
		err = links < 0 ? links : conf < 0 ? conf : stats;
		goto out;
	}
	/* Stale entries first: deleting while walking restarts nothing we still need. */
	more = !bpf_map_get_next_key(links, NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(links, &key, &next);
		if (!set_has(set, &key)) {
			explain_hex(&key, sizeof(key), k_hex, sizeof(k_hex));
			explain_aside(true);
			explain("bpftool map delete pinned %s/delay_links key hex %s", dir, k_hex);
			explain_aside(false);
			bpf_map_delete_elem(links, &key);
		}
	}
	for (k = 0; k < set->count; k++) {
		key = (struct capnet_delay_key){ .src = set->items[k].src,
						 .dst = set->items[k].dst };
		delay_link_format(&set->items[k], text, sizeof(text));
		explain_hex(&key, sizeof(key), k_hex, sizeof(k_hex));
		explain_hex(&set->items[k].p, sizeof(set->items[k].p), v_hex, sizeof(v_hex));
		explain_aside(true);
		explain("bpftool map update pinned %s/delay_links key hex %s value hex %s   # %s "
			"(delay, jitter and rate as u64 ns and bit/s, distribution, reorder)",
			dir, k_hex, v_hex, text);
		explain_aside(false);
		if (bpf_map_update_elem(links, &key, &set->items[k].p, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	if (bpf_map_lookup_elem(conf, &zero, &c)) {
		err = -errno;
		goto out;
	}
	c.generation++;
	pid = delay_running(lab);
	explain_hex(&c, sizeof(c), v_hex, sizeof(v_hex));
	explain_aside(true);
	explain("bpftool map update pinned %s/delay_conf key hex 00 00 00 00 value hex %s   # "
		"generation %llu: the delay line rereads delay_links",
		dir, v_hex, (unsigned long long)c.generation);
	explain("kill -HUP %d   # then it attaches XDP (ip link set dev pN xdpdrv pinned "
		"%s/capnet_delay) and an AF_XDP socket to each source port of a delayed link",
		(int)pid, dir);
	explain_aside(false);
	if (bpf_map_update_elem(conf, &zero, &c, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	if (!pid) {
		err = -ESRCH;
		goto out;
	}
	kill(pid, SIGHUP);
	/* Applied means ports attached: traffic sent after this returns is delayed. The daemon
	 * says so by its generation, or dies; the bound is for a daemon that hangs, far above
	 * what attaching takes on a busy machine (a port's XDP attach waits for RCU). */
	deadline = monotonic_ns() + DELAY_APPLY_WAIT_S * 1000000000ull;
	err = -ETIMEDOUT;
	while (monotonic_ns() < deadline) {
		if (!bpf_map_lookup_elem(stats, &zero, &st) && st.generation >= c.generation) {
			err = 0;
			break;
		}
		if (!delay_running(lab)) {
			err = -ESRCH;
			break;
		}
		usleep(1000);
	}
out:
	if (links >= 0)
		close(links);
	if (conf >= 0)
		close(conf);
	if (stats >= 0)
		close(stats);
	return err;
}

int delay_set_put(struct delay_set *set, uint16_t src, uint16_t dst,
		  const struct capnet_delay_params *p)
{
	struct delay_link *l = NULL;
	unsigned int i;

	for (i = 0; i < set->count; i++)
		if (set->items[i].src == src && set->items[i].dst == dst)
			l = &set->items[i];
	if (!p->delay_ns && !p->jitter_ns && !p->rate_bps) {
		if (l)
			*l = set->items[--set->count];
		return 0;
	}
	if (!l) {
		if (set->count >= CAPNET_DELAY_MAX_LINKS)
			return -E2BIG;
		l = &set->items[set->count++];
	}
	*l = (struct delay_link){ .src = src, .dst = dst, .p = *p };
	return 0;
}

int delay_stats_read(const char *lab, struct capnet_delay_stats *st)
{
	uint32_t zero = 0;
	int fd, err = 0;

	if (!delay_running(lab))
		return -ENOENT;
	fd = pinned(lab, "delay_stats");
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, st))
		err = -errno;
	close(fd);
	return err;
}

static int parse_rate(const char *text, const char *const *units, const double *scale,
		      size_t nunits, double *out)
{
	char *end;
	double v;
	size_t i;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || v < 0 || !isfinite(v))
		return -EINVAL;
	if (!*end) {
		if (v != 0)
			return -EINVAL; /* a bare number is ambiguous, except 0 */
		*out = 0;
		return 0;
	}
	for (i = 0; i < nunits; i++)
		if (!strcasecmp(end, units[i])) {
			*out = v * scale[i];
			return 0;
		}
	return -EINVAL;
}

int delay_parse_time_ns(const char *text, uint64_t *ns)
{
	uint64_t v;

	if (duration_parse_ns(text, DURATION_UNIT_REQUIRED, &v) || v > 60000000000ull)
		return -EINVAL;
	*ns = v;
	return 0;
}

int delay_parse_rate_bps(const char *text, uint64_t *bps)
{
	static const char *const units[] = { "bit", "kbit", "mbit", "gbit" };
	static const double scale[] = { 1, 1e3, 1e6, 1e9 };
	double v;

	if (parse_rate(text, units, scale, 4, &v) || (v != 0 && v < 8) || v > 1e12)
		return -EINVAL;
	*bps = (uint64_t)(v + 0.5);
	return 0;
}

static void format_time(uint64_t ns, char *buf, size_t len)
{
	if (ns >= 1000000000ull && ns % 1000000 == 0)
		snprintf(buf, len, "%.6gs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.6gms", ns / 1e6);
	else
		snprintf(buf, len, "%.6gus", ns / 1e3);
}

const char *delay_dist_name(uint32_t dist)
{
	return dist == CAPNET_DIST_NORMAL      ? "normal" :
	       dist == CAPNET_DIST_EXPONENTIAL ? "exponential" :
						 "uniform";
}

int delay_dist_parse(const char *text, uint32_t *dist)
{
	for (uint32_t d = CAPNET_DIST_UNIFORM; d <= CAPNET_DIST_EXPONENTIAL; d++)
		if (!strcmp(text, delay_dist_name(d))) {
			*dist = d;
			return 0;
		}
	return -EINVAL;
}

void delay_link_format(const struct delay_link *l, char *buf, size_t len)
{
	char s[8] = "all", d[8] = "all", delay[24], jitter[48] = "", rate[32] = "";

	if (l->src)
		snprintf(s, sizeof(s), "%u", l->src);
	if (l->dst)
		snprintf(d, sizeof(d), "%u", l->dst);
	format_time(l->p.delay_ns, delay, sizeof(delay));
	if (l->p.jitter_ns) {
		char j[24];

		format_time(l->p.jitter_ns, j, sizeof(j));
		snprintf(jitter, sizeof(jitter), " +-%s %s", j, delay_dist_name(l->p.dist));
	}
	if (l->p.rate_bps)
		snprintf(rate, sizeof(rate), " %.6gmbit", l->p.rate_bps / 1e6);
	snprintf(buf, len, "%s->%s %s%s%s%s", s, d, delay, jitter, rate,
		 l->p.reorder ? " reorder" : "");
}

int cmd_delay_line(struct cli *cli, int argc, char **argv)
{
	char *end;
	long fd;

	if (argc != 2 || strcmp(argv[0], "--ready-fd"))
		return report_usage("%s is capnet's own (capnet link --delay starts it)",
				    DELAY_LINE_COMMAND);
	fd = strtol(argv[1], &end, 10);
	if (*end || fd < 3 || fd > 1023)
		return report_usage("%s: bad --ready-fd", DELAY_LINE_COMMAND);
	/* Nothing of the capnet that started us stays open here but the ready pipe. */
	if (fd > 3)
		close_range(3, fd - 1, 0);
	close_range(fd + 1, ~0u, 0);
	return delay_line_main(cli->lab, fd);
}

void delay_status_print(struct out_printer *p, const char *lab)
{
	static struct delay_set set;
	struct capnet_delay_stats st;
	char one[160];
	double up_s;
	unsigned int i;

	if (delay_stats_read(lab, &st) || delay_links_read(lab, &set)) {
		print_json_null(p, "delay_line");
		if (pins_exist(lab))
			print_text(p, "delay line: not running, but it left its program and maps "
				      "(capnet heal --delays removes them; capnet link --delay "
				      "restarts it)\n");
		else
			print_text(p, "delay line: not running\n");
		return;
	}
	up_s = (monotonic_ns() - st.started_ns) / 1e9;
	open_object(p, "delay_line");
	print_uint(p, "pid", "delay line: pid %llu", st.pid);
	print_json_double(p, "uptime_s", "%.1f", up_s);
	print_text(p, ", up %.0f s, %u delayed link entr%s on ", up_s, set.count,
		   set.count == 1 ? "y" : "ies");
	print_uint(p, "sources", "%llu source port", st.sources);
	print_text(p, "%s\n", st.sources == 1 ? "" : "s");
	/* The text names each delayed link before the frames, the JSON after them. */
	for (i = 0; i < set.count; i++) {
		delay_link_format(&set.items[i], one, sizeof(one));
		print_text(p, "  delay %s\n", one);
	}
	print_uint(p, "received", "  frames: %llu received, ", st.received);
	print_uint(p, "queued", "%llu queued now, ", st.queued);
	print_uint(p, "sent", "%llu sent; ", st.sent);
	print_uint(p, "dropped_full", "dropped: %llu queue full, ", st.dropped_full);
	print_uint(p, "dropped_send", "%llu refused by " DELAY_IF "; ", st.dropped_send);
	print_uint(p, "late_max_ns", NULL, st.late_max_ns);
	print_text(p, "worst lateness %.3f ms\n", st.late_max_ns / 1e6);
	open_array(p, "links");
	for (i = 0; i < set.count; i++) {
		const struct delay_link *l = &set.items[i];

		open_object(p, NULL);
		print_uint(p, "from", NULL, l->src);
		print_uint(p, "to", NULL, l->dst);
		print_uint(p, "delay_ns", NULL, l->p.delay_ns);
		print_uint(p, "jitter_ns", NULL, l->p.jitter_ns);
		print_string(p, "distribution", NULL, delay_dist_name(l->p.dist));
		print_uint(p, "rate_bps", NULL, l->p.rate_bps);
		print_bool(p, "reorder", NULL, l->p.reorder);
		close_object(p);
	}
	close_array(p);
	close_object(p);
}
