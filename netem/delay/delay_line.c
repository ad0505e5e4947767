// SPDX-License-Identifier: GPL-2.0-only
/* The delay line: one process per lab, living in the switch namespace. It takes the frames of
 * delayed links from one AF_XDP socket per source port, holds each until it is due, and writes
 * it back into the bridge through dl0, where the partition filter at the destination port
 * decides and counts it as any other frame.
 *
 * Due time of a frame on link (src, dst), arriving at t:
 *   finish = max(t, link busy until) + len * 8 / rate     (rate: 0 means no serialisation)
 *   due    = finish + delay + jitter sample               (uniform +-j, or normal sigma j)
 *   due    = max(due, previous due on the link)           (unless --reorder)
 * Frames wait in one min-heap by (due, arrival order), so equal due times keep their order. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <linux/if_link.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/monotonic.h"
#include "lib/rng.h"
#include "delay.skel.h"
#include "netem/delay/delay_line.h"
#include "netem/explain.h"
#include "netem/delay/xsk.h"

/* Buffers per source port: 2048 x 2 KiB = 4 MiB, enough for 10k frames/s held 200 ms. */
#define DL_FRAMES 2048
#define DL_FRAME_SIZE 2048
#define DL_BATCH 64
/* Sleeps shorter than this are spun instead: a wake-up costs about as much. */
#define DL_SPIN_NS 20000
/* At most this early is the timer armed, however late this machine's wake-ups are. */
#define DL_WAKE_EARLY_MAX_NS 1000000ull
#define DL_IDLE_NS 100000000ull
#define DL_STATS_NS 100000000ull

struct dl_link_state {
	uint64_t last_due;
	uint64_t busy_until;
};

struct dl_source {
	struct xsk *xsk;
	bool attached; /* XDP on the port and the socket in xsks */
	unsigned int queued;
	/* [dst]: the link's parameters, resolved with wildcards (NULL: not delayed). */
	struct capnet_delay_params *params;
	bool *delayed;
	struct dl_link_state *state;
};

struct dl_item {
	uint64_t due;
	uint64_t seq;
	uint64_t addr;
	uint32_t len;
	uint16_t src;
};

struct dl {
	const char *lab;
	struct lab_info info;
	unsigned int nodes;
	struct delay_bpf *skel;
	char pin_dir[256];
	volatile struct capnet_delay_conf *conf;
	volatile struct capnet_delay_stats *stats;
	struct dl_source *src;
	struct dl_item *heap;
	size_t heap_len, heap_cap;
	unsigned int sockets; /* open AF_XDP sockets */
	uint64_t seq;
	uint64_t applied;
	int tx_fd;
	int dl_ifindex;
	bool ports_set_up, csum_off;
	uint64_t closed_drops; /* drops counted by sockets since closed */
	uint64_t rng;
	struct delay_set *links;
	uint64_t wake_early_ns; /* how late the timer's wake-ups come here, learned */
};

static volatile sig_atomic_t stopping, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stopping = 1;
}

static double rng_unit(struct dl *d)
{
	return (rng_next(&d->rng) >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t jitter_sample(struct dl *d, const struct capnet_delay_params *p)
{
	double u, v;

	if (!p->jitter_ns)
		return 0;
	if (p->dist == CAPNET_DIST_EXPONENTIAL) {
		/* u in (0, 1] so the log is finite; never below -jitter. */
		u = 1.0 - rng_unit(d);
		return (int64_t)(-log(u) * p->jitter_ns) - (int64_t)p->jitter_ns;
	}
	if (p->dist == CAPNET_DIST_NORMAL) {
		/* Box-Muller; u in (0, 1] so the log is finite. */
		u = 1.0 - rng_unit(d);
		v = rng_unit(d);
		return (int64_t)(sqrt(-2.0 * log(u)) * cos(2 * M_PI * v) * p->jitter_ns);
	}
	return (int64_t)((2 * rng_unit(d) - 1) * p->jitter_ns);
}

static bool item_before(const struct dl_item *a, const struct dl_item *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct dl *d, const struct dl_item *it)
{
	size_t i = d->heap_len++, parent;

	while (i) {
		parent = (i - 1) / 2;
		if (!item_before(it, &d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = *it;
}

static void heap_pop(struct dl *d)
{
	struct dl_item last = d->heap[--d->heap_len];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= d->heap_len)
			break;
		if (c + 1 < d->heap_len && item_before(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!item_before(&d->heap[c], &last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->heap_len)
		d->heap[i] = last;
}

static int links_load(struct dl *d)
{
	struct capnet_delay_key key, next;
	struct capnet_delay_params p;
	int fd = bpf_map__fd(d->skel->maps.delay_links);

	d->links->count = 0;
	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;
		if (d->links->count >= CAPNET_DELAY_MAX_LINKS)
			return -E2BIG;
		d->links->items[d->links->count++] =
			(struct delay_link){ .src = key.src, .dst = key.dst, .p = p };
	} while (!bpf_map_get_next_key(fd, &key, &next));
	return 0;
}

/* The most specific entry, in the XDP program's order: link, source, destination, all. */
static const struct delay_link *link_find(const struct delay_set *set, unsigned int s,
					  unsigned int t)
{
	const struct delay_link *best = NULL;
	int best_rank = 0, rank;
	unsigned int i;

	for (i = 0; i < set->count; i++) {
		const struct delay_link *l = &set->items[i];

		if ((l->src && l->src != s) || (l->dst && l->dst != t))
			continue;
		rank = l->src && l->dst ? 4 : l->src ? 3 : l->dst ? 2 : 1;
		if (rank > best_rank) {
			best = l;
			best_rank = rank;
		}
	}
	return best;
}

static int source_attach(struct dl *d, unsigned int s)
{
	struct dl_source *src = &d->src[s];
	int ifindex = d->info.port_ifindex[s], fd, err;
	uint32_t key = s;
	struct dl_item *heap;

	if (!src->xsk) {
		err = xsk_open(&src->xsk, ifindex, 0, DL_FRAMES, DL_FRAME_SIZE);
		if (err) {
			fprintf(stderr, "delay line: AF_XDP socket on p%u: %s\n", s,
				strerror(-err));
			return err;
		}
		/* Room for every buffer of every open socket: a push never fails. */
		if (d->heap_cap < (size_t)++d->sockets * DL_FRAMES) {
			heap = realloc(d->heap, (size_t)d->sockets * DL_FRAMES * sizeof(*heap));
			if (!heap)
				return -ENOMEM;
			d->heap = heap;
			d->heap_cap = (size_t)d->sockets * DL_FRAMES;
		}
	}
	fd = xsk_fd(src->xsk);
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.xsks), &key, &fd, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "delay line: xsks[%u]: %s\n", s, strerror(errno));
		return err;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(d->skel->progs.capnet_delay),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "delay line: attach XDP to p%u: %s\n", s, strerror(-err));
		return err;
	}
	src->attached = true;
	return 0;
}

static void source_detach(struct dl *d, unsigned int s)
{
	uint32_t key = s;

	bpf_xdp_detach(d->info.port_ifindex[s], XDP_FLAGS_DRV_MODE, NULL);
	bpf_map_delete_elem(bpf_map__fd(d->skel->maps.xsks), &key);
	d->src[s].attached = false;
}

static void source_close(struct dl *d, unsigned int s)
{
	struct xdp_statistics st;
	struct dl_source *src = &d->src[s];

	if (!src->xsk)
		return;
	if (!xsk_stats(src->xsk, &st))
		d->closed_drops += st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs;
	xsk_close(src->xsk);
	src->xsk = NULL;
	d->sockets--;
}

/* Rereads the links and attaches or detaches the program port by port. */
static int reconfigure(struct dl *d)
{
	uint64_t gen = d->conf->generation;
	unsigned int s, t, i, links = 0, sources = 0;
	int err;

	err = links_load(d);
	if (err) {
		fprintf(stderr, "delay line: read delay_links: %s\n", strerror(-err));
		return err;
	}
	for (s = 1; s <= d->nodes; s++) {
		struct dl_source *src = &d->src[s];
		bool wanted = false;

		/* A sender on another host of a lab across hosts: its own delay line delays it. */
		if (!lab_node_is_here(&d->info, s))
			continue;
		/* Tables only for ports that are, or were, the source of a delayed link: a large
		 * lab with a few delayed links stays small. */
		if (!src->delayed) {
			for (i = 0; i < d->links->count && !wanted; i++)
				wanted = (!d->links->items[i].src || d->links->items[i].src == s) &&
					 d->links->items[i].dst != s;
			if (!wanted)
				continue;
			wanted = false;
			src->params = calloc(d->nodes + 1, sizeof(*src->params));
			src->delayed = calloc(d->nodes + 1, sizeof(*src->delayed));
			src->state = calloc(d->nodes + 1, sizeof(*src->state));
			if (!src->params || !src->delayed || !src->state)
				return -ENOMEM;
		}
		for (t = 1; t <= d->nodes; t++) {
			const struct delay_link *l = t == s ? NULL : link_find(d->links, s, t);

			src->delayed[t] = l != NULL;
			if (l) {
				src->params[t] = l->p;
				wanted = true;
			}
		}
		if (wanted && !src->attached) {
			err = source_attach(d, s);
			if (err)
				return err;
		} else if (!wanted && src->attached) {
			source_detach(d, s);
		}
		sources += src->attached;
	}
	links = d->links->count;
	d->stats->links = links;
	d->stats->sources = sources;
	d->applied = gen;
	d->stats->generation = gen;
	fprintf(stderr, "delay line: generation %llu: %u link entries, %u source ports\n",
		(unsigned long long)gen, links, sources);
	return 0;
}

/* When the frame reached the switch port, from the metadata the XDP program wrote in front of it
 * (within the kernel's headroom of the buffer), else now. The magic is cleared once read, so a
 * buffer used again without fresh metadata can never pass an old time for a new frame. */
static uint64_t arrival_ns(uint8_t *frame, uint64_t now)
{
	struct capnet_delay_meta meta;
	uint8_t *at = frame - sizeof(meta);

	memcpy(&meta, at, sizeof(meta));
	if (meta.magic != CAPNET_DELAY_META_MAGIC)
		return now;
	meta.magic = 0;
	memcpy(at, &meta, sizeof(meta));
	/* Never from the future, and not from long ago: a bad stamp is ignored. */
	return meta.arrived_ns <= now && now - meta.arrived_ns < 1000000000ull ? meta.arrived_ns :
										 now;
}

static void enqueue(struct dl *d, unsigned int s, const struct xdp_desc *desc, uint64_t now)
{
	struct dl_source *src = &d->src[s];
	uint8_t *frame = xsk_frame(src->xsk, desc->addr);
	unsigned int t = desc->len >= 6 ? (unsigned int)frame[4] << 8 | frame[5] : 0;
	uint64_t arrived = arrival_ns(frame, now);
	struct dl_item it = {
		.due = now, .seq = d->seq++, .addr = desc->addr, .len = desc->len, .src = s
	};

	if (t && t <= d->nodes && src->delayed && src->delayed[t]) {
		const struct capnet_delay_params *p = &src->params[t];
		struct dl_link_state *ls = &src->state[t];
		uint64_t finish = arrived;
		int64_t extra;

		if (p->rate_bps) {
			finish = ls->busy_until > finish ? ls->busy_until : finish;
			finish += (uint64_t)desc->len * 8 * 1000000000ull / p->rate_bps;
			ls->busy_until = finish;
		}
		extra = (int64_t)p->delay_ns + jitter_sample(d, p);
		it.due = finish + (extra > 0 ? (uint64_t)extra : 0);
		if (!p->reorder) {
			if (it.due < ls->last_due)
				it.due = ls->last_due;
			ls->last_due = it.due;
		}
	}
	/* A frame of a link no longer delayed (changed while it was on its way) goes now. */
	heap_push(d, &it);
	src->queued++;
	d->stats->received++;
}

static void receive(struct dl *d)
{
	struct xdp_desc descs[DL_BATCH];
	unsigned int s, i, n;
	uint64_t now;

	for (s = 1; s <= d->nodes; s++) {
		if (!d->src[s].xsk)
			continue;
		do {
			n = xsk_rx_take(d->src[s].xsk, descs, DL_BATCH);
			now = monotonic_ns();
			for (i = 0; i < n; i++)
				enqueue(d, s, &descs[i], now);
		} while (n == DL_BATCH);
	}
	d->stats->queued = d->heap_len;
}

/* Writes every due frame into the bridge, DL_BATCH per sendmmsg, and recycles the buffers. */
static void transmit(struct dl *d)
{
	struct mmsghdr msgs[DL_BATCH];
	struct iovec iov[DL_BATCH];
	struct dl_item batch[DL_BATCH];
	unsigned int n, i;
	uint64_t now = monotonic_ns(), late;
	int r;

	while (d->heap_len && d->heap[0].due <= now) {
		for (n = 0; n < DL_BATCH && d->heap_len && d->heap[0].due <= now; n++) {
			batch[n] = d->heap[0];
			heap_pop(d);
			iov[n].iov_base = xsk_frame(d->src[batch[n].src].xsk, batch[n].addr);
			iov[n].iov_len = batch[n].len;
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			late = now - batch[n].due;
			if (late > d->stats->late_max_ns)
				d->stats->late_max_ns = late;
		}
		for (i = 0; i < n;) {
			r = sendmmsg(d->tx_fd, msgs + i, n - i, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				d->stats->dropped_send++;
				i++;
				continue;
			}
			d->stats->sent += r;
			i += r;
		}
		for (i = 0; i < n; i++) {
			struct dl_source *src = &d->src[batch[i].src];

			xsk_fill(src->xsk, &batch[i].addr, 1);
			src->queued--;
		}
		now = monotonic_ns();
	}
	d->stats->queued = d->heap_len;
}

static void stats_refresh(struct dl *d)
{
	uint64_t drops = d->closed_drops;
	struct xdp_statistics st;
	unsigned int s;

	for (s = 1; s <= d->nodes; s++) {
		struct dl_source *src = &d->src[s];

		if (src->xsk && !xsk_stats(src->xsk, &st))
			drops += st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs;
		/* A port no longer delayed keeps its socket until its last frame went out. */
		if (src->xsk && !src->attached && !src->queued)
			source_close(d, s);
	}
	d->stats->dropped_full = drops;
}

/* Sleeps end on a timerfd armed at the absolute due time: a poll timeout would be stretched by
 * the kernel's slack for long sleeps (0.1% of the timeout: 0.2 ms late on a 200 ms delay). */
static int run(struct dl *d)
{
	struct itimerspec its = {};
	struct pollfd *pfd;
	unsigned int s, n;
	uint64_t now, next_stats = 0, wait, armed;
	sigset_t unblocked;
	int err = 0, tfd;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0) {
		err = -errno;
		fprintf(stderr, "delay line: timerfd: %s\n", strerror(errno));
		return err;
	}
	pfd = calloc(d->nodes + 2, sizeof(*pfd));
	if (!pfd) {
		close(tfd);
		return -ENOMEM;
	}
	sigemptyset(&unblocked);
	while (!stopping) {
		if (reload || d->conf->generation != d->applied) {
			reload = 0;
			err = reconfigure(d);
			if (err)
				break;
		}
		receive(d);
		transmit(d);
		now = monotonic_ns();
		d->stats->heartbeat_ns = now;
		if (now >= next_stats) {
			stats_refresh(d);
			next_stats = now + DL_STATS_NS;
		}
		wait = d->heap_len ? (d->heap[0].due > now ? d->heap[0].due - now : 0) : DL_IDLE_NS;
		if (wait > DL_IDLE_NS)
			wait = DL_IDLE_NS;
		if (wait < DL_SPIN_NS + (d->heap_len ? d->wake_early_ns : 0)) {
			/* Due sooner than a wake-up can be trusted to come: look again without
			 * sleeping, but still see new frames. */
			continue;
		}
		/* Armed as early as wake-ups here are late (a virtual machine's can be late by
		 * a few hundred microseconds); the rest of the wait is spun above. */
		if (d->heap_len)
			wait -= d->wake_early_ns;
		pfd[0].fd = tfd;
		pfd[0].events = POLLIN;
		for (s = 1, n = 1; s <= d->nodes; s++)
			if (d->src[s].xsk) {
				pfd[n].fd = xsk_fd(d->src[s].xsk);
				pfd[n].events = POLLIN;
				n++;
			}
		now += wait;
		armed = now;
		its.it_value.tv_sec = now / 1000000000ull;
		its.it_value.tv_nsec = now % 1000000000ull;
		if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) ||
		    (ppoll(pfd, n, NULL, &unblocked) < 0 && errno != EINTR)) {
			err = -errno;
			fprintf(stderr, "delay line: wait: %s\n", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t expirations, woke = monotonic_ns(),
					      late = woke > armed ? woke - armed : 0;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				fprintf(stderr, "delay line: timerfd: %s\n", strerror(errno));
			/* Learn the lateness slowly (1/8 per wake-up), so one preemption does not
			 * turn into a long spin; cap it, so a stalled machine cannot either. */
			if (d->heap_len) {
				d->wake_early_ns = (7 * d->wake_early_ns + late) / 8;
				if (d->wake_early_ns > DL_WAKE_EARLY_MAX_NS)
					d->wake_early_ns = DL_WAKE_EARLY_MAX_NS;
			}
		}
	}
	free(pfd);
	close(tfd);
	return err;
}

static int pin_all(struct dl *d)
{
	char path[320];
	struct bpf_map *map;
	int err;

	if (mkdir(d->pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "delay line: mkdir %s: %s\n", d->pin_dir, strerror(errno));
		return err;
	}
	explain("bpftool prog load .output/delay.bpf.o %s/capnet_delay type xdp pinmaps %s",
		d->pin_dir, d->pin_dir);
	bpf_object__for_each_map(map, d->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->pin_dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			fprintf(stderr, "delay line: pin %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	snprintf(path, sizeof(path), "%s/capnet_delay", d->pin_dir);
	err = bpf_program__pin(d->skel->progs.capnet_delay, path);
	if (err)
		fprintf(stderr, "delay line: pin %s: %s\n", path, strerror(-err));
	return err;
}

static void *map_mmap(struct bpf_map *map)
{
	void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(map), 0);

	return p == MAP_FAILED ? NULL : p;
}

static int tx_open(struct dl *d)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = d->dl_ifindex };
	int one = 1, big = 4 << 20;

	/* Protocol 0: a send-only socket, it never receives. */
	d->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (d->tx_fd < 0 || bind(d->tx_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		int err = -errno;

		fprintf(stderr, "delay line: packet socket on %s: %s\n", DELAY_IF, strerror(errno));
		return err;
	}
	/* The frames were queued here already: the qdisc of dl0 would only add a copy. */
	setsockopt(d->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(d->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return 0;
}

static int write_pid_file(const char *lab)
{
	char path[256], dir[256], text[32];
	int fd, len;

	snprintf(dir, sizeof(dir), "%s", DELAY_RUN_ROOT);
	mkdir(dir, 0755);
	delay_run_path(lab, NULL, dir, sizeof(dir));
	mkdir(dir, 0755);
	delay_run_path(lab, "delay.pid", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (write(fd, text, len) != len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* Whether XDP programs may call bpf_xdp_adjust_meta here: some kernel builds refuse it, and
 * Debian 12's libbpf probe takes that refusal for support. Two instructions loaded for real. */
static bool xdp_meta_supported(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_meta },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int dl_setup(struct dl *d)
{
	unsigned int s;
	char sw[LAB_NAME_MAX + 16];
	int err, saved;

	err = lab_topology_discover(d->lab, &d->info);
	if (err)
		return err;
	d->nodes = d->info.nodes;
	lab_switch_ns(d->lab, sw, sizeof(sw));
	saved = netns_enter(sw);
	if (saved < 0) {
		fprintf(stderr, "delay line: enter %s: %s\n", sw, strerror(-saved));
		return saved;
	}
	close(saved); /* this process lives in the switch namespace from now on */

	d->src = calloc(d->nodes + 1, sizeof(*d->src));
	d->links = calloc(1, sizeof(*d->links));
	if (!d->src || !d->links)
		return -ENOMEM;

	d->skel = delay_bpf__open();
	if (!d->skel) {
		err = -errno;
		fprintf(stderr, "delay line: open BPF object: %s\n", strerror(errno));
		return err;
	}
	d->skel->rodata->lab_nodes = d->nodes;
	d->skel->rodata->has_meta = xdp_meta_supported();
	err = delay_bpf__load(d->skel);
	if (err) {
		fprintf(stderr, "delay line: load XDP program: %s (capnet -v shows the verifier)\n",
			strerror(-err));
		return err;
	}
	err = pin_all(d);
	if (err)
		return err;
	d->conf = map_mmap(d->skel->maps.delay_conf);
	d->stats = map_mmap(d->skel->maps.delay_stats);
	if (!d->conf || !d->stats) {
		err = -errno;
		fprintf(stderr, "delay line: mmap delay maps: %s\n", strerror(errno));
		return err;
	}
	for (s = 1; s <= d->nodes; s++) {
		uint32_t ifindex = d->info.port_ifindex[s], node = s;

		if (!lab_node_is_here(&d->info, s))
			continue;
		if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.port_node), &ifindex, &node,
					BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "delay line: port_node: %s\n", strerror(errno));
			return err;
		}
	}

	d->ports_set_up = true;
	err = delay_setup_ports(d->lab, d->nodes, &d->dl_ifindex);
	if (err)
		return err;
	d->csum_off = true;
	err = delay_node_txcsum(d->lab, d->nodes, false);
	if (err)
		return err;
	err = tx_open(d);
	if (err)
		return err;
	err = write_pid_file(d->lab);
	if (err) {
		fprintf(stderr, "delay line: pid file: %s\n", strerror(-err));
		return err;
	}
	d->stats->pid = getpid();
	d->stats->started_ns = monotonic_ns();
	d->applied = d->conf->generation;
	return 0;
}

static void dl_cleanup(struct dl *d)
{
	char path[256];
	unsigned int s;

	if (d->src) {
		for (s = 1; s <= d->nodes; s++) {
			if (d->src[s].attached)
				source_detach(d, s);
			source_close(d, s);
			free(d->src[s].params);
			free(d->src[s].delayed);
			free(d->src[s].state);
		}
	}
	if (d->tx_fd >= 0)
		close(d->tx_fd);
	if (d->ports_set_up)
		delay_teardown_ports(d->lab, d->nodes);
	if (d->csum_off)
		delay_node_txcsum(d->lab, d->nodes, true);
	if (d->conf)
		munmap((void *)d->conf, sysconf(_SC_PAGESIZE));
	if (d->stats)
		munmap((void *)d->stats, sysconf(_SC_PAGESIZE));
	delay_bpf__destroy(d->skel);
	delay_unpin(d->lab);
	delay_run_path(d->lab, "delay.pid", path, sizeof(path));
	unlink(path);
	free(d->src);
	free(d->heap);
	free(d->links);
}

int delay_line_main(const char *lab, int ready_fd)
{
	struct dl d = { .lab = lab, .tx_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	char path[256];
	sigset_t block;
	int err, log_fd;

	/* The log is the daemon's stderr; stdout stays the ready pipe until set-up is done, so
	 * --explain lines reach the capnet that started us. */
	delay_run_path(lab, NULL, path, sizeof(path));
	mkdir(DELAY_RUN_ROOT, 0755);
	mkdir(path, 0755);
	delay_run_path(lab, "delay.log", path, sizeof(path));
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd >= 0)
		dup2(log_fd, STDERR_FILENO);
	dup2(ready_fd, STDOUT_FILENO);
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Wake-ups on time: the default 50 us slack would show as extra delay. And the lowest
	 * real-time priority, so a busy machine does not add its run-queue wait to every delay;
	 * the loop only works when frames come or fall due, and never spins longer than
	 * DL_SPIN_NS. */
	prctl(PR_SET_TIMERSLACK, 1);
	{
		struct sched_param sp = { .sched_priority = 1 };

		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
			fprintf(stderr,
				"delay line: no real-time priority (%s): delays will "
				"include the machine's scheduling latency\n",
				strerror(errno));
	}
	if (getrandom(&d.rng, sizeof(d.rng), 0) != sizeof(d.rng))
		d.rng = monotonic_ns();

	fprintf(stderr, "delay line: lab %s, pid %d, starting\n", lab, (int)getpid());
	delay_pin_dir(lab, d.pin_dir, sizeof(d.pin_dir));
	err = dl_setup(&d);
	if (err) {
		dprintf(ready_fd, "error: %s (see %s)\n", strerror(-err), path);
		goto out;
	}
	dprintf(ready_fd, "ready\n");
	fflush(stdout);
	close(ready_fd);
	if (log_fd >= 0)
		dup2(log_fd, STDOUT_FILENO);
	explain_enable(false);
	fprintf(stderr, "delay line: ready\n");
	err = run(&d);
out:
	dl_cleanup(&d);
	fprintf(stderr, "delay line: stopped%s%s\n", err ? ": " : "", err ? strerror(-err) : "");
	if (log_fd >= 0)
		close(log_fd);
	return err ? 1 : 0;
}
