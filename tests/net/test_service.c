// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of programs as services, against a real Redis from Debian: placeholders expanded
 * per node, status, pause and resume, kill and restart, a program that exits at once; then
 * capctl load --client redis, whose histories capctl check decides: one primary alone is
 * linearizable, and reads from a replica cut off from its primary are caught as stale. */
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

#include "lib/monotonic.h"
#include "tests/lib/netlab.h"

#define NODES 3

static const char *lab;
static char out[1 << 16];
static char tmpdir[64];

/* redis-cli inside node `from`, to node `to`'s Redis, with a 1 s limit. */
static int redis_cli(unsigned int from, unsigned int to, const char *args)
{
	return netlab_sh(out, sizeof(out),
			 "timeout 2 %s --lab %s exec %u -- redis-cli -h 10.77.0.%u -p 6379 %s",
			 getenv("CAPNET"), lab, from, to, args);
}

static bool redis_answers(unsigned int from, unsigned int to)
{
	for (int i = 0; i < 50; i++) {
		if (redis_cli(from, to, "ping") == 0 && strstr(out, "PONG"))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static void flush_all(unsigned int node);

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/capnet-svc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return netlab_capnet_checked(lab, out, sizeof(out), "up -n %d", NODES) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_sh(out, sizeof(out), "rm -rf %s", tmpdir);
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

/* Node 1 a primary, nodes 2 and 3 its replicas, each in its own data directory. */
static void start_redis(void)
{
	assert_int_equal(
		netlab_capnet_checked(lab, out, sizeof(out),
				      "start 1 --name redis -- redis-server --port 6379 "
				      "--bind {ip} 127.0.0.1 --protected-mode no "
				      "--save '' --dir {dir} --repl-diskless-sync-delay 0"),
		0);
	assert_int_equal(
		netlab_capnet_checked(
			lab, out, sizeof(out),
			"start 2,3 --name redis -- redis-server --port 6379 "
			"--bind {ip} 127.0.0.1 --protected-mode no "
			"--save '' --dir {dir} --repl-diskless-sync-delay 0 --replicaof 10.77.0.1 6379"),
		0);
	for (unsigned int i = 1; i <= NODES; i++)
		assert_true(redis_answers(i, i));
}

static void test_program_as_service(void **state)
{
	char path[256], cmd[4096];
	FILE *f;
	size_t n;

	(void)state;
	start_redis();
	/* Placeholders were expanded for each node, and the line recorded for restart. */
	snprintf(path, sizeof(path), "/run/capnet/%s/svc/redis/n2.cmd", lab);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[n] = 0;
	assert_non_null(strstr(cmd, "--bind 10.77.0.2 127.0.0.1"));
	snprintf(path, sizeof(path), "--dir /run/capnet/%s/svc/redis/data/n2 ", lab);
	assert_non_null(strstr(cmd, path));
	/* The data directory is the working directory, and the log has the program's output. */
	snprintf(path, sizeof(path), "/run/capnet/%s/svc/redis/n2.log", lab);
	assert_int_equal(access(path, R_OK), 0);

	/* {each:} gives one program its whole cluster. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "start --name peers -- sh -c 'echo {each:n{i}={ip}} "
					       "> peers; exec sleep 600'"),
			 0);
	/* Written by the service once it runs: wait for it (a minute at most), do not guess. */
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "f=/run/capnet/%s/svc/peers/data/n3/peers; for i in $(seq 1200); "
			  "do [ -s $f ] && break; sleep 0.05; done; cat $f",
			  lab),
		0);
	assert_string_equal(out, "n1=10.77.0.1,n2=10.77.0.2,n3=10.77.0.3\n");

	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "service redis: running on 1-3"));
	assert_non_null(strstr(out, "service peers: running on 1-3"));

	/* Paused: its port is open and nothing answers; resumed, it answers again. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "pause 3 --name redis"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "service redis: running on 1,2, paused on 3"));
	assert_true(redis_cli(1, 3, "ping") != 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "resume 3 --name redis"), 0);
	assert_true(redis_answers(1, 3));

	/* kill without --name takes every service of the node; restart brings them back. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "kill 3"), 0);
	assert_non_null(strstr(out, "1 node killed (peers, redis)"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "service redis: running on 1,2, not running on 3"));
	assert_true(redis_cli(1, 3, "ping") != 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "restart 3 --name redis"), 0);
	assert_true(redis_answers(1, 3));

	/* Mistakes: each one line, before or instead of anything half-done. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "stop --name nosuch"), 1);
	assert_non_null(strstr(out, "has no service nosuch (started: peers, redis)"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start --name x -- echo {port}"), 2);
	assert_non_null(strstr(out, "unknown placeholder {port}"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out),
				       "start 1 --name bad -- sh -c 'echo no such option >&2; "
				       "exit 3'"),
			 1);
	assert_non_null(strstr(out, "exited at start (status 3): no such option"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start --name capnode -- sleep 1"),
			 2);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "stop --name peers"), 0);
}

/* One primary, every client on it: Redis is a linearizable register, and the checker says so. */
static void test_redis_primary_is_linearizable(void **state)
{
	(void)state;
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client redis --nodes 1 --clients 4 --duration 2 "
				       "--history %s/primary.jsonl",
				       tmpdir),
			 0);
	printf("%s", out);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model register %s/primary.jsonl", tmpdir),
			 0);
	assert_non_null(strstr(out, "linearizable"));
}

/* Lists on the primary: every read a prefix of one order, every acknowledged append there. */
static void test_redis_lists_are_valid(void **state)
{
	(void)state;
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out),
			      "load --client redis --workload append --nodes 1 --clients 4 "
			      "--duration 2 --history %s/append.jsonl",
			      tmpdir),
		0);
	printf("%s", out);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model append %s/append.jsonl", tmpdir),
			 0);
	printf("%s", out);
	assert_non_null(strstr(out, ": valid ("));
	/* The same history is not a register history: one history, one model. */
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model register %s/append.jsonl", tmpdir),
			 2);
	assert_non_null(
		strstr(out, "\"append\" is an operation of the append model, not of the register"));
}

/* Lists read from a replica cut off from its primary miss appends acknowledged before the read
 * began: the append checker names one, with both lines. The final reads ask the primary alone,
 * at once: the replica's reads during the run are the point, and the partition stays short. */
static void test_replica_lists_miss_appends(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out),
			      "load --client redis --workload append --nodes 1,2 --clients 4 "
			      "--duration 2 --settle 0 --final-nodes 1 "
			      "--history %s/append-stale.jsonl",
			      tmpdir),
		0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model append %s/append-stale.jsonl", tmpdir),
			 1);
	printf("%s", out);
	assert_non_null(strstr(out, ": INVALID ("));
	assert_non_null(strstr(out, "before the read began"));
}

/* Clients on the primary and on a replica while the replica is cut off from it: writes to the
 * replica fail (READONLY: surely not applied), its reads go stale, and the checker finds it. */
static void test_replica_reads_caught_stale(void **state)
{
	char why[64];

	(void)state;
	/* Registers start absent in a history: empty the primary, and the replicas with it. */
	flush_all(2);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client redis --nodes 1,2 --clients 4 --keys 2 "
				       "--duration 2 --history %s/stale.jsonl",
				       tmpdir),
			 0);
	printf("%s", out);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	snprintf(why, sizeof(why), "READONLY");
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "grep -c '\"type\":\"fail\".*\"node\":2.*%s' %s/stale.jsonl",
				   why, tmpdir),
			 0);
	assert_true(strtol(out, NULL, 10) > 0);
	/* A refused write is a fail, not an unknown: nothing here is info. */
	assert_int_equal(netlab_sh(out, sizeof(out), "grep -c '\"type\":\"info\"' %s/stale.jsonl",
				   tmpdir),
			 1);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model register %s/stale.jsonl", tmpdir),
			 1);
	printf("%s", out);
	assert_non_null(strstr(out, "not linearizable"));
}

/* Empties the primary and waits for replica `node` to follow. */
static void flush_all(unsigned int node)
{
	assert_int_equal(redis_cli(1, 1, "flushall"), 0);
	for (int i = 0; i < 50; i++) {
		if (redis_cli(node, node, "dbsize") == 0 && !strcmp(out, "0\n"))
			break;
		usleep(100 * 1000);
	}
	assert_string_equal(out, "0\n");
}

/* Waits until replica `node` holds the one set of a set load: the replication stream from the
 * primary flows (again, after the partitions of the tests before). */
static bool replica_holds_set(unsigned int node)
{
	long long limit = monotonic_ms() + 60 * 1000;

	while (monotonic_ms() < limit) {
		if (redis_cli(node, node, "dbsize") == 0 && !strcmp(out, "1\n"))
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* The failover that loses acknowledged writes: the primary is cut off with its clients, the
 * majority promotes a replica, and after the heal the old primary becomes its replica and
 * throws away what it acknowledged alone. The set checker counts them as lost, by line. */
static void test_failover_loses_acknowledged_adds(void **state)
{
	char history[128], load_out[128];
	bool acked_before = false, acked_cut_off = false;
	uint64_t cut;
	int load_rc;
	long lost;
	pid_t load;
	char *p;

	(void)state;
	flush_all(2);
	snprintf(history, sizeof(history), "%s/set.jsonl", tmpdir);
	snprintf(load_out, sizeof(load_out), "%s/load.out", tmpdir);
	/* Long enough for any machine: the steps below end it once the failover is done. */
	load = netlab_capctl_start(lab, load_out,
				   "load --client redis --workload set --nodes 1 --clients 4 "
				   "--duration 10m --history %s",
				   history);
	assert_true(load > 0);
	/* Each step waits for what the history and the nodes show, not for a time: the cut comes
	 * once node 1 acknowledged adds and node 2 follows it, the heal once node 1 acknowledged
	 * more while cut off. */
	acked_before = netlab_history_wait(history, "add", 0, 20, load) && replica_holds_set(2);
	if (acked_before && !netlab_capnet(lab, out, sizeof(out), "partition 1 2,3")) {
		cut = monotonic_ns();
		redis_cli(2, 2, "replicaof no one");
		redis_cli(3, 3, "replicaof 10.77.0.2 6379");
		/* At most one add per client was under way at the cut; the others reached node 1
		 * after it, and never node 2. */
		acked_cut_off = netlab_history_wait(history, "add", cut, 4 + 20, load);
		netlab_capnet(lab, out, sizeof(out), "heal");
		redis_cli(1, 1, "replicaof 10.77.0.2 6379");
	}
	load_rc = netlab_capctl_stop(load);
	netlab_sh(out, sizeof(out), "cat %s", load_out);
	printf("%s", out);
	assert_true(acked_before);
	assert_true(acked_cut_off);
	assert_int_equal(load_rc, 0);
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out), "check --model set %s/set.jsonl", tmpdir), 1);
	printf("%s", out);
	p = strstr(out, "INVALID");
	assert_non_null(p);
	p = strstr(out, " diverged, ");
	assert_non_null(p);
	lost = strtol(p + 11, NULL, 10);
	assert_true(lost > 0);
	assert_non_null(
		strstr(out, "lost (acknowledged, in no settled final read; line of the add)"));
	assert_non_null(strstr(out, "0 unexpected"));
	/* Put the cluster back as it was: node 1 the primary. */
	redis_cli(1, 1, "replicaof no one");
	redis_cli(2, 2, "replicaof 10.77.0.1 6379");
	redis_cli(3, 3, "replicaof 10.77.0.1 6379");
}

/* The wrong client for the service behind the port: one clear line, no history of info. */
static void test_wrong_client_refused(void **state)
{
	(void)state;
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client redis --port 7070 --nodes 1 --duration 1 "
				       "--history %s/none.jsonl",
				       tmpdir),
			 1);
	assert_non_null(strstr(out, "no Redis listening on node 1 port 7070"));
	/* capnode's client against Redis's port: nothing answers its UDP. */
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client capnode --port 6379 --nodes 1 --duration 1 "
				       "--history %s/none.jsonl",
				       tmpdir),
			 1);
	assert_non_null(strstr(out, "no capnode answered on UDP port 6379"));
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client redis --workload bank --nodes 1 --duration 1 "
				       "--history %s/none.jsonl",
				       tmpdir),
			 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program_as_service),
		cmocka_unit_test(test_redis_primary_is_linearizable),
		cmocka_unit_test(test_redis_lists_are_valid),
		cmocka_unit_test(test_replica_lists_miss_appends),
		cmocka_unit_test(test_replica_reads_caught_stale),
		cmocka_unit_test(test_failover_loses_acknowledged_adds),
		cmocka_unit_test(test_wrong_client_refused),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	if (access("/usr/bin/redis-server", X_OK)) {
		printf("%s: redis-server is not installed (make deps installs it)\n", argv[0]);
		return 1;
	}
	lab = netlab_unique_lab("ts");
	return cmocka_run_group_tests(tests, setup, teardown);
}
