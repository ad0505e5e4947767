// SPDX-License-Identifier: GPL-2.0-only
/* The exec clients of tools/clients/ against capctl's C clients: the same scenario (a load from
 * every node, node 1 cut off from the others for a while) run through both, against the real
 * capnode, etcd and Redis, must get the same verdict from capctl check: linearizable for
 * capnode's Raft and for etcd, not linearizable for three Redis servers that do not replicate.
 * The exec client's history goes through history export and report as any other. */
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
static char out[1 << 20], dir[] = "/tmp/capnet-clients-XXXXXX", repo[4096], capctl[512];

static int setup(void **state)
{
	(void)state;
	if (!getcwd(repo, sizeof(repo)) || !mkdtemp(dir))
		return -1;
	netlab_sibling("capctl", capctl, sizeof(capctl));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return 0;
}

/* Writes and runs a scenario: `start` lines, then a load with `client` (its words after
 * --client, last: an exec client's program takes the rest of the line) under a partition of node 1, checked with `check` (check or expect-violation). */
static void run(const char *name, const char *start, const char *client, const char *check)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.scn", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"%s\n"
		"load --nodes 1-3 --clients 6 --keys 2 --duration 5s --history %s.jsonl --client %s\n"
		"sleep 1500ms\n"
		"partition 1 2-3\n"
		"sleep 2s\n"
		"heal\n"
		"wait\n"
		"%s register %s.jsonl\n",
		start, name, client, check, name);
	fclose(f);
	netlab_sh(out, sizeof(out), "cd %s && %s --lab %s -q run %s", dir, getenv("CAPNET"), lab,
		  path);
	printf("%s\n", strlen(out) > 3000 ? out + strlen(out) - 3000 : out);
	assert_non_null(strstr(out, ": PASS ("));
}

/* The same scenario through capctl's C client and through the exec client: the same verdict,
 * and the exec client's history has operations of every kind with both outcomes. */
static void compare(const char *system, const char *start, const char *c_client,
		    const char *exec_client, const char *check)
{
	char name[64];
	int rc;

	netlab_capnet(lab, out, sizeof(out), "down");
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n 3"), 0);
	snprintf(name, sizeof(name), "%s-c", system);
	run(name, start, c_client, check);
	snprintf(name, sizeof(name), "%s-exec", system);
	run(name, "", exec_client, check);
	netlab_sh(out, sizeof(out), "grep -c '\"type\":\"ok\",\"f\":\"read\"' %s/%s.jsonl", dir,
		  name);
	assert_true(strtol(out, NULL, 10) > 0);
	netlab_sh(out, sizeof(out), "grep -c '\"type\":\"ok\",\"f\":\"write\"' %s/%s.jsonl", dir,
		  name);
	assert_true(strtol(out, NULL, 10) > 0);
	/* Its history is capnet's like any other: Jepsen's EDN gets the same verdict, and the
	 * report draws it. */
	rc = netlab_sh(out, sizeof(out), "cd %s && %s check --model register %s.jsonl", dir, capctl,
		       name);
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s && %s history export %s.jsonl > %s.edn && %s check --model "
			  "register %s.edn",
			  dir, capctl, name, name, capctl, name),
		rc);
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s && %s report %s.jsonl --model register --svg-dir %s-svg && "
			  "test -s %s-svg/latency.svg",
			  dir, capctl, name, name, name),
		0);
}

static void test_capnode(void **state)
{
	char exec_client[6000];

	(void)state;
	snprintf(exec_client, sizeof(exec_client),
		 "exec -- %s/tools/clients/capnode_client.py --key-file /run/capnet/%s/key", repo,
		 lab);
	compare("capnode", "start cp\nsleep 2s", "capnode", exec_client, "check");
}

static void test_etcd(void **state)
{
	char exec_client[6000];

	(void)state;
	snprintf(exec_client, sizeof(exec_client), "exec -- %s/tools/clients/etcd_client.py", repo);
	compare("etcd",
		"start --name etcd -- etcd --name e{i} --data-dir {dir}/etcd --listen-peer-urls "
		"http://{ip}:2380 --initial-advertise-peer-urls http://{ip}:2380 "
		"--listen-client-urls http://{ip}:2379,http://127.0.0.1:2379 "
		"--advertise-client-urls http://{ip}:2379 --initial-cluster "
		"{each:e{i}=http://{ip}:2380} --initial-cluster-state new --heartbeat-interval 50 "
		"--election-timeout 500 --logger zap --log-level error\nsleep 4s",
		"etcd", exec_client, "check");
}

/* Three Redis servers, none a replica of another: a client of node 2 does not see what one of
 * node 1 wrote, and both clients must say so. */
static void test_redis(void **state)
{
	char exec_client[6000];

	(void)state;
	snprintf(exec_client, sizeof(exec_client), "exec -- %s/tools/clients/redis_client.py",
		 repo);
	compare("redis",
		"start --name redis -- redis-server --port 6379 --bind {ip} 127.0.0.1 "
		"--protected-mode no --save '' --dir {dir}\nsleep 1s",
		"redis", exec_client, "expect-violation");
}

/* The set workload (with its final reads) and the append workload through the exec client and
 * the C client of one Redis: valid both ways. */
static void test_redis_set_and_append(void **state)
{
	static const char *const workloads[] = { "set", "append" };
	static const char *const clients[] = { "redis", "exec" };
	char exec_client[6000];

	(void)state;
	netlab_capnet(lab, out, sizeof(out), "down");
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n 1"), 0);
	assert_int_equal(
		netlab_capnet_checked(lab, out, sizeof(out),
				      "start --name redis --wait-port 6379 -- redis-server "
				      "--port 6379 --bind 127.0.0.1 --save '' --dir {dir}"),
		0);
	snprintf(exec_client, sizeof(exec_client), "exec -- %s/tools/clients/redis_client.py",
		 repo);
	for (int w = 0; w < 2; w++)
		for (int c = 0; c < 2; c++) {
			assert_int_equal(
				netlab_sh(out, sizeof(out),
					  "cd %s && %s --lab %s -q load --workload %s "
					  "--duration 1s --history %s-%s.jsonl --client %s && "
					  "%s check --model %s %s-%s.jsonl",
					  dir, capctl, lab, workloads[w], workloads[w], clients[c],
					  c ? exec_client : "redis", capctl, workloads[w],
					  workloads[w], clients[c]),
				0);
			printf("%s", out);
			assert_non_null(strstr(out, ": valid ("));
		}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_capnode, netlab_teardown),
		cmocka_unit_test_teardown(test_etcd, netlab_teardown),
		cmocka_unit_test_teardown(test_redis, netlab_teardown),
		cmocka_unit_test_teardown(test_redis_set_and_append, netlab_teardown),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("tc");
	return cmocka_run_group_tests(tests, setup, teardown);
}
