// SPDX-License-Identifier: GPL-2.0-only
/* captrace record: a libpcap capture on eth0 inside every node namespace, the filter's drop
 * events and every partition change, all from one epoll loop, written to a directory that
 * captrace report reads (tools/captrace/trace_dir.h lists the files). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <pcap/pcap.h>

#include "netem/filter/filter.h"
#include "netem/hosts/hosts.h"
#include "netem/lab/adopt.h"
#include "netem/lab/lab_open.h"
#include "netem/policy/spec.h"
#include "netem/lab/topology.h"
#include "tools/captrace/captrace_cli.h"
#include "tools/captrace/trace_dir.h"
#include "tools/captrace/trace_hosts.h"
#include "lib/dynlib.h"
#include "lib/json.h"

/* The libpcap functions record calls: libpcap (with its D-Bus, systemd and gcrypt chain) is
 * loaded when a recording starts, so captrace report and decode start without it. */
static struct {
	__typeof__(pcap_create) *create;
	__typeof__(pcap_set_snaplen) *set_snaplen;
	__typeof__(pcap_set_promisc) *set_promisc;
	__typeof__(pcap_set_immediate_mode) *set_immediate_mode;
	__typeof__(pcap_set_buffer_size) *set_buffer_size;
	__typeof__(pcap_set_tstamp_precision) *set_tstamp_precision;
	__typeof__(pcap_activate) *activate;
	__typeof__(pcap_geterr) *geterr;
	__typeof__(pcap_statustostr) *statustostr;
	__typeof__(pcap_setnonblock) *setnonblock;
	__typeof__(pcap_dump_open) *dump_open;
	__typeof__(pcap_dispatch) *dispatch;
	__typeof__(pcap_dump) *dump;
	__typeof__(pcap_dump_flush) *dump_flush;
	__typeof__(pcap_get_selectable_fd) *get_selectable_fd;
	__typeof__(pcap_stats) *stats;
	__typeof__(pcap_dump_close) *dump_close;
	__typeof__(pcap_close) *close;
} libpcap;

static int load_libpcap(void)
{
	const struct dynlib_symbol symbols[] = {
		{ "pcap_create", (void **)&libpcap.create },
		{ "pcap_set_snaplen", (void **)&libpcap.set_snaplen },
		{ "pcap_set_promisc", (void **)&libpcap.set_promisc },
		{ "pcap_set_immediate_mode", (void **)&libpcap.set_immediate_mode },
		{ "pcap_set_buffer_size", (void **)&libpcap.set_buffer_size },
		{ "pcap_set_tstamp_precision", (void **)&libpcap.set_tstamp_precision },
		{ "pcap_activate", (void **)&libpcap.activate },
		{ "pcap_geterr", (void **)&libpcap.geterr },
		{ "pcap_statustostr", (void **)&libpcap.statustostr },
		{ "pcap_setnonblock", (void **)&libpcap.setnonblock },
		{ "pcap_dump_open", (void **)&libpcap.dump_open },
		{ "pcap_dispatch", (void **)&libpcap.dispatch },
		{ "pcap_dump", (void **)&libpcap.dump },
		{ "pcap_dump_flush", (void **)&libpcap.dump_flush },
		{ "pcap_get_selectable_fd", (void **)&libpcap.get_selectable_fd },
		{ "pcap_stats", (void **)&libpcap.stats },
		{ "pcap_dump_close", (void **)&libpcap.dump_close },
		{ "pcap_close", (void **)&libpcap.close },
	};

	return dynlib_load("libpcap.so.0.8", "libpcap0.8", symbols,
			   sizeof(symbols) / sizeof(symbols[0]));
}

/* Big enough that a burst at line rate on one veth waits for the loop without loss; large labs
 * share a total budget, as every buffer is pinned kernel memory. */
#define RECORD_BUFFER_MAX (16 << 20)
#define RECORD_BUFFER_MIN (2 << 20)
#define RECORD_BUFFER_TOTAL (512 << 20)
#define RECORD_SNAPLEN 65535
/* How often the active policy is read: the flip time it reports is exact, so this only bounds
 * how many generations could pass unseen between two reads (drop events name them anyway). */
#define RECORD_POLICY_MS 10
/* How often meta.json is brought up to date: what a killed recorder loses at most. */
#define RECORD_META_MS 500
/* After stop: frames already sent are still in flight through the bridge; keep capturing so
 * that every send before stop has its arrival in the receiver's file. */
#define RECORD_LINGER_MS 200

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct node_capture {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	struct pcap_stat stats;
	bool have_stats;
};

struct recorder {
	const char *dir;
	unsigned int nodes;
	struct filter *filter;
	struct node_capture *cap; /* [node - 1] */
	FILE *drops, *partitions;
	struct filter_state *state;
	uint64_t generation; /* last one written */
	bool have_generation;
	unsigned long long ndrops, nchanges, packets;
	int write_err;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Both clocks at one instant: the realtime read is bracketed by two monotonic reads and paired
 * with their midpoint, so the offset is good to a fraction of a microsecond. */
static void clock_pair(uint64_t *realtime, uint64_t *monotonic)
{
	uint64_t m0 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME),
		 m1 = clock_ns(CLOCK_MONOTONIC);

	*realtime = r;
	*monotonic = m0 + (m1 - m0) / 2;
}

static int open_capture(const char *lab, unsigned int node, unsigned int nodes, const char *dir,
			struct node_capture *c)
{
	char ns[64], errbuf[PCAP_ERRBUF_SIZE], path[4096], name[32], ifname[ADOPT_IFNAME];
	int saved, rc, buffer = RECORD_BUFFER_TOTAL / (int)nodes;

	lab_node_ns(lab, node, ns, sizeof(ns));
	adopt_node_ifname(lab, node, ifname, sizeof(ifname));
	saved = netns_enter(ns);
	if (saved < 0) {
		report_fail("record: enter namespace %s: %s", ns, strerror(-saved));
		return saved;
	}
	/* The packet socket libpcap opens here stays bound to this namespace's interface. */
	c->pcap = libpcap.create(ifname, errbuf);
	if (!c->pcap) {
		netns_return(saved);
		report_fail("record: node %u: pcap_create %s: %s", node, ifname, errbuf);
		return -EIO;
	}
	libpcap.set_snaplen(c->pcap, RECORD_SNAPLEN);
	libpcap.set_promisc(c->pcap, 0);
	libpcap.set_immediate_mode(c->pcap, 1);
	if (buffer > RECORD_BUFFER_MAX)
		buffer = RECORD_BUFFER_MAX;
	if (buffer < RECORD_BUFFER_MIN)
		buffer = RECORD_BUFFER_MIN;
	libpcap.set_buffer_size(c->pcap, buffer);
	if (libpcap.set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO)) {
		netns_return(saved);
		report_fail("record: node %u: this libpcap cannot give nanosecond timestamps",
			    node);
		return -ENOTSUP;
	}
	rc = libpcap.activate(c->pcap);
	netns_return(saved);
	if (rc < 0) {
		report_fail("record: node %u: capture on %s in %s: %s", node, ifname, ns,
			    libpcap.geterr(c->pcap));
		return -EIO;
	}
	if (rc > 0)
		report_warn("record: node %u: %s", node, libpcap.statustostr(rc));
	if (libpcap.setnonblock(c->pcap, 1, errbuf) < 0) {
		report_fail("record: node %u: %s", node, errbuf);
		return -EIO;
	}
	trace_pcap_name(node, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	c->dumper = libpcap.dump_open(c->pcap, path);
	if (!c->dumper) {
		report_fail("record: %s", libpcap.geterr(c->pcap));
		return -EIO;
	}
	return 0;
}

static int write_drop(const struct capnet_drop_event *ev, void *ctx)
{
	struct recorder *r = ctx;

	trace_drop_write(r->drops, ev);
	r->ndrops++;
	return 0;
}

static void format_ppm(char *buf, size_t len, uint32_t ppm)
{
	if (ppm % 10000 == 0)
		snprintf(buf, len, "%u%%", ppm / 10000);
	else
		snprintf(buf, len, "%.4g%%", ppm / 10000.0);
}

/* "1->2 loss 30%, all->3 dup 1%": what capnet link set, in force with the partition. */
static void format_impairments(const struct impairment_set *set, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < set->count && used < len; i++) {
		const struct link_impairment *l = &set->items[i];
		char src[8], dst[8], loss[16], dup[16];

		if (!l->loss_ppm && !l->dup_ppm)
			continue;
		snprintf(src, sizeof(src), l->src == CAPNET_ANY_NODE ? "all" : "%u", l->src);
		snprintf(dst, sizeof(dst), l->dst == CAPNET_ANY_NODE ? "all" : "%u", l->dst);
		format_ppm(loss, sizeof(loss), l->loss_ppm);
		format_ppm(dup, sizeof(dup), l->dup_ppm);
		used += snprintf(buf + used, len - used, "%s%s->%s%s%s%s%s", used ? ", " : "", src,
				 dst, l->loss_ppm ? " loss " : "", l->loss_ppm ? loss : "",
				 l->dup_ppm ? " dup " : "", l->dup_ppm ? dup : "");
	}
	if (used >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

/* Writes the active partition if its generation is new. */
static int poll_policy(struct recorder *r)
{
	struct partition *p = NULL;
	struct spec_error se;
	char spec[256], imp[256];
	int err;

	err = filter_read_state(r->filter, r->state);
	if (err) {
		report_fail("record: read the active partition: %s", strerror(-err));
		return err;
	}
	if (r->have_generation && r->state->meta.generation == r->generation)
		return 0;
	p = malloc(sizeof(*p));
	if (!p) {
		report_fail("record: out of memory");
		return -ENOMEM;
	}
	err = policy_expand(&r->state->policy, p, &se);
	if (!err) {
		err = partition_format(p, spec, sizeof(spec));
		/* A spec longer than a line is cut, visibly. */
		if (err >= (int)sizeof(spec))
			memcpy(spec + sizeof(spec) - 4, "...", 4);
		err = err < 0 ? err : 0;
	} else {
		report_warn("record: generation %llu: %s",
			    (unsigned long long)r->state->meta.generation, se.msg);
		snprintf(spec, sizeof(spec), "?");
		err = 0;
	}
	free(p);
	if (err) {
		report_fail("record: format the partition: %s", strerror(-err));
		return err;
	}
	format_impairments(&r->state->impairments, imp, sizeof(imp));
	trace_partition_write(r->partitions, r->state->meta.generation, r->state->meta.flip_ns,
			      clock_ns(CLOCK_MONOTONIC), spec, imp);
	fflush(r->partitions);
	r->generation = r->state->meta.generation;
	r->have_generation = true;
	r->nchanges++;
	return 0;
}

static void drain_pcap(struct recorder *r, unsigned int i)
{
	int n;

	if (!r->cap[i].pcap)
		return;
	do {
		n = libpcap.dispatch(r->cap[i].pcap, -1, libpcap.dump, (u_char *)r->cap[i].dumper);
		if (n > 0)
			r->packets += n;
	} while (n > 0);
	if (n == PCAP_ERROR)
		report_warn("record: node %u: %s", i + 1, libpcap.geterr(r->cap[i].pcap));
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		report_fail("record: create %s: %s", path, strerror(errno));
	return f;
}

/* An adopted lab's nodes have their own MACs, not capnet's numbered ones: the report needs
 * them to tell which node sent a frame. */
static void write_node_macs(FILE *f, const char *lab, unsigned int nodes)
{
	static uint8_t macs[CAPNET_MAX_NODES + 1][6];

	if (adopt_node_macs(lab, macs, nodes))
		return;
	fprintf(f, "\"macs\":[");
	for (unsigned int i = 1; i <= nodes; i++)
		fprintf(f, "%s\"%02x:%02x:%02x:%02x:%02x:%02x\"", i > 1 ? "," : "", macs[i][0],
			macs[i][1], macs[i][2], macs[i][3], macs[i][4], macs[i][5]);
	fprintf(f, "],");
}

static void write_meta(FILE *f, const char *lab, const struct recorder *r,
		       const struct capnet_lab_meta *lm, const uint64_t clk[6],
		       unsigned long long overflow, unsigned long long pcap_dropped, bool complete)
{
	struct in_addr a = { .s_addr = htonl(lm->subnet) };
	char subnet[40];
	unsigned int i;

	snprintf(subnet, sizeof(subnet), "%s/%u", inet_ntoa(a), lm->prefix);
	fprintf(f, "{\"version\":%d,\"complete\":%s,\"lab\":", TRACE_FORMAT_VERSION,
		complete ? "true" : "false");
	json_write_string(f, lab);
	fprintf(f, ",\"nodes\":%u,\"subnet\":\"%s\",", r->nodes, subnet);
	write_node_macs(f, lab, r->nodes);
	fprintf(f,
		"\"start_realtime_ns\":%llu,\"start_monotonic_ns\":%llu,"
		"\"stop_realtime_ns\":%llu,\"stop_monotonic_ns\":%llu,"
		"\"end_realtime_ns\":%llu,\"end_monotonic_ns\":%llu,",
		(unsigned long long)clk[0], (unsigned long long)clk[1], (unsigned long long)clk[2],
		(unsigned long long)clk[3], (unsigned long long)clk[4], (unsigned long long)clk[5]);
	fprintf(f,
		"\"realtime_minus_monotonic_ns\":%lld,\"drop_events\":%llu,\"ring_overflow\":%llu,"
		"\"partition_changes\":%llu,\"packets\":%llu,\"pcap_dropped\":%llu,\"pcap\":[",
		(long long)(clk[0] - clk[1]), r->ndrops, overflow, r->nchanges, r->packets,
		pcap_dropped);
	for (i = 0; i < r->nodes; i++) {
		const struct node_capture *c = &r->cap[i];

		fprintf(f,
			"%s{\"node\":%u,\"file\":\"n%u.pcap\",\"received\":%u,\"dropped\":%u,"
			"\"ifdropped\":%u}",
			i ? "," : "", i + 1, i + 1, c->have_stats ? c->stats.ps_recv : 0,
			c->have_stats ? c->stats.ps_drop : 0,
			c->have_stats ? c->stats.ps_ifdrop : 0);
	}
	fputs("]}\n", f);
}

/* meta.json, replaced whole (a temporary file renamed over it): written when the recording
 * starts and again as it goes, with everything captured so far flushed first, so that a
 * recorder killed at any moment leaves a recording that report can read up to its last
 * update. complete says whether the recording ended as asked. */
static int update_meta(const char *dir, const char *lab, struct recorder *r, uint64_t clk[6],
		       unsigned long long overflow, unsigned long long pcap_dropped, bool complete)
{
	char path[4096], tmp[4200];
	struct capnet_lab_meta lm = r->state->lab;
	unsigned int n;
	FILE *f;
	int err = 0;

	for (n = 0; n < r->nodes; n++)
		if (r->cap[n].dumper && libpcap.dump_flush(r->cap[n].dumper))
			err = -EIO;
	if (fflush(r->drops) || fflush(r->partitions))
		err = -EIO;
	if (!complete) {
		/* So far: the stop and end of what there is are now. */
		clock_pair(&clk[2], &clk[3]);
		clk[4] = clk[2];
		clk[5] = clk[3];
	}
	snprintf(path, sizeof(path), "%s/%s", dir, TRACE_META);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	write_meta(f, lab, r, &lm, clk, overflow, pcap_dropped, complete);
	if (fflush(f) || fsync(fileno(f)))
		err = -EIO;
	if (fclose(f))
		err = -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
	return err;
}

int captrace_record(struct captrace_cli *cli, int argc, char **argv)
{
	struct recorder r = {};
	struct capnet_global_stats g0 = {}, g1 = {};
	struct lab_info *info = NULL;
	struct epoll_event ev, evs[64];
	struct sigaction sa = { .sa_handler = on_signal };
	struct rlimit lim;
	static char share_dir[] = "/tmp/captrace-share-XXXXXX";
	bool share = false;
	uint64_t clk[6] = {}, deadline = 0, linger_end = 0, next_policy = 0, next_meta = 0;
	unsigned long long pcap_dropped = 0;
	double duration = 0;
	const char *dir = NULL;
	int i, rc = EXIT_FAIL, err, epfd = -1, ringfd;
	unsigned int n;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i >= argc)
				return report_usage("record: -o needs a directory");
			dir = argv[i];
		} else if (!strcmp(argv[i], "--host-share")) {
			share = true;
		} else if (!strcmp(argv[i], "--duration")) {
			if (++i >= argc)
				return report_usage("record: --duration needs seconds");
			if (ct_parse_seconds(argv[i], "record: --duration", &duration))
				return EXIT_USAGE;
		} else {
			return report_usage(
				"record: unknown argument \"%s\" (captrace record -o DIR "
				"[--duration S])",
				argv[i]);
		}
	}
	if (share && !dir) {
		if (!mkdtemp(share_dir))
			return report_fail("record: %s: %s", share_dir, strerror(errno));
		dir = share_dir;
	}
	if (!dir)
		return report_usage("record: -o DIR is required (where the pcaps and events go)");
	if (!share) {
		struct lab_hosts *lh = calloc(1, sizeof(*lh));

		err = lh ? lab_hosts_read(cli->lab, lh) : -ENOMEM;
		if (!err)
			rc = trace_record_hosts(cli, lh, dir, duration);
		free(lh);
		if (err != -ENOENT)
			return err ? report_fail("record: %s", error_reason(err)) : rc;
	}
	if (geteuid() != 0)
		return report_fail("record: capturing in the lab's namespaces needs root");
	err = load_libpcap();
	if (err)
		return report_fail("record: %s", error_reason(err));
	r.dir = dir;

	info = calloc(1, sizeof(*info));
	r.state = malloc(sizeof(*r.state));
	if (!info || !r.state) {
		report_fail("record: out of memory");
		goto cleanup;
	}
	/* A recording of a lab that is not whole would explain losses by partitions that do not
	 * hold: refused like every command that acts on the policy. */
	err = lab_open(cli->lab, info, &r.filter, LAB_WHOLE | LAB_DELAYS_APPLIED);
	if (err) {
		report_fail("record: %s", error_reason(err));
		goto cleanup;
	}
	r.nodes = info->nodes;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		report_fail("record: create %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	/* Two descriptors per node (capture socket, pcap file): a big lab needs more than the
	 * usual soft limit of 1024. */
	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur < 2 * r.nodes + 64) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	r.cap = calloc(r.nodes, sizeof(*r.cap));
	if (!r.cap) {
		report_fail("record: out of memory");
		goto cleanup;
	}
	r.drops = open_out(dir, TRACE_DROPS);
	r.partitions = r.drops ? open_out(dir, TRACE_PARTITIONS) : NULL;
	if (!r.partitions)
		goto cleanup;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		report_fail("record: epoll: %s", strerror(errno));
		goto cleanup;
	}
	for (n = 0; n < r.nodes; n++) {
		/* A host's share of a lab across hosts captures the nodes it holds. */
		if (!lab_node_is_here(info, n + 1))
			continue;
		if (open_capture(cli->lab, n + 1, r.nodes, dir, &r.cap[n]))
			goto cleanup;
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = n };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, libpcap.get_selectable_fd(r.cap[n].pcap), &ev)) {
			report_fail("record: epoll: %s", strerror(errno));
			goto cleanup;
		}
	}
	/* Drops from before the capture cannot be paired with anything in it. */
	err = filter_events_discard(r.filter);
	ringfd = err ? -1 : filter_events_fd(r.filter);
	if (ringfd < 0) {
		report_fail("record: drop event ring: %s", strerror(err ? -err : EBADF));
		goto cleanup;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = UINT32_MAX };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, ringfd, &ev)) {
		report_fail("record: epoll: %s", strerror(errno));
		goto cleanup;
	}
	/* A host's share ends when its controller closes its input. */
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = UINT32_MAX - 1 };
	if (share && epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev)) {
		report_fail("record: epoll: %s", strerror(errno));
		goto cleanup;
	}
	if (filter_read_global(r.filter, &g0))
		memset(&g0, 0, sizeof(g0));
	if (poll_policy(&r))
		goto cleanup;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_pair(&clk[0], &clk[1]);
	if (update_meta(dir, cli->lab, &r, clk, 0, 0, false)) {
		report_fail("record: write %s/%s: %s", dir, TRACE_META, strerror(errno));
		goto cleanup;
	}
	next_meta = clk[1] + RECORD_META_MS * 1000000ull;
	if (duration > 0)
		deadline = clk[1] + (uint64_t)(duration * 1e9);
	if (share) {
		/* Standard output carries the recording itself once it is over; first, that
		 * every capture of this host is active. */
		trace_share_started(STDOUT_FILENO);
	} else if (cli->json) {
		fputs("{\"recording\":", stdout);
		json_write_string(stdout, dir);
		printf(",\"lab\":\"%s\",\"nodes\":%u}\n", cli->lab, r.nodes);
	} else
		printf("recording %u nodes of lab %s to %s\n", r.nodes, cli->lab, dir);
	fflush(stdout);

	for (;;) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		int timeout = RECORD_POLICY_MS, k, nev;

		if (!linger_end && (stop_requested || (deadline && now >= deadline))) {
			clock_pair(&clk[2], &clk[3]);
			linger_end = clk[3] + RECORD_LINGER_MS * 1000000ull;
		}
		if (linger_end && now >= linger_end)
			break;
		if (deadline && !linger_end && deadline - now < (uint64_t)timeout * 1000000)
			timeout = (int)((deadline - now) / 1000000) + 1;
		nev = epoll_wait(epfd, evs, 64, timeout);
		if (nev < 0 && errno != EINTR) {
			report_fail("record: epoll_wait: %s", strerror(errno));
			goto cleanup;
		}
		for (k = 0; k < nev; k++) {
			if (evs[k].data.u32 == UINT32_MAX - 1) {
				char c;

				if (read(STDIN_FILENO, &c, 1) <= 0) {
					stop_requested = 1;
					epoll_ctl(epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
				}
			} else if (evs[k].data.u32 == UINT32_MAX) {
				err = filter_events_poll(r.filter, 0, write_drop, &r);
				if (err && err != -EINTR) {
					report_fail("record: drop events: %s", strerror(-err));
					goto cleanup;
				}
			} else {
				drain_pcap(&r, evs[k].data.u32);
			}
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next_policy) {
			if (poll_policy(&r))
				goto cleanup;
			next_policy = now + RECORD_POLICY_MS * 1000000ull;
		}
		if (now >= next_meta && !linger_end) {
			if (update_meta(dir, cli->lab, &r, clk, 0, 0, false))
				r.write_err = -EIO;
			next_meta = now + RECORD_META_MS * 1000000ull;
		}
	}
	for (n = 0; n < r.nodes; n++)
		drain_pcap(&r, n);
	filter_events_poll(r.filter, 0, write_drop, &r);
	if (poll_policy(&r))
		goto cleanup;
	clock_pair(&clk[4], &clk[5]);

	for (n = 0; n < r.nodes; n++) {
		struct node_capture *c = &r.cap[n];

		if (!c->pcap)
			continue;
		if (libpcap.stats(c->pcap, &c->stats) == 0) {
			c->have_stats = true;
			if (cli->verbose)
				fprintf(stderr,
					"captrace: node %u: %u packets received, %u dropped, %u "
					"dropped by the interface\n",
					n + 1, c->stats.ps_recv, c->stats.ps_drop,
					c->stats.ps_ifdrop);
			pcap_dropped += c->stats.ps_drop + c->stats.ps_ifdrop;
			if (c->stats.ps_drop || c->stats.ps_ifdrop)
				report_warn(
					"record: node %u: libpcap dropped %u packets (%u by the "
					"interface): its capture is incomplete",
					n + 1, c->stats.ps_drop, c->stats.ps_ifdrop);
		}
		if (libpcap.dump_flush(c->dumper))
			r.write_err = -EIO;
	}
	if (!filter_read_global(r.filter, &g1) && g1.ring_overflow > g0.ring_overflow)
		report_warn(
			"record: %llu drop events were lost (the filter's ring buffer was full)",
			(unsigned long long)(g1.ring_overflow - g0.ring_overflow));
	if (update_meta(dir, cli->lab, &r, clk,
			(unsigned long long)(g1.ring_overflow > g0.ring_overflow ?
						     g1.ring_overflow - g0.ring_overflow :
						     0),
			pcap_dropped, true))
		r.write_err = -EIO;
	if (r.write_err) {
		report_fail("record: writing to %s failed (disk full?)", dir);
		goto cleanup;
	}
	if (share) {
		rc = trace_share_send(dir, STDOUT_FILENO) ? EXIT_FAIL : EXIT_OK;
		goto cleanup;
	}
	if (cli->json) {
		fputs("{\"dir\":", stdout);
		json_write_string(stdout, dir);
		printf(",\"nodes\":%u,\"packets\":%llu,\"drop_events\":%llu,"
		       "\"partition_changes\":%llu,\"pcap_dropped\":%llu,\"seconds\":%.3f}\n",
		       r.nodes, r.packets, r.ndrops, r.nchanges, pcap_dropped,
		       (clk[3] - clk[1]) / 1e9);
	} else {
		printf("recorded %.3f s: %llu packets on %u nodes, %llu drop events, %llu partition "
		       "generations, %llu packets missed by libpcap\n",
		       (clk[3] - clk[1]) / 1e9, r.packets, r.nodes, r.ndrops, r.nchanges,
		       pcap_dropped);
	}
	rc = EXIT_OK;
cleanup:
	if (r.cap) {
		for (n = r.nodes; n-- > 0;) {
			if (r.cap[n].dumper)
				libpcap.dump_close(r.cap[n].dumper);
			if (r.cap[n].pcap)
				libpcap.close(r.cap[n].pcap);
		}
		free(r.cap);
	}
	if (epfd >= 0)
		close(epfd);
	if (r.partitions)
		fclose(r.partitions);
	if (r.drops)
		fclose(r.drops);
	filter_close(r.filter);
	free(r.state);
	free(info);
	if (share)
		trace_share_remove(share_dir);
	return rc;
}
