// SPDX-License-Identifier: GPL-2.0-only
/* A host clock's offset bound: chrony's tracking line read into a bound, and round trips whose
 * intersection bounds the offset whatever the delays each way. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netem/hosts/clock_bound.h"

static void test_chrony_line(void **state)
{
	uint64_t bound = 0;

	(void)state;
	/* |offset| 4.315 us + dispersion 29.493 us + delay 1 ns / 2 */
	assert_int_equal(clock_bound_chrony("50484330,PHC0,1,1709727533.139866748,0.000004315,"
					    "-0.000003372,0.000002759,1.274,-0.005,0.161,"
					    "0.000000001,0.000029493,8.0,Normal\n",
					    &bound),
			 0);
	assert_int_equal(bound, 33809);
	/* A slow clock counts as much as a fast one; a name-less refid leaves a field empty. */
	assert_int_equal(clock_bound_chrony("C0A80101,,3,1709727533.1,-0.001000000,0,0,0,0,0,"
					    "0.002000000,0.000500000,64.0,Normal",
					    &bound),
			 0);
	assert_int_equal(bound, 2500000);
	assert_int_equal(clock_bound_chrony("00000000,,0,0.0,0.0,0,0,0,0,0,0.0,0.0,0.0,"
					    "Not synchronised",
					    &bound),
			 -ENODATA);
	assert_int_equal(clock_bound_chrony("506 Cannot talk to daemon", &bound), -EINVAL);
	assert_int_equal(clock_bound_chrony("C0A80101,,3,1.1,x,0,0,0,0,0,0.1,0.1,64.0,Normal",
					    &bound),
			 -EINVAL);
	assert_int_equal(clock_bound_chrony("C0A80101,,3,1.1,0,0,0,0,0,0,-0.1,0.1,64.0,Normal",
					    &bound),
			 -EINVAL);
	assert_int_equal(clock_bound_chrony("C0A80101,,3,1.1,0,0,0,0,0,0,0.1,0.1,64.0,Normal,x",
					    &bound),
			 -EINVAL);
}

/* The host's clock 5000 ns ahead; round trips of 1000 and 400 ns, their delays lopsided. */
static void test_samples_bound_the_offset(void **state)
{
	const struct clock_sample s[] = {
		/* asked at 0, read on the host 900 ns later, back at 1000 */
		{ .sent = 0, .remote = 900 + 5000, .received = 1000 },
		/* asked at 2000, read at once, back at 2400 */
		{ .sent = 2000, .remote = 2000 + 5000, .received = 2400 },
	};
	int64_t offset;
	uint64_t bound;

	(void)state;
	assert_int_equal(clock_bound_samples(s, 2, &offset, &bound), 0);
	/* [4900, 5900] and [4600, 5000] meet in [4900, 5000], around the true 5000. */
	assert_true(offset - (int64_t)bound <= 5000 && 5000 <= offset + (int64_t)bound);
	assert_true(bound <= 400 / 2);
	assert_int_equal(offset, 4950);
	assert_int_equal(bound, 50);
	/* One sample alone: half its round trip. */
	assert_int_equal(clock_bound_samples(s, 1, &offset, &bound), 0);
	assert_int_equal(bound, 500);
	assert_int_equal(offset, 5400);
}

static void test_samples_that_disagree(void **state)
{
	/* The host's clock stepped by a second between the two. */
	const struct clock_sample s[] = {
		{ .sent = 0, .remote = 500, .received = 1000 },
		{ .sent = 2000, .remote = 1000002500, .received = 3000 },
	};
	int64_t offset;
	uint64_t bound;

	(void)state;
	assert_int_equal(clock_bound_samples(s, 2, &offset, &bound), -ERANGE);
	assert_int_equal(clock_bound_samples(s, 0, &offset, &bound), -EINVAL);
}

/* pmc's answer to GET TIME_STATUS_NP, as ptp4l gives it. */
static const char pmc_answer[] = "sending: GET TIME_STATUS_NP\n"
				 "\t0c42a1.fffe.6d7a38-0 seq 0 RESPONSE MANAGEMENT TIME_STATUS_NP\n"
				 "\t\tmaster_offset              -37\n"
				 "\t\tingress_time               1765100000123456789\n"
				 "\t\tcumulativeScaledRateOffset +0.000000000\n"
				 "\t\tgmPresent                  true\n"
				 "\t\tgmIdentity                 0c42a1.fffe.6d7a00\n";

static void test_pmc_answer(void **state)
{
	char text[sizeof(pmc_answer)];
	uint64_t bound = 0;

	(void)state;
	assert_int_equal(clock_bound_pmc(pmc_answer, &bound), 0);
	assert_int_equal(bound, 37);
	/* No grandmaster: ptp4l runs, but its clock follows nothing. */
	memcpy(text, pmc_answer, sizeof(text));
	memcpy(strstr(text, "true"), "fals", 4);
	assert_int_equal(clock_bound_pmc(text, &bound), -ENODATA);
	/* An offset that is not a number, and no answer at all (ptp4l not running). */
	memcpy(text, pmc_answer, sizeof(text));
	memcpy(strstr(text, "-37"), "abc", 3);
	assert_int_equal(clock_bound_pmc(text, &bound), -EINVAL);
	assert_int_equal(clock_bound_pmc("sending: GET TIME_STATUS_NP\n", &bound), -EINVAL);
	assert_int_equal(clock_bound_pmc("", &bound), -EINVAL);
	assert_string_equal(clock_source_name(CLOCK_SOURCE_PTP), "ptp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chrony_line),
		cmocka_unit_test(test_pmc_answer),
		cmocka_unit_test(test_samples_bound_the_offset),
		cmocka_unit_test(test_samples_that_disagree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
