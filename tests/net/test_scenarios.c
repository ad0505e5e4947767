// SPDX-License-Identifier: GPL-2.0-only
/* The real-system scenarios that ship in tools/scenarios, each run by `capnet run` in a fresh
 * 5-node lab, with the verdict each one states: etcd stays linearizable under random-halves
 * partitions; etcd's serializable reads go stale on a cut-off member; Redis with Sentinel loses
 * acknowledged adds when its primary is isolated. */
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

#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 20], dir[] = "/tmp/capnet-scn-XXXXXX", repo[4096];

static int setup(void **state)
{
	(void)state;
	return !getcwd(repo, sizeof(repo)) || !mkdtemp(dir) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_capnet(lab, out, sizeof(out), "down");
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return 0;
}

/* Runs tools/scenarios/NAME.scn in a fresh lab from the scratch directory; its exit status. */
static int run_scenario(const char *name)
{
	int rc;

	netlab_capnet(lab, out, sizeof(out), "down");
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n 5"), 0);
	rc = netlab_sh(out, sizeof(out), "cd %s && %s --lab %s run %s/tools/scenarios/%s.scn", dir,
		       getenv("CAPNET"), lab, repo, name);
	printf("%s", strlen(out) > 3000 ? out + strlen(out) - 3000 : out);
	return rc;
}

static void test_etcd_partitions_linearizable(void **state)
{
	char capctl[512];

	(void)state;
	assert_int_equal(run_scenario("etcd-partitions-linearizable"), 0);
	assert_non_null(strstr(out, "etcd-partitions-linearizable.jsonl: linearizable ("));
	assert_non_null(strstr(out, ": PASS ("));
	/* Exported as Jepsen's EDN, the run's faults are :nemesis operations, on the history's
	 * clock, naming the nodes the preset chose, and the EDN history gets the same verdict. */
	netlab_sibling("capctl", capctl, sizeof(capctl));
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s && %s history export etcd-partitions-linearizable.jsonl > "
			  "h.edn && grep -c ':process :nemesis' h.edn && "
			  "grep -m1 -E ':f :partition, :value \"[0-9,-]+ \\| [0-9,-]+\"' h.edn && "
			  "%s check --model register h.edn",
			  dir, capctl, capctl),
		0);
	printf("%s", out);
	/* partition, heal, partition, heal. */
	assert_int_equal(strtol(out, NULL, 10), 4);
	assert_non_null(strstr(out, "h.edn: linearizable ("));
}

static void test_etcd_serializable_stale(void **state)
{
	(void)state;
	assert_int_equal(run_scenario("etcd-serializable-stale"), 0);
	assert_non_null(strstr(out, "etcd-serializable-stale.jsonl: not linearizable"));
	assert_non_null(strstr(out, ": PASS ("));
}

static void test_redis_sentinel_lost_adds(void **state)
{
	const char *p;

	(void)state;
	assert_int_equal(run_scenario("redis-sentinel-lost-adds"), 0);
	assert_non_null(strstr(out, ": PASS ("));
	/* The count, from the checker itself. */
	{
		char capctl[512];

		netlab_sibling("capctl", capctl, sizeof(capctl));
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "%s check --model set %s/redis-sentinel-lost-adds.jsonl",
					   capctl, dir),
				 1);
	}
	p = strstr(out, "final read): ");
	assert_non_null(p);
	printf("lost: %ld\n", strtol(p + 13, NULL, 10));
	assert_true(strtol(p + 13, NULL, 10) > 0);
}

/* The clock scenario, and the same steps with the true clock as its control: the skew, and
 * nothing else, makes the later write the loser. */
static void test_ap_clock_skew(void **state)
{
	char control[600];

	(void)state;
	assert_int_equal(run_scenario("ap-clock-skew-lww"), 0);
	assert_non_null(strstr(out, ": PASS ("));
	assert_non_null(strstr(out, "lost writes: 1"));
	assert_non_null(strstr(out, "write \"second\" to \"k\" acknowledged, never read"));
	snprintf(control, sizeof(control), "%s/true-clock.scn", dir);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "grep -v '^clock' %s/tools/scenarios/ap-clock-skew-lww.scn > %s",
				   repo, control),
			 0);
	netlab_capnet(lab, out, sizeof(out), "down");
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n 5"), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "cd %s && %s --lab %s run %s", dir,
				   getenv("CAPNET"), lab, control),
			 1);
	printf("%s", out);
	assert_non_null(strstr(out, "found no lost write"));
	assert_non_null(strstr(out, "\nsecond\n"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etcd_partitions_linearizable),
		cmocka_unit_test(test_etcd_serializable_stale),
		cmocka_unit_test(test_redis_sentinel_lost_adds),
		cmocka_unit_test(test_ap_clock_skew),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("tq");
	return cmocka_run_group_tests(tests, setup, teardown);
}
