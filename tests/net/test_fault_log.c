// SPDX-License-Identifier: GPL-2.0-only
/* Root test of the lab's fault log: commands typed one by one (partition, heal, kill, restart)
 * between single client operations each leave a line in the lab's faults.jsonl, with the time
 * in seconds, the groups as node lists and the generation; and capctl report and history
 * export find them there, with no faults file beside the history, as shaded bands and
 * :nemesis operations. Every step waits for the one before it: nothing here depends on speed. */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 16];
static char dir[64];

/* One put through node 1, into the history; its outcome does not matter, its times do. */
static void one_op(unsigned int process)
{
	netlab_capctl(lab, out, sizeof(out),
		      "--timeout 500 -n 1 --history %s/h.jsonl --process %u put k v%u", dir,
		      process, process);
	printf("%s", out);
}

static void test_hand_typed_faults_are_shaded(void **state)
{
	char log[512];

	(void)state;
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n 3"), 0);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "start --mode cp"), 0);
	one_op(1);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "partition 1 2,3"), 0);
	one_op(2);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	one_op(3);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "kill 3"), 0);
	one_op(4);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "restart 3"), 0);
	one_op(5);

	/* One line per command, each naming its nodes, in seconds with fractions. */
	snprintf(log, sizeof(log), "/run/capnet/%s/faults.jsonl", lab);
	assert_int_equal(netlab_sh(out, sizeof(out), "cat %s", log), 0);
	printf("%s", out);
	assert_non_null(strstr(out, "\"f\":\"partition\",\"value\":\"1 | 2,3\",\"groups\":[[1],"
				    "[2,3]],\"generation\":"));
	assert_non_null(strstr(out, "\"f\":\"heal\",\"value\":\"healthy\",\"groups\":[[1,2,3]]"));
	assert_non_null(strstr(out, "\"f\":\"kill\",\"value\":\"3\",\"groups\":[[3]]"));
	assert_non_null(strstr(out, "\"f\":\"restart\",\"value\":\"3\",\"groups\":[[3]]"));
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "grep -c -E '^\\{\"time\":[0-9]+\\.[0-9]{9},' %s", log),
			 0);
	assert_int_equal(strtol(out, NULL, 10), 4);

	/* No faults file beside the history: the report reads the lab's log. */
	assert_int_equal(netlab_sh(out, sizeof(out), "test -e %s/h.faults.jsonl", dir), 1);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "report %s/h.jsonl --svg-dir %s/svg",
				       dir, dir),
			 0);
	printf("%s", out);
	assert_non_null(strstr(out, "2 fault windows"));
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "grep -c 'class=\"fault\"' %s/svg/throughput.svg", dir),
			 0);
	assert_int_equal(strtol(out, NULL, 10), 2);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "history export %s/h.jsonl", dir), 0);
	assert_non_null(strstr(out, ":f :partition, :value \"1 | 2,3\", :process :nemesis"));
	assert_non_null(strstr(out, ":f :kill, :value \"3\", :process :nemesis"));
}

/* A partition killed after its switch, before its line (the test hook parks it there): the
 * switch is in force, so the next command that switches writes it first, at its own flip
 * instant and generation, saying it was logged late. No fault in force is missing. */
static void test_killed_switch_is_logged_late(void **state)
{
	char log[512], fifo[96];

	(void)state;
	snprintf(log, sizeof(log), "/run/capnet/%s/faults.jsonl", lab);
	snprintf(fifo, sizeof(fifo), "%s/phase", dir);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "up -n 3"), 0);
	assert_int_equal(
		netlab_sh(
			out, sizeof(out),
			"f=%s; mkfifo \"$f\" || exit 1; CAPNET_TEST_STOP_AT=flipped "
			"CAPNET_TEST_STOP_FIFO=\"$f\" %s --lab %s partition 1 2,3 >/dev/null 2>&1 & " NETLAB_READ_PHASE
			"kill -9 $p; wait $p; echo \"in $phase\"",
			fifo, getenv("CAPNET"), lab),
		0);
	assert_non_null(strstr(out, "in flipped"));
	assert_int_equal(netlab_sh(out, sizeof(out), "cat %s", log), 1);
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "cut 2 3"), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "cat %s", log), 0);
	printf("%s", out);
	assert_non_null(strstr(out, "{\"time\":"));
	assert_non_null(strstr(out,
			       "\"f\":\"partition\",\"value\":\"1 | 2,3; logged late: its "
			       "command ended before writing this line\",\"groups\":[[1],[2,3]],"
			       "\"generation\":2}\n"));
	assert_non_null(strstr(out, "\"f\":\"cut\""));
	assert_non_null(strstr(out, "\"generation\":3}"));
	/* Logged once: the next switch finds the log up to date. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "heal"), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "grep -c 'logged late' %s", log), 0);
	assert_int_equal(strtol(out, NULL, 10), 1);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/capnet-faultlog-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_hand_typed_faults_are_shaded, netlab_teardown),
		cmocka_unit_test_teardown(test_killed_switch_is_logged_late, netlab_teardown),
	};

	netlab_require_root("test_fault_log");
	lab = netlab_unique_lab("tfl");
	return cmocka_run_group_tests(tests, setup, teardown);
}
