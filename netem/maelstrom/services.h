/* SPDX-License-Identifier: GPL-2.0-only */
/* Maelstrom's services, which nodes reach as named destinations: lin-kv (one linearizable copy),
 * seq-kv (sequentially consistent: every node sees one total order of writes, never going back,
 * but may read a state older than the newest), lww-kv (five replicas that answer alone and
 * gossip, keeping the write with the later, roughly synchronised timestamp) and lin-tso (a
 * counter that only grows). Pure: the harness hands each request in with the time and takes
 * the reply's body out; randomness comes from a seed, so a run's stale reads can be replayed. */
#ifndef CAPNET_MAELSTROM_SERVICES_H
#define CAPNET_MAELSTROM_SERVICES_H

#include <stdint.h>

#include "lib/json.h"

enum mael_service { MAEL_LIN_KV_SERVICE, MAEL_SEQ_KV, MAEL_LWW_KV, MAEL_LIN_TSO, MAEL_SERVICES };

#define MAEL_LWW_REPLICAS 5

struct mael_services;

/* -1 for a name that is no service. */
int mael_service_parse(const char *name);
const char *mael_service_name(enum mael_service s);

/* For nodes 0..nodes-1. NULL without memory. */
struct mael_services *mael_services_new(unsigned int nodes, uint64_t seed);
void mael_services_free(struct mael_services *s);

/* Answers one request from node (its body, parsed): *reply is a new JSON object text, the body of
 * the answer without msg_id or in_reply_to ({"type":"read_ok","value":3}, or Maelstrom's
 * {"type":"error","code":20,...}). 0, or -ENOMEM. */
int mael_services_handle(struct mael_services *s, enum mael_service svc, unsigned int node,
			 const struct json_value *body, uint64_t now_ns, char **reply);

/* lww-kv's replicas each pull the state of another chosen at random, keeping the later write of
 * every key. The harness calls it every 100 ms. */
int mael_services_gossip(struct mael_services *s);

#endif /* CAPNET_MAELSTROM_SERVICES_H */
