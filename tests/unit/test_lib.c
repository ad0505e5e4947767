// SPDX-License-Identifier: GPL-2.0-only
/* lib/: the one duration syntax, the one seeded generator every program shares, and the tail of
 * a log that says what a program said last. */
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

#include "lib/duration.h"
#include "lib/dynlib.h"
#include "lib/files.h"
#include "lib/json.h"
#include "lib/options.h"
#include "lib/report.h"
#include "lib/rng.h"

static void test_duration_units(void **state)
{
	uint64_t ns;

	(void)state;
	assert_int_equal(duration_parse_ns("10", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 10000000000ull);
	assert_int_equal(duration_parse_ns("2.5s", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 2500000000ull);
	assert_int_equal(duration_parse_ns("300ms", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 300000000ull);
	assert_int_equal(duration_parse_ns("2m", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 120000000000ull);
	assert_int_equal(duration_parse_ns("250us", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 250000ull);
	assert_int_equal(duration_parse_ns("7ns", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 7);
	assert_int_equal(duration_parse_ns("100NS", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 100);
	assert_int_equal(duration_parse_ns(".5s", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 500000000ull);
	assert_int_equal(duration_parse_ns("1.5ns", DURATION_BARE_SECONDS, &ns), 0);
	assert_true(ns == 2); /* rounded to the nearest nanosecond */
}

static void test_duration_bare_numbers(void **state)
{
	uint64_t ns = 1;

	(void)state;
	assert_int_equal(duration_parse_ns("20", DURATION_UNIT_REQUIRED, &ns), -EINVAL);
	assert_int_equal(duration_parse_ns("0", DURATION_UNIT_REQUIRED, &ns), 0);
	assert_true(ns == 0);
	assert_int_equal(duration_parse_ns("0.0", DURATION_UNIT_REQUIRED, &ns), 0);
	assert_int_equal(duration_parse_ns("20ms", DURATION_UNIT_REQUIRED, &ns), 0);
	assert_true(ns == 20000000ull);
}

static void test_duration_refusals(void **state)
{
	static const char *const bad[] = {
		"",	"s",	 "-1s",	  "+1s",   " 1s", "1s ", "5 ms", "5min", "1e3ms", "0x10s",
		"infs", "nanms", "1..2s", "1.2.3", ".s",  "1h",	 "1sec", "1S ",	 "ms",
	};
	uint64_t ns;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(duration_parse_ns(bad[i], DURATION_BARE_SECONDS, &ns), -EINVAL);
	assert_int_equal(duration_parse_ns(NULL, DURATION_BARE_SECONDS, &ns), -EINVAL);
	assert_int_equal(duration_parse_ns("99999999999999m", DURATION_BARE_SECONDS, &ns), -ERANGE);
	assert_int_equal(duration_parse_ns("1234567890123456789012345678901234s",
					   DURATION_BARE_SECONDS, &ns),
			 -ERANGE);
}

/* The published splitmix64 stream from seed 0: a changed generator would change every seeded
 * simulation, preset and workload, so the stream itself is pinned. */
static void test_rng_stream(void **state)
{
	uint64_t s = 0;

	(void)state;
	assert_true(rng_next(&s) == 0xe220a8397b1dcdafull);
	assert_true(rng_next(&s) == 0x6e789e6aa1b965f4ull);
	assert_true(rng_next(&s) == 0x06c45d188009454full);
	assert_true(rng_mix64(0) == 0xe220a8397b1dcdafull);
}

/* Every program parses its global options here, so every program refuses a bad lab name before
 * the name reaches a path (../netns/x would name a file outside the lab's directories). */
static void test_options_lab_names(void **state)
{
	static const char *const bad[] = { "../netns/x",
					   "a/b",
					   "",
					   "-x",
					   ".hidden",
					   "x.y",
					   "name with space",
					   "a-name-that-is-far-too-long-for-a-lab-x" };
	struct global_opts g;
	char err[160];
	size_t i;
	int next;

	(void)state;
	unsetenv("CAPNET_LAB");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "prog", "--lab", (char *)bad[i], "status", NULL };

		assert_int_equal(options_parse_globals(4, argv, false, NULL, &g, &next, err,
						       sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "lab name"));
	}
	{
		char *argv[] = { "prog", "--lab=lab-1b_2", "-j", "status", NULL };

		assert_int_equal(options_parse_globals(4, argv, false, NULL, &g, &next, err,
						       sizeof(err)),
				 OPTIONS_OK);
		assert_string_equal(g.lab, "lab-1b_2");
		assert_true(g.json);
		assert_int_equal(next, 3);
	}
	setenv("CAPNET_LAB", "../x", 1);
	{
		char *argv[] = { "prog", "status", NULL };

		assert_int_equal(options_parse_globals(2, argv, false, NULL, &g, &next, err,
						       sizeof(err)),
				 -EINVAL);
	}
	unsetenv("CAPNET_LAB");
}

static const char *bytes_json(const void *p, size_t n)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	json_write_bytes(f, p, n);
	fclose(f);
	return buf;
}

/* Text is a string; bytes that are not text are an object, never a string that looks like
 * characters. */
static void test_json_bytes(void **state)
{
	(void)state;
	assert_string_equal(bytes_json("abc", 3), "\"abc\"");
	assert_string_equal(bytes_json("\xc3\xa9t\xc3\xa9", 5), "\"\xc3\xa9t\xc3\xa9\"");
	assert_string_equal(bytes_json("a\"b\\c\nd\x01", 8), "\"a\\\"b\\\\c\\nd\\u0001\"");
	assert_string_equal(bytes_json("\xe9", 1), "{\"hex\":\"e9\"}");
	assert_string_equal(bytes_json("a\0b", 3), "{\"hex\":\"610062\"}");
	/* Overlong, surrogate, past U+10FFFF, cut short: not UTF-8. */
	assert_false(json_utf8_valid((const uint8_t *)"\xc0\xaf", 2));
	assert_false(json_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
	assert_false(json_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_false(json_utf8_valid((const uint8_t *)"\xe2\x82", 2));
	assert_true(json_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
	/* What is written reads back as the same text. */
	{
		struct json_value v;
		const char *text = bytes_json("\xc3\xa9\t\"", 4);

		assert_int_equal(json_parse(text, strlen(text), 4, &v, NULL), 0);
		assert_int_equal(v.kind, JSON_STRING);
		assert_string_equal(v.str, "\xc3\xa9\t\"");
		json_value_free(&v);
	}
}

/* A library loads by soname with every function asked for; a missing one, or a missing
 * function, is one error naming the Debian package, and leaves no slot half filled. */
static void test_dynlib_load(void **state)
{
	size_t (*len)(const char *) = NULL;
	int (*absent)(void) = NULL;
	const struct dynlib_symbol good[] = { { "strlen", (void **)&len } };
	const struct dynlib_symbol bad[] = { { "strlen", (void **)&len },
					     { "capnet_no_such_function", (void **)&absent } };

	(void)state;
	assert_int_equal(dynlib_load("libc.so.6", "libc6", good, 1), 0);
	assert_non_null(len);
	assert_int_equal(len("four"), 4);

	len = NULL;
	assert_int_equal(dynlib_load("libc.so.6", "libc6", bad, 2), -ENOENT);
	assert_null(len);
	assert_null(absent);
	assert_non_null(strstr(error_message(), "capnet_no_such_function"));
	error_clear();

	assert_int_equal(dynlib_load("libcapnet-absent.so.9", "libcapnet-absent9", good, 1),
			 -ENOENT);
	assert_non_null(strstr(error_message(), "install Debian's libcapnet-absent9"));
	error_clear();
}

/* What a program said last, in this run: not the lines an earlier run left in the same log,
 * and whole lines when the tail is cut. */
static void test_read_tail_of_this_run(void **state)
{
	char path[] = "/tmp/capnet-tail-XXXXXX", buf[64];
	const char *old = "earlier run: node up, recovered\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(files_write_all(fd, old, strlen(old)), 0);
	files_read_tail_from(path, (off_t)strlen(old), buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(files_write_all(fd, "corrupt log\n", 12), 0);
	files_read_tail_from(path, (off_t)strlen(old), buf, sizeof(buf));
	assert_string_equal(buf, "corrupt log");
	files_read_tail(path, buf, 20);
	assert_string_equal(buf, "corrupt log");
	files_read_tail(path, buf, sizeof(buf));
	assert_string_equal(buf, "earlier run: node up, recovered\ncorrupt log");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_bare_numbers),
		cmocka_unit_test(test_duration_refusals),
		cmocka_unit_test(test_rng_stream),
		cmocka_unit_test(test_options_lab_names),
		cmocka_unit_test(test_json_bytes),
		cmocka_unit_test(test_dynlib_load),
		cmocka_unit_test(test_read_tail_of_this_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
