// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of capnet clock in a real 2-node lab: a program started with capnet start sees
 * its node's wall clock moved (date in it), and only that node's; the rate, the strobe and
 * the reset do what they say; the monotonic clock and sleeps are left alone; bad input and a
 * node without a service are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/monotonic.h"
#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 16];

#define capnet(...) netlab_capnet_checked(lab, out, sizeof(out), __VA_ARGS__)

static double true_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Complete lines in the log at path, the last one into last. */
static unsigned int log_lines(const char *path, char *last, size_t len)
{
	char line[256];
	unsigned int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strchr(line, '\n')) {
			snprintf(last, len, "%s", line);
			n++;
		}
	fclose(f);
	return n;
}

/* The service `name` on node i logs "<wall> <monotonic>" as it reads them, a line every 100 ms:
 * a reading taken after this call began, however long the service takes to write it. The line
 * being written when we look may hold readings from before; the one after it cannot. */
static void next_reading(const char *name, unsigned int node, double *wall, double *mono)
{
	char path[256], last[256] = "";
	unsigned int before;
	long long limit = monotonic_ms() + 60 * 1000;

	snprintf(path, sizeof(path), "/run/capnet/%s/svc/%s/n%u.log", lab, name, node);
	before = log_lines(path, last, sizeof(last));
	while (log_lines(path, last, sizeof(last)) < before + 2 && monotonic_ms() < limit)
		usleep(20 * 1000);
	assert_int_equal(sscanf(last, "%lf %lf", wall, mono), 2);
}

static double boottime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How far node i's wall clock is from the true one, at the moment the tick service read it:
 * its uptime (CLOCK_BOOTTIME, which no fake clock moves) says how long ago that was, so the
 * answer does not depend on how late we read the line. */
static double skew(unsigned int node)
{
	double wall, uptime;

	next_reading("tick", node, &wall, &uptime);
	return wall - (true_now() - (boottime_now() - uptime));
}

static int setup(void **state)
{
	(void)state;
	if (netlab_capnet(lab, out, sizeof(out), "up -n 2") != 0) {
		printf("capnet up failed:\n%s", out);
		return -1;
	}
	/* Refused before any service runs: a clock fault reaches only capnet's services. */
	if (netlab_capnet(lab, out, sizeof(out), "clock 1 --offset +60m") != 1 ||
	    !strstr(out, "runs no service that capnet started")) {
		printf("clock on a node without services: %s", out);
		return -1;
	}
	/* date, a new process each time, reads the clock as any program would; the shell's
	 * sleep and Python's (an absolute monotonic sleep) must keep working. */
	if (netlab_capnet(lab, out, sizeof(out),
			  "start --name tick --clock -- sh -c 'while :; do echo $(date +%%s.%%N) "
			  "$(cut -d\" \" -f1 /proc/uptime); sleep 0.1; done'") ||
	    netlab_capnet(lab, out, sizeof(out),
			  "start 1 --name py --clock -- python3 -c 'import time\nwhile True:\n"
			  "  print(time.time(), time.monotonic(), flush=True); time.sleep(0.1)'")) {
		printf("capnet start failed:\n%s", out);
		return -1;
	}
	/* A program started without --clock is not preloaded, and the clock says so. */
	if (netlab_capnet(lab, out, sizeof(out), "start 2 --name plain -- sleep 1000") ||
	    netlab_capnet(lab, out, sizeof(out), "clock 2 --offset 5s") != 1 ||
	    !strstr(out, "plain on node 2 was started without --clock") ||
	    netlab_capnet(lab, out, sizeof(out), "stop 2 --name plain")) {
		printf("a service without --clock: %s", out);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

static int reset(void **state)
{
	(void)state;
	return capnet("clock all --reset");
}

static void test_offset(void **state)
{
	double before_wall, before_mono, wall, mono;

	(void)state;
	assert_true(skew(1) < 0.5 && skew(1) > -0.5);
	next_reading("py", 1, &before_wall, &before_mono);
	assert_int_equal(capnet("clock 1 --offset +3600s"), 0);
	assert_non_null(strstr(out, "clock of node 1: +3600 s"));
	/* Once capnet clock returns, the skew holds: every reading is an hour ahead. */
	printf("node 1 is %.3f s ahead, node 2 %.3f s\n", skew(1), skew(2));
	assert_true(skew(1) > 3599.5 && skew(1) < 3600.5);
	assert_true(skew(2) < 0.5 && skew(2) > -0.5);
	/* Python's monotonic clock did not jump, and its sleeps still return. */
	next_reading("py", 1, &wall, &mono);
	assert_true(wall - before_wall > 3599);
	assert_true(mono - before_mono < 10);
	assert_int_equal(capnet("status"), 0);
	assert_non_null(strstr(out, "clock of node 1: +3600 s"));
	/* Behind, too. */
	assert_int_equal(capnet("clock 1 --offset -90s"), 0);
	assert_true(skew(1) > -90.5 && skew(1) < -89.5);
	assert_int_equal(capnet("clock 1 --reset"), 0);
	assert_true(skew(1) < 0.5 && skew(1) > -0.5);
	assert_int_equal(capnet("status --json"), 0);
	assert_non_null(strstr(out, "\"clocks\":[]"));
}

static void test_rate(void **state)
{
	double wall_a, up_a, wall_b, up_b, rate;

	(void)state;
	assert_int_equal(capnet("clock 2 --rate 3"), 0);
	next_reading("tick", 2, &wall_a, &up_a);
	sleep(3);
	next_reading("tick", 2, &wall_b, &up_b);
	/* Triple speed: the node's clock gains two seconds in every true one, however long the
	 * readings took to come (the uptime beside each says when it was taken). */
	rate = (wall_b - wall_a) / (up_b - up_a);
	printf("rate 3: %.3f s on node 2's clock in %.3f true s (x%.2f)\n", wall_b - wall_a,
	       up_b - up_a, rate);
	assert_true(up_b - up_a >= 2.9);
	assert_true(rate > 2.5 && rate < 3.5);
	/* Back to the true rate and time. */
	assert_int_equal(capnet("clock 2 --reset"), 0);
	assert_true(skew(2) < 0.5 && skew(2) > -0.5);
}

static void test_strobe(void **state)
{
	unsigned int i, high = 0, low = 0;

	(void)state;
	assert_int_equal(capnet("clock 1 --strobe +50s,1s"), 0);
	for (i = 0; i < 8; i++) {
		double s = skew(1);

		if (s > 49 && s < 51)
			high++;
		else if (s > -1 && s < 1)
			low++;
		usleep(200 * 1000);
	}
	printf("strobe: %u readings 50 s ahead, %u on time\n", high, low);
	assert_true(high >= 2 && low >= 2);
	assert_int_equal(high + low, 8);
	assert_int_equal(capnet("status"), 0);
	assert_non_null(strstr(out, "strobe +50 s every 1 s"));
	assert_int_equal(capnet("clock 1 --reset"), 0);
	for (i = 0; i < 4; i++)
		assert_true(skew(1) > -0.5 && skew(1) < 0.5);
}

static void test_bad_input(void **state)
{
	static const char *const bad_usage[] = {
		"clock 1",
		"clock 1 --offset",
		"clock 1 --offset soon",
		"clock 1 --rate 0",
		"clock 1 --rate 1000",
		"clock 1 --strobe 5s,100ms",
		"clock 1 --offset 1s --rate 2",
		"clock 3 --offset 1s",
		"clock 0 --reset",
	};

	(void)state;
	assert_int_equal(netlab_expect_usage_errors(lab, bad_usage,
						    sizeof(bad_usage) / sizeof(bad_usage[0])),
			 0);
	/* Nothing moved. */
	assert_true(skew(1) > -0.5 && skew(1) < 0.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_offset, reset),
		cmocka_unit_test_setup(test_rate, reset),
		cmocka_unit_test_setup(test_strobe, reset),
		cmocka_unit_test_setup(test_bad_input, reset),
	};

	netlab_require_root("test_clock");
	lab = netlab_unique_lab("tk");
	return cmocka_run_group_tests(tests, setup, teardown);
}
