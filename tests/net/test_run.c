// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of capnet run: the five-node split scenario passes with a linearizable history, a scenario
 * whose expectation is false fails naming its line, and a bad script is refused before
 * anything runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 20], dir[] = "/tmp/capnet-run-XXXXXX", repo[4096];

static int setup(void **state)
{
	(void)state;
	if (!getcwd(repo, sizeof(repo)) || !mkdtemp(dir))
		return -1;
	if (netlab_capnet(lab, out, sizeof(out), "up -n 5")) {
		printf("%s", out);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

static int write_script(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void test_seed_scenario_passes(void **state)
{
	int rc;

	(void)state;
	/* Run from a scratch directory: the history lands there. */
	rc = netlab_sh(out, sizeof(out),
		       "cd %s && %s --lab %s run %s/tools/scenarios/cp-split-minority-refuses.scn",
		       dir, getenv("CAPNET"), lab, repo);
	printf("%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "UNAVAILABLE: no quorum (2/5 reachable, 3 needed)"));
	assert_non_null(strstr(out, ": linearizable ("));
	assert_non_null(strstr(out, "scenario "));
	assert_non_null(strstr(out, ": PASS ("));
}

static void test_false_expectation_fails_at_its_line(void **state)
{
	int rc;

	(void)state;
	/* The replicas of the previous test are still running. */
	assert_int_equal(write_script("wrong.scn", "partition 1,2 3-5\n"
						   "sleep 1s\n"
						   "# the minority cannot accept a write:\n"
						   "expect-ok 1\n"
						   "heal\n"),
			 0);
	rc = netlab_sh(out, sizeof(out), "%s --lab %s run %s/wrong.scn", getenv("CAPNET"), lab,
		       dir);
	printf("%s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "FAIL at line 4: a write through node 1 was not accepted"));
	/* The run stopped there: the heal on line 5 never ran. */
	assert_null(strstr(out, "line 5: heal"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "heal"), 0);
}

static void test_bad_script_refused_before_running(void **state)
{
	int rc;

	(void)state;
	assert_int_equal(write_script("bad.scn", "partition 1 2,3\nat 2s frobnicate\n"), 0);
	rc = netlab_sh(out, sizeof(out), "%s --lab %s run %s/bad.scn", getenv("CAPNET"), lab, dir);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "bad.scn:2: unknown action \"frobnicate\""));
	/* Nothing ran: the partition of line 1 is not in force. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status --json"), 0);
	assert_non_null(strstr(out, "\"partition\":\"healthy\""));
	/* A script (a nemesis replay, say) drawn for a bigger lab: refused whole. */
	assert_int_equal(write_script("big.run", "partition 1 2,3\nat 1s kill -9 9\n"), 0);
	rc = netlab_sh(out, sizeof(out), "%s --lab %s run %s/big.run", getenv("CAPNET"), lab, dir);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "big.run:2: capnet kill"));
	assert_non_null(strstr(out, "nothing was run"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status --json"), 0);
	assert_non_null(strstr(out, "\"partition\":\"healthy\""));
}

/* A seeded nemesis: the same seed on the same lab draws the same schedule; the schedule it
 * writes, played by capnet run, makes the same faults in the same order; an unknown kind is
 * refused with the known ones before anything runs. */
static void test_nemesis_replays(void **state)
{
	char first[8192], second[8192], played[8192];
	int rc;

	(void)state;
	assert_int_equal(write_script("nem.run", "nemesis partition,cut,isolate,loss,delay "
						 "--interval 200ms --duration 2s --seed 11\n"
						 "status\n"),
			 0);
	for (int round = 0; round < 2; round++) {
		rc = netlab_sh(out, sizeof(out),
			       "cd %s && %s --lab %s run nem.run && grep -v '^#' nem.nemesis.run",
			       dir, getenv("CAPNET"), lab);
		printf("%s", out);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "nemesis: seed 11, 5 faults over 2.0 s"));
		rc = netlab_sh(round ? second : first, sizeof(first),
			       "cd %s && grep -v '^#' nem.nemesis.run", dir);
		assert_int_equal(rc, 0);
	}
	assert_string_equal(first, second);
	assert_non_null(strstr(first, "at 0.000s "));
	assert_non_null(strstr(first, "at 1.800s heal"));
	/* Played again: the same commands, in the same order. */
	rc = netlab_sh(
		played, sizeof(played),
		"cd %s && %s --lab %s run nem.nemesis.run | sed -n 's/^\\[.*\\] line [0-9]*: //p'",
		dir, getenv("CAPNET"), lab);
	assert_int_equal(rc, 0);
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s && grep -v '^#' nem.nemesis.run | sed 's/^at [0-9.]*s //'", dir),
		0);
	assert_string_equal(played, out);
	assert_int_equal(write_script("nem-bad.run", "nemesis partition,meteor --interval 1s\n"),
			 0);
	rc = netlab_sh(out, sizeof(out), "%s --lab %s run %s/nem-bad.run", getenv("CAPNET"), lab,
		       dir);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "unknown kind \"meteor\": one of partition, cut"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_scenario_passes),
		cmocka_unit_test(test_false_expectation_fails_at_its_line),
		cmocka_unit_test(test_bad_script_refused_before_running),
		cmocka_unit_test(test_nemesis_replays),
	};

	netlab_require_root("test_run");
	lab = netlab_unique_lab("tr");
	return cmocka_run_group_tests(tests, setup, teardown);
}
