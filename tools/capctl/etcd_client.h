/* SPDX-License-Identifier: GPL-2.0-only */
/* An etcd client of one node's member, through libcurl and etcd's v3 JSON gateway: range, put,
 * and cas as a txn comparing the value. Its sockets are made inside the node's namespace
 * (loopback, else the node's own address), so client traffic never crosses the emulated
 * network. Reads are linearizable unless serializable is asked for. */
#ifndef CAPNET_ETCD_CLIENT_H
#define CAPNET_ETCD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/capctl/etcd_outcome.h"

#define ETCD_DEFAULT_PORT 2379

struct etcd_client {
	void *curl;
	char ns[64];
	char base[96]; /* http://ADDR:PORT */
	unsigned int node;
	long timeout_ms;
	bool serializable;
	char error[400];
	char *body;
	size_t body_len, body_cap;
	char value[1200]; /* a range's value, decoded */
	bool found; /* the range had the key */
	char why[256];
};

/* Once per process, before any thread uses a client. 0 or -EIO. */
int etcd_client_global_init(void);
/* Connects to node's member and checks that it is etcd (maintenance status). 0, or -errno with
 * the reason for a person in c->error. */
int etcd_client_open(struct etcd_client *c, const char *lab, unsigned int node, uint16_t port,
		     long timeout_ms, bool serializable);
void etcd_client_close(struct etcd_client *c);
/* One register operation; *a says what came back (for a read, c->found and c->value). */
void etcd_client_call(struct etcd_client *c, enum history_f f, const char *key, const char *value,
		      const char *expected, struct etcd_answer *a);

#endif /* CAPNET_ETCD_CLIENT_H */
