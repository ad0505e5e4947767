// SPDX-License-Identifier: GPL-2.0-only
/* The AP log's records: what replay accepts, where it stops, and which tails are torn writes
 * (cut) and which are corruption (refused). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/ap_log.h"

static uint8_t log_buf[8 * AP_LOG_RECORD_MAX];
static size_t seen[16], n_seen;

static int collect(void *arg, const struct dyn_write *w, size_t off)
{
	(void)arg;
	assert_true(w->len <= PROTO_MAX_PAYLOAD);
	seen[n_seen++] = off;
	return 0;
}

static size_t put(size_t at, uint8_t kind, const char *data)
{
	struct dyn_write w = { .kind = kind, .len = strlen(data) };

	memcpy(w.data, data, w.len);
	return at + ap_log_encode(log_buf + at, &w);
}

static void test_records_round_trip(void **state)
{
	struct ap_log_scan scan;
	size_t end;

	(void)state;
	n_seen = 0;
	end = put(0, DYN_WRITE_VERSION, "first");
	end = put(end, DYN_WRITE_HINT_DONE, "");
	end = put(end, DYN_WRITE_COUNTERS, "third one");
	assert_int_equal(ap_log_parse(log_buf, end, collect, NULL, &scan), 0);
	assert_int_equal(scan.records, 3);
	assert_int_equal(scan.good, end);
	assert_int_equal(scan.tail, 0);
	assert_int_equal(seen[0], 0);
	assert_int_equal(seen[1], AP_LOG_HDR + 5 + 4);
	assert_int_equal(seen[2], 2 * (AP_LOG_HDR + 4) + 5);
	/* An empty log is a valid one. */
	assert_int_equal(ap_log_parse(log_buf, 0, collect, NULL, &scan), 0);
	assert_int_equal(scan.records, 0);
}

static void test_torn_tail_is_cut(void **state)
{
	struct ap_log_scan scan;
	size_t first, end, cut;

	(void)state;
	first = put(0, DYN_WRITE_VERSION, "kept");
	end = put(first, DYN_WRITE_VERSION, "torn by a crash");
	for (cut = first + 1; cut < end; cut++) {
		n_seen = 0;
		assert_int_equal(ap_log_parse(log_buf, cut, collect, NULL, &scan), 0);
		assert_int_equal(scan.records, 1);
		assert_int_equal(scan.good, first);
		assert_int_equal(scan.tail, cut - first);
	}
}

static void test_bad_crc(void **state)
{
	struct ap_log_scan scan;
	size_t first, end;

	(void)state;
	first = put(0, DYN_WRITE_VERSION, "good");
	end = put(first, DYN_WRITE_VERSION, "flipped");
	/* The kind byte is covered by the CRC too. */
	log_buf[first + 4] ^= 1;
	assert_int_equal(ap_log_parse(log_buf, end, collect, NULL, &scan), 0);
	assert_int_equal(scan.records, 1);
	assert_int_equal(scan.tail, end - first);
}

static void test_corruption_before_valid_records(void **state)
{
	struct ap_log_scan scan;
	size_t end = 0;
	int i;

	(void)state;
	end = put(end, DYN_WRITE_VERSION, "good");
	for (i = 0; i < 4; i++)
		end = put(end, DYN_WRITE_VERSION,
			  "a record long enough that four of them outgrow one torn write "
			  "............................................................"
			  "............................................................"
			  "............................................................"
			  "............................................................");
	while (end < AP_LOG_HDR + 8 + 2 * AP_LOG_RECORD_MAX)
		end = put(end, DYN_WRITE_VERSION, "filler");
	log_buf[AP_LOG_HDR + 4 + AP_LOG_HDR + 10] ^= 0x80; /* inside the second record */
	assert_int_equal(ap_log_parse(log_buf, end, collect, NULL, &scan), -EBADMSG);
	assert_int_equal(scan.records, 1);
	assert_int_equal(scan.bad_at, AP_LOG_HDR + 4 + 4);
}

static void test_oversized_length(void **state)
{
	struct ap_log_scan scan;

	(void)state;
	memset(log_buf, 0xff, AP_LOG_HDR + 4);
	assert_int_equal(ap_log_parse(log_buf, AP_LOG_HDR + 4, collect, NULL, &scan), 0);
	assert_int_equal(scan.records, 0);
	assert_int_equal(scan.tail, AP_LOG_HDR + 4);
}

static int stop_at_second(void *arg, const struct dyn_write *w, size_t off)
{
	(void)w;
	(void)off;
	return ++*(int *)arg == 2 ? -ENOMEM : 0;
}

static void test_callback_error_stops(void **state)
{
	struct ap_log_scan scan;
	size_t end;
	int calls = 0;

	(void)state;
	end = put(0, DYN_WRITE_VERSION, "a");
	end = put(end, DYN_WRITE_VERSION, "b");
	end = put(end, DYN_WRITE_VERSION, "c");
	assert_int_equal(ap_log_parse(log_buf, end, stop_at_second, &calls, &scan), -ENOMEM);
	assert_int_equal(calls, 2);
	assert_int_equal(scan.records, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_round_trip),
		cmocka_unit_test(test_torn_tail_is_cut),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_corruption_before_valid_records),
		cmocka_unit_test(test_oversized_length),
		cmocka_unit_test(test_callback_error_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
