/* SPDX-License-Identifier: GPL-2.0-only */
/* A recording directory, as captrace record writes it and captrace report reads it:
 *   meta.json         the lab, its nodes, and both clocks at start, stop and end
 *   n<i>.pcap         what node i's eth0 saw (nanosecond pcap, CLOCK_REALTIME stamps)
 *   drops.jsonl       one filter drop event per line (CLOCK_MONOTONIC time)
 *   partitions.jsonl  one line per partition generation observed (CLOCK_MONOTONIC flip time)
 * docs/captrace.md describes every field. */
#ifndef CAPNET_TRACE_DIR_H
#define CAPNET_TRACE_DIR_H

#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "bpf/partition.h"
#include "tools/captrace/pcap_reader.h"
#include "tools/captrace/trace_pair.h"

#define TRACE_META "meta.json"
#define TRACE_DROPS "drops.jsonl"
#define TRACE_PARTITIONS "partitions.jsonl"
#define TRACE_FORMAT_VERSION 1
/* The hosts a recording across hosts lists at most (as many as a lab spans). */
#define TRACE_HOSTS_MAX 64

struct trace_meta {
	char lab[64];
	char subnet[32];
	unsigned int nodes;
	/* start: every capture is active; stop: the end was asked for (frames sent after it are
	 * not judged); end: the captures closed, a moment after stop so that arrivals of the
	 * last sends are in. */
	uint64_t start_realtime_ns, start_monotonic_ns;
	uint64_t stop_realtime_ns, stop_monotonic_ns;
	uint64_t end_realtime_ns, end_monotonic_ns;
	uint64_t ring_overflow; /* drop events the filter could not queue during the capture */
	uint64_t pcap_dropped; /* packets libpcap reported dropped, all nodes */
	bool complete; /* false: the recorder ended early (killed); stop is its last update */
	/* An adopted lab's: each node's own MAC (capnet's labs number theirs). */
	bool has_macs;
	uint8_t mac[CAPNET_MAX_NODES + 1][6];
	/* A recording across hosts: each host, and which holds each node (its filter judges the
	 * frames to that node); n_hosts 0 on one host. */
	unsigned int n_hosts;
	char host[TRACE_HOSTS_MAX][128];
	uint8_t host_of[CAPNET_MAX_NODES + 1];
};

static inline int64_t trace_meta_offset(const struct trace_meta *m)
{
	return (int64_t)(m->start_realtime_ns - m->start_monotonic_ns);
}

/* "n<i>.pcap" */
void trace_pcap_name(unsigned int node, char *buf, size_t len);

int trace_meta_parse(const char *text, struct trace_meta *m, char *err, size_t errlen);
void trace_drop_write(FILE *f, const struct capnet_drop_event *ev);
int trace_drop_parse(const char *line, struct capnet_drop_event *ev);
/* impairments: "" or "1->2 loss 30%, 2->1 dup 1%" (links, as capnet link set them). */
void trace_partition_write(FILE *f, uint64_t generation, uint64_t flip_ns, uint64_t seen_ns,
			   const char *spec, const char *impairments);
/* impairments is optional in the file ("" when absent). */
int trace_partition_parse(const char *line, uint64_t *generation, uint64_t *flip_ns, char *spec,
			  size_t speclen, char *impairments, size_t implen);

/* An opened recording: its pcaps stay mapped while the analysis points into them. */
struct trace_dir {
	struct trace_meta meta;
	struct pcap_reader *pcaps; /* [node - 1] */
	unsigned int npcaps;
	uint64_t packets, bytes;
	uint64_t read_ns; /* time spent reading the pcaps */
	unsigned int torn; /* pcaps that end in a packet cut short (written when it was killed) */
	char warning[512]; /* the first of them, said */
	/* Set by the caller before trace_dir_load: told every 4096 packets, for a progress line. */
	void (*reading)(unsigned int node, unsigned int nodes, uint64_t bytes, void *arg);
	void *reading_arg;
};

/* Reads a recording into `an` (initialised here for the lab's nodes). On failure err says
 * which file and where; the caller still calls trace_dir_close. */
int trace_dir_load(const char *dir, struct trace_dir *td, struct trace_analysis *an, char *err,
		   size_t errlen);
void trace_dir_close(struct trace_dir *td);

#endif /* CAPNET_TRACE_DIR_H */
