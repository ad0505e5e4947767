/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A deterministic simulated network for testing replicated state machines in one process:
 * messages are opaque byte strings that arrive after a random delay (so they reorder), may be
 * lost or duplicated, and are subject to a reachability matrix that partitions and one-way cuts
 * change over time. Time is a tick counter; everything random comes from one seeded PRNG, so a
 * run replays exactly from its seed. No I/O, no clock, no global state.
 */
#ifndef CAPNET_SIM_H
#define CAPNET_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_NODES 16

struct sim_rng {
	uint64_t state;
};

void sim_rng_seed(struct sim_rng *g, uint64_t seed);
uint64_t sim_rand(struct sim_rng *g);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t sim_below(struct sim_rng *g, uint64_t n);
/* True with probability ppm / 1e6. */
bool sim_chance(struct sim_rng *g, uint32_t ppm);

struct sim_net_config {
	int n_nodes; /* nodes are numbered 1..n_nodes */
	uint32_t delay_min; /* ticks a message spends in flight, drawn in [delay_min, delay_max] */
	uint32_t delay_max;
	uint32_t loss_ppm;
	uint32_t dup_ppm;
};

struct sim_net_stats {
	uint64_t sent;
	uint64_t delivered;
	uint64_t lost; /* random loss */
	uint64_t cut; /* dropped by a partition or a one-way cut */
	uint64_t duplicated;
};

struct sim_net;

/* NULL plus errno. */
struct sim_net *sim_net_new(const struct sim_net_config *cfg, uint64_t seed);
void sim_net_free(struct sim_net *net);

/* Changes delay, loss and duplication from now on (n_nodes is kept). */
void sim_net_set_faults(struct sim_net *net, const struct sim_net_config *cfg);
/* Every link up. */
void sim_net_heal(struct sim_net *net);
/* group[i] for node i (1..n, group[0] unused): nodes talk only within their group. */
void sim_net_partition(struct sim_net *net, const int *group);
/* One-way: from can no longer reach to (to may still reach from). */
void sim_net_cut(struct sim_net *net, int from, int to);
bool sim_net_linked(const struct sim_net *net, int from, int to);

/*
 * Queues a copy of buf. A link's state is checked when the message would arrive, as a switch
 * decides when it forwards: a partition that starts while a message is in flight drops it.
 */
int sim_net_send(struct sim_net *net, int from, int to, const void *buf, size_t len);
/*
 * Pops the next message due at the current tick, in a deterministic order. Returns 1 and hands
 * over *buf (the caller frees it), or 0 when nothing more is due now.
 */
int sim_net_recv(struct sim_net *net, int *from, int *to, void **buf, size_t *len);
/* Drops every message in flight to node (it crashed: its socket buffers are gone). */
void sim_net_flush_to(struct sim_net *net, int node);
void sim_net_tick(struct sim_net *net);
uint64_t sim_net_now(const struct sim_net *net);
size_t sim_net_in_flight(const struct sim_net *net);
const struct sim_net_stats *sim_net_stats(const struct sim_net *net);

#endif /* CAPNET_SIM_H */
