/* SPDX-License-Identifier: GPL-2.0-only */
/* Which messages between nodes were lost, and why. Every shim numbers the messages it sends
 * (per sender, from 1) and logs each it sends and each it receives; the filter reports every
 * frame it drops with the first bytes of its payload, where the number is. A message sent and
 * never received is lost; the filter's drop of it gives the cause (partition, loss), and one the
 * filter did not drop was lost elsewhere (a full socket buffer, or still in flight at the end).
 * Pure: the three lists in, the lost messages with their causes out. */
#ifndef CAPNET_MAELSTROM_LOST_H
#define CAPNET_MAELSTROM_LOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A datagram between shims starts "M<seq> " and then the message, one line of JSON. */
#define MAEL_WIRE_TAG 'M'

struct mael_sent {
	unsigned int src, dest; /* 0-based: n<src> */
	uint64_t seq;
	uint64_t time_ns; /* CLOCK_MONOTONIC, as the filter's */
	char type[40]; /* the body's type */
	int64_t msg_id, in_reply_to; /* -1 when absent */
	bool received;
	uint64_t recv_ns; /* when it arrived first */
	bool arrived_down; /* it reached the node while the nemesis had killed its program */
};

struct mael_recv {
	unsigned int src;
	uint64_t seq;
	uint64_t time_ns;
	bool node_down; /* arrived while the program was killed: it never read it */
};

enum mael_loss_cause {
	MAEL_LOST_PARTITION,
	MAEL_LOST_LOSS,
	MAEL_LOST_NODE_DOWN,
	MAEL_LOST_ELSEWHERE,
	MAEL_LOST_CAUSES
};

struct mael_drop {
	unsigned int src, dest;
	uint64_t seq;
	uint64_t time_ns;
	enum mael_loss_cause cause;
};

struct mael_lost {
	const struct mael_sent *m;
	enum mael_loss_cause cause;
	uint64_t time_ns; /* when the filter dropped it, else when it was sent */
};

struct mael_lost_report {
	struct mael_lost *lost; /* in time order */
	size_t n_lost;
	size_t by_cause[MAEL_LOST_CAUSES];
	size_t sent, received;
	size_t in_flight; /* sent after the test ended, as the shims stopped: not counted lost */
};

const char *mael_loss_cause_name(enum mael_loss_cause c);

/* Parses a datagram's tag: the sequence number and where the message starts, or -EINVAL. */
int mael_wire_parse(const char *d, size_t n, uint64_t *seq, size_t *start);

/* Sorts sent (by sender and number), marks what was received, and lists the rest with their
 * causes; a message the filter did not drop, sent after end_ns, was still in flight when the
 * shims stopped and is not lost. drops is sorted in place. 0, or -ENOMEM. */
int mael_lost_find(struct mael_sent *sent, size_t n_sent, const struct mael_recv *recv,
		   size_t n_recv, struct mael_drop *drops, size_t n_drops, uint64_t end_ns,
		   struct mael_lost_report *out);
void mael_lost_report_free(struct mael_lost_report *r);

#endif /* CAPNET_MAELSTROM_LOST_H */
