// SPDX-License-Identifier: GPL-2.0-only
/* Receive-only AF_XDP sockets over the raw kernel API (setsockopt XDP_UMEM_REG and the ring
 * sizes, getsockopt XDP_MMAP_OFFSETS, mmap of each ring). Kept small and in-tree: the delay line
 * needs copy-mode receive and buffer recycling only, and this spares a library whose loader
 * would also want to manage the XDP program of the port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netem/delay/xsk.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

static uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int ring_map(int fd, struct xsk_ring *r, const struct xdp_ring_offset *off, uint32_t size,
		    size_t desc_size, off_t pgoff)
{
	r->map_len = off->desc + size * desc_size;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		      pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	r->producer = (uint32_t *)((char *)r->map + off->producer);
	r->consumer = (uint32_t *)((char *)r->map + off->consumer);
	r->descs = (char *)r->map + off->desc;
	r->size = size;
	return 0;
}

static void ring_unmap(struct xsk_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}

int xsk_open(struct xsk **out, int ifindex, uint32_t queue, uint32_t frames, uint32_t frame_size)
{
	struct xdp_mmap_offsets off;
	struct xdp_umem_reg reg = {};
	struct sockaddr_xdp sxdp = {};
	socklen_t optlen = sizeof(off);
	struct xsk *x;
	uint64_t *addrs = NULL;
	uint32_t i;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->frames = frames;
	x->frame_size = frame_size;
	x->umem_len = (size_t)frames * frame_size;
	x->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		err = -errno;
		free(x);
		return err;
	}
	x->umem =
		mmap(NULL, x->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->umem == MAP_FAILED) {
		x->umem = NULL;
		err = -errno;
		goto fail;
	}
	reg.addr = (uintptr_t)x->umem;
	reg.len = x->umem_len;
	reg.chunk_size = frame_size;
	reg.headroom = 0;
	if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING, &frames, sizeof(frames)) ||
	    setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &frames, sizeof(frames)) ||
	    setsockopt(x->fd, SOL_XDP, XDP_RX_RING, &frames, sizeof(frames)) ||
	    getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen)) {
		err = -errno;
		goto fail;
	}
	err = ring_map(x->fd, &x->fill, &off.fr, frames, sizeof(uint64_t),
		       XDP_UMEM_PGOFF_FILL_RING);
	if (!err)
		err = ring_map(x->fd, &x->comp, &off.cr, frames, sizeof(uint64_t),
			       XDP_UMEM_PGOFF_COMPLETION_RING);
	if (!err)
		err = ring_map(x->fd, &x->rx, &off.rx, frames, sizeof(struct xdp_desc),
			       XDP_PGOFF_RX_RING);
	if (err)
		goto fail;

	/* Every buffer starts with the kernel: it fills them as frames arrive. */
	addrs = malloc(frames * sizeof(*addrs));
	if (!addrs) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < frames; i++)
		addrs[i] = (uint64_t)i * frame_size;
	xsk_fill(x, addrs, frames);
	free(addrs);

	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = ifindex;
	sxdp.sxdp_queue_id = queue;
	sxdp.sxdp_flags = XDP_COPY;
	if (bind(x->fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
		err = -errno;
		goto fail;
	}
	*out = x;
	return 0;
fail:
	xsk_close(x);
	return err;
}

void xsk_close(struct xsk *x)
{
	if (!x)
		return;
	ring_unmap(&x->rx);
	ring_unmap(&x->comp);
	ring_unmap(&x->fill);
	if (x->fd >= 0)
		close(x->fd);
	if (x->umem)
		munmap(x->umem, x->umem_len);
	free(x);
}

unsigned int xsk_rx_take(struct xsk *x, struct xdp_desc *out, unsigned int max)
{
	uint32_t cons = *x->rx.consumer, prod = load_acquire(x->rx.producer);
	const struct xdp_desc *descs = x->rx.descs;
	unsigned int n = prod - cons, i;

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		out[i] = descs[(cons + i) & (x->rx.size - 1)];
	/* Descriptors copied out before the slots are handed back. */
	if (n)
		store_release(x->rx.consumer, cons + n);
	return n;
}

unsigned int xsk_fill(struct xsk *x, const uint64_t *addrs, unsigned int n)
{
	uint32_t prod = *x->fill.producer, cons = load_acquire(x->fill.consumer);
	uint64_t *ring = x->fill.descs;
	unsigned int room = x->fill.size - (prod - cons), i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		ring[(prod + i) & (x->fill.size - 1)] = addrs[i];
	if (n)
		store_release(x->fill.producer, prod + n);
	return n;
}

int xsk_stats(const struct xsk *x, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, st, &len))
		return -errno;
	return 0;
}
