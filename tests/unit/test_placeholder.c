// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of service argument placeholders: each one, {each:} over a node set, literal
 * braces, and every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netem/svc/placeholder.h"

static void ip_of(unsigned int node, char *buf, size_t len, void *arg)
{
	(void)arg;
	snprintf(buf, len, "10.77.0.%u", node);
}

static void dir_of(unsigned int node, char *buf, size_t len, void *arg)
{
	snprintf(buf, len, "%s/n%u", (const char *)arg, node);
}

static struct node_set nodes_1_3_4;
static const struct placeholder_ctx ctx = { .nodes = 5,
					    .service_nodes = &nodes_1_3_4,
					    .ip = ip_of,
					    .dir = dir_of,
					    .arg = "/run/x" };

static void expands(const char *text, unsigned int node, const char *want)
{
	struct spec_error e = { "" };
	char out[512];

	if (placeholder_expand(text, node, &ctx, out, sizeof(out), &e))
		fail_msg("\"%s\" refused: %s", text, e.msg);
	assert_string_equal(out, want);
	assert_int_equal(placeholder_check(text, &e), 0);
}

static void refused(const char *text, const char *says)
{
	struct spec_error e = { "" };
	char out[512];

	assert_int_equal(placeholder_expand(text, 1, &ctx, out, sizeof(out), &e), -EINVAL);
	if (!strstr(e.msg, says))
		fail_msg("\"%s\": said \"%s\", not \"%s\"", text, e.msg, says);
	assert_int_equal(placeholder_check(text, &e), -EINVAL);
}

static void test_each_placeholder(void **state)
{
	(void)state;
	nodeset_clear(&nodes_1_3_4);
	nodeset_add(&nodes_1_3_4, 1);
	nodeset_add(&nodes_1_3_4, 3);
	nodeset_add(&nodes_1_3_4, 4);
	expands("plain", 3, "plain");
	expands("", 3, "");
	expands("--name=e{i}", 3, "--name=e3");
	expands("http://{ip}:2379", 4, "http://10.77.0.4:2379");
	expands("{n}", 1, "5");
	expands("--data-dir={dir}/etcd", 3, "--data-dir=/run/x/n3/etcd");
	expands("{i}{i}{ip}", 1, "1110.77.0.1");
	/* etcd's whole cluster line, over the nodes the service runs on, not the lab's. */
	expands("{each:e{i}=http://{ip}:2380}", 3,
		"e1=http://10.77.0.1:2380,e3=http://10.77.0.3:2380,e4=http://10.77.0.4:2380");
	expands("a{each:{i}}b", 1, "a1,3,4b");
	/* Any separator: ZooKeeper's server.N lines, one per line. */
	expands("{each/\\n:server.{i}={ip}:2888:3888}", 2,
		"server.1=10.77.0.1:2888:3888\nserver.3=10.77.0.3:2888:3888\n"
		"server.4=10.77.0.4:2888:3888");
	expands("{each/ :{i}}", 1, "1 3 4");
	expands("{each/:{i}}", 1, "134");
	expands("{each/, :{i}}", 1, "1, 3, 4");
	expands("{each/\\t\\\\:{i}}", 1, "1\t\\3\t\\4");
	expands("{{i}}", 1, "{i}");
	expands("{{\"a\": 1}}", 1, "{\"a\": 1}");
	expands("}", 1, "}");
}

static void test_refusals(void **state)
{
	struct spec_error e = { "" };
	char small[8];

	(void)state;
	refused("{id}", "unknown placeholder {id}");
	refused("{I}", "unknown placeholder {I}");
	refused("{}", "unknown placeholder {}");
	refused("--x={ip", "without its }");
	refused("{each:{i}", "without its }");
	refused("{each:{nope}}", "unknown placeholder {nope}");
	refused("{each:{each:{i}}}", "{each:} inside {each:}");
	refused("{each/;{i}}", "needs the : after its separator");
	refused("{each/\\q:{i}}", "in the separator");
	assert_int_equal(placeholder_expand("{each:{ip}}", 1, &ctx, small, sizeof(small), &e),
			 -ENAMETOOLONG);
	assert_non_null(strstr(e.msg, "expands to more than 7 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_placeholder),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
