// SPDX-License-Identifier: GPL-2.0-only
/* Classic pcap files, read from a mapping: the global header tells the byte order and the
 * timestamp precision, then records follow back to back, each a 16-byte header and the frame. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "tools/captrace/pcap_reader.h"

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

static uint32_t get32(const struct pcap_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swapped ? __builtin_bswap32(v) : v;
}

static int parse_header(struct pcap_reader *r)
{
	uint32_t magic;
	uint16_t major;

	if (r->size < PCAP_READER_HDR_LEN) {
		snprintf(r->err, sizeof(r->err),
			 "%s: not a pcap file: %zu bytes, shorter than the 24-byte header", r->name,
			 r->size);
		return -EBADMSG;
	}
	memcpy(&magic, r->data, 4);
	if (magic == MAGIC_USEC || magic == MAGIC_NSEC) {
		r->swapped = false;
	} else if (__builtin_bswap32(magic) == MAGIC_USEC ||
		   __builtin_bswap32(magic) == MAGIC_NSEC) {
		r->swapped = true;
		magic = __builtin_bswap32(magic);
	} else {
		snprintf(r->err, sizeof(r->err),
			 "%s: not a pcap file (magic 0x%08x at offset 0; pcapng is not read: "
			 "convert with editcap -F pcap)",
			 r->name, magic);
		return -EBADMSG;
	}
	r->nano = magic == MAGIC_NSEC;
	memcpy(&major, r->data + 4, 2);
	if (r->swapped)
		major = __builtin_bswap16(major);
	if (major != 2) {
		snprintf(r->err, sizeof(r->err), "%s: pcap version %u at offset 4 is not 2",
			 r->name, major);
		return -EBADMSG;
	}
	r->snaplen = get32(r, r->data + 16);
	/* The upper bits of the link type field carry FCS flags in newer writers. */
	r->linktype = get32(r, r->data + 20) & 0x0fffffff;
	r->off = PCAP_READER_HDR_LEN;
	return 0;
}

int pcap_reader_open_mem(struct pcap_reader *r, const void *buf, size_t len, const char *name)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->data = buf;
	r->size = len;
	return parse_header(r);
}

int pcap_reader_open(struct pcap_reader *r, const char *path)
{
	struct stat st;
	void *map;
	int fd, err;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(r->err, sizeof(r->err), "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	r->size = st.st_size;
	if (r->size) {
		map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (map == MAP_FAILED) {
			err = -errno;
			snprintf(r->err, sizeof(r->err), "%s: mmap: %s", path, strerror(-err));
			close(fd);
			return err;
		}
		madvise(map, r->size, MADV_SEQUENTIAL);
		r->data = map;
		r->mapped = true;
	}
	close(fd);
	err = parse_header(r);
	if (err) {
		char saved[sizeof(r->err)];

		memcpy(saved, r->err, sizeof(saved));
		pcap_reader_close(r);
		memcpy(r->err, saved, sizeof(saved));
	}
	return err;
}

int pcap_reader_next(struct pcap_reader *r, struct pcap_packet *pkt)
{
	const uint8_t *h;
	uint32_t sec, frac, caplen, len;
	size_t left;

	if (r->off >= r->size)
		return 0;
	left = r->size - r->off;
	if (left < PCAP_READER_REC_LEN) {
		snprintf(r->err, sizeof(r->err),
			 "%s: truncated record header at offset %zu (%zu of 16 bytes, after %llu "
			 "packets)",
			 r->name, r->off, left, (unsigned long long)r->packets);
		return -ENODATA;
	}
	h = r->data + r->off;
	sec = get32(r, h);
	frac = get32(r, h + 4);
	caplen = get32(r, h + 8);
	len = get32(r, h + 12);
	if (frac >= (r->nano ? 1000000000u : 1000000u)) {
		snprintf(r->err, sizeof(r->err),
			 "%s: corrupt record at offset %zu: sub-second field %u out of range",
			 r->name, r->off, frac);
		return -EBADMSG;
	}
	if (caplen > PCAP_READER_MAX_CAPLEN || caplen > len) {
		snprintf(r->err, sizeof(r->err),
			 "%s: corrupt record at offset %zu: captured length %u (frame length %u)",
			 r->name, r->off, caplen, len);
		return -EBADMSG;
	}
	if (left - PCAP_READER_REC_LEN < caplen) {
		snprintf(r->err, sizeof(r->err),
			 "%s: truncated packet at offset %zu: %u bytes announced, %zu present",
			 r->name, r->off, caplen, left - PCAP_READER_REC_LEN);
		return -ENODATA;
	}
	pkt->ts_ns = (uint64_t)sec * 1000000000u + (r->nano ? frac : (uint64_t)frac * 1000u);
	pkt->caplen = caplen;
	pkt->len = len;
	pkt->data = h + PCAP_READER_REC_LEN;
	pkt->offset = r->off;
	r->off += PCAP_READER_REC_LEN + (size_t)caplen;
	r->packets++;
	return 1;
}

void pcap_reader_close(struct pcap_reader *r)
{
	if (!r)
		return;
	if (r->mapped && r->data)
		munmap((void *)r->data, r->size);
	r->data = NULL;
	r->size = 0;
	r->mapped = false;
}
