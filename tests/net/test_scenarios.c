// SPDX-License-Identifier: GPL-2.0-only
/* The real-system scenarios that ship in tools/scenarios, each run by `capnet run` in a fresh
 * lab (5 nodes; 3 for ZooKeeper and PostgreSQL), with the verdict each one states: etcd stays
 * linearizable under random-halves partitions; etcd's serializable reads go stale on a cut-off
 * member; Redis with Sentinel loses acknowledged adds when its primary is isolated, and leaves
 * two primaries whose final reads diverge when no sentinel is left to demote the old one;
 * ZooKeeper with sync reads stays linearizable, its plain reads on a cut-off follower go stale;
 * PostgreSQL loses acknowledged inserts in a failover with asynchronous replication, and none
 * with a synchronous standby. */
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

/* Runs tools/scenarios/NAME.scn in a fresh lab of `nodes` nodes from the scratch directory; its
 * exit status. */
static int run_scenario_in(const char *name, unsigned int nodes)
{
	int rc;

	netlab_capnet(lab, out, sizeof(out), "down");
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n %u", nodes), 0);
	rc = netlab_sh(out, sizeof(out), "cd %s && %s --lab %s run %s/tools/scenarios/%s.scn", dir,
		       getenv("CAPNET"), lab, repo, name);
	printf("%s", strlen(out) > 3000 ? out + strlen(out) - 3000 : out);
	return rc;
}

static int run_scenario(const char *name)
{
	return run_scenario_in(name, 5);
}

/* How many lines of the scratch directory's FILE match the extended regular expression re. */
static long count_lines(const char *file, const char *re)
{
	netlab_sh(out, sizeof(out), "grep -cE '%s' %s/%s", re, dir, file);
	return strtol(out, NULL, 10);
}

/* ZooKeeper through kazoo, reads after sync: linearizable under random partitions, and the
 * server cut off (node 1 in the first partition, 1 | 2,3) refuses its clients meanwhile. */
static void test_zookeeper_partitions_linearizable(void **state)
{
	(void)state;
	assert_int_equal(run_scenario_in("zookeeper-partitions-linearizable", 3), 0);
	assert_non_null(strstr(out, "zookeeper-partitions-linearizable.jsonl: linearizable ("));
	assert_non_null(strstr(out, ": PASS ("));
	assert_true(count_lines("zookeeper-partitions-linearizable.jsonl",
				"\"type\":\"(fail|info)\".*\"node\":1[,}]") > 0);
	assert_true(count_lines("zookeeper-partitions-linearizable.jsonl",
				"\"type\":\"ok\",\"f\":\"write\"") > 0);
}

/* Plain reads (no sync) on a follower cut off within syncLimit: the stale read ZooKeeper
 * documents, and it is node 1's (the only node whose reads skip sync). */
static void test_zookeeper_follower_stale_reads(void **state)
{
	char capctl[512];

	(void)state;
	assert_int_equal(run_scenario_in("zookeeper-follower-stale-reads", 3), 0);
	assert_non_null(strstr(out, ": PASS ("));
	assert_non_null(strstr(out, "zookeeper-follower-stale-reads.jsonl: not linearizable"));
	/* The stale reads are node 1's plain ones: without node 1's operations (reads, and
	 * writes that failed unsent) the history is linearizable. Which operation the checker
	 * names first in its failing window is its search's choice, not the culprit. */
	netlab_sibling("capctl", capctl, sizeof(capctl));
	if (netlab_sh(out, sizeof(out),
		      "cd %s && grep -v '\"node\":1[,}]' zookeeper-follower-stale-reads.jsonl > "
		      "without-node-1.jsonl && %s check --model register without-node-1.jsonl",
		      dir, capctl))
		fail_msg("the reads after sync on nodes 2 and 3 are not linearizable: %s", out);
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

/* capctl check --model set on a history of the scratch directory: its exit status, its counts
 * of diverged and lost adds. */
static int check_set(const char *history, long *diverged, long *lost)
{
	char capctl[512];
	const char *p;
	int rc;

	netlab_sibling("capctl", capctl, sizeof(capctl));
	rc = netlab_sh(out, sizeof(out), "%s check --model set %s/%s", capctl, dir, history);
	printf("%s", out);
	p = strstr(out, "final reads): ");
	assert_non_null(p);
	*diverged = strtol(p + 14, NULL, 10);
	p = strstr(p, " diverged, ");
	assert_non_null(p);
	*lost = strtol(p + 11, NULL, 10);
	return rc;
}

/* PostgreSQL, asynchronous streaming replication: node 1, the primary, cut off and a standby
 * promoted; what node 1 acknowledged alone is lost, and the checker counts it. */
static void test_postgres_async_lost_inserts(void **state)
{
	long diverged, lost;

	(void)state;
	assert_int_equal(run_scenario_in("postgres-async-lost-inserts", 3), 0);
	assert_non_null(strstr(out, ": PASS ("));
	assert_int_equal(check_set("postgres-async-lost-inserts.jsonl", &diverged, &lost), 1);
	printf("diverged: %ld, lost: %ld\n", diverged, lost);
	assert_true(lost > 0);
}

/* The same with node 2 a synchronous standby: the cut-off primary's inserts wait (info), and
 * after node 2's promotion no acknowledged insert is missing. */
static void test_postgres_sync_no_loss(void **state)
{
	long diverged, lost;

	(void)state;
	assert_int_equal(run_scenario_in("postgres-sync-no-loss", 3), 0);
	assert_non_null(strstr(out, ": PASS ("));
	assert_int_equal(check_set("postgres-sync-no-loss.jsonl", &diverged, &lost), 0);
	assert_int_equal(lost, 0);
	assert_true(count_lines("postgres-sync-no-loss.jsonl",
				"\"type\":\"info\",\"f\":\"add\".*no answer within") > 0);
}

/* Sentinel fails over while node 1 is cut off with its clients, and demotes it after the heal
 * if it can in time: its adds are then lost; if not, two primaries disagree and the final reads
 * diverged. Invalid either way. */
static void test_redis_sentinel_lost_adds(void **state)
{
	long diverged, lost;

	(void)state;
	assert_int_equal(run_scenario("redis-sentinel-lost-adds"), 0);
	assert_non_null(strstr(out, ": PASS ("));
	assert_int_equal(check_set("redis-sentinel-lost-adds.jsonl", &diverged, &lost), 1);
	assert_non_null(strstr(out, ": INVALID ("));
	printf("diverged: %ld, lost: %ld\n", diverged, lost);
	assert_true(lost > 0 || diverged > 0);
}

/* The sentinels stopped before the heal: node 1 is never demoted and keeps its adds, nodes 2-5
 * never see them. Nothing is lost yet, and the verdict is invalid: the final reads diverged. */
static void test_redis_sentinel_split_brain(void **state)
{
	long diverged, lost;

	(void)state;
	assert_int_equal(run_scenario("redis-sentinel-split-brain"), 0);
	assert_non_null(strstr(out, ": PASS ("));
	assert_int_equal(check_set("redis-sentinel-split-brain.jsonl", &diverged, &lost), 1);
	assert_non_null(strstr(out, ": INVALID ("));
	assert_true(diverged > 0);
	/* Which replicas followed which primary when the sentinels stopped varies; node 1 has
	 * adds that some other node misses. */
	assert_non_null(strstr(out, ": diverged: the final reads of node"));
	assert_non_null(strstr(out, " acknowledged adds that node"));
	assert_true(strstr(out, " that node 1 has\n") || strstr(out, " that nodes 1,"));
	assert_non_null(strstr(out, "diverged (settled final reads disagree"));
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
		cmocka_unit_test_teardown(test_etcd_partitions_linearizable, netlab_teardown),
		cmocka_unit_test_teardown(test_etcd_serializable_stale, netlab_teardown),
		cmocka_unit_test_teardown(test_redis_sentinel_lost_adds, netlab_teardown),
		cmocka_unit_test_teardown(test_redis_sentinel_split_brain, netlab_teardown),
		cmocka_unit_test_teardown(test_ap_clock_skew, netlab_teardown),
		cmocka_unit_test_teardown(test_zookeeper_partitions_linearizable, netlab_teardown),
		cmocka_unit_test_teardown(test_zookeeper_follower_stale_reads, netlab_teardown),
		cmocka_unit_test_teardown(test_postgres_async_lost_inserts, netlab_teardown),
		cmocka_unit_test_teardown(test_postgres_sync_no_loss, netlab_teardown),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("tq");
	return cmocka_run_group_tests(tests, setup, teardown);
}
