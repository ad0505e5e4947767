// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of what capctl load decides without a lab: the node lists it accepts and the ones it
 * refuses with a message. The clients themselves run against real nodes in tests/net. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/capctl/workload.h"

static struct workload_config cfg;
static char err[200];

static void expect_nodes(const char *text, const unsigned int *want, unsigned int n)
{
	unsigned int i;

	err[0] = 0;
	assert_int_equal(workload_parse_nodes(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_nodes, n);
	for (i = 0; i < n; i++)
		assert_int_equal(cfg.nodes[i], want[i]);
}

static void expect_refused(const char *text, const char *message_part)
{
	err[0] = 0;
	assert_int_equal(workload_parse_nodes(&cfg, text, err, sizeof(err)), -EINVAL);
	if (!strstr(err, message_part))
		fail_msg("\"%s\": message \"%s\" does not say \"%s\"", text, err, message_part);
}

static void test_lists(void **state)
{
	static const unsigned int one[] = { 3 }, range[] = { 1, 2, 3, 4, 5 },
				  mixed[] = { 2, 3, 7, 9, 10 }, repeat[] = { 1, 1 };

	(void)state;
	expect_nodes("3", one, 1);
	expect_nodes("1-5", range, 5);
	expect_nodes("2-3,7,9-10", mixed, 5);
	/* A node named twice gets two clients' worth of round robin: allowed on purpose. */
	expect_nodes("1,1", repeat, 2);
	expect_nodes("1000", (const unsigned int[]){ 1000 }, 1);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("", "empty");
	expect_refused("0", "numbered 1 to 1000");
	expect_refused("1001", "numbered 1 to 1000");
	expect_refused("5-3", "ranges go up");
	expect_refused("1,", "not a node list");
	expect_refused(",1", "not a node list");
	expect_refused("1-", "not a node list");
	expect_refused("a", "not a node list");
	expect_refused("1 2", "not a node list");
	expect_refused("-3", "not a node list");
	expect_refused("1-100", "at most 64 nodes");
	expect_refused("99999999999999999999", "numbered 1 to 1000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
