// SPDX-License-Identifier: GPL-2.0-only
/* captrace decode: the capnet messages in any pcap file, one line each, as tcpdump prints. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "tools/captrace/captrace_cli.h"
#include "tools/captrace/pcap_reader.h"
#include "lib/json.h"
#include "tools/captrace/trace_packet.h"

int captrace_decode(struct captrace_cli *cli, int argc, char **argv)
{
	struct pcap_reader r;
	struct pcap_packet pkt;
	unsigned long long shown = 0;
	const char *path = NULL;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			cli->json = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return report_usage(
				"decode: unknown option \"%s\" (captrace decode FILE.pcap)",
				argv[i]);
		else if (!path)
			path = argv[i];
		else
			return report_usage("decode: one file only (\"%s\" is extra)", argv[i]);
	}
	if (!path)
		return report_usage("decode: which file? (captrace decode FILE.pcap)");
	if (pcap_reader_open(&r, path))
		return report_fail("decode: %s", r.err);
	if (r.linktype != PCAP_LINKTYPE_ETHERNET) {
		pcap_reader_close(&r);
		return report_fail("decode: %s: link type %u is not Ethernet", path, r.linktype);
	}
	while ((rc = pcap_reader_next(&r, &pkt)) > 0) {
		struct trace_packet p;
		char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], desc[512], when[32];
		time_t sec = pkt.ts_ns / 1000000000u;
		struct tm tm;

		if (trace_packet_parse(pkt.data, pkt.caplen, &p) || !p.capnet)
			continue;
		inet_ntop(AF_INET, &p.saddr, src, sizeof(src));
		inet_ntop(AF_INET, &p.daddr, dst, sizeof(dst));
		proto_describe(p.payload, p.payload_len, desc, sizeof(desc));
		shown++;
		if (cli->json) {
			printf("{\"time_ns\":%llu,\"src\":\"%s:%u\",\"dst\":\"%s:%u\",\"type\":%u,"
			       "\"from\":%u,\"to\":%u,\"term\":%llu,\"msg_id\":%llu,\"length\":%u,"
			       "\"message\":",
			       (unsigned long long)pkt.ts_ns, src, p.sport, dst, p.dport,
			       p.hdr.type, p.hdr.from, p.hdr.to, (unsigned long long)p.hdr.term,
			       (unsigned long long)p.hdr.msg_id, p.payload_len);
			json_write_string(stdout, desc);
			puts("}");
		} else {
			gmtime_r(&sec, &tm);
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
			printf("%s.%09llu %s:%u > %s:%u %s\n", when,
			       (unsigned long long)(pkt.ts_ns % 1000000000u), src, p.sport, dst,
			       p.dport, desc);
		}
	}
	if (rc == -ENODATA) {
		/* A capture killed while writing its last packet: the rest is whole. */
		fflush(stdout);
		report_warn("decode: %s (the capture ended abruptly; all before it was decoded)",
			    r.err);
		rc = 0;
	}
	if (rc < 0) {
		fflush(stdout);
		report_fail("decode: %s", r.err);
		pcap_reader_close(&r);
		return EXIT_FAIL;
	}
	if (cli->verbose)
		fprintf(stderr, "captrace: %llu capnet messages in %llu packets\n", shown,
			(unsigned long long)r.packets);
	pcap_reader_close(&r);
	return EXIT_OK;
}
