// SPDX-License-Identifier: GPL-2.0-only
/* The pcap reader on files built here byte by byte: both precisions and byte orders, and every
 * kind of truncation and corruption, each refused with the offset where it was found. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/captrace/pcap_reader.h"

static uint8_t file[1 << 16];
static size_t flen;

static void put32(uint32_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	memcpy(file + flen, &v, 4);
	flen += 4;
}

static void put16(uint16_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap16(v);
	memcpy(file + flen, &v, 2);
	flen += 2;
}

static void header(bool nano, bool swap)
{
	flen = 0;
	put32(nano ? 0xa1b23c4du : 0xa1b2c3d4u, swap);
	put16(2, swap);
	put16(4, swap);
	put32(0, swap);
	put32(0, swap);
	put32(65535, swap);
	put32(1, swap);
}

static void record(uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len, bool swap)
{
	uint32_t i;

	put32(sec, swap);
	put32(frac, swap);
	put32(caplen, swap);
	put32(len, swap);
	for (i = 0; i < caplen; i++)
		file[flen++] = (uint8_t)(i + sec);
}

static void check_two_packets(bool nano, bool swap)
{
	struct pcap_reader r;
	struct pcap_packet p;

	header(nano, swap);
	record(100, nano ? 123456789 : 123456, 60, 60, swap);
	record(101, 5, 10, 1500, swap);
	assert_int_equal(pcap_reader_open_mem(&r, file, flen, "mem"), 0);
	assert_int_equal(r.nano, nano);
	assert_int_equal(r.swapped, swap);
	assert_int_equal(r.linktype, PCAP_LINKTYPE_ETHERNET);
	assert_int_equal(pcap_reader_next(&r, &p), 1);
	assert_int_equal(p.ts_ns, 100 * 1000000000ull + (nano ? 123456789 : 123456000));
	assert_int_equal(p.caplen, 60);
	assert_int_equal(p.data[59], (uint8_t)(59 + 100));
	assert_int_equal(p.offset, 24);
	assert_int_equal(pcap_reader_next(&r, &p), 1);
	assert_int_equal(p.ts_ns, 101 * 1000000000ull + (nano ? 5 : 5000));
	assert_int_equal(p.caplen, 10);
	assert_int_equal(p.len, 1500);
	assert_int_equal(pcap_reader_next(&r, &p), 0);
	assert_int_equal(pcap_reader_next(&r, &p), 0);
	assert_int_equal(r.packets, 2);
	pcap_reader_close(&r);
}

static void test_formats(void **state)
{
	(void)state;
	check_two_packets(false, false);
	check_two_packets(true, false);
	check_two_packets(false, true);
	check_two_packets(true, true);
}

static void expect_bad(const char *why)
{
	struct pcap_reader r;
	struct pcap_packet p;
	int rc;

	rc = pcap_reader_open_mem(&r, file, flen, "mem");
	if (!rc)
		while ((rc = pcap_reader_next(&r, &p)) > 0)
			;
	if (rc != -EBADMSG)
		fail_msg("accepted (%d), expected an error saying \"%s\"", rc, why);
	if (!strstr(r.err, why))
		fail_msg("error \"%s\" does not say \"%s\"", r.err, why);
	pcap_reader_close(&r);
}

/* A last record cut short is what a killed capture leaves: reported apart (-ENODATA) from
 * corruption, after every whole packet before it. */
static void expect_torn(const char *why, uint64_t whole)
{
	struct pcap_reader r;
	struct pcap_packet p;
	int rc;

	assert_int_equal(pcap_reader_open_mem(&r, file, flen, "mem"), 0);
	while ((rc = pcap_reader_next(&r, &p)) > 0)
		;
	if (rc != -ENODATA)
		fail_msg("got %d, expected a torn tail saying \"%s\"", rc, why);
	if (!strstr(r.err, why))
		fail_msg("error \"%s\" does not say \"%s\"", r.err, why);
	assert_int_equal(r.packets, whole);
	pcap_reader_close(&r);
}

static void test_bad(void **state)
{
	(void)state;
	flen = 10;
	memset(file, 0, flen);
	expect_bad("shorter than the 24-byte header");

	header(false, false);
	file[0] = 0x0a; /* pcapng's section header starts 0a 0d 0d 0a */
	expect_bad("not a pcap file (magic");

	header(false, false);
	file[4] = 3;
	expect_bad("pcap version 3 at offset 4");

	header(false, false);
	record(1, 2, 20, 20, false);
	flen -= 5;
	expect_torn("truncated packet at offset 24: 20 bytes announced, 15 present", 0);

	header(false, false);
	record(1, 2, 20, 20, false);
	record(1, 3, 20, 20, false);
	flen = 24 + 36 + 7;
	expect_torn("truncated record header at offset 60 (7 of 16 bytes", 1);

	header(false, false);
	record(1, 2, 0, 0, false);
	memcpy(file + 24 + 8, "\xff\xff\xff\x7f", 4);
	expect_bad("corrupt record at offset 24: captured length 2147483647");

	header(false, false);
	record(1, 1000000, 4, 4, false);
	expect_bad("sub-second field 1000000 out of range");

	header(true, false);
	record(1, 999999999, 4, 4, false);
	record(1, 2, 8, 4, false);
	expect_bad("corrupt record at offset 44: captured length 8 (frame length 4)");
}

static void test_files(void **state)
{
	char path[] = "/tmp/test-pcap-XXXXXX";
	struct pcap_reader r;
	struct pcap_packet p;
	int fd;

	(void)state;
	assert_int_equal(pcap_reader_open(&r, "/nonexistent/x.pcap"), -ENOENT);
	assert_non_null(strstr(r.err, "/nonexistent/x.pcap: No such file"));
	pcap_reader_close(&r);
	assert_int_equal(pcap_reader_open(&r, "/tmp"), -EINVAL);
	assert_non_null(strstr(r.err, "not a regular file"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	/* An empty file is not a pcap. */
	assert_int_equal(pcap_reader_open(&r, path), -EBADMSG);
	assert_non_null(strstr(r.err, "0 bytes"));
	header(true, false);
	record(7, 8, 100, 100, false);
	assert_int_equal(write(fd, file, flen), (ssize_t)flen);
	close(fd);
	assert_int_equal(pcap_reader_open(&r, path), 0);
	assert_int_equal(pcap_reader_next(&r, &p), 1);
	assert_int_equal(p.ts_ns, 7000000008ull);
	assert_int_equal(pcap_reader_next(&r, &p), 0);
	pcap_reader_close(&r);
	pcap_reader_close(NULL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
