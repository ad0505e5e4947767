/* SPDX-License-Identifier: GPL-2.0-only */
/* A small receive-only AF_XDP socket over the raw kernel API: one UMEM per socket, its fill and
 * completion rings, and the RX ring, all mmapped. The delay line uses one per source port. */
#ifndef CAPNET_XSK_H
#define CAPNET_XSK_H

#include <stddef.h>
#include <stdint.h>
#include <linux/if_xdp.h>

/* One single-producer single-consumer ring shared with the kernel. */
struct xsk_ring {
	uint32_t *producer;
	uint32_t *consumer;
	void *descs;
	uint32_t size; /* a power of two */
	void *map;
	size_t map_len;
};

struct xsk {
	int fd;
	void *umem;
	size_t umem_len;
	uint32_t frame_size;
	uint32_t frames;
	struct xsk_ring fill;
	struct xsk_ring comp;
	struct xsk_ring rx;
};

/* Opens a socket bound to (ifindex, queue) of the calling thread's namespace, in copy mode,
 * with `frames` buffers of `frame_size` bytes (both powers of two), all handed to the kernel.
 * Prints nothing: returns -errno and the caller says what it was for. */
int xsk_open(struct xsk **out, int ifindex, uint32_t queue, uint32_t frames, uint32_t frame_size);
void xsk_close(struct xsk *x);

/* Takes up to `max` received descriptors off the RX ring (their buffers stay the caller's until
 * given back with xsk_fill). */
unsigned int xsk_rx_take(struct xsk *x, struct xdp_desc *out, unsigned int max);
/* Gives buffers back to the kernel; returns how many fitted (all of them, as the fill ring
 * holds every buffer of the UMEM). */
unsigned int xsk_fill(struct xsk *x, const uint64_t *addrs, unsigned int n);
static inline void *xsk_frame(const struct xsk *x, uint64_t addr)
{
	return (char *)x->umem + addr;
}
static inline int xsk_fd(const struct xsk *x)
{
	return x->fd;
}
/* The kernel's counters of the socket (drops for want of a buffer, among them). */
int xsk_stats(const struct xsk *x, struct xdp_statistics *st);

#endif /* CAPNET_XSK_H */
