// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the summary of start, stop, kill, pause, resume and restart: its words, its JSON
 * read back, and the sum of the hosts' summaries of a lab across hosts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netem/svc/nodes_report.h"

static struct nodes_report round_trip(const struct nodes_report *r)
{
	struct nodes_report back;
	char line[2048];

	assert_true(nodes_report_format(r, "lab1", true, line, sizeof(line)) > 0);
	assert_int_equal(nodes_report_parse(line, &back), 0);
	return back;
}

static void test_words_of_one_host(void **state)
{
	struct nodes_report r = { .command = "start",
				  .service = "capnode",
				  .mode = "cp",
				  .dir = "/run/capnet/lab1",
				  .started = 2 };
	char line[2048];

	(void)state;
	nodeset_add(&r.already, 3);
	nodes_report_format(&r, "lab1", false, line, sizeof(line));
	assert_string_equal(line, "lab lab1: 2 capnodes started in cp mode, node 3 already running "
				  "(logs and data in /run/capnet/lab1)\n");
	r = (struct nodes_report){
		.command = "start", .service = "echo", .dir = "/d", .started = 1
	};
	nodes_report_format(&r, "lab1", false, line, sizeof(line));
	assert_string_equal(line, "lab lab1: echo started on 1 node (logs and data in /d)\n");
	r = (struct nodes_report){ .command = "pause" };
	nodeset_add(&r.hit, 1);
	nodeset_add(&r.hit, 2);
	nodes_report_add_name(&r, "capnode");
	nodes_report_format(&r, "lab1", false, line, sizeof(line));
	assert_string_equal(line, "lab lab1: 2 nodes paused\n");
	nodes_report_add_name(&r, "etcd");
	nodes_report_add_name(&r, "capnode");
	nodes_report_format(&r, "lab1", false, line, sizeof(line));
	assert_string_equal(line, "lab lab1: 2 nodes paused (capnode, etcd)\n");
	r = (struct nodes_report){ .command = "restart" };
	nodeset_add(&r.hit, 4);
	nodes_report_format(&r, "lab1", false, line, sizeof(line));
	assert_string_equal(line, "lab lab1: 1 node restarted\n");
}

static void test_hosts_add_up(void **state)
{
	struct nodes_report a = { .command = "start",
				  .service = "capnode",
				  .mode = "ap",
				  .dir = "/run/capnet/x",
				  .started = 2,
				  .failed = 1 },
			    b = a, sum = { 0 }, back;
	char line[2048];

	(void)state;
	nodeset_add(&b.already, 5);
	b.started = 1;
	b.failed = 0;
	back = round_trip(&a);
	nodes_report_add(&sum, &back);
	back = round_trip(&b);
	nodes_report_add(&sum, &back);
	assert_int_equal(sum.started, 3);
	assert_int_equal(sum.failed, 1);
	assert_true(nodeset_has(&sum.already, 5));
	assert_string_equal(sum.mode, "ap");
	nodes_report_format(&sum, "x", false, line, sizeof(line));
	assert_string_equal(line, "lab x: 3 capnodes started in ap mode, node 5 already running "
				  "(logs and data in /run/capnet/x)\n");

	a = (struct nodes_report){ .command = "kill" };
	b = a;
	nodeset_add(&a.hit, 1);
	nodes_report_add_name(&a, "etcd");
	nodeset_add(&b.hit, 4);
	nodes_report_add_name(&b, "capnode");
	nodes_report_add_name(&b, "etcd");
	memset(&sum, 0, sizeof(sum));
	back = round_trip(&a);
	nodes_report_add(&sum, &back);
	back = round_trip(&b);
	nodes_report_add(&sum, &back);
	nodes_report_format(&sum, "x", false, line, sizeof(line));
	assert_string_equal(line, "lab x: 2 nodes killed (etcd, capnode)\n");
}

static void test_bad_json_is_refused(void **state)
{
	struct nodes_report r;

	(void)state;
	assert_int_equal(nodes_report_parse("", &r), -EINVAL);
	assert_int_equal(nodes_report_parse("lab x: 2 nodes killed", &r), -EINVAL);
	assert_int_equal(nodes_report_parse("{\"command\":\"kill\"}", &r), -EINVAL);
	assert_int_equal(nodes_report_parse("{\"command\":\"kill\",\"nodes\":\"0-9999\","
					    "\"services\":\"\"}",
					    &r),
			 -EINVAL);
	assert_int_equal(nodes_report_parse("{\"command\":\"start\",\"service\":\"x\",\"mode\":"
					    "null,\"started\":-1,\"failed\":0,\"already\":\"\","
					    "\"dir\":\"/d\"}",
					    &r),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_of_one_host),
		cmocka_unit_test(test_hosts_add_up),
		cmocka_unit_test(test_bad_json_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
