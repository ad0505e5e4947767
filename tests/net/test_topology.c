// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of the lab topology: what `up` leaves in the kernel (namespaces, bridge, ports,
 * addresses, MACs, no neighbour entries), real UDP over IPv4 and IPv6 between nodes, refusing to
 * build over an existing lab, `down` (idempotent, also after a crashed up, never touching a lab
 * whose name shares a prefix), `discover` on healthy and broken labs, and the time of a 64-node
 * up and down (printed; CAPNET_TEST_NODES=N times a lab of N nodes too). */
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <cmocka.h>

#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/explain.h"
#include "netem/lab/topology.h"

#define NODES 3
#define UDP_PORT 7998

/* Every lab a test may make: removed by the group teardown and again at exit. */
static char lab[LAB_NAME_MAX + 1], lab_other[LAB_NAME_MAX + 1], lab_prefix[LAB_NAME_MAX + 1];
static char errbuf[8192];

static void remove_labs(void)
{
	const char *labs[] = { lab, lab_other, lab_prefix };

	for (size_t i = 0; i < sizeof(labs) / sizeof(labs[0]); i++)
		if (labs[i][0])
			lab_topology_down(labs[i]);
}

static void on_signal(int sig)
{
	remove_labs();
	signal(sig, SIG_DFL);
	raise(sig);
}

static struct lab_config config(const char *name, unsigned int nodes)
{
	struct lab_config cfg = { .nodes = nodes, .subnet = 0x0a4d0000, .prefix = 16 };

	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	return cfg;
}

/* What the code under test said, into errbuf, for the tests that expect a message: its stderr,
 * then the message it left for its caller (lib/report.h), a line of its own. */
static int saved_stderr = -1;
static FILE *captured;

static void capture_begin(void)
{
	fflush(stderr);
	captured = tmpfile();
	assert_non_null(captured);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(captured), STDERR_FILENO);
}

static const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(captured);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, captured);
	errbuf[n] = '\0';
	fclose(captured);
	if (error_message())
		snprintf(errbuf + n, sizeof(errbuf) - n, "%s\n", error_reason(0));
	return errbuf;
}

static bool ns_exists(const char *ns)
{
	int fd = netns_open(ns);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* How many namespaces under /run/netns start with `prefix`. */
static int count_ns_with_prefix(const char *prefix)
{
	char buf[4096];
	FILE *p;
	int n = 0;

	snprintf(buf, sizeof(buf), "ls -1 %s 2>/dev/null", NETNS_RUN_DIR);
	p = popen(buf, "r");
	assert_non_null(p);
	while (fgets(buf, sizeof(buf), p))
		if (!strncmp(buf, prefix, strlen(prefix)))
			n++;
	pclose(p);
	return n;
}

static struct nl_sock *nl_in(const char *ns)
{
	struct nl_sock *sk = nl_socket_alloc();
	int saved;

	assert_non_null(sk);
	saved = netns_enter(ns);
	assert_true(saved >= 0);
	assert_int_equal(nl_connect(sk, NETLINK_ROUTE), 0);
	assert_int_equal(netns_return(saved), 0);
	return sk;
}

static int socket_in(const char *ns, int family, int type)
{
	int saved = netns_enter(ns), fd;

	assert_true(saved >= 0);
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(netns_return(saved), 0);
	return fd;
}

/* A sysctl as seen from inside a namespace; "" if the key does not exist. */
static void sysctl_in(const char *ns, const char *path, char *val, size_t len)
{
	int saved = netns_enter(ns), fd;
	ssize_t n = 0;

	assert_true(saved >= 0);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, val, len - 1);
		close(fd);
	}
	val[n > 0 ? n : 0] = '\0';
	val[strcspn(val, "\n")] = '\0';
	assert_int_equal(netns_return(saved), 0);
}

/* The output of a command run by the test itself, to see the lab through iproute2's eyes. */
static void run(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t used = 0, n;
	char rest[4096];

	assert_non_null(p);
	while ((n = fread(out + used, 1, len - 1 - used, p)) > 0)
		used += n;
	/* Read what did not fit, so the command never dies of a broken pipe. */
	while (fread(rest, 1, sizeof(rest), p) > 0)
		;
	out[used] = '\0';
	if (pclose(p) != 0)
		fail_msg("%s failed", cmd);
}

static int setup_lab(void **state)
{
	struct lab_config cfg = config(lab, NODES);

	(void)state;
	return lab_topology_up(&cfg);
}

static int teardown_lab(void **state)
{
	(void)state;
	remove_labs();
	return 0;
}

static void test_up_builds_the_lab(void **state)
{
	struct lab_config cfg = config(lab, NODES);
	char sw[64], ns[64], val[64], cmd[160], out[1 << 17];
	struct nl_cache *links, *addrs, *neighs;
	struct rtnl_link *br, *link;
	struct nl_sock *sk;
	int bridge;

	(void)state;
	lab_switch_ns(lab, sw, sizeof(sw));
	assert_true(ns_exists(sw));

	/* The switch: br0 up, a port per node, enslaved and up. */
	sk = nl_in(sw);
	assert_int_equal(rtnl_link_alloc_cache(sk, AF_UNSPEC, &links), 0);
	br = rtnl_link_get_by_name(links, "br0");
	assert_non_null(br);
	assert_string_equal(rtnl_link_get_type(br), "bridge");
	assert_true(rtnl_link_get_flags(br) & IFF_UP);
	bridge = rtnl_link_get_ifindex(br);
	rtnl_link_put(br);
	for (unsigned int i = 1; i <= NODES; i++) {
		char port[16];

		snprintf(port, sizeof(port), "p%u", i);
		link = rtnl_link_get_by_name(links, port);
		assert_non_null(link);
		assert_string_equal(rtnl_link_get_type(link), "veth");
		assert_int_equal(rtnl_link_get_master(link), bridge);
		assert_true(rtnl_link_get_flags(link) & IFF_UP);
		rtnl_link_put(link);
	}
	link = rtnl_link_get_by_name(links, "p4");
	assert_null(link);
	nl_cache_free(links);
	nl_socket_free(sk);

	/* Forward delay 0, no STP and no multicast snooping, as iproute2 reports them. */
	snprintf(cmd, sizeof(cmd), "ip -n %s -j -d link show br0", sw);
	run(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "\"forward_delay\":0"));
	assert_non_null(strstr(out, "\"stp_state\":0"));
	assert_non_null(strstr(out, "\"mcast_snooping\":0"));
	/* Bridge netfilter off where br_netfilter is loaded (absent keys are fine). */
	sysctl_in(sw, "/proc/sys/net/bridge/bridge-nf-call-iptables", val, sizeof(val));
	assert_true(!strcmp(val, "") || !strcmp(val, "0"));
	sysctl_in(sw, "/proc/sys/net/bridge/bridge-nf-call-ip6tables", val, sizeof(val));
	assert_true(!strcmp(val, "") || !strcmp(val, "0"));

	for (unsigned int i = 1; i <= NODES; i++) {
		struct rtnl_neigh *neigh;
		struct rtnl_addr *addr;
		struct nl_object *obj;
		uint8_t mac[6];
		int eth0, found = 0;

		lab_node_ns(lab, i, ns, sizeof(ns));
		assert_true(ns_exists(ns));
		sk = nl_in(ns);
		assert_int_equal(rtnl_link_alloc_cache(sk, AF_UNSPEC, &links), 0);
		link = rtnl_link_get_by_name(links, "lo");
		assert_non_null(link);
		assert_true(rtnl_link_get_flags(link) & IFF_UP);
		rtnl_link_put(link);
		link = rtnl_link_get_by_name(links, "eth0");
		assert_non_null(link);
		assert_true(rtnl_link_get_flags(link) & IFF_UP);
		lab_node_mac(i, mac);
		assert_int_equal(nl_addr_get_len(rtnl_link_get_addr(link)), 6);
		assert_memory_equal(nl_addr_get_binary_addr(rtnl_link_get_addr(link)), mac, 6);
		eth0 = rtnl_link_get_ifindex(link);
		rtnl_link_put(link);
		nl_cache_free(links);

		/* The node's address, once, on eth0. */
		assert_int_equal(rtnl_addr_alloc_cache(sk, &addrs), 0);
		for (obj = nl_cache_get_first(addrs); obj; obj = nl_cache_get_next(obj)) {
			addr = (struct rtnl_addr *)obj;
			if (rtnl_addr_get_family(addr) != AF_INET ||
			    rtnl_addr_get_ifindex(addr) != eth0)
				continue;
			assert_int_equal(rtnl_addr_get_prefixlen(addr), 16);
			assert_int_equal(ntohl(*(uint32_t *)nl_addr_get_binary_addr(
						 rtnl_addr_get_local(addr))),
					 lab_node_addr(&cfg, i));
			found++;
		}
		assert_int_equal(found, 1);
		nl_cache_free(addrs);

		/* No neighbour entries at all: ARP is answered at the switch, when a node asks,
		 * not laid down for every peer beforehand (N(N-1) of them). */
		assert_int_equal(rtnl_neigh_alloc_cache(sk, &neighs), 0);
		found = 0;
		for (obj = nl_cache_get_first(neighs); obj; obj = nl_cache_get_next(obj)) {
			neigh = (struct rtnl_neigh *)obj;
			if (rtnl_neigh_get_family(neigh) == AF_INET)
				found++;
		}
		assert_int_equal(found, 0);
		nl_cache_free(neighs);
		nl_socket_free(sk);

		sysctl_in(ns, "/proc/sys/net/ipv6/conf/eth0/accept_dad", val, sizeof(val));
		assert_string_equal(val, "0");
	}

	/* iproute2 sees named namespaces it could have made itself. */
	run("ip netns list", out, sizeof(out));
	assert_non_null(strstr(out, sw));
	lab_node_ns(lab, 1, ns, sizeof(ns));
	snprintf(cmd, sizeof(cmd), "ip -n %s -j addr show dev eth0", ns);
	run(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "\"local\":\"10.77.0.1\""));
}

/* One datagram from node `from` to node `to`, checked for payload and source. */
static void udp_between(int family, unsigned int from, unsigned int to)
{
	struct lab_config cfg = config(lab, NODES);
	struct sockaddr_storage dst = { 0 }, src = { 0 }, bind_to = { 0 };
	char ns_from[64], ns_to[64], payload[64], buf[128];
	socklen_t srclen = sizeof(src), alen;
	int tx, rx, ifindex;
	double start = monotonic_s(), deadline = start + 2;
	ssize_t n = -1;

	lab_node_ns(lab, from, ns_from, sizeof(ns_from));
	lab_node_ns(lab, to, ns_to, sizeof(ns_to));
	tx = socket_in(ns_from, family, SOCK_DGRAM);
	rx = socket_in(ns_to, family, SOCK_DGRAM);
	if (family == AF_INET) {
		struct sockaddr_in *d = (struct sockaddr_in *)&dst;
		struct sockaddr_in *b = (struct sockaddr_in *)&bind_to;

		b->sin_family = AF_INET;
		b->sin_port = htons(UDP_PORT);
		d->sin_family = AF_INET;
		d->sin_port = htons(UDP_PORT);
		d->sin_addr.s_addr = htonl(lab_node_addr(&cfg, to));
		alen = sizeof(*d);
	} else {
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst;
		struct sockaddr_in6 *b = (struct sockaddr_in6 *)&bind_to;
		uint8_t mac[6];
		int saved;

		b->sin6_family = AF_INET6;
		b->sin6_port = htons(UDP_PORT);
		/* The link-local address eth0 derives from its MAC (EUI-64). */
		lab_node_mac(to, mac);
		d->sin6_family = AF_INET6;
		d->sin6_port = htons(UDP_PORT);
		d->sin6_addr.s6_addr[0] = 0xfe;
		d->sin6_addr.s6_addr[1] = 0x80;
		d->sin6_addr.s6_addr[8] = mac[0] ^ 0x02;
		d->sin6_addr.s6_addr[9] = mac[1];
		d->sin6_addr.s6_addr[10] = mac[2];
		d->sin6_addr.s6_addr[11] = 0xff;
		d->sin6_addr.s6_addr[12] = 0xfe;
		d->sin6_addr.s6_addr[13] = mac[3];
		d->sin6_addr.s6_addr[14] = mac[4];
		d->sin6_addr.s6_addr[15] = mac[5];
		saved = netns_enter(ns_from);
		assert_true(saved >= 0);
		ifindex = if_nametoindex("eth0");
		assert_int_equal(netns_return(saved), 0);
		assert_true(ifindex > 0);
		d->sin6_scope_id = ifindex;
		alen = sizeof(*d);
	}
	assert_int_equal(bind(rx, (struct sockaddr *)&bind_to, alen), 0);
	snprintf(payload, sizeof(payload), "capnet topology %u->%u", from, to);
	/* IPv6 addresses leave the tentative state from a work queue, a moment after eth0 is up;
	 * resend until one arrives, within a bound. */
	while (n < 0 && monotonic_s() < deadline) {
		struct pollfd pfd = { .fd = rx, .events = POLLIN };

		sendto(tx, payload, strlen(payload), 0, (struct sockaddr *)&dst, alen);
		if (poll(&pfd, 1, 50) == 1)
			n = recvfrom(rx, buf, sizeof(buf), 0, (struct sockaddr *)&src, &srclen);
	}
	assert_int_equal(n, (ssize_t)strlen(payload));
	assert_memory_equal(buf, payload, n);
	if (family == AF_INET)
		assert_int_equal(ntohl(((struct sockaddr_in *)&src)->sin_addr.s_addr),
				 lab_node_addr(&cfg, from));
	printf("# UDP over IPv%d, node %u -> node %u: arrived after %.1f ms\n",
	       family == AF_INET ? 4 : 6, from, to, (monotonic_s() - start) * 1e3);
	close(tx);
	close(rx);
}

static void test_udp_arrives(void **state)
{
	(void)state;
	udp_between(AF_INET, 1, 3);
	udp_between(AF_INET, 3, 1);
	udp_between(AF_INET6, 1, 3);
}

static void test_discover(void **state)
{
	static struct lab_info info;
	char sw[64];
	struct nl_cache *links;
	struct nl_sock *sk;

	(void)state;
	assert_int_equal(lab_topology_discover(lab, &info), 0);
	assert_string_equal(info.name, lab);
	assert_int_equal(info.nodes, NODES);
	lab_switch_ns(lab, sw, sizeof(sw));
	sk = nl_in(sw);
	assert_int_equal(rtnl_link_alloc_cache(sk, AF_UNSPEC, &links), 0);
	for (unsigned int i = 1; i <= NODES; i++) {
		char port[16];

		snprintf(port, sizeof(port), "p%u", i);
		assert_int_equal(info.port_ifindex[i], rtnl_link_name2i(links, port));
	}
	assert_int_equal(info.port_ifindex[NODES + 1], 0);
	nl_cache_free(links);
	nl_socket_free(sk);
}

static void test_up_twice_changes_nothing(void **state)
{
	struct lab_config cfg = config(lab, 5);
	static struct lab_info before, after;
	char ns[64], want[160];

	(void)state;
	assert_int_equal(lab_topology_discover(lab, &before), 0);
	capture_begin();
	assert_int_equal(lab_topology_up(&cfg), -EEXIST);
	capture_end();
	snprintf(want, sizeof(want),
		 "lab \"%s\" already exists (capnet --lab %s down removes it)\n", lab, lab);
	assert_string_equal(errbuf, want);
	assert_int_equal(lab_topology_discover(lab, &after), 0);
	assert_int_equal(after.nodes, NODES);
	assert_memory_equal(before.port_ifindex, after.port_ifindex, sizeof(before.port_ifindex));
	lab_node_ns(lab, 4, ns, sizeof(ns));
	assert_false(ns_exists(ns));
}

/* Any single namespace of a lab is enough to refuse, and nothing else gets made. */
static void test_up_refuses_leftover(void **state)
{
	struct lab_config cfg = config(lab_other, 2);
	char ns[64];

	(void)state;
	lab_node_ns(lab_other, 7, ns, sizeof(ns));
	assert_int_equal(netns_create(ns), 0);
	capture_begin();
	assert_int_equal(lab_topology_up(&cfg), -EEXIST);
	capture_end();
	assert_non_null(strstr(errbuf, "already exists"));
	assert_int_equal(count_ns_with_prefix(lab_other), 1);
	assert_int_equal(lab_topology_down(lab_other), 0);
	assert_int_equal(count_ns_with_prefix(lab_other), 0);
}

static void test_down_removes_everything(void **state)
{
	static struct lab_info info;
	char prefix[64];

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s-", lab);
	assert_int_equal(count_ns_with_prefix(prefix), NODES + 1);
	assert_int_equal(lab_topology_down(lab), 0);
	assert_int_equal(count_ns_with_prefix(prefix), 0);
	assert_int_equal(lab_topology_discover(lab, &info), -ENOENT);
	assert_int_equal(info.nodes, 0);
	/* Idempotent. */
	assert_int_equal(lab_topology_down(lab), 0);
	assert_int_equal(lab_topology_down(lab), 0);
}

/* A lab named like another lab's node namespace: each down removes its own lab only. */
static void test_down_keeps_other_labs(void **state)
{
	struct lab_config cfg = config(lab_prefix, 2);
	char prefix[64];

	(void)state;
	/* lab_prefix is "<lab>-n1": its namespaces are <lab>-n1-sw, <lab>-n1-n1, <lab>-n1-n2. */
	assert_int_equal(lab_topology_up(&cfg), 0);
	assert_int_equal(lab_topology_down(lab), 0);
	snprintf(prefix, sizeof(prefix), "%s-", lab_prefix);
	assert_int_equal(count_ns_with_prefix(prefix), 3);
	assert_int_equal(lab_topology_down(lab_prefix), 0);
	assert_int_equal(count_ns_with_prefix(prefix), 0);
}

static void expect_broken(const char *what)
{
	static struct lab_info info;

	capture_begin();
	assert_int_equal(lab_topology_discover(lab, &info), -EIO);
	capture_end();
	if (!strstr(errbuf, what))
		fail_msg("discover said \"%s\", expected it to mention \"%s\"", errbuf, what);
	assert_int_equal(info.nodes, 0);
}

static void expect_clean_after_down(void)
{
	char prefix[64];

	assert_int_equal(lab_topology_down(lab), 0);
	snprintf(prefix, sizeof(prefix), "%s-", lab);
	assert_int_equal(count_ns_with_prefix(prefix), 0);
}

static void test_broken_missing_node(void **state)
{
	char ns[64], what[128];

	(void)state;
	lab_node_ns(lab, 2, ns, sizeof(ns));
	assert_int_equal(netns_delete(ns), 0);
	snprintf(what, sizeof(what), "%s-n2 is missing but %s-n3 exists", lab, lab);
	expect_broken(what);
	expect_clean_after_down();
}

static void test_broken_missing_port(void **state)
{
	struct rtnl_link *port = rtnl_link_alloc();
	struct nl_sock *sk;
	char sw[64];

	(void)state;
	lab_switch_ns(lab, sw, sizeof(sw));
	sk = nl_in(sw);
	rtnl_link_set_name(port, "p2");
	assert_int_equal(rtnl_link_delete(sk, port), 0);
	rtnl_link_put(port);
	nl_socket_free(sk);
	expect_broken("port p2 is missing");
	expect_clean_after_down();
}

/* An up that died inside netns_create leaves a bare file, not a namespace. */
static void test_broken_crashed_create(void **state)
{
	char ns[64], path[128];
	int fd;

	(void)state;
	lab_node_ns(lab, 4, ns, sizeof(ns));
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, ns);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s-n4 is not a namespace", lab);
	expect_broken(path);
	expect_clean_after_down();
}

static void test_broken_no_switch(void **state)
{
	static struct lab_info info;
	char sw[64];

	(void)state;
	lab_switch_ns(lab, sw, sizeof(sw));
	assert_int_equal(netns_delete(sw), 0);
	assert_int_equal(lab_topology_discover(lab, &info), -ENOENT);
	expect_clean_after_down();
}

static void time_lab(unsigned int nodes)
{
	struct lab_config cfg = config(lab, nodes);
	static struct lab_info info;
	double t0, t1, t2, t3;

	/* The kernel frees removed namespaces from a work queue, holding locks that up needs: let
	 * it finish with earlier labs so the time is up's own. */
	sleep(2);
	t0 = monotonic_s();
	assert_int_equal(lab_topology_up(&cfg), 0);
	t1 = monotonic_s();
	assert_int_equal(lab_topology_discover(lab, &info), 0);
	t2 = monotonic_s();
	assert_int_equal(info.nodes, nodes);
	assert_int_equal(lab_topology_down(lab), 0);
	t3 = monotonic_s();
	printf("# %u nodes: up %.3f s, discover %.3f s, down %.3f s\n", nodes, t1 - t0, t2 - t1,
	       t3 - t2);
}

static void test_timing(void **state)
{
	const char *big = getenv("CAPNET_TEST_NODES");

	(void)state;
	time_lab(64);
	if (big && atoi(big) > 0)
		time_lab(atoi(big));
}

static int group_teardown(void **state)
{
	(void)state;
	remove_labs();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_up_builds_the_lab, setup_lab, teardown_lab),
		cmocka_unit_test_setup_teardown(test_udp_arrives, setup_lab, teardown_lab),
		cmocka_unit_test_setup_teardown(test_discover, setup_lab, teardown_lab),
		cmocka_unit_test_setup_teardown(test_up_twice_changes_nothing, setup_lab,
						teardown_lab),
		cmocka_unit_test_teardown(test_up_refuses_leftover, teardown_lab),
		cmocka_unit_test_setup_teardown(test_down_removes_everything, setup_lab,
						teardown_lab),
		cmocka_unit_test_setup_teardown(test_down_keeps_other_labs, setup_lab,
						teardown_lab),
		cmocka_unit_test_setup_teardown(test_broken_missing_node, setup_lab, teardown_lab),
		cmocka_unit_test_setup_teardown(test_broken_missing_port, setup_lab, teardown_lab),
		cmocka_unit_test_setup_teardown(test_broken_crashed_create, setup_lab,
						teardown_lab),
		cmocka_unit_test_setup_teardown(test_broken_no_switch, setup_lab, teardown_lab),
		cmocka_unit_test_teardown(test_timing, teardown_lab),
	};

	if (geteuid() != 0) {
		printf("test_topology: SKIP: needs root (creates network namespaces)\n");
		return 77;
	}
	snprintf(lab, sizeof(lab), "tt%d", (int)getpid());
	snprintf(lab_other, sizeof(lab_other), "tt%dx", (int)getpid());
	snprintf(lab_prefix, sizeof(lab_prefix), "tt%d-n1", (int)getpid());
	atexit(remove_labs);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	return cmocka_run_group_tests_name("topology", tests, NULL, group_teardown);
}
