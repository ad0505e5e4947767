// SPDX-License-Identifier: GPL-2.0-only
/* capctl -n N from the controller of a lab across two emulated hosts (tests/lib/emu_hosts.h):
 * nodes 1 and 2 on host 0, node 3 on host 1, reached only through sshd. A write through node 3
 * is read back through nodes 1 and 3, the key the controller's capctl holds is the one the
 * remote request is sealed with, its --history is kept on the controller, a partition that isolates node 3 makes its request refused as
 * unavailable, a node on the controller itself (`local`) is reached directly, and a lost host,
 * an unreadable record of hosts or a node the lab does not have each get one clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define HOSTS 2
#define NODES 3 /* 1-2 on host 0, 3 on host 1 */
/* A request retried while a leader is elected or a partition is learnt: a bound, not a claim
 * about speed. */
#define ATTEMPTS 60

static struct emu_hosts hosts;
static const char *lab;
static char out[1 << 16];

/* A CP capnode cluster on the lab's nodes, placed on the hosts of `hosts_arg`. */
static int cluster_up(const char *hosts_arg)
{
	if (netlab_capnet_checked(lab, out, sizeof(out), "up -n %d --hosts %s", NODES, hosts_arg))
		return -1;
	return netlab_capnet_checked(lab, out, sizeof(out), "start --mode cp") ? -1 : 0;
}

static int setup_lab(void **state)
{
	(void)state;
	return cluster_up(hosts.hosts_arg);
}

/* capctl on the controller, as a person types it: no capnet exec. */
static int __attribute__((format(printf, 2, 3))) capctl_n(unsigned int node, const char *fmt, ...)
{
	char op[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op, sizeof(op), fmt, ap);
	va_end(ap);
	return netlab_capctl(lab, out, sizeof(out), "-n %u --timeout 2000 %s", node, op);
}

/* The request until it succeeds (a leader elected, a heal learnt): its last exit status. */
static int capctl_until_ok(unsigned int node, const char *op)
{
	int rc = -1;

	for (int attempt = 0; attempt < ATTEMPTS && rc; attempt++)
		rc = capctl_n(node, "%s", op);
	if (rc)
		printf("%s through node %u: %s", op, node, out);
	return rc;
}

/* The request until it no longer gets the status `while_rc` (the cluster still settling). */
static int capctl_until_not(unsigned int node, const char *op, int while_rc)
{
	int rc = while_rc;

	for (int attempt = 0; attempt < ATTEMPTS && rc == while_rc; attempt++)
		rc = capctl_n(node, "%s", op);
	return rc;
}

static unsigned int lines_in(const char *text)
{
	unsigned int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A write through node 3, on host 1, read back through node 1 on host 0 and through node 3. */
static void test_put_on_one_host_get_on_both(void **state)
{
	char path[256];
	FILE *f;

	(void)state;
	assert_int_equal(capctl_until_ok(3, "put x 1"), 0);
	assert_string_equal(out, "OK\n");
	assert_int_equal(capctl_until_ok(1, "get x"), 0);
	assert_string_equal(out, "1\n");
	assert_int_equal(capctl_until_ok(3, "get x"), 0);
	assert_string_equal(out, "1\n");
	/* The remote node answers as itself: its status, in JSON, names it. */
	assert_int_equal(capctl_n(3, "--json status"), 0);
	assert_non_null(strstr(out, "\"node\":3,"));

	/* The key the controller's capctl holds seals the remote request: a wrong one given
	 * here is refused there (capnode drops it: no answer, outcome unknown). */
	snprintf(path, sizeof(path), "%s/wrong.key", hosts.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%064d\n", 7);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "-n 3 --timeout 600 --key-file %s get x", path),
			 4);
	assert_non_null(strstr(out, "TIMEOUT"));

	/* Bad input: each one line, exit 2. */
	assert_int_equal(capctl_n(4, "get x"), 2);
	assert_non_null(strstr(out, "node 4 is out of range (the lab has 3 nodes)"));
}

/* --history of a request to a node on another host is kept on the controller, on its clock: a
 * write through node 3 (host 1) and a read through node 1 (host 0), each a whole operation of
 * its process, and the history they make is linearizable. */
static void test_history_on_the_controller(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/h.jsonl", hosts.dir);
	unlink(path);
	assert_int_equal(capctl_until_ok(1, "put warmup 0"), 0);
	assert_int_equal(capctl_n(3, "--history %s --process 5 put h 1", path), 0);
	assert_string_equal(out, "OK\n");
	assert_int_equal(capctl_n(1, "--history %s --process 6 get h", path), 0);
	assert_string_equal(out, "1\n");
	assert_int_equal(netlab_sh(out, sizeof(out), "cat %s", path), 0);
	printf("%s", out);
	assert_int_equal(lines_in(out), 4);
	assert_non_null(strstr(
		out,
		"{\"process\":5,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"h\",\"value\":\"1\""));
	assert_non_null(strstr(out, "{\"process\":5,\"type\":\"ok\",\"f\":\"write\""));
	assert_non_null(strstr(
		out,
		"{\"process\":6,\"type\":\"ok\",\"f\":\"read\",\"key\":\"h\",\"value\":\"1\""));
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "check --model register %s", path),
			 0);
	assert_non_null(strstr(out, ": linearizable"));
	/* "-": the history on standard output, ahead of the answer, as on one host. */
	assert_int_equal(capctl_n(3, "--history - --process 7 get h"), 0);
	assert_non_null(strstr(out, "{\"process\":7,\"type\":\"ok\",\"f\":\"read\""));
	assert_non_null(strstr(out, "\n1\n"));
	assert_int_equal(access("-", F_OK), -1);
}

/* Node 3 alone on host 1: its request is refused as unavailable (exit 3), as on one host. */
static void test_partition_isolates_the_remote_node(void **state)
{
	int rc;

	(void)state;
	assert_int_equal(capctl_until_ok(1, "put x 1"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 3"), 0);
	/* A leader cut off may take a while to learn it (exit 4 meanwhile); it never serves. */
	rc = capctl_until_not(3, "put x 2", 4);
	assert_int_equal(rc, 3);
	assert_non_null(strstr(out, "UNAVAILABLE"));
	/* The majority, on host 0, serves through it. */
	assert_int_equal(capctl_until_ok(2, "put x 3"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	assert_int_equal(capctl_until_ok(3, "get x"), 0);
	assert_string_equal(out, "3\n");
}

/* `local` beside a remote host: nodes 1 and 2 on the controller itself, reached directly as on
 * one host, node 3 on host 1 through ssh; one cluster across both. */
static void test_local_beside_a_remote_host(void **state)
{
	char local_and_host1[64];

	(void)state;
	snprintf(local_and_host1, sizeof(local_and_host1), "local,%s", hosts.addr[1]);
	assert_int_equal(cluster_up(local_and_host1), 0);
	assert_int_equal(capctl_until_ok(3, "put y 5"), 0);
	assert_int_equal(capctl_until_ok(1, "get y"), 0);
	assert_string_equal(out, "5\n");
	assert_int_equal(capctl_until_ok(2, "--json get y"), 0);
	assert_non_null(strstr(out, "\"node\":2,\"op\":\"get\",\"status\":\"OK\""));
}

/* Host 1 lost: a request to node 3 fails in one line naming the host and what ssh said; node 1,
 * on host 0, still answers. An unreadable record of hosts is named too. */
static void test_lost_host_and_unreadable_record(void **state)
{
	char record[256], saved[4096], history[256];
	ssize_t len;
	FILE *f;
	int rc;

	(void)state;
	assert_int_equal(capctl_until_ok(1, "put x 1"), 0);
	assert_int_equal(emu_host_kill(&hosts, 1, lab), 0);
	snprintf(history, sizeof(history), "%s/lost.jsonl", hosts.dir);
	unlink(history);
	assert_int_equal(capctl_n(3, "--history %s get x", history), 1);
	printf("node 3, its host lost: %s", out);
	assert_non_null(strstr(out, hosts.addr[1]));
	/* What ssh said: refused, or timed out on a busy machine. */
	assert_non_null(strstr(out, "ssh: connect to host"));
	assert_int_equal(lines_in(out), 1);
	/* Its request never went: no operation in the history. */
	assert_int_equal(netlab_sh(out, sizeof(out), "cat %s", history), 0);
	assert_string_equal(out, "");
	/* Nodes 1 and 2 are a majority: once they have a leader between them, they serve. */
	assert_int_equal(capctl_until_ok(1, "get x"), 0);
	assert_string_equal(out, "1\n");

	/* The record is put back before any assertion, so that the teardown's down reads it. */
	snprintf(record, sizeof(record), "/run/capnet/%s/hosts", lab);
	f = fopen(record, "r");
	assert_non_null(f);
	len = (ssize_t)fread(saved, 1, sizeof(saved) - 1, f);
	fclose(f);
	assert_true(len > 0);
	saved[len] = '\0';
	write_file(record, "nodes many\n");
	rc = capctl_n(1, "get x");
	write_file(record, saved);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "record of hosts is unreadable"));
	assert_int_equal(lines_in(out), 1);
}

/* A hostile key and value for node 3, on host 1: shell words, a quote, a `$(...)` and a ';'
 * reach the remote capctl as the words they are, stored and read back unchanged, and nothing
 * of them is run there. */
static void test_hostile_words_reach_the_remote_node_unchanged(void **state)
{
	char marker[256], value[1024], get[512];

	(void)state;
	snprintf(marker, sizeof(marker), "%s/ran", hosts.dir);
	unlink(marker);
	snprintf(value, sizeof(value), "it's $(touch %s) `touch %s`; touch %s\n", marker, marker,
		 marker);
	assert_int_equal(capctl_until_ok(1, "put warmup 0"), 0);
	/* The local shell takes the single quotes; capctl is given the words between them. */
	assert_int_equal(capctl_n(3, "put 'k;touch %s' 'it'\\''s $(touch %s) `touch %s`; touch %s'",
				  marker, marker, marker, marker),
			 0);
	assert_string_equal(out, "OK\n");
	snprintf(get, sizeof(get), "get 'k;touch %s'", marker);
	assert_int_equal(capctl_until_ok(3, get), 0);
	assert_string_equal(out, value);
	assert_int_equal(capctl_until_ok(1, get), 0);
	assert_string_equal(out, value);
	assert_int_equal(access(marker, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_on_one_host_get_on_both, setup_lab,
						emu_hosts_test_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_words_reach_the_remote_node_unchanged,
						setup_lab, emu_hosts_test_teardown),
		cmocka_unit_test_setup_teardown(test_history_on_the_controller, setup_lab,
						emu_hosts_test_teardown),
		cmocka_unit_test_setup_teardown(test_partition_isolates_the_remote_node, setup_lab,
						emu_hosts_test_teardown),
		cmocka_unit_test_setup_teardown(test_lost_host_and_unreadable_record, setup_lab,
						emu_hosts_test_teardown),
		cmocka_unit_test_teardown(test_local_beside_a_remote_host, emu_hosts_test_teardown),
	};

	netlab_require_root("test_hosts_capctl");
	lab = netlab_unique_lab("xc");
	emu_hosts_fixture(&hosts, HOSTS, lab);
	return cmocka_run_group_tests(tests, emu_hosts_group_setup, emu_hosts_group_teardown);
}
