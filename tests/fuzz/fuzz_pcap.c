// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness for the pcap reader and what report does with each frame: any bytes must
 * give packets within the buffer or a clear error, never a read out of bounds. */
// fuzz-sources: tools/captrace/pcap_reader.c tools/captrace/trace_packet.c tools/captrace/trace_pair.c netem/maelstrom/wire.c node/proto.c node/crc32c.c lib/ip_proto.c
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/captrace/pcap_reader.h"
#include "tools/captrace/trace_pair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_analysis an;
	struct pcap_reader r;
	struct pcap_packet p;
	unsigned int node = 1;
	int rc;

	if (pcap_reader_open_mem(&r, data, size, "fuzz"))
		return 0;
	trace_analysis_init(&an, 4);
	while ((rc = pcap_reader_next(&r, &p)) > 0) {
		if (p.data < data || p.data + p.caplen > data + size)
			abort();
		/* Alternate captures so both sends and arrivals happen. */
		trace_add_frame(&an, node, p.ts_ns, p.data, p.caplen);
		node = node % 4 + 1;
	}
	if (rc < 0 && !r.err[0])
		abort();
	trace_analyse(&an);
	trace_analysis_free(&an);
	pcap_reader_close(&r);
	return 0;
}
