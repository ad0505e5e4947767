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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_scenario_passes),
		cmocka_unit_test(test_false_expectation_fails_at_its_line),
		cmocka_unit_test(test_bad_script_refused_before_running),
	};

	netlab_require_root("test_run");
	lab = netlab_unique_lab("tr");
	return cmocka_run_group_tests(tests, setup, teardown);
}
