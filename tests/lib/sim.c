// SPDX-License-Identifier: GPL-2.0-only
/* Deterministic simulated network: a seeded PRNG, a reachability matrix, messages in a heap. */
#include "lib/rng.h"
#include "tests/lib/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sim_rng_seed(struct sim_rng *g, uint64_t seed)
{
	g->state = seed;
}

uint64_t sim_rand(struct sim_rng *g)
{
	return rng_next(&g->state);
}

uint64_t sim_below(struct sim_rng *g, uint64_t n)
{
	return n ? sim_rand(g) % n : 0;
}

bool sim_chance(struct sim_rng *g, uint32_t ppm)
{
	return sim_below(g, 1000000) < ppm;
}

struct sim_packet {
	uint64_t due;
	uint64_t seq; /* ties broken by send order: deterministic */
	int from;
	int to;
	size_t len;
	void *buf;
};

struct sim_net {
	struct sim_net_config cfg;
	struct sim_rng rng;
	uint64_t now;
	uint64_t seq;
	bool link[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];
	struct sim_packet *heap;
	size_t n;
	size_t cap;
	struct sim_net_stats stats;
};

static bool before(const struct sim_packet *a, const struct sim_packet *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void swap(struct sim_packet *a, struct sim_packet *b)
{
	struct sim_packet t = *a;

	*a = *b;
	*b = t;
}

static int heap_push(struct sim_net *net, const struct sim_packet *p)
{
	size_t i;

	if (net->n == net->cap) {
		size_t cap = net->cap ? net->cap * 2 : 256;
		struct sim_packet *h = realloc(net->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		net->heap = h;
		net->cap = cap;
	}
	i = net->n++;
	net->heap[i] = *p;
	while (i && before(&net->heap[i], &net->heap[(i - 1) / 2])) {
		swap(&net->heap[i], &net->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

static void sift_down(struct sim_net *net, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < net->n && before(&net->heap[l], &net->heap[m]))
			m = l;
		if (r < net->n && before(&net->heap[r], &net->heap[m]))
			m = r;
		if (m == i)
			break;
		swap(&net->heap[i], &net->heap[m]);
		i = m;
	}
}

static void heap_pop(struct sim_net *net, struct sim_packet *p)
{
	*p = net->heap[0];
	net->heap[0] = net->heap[--net->n];
	sift_down(net, 0);
}

struct sim_net *sim_net_new(const struct sim_net_config *cfg, uint64_t seed)
{
	struct sim_net *net;

	if (cfg->n_nodes < 1 || cfg->n_nodes > SIM_MAX_NODES || cfg->delay_max < cfg->delay_min) {
		errno = EINVAL;
		return NULL;
	}
	net = calloc(1, sizeof(*net));
	if (!net)
		return NULL;
	net->cfg = *cfg;
	sim_rng_seed(&net->rng, seed);
	sim_net_heal(net);
	return net;
}

void sim_net_free(struct sim_net *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->n; i++)
		free(net->heap[i].buf);
	free(net->heap);
	free(net);
}

void sim_net_set_faults(struct sim_net *net, const struct sim_net_config *cfg)
{
	int n = net->cfg.n_nodes;

	net->cfg = *cfg;
	net->cfg.n_nodes = n;
	if (net->cfg.delay_max < net->cfg.delay_min)
		net->cfg.delay_max = net->cfg.delay_min;
}

void sim_net_heal(struct sim_net *net)
{
	for (int i = 0; i <= SIM_MAX_NODES; i++)
		for (int j = 0; j <= SIM_MAX_NODES; j++)
			net->link[i][j] = true;
}

void sim_net_partition(struct sim_net *net, const int *group)
{
	for (int i = 1; i <= net->cfg.n_nodes; i++)
		for (int j = 1; j <= net->cfg.n_nodes; j++)
			net->link[i][j] = group[i] == group[j];
}

void sim_net_cut(struct sim_net *net, int from, int to)
{
	net->link[from][to] = false;
}

bool sim_net_linked(const struct sim_net *net, int from, int to)
{
	return net->link[from][to];
}

static int enqueue(struct sim_net *net, int from, int to, const void *buf, size_t len)
{
	struct sim_packet p = { .from = from, .to = to, .len = len, .seq = net->seq++ };
	uint32_t span = net->cfg.delay_max - net->cfg.delay_min + 1;

	p.due = net->now + net->cfg.delay_min + sim_below(&net->rng, span);
	p.buf = malloc(len ? len : 1);
	if (!p.buf)
		return -ENOMEM;
	memcpy(p.buf, buf, len);
	if (heap_push(net, &p)) {
		free(p.buf);
		return -ENOMEM;
	}
	return 0;
}

int sim_net_send(struct sim_net *net, int from, int to, const void *buf, size_t len)
{
	int err;

	if (from < 1 || from > net->cfg.n_nodes || to < 1 || to > net->cfg.n_nodes)
		return -EINVAL;
	net->stats.sent++;
	if (sim_chance(&net->rng, net->cfg.loss_ppm)) {
		net->stats.lost++;
		return 0;
	}
	err = enqueue(net, from, to, buf, len);
	if (!err && sim_chance(&net->rng, net->cfg.dup_ppm)) {
		net->stats.duplicated++;
		err = enqueue(net, from, to, buf, len);
	}
	return err;
}

int sim_net_recv(struct sim_net *net, int *from, int *to, void **buf, size_t *len)
{
	struct sim_packet p;

	while (net->n && net->heap[0].due <= net->now) {
		heap_pop(net, &p);
		if (!net->link[p.from][p.to]) {
			net->stats.cut++;
			free(p.buf);
			continue;
		}
		net->stats.delivered++;
		*from = p.from;
		*to = p.to;
		*buf = p.buf;
		*len = p.len;
		return 1;
	}
	return 0;
}

void sim_net_flush_to(struct sim_net *net, int node)
{
	size_t j = 0;

	for (size_t i = 0; i < net->n; i++) {
		if (net->heap[i].to == node)
			free(net->heap[i].buf);
		else
			net->heap[j++] = net->heap[i];
	}
	net->n = j;
	/* Restore the heap property after removing arbitrary elements. */
	for (size_t i = net->n / 2; i-- > 0;)
		sift_down(net, i);
}

void sim_net_tick(struct sim_net *net)
{
	net->now++;
}

uint64_t sim_net_now(const struct sim_net *net)
{
	return net->now;
}

size_t sim_net_in_flight(const struct sim_net *net)
{
	return net->n;
}

const struct sim_net_stats *sim_net_stats(const struct sim_net *net)
{
	return &net->stats;
}
