// SPDX-License-Identifier: GPL-2.0-only
/* The partition filter from user space: skeleton load, tc attach, pins, double-buffered policy
 * writes with a one-word flip, counters and drop events. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/files.h"
#include "lib/report.h"
#include "lib/test_hook.h"
#include "netem/filter/clsact_bulk.h"
#include "netem/explain.h"
#include "netem/filter/filter.h"
#include "netem/lab/lab_record.h"
#include "partition.skel.h"

#define PROG_PIN_NAME "capnet_egress"
#define ARP_PIN_NAME "capnet_arp"
/* Where make leaves the object the skeleton embeds, for --explain's bpftool lines. */
#define BPF_OBJECT ".output/partition.bpf.o"

/* --explain: one map write as bpftool takes it, key and value as their bytes in memory order,
 * with what they mean. */
static void explain_update(const char *pin, const char *map, const void *key, size_t klen,
			   const void *value, size_t vlen, const char *meaning)
{
	char k[3 * 8 + 1], v[3 * 64 + 1];

	if (!explain_enabled())
		return;
	explain_hex(key, klen, k, sizeof(k));
	explain_hex(value, vlen, v, sizeof(v));
	explain("bpftool map update pinned %s/%s key hex %s value hex %s   # %s", pin, map, k, v,
		meaning);
}

/* Map names as pinned; the order matches the fds in struct filter. */
enum filter_map {
	FM_CONTROL,
	FM_POLICY_META,
	FM_GROUP_OF,
	FM_REACH,
	FM_IMPAIR,
	FM_NODE_OF_MAC,
	FM_NODE_OF_PORT,
	FM_LINK_PASSED,
	FM_LINK_DROPS,
	FM_GLOBAL_STATS,
	FM_DROP_EVENTS,
	FM_LAB_META,
	FM_RULE_MATCH,
	FM_SEEN_FRAMES,
	FM_COUNT
};

static const char *const map_names[FM_COUNT] = {
	[FM_CONTROL] = "control",
	[FM_POLICY_META] = "policy_meta",
	[FM_GROUP_OF] = "group_of",
	[FM_REACH] = "reach",
	[FM_IMPAIR] = "impair",
	[FM_NODE_OF_MAC] = "node_of_mac",
	[FM_NODE_OF_PORT] = "node_of_port",
	[FM_LINK_PASSED] = "link_passed",
	[FM_LINK_DROPS] = "link_drops",
	[FM_GLOBAL_STATS] = "global_stats",
	[FM_DROP_EVENTS] = "drop_events",
	[FM_LAB_META] = "lab_meta",
	[FM_RULE_MATCH] = "rule_match",
	[FM_SEEN_FRAMES] = "seen_frames",
};

struct filter {
	char lab[LAB_NAME_MAX + 1];
	int fd[FM_COUNT];
	int lock_fd;
	struct ring_buffer *ring;
	int (*event_fn)(const struct capnet_drop_event *ev, void *ctx);
	void *event_ctx;
};

const char *verdict_name(enum capnet_verdict v)
{
	switch (v) {
	case CAPNET_PASS:
		return "pass";
	case CAPNET_DROP_PARTITION:
		return "partition";
	case CAPNET_DROP_LOSS:
		return "loss";
	case CAPNET_DUPLICATED:
		return "duplicated";
	case CAPNET_CORRUPTED:
		return "corrupted";
	}
	return "unknown";
}

void filter_pin_dir(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", CAPNET_PIN_ROOT, lab);
}

static const char *hint(int err)
{
	if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
		return " (run as root, with CAP_BPF and CAP_NET_ADMIN)";
	return "";
}

/* libbpf speaks only when asked to (-v sets LIBBPF_DEBUG-like verbosity through env). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !getenv("CAPNET_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* bpffs may not be mounted on a fresh machine: mount it, as `mount -t bpf` would. */
static int bpffs_ensure(void)
{
	struct statfs fs;

	if (statfs(CAPNET_BPFFS, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
		return 0;
	explain("mount -t bpf bpf %s", CAPNET_BPFFS);
	if (mount("bpf", CAPNET_BPFFS, "bpf", 0, "mode=0700")) {
		int err = -errno;

		error_note("mount bpffs on %s: %s%s", CAPNET_BPFFS, strerror(errno), hint(err));
		return err;
	}
	return 0;
}

static uint64_t mac_key(unsigned int node)
{
	uint8_t mac[6];
	uint64_t key = 0;

	lab_node_mac(node, mac);
	memcpy(&key, mac, sizeof(mac));
	return key;
}

static int fill_node_maps(struct partition_bpf *skel, const struct lab_config *cfg,
			  const struct lab_info *info)
{
	int mac_fd = bpf_map__fd(skel->maps.node_of_mac);
	int port_fd = bpf_map__fd(skel->maps.node_of_port);
	char pin[256];
	unsigned int i;

	filter_pin_dir(cfg->name, pin, sizeof(pin));
	for (i = 1; i <= cfg->nodes; i++) {
		uint64_t mac = mac_key(i);
		uint32_t node = i, ifindex = info->port_ifindex[i];
		uint8_t m[6];

		if (ifindex >= CAPNET_PORT_SLOTS) {
			error_note(
				"filter: port p%u has interface index %u, beyond the %d the filter "
				"maps (was the switch namespace reused?)",
				i, ifindex, CAPNET_PORT_SLOTS);
			return -ERANGE;
		}

		if (bpf_map_update_elem(mac_fd, &mac, &node, BPF_ANY) ||
		    bpf_map_update_elem(port_fd, &ifindex, &node, BPF_ANY)) {
			int err = -errno;

			error_note("filter: fill node maps: %s", strerror(errno));
			return err;
		}
		lab_node_mac(i, m);
		if (explain_enabled()) {
			char meaning[96];

			snprintf(meaning, sizeof(meaning),
				 "node_of_mac[%02x:%02x:%02x:%02x:%02x:%02x] = node %u", m[0], m[1],
				 m[2], m[3], m[4], m[5], i);
			explain_update(pin, "node_of_mac", &mac, sizeof(mac), &node, sizeof(node),
				       meaning);
			snprintf(meaning, sizeof(meaning),
				 "node_of_port[ifindex %u, p%u] = node %u", ifindex, i, i);
			explain_update(pin, "node_of_port", &ifindex, sizeof(ifindex), &node,
				       sizeof(node), meaning);
		}
	}
	return 0;
}

/* tcx's egress attach type (Linux 6.6); the uapi headers of older systems do not name it. */
#define CAPNET_TCX_EGRESS ((enum bpf_attach_type)47)

const char *filter_hook_name(enum filter_hook hook)
{
	switch (hook) {
	case FILTER_HOOK_TCX:
		return "tcx";
	case FILTER_HOOK_CLSACT:
		return "clsact";
	case FILTER_HOOK_AUTO:
		break;
	}
	return "none";
}

int filter_hook_parse(const char *text, enum filter_hook *hook)
{
	if (!strcmp(text, "tcx"))
		*hook = FILTER_HOOK_TCX;
	else if (!strcmp(text, "clsact"))
		*hook = FILTER_HOOK_CLSACT;
	else
		return -EINVAL;
	return 0;
}

int filter_port_attach(int ifindex, int prog_fd, enum filter_hook hook)
{
	LIBBPF_OPTS(bpf_prog_attach_opts, opts);
	LIBBPF_OPTS(bpf_tc_hook, tc_hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts, .prog_fd = prog_fd, .handle = 1, .priority = 1);
	int err;

	if (hook == FILTER_HOOK_TCX) {
		err = bpf_prog_attach_opts(prog_fd, ifindex, CAPNET_TCX_EGRESS, &opts);
		/* Already there (the same program attached twice): nothing to do. */
		return err == -EEXIST ? 0 : err;
	}
	err = bpf_tc_hook_create(&tc_hook);
	if (err && err != -EEXIST)
		return err;
	tc_opts.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&tc_hook, &tc_opts);
}

int filter_port_detach(int ifindex, int prog_fd, enum filter_hook hook)
{
	LIBBPF_OPTS(bpf_tc_hook, tc_hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts, .handle = 1, .priority = 1);
	int err;

	if (hook == FILTER_HOOK_TCX)
		err = bpf_prog_detach2(prog_fd, ifindex, CAPNET_TCX_EGRESS);
	else
		err = bpf_tc_detach(&tc_hook, &tc_opts);
	return err == -ENOENT ? 0 : err;
}

static bool port_has_tcx(int ifindex, uint32_t prog_id)
{
	uint32_t ids[8], count = 8, flags = 0, i;

	if (bpf_prog_query(ifindex, CAPNET_TCX_EGRESS, 0, &flags, ids, &count))
		return false;
	for (i = 0; i < count && i < 8; i++)
		if (ids[i] == prog_id)
			return true;
	return false;
}

enum filter_hook filter_port_hook(int ifindex, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	uint32_t ids[8], count = 8, flags = 0, i;

	if (!bpf_prog_query(ifindex, CAPNET_TCX_EGRESS, 0, &flags, ids, &count))
		for (i = 0; i < count && i < 8; i++)
			if (ids[i] == prog_id)
				return FILTER_HOOK_TCX;
	if (!bpf_tc_query(&hook, &opts) && opts.prog_id == prog_id)
		return FILTER_HOOK_CLSACT;
	return FILTER_HOOK_AUTO;
}

static void explain_attach(const char *sw, const char *pin, unsigned int port, unsigned int nodes,
			   enum filter_hook hook)
{
	/* nsenter, not ip netns exec: that one remounts /sys, and the pins go with it. */
	(void)nodes;
	if (port == 1 && hook == FILTER_HOOK_TCX)
		explain("# tcx: tc's BPF hook without a qdisc (Linux 6.6). Debian 12's bpftool 7.1 "
			"cannot attach through it (7.3 can, as below); capnet up with the default "
			"hook, clsact, builds a lab whose every line replays");
	if (hook == FILTER_HOOK_TCX) {
		explain("# nsenter --net=%s/%s bpftool net attach tcx_egress pinned %s/%s dev p%u",
			NETNS_RUN_DIR, sw, pin, PROG_PIN_NAME, port);
	} else {
		explain("nsenter --net=%s/%s tc qdisc add dev p%u clsact", NETNS_RUN_DIR, sw, port);
		explain("nsenter --net=%s/%s tc filter add dev p%u egress handle 1 pref 1 bpf "
			"direct-action pinned %s/%s",
			NETNS_RUN_DIR, sw, port, pin, PROG_PIN_NAME);
	}
}

/* The ARP responder (capnet_arp) at ingress of every port, for ARP frames only: in one batch,
 * with the clsact qdisc when the egress filter went through tcx and made none. */
static int attach_arp(const struct lab_config *cfg, const struct lab_info *info, int prog_fd,
		      enum filter_hook hook)
{
	char sw[64], pin[256];
	unsigned int i, failed = 0;
	int saved, err;

	lab_switch_ns(cfg->name, sw, sizeof(sw));
	filter_pin_dir(cfg->name, pin, sizeof(pin));
	if (explain_enabled()) {
		explain("# ARP is answered at the switch: a node's request for a node's address "
			"comes back from its own port at once, so no node keeps an entry per peer "
			"and no request is flooded");
		for (i = 1; i <= cfg->nodes; i++) {
			if (hook == FILTER_HOOK_TCX)
				explain("nsenter --net=%s/%s tc qdisc add dev p%u clsact",
					NETNS_RUN_DIR, sw, i);
			explain("nsenter --net=%s/%s tc filter add dev p%u ingress protocol arp "
				"handle 1 pref 1 bpf direct-action pinned %s/%s",
				NETNS_RUN_DIR, sw, i, pin, ARP_PIN_NAME);
		}
	}
	saved = netns_enter(sw);
	if (saved < 0)
		return saved;
	err = clsact_attach_all(&info->port_ifindex[1], cfg->nodes, hook == FILTER_HOOK_TCX, true,
				ETH_P_ARP, prog_fd, ARP_PIN_NAME, &failed);
	netns_return(saved);
	if (err)
		error_note("attach the ARP responder at ingress of p%u: %s%s", failed + 1,
			   strerror(-err), hint(err));
	return err;
}

/* Attaches the program at egress of every port: through clsact unless tcx is asked for. tcx
 * costs less per frame but waits for an RCU grace period under RTNL at every attach, about
 * 12 ms a port one after the other (tools/bench/README.md), so it is for labs built once and
 * flooded long. */
static int attach_ports(const struct lab_config *cfg, const struct lab_info *info, int prog_fd,
			enum filter_hook *used)
{
	enum filter_hook hook = cfg->filter_hook == FILTER_HOOK_TCX ? FILTER_HOOK_TCX :
								      FILTER_HOOK_CLSACT;
	char sw[64], pin[256];
	unsigned int i;
	int saved, err = 0;

	lab_switch_ns(cfg->name, sw, sizeof(sw));
	filter_pin_dir(cfg->name, pin, sizeof(pin));
	saved = netns_enter(sw);
	if (saved < 0)
		return saved;
	for (i = 1; i <= cfg->nodes; i++) {
		err = filter_port_attach(info->port_ifindex[i], prog_fd, hook);
		explain_attach(sw, pin, i, cfg->nodes, hook);
		if (err) {
			error_note("attach the filter at egress of p%u (%s): %s%s%s", i,
				   filter_hook_name(hook), strerror(-err), hint(err),
				   hook == FILTER_HOOK_TCX && err == -EINVAL ?
					   " (tcx needs Linux 6.6: capnet up without --hook tcx)" :
					   "");
			break;
		}
	}
	netns_return(saved);
	*used = hook;
	return err;
}

static int write_healthy(struct filter *f);

int filter_install(const struct lab_config *cfg, const struct lab_info *info,
		   enum filter_hook *used)
{
	struct partition_bpf *skel = NULL;
	struct capnet_lab_meta meta = {
		.version = CAPNET_LAB_META_VERSION,
		.nodes = cfg->nodes,
		.subnet = cfg->subnet,
		.prefix = cfg->prefix,
	};
	struct filter *f = NULL;
	uint32_t zero = 0, link_slots;
	char dir[256], path[320];
	struct bpf_map *map;
	int err;

	libbpf_set_print(libbpf_print);
	err = bpffs_ensure();
	if (err)
		return err;
	filter_pin_dir(cfg->name, dir, sizeof(dir));
	explain("mkdir -p %s", dir);
	err = files_mkdir_p(dir, 0700);
	if (err) {
		error_note("mkdir -p %s: %s", dir, strerror(-err));
		return err;
	}

	skel = partition_bpf__open();
	if (!skel) {
		err = -errno;
		error_note("filter: open BPF object: %s", strerror(errno));
		return err;
	}
	/* One pass counter per directed link; drop entries are only made for links that drop. */
	link_slots = cfg->nodes * cfg->nodes;
	bpf_map__set_max_entries(skel->maps.link_passed, link_slots);
	bpf_map__set_max_entries(skel->maps.link_drops, link_slots);
	err = partition_bpf__load(skel);
	if (err) {
		error_note("filter: load BPF program: %s%s (capnet -v shows the verifier's log)",
			   strerror(-err), hint(err));
		goto out;
	}

	bpf_object__for_each_map(map, skel->obj)
	{
		if (!strcmp(bpf_map__name(map), ".bss") || !strcmp(bpf_map__name(map), ".rodata"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			error_note("filter: pin %s: %s", path, strerror(-err));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PROG_PIN_NAME);
	/* bpftool loads maps at the sizes the object declares: the two sized by the lab's size
	 * are made first, in a folder of their own, and handed to the load. */
	explain("mkdir -p %s-sized", dir);
	explain("bpftool map create %s-sized/link_passed type percpu_array key 4 value 8 entries %u "
		"name link_passed   # (src - 1) * %u + (dst - 1)",
		dir, link_slots, cfg->nodes);
	explain("bpftool map create %s-sized/link_drops type percpu_hash key 4 value %zu entries %u "
		"name link_drops flags 1   # BPF_F_NO_PREALLOC",
		dir, sizeof(struct capnet_link_drops), link_slots);
	explain("bpftool prog loadall %s %s type classifier map name link_passed pinned "
		"%s-sized/link_passed map name link_drops pinned %s-sized/link_drops pinmaps %s   "
		"# make builds the object",
		BPF_OBJECT, dir, dir, dir, dir);
	explain("rm -r %s-sized", dir);
	err = bpf_program__pin(skel->progs.capnet_egress, path);
	if (err) {
		error_note("filter: pin %s: %s", path, strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, ARP_PIN_NAME);
	err = bpf_program__pin(skel->progs.capnet_arp, path);
	if (err) {
		error_note("filter: pin %s: %s", path, strerror(-err));
		goto out;
	}

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.lab_meta), &zero, &meta, BPF_ANY)) {
		err = -errno;
		error_note("filter: write lab_meta: %s", strerror(errno));
		goto out;
	}
	explain_update(dir, "lab_meta", &zero, sizeof(zero), &meta, sizeof(meta),
		       "lab_meta: version, nodes, subnet (host order), prefix, whole = 0");
	err = fill_node_maps(skel, cfg, info);
	if (err)
		goto out;
	err = filter_open(cfg->name, &f);
	if (err) {
		error_note("filter: reopen pins of lab %s: %s", cfg->name, strerror(-err));
		goto out;
	}
	err = write_healthy(f);
	if (err)
		goto out;
	test_hook_phase("pinned");
	err = attach_ports(cfg, info, bpf_program__fd(skel->progs.capnet_egress), used);
	if (!err)
		test_hook_phase("filter-attached");
	if (!err)
		err = attach_arp(cfg, info, bpf_program__fd(skel->progs.capnet_arp), *used);
out:
	filter_close(f);
	partition_bpf__destroy(skel);
	return err;
}

int filter_remove(const char *lab)
{
	char dir[256], path[320];
	struct stat st;
	int i;

	filter_pin_dir(lab, dir, sizeof(dir));
	if (stat(dir, &st))
		return 0;
	explain("rm -r %s", dir);
	for (i = 0; i < FM_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PROG_PIN_NAME);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, ARP_PIN_NAME);
	unlink(path);
	if (rmdir(dir) && errno != ENOENT) {
		int err = -errno;

		error_note("remove %s: %s", dir, strerror(errno));
		return err;
	}
	return 0;
}

int filter_open(const char *lab, struct filter **out)
{
	struct filter *f;
	char dir[256], path[320];
	int i, err;

	libbpf_set_print(libbpf_print);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	snprintf(f->lab, sizeof(f->lab), "%s", lab);
	f->lock_fd = -1;
	for (i = 0; i < FM_COUNT; i++)
		f->fd[i] = -1;
	filter_pin_dir(lab, dir, sizeof(dir));
	for (i = 0; i < FM_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		f->fd[i] = bpf_obj_get(path);
		if (f->fd[i] < 0) {
			err = -errno;
			filter_close(f);
			return err;
		}
	}
	*out = f;
	return 0;
}

void filter_close(struct filter *f)
{
	int i;

	if (!f)
		return;
	ring_buffer__free(f->ring);
	for (i = 0; i < FM_COUNT; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	free(f);
}

int filter_lock(struct filter *f)
{
	char dir[256];

	if (f->lock_fd >= 0)
		return 0;
	filter_pin_dir(f->lab, dir, sizeof(dir));
	f->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->lock_fd < 0 || flock(f->lock_fd, LOCK_EX)) {
		int err = -errno;

		error_note("lock %s: %s", dir, strerror(errno));
		return err;
	}
	return 0;
}

static int read_active(struct filter *f, unsigned int *active)
{
	struct capnet_control ctl;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(f->fd[FM_CONTROL], &zero, &ctl))
		return -errno;
	*active = ctl.active & 1;
	return 0;
}

/* Reads n consecutive array elements from key `first` on: one syscall when the kernel has
 * batch lookups (a batch resumes after the key it is given, so it is given first - 1), element
 * by element otherwise. */
static int array_read(int fd, uint32_t first, void *values, size_t value_size, uint32_t n)
{
	uint32_t *keys, cursor = first ? first - 1 : 0, out = 0, count = n, i;
	int err;

	if (!n)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	err = bpf_map_lookup_batch(fd, first ? &cursor : NULL, &out, keys, values, &count, NULL);
	if (!err && count == n && keys[0] == first) {
		free(keys);
		return 0;
	}
	err = 0;
	for (i = 0; i < n && !err; i++) {
		uint32_t k = first + i;

		if (bpf_map_lookup_elem(fd, &k, (char *)values + i * value_size))
			err = -errno;
	}
	free(keys);
	return err;
}

/* Layer `layer` of a policy copy: the group of every node and the reach words in use. */
static int read_layer(struct filter *f, uint32_t copy, uint32_t layer, unsigned int nodes,
		      unsigned int groups, struct policy *pol)
{
	uint32_t base = copy * CAPNET_LAYERS + layer, k, i, words;

	if (!groups)
		return -EBADMSG;
	pol->nodes = nodes;
	pol->groups = groups;
	uint32_t *g = malloc((nodes + 1) * sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	err = array_read(f->fd[FM_GROUP_OF], base * CAPNET_NODE_SLOTS, g, sizeof(*g), nodes + 1);
	for (i = 1; i <= nodes && !err; i++)
		pol->group_of[i] = g[i];
	free(g);
	if (err)
		return err;
	words = groups * (CAPNET_MAX_GROUPS / 64);
	k = base * CAPNET_REACH_WORDS;
	return array_read(f->fd[FM_REACH], k, pol->reach, sizeof(pol->reach[0]), words);
}

static int read_state_copy(struct filter *f, struct filter_state *st, int want);

int filter_read_state(struct filter *f, struct filter_state *st)
{
	return read_state_copy(f, st, -1);
}

int filter_partition_now(const char *lab, char *buf, size_t len, unsigned int *rules)
{
	static struct filter_state st;
	static struct partition part;
	struct filter *f = NULL;
	struct spec_error e;
	int err;

	buf[0] = 0;
	*rules = 0;
	err = filter_open(lab, &f);
	if (err)
		return err;
	err = filter_read_state(f, &st);
	if (!err)
		err = policy_expand(&st.policy, &part, &e) ? -EBADMSG : 0;
	if (!err && partition_format(&part, buf, len) < 0)
		err = -ENOSPC;
	if (err)
		buf[0] = 0;
	else
		*rules = st.rules.count;
	filter_close(f);
	return err;
}

int filter_read_copy(struct filter *f, unsigned int copy, struct filter_state *st)
{
	return copy < CAPNET_POLICY_COPIES ? read_state_copy(f, st, copy) : -EINVAL;
}

static int impairment_cmp(const void *a, const void *b)
{
	const struct link_impairment *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

/* The policy copy `want` (-1: the active one), its rules and impairments. */
static int read_state_copy(struct filter *f, struct filter_state *st, int want)
{
	struct capnet_link_key key, next;
	struct capnet_impairment imp;
	struct link_impairment *li;
	uint32_t zero = 0, k, copy, r;
	int err;

	memset(st, 0, sizeof(*st));
	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &st->lab))
		return -errno;
	if (st->lab.version != CAPNET_LAB_META_VERSION || !st->lab.nodes ||
	    st->lab.nodes > CAPNET_MAX_NODES)
		return -EBADMSG;
	err = read_active(f, &st->active);
	if (err)
		return err;
	copy = want < 0 ? st->active : (uint32_t)want;
	if (bpf_map_lookup_elem(f->fd[FM_POLICY_META], &copy, &st->meta))
		return -errno;
	if (!st->meta.groups || st->meta.groups > CAPNET_MAX_GROUPS)
		return -EBADMSG;

	if (st->meta.rules > CAPNET_MAX_RULES)
		return -EBADMSG;
	err = read_layer(f, copy, 0, st->lab.nodes, st->meta.groups, &st->policy);
	for (r = 0; r < st->meta.rules && !err; r++) {
		k = copy * CAPNET_MAX_MATCHES + r;
		if (st->meta.rule_groups[r] > CAPNET_MAX_GROUPS)
			return -EBADMSG;
		if (bpf_map_lookup_elem(f->fd[FM_RULE_MATCH], &k, &st->rules.rule[r].match))
			return -errno;
		err = read_layer(f, copy, r + 1, st->lab.nodes, st->meta.rule_groups[r],
				 &st->rules.rule[r].policy);
	}
	if (err)
		return err;
	st->rules.count = st->meta.rules;

	if (bpf_map_get_next_key(f->fd[FM_IMPAIR], NULL, &next))
		return 0;
	do {
		key = next;
		if (key.copy != copy || bpf_map_lookup_elem(f->fd[FM_IMPAIR], &key, &imp))
			continue;
		if (st->impairments.count >= CAPNET_MAX_IMPAIRMENTS)
			return -E2BIG;
		li = &st->impairments.items[st->impairments.count++];
		*li = (struct link_impairment){ .src = key.src,
						.dst = key.dst,
						.loss_ppm = imp.loss_ppm,
						.dup_ppm = imp.dup_ppm,
						.corrupt_ppm = imp.corrupt_ppm,
						.flags = imp.flags,
						.seed = imp.seed };
		if (imp.match) {
			k = copy * CAPNET_MAX_MATCHES + ((imp.match - 1) % CAPNET_MAX_MATCHES);
			if (bpf_map_lookup_elem(f->fd[FM_RULE_MATCH], &k, &li->match))
				return -errno;
		}
	} while (!bpf_map_get_next_key(f->fd[FM_IMPAIR], &key, &next));
	/* A hash walks in no useful order: by link, so every reader sees the same list. */
	qsort(st->impairments.items, st->impairments.count, sizeof(st->impairments.items[0]),
	      impairment_cmp);
	return 0;
}

/* Writes n consecutive array elements starting at key `first`: one syscall when the kernel
 * has batch updates, element by element otherwise. */
static int array_write(int fd, uint32_t first, const void *values, size_t value_size, uint32_t n)
{
	uint32_t *keys, i, count = n;
	int err;

	if (!n)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		keys[i] = first + i;
	err = bpf_map_update_batch(fd, keys, values, &count, NULL);
	if (err) {
		err = 0;
		for (i = 0; i < n && !err; i++)
			if (bpf_map_update_elem(fd, &keys[i], (const char *)values + i * value_size,
						BPF_ANY))
				err = -errno;
	}
	free(keys);
	return err;
}

/* One impair entry written or deleted; the first few are shown, then how many more. */
static void explain_impair(const struct filter *f, const char *verb,
			   const struct capnet_link_key *key, const struct capnet_impairment *imp,
			   unsigned int shown)
{
	char pin[256], k[64], v[128], src[16], dst[16];

	(void)shown;
	if (!explain_enabled())
		return;
	filter_pin_dir(f->lab, pin, sizeof(pin));
	explain_hex(key, sizeof(*key), k, sizeof(k));
	if (imp)
		explain_hex(imp, sizeof(*imp), v, sizeof(v));
	/* Node 0 is the wildcard `all`. */
	snprintf(src, sizeof(src), key->src ? "%u" : "all", key->src);
	snprintf(dst, sizeof(dst), key->dst ? "%u" : "all", key->dst);
	explain("bpftool map %s pinned %s/impair key hex %s%s%s   # copy %u, %s -> %s%s", verb, pin,
		k, imp ? " value hex " : "", imp ? v : "", key->copy, src, dst,
		imp ? "" : ": the idle copy is cleared before it is rewritten");
}

static int clear_impairments(struct filter *f, uint32_t copy)
{
	struct capnet_link_key key, next;
	unsigned int shown = 0;
	bool more;

	/* Deleting while iterating restarts the walk; collect keys of one copy at a time. */
	more = !bpf_map_get_next_key(f->fd[FM_IMPAIR], NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(f->fd[FM_IMPAIR], &key, &next);
		if (key.copy != copy)
			continue;
		if (bpf_map_delete_elem(f->fd[FM_IMPAIR], &key) && errno != ENOENT)
			return -errno;
		explain_impair(f, "delete", &key, NULL, shown++);
	}
	return 0;
}

/* Writes one layer of the idle copy: the group of every node, the reach words in use. */
static int write_layer(struct filter *f, uint32_t copy, uint32_t layer, const struct policy *pol,
		       const char *pin)
{
	uint32_t groups[CAPNET_NODE_SLOTS] = { 0 };
	uint32_t base = copy * CAPNET_LAYERS + layer, i, words;
	int err;

	for (i = 1; i <= pol->nodes; i++)
		groups[i] = pol->group_of[i];
	err = array_write(f->fd[FM_GROUP_OF], base * CAPNET_NODE_SLOTS, groups, sizeof(groups[0]),
			  pol->nodes + 1);
	if (err)
		return err;
	words = pol->groups * (CAPNET_MAX_GROUPS / 64);
	err = array_write(f->fd[FM_REACH], base * CAPNET_REACH_WORDS, pol->reach,
			  sizeof(pol->reach[0]), words);
	if (err)
		return err;
	if (!explain_enabled())
		return 0;
	explain("# policy copy %u, layer %u (%s): the group of every node, then the reach bits, "
		"64 per word, bit (from * %u + to)",
		copy, layer, layer ? "a rule" : "every frame", CAPNET_MAX_GROUPS);
	for (i = 1; i <= pol->nodes; i++) {
		uint32_t key = base * CAPNET_NODE_SLOTS + i;
		char meaning[96];

		snprintf(meaning, sizeof(meaning),
			 "group_of[copy %u][layer %u][node %u] = group %u", copy, layer, i,
			 groups[i]);
		explain_update(pin, "group_of", &key, sizeof(key), &groups[i], sizeof(groups[i]),
			       meaning);
	}
	for (i = 0; i < words; i++) {
		uint32_t key = base * CAPNET_REACH_WORDS + i, from = i / (CAPNET_MAX_GROUPS / 64);
		uint32_t first = (i % (CAPNET_MAX_GROUPS / 64)) * 64, b;
		char meaning[256];
		size_t used;

		used = snprintf(meaning, sizeof(meaning),
				"reach[copy %u][layer %u] word %u: group %u "
				"reaches",
				copy, layer, i, from);
		for (b = 0; b < 64 && used < sizeof(meaning); b++)
			if (pol->reach[i] >> b & 1)
				used += snprintf(meaning + used, sizeof(meaning) - used, " %u",
						 first + b);
		if (!pol->reach[i] && used < sizeof(meaning))
			snprintf(meaning + used, sizeof(meaning) - used, " none of groups %u..%u",
				 first, first + 63);
		explain_update(pin, "reach", &key, sizeof(key), &pol->reach[i],
			       sizeof(pol->reach[i]), meaning);
	}
	return 0;
}

/* The index of `m` in the copy's match table, appended if new: -E2BIG when full. */
static int match_slot(struct capnet_match *table, unsigned int *used, const struct capnet_match *m)
{
	unsigned int i;

	for (i = 0; i < *used; i++)
		if (table[i].negate == m->negate && table[i].count == m->count &&
		    !memcmp(table[i].term, m->term, m->count * sizeof(m->term[0])))
			return i;
	if (*used >= CAPNET_MAX_MATCHES)
		return -E2BIG;
	table[*used] = *m;
	return (*used)++;
}

int filter_apply(struct filter *f, const struct policy *pol, const struct filter_rules *rules,
		 const struct impairment_set *imps, struct capnet_policy_meta *meta_out,
		 struct filter_timing *timing)
{
	uint64_t t_start = monotonic_ns(), t_flip;
	struct capnet_policy_meta cur, meta = {};
	struct capnet_match table[CAPNET_MAX_MATCHES];
	struct capnet_control ctl;
	uint32_t active, idle, zero = 0, i, k;
	unsigned int shown = 0, used = 0;
	char pin[256], v[160];
	int err, slot;

	if (rules->count > CAPNET_MAX_RULES)
		return -E2BIG;
	/* Rule r's match is entry r - 1: the filter finds it without a lookup of its own. */
	memset(table, 0, sizeof(table));
	for (i = 0; i < rules->count; i++)
		table[i] = rules->rule[i].match;
	used = rules->count;
	for (i = 0; i < imps->count; i++)
		if (imps->items[i].match.count &&
		    match_slot(table, &used, &imps->items[i].match) < 0)
			return -E2BIG;

	err = read_active(f, &active);
	if (err)
		return err;
	idle = !active;
	if (bpf_map_lookup_elem(f->fd[FM_POLICY_META], &active, &cur))
		return -errno;
	filter_pin_dir(f->lab, pin, sizeof(pin));

	err = write_layer(f, idle, 0, pol, pin);
	for (i = 0; i < rules->count && !err; i++) {
		err = write_layer(f, idle, i + 1, &rules->rule[i].policy, pin);
		meta.rule_groups[i] = rules->rule[i].policy.groups;
	}
	if (err)
		return err;
	for (i = 0; i < used; i++) {
		k = idle * CAPNET_MAX_MATCHES + i;
		if (bpf_map_update_elem(f->fd[FM_RULE_MATCH], &k, &table[i], BPF_ANY))
			return -errno;
		if (explain_enabled()) {
			explain_hex(&table[i], sizeof(table[i]), v, sizeof(v));
			explain("bpftool map update pinned %s/rule_match key %u 0 0 0 value hex %s   "
				"# copy %u, match %u",
				pin, k & 0xff, v, idle, i + 1);
		}
	}

	err = clear_impairments(f, idle);
	if (err)
		return err;
	for (i = 0; i < imps->count; i++) {
		const struct link_impairment *li = &imps->items[i];
		struct capnet_link_key key = { .copy = idle, .src = li->src, .dst = li->dst };
		struct capnet_impairment imp = { .loss_ppm = li->loss_ppm,
						 .dup_ppm = li->dup_ppm,
						 .corrupt_ppm = li->corrupt_ppm,
						 .flags = li->flags,
						 .seed = li->seed };

		if (!li->loss_ppm && !li->dup_ppm && !li->corrupt_ppm)
			continue;
		if (li->match.count) {
			slot = match_slot(table, &used, &li->match);
			imp.match = slot + 1;
		}
		if (bpf_map_update_elem(f->fd[FM_IMPAIR], &key, &imp, BPF_ANY))
			return -errno;
		explain_impair(f, "update", &key, &imp, shown++);
		meta.impaired = 1;
	}

	meta.generation = cur.generation + 1;
	meta.groups = pol->groups;
	meta.rules = rules->count;
	meta.flip_ns = t_flip = monotonic_ns();
	if (bpf_map_update_elem(f->fd[FM_POLICY_META], &idle, &meta, BPF_ANY))
		return -errno;
	if (explain_enabled()) {
		char meaning[128];

		snprintf(
			meaning, sizeof(meaning),
			"policy_meta[copy %u]: generation %llu, flip time, %u groups, %s, %u rules",
			idle, (unsigned long long)meta.generation, meta.groups,
			meta.impaired ? "impaired" : "not impaired", meta.rules);
		explain_update(pin, "policy_meta", &idle, sizeof(idle), &meta, sizeof(meta),
			       meaning);
	}

	/* The switch itself: one aligned word, so every link changes at the same instant. */
	ctl.active = idle;
	explain("bpftool map update pinned %s/control key 0 0 0 0 value %u 0 0 0", pin, idle);
	if (bpf_map_update_elem(f->fd[FM_CONTROL], &zero, &ctl, BPF_ANY))
		return -errno;
	/* Stamp the flip's own time; the program reads only generation and impaired, unchanged. */
	meta.flip_ns = monotonic_ns();
	if (timing) {
		timing->write_ns = t_flip - t_start;
		timing->flip_ns = meta.flip_ns - t_flip;
	}
	bpf_map_update_elem(f->fd[FM_POLICY_META], &idle, &meta, BPF_ANY);
	if (meta_out)
		*meta_out = meta;
	return 0;
}

int filter_seen_reset(struct filter *f)
{
	uint64_t key, next;
	bool more;

	/* Deleting the key just read is safe: the walk goes on from the next one. */
	more = !bpf_map_get_next_key(f->fd[FM_SEEN_FRAMES], NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(f->fd[FM_SEEN_FRAMES], &key, &next);
		if (bpf_map_delete_elem(f->fd[FM_SEEN_FRAMES], &key) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* A fresh lab: both copies healthy (every node in group 0, which reaches itself), copy 0
 * active, generation 1. Array maps start zeroed, so group_of needs no writes. */
static int write_healthy(struct filter *f)
{
	struct capnet_policy_meta meta = { .generation = 1, .groups = 1 };
	struct capnet_control ctl = { .active = 0 };
	uint64_t all_reach = 1;
	uint32_t copy, key, zero = 0;

	char pin[256], meaning[96];

	filter_pin_dir(f->lab, pin, sizeof(pin));
	for (copy = 0; copy < CAPNET_POLICY_COPIES; copy++) {
		key = copy * CAPNET_LAYERS * CAPNET_REACH_WORDS;
		meta.flip_ns = monotonic_ns();
		if (bpf_map_update_elem(f->fd[FM_REACH], &key, &all_reach, BPF_ANY) ||
		    bpf_map_update_elem(f->fd[FM_POLICY_META], &copy, &meta, BPF_ANY))
			return -errno;
		snprintf(meaning, sizeof(meaning),
			 "reach[copy %u][layer 0] word 0: group 0 reaches group 0", copy);
		explain_update(pin, "reach", &key, sizeof(key), &all_reach, sizeof(all_reach),
			       meaning);
		snprintf(meaning, sizeof(meaning),
			 "policy_meta[copy %u]: generation 1, flip time, 1 group, no rules", copy);
		explain_update(pin, "policy_meta", &copy, sizeof(copy), &meta, sizeof(meta),
			       meaning);
	}
	if (bpf_map_update_elem(f->fd[FM_CONTROL], &zero, &ctl, BPF_ANY))
		return -errno;
	explain_update(pin, "control", &zero, sizeof(zero), &ctl, sizeof(ctl),
		       "control: copy 0 active; every node in group 0 of both copies (arrays "
		       "start zeroed)");
	return 0;
}

/* A link's drop counters, summed over CPUs. */
struct link_drop_entry {
	struct capnet_stats_key key;
	struct capnet_link_drops sum;
};

static int compare_links(const struct capnet_stats_key *a, const struct capnet_stats_key *b)
{
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->dst < b->dst ? -1 : a->dst > b->dst;
}

static int compare_drop_entries(const void *a, const void *b)
{
	return compare_links(&((const struct link_drop_entry *)a)->key,
			     &((const struct link_drop_entry *)b)->key);
}

/* Every link with a drop or a duplicate, sorted by (src, dst) like link_passed's indexes. */
static int read_link_drops(struct filter *f, int ncpu, struct link_drop_entry **out, size_t *count)
{
	struct capnet_link_drops *percpu = calloc(ncpu, sizeof(*percpu));
	struct link_drop_entry *list = NULL, *grown, *e;
	struct capnet_stats_key key, next;
	size_t n = 0, cap = 0;
	int c, err = 0;

	if (!percpu)
		return -ENOMEM;
	if (bpf_map_get_next_key(f->fd[FM_LINK_DROPS], NULL, &next))
		goto out;
	do {
		key = next;
		if (bpf_map_lookup_elem(f->fd[FM_LINK_DROPS], &key, percpu))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			list = grown;
		}
		e = &list[n++];
		memset(e, 0, sizeof(*e));
		e->key = key;
		for (c = 0; c < ncpu; c++) {
			e->sum.dropped_partition += percpu[c].dropped_partition;
			e->sum.dropped_loss += percpu[c].dropped_loss;
			e->sum.duplicated += percpu[c].duplicated;
			e->sum.corrupted += percpu[c].corrupted;
		}
	} while (!bpf_map_get_next_key(f->fd[FM_LINK_DROPS], &key, &next));
	if (n)
		qsort(list, n, sizeof(*list), compare_drop_entries);
out:
	free(percpu);
	if (err) {
		free(list);
		return err;
	}
	*out = list;
	*count = n;
	return 0;
}

static int emit_drops(const struct link_drop_entry *e, uint64_t passed,
		      int (*fn)(const struct capnet_stats_key *key,
				const struct capnet_link_stats *stats, void *ctx),
		      void *ctx)
{
	struct capnet_link_stats st = {
		.passed = passed,
		.dropped_partition = e->sum.dropped_partition,
		.dropped_loss = e->sum.dropped_loss,
		.duplicated = e->sum.duplicated,
		.corrupted = e->sum.corrupted,
	};

	return fn(&e->key, &st, ctx);
}

/* link_passed is read in batches: a 1000-node lab has a million links. */
#define PASSED_BATCH 4096

int filter_for_each_link(struct filter *f,
			 int (*fn)(const struct capnet_stats_key *key,
				   const struct capnet_link_stats *stats, void *ctx),
			 void *ctx)
{
	int ncpu = libbpf_num_possible_cpus(), c, err;
	struct link_drop_entry *drops = NULL;
	size_t ndrops = 0, d = 0;
	struct capnet_lab_meta lab;
	uint32_t zero = 0, *keys = NULL, batch, got, j;
	uint64_t *values = NULL;
	bool first = true, last = false;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &lab))
		return -errno;
	if (!lab.nodes || lab.nodes > CAPNET_MAX_NODES)
		return -EINVAL;
	err = read_link_drops(f, ncpu, &drops, &ndrops);
	if (err)
		return err;
	keys = calloc(PASSED_BATCH, sizeof(*keys));
	values = calloc((size_t)PASSED_BATCH * ncpu, sizeof(*values));
	if (!keys || !values) {
		err = -ENOMEM;
		goto out;
	}
	while (!last) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		got = PASSED_BATCH;
		if (bpf_map_lookup_batch(f->fd[FM_LINK_PASSED], first ? NULL : &batch, &batch, keys,
					 values, &got, &opts)) {
			if (errno != ENOENT) {
				err = -errno;
				goto out;
			}
			last = true;
		}
		first = false;
		for (j = 0; j < got; j++) {
			struct capnet_stats_key key = {
				.src = keys[j] / lab.nodes + 1,
				.dst = keys[j] % lab.nodes + 1,
			};
			struct capnet_link_stats st = { 0 };

			for (c = 0; c < ncpu; c++)
				st.passed += values[(size_t)j * ncpu + c];
			for (; d < ndrops && compare_links(&drops[d].key, &key) < 0; d++) {
				err = emit_drops(&drops[d], 0, fn, ctx);
				if (err)
					goto out;
			}
			if (d < ndrops && !compare_links(&drops[d].key, &key)) {
				err = emit_drops(&drops[d++], st.passed, fn, ctx);
			} else if (st.passed) {
				err = fn(&key, &st, ctx);
			}
			if (err)
				goto out;
		}
		if (!got)
			break;
	}
	for (; d < ndrops; d++) {
		err = emit_drops(&drops[d], 0, fn, ctx);
		if (err)
			break;
	}
out:
	free(drops);
	free(keys);
	free(values);
	return err;
}

int filter_read_global(struct filter *f, struct capnet_global_stats *out)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct capnet_global_stats *percpu;
	uint32_t zero = 0;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(f->fd[FM_GLOBAL_STATS], &zero, percpu)) {
		err = -errno;
		goto out;
	}
	for (c = 0; c < ncpu; c++) {
		out->unknown_src += percpu[c].unknown_src;
		out->ring_overflow += percpu[c].ring_overflow;
		out->dup_failed += percpu[c].dup_failed;
	}
out:
	free(percpu);
	return err;
}

static int ring_sample(void *ctx, void *data, size_t size)
{
	struct filter *f = ctx;

	if (size < sizeof(struct capnet_drop_event))
		return 0;
	return f->event_fn(data, f->event_ctx);
}

int filter_events_poll(struct filter *f, int timeout_ms,
		       int (*fn)(const struct capnet_drop_event *ev, void *ctx), void *ctx)
{
	int n;

	f->event_fn = fn;
	f->event_ctx = ctx;
	if (!f->ring) {
		f->ring = ring_buffer__new(f->fd[FM_DROP_EVENTS], ring_sample, f, NULL);
		if (!f->ring)
			return -errno;
	}
	n = ring_buffer__poll(f->ring, timeout_ms);
	return n < 0 ? n : 0;
}

int filter_events_fd(struct filter *f)
{
	return f->ring ? ring_buffer__epoll_fd(f->ring) : -1;
}

static int ignore_event(const struct capnet_drop_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	return 0;
}

int filter_events_discard(struct filter *f)
{
	int n;

	f->event_fn = ignore_event;
	if (!f->ring) {
		f->ring = ring_buffer__new(f->fd[FM_DROP_EVENTS], ring_sample, f, NULL);
		if (!f->ring)
			return -errno;
	}
	n = ring_buffer__consume(f->ring);
	return n < 0 ? n : 0;
}

/* Ports whose egress runs our pinned program: anything less means a half-working lab. The
 * first port says which hook the lab uses; every port is then asked about that hook in bulk
 * (tcx: one query each, clsact: all in a few netlink round trips), and only the ports without
 * it are asked about the other. */
/* The id of a pinned program of the lab. */
static int pinned_prog_id(const char *dir, const char *name, uint32_t *id)
{
	struct bpf_prog_info pinfo = {};
	__u32 plen = sizeof(pinfo);
	char path[320];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &pinfo, &plen))
		err = -errno;
	close(fd);
	*id = pinfo.id;
	return err;
}

int filter_count_attached(const char *lab, const struct lab_info *info, unsigned int *ok,
			  unsigned int *first_missing, enum filter_hook *hook)
{
	char dir[256], sw[64];
	uint32_t *ids = NULL, *arp = NULL, egress_id, arp_id;
	enum filter_hook first;
	unsigned int i;
	int saved, err;

	*ok = 0;
	*first_missing = 0;
	filter_pin_dir(lab, dir, sizeof(dir));
	err = pinned_prog_id(dir, PROG_PIN_NAME, &egress_id);
	if (!err)
		err = pinned_prog_id(dir, ARP_PIN_NAME, &arp_id);
	if (err || !info->nodes)
		return err;
	ids = calloc(info->nodes + 1, sizeof(*ids));
	arp = calloc(info->nodes + 1, sizeof(*arp));
	if (!ids || !arp) {
		free(ids);
		free(arp);
		return -ENOMEM;
	}
	lab_switch_ns(lab, sw, sizeof(sw));
	saved = netns_enter(sw);
	if (saved < 0) {
		free(ids);
		free(arp);
		return saved;
	}
	/* A port counts when it has both: the filter at egress and the ARP responder at
	 * ingress, without which its node cannot reach anyone. */
	err = clsact_prog_ids(&info->port_ifindex[1], info->nodes, true, ETH_P_ARP, &arp[1]);
	first = filter_port_hook(info->port_ifindex[1], egress_id);
	if (!err && first == FILTER_HOOK_CLSACT)
		err = clsact_prog_ids(&info->port_ifindex[1], info->nodes, false, ETH_P_ALL,
				      &ids[1]);
	for (i = 1; i <= info->nodes && !err; i++) {
		enum filter_hook h = FILTER_HOOK_AUTO;

		if (first == FILTER_HOOK_CLSACT && ids[i] == egress_id)
			h = FILTER_HOOK_CLSACT;
		else if (first == FILTER_HOOK_TCX && port_has_tcx(info->port_ifindex[i], egress_id))
			h = FILTER_HOOK_TCX;
		else if (first == FILTER_HOOK_AUTO || i > 1)
			h = filter_port_hook(info->port_ifindex[i], egress_id);
		if (h != FILTER_HOOK_AUTO && arp[i] == arp_id) {
			(*ok)++;
			*hook = h;
		} else if (!*first_missing) {
			*first_missing = i;
		}
	}
	netns_return(saved);
	free(ids);
	free(arp);
	return err;
}

int filter_mark_whole(struct filter *f)
{
	struct capnet_lab_meta meta;
	uint32_t zero = 0;
	char dir[256], v[3 * sizeof(meta) + 1];

	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &meta))
		return -errno;
	meta.whole = 1;
	filter_pin_dir(f->lab, dir, sizeof(dir));
	explain_hex(&meta, sizeof(meta), v, sizeof(v));
	explain("bpftool map update pinned %s/lab_meta key hex 00 00 00 00 value hex %s   # the lab "
		"is whole",
		dir, v);
	if (bpf_map_update_elem(f->fd[FM_LAB_META], &zero, &meta, BPF_ANY))
		return -errno;
	return 0;
}

int filter_check_whole(struct filter *f, const struct lab_info *info)
{
	unsigned int asked = lab_record_nodes(f->lab), attached = 0, missing = 0, size;
	enum filter_hook hook = FILTER_HOOK_AUTO;
	struct capnet_lab_meta meta;
	uint32_t zero = 0;
	char remedy[160];
	int err;

	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &meta))
		return -errno;
	size = asked ? asked : meta.nodes ? meta.nodes : info->nodes;
	snprintf(remedy, sizeof(remedy), "capnet --lab %s down && capnet --lab %s up -n %u", f->lab,
		 f->lab, size);
	if (meta.version != CAPNET_LAB_META_VERSION) {
		error_note("lab \"%s\" was built by another version of capnet; %s rebuilds it",
			   f->lab, remedy);
		return -EUCLEAN;
	}
	if (asked && asked != info->nodes) {
		error_note(
			"lab \"%s\" is not whole: `up -n %u` did not finish (%u node namespaces); "
			"%s rebuilds it",
			f->lab, asked, info->nodes, remedy);
		return -EUCLEAN;
	}
	if (!meta.whole) {
		error_note("lab \"%s\" is not whole: `up -n %u` did not finish; %s rebuilds it",
			   f->lab, size, remedy);
		return -EUCLEAN;
	}
	err = filter_count_attached(f->lab, info, &attached, &missing, &hook);
	if (err) {
		error_note("lab \"%s\": read the filter's ports: %s", f->lab, strerror(-err));
		return err;
	}
	if (attached != info->nodes) {
		error_note(
			"lab \"%s\" is not whole: the filter or its ARP responder is missing on %u of %u ports (first: "
			"p%u), so partitions would not hold there; %s rebuilds it",
			f->lab, info->nodes - attached, info->nodes, missing, remedy);
		return -EUCLEAN;
	}
	return 0;
}
