// SPDX-License-Identifier: GPL-2.0-only
/* Lost messages: what was sent, less what arrived, each with the filter's reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netem/maelstrom/lost.h"

const char *mael_loss_cause_name(enum mael_loss_cause c)
{
	switch (c) {
	case MAEL_LOST_PARTITION:
		return "partition";
	case MAEL_LOST_LOSS:
		return "loss";
	case MAEL_LOST_NODE_DOWN:
		return "node killed";
	case MAEL_LOST_ELSEWHERE:
		return "not dropped by the filter";
	default:
		return "?";
	}
}

int mael_wire_parse(const char *d, size_t n, uint64_t *seq, size_t *start)
{
	size_t i = 1;
	uint64_t v = 0;

	if (n < 3 || d[0] != MAEL_WIRE_TAG)
		return -EINVAL;
	for (; i < n && i < 22 && d[i] >= '0' && d[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(d[i] - '0');
	if (i == 1 || i >= n || d[i] != ' ' || !v)
		return -EINVAL;
	*seq = v;
	*start = i + 1;
	return 0;
}

static int cmp_sent(const void *a, const void *b)
{
	const struct mael_sent *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_drop(const void *a, const void *b)
{
	const struct mael_drop *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

static int cmp_lost(const void *a, const void *b)
{
	const struct mael_lost *x = a, *y = b;

	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

int mael_lost_find(struct mael_sent *sent, size_t n_sent, const struct mael_recv *recv,
		   size_t n_recv, struct mael_drop *drops, size_t n_drops, uint64_t end_ns,
		   struct mael_lost_report *out)
{
	memset(out, 0, sizeof(*out));
	if (n_sent > 1)
		qsort(sent, n_sent, sizeof(*sent), cmp_sent);
	if (n_drops > 1)
		qsort(drops, n_drops, sizeof(*drops), cmp_drop);
	for (size_t i = 0; i < n_recv; i++) {
		struct mael_sent key = { .src = recv[i].src, .seq = recv[i].seq },
				 *m = n_sent ?
					      bsearch(&key, sent, n_sent, sizeof(*sent), cmp_sent) :
					      NULL;

		if (m && recv[i].node_down) {
			m->arrived_down = true;
			continue;
		}
		/* A duplicate (the filter can duplicate) counts once. */
		if (m && !m->received) {
			m->received = true;
			m->recv_ns = recv[i].time_ns;
			out->received++;
		}
	}
	out->sent = n_sent;
	out->lost = malloc((n_sent - out->received + 1) * sizeof(*out->lost));
	if (!out->lost)
		return -ENOMEM;
	for (size_t i = 0; i < n_sent; i++) {
		struct mael_lost *l;
		struct mael_drop key = { .src = sent[i].src, .seq = sent[i].seq }, *d;

		if (sent[i].received)
			continue;
		l = &out->lost[out->n_lost++];
		*l = (struct mael_lost){ .m = &sent[i],
					 .cause = MAEL_LOST_ELSEWHERE,
					 .time_ns = sent[i].time_ns };
		/* The first drop of this message: the lower bound of (sender, number, time 0). */
		size_t lo = 0, hi = n_drops;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (cmp_drop(&drops[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		d = lo < n_drops && drops[lo].src == key.src && drops[lo].seq == key.seq ?
			    &drops[lo] :
			    NULL;
		if (d && d->dest == sent[i].dest) {
			l->cause = d->cause;
			l->time_ns = d->time_ns;
		} else if (sent[i].arrived_down) {
			l->cause = MAEL_LOST_NODE_DOWN;
		} else if (sent[i].time_ns > end_ns) {
			out->n_lost--;
			out->in_flight++;
			continue;
		}
		out->by_cause[l->cause]++;
	}
	if (out->n_lost > 1)
		qsort(out->lost, out->n_lost, sizeof(*out->lost), cmp_lost);
	return 0;
}

void mael_lost_report_free(struct mael_lost_report *r)
{
	free(r->lost);
	memset(r, 0, sizeof(*r));
}
