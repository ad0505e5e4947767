// SPDX-License-Identifier: GPL-2.0-only
/* The filter's drop events: the ring buffer it fills, polled or drained, and the names of the
 * verdicts they carry. */
#include <errno.h>

#include <bpf/libbpf.h>

#include "netem/filter/filter_internal.h"

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
