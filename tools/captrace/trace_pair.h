/* SPDX-License-Identifier: GPL-2.0-only */
/* Pairing what nodes sent with what arrived, and explaining every loss by the filter's drop
 * events and the partition in force. Pure: frames (or sends and arrivals known otherwise, as
 * the maelstrom shims log them), drop events and partition changes go in, a verdict per sent
 * message and summaries come out; no I/O, no clock. */
#ifndef CAPNET_TRACE_PAIR_H
#define CAPNET_TRACE_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/partition.h"

enum trace_kind {
	TRACE_CAPNET = 1, /* a capnet datagram: named by (sender, msg_id) */
	TRACE_IP = 2, /* any other IPv4 packet: by addresses, protocol, IP id and L4 checksum */
	TRACE_MAELSTROM = 3, /* a datagram between maelstrom shims: by (sender, receiver, seq) */
};

enum trace_fate {
	TRACE_DELIVERED = 0,
	TRACE_LOST_PARTITION,
	TRACE_LOST_LOSS,
	TRACE_LOST_UNEXPLAINED,
	TRACE_CORRUPTED, /* a bit flipped on the way (link --corrupt): not what was sent */
	TRACE_LOST_NODE_DOWN, /* reached a node whose program was killed: nobody read it */
	TRACE_FATES,
};

/* What names one sent frame on both sides of a link. */
struct trace_key {
	uint64_t a; /* capnet: msg_id; IP: saddr << 32 | daddr (host order); maelstrom: seq */
	uint64_t b; /* capnet: header `from`; IP: proto << 32 | ip_id << 16 | l4_csum */
	uint16_t from, to; /* nodes, by MAC */
	uint8_t kind; /* enum trace_kind */
};

/* A frame a node sent, seen in its own capture. */
struct trace_msg {
	struct trace_key key;
	uint64_t time_ns; /* CLOCK_REALTIME, as the capture stamped it */
	uint64_t arrival_ns; /* delivered: when the receiver's capture saw it */
	uint64_t dropped_ns; /* lost by a drop event: its time (CLOCK_MONOTONIC), else 0 */
	uint64_t generation; /* partition in force: the drop event's, else by send time */
	const uint8_t *payload; /* the L4 payload as captured (points into the caller's buffer) */
	uint32_t payload_len;
	uint16_t sport, dport;
	uint8_t ip_proto;
	uint8_t fate; /* enum trace_fate, set by trace_analyse */
	bool seeded; /* TRACE_LOST_LOSS by the link's seed: a replay loses it again */
	int window; /* index into windows, -1 if before the first known partition */
	const char *service; /* its port's name (report --port), or NULL */
	const void *origin; /* trace_add_send's caller's record of it, or NULL */
};

/* A name for the TCP or UDP frames to or from a port: `captrace report --port 2181=zk-client`. */
#define TRACE_PORT_NAME_MAX 24
#define TRACE_PORT_NAMES 32
struct trace_port_name {
	uint16_t port;
	char name[TRACE_PORT_NAME_MAX];
};

struct trace_arrival {
	struct trace_key key;
	uint64_t time_ns;
	bool node_down; /* at a node whose program was killed: arrived, but never read */
};

struct trace_drop {
	struct trace_key key;
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	uint64_t generation;
	uint8_t reason; /* enum capnet_verdict */
	bool seeded; /* a loss decided by the link's seed (link --loss P% --seed S) */
	bool used;
};

/* A partition in force from flip_ns (CLOCK_MONOTONIC) until the next one. */
struct trace_window {
	uint64_t generation;
	uint64_t flip_ns;
	uint64_t start_ns, end_ns; /* CLOCK_REALTIME, clipped to the capture */
	char spec[256];
	char impairments[256]; /* "1->2 loss 30%", "" when no link is impaired */
	uint64_t sent, delivered, lost[TRACE_FATES];
};

struct trace_link {
	uint64_t sent, delivered, lost[TRACE_FATES];
};

struct trace_analysis {
	unsigned int nodes;
	/* An adopted lab's nodes' own MACs, [1..nodes]; NULL: capnet's numbered ones. */
	const uint8_t (*node_mac)[6];
	/* Capture interval (CLOCK_REALTIME): frames sent outside it are not judged, as their
	 * arrival may fall outside the capture. */
	uint64_t start_ns, stop_ns;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC during the capture */

	struct trace_msg *msgs;
	size_t nmsgs, capmsgs;
	struct trace_arrival *arrivals;
	size_t narrivals, caparrivals;
	struct trace_drop *drops;
	size_t ndrops, capdrops;
	struct trace_window *windows;
	size_t nwindows, capwindows;

	/* Results of trace_analyse. */
	struct trace_link *links; /* [from * (nodes + 1) + to] */
	uint64_t total[TRACE_FATES];
	uint64_t outside; /* sends outside the capture interval, not judged */
	uint64_t unsent_arrivals; /* arrivals of frames whose sending was not captured */
	uint64_t duplicates; /* arrivals beyond the number of sends (duplication) */
	uint64_t unmatched_drops; /* drop events of no captured send (non-IPv4, or earlier) */
	uint64_t other_frames; /* frames neither judged nor paired (ARP, IPv6, broadcast) */

	struct trace_port_name ports[TRACE_PORT_NAMES];
	size_t nports;
};

void trace_analysis_init(struct trace_analysis *an, unsigned int nodes);
void trace_analysis_free(struct trace_analysis *an);

/* A frame from node `node`'s capture: a send if the node's MAC is its source, an arrival if it
 * is its destination. The frame must outlive the analysis (its payload is kept by pointer).
 * 0 or -ENOMEM. */
int trace_add_frame(struct trace_analysis *an, unsigned int node, uint64_t time_ns,
		    const uint8_t *frame, uint32_t caplen);
int trace_add_drop(struct trace_analysis *an, const struct capnet_drop_event *ev);
/* The message `seq` from maelstrom shim `from` to shim `to` (lab nodes, 1-based), as
 * netem/maelstrom/wire.h tags it. */
struct trace_key trace_key_maelstrom(unsigned int from, unsigned int to, uint64_t seq);
/* A send and an arrival known without a capture (the maelstrom shims log both); origin is
 * kept in the message for the caller. 0 or -ENOMEM. */
int trace_add_send(struct trace_analysis *an, const struct trace_key *key, uint64_t time_ns,
		   const void *origin);
int trace_add_arrival(struct trace_analysis *an, const struct trace_key *key, uint64_t time_ns,
		      bool node_down);
/* Partition changes, in any order; the spec is the text partition_format gives, impairments
 * the impaired links in force with it (NULL or "" for none). */
int trace_add_partition(struct trace_analysis *an, uint64_t generation, uint64_t flip_ns,
			const char *spec, const char *impairments);

/* Pairs sends with arrivals, matches losses with drop events, fills fates and summaries: a send
 * not delivered and dropped by no event, which arrived where the program was killed, is
 * TRACE_LOST_NODE_DOWN. 0 or -ENOMEM. */
int trace_analyse(struct trace_analysis *an);

const char *trace_fate_name(enum trace_fate f);
/* The spec of a generation, or NULL if that generation was not observed. */
const char *trace_generation_spec(const struct trace_analysis *an, uint64_t generation);
/* One line describing a sent frame: proto_describe for capnet, addresses and ports else. */
int trace_msg_describe(const struct trace_msg *m, char *buf, size_t len);
/* "2888=zab-quorum,2181=zk-client" added to out[*n] (TRACE_PORT_NAMES at most): 0, or -EINVAL
 * with why in err. */
int trace_port_names_parse(const char *text, struct trace_port_name *out, size_t *n, char *err,
			   size_t len);
/* Names every TCP and UDP frame from or to a named port (the source port first). */
void trace_name_ports(struct trace_analysis *an);
/* The message type: "APPEND", a port's name, "maelstrom", "tcp", "udp", "ip-proto-N". */
const char *trace_msg_type(const struct trace_msg *m, char *buf, size_t len);

#endif /* CAPNET_TRACE_PAIR_H */
