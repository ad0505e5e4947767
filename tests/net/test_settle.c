// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of `capnet start --settle T | --wait-port P` and of {each/SEP:}: a program that
 * exits within T fails the start with its exit status and its log's last lines; one that
 * listens late is waited for; one that never listens fails; a newline-joined {each/\n:} reaches
 * the program as one argument of lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 16];

static int setup(void **state)
{
	(void)state;
	return netlab_capnet_checked(lab, out, sizeof(out), "up -n 3") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

static void test_exits_within_settle(void **state)
{
	(void)state;
	assert_int_equal(
		netlab_capnet(lab, out, sizeof(out),
			      "start 1,2 --name dies --settle 2s -- sh -c 'sleep 0.5; echo "
			      "cannot bind; exit 5'"),
		1);
	printf("%s", out);
	assert_non_null(strstr(out, "node 1: dies exited after"));
	assert_non_null(strstr(out, "node 2: dies exited after"));
	assert_non_null(strstr(out, "(status 5): cannot bind"));
	/* Without --settle the same program is started, and found dead later. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out),
				       "start 3 --name dies -- sh -c 'sleep 0.5; exit 5'"),
			 0);
}

static void test_wait_port(void **state)
{
	(void)state;
	/* Listens after a second: start returns once it does, and it answers then. */
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "start 1,2 --name late --wait-port 7901 -- python3 "
					       "-c 'import socket,time; time.sleep(1); s=socket."
					       "socket(); s.bind((\"0.0.0.0\",7901)); s.listen(); "
					       "time.sleep(600)'"),
			 0);
	assert_int_equal(
		netlab_capnet_checked(lab, out, sizeof(out),
				      "exec 3 -- bash -c 'exec 3<>/dev/tcp/10.77.0.1/7901 && "
				      "exec 4<>/dev/tcp/10.77.0.2/7901'"),
		0);
	assert_int_equal(
		netlab_capnet(lab, out, sizeof(out),
			      "start 3 --name mute --wait-port 7902 --settle 1s -- sleep 600"),
		1);
	assert_non_null(strstr(out, "node 3: mute does not listen on TCP port 7902 after 1.0 s"));
	/* Not started as asked, yet running: the command says so, and how to end it. */
	assert_non_null(
		strstr(out, "mute still runs on node 3 without listening on TCP port 7902"));
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out), "stop --name mute"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start --mode cp --settle 1s"), 2);
}

static void test_each_newline(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet_checked(lab, out, sizeof(out),
					       "start 1,3 --name conf --settle 300ms -- sh -c "
					       "'printf \"%%s\\n\" \"$0\" > zoo.cfg; sleep 600' "
					       "'{each/\\n:server.{i}={ip}:2888:3888}'"),
			 0);
	assert_int_equal(
		netlab_sh(out, sizeof(out), "cat /run/capnet/%s/svc/conf/data/n3/zoo.cfg", lab), 0);
	assert_string_equal(out, "server.1=10.77.0.1:2888:3888\nserver.3=10.77.0.3:2888:3888\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exits_within_settle),
		cmocka_unit_test(test_wait_port),
		cmocka_unit_test(test_each_newline),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("ts");
	return cmocka_run_group_tests(tests, setup, teardown);
}
