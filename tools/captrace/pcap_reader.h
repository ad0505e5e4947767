/* SPDX-License-Identifier: GPL-2.0-only */
/* A reader for classic pcap files (microsecond and nanosecond magic, either byte order), over a
 * mapped file or a buffer: every record is bounds-checked, and a packet is a pointer into the
 * mapping, so reading costs no copy and no allocation per packet. */
#ifndef CAPNET_PCAP_READER_H
#define CAPNET_PCAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_READER_HDR_LEN 24
#define PCAP_READER_REC_LEN 16
/* No link layer carries frames this big; a larger length means a corrupt record. */
#define PCAP_READER_MAX_CAPLEN (256 * 1024)
#define PCAP_LINKTYPE_ETHERNET 1

struct pcap_reader {
	const uint8_t *data;
	size_t size;
	size_t off; /* of the next record */
	bool mapped;
	bool swapped; /* written in the other byte order */
	bool nano; /* timestamps in nanoseconds (magic 0xa1b23c4d) */
	uint32_t linktype;
	uint32_t snaplen;
	uint64_t packets; /* records returned so far */
	char name[256]; /* for error messages */
	char err[512]; /* why the last call failed: one line, with the file offset */
};

struct pcap_packet {
	uint64_t ts_ns; /* the record's timestamp, in nanoseconds whatever the file's precision */
	uint32_t caplen; /* bytes in data */
	uint32_t len; /* bytes the frame had on the wire */
	const uint8_t *data;
	size_t offset; /* of the record header in the file */
};

/* Maps a file and checks its header. -errno with r->err filled (r is usable for that even on
 * failure). */
int pcap_reader_open(struct pcap_reader *r, const char *path);
/* The same over a caller's buffer, which must outlive the reader. */
int pcap_reader_open_mem(struct pcap_reader *r, const void *buf, size_t len, const char *name);
/* 1 with *pkt filled, 0 at the end of the file, -EBADMSG (r->err says where and why) for a
 * corrupt record, -ENODATA for a last record cut short (a capture that was killed while writing
 * it: everything before it is whole). */
int pcap_reader_next(struct pcap_reader *r, struct pcap_packet *pkt);
void pcap_reader_close(struct pcap_reader *r);

#endif /* CAPNET_PCAP_READER_H */
