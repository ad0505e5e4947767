/* SPDX-License-Identifier: GPL-2.0-only */
/* A request to one node (-n I) of a lab across hosts, from its controller: a node on another
 * host is reached by the capctl of that host, over the lab's shared ssh connection, as a share
 * of `capctl load` is; a node on the controller itself, directly. */
#ifndef CAPNET_NODE_HOST_H
#define CAPNET_NODE_HOST_H

#include <stdbool.h>

/* When -n names a node of a lab across hosts that lives on another host, runs the command
 * (argv: its name and arguments) with that host's capctl, the cluster's key on its standard
 * input, and returns true with *rc its exit status, its output and error passed through; 1
 * after one line naming the host when ssh failed. --history is kept here, on this machine's
 * clock. Also true, with *rc and the reason said, when the lab's record of hosts is unreadable
 * or the lab has no such node. False when the node is
 * reached from here: no -n, a lab on one host, a node on `local`, or a request the controller
 * sent here (--on-host). */
bool node_host_run(int argc, char **argv, int *rc);

#endif /* CAPNET_NODE_HOST_H */
