/* SPDX-License-Identifier: GPL-2.0-only */
/* captrace record on a lab across hosts: every host records its own nodes (a pcap per node on
 * its host, and that host's filter drop events and partitions), sends the recording back over
 * ssh when it is over, and the controller merges the hosts' recordings into one directory that
 * captrace report reads as any other, every time brought onto the controller's clocks. Each
 * host's own files stay under hosts/h<k>/. */
#ifndef CAPNET_TRACE_HOSTS_H
#define CAPNET_TRACE_HOSTS_H

#include "netem/hosts/hosts.h"
#include "tools/captrace/captrace_cli.h"

/* Records every host of lh into dir until Ctrl-C or duration seconds (0: no end). An exit
 * status, the failure said in one line naming the host. */
int trace_record_hosts(struct captrace_cli *cli, const struct lab_hosts *lh, const char *dir,
		       double duration);

/* A host's share says "capnet-trace-started\n" on fd once every capture of it is active. */
void trace_share_started(int fd);
/* A host's share, once its recording is over: every file of dir written to fd, each as
 * "capnet-trace-file NAME SIZE\n" and its bytes, then "capnet-trace-end\n". 0 or -errno. */
int trace_share_send(const char *dir, int fd);
/* Removes a share's recording directory and its files. */
void trace_share_remove(const char *dir);

#endif /* CAPNET_TRACE_HOSTS_H */
