// SPDX-License-Identifier: GPL-2.0-only
/* The lab's pure naming and addressing rules: lab names, subnets and their error messages, node
 * addresses and MACs, namespace names and which lab a namespace belongs to. No root needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netem/lab/topology.h"

static char err[256];

static void test_lab_names(void **state)
{
	(void)state;
	assert_true(lab_name_valid("capnet", err, sizeof(err)));
	assert_true(lab_name_valid("a", err, sizeof(err)));
	assert_true(lab_name_valid("Lab_2x-y", err, sizeof(err)));
	assert_true(lab_name_valid("0123456789abcdef0123456789abcdef", err, sizeof(err)));

	assert_false(lab_name_valid("", err, sizeof(err)));
	assert_string_equal(err, "lab name \"\" must have 1 to 32 characters");
	assert_false(lab_name_valid("0123456789abcdef0123456789abcdefX", err, sizeof(err)));
	assert_string_equal(
		err, "lab name \"0123456789abcdef0123456789abcdefX\" must have 1 to 32 characters");
	assert_false(lab_name_valid("my lab", err, sizeof(err)));
	assert_string_equal(
		err, "lab name \"my lab\" has ' ' at position 3; use letters, digits, '_' and '-'");
	/* A '.' would pass every check but bpffs's, which comes after the lab is half made. */
	assert_false(lab_name_valid("x.y", err, sizeof(err)));
	assert_string_equal(err, "lab name \"x.y\" has '.' at position 2; use letters, digits, '_' "
				 "and '-' (the filter's pins go in /sys/fs/bpf, which refuses a "
				 "'.')");
	assert_false(lab_name_valid("a/b", err, sizeof(err)));
	assert_false(lab_name_valid("-x", err, sizeof(err)));
	assert_string_equal(err, "lab name \"-x\" must start with a letter or digit");
	assert_false(lab_name_valid(".", err, sizeof(err)));
	assert_false(lab_name_valid("..", err, sizeof(err)));
}

static void test_subnet_parse(void **state)
{
	uint32_t subnet = 0;
	unsigned int prefix = 0;

	(void)state;
	assert_int_equal(lab_parse_subnet("10.77.0.0/16", 1000, &subnet, &prefix, err, sizeof(err)),
			 0);
	assert_int_equal(subnet, 0x0a4d0000);
	assert_int_equal(prefix, 16);
	assert_int_equal(
		lab_parse_subnet("192.168.7.0/24", 254, &subnet, &prefix, err, sizeof(err)), 0);
	assert_int_equal(subnet, 0xc0a80700);
	assert_int_equal(prefix, 24);
	assert_int_equal(lab_parse_subnet("10.1.2.8/30", 2, &subnet, &prefix, err, sizeof(err)), 0);
	assert_int_equal(subnet, 0x0a010208);
	assert_int_equal(prefix, 30);
}

static void expect_subnet_error(const char *text, unsigned int nodes, const char *message)
{
	uint32_t subnet = 0x01020304;
	unsigned int prefix = 7;

	err[0] = '\0';
	assert_int_equal(lab_parse_subnet(text, nodes, &subnet, &prefix, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, message);
	/* Nothing is written on failure. */
	assert_int_equal(subnet, 0x01020304);
	assert_int_equal(prefix, 7);
}

static void test_subnet_errors(void **state)
{
	(void)state;
	expect_subnet_error("10.77.0.1/16", 3,
			    "\"10.77.0.1/16\" has host bits set; did you mean 10.77.0.0/16?");
	expect_subnet_error("10.77.3.0/20", 3,
			    "\"10.77.3.0/20\" has host bits set; did you mean 10.77.0.0/20?");
	expect_subnet_error("192.168.1.0/24", 300, "a /24 holds 254 hosts, too few for 300 nodes");
	expect_subnet_error("10.0.0.0/31", 1, "a /31 holds 0 hosts, too few for 1 node");
	expect_subnet_error("10.77.0.0", 3,
			    "\"10.77.0.0\" is not ADDRESS/PREFIX (e.g. 10.77.0.0/16)");
	expect_subnet_error("10.77.0/16", 3, "\"10.77.0/16\": 10.77.0 is not an IPv4 address");
	expect_subnet_error("/16", 3, "\"/16\": the address is not an IPv4 address");
	expect_subnet_error("10.77.0.0/", 3, "\"10.77.0.0/\": the prefix length must be 0 to 32");
	expect_subnet_error("10.77.0.0/33", 3,
			    "\"10.77.0.0/33\": the prefix length must be 0 to 32");
	expect_subnet_error("10.77.0.0/+6", 3,
			    "\"10.77.0.0/+6\": the prefix length must be 0 to 32");
	expect_subnet_error("10.77.0.0/16x", 3,
			    "\"10.77.0.0/16x\": the prefix length must be 0 to 32");
	expect_subnet_error(
		"127.0.0.0/8", 3,
		"\"127.0.0.0/8\" is not a unicast network (0/8, 127/8 and 224/3 cannot hold nodes)");
	expect_subnet_error(
		"239.1.0.0/16", 3,
		"\"239.1.0.0/16\" is not a unicast network (0/8, 127/8 and 224/3 cannot hold nodes)");
}

static void test_node_addresses(void **state)
{
	struct lab_config cfg = {
		.name = "capnet", .nodes = 300, .subnet = 0x0a4d0000, .prefix = 16
	};
	uint8_t mac[6];

	(void)state;
	assert_int_equal(lab_node_addr(&cfg, 3), 0x0a4d0003);
	/* Node 258 is past the first 256: the address and the MAC both carry into the next byte. */
	assert_int_equal(lab_node_addr(&cfg, 258), 0x0a4d0102);
	lab_node_mac(258, mac);
	assert_memory_equal(mac, ((uint8_t[]){ 0x02, 0xca, 0xfe, 0x00, 0x01, 0x02 }), 6);
	lab_node_mac(1, mac);
	assert_memory_equal(mac, ((uint8_t[]){ 0x02, 0xca, 0xfe, 0x00, 0x00, 0x01 }), 6);
	lab_node_mac(1000, mac);
	assert_memory_equal(mac, ((uint8_t[]){ 0x02, 0xca, 0xfe, 0x00, 0x03, 0xe8 }), 6);
	cfg.subnet = 0xc0a80700;
	cfg.prefix = 24;
	assert_int_equal(lab_node_addr(&cfg, 254), 0xc0a807fe);
}

static void test_namespace_names(void **state)
{
	char buf[64];

	(void)state;
	lab_switch_ns("capnet", buf, sizeof(buf));
	assert_string_equal(buf, "capnet-sw");
	lab_node_ns("capnet", 258, buf, sizeof(buf));
	assert_string_equal(buf, "capnet-n258");

	assert_int_equal(lab_ns_index("a", "a-sw"), 0);
	assert_int_equal(lab_ns_index("a", "a-n1"), 1);
	assert_int_equal(lab_ns_index("a", "a-n1000"), 1000);
	assert_int_equal(lab_ns_index("a", "a-n1001"), -1);
	assert_int_equal(lab_ns_index("a", "a-n01"), -1);
	assert_int_equal(lab_ns_index("a", "a-n0"), -1);
	assert_int_equal(lab_ns_index("a", "a-n"), -1);
	assert_int_equal(lab_ns_index("a", "a-n99999999999"), -1);
	assert_int_equal(lab_ns_index("a", "a-n1x"), -1);
	assert_int_equal(lab_ns_index("a", "a-swx"), -1);
	assert_int_equal(lab_ns_index("a", "ab-n1"), -1);
	assert_int_equal(lab_ns_index("a", "a"), -1);
	/* Labs whose names share a prefix never claim each other's namespaces. */
	assert_int_equal(lab_ns_index("a", "a-n1-n2"), -1);
	assert_int_equal(lab_ns_index("a", "a-n1-sw"), -1);
	assert_int_equal(lab_ns_index("a-n1", "a-n1-n2"), 2);
	assert_int_equal(lab_ns_index("a-n1", "a-n1"), -1);
	assert_int_equal(lab_ns_index("a-b", "a-b-n1"), 1);
	assert_int_equal(lab_ns_index("a", "a-b-n1"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_names),	cmocka_unit_test(test_subnet_parse),
		cmocka_unit_test(test_subnet_errors),	cmocka_unit_test(test_node_addresses),
		cmocka_unit_test(test_namespace_names),
	};

	return cmocka_run_group_tests_name("topology_names", tests, NULL, NULL);
}
