/* SPDX-License-Identifier: GPL-2.0-only */
/* capnet maelstrom: unmodified Maelstrom node programs on a real lab network. A shim per node,
 * inside the node's namespace, runs the program with pipes: what the program sends to another
 * node ("dest":"n3") becomes a UDP datagram to that node's shim, through the filter, so
 * partitions, cuts, loss and delay act on it; what it sends to a client or a service goes to the
 * harness over a socket pair that never touches the lab's network, as in Maelstrom. */
#ifndef CAPNET_MAELSTROM_H
#define CAPNET_MAELSTROM_H

#include <stdint.h>

#include "netem/cli.h"
#include "netem/maelstrom/wire.h"

/* A message is one datagram, fragmented and reassembled by IP when it is over the MTU. */
#define MAEL_MAX_MESSAGE 65000
#define MAEL_MAX_NODES 64

struct mael_shim {
	unsigned int index; /* 0-based: the program is n<index> */
	unsigned int nodes;
	uint32_t addrs[MAEL_MAX_NODES]; /* host order, by index */
	int harness_fd; /* one end of a socket pair: lines both ways */
	char *const *argv; /* the program and its arguments */
	const char *log_path; /* the program's stderr */
	const char *net_log_path; /* every message sent ("s ...") and received ("r ...") */
	int log_stderr; /* copy the program's stderr to ours too */
};

/* Runs in the node's namespace: starts the program and moves lines until the harness closes its
 * side (then the program is stopped) or the program exits. Lines from the shim itself start
 * with '!': "!exit NODE STATUS", "!bad NODE REASON: LINE", "!stats NODE sent N received N
 * forged N repeated N". A datagram is taken only from a peer shim's address and port, with the
 * message's src that peer and its dest this node, and each number once: the rest is counted as
 * forged or repeated and dropped. Returns the process's exit status. */
int mael_shim_run(const struct mael_shim *s);

/* The number in a node's or a client's name ("n3", prefix 'n') if it is spelled as the harness
 * spells it and is below limit, else -EINVAL: "n01", "n", "n-1" and "n3x" name nobody. */
int mael_id_parse(const char *name, char prefix, unsigned int limit);

int cmd_maelstrom(struct cli *cli, int argc, char **argv);

#endif /* CAPNET_MAELSTROM_H */
