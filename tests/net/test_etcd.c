// SPDX-License-Identifier: GPL-2.0-only
/* Root tests against a real etcd cluster from Debian, started as a lab's service with its whole
 * cluster line from {each:}: capctl load --client etcd under a partition is linearizable with
 * etcd's default reads, and caught stale with --serializable ones, as etcd documents. */
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

#define NODES 3

static const char *lab;
static char out[1 << 16];
static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/capnet-etcd-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	if (netlab_capnet_checked(lab, out, sizeof(out), "up -n %d", NODES) ||
	    netlab_capnet_checked(
		    lab, out, sizeof(out),
		    "start --name etcd -- etcd --name e{i} --data-dir {dir}/etcd "
		    "--listen-peer-urls http://{ip}:2380 --initial-advertise-peer-urls "
		    "http://{ip}:2380 --listen-client-urls http://{ip}:2379,http://127.0.0.1:2379 "
		    "--advertise-client-urls http://{ip}:2379 "
		    "--initial-cluster {each:e{i}=http://{ip}:2380} --initial-cluster-state new "
		    "--heartbeat-interval 50 --election-timeout 500 --logger zap "
		    "--log-level error"))
		return -1;
	return netlab_etcd_ready(lab, NODES) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	netlab_sh(out, sizeof(out), "rm -rf %s", tmpdir);
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

/* Clients on the minority member and on a majority member while they are apart. */
static int load_under_partition(const char *extra, const char *name)
{
	int rc;

	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	/* The majority has a leader again (the old one may have been node 1). */
	for (int i = 0; i < 100; i++) {
		if (netlab_sh(out, sizeof(out),
			      "timeout 2 %s --lab %s exec 2 -- etcdctl --endpoints 127.0.0.1:2379 "
			      "--command-timeout=500ms put capnet-probe 1",
			      getenv("CAPNET"), lab) == 0)
			break;
		usleep(100 * 1000);
	}
	/* Short timeouts: the minority's clients give up on their writes soon and read
	 * often. */
	rc = netlab_capctl(lab, out, sizeof(out),
			   "--timeout 300 load --client etcd %s --nodes 1,2 --clients 6 --keys 2 "
			   "--duration 3 --history %s/%s.jsonl",
			   extra, tmpdir, name);
	printf("%s", out);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	return rc;
}

static void test_linearizable_reads_hold(void **state)
{
	(void)state;
	assert_int_equal(load_under_partition("", "linearizable"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model register %s/linearizable.jsonl", tmpdir),
			 0);
	printf("%s", out);
	assert_non_null(strstr(out, ": linearizable"));
	assert_true(netlab_etcd_ready(lab, NODES));
}

static void test_serializable_reads_go_stale(void **state)
{
	(void)state;
	assert_int_equal(load_under_partition("--serializable", "serializable"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "check --model register %s/serializable.jsonl", tmpdir),
			 1);
	printf("%s", out);
	assert_non_null(strstr(out, "not linearizable"));
	assert_true(netlab_etcd_ready(lab, NODES));
}

static void test_wrong_client_refused(void **state)
{
	(void)state;
	/* The peer port speaks HTTP, but not the v3 gateway. */
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client etcd --port 2380 --nodes 1 --duration 1 "
				       "--history %s/none.jsonl",
				       tmpdir),
			 1);
	assert_non_null(strstr(out, "is --client etcd the right client for this service?"));
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client etcd --port 7070 --nodes 1 --duration 1 "
				       "--history %s/none.jsonl",
				       tmpdir),
			 1);
	assert_non_null(strstr(out, "no etcd answering on node 1 port 7070"));
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "load --client redis --serializable --nodes 1 --duration 1 "
				       "--history %s/none.jsonl",
				       tmpdir),
			 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linearizable_reads_hold),
		cmocka_unit_test(test_serializable_reads_go_stale),
		cmocka_unit_test(test_wrong_client_refused),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	if (access("/usr/bin/etcd", X_OK) || access("/usr/bin/etcdctl", X_OK)) {
		printf("%s: etcd or etcdctl is not installed (make deps installs them)\n", argv[0]);
		return 1;
	}
	lab = netlab_unique_lab("te");
	return cmocka_run_group_tests(tests, setup, teardown);
}
