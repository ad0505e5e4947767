// SPDX-License-Identifier: GPL-2.0-only
/* A lab across hosts, the pure parts: --hosts lists and files, placement by blocks and by
 * --place, every bad input they refuse, and the two-phase switch's decision. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netem/hosts/hosts.h"

static struct spec_error err;

static void test_hosts_list(void **state)
{
	struct host_list l;
	char target[256];

	(void)state;
	assert_int_equal(hosts_parse_list("h1,root@h2:2222,local,[fd00::2]:22,fd00::3", &l, &err),
			 0);
	assert_int_equal(l.count, 5);
	assert_string_equal(l.host[0].host, "h1");
	assert_string_equal(l.host[0].user, "");
	assert_int_equal(l.host[0].port, 0);
	assert_string_equal(l.host[1].dest, "root@h2:2222");
	assert_string_equal(l.host[1].user, "root");
	assert_string_equal(l.host[1].host, "h2");
	assert_int_equal(l.host[1].port, 2222);
	assert_true(l.host[2].local);
	assert_string_equal(l.host[3].host, "fd00::2");
	assert_int_equal(l.host[3].port, 22);
	assert_string_equal(l.host[4].host, "fd00::3");
	assert_int_equal(l.host[4].port, 0);
	host_ssh_target(&l.host[1], target, sizeof(target));
	assert_string_equal(target, "root@h2");
	host_ssh_target(&l.host[0], target, sizeof(target));
	assert_string_equal(target, "h1");
	assert_int_equal(hosts_find(&l, "root@h2:2222"), 1);
	assert_int_equal(hosts_find(&l, "h2"), 1);
	assert_int_equal(hosts_find(&l, "local"), 2);
	assert_int_equal(hosts_find(&l, "h9"), -1);
}

static void test_hosts_bad(void **state)
{
	struct host_list l = { .count = 7 };

	(void)state;
	assert_int_equal(hosts_parse_list("h1,h1", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "--hosts: \"h1\" and \"h1\" are the same host");
	assert_int_equal(l.count, 7); /* untouched on failure */
	assert_int_equal(hosts_parse_list("a@h1,b@H1", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "--hosts: \"a@h1\" and \"b@H1\" are the same host");
	/* Two ports on one machine are two hosts (sshd in two containers). */
	assert_int_equal(hosts_parse_list("h1:22,h1:2222", &l, &err), 0);
	assert_int_equal(hosts_parse_list("local,h1,local", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "--hosts: \"local\" given twice");
	assert_int_equal(hosts_parse_list("h1,,h2", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "--hosts: an empty host in the list");
	assert_int_equal(hosts_parse_list("h1,", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("h1:0", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "host \"h1:0\": \"0\" is not a port (1 to 65535)");
	assert_int_equal(hosts_parse_list("h1:65536", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("h1:x", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("h1:", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("@h1", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "host \"@h1\": \"\" is not a user name");
	assert_int_equal(hosts_parse_list("-oProxyCommand=x", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "host \"-oProxyCommand=x\": \"-oProxyCommand=x\" is not a "
				     "host name or address");
	assert_int_equal(hosts_parse_list(" h1 , h2 ", &l, &err), 0); /* spaces trim the ends */
	assert_string_equal(l.host[1].dest, "h2");
	assert_int_equal(hosts_parse_list("h 1", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("h;rm", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("[fd00::2", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("[fd00::2]x", &l, &err), -EINVAL);
	assert_int_equal(hosts_parse_list("[]:22", &l, &err), -EINVAL);
}

static void test_hosts_file(void **state)
{
	struct host_list l;

	(void)state;
	assert_int_equal(hosts_parse_file("# the lab\n  h1  \n\nroot@h2:2222\r\nlocal", &l, &err),
			 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.host[0].dest, "h1");
	assert_string_equal(l.host[1].dest, "root@h2:2222");
	assert_true(l.host[2].local);
	assert_int_equal(hosts_parse_file("# nothing\n\n", &l, &err), -EINVAL);
	assert_string_equal(err.msg, "--hosts: the file names no host");
	assert_int_equal(hosts_parse_file("h1\nh2\nh1\n", &l, &err), -EINVAL);
}

static void assert_block(const struct placement *p, unsigned int first, unsigned int last,
			 unsigned int host)
{
	for (unsigned int i = first; i <= last; i++)
		assert_int_equal(p->host_of[i], host);
}

static void test_placement_blocks(void **state)
{
	struct placement p;

	(void)state;
	assert_int_equal(placement_blocks(12, 3, &p, &err), 0);
	assert_block(&p, 1, 4, 0);
	assert_block(&p, 5, 8, 1);
	assert_block(&p, 9, 12, 2);
	assert_int_equal(placement_blocks(5, 2, &p, &err), 0);
	assert_block(&p, 1, 3, 0);
	assert_block(&p, 4, 5, 1);
	assert_int_equal(placement_blocks(3, 3, &p, &err), 0);
	assert_block(&p, 3, 3, 2);
	assert_int_equal(placement_blocks(2, 3, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "3 hosts for 2 nodes: every host needs a node");
	assert_int_equal(placement_blocks(1000, 64, &p, &err), 0);
	assert_int_equal(p.host_of[1000], 63);
}

static void test_placement_parse(void **state)
{
	struct host_list l;
	struct placement p;
	struct node_set s;
	char text[256];

	(void)state;
	assert_int_equal(hosts_parse_list("h1,root@h2:2222,local", &l, &err), 0);
	assert_int_equal(placement_parse("1-3@h1,4-10@h2,11,12@local", &l, 12, &p, &err), 0);
	assert_block(&p, 1, 3, 0);
	assert_block(&p, 4, 10, 1);
	assert_block(&p, 11, 12, 2);
	placement_nodes_of(&p, 1, &s);
	assert_int_equal(nodeset_count(&s), 7);
	placement_format(&p, &l, text, sizeof(text));
	assert_string_equal(text, "1-3@h1,4-10@root@h2:2222,11,12@local");
	/* What placement_format writes, placement_parse reads back. */
	assert_int_equal(placement_parse(text, &l, 12, &p, &err), 0);
	assert_block(&p, 4, 10, 1);
	assert_int_equal(placement_parse("1,3@h1,2@h2,4-12@local", &l, 12, &p, &err), 0);
	assert_int_equal(p.host_of[2], 1);

	assert_int_equal(placement_parse("1-3@h1,3-12@h2", &l, 12, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "--place: node 3 placed twice");
	assert_int_equal(placement_parse("1-3@h1,5-12@h2", &l, 12, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "--place: node 4 is not placed");
	assert_int_equal(placement_parse("1-3@h1,4-12@h2", &l, 12, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "--place: host \"local\" has no node");
	assert_int_equal(placement_parse("1-3@h1,4-11@h2,12@h9", &l, 12, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "--place: \"h9\" is not one of --hosts");
	assert_int_equal(placement_parse("1-3@h1,4-11@h2,12-13@local", &l, 12, &p, &err), -EINVAL);
	assert_int_equal(placement_parse("1-3", &l, 12, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "--place: \"1-3\" is not NODES@HOST (as in 1-3@h1,4-6@h2)");
	assert_int_equal(placement_parse("@h1", &l, 12, &p, &err), -EINVAL);
	assert_int_equal(placement_parse("1-3@h1,4-11@h2,12@local,", &l, 12, &p, &err), -EINVAL);
	assert_int_equal(placement_parse("1-3@,4-12@h2", &l, 12, &p, &err), -EINVAL);
}

static void test_switch_commit(void **state)
{
	struct switch_plan plan;
	struct switch_commit c;

	(void)state;
	switch_plan_start(&plan, 3);
	assert_int_equal(switch_plan_decide(&plan, 1000, &c), SWITCH_WAIT);
	switch_plan_prepared(&plan, 0, 7, 300000, 0);
	switch_plan_prepared(&plan, 2, 7, 5000000, 20000);
	assert_int_equal(switch_plan_decide(&plan, 1000, &c), SWITCH_WAIT);
	switch_plan_prepared(&plan, 1, 6, 100000, 50000);
	assert_int_equal(switch_plan_decide(&plan, 1000, &c), SWITCH_COMMIT);
	/* One generation for all, above every host's; the instant leaves the slowest host twice
	 * its round trip, plus the widest clock offset bound. */
	assert_int_equal(c.generation, 8);
	assert_int_equal(c.flip_at_tai_ns, 1000 + 2 * 5000000 + 50000);

	/* Fast round trips still get the least lead. */
	switch_plan_start(&plan, 1);
	switch_plan_prepared(&plan, 0, 0, 1000, 0);
	assert_int_equal(switch_plan_decide(&plan, 5, &c), SWITCH_COMMIT);
	assert_int_equal(c.flip_at_tai_ns, 5 + SWITCH_MIN_LEAD_NS);
	assert_int_equal(c.generation, 1);
}

static void test_switch_abort(void **state)
{
	struct switch_plan plan;
	struct switch_commit c;

	(void)state;
	switch_plan_start(&plan, 3);
	switch_plan_prepared(&plan, 0, 1, 1000, 0);
	switch_plan_failed(&plan, 1, "ssh: connect to host h2 port 22: Connection refused");
	/* Decided without waiting for host 2: one failure means nobody switches. */
	assert_int_equal(switch_plan_decide(&plan, 0, &c), SWITCH_ABORT);
	assert_int_equal(c.failed_host, 1);
	assert_string_equal(plan.why[1], "ssh: connect to host h2 port 22: Connection refused");
	/* A late "prepared" from the failed host does not bring it back. */
	switch_plan_prepared(&plan, 1, 1, 1000, 0);
	switch_plan_prepared(&plan, 2, 1, 1000, 0);
	assert_int_equal(switch_plan_decide(&plan, 0, &c), SWITCH_ABORT);
	assert_int_equal(c.failed_host, 1);
	/* The first failure is named when several fail. */
	switch_plan_failed(&plan, 0, "no lab");
	assert_int_equal(switch_plan_decide(&plan, 0, &c), SWITCH_ABORT);
	assert_int_equal(c.failed_host, 0);
	/* Out-of-range hosts are ignored, not written past the plan. */
	switch_plan_failed(&plan, HOSTS_MAX, "x");
	switch_plan_prepared(&plan, 99, 1, 1, 1);
}

/* The switch record: written before the commits with none confirmed, read back the same; an
 * older record (no shifts, no confirmations) reads as all confirmed; a host on another
 * generation than it was told is the one named. */
static void test_switch_record(void **state)
{
	struct switch_record r = { .hosts = 3,
				   .flip_at_tai_ns = 1796693710230804000ull,
				   .generation = { 3, 3, 3 },
				   .tai_shift_ns = { 0, -37000000000ll, 0 },
				   .confirmed = { true, false, true },
				   .command = "partition",
				   .partition = "1,2 | 3" },
			     back;
	uint64_t in_force[3] = { 3, 2, 3 };
	bool known[3] = { true, true, true };
	char text[256];

	(void)state;
	assert_int_equal(switch_record_format(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "flip_at 1796693710230804000\ngenerations 3 3 3\n"
				  "tai_shifts 0 -37000000000 0\nconfirmed 1 0 1\nlogged 0\n"
				  "command partition\npartition 1,2 | 3\n");
	assert_int_equal(switch_record_parse(text, 3, &back), 0);
	assert_int_equal(back.hosts, 3);
	assert_int_equal(back.flip_at_tai_ns, r.flip_at_tai_ns);
	assert_memory_equal(back.generation, r.generation, sizeof(r.generation));
	assert_memory_equal(back.tai_shift_ns, r.tai_shift_ns, sizeof(r.tai_shift_ns));
	assert_memory_equal(back.confirmed, r.confirmed, sizeof(r.confirmed));
	assert_false(back.logged);
	assert_string_equal(back.command, "partition");
	assert_string_equal(back.partition, "1,2 | 3");
	assert_int_equal(switch_record_format(&r, text, 40), -E2BIG);

	assert_int_equal(switch_record_parse("flip_at 5\ngenerations 4 4", 2, &back), 0);
	assert_true(back.confirmed[0] && back.confirmed[1] && back.logged);
	assert_string_equal(back.command, "");
	assert_int_equal(back.tai_shift_ns[1], 0);
	assert_int_equal(back.generation[1], 4);
	assert_int_equal(switch_record_parse("flip_at 5\ngenerations 4", 2, &back), -EINVAL);
	assert_int_equal(switch_record_parse("generations 4 4", 2, &back), -EINVAL);
	assert_int_equal(switch_record_parse("flip_at 5\ngenerations 4 4\nconfirmed 1", 2, &back),
			 -EINVAL);

	assert_int_equal(switch_record_first_astray(&r, known, in_force, UINT64_MAX), 1);
	/* A host that did not answer is not judged by it. */
	known[1] = false;
	assert_int_equal(switch_record_first_astray(&r, known, in_force, UINT64_MAX), HOSTS_MAX);
	known[1] = true;
	/* Asked before the instant, host 1 rightly holds the generation before; two behind,
	 * not. */
	assert_int_equal(switch_record_first_astray(&r, known, in_force, r.flip_at_tai_ns - 1),
			 HOSTS_MAX);
	in_force[1] = 1;
	assert_int_equal(switch_record_first_astray(&r, known, in_force, r.flip_at_tai_ns - 1), 1);
	in_force[1] = 3;
	assert_int_equal(switch_record_first_astray(&r, known, in_force, UINT64_MAX), HOSTS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_list),	cmocka_unit_test(test_hosts_bad),
		cmocka_unit_test(test_hosts_file),	cmocka_unit_test(test_placement_blocks),
		cmocka_unit_test(test_placement_parse), cmocka_unit_test(test_switch_commit),
		cmocka_unit_test(test_switch_abort),	cmocka_unit_test(test_switch_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
