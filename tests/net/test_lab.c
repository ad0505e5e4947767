// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of a lab's life through the capnet CLI: up, --explain, exec, status of a lab whose
 * BPF state is gone, down that is idempotent and cleans the remains of a crashed up, the errors
 * an unprivileged user gets, and that nothing is left behind. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <net/if.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "netem/filter/filter.h"
#include "netem/lab/topology.h"
#include "netem/svc/nodes.h"
#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 20];

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool netns_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return path_exists(path);
}

/* Nothing of the lab may remain: no namespace (by its exact names), no pins. */
static void assert_lab_gone(unsigned int nodes)
{
	char name[128], pins[256];
	unsigned int i;

	snprintf(name, sizeof(name), "%s-sw", lab);
	assert_false(netns_exists(name));
	for (i = 1; i <= nodes; i++) {
		snprintf(name, sizeof(name), "%s-n%u", lab, i);
		if (netns_exists(name))
			fail_msg("namespace %s is left after down", name);
	}
	filter_pin_dir(lab, pins, sizeof(pins));
	assert_false(path_exists(pins));
}

/* Runs capnet with --explain on the lab, appending its "+ " lines, as a script, to `script`. */
static void record(const char *script, const char *command)
{
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "%s --lab %s --explain %s > %s.out && sed -n 's/^+ //p' %s.out >> %s "
			  "&& rm %s.out",
			  getenv("CAPNET"), lab, command, script, script, script, script),
		0);
}

/* Plays a recorded script with sh -e, from the top of the repository (the BPF object). */
static void replay(const char *script)
{
	if (netlab_sh(out, sizeof(out), "sh -e %s", script))
		fail_msg("replaying %s failed: %s", script, out);
}

/* Delivery of 20 datagrams on every link: got[s][d] against the links that must carry none. */
static void assert_carries(struct netlab_udp *u, const char *cut)
{
	static unsigned int got[NETLAB_MAX + 1][NETLAB_MAX + 1];
	unsigned int s, d;
	char link[8];

	assert_int_equal(netlab_udp_exchange(u, 20, 0, 0, got), 0);
	for (s = 1; s <= 3; s++)
		for (d = 1; d <= 3; d++) {
			snprintf(link, sizeof(link), "%u%u", s, d);
			if (s == d)
				continue;
			if (got[s][d] != (strstr(cut, link) ? 0u : 20u))
				fail_msg("link %u -> %u carried %u of 20 (cut: %s)", s, d,
					 got[s][d], cut);
		}
}

/* The "+ " lines of up --hook clsact, cut, link --loss, partition, heal and down are a script:
 * played by hand, they build a lab capnet status accepts, whose filter drops exactly what
 * capnet's did. */
static void test_explain_replays(void **state)
{
	char built[] = "/tmp/capnet-explain-XXXXXX", script[64], healed[64], down[64];
	char expected[4096];
	struct netlab_udp u;
	int fd;

	(void)state;
	fd = mkstemp(built);
	assert_true(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script), "%s", built);
	snprintf(healed, sizeof(healed), "%s.heal", built);
	snprintf(down, sizeof(down), "%s.down", built);
	/* capnet does it all, saying how. */
	record(script, "up -n 3 --hook clsact");
	record(script, "cut 1 2");
	record(script, "link 2 3 --loss 100% --one-way");
	record(script, "partition 1 2,3");
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	snprintf(expected, sizeof(expected), "%s", strstr(out, "partition: "));
	*strchr(expected, '\n') = 0;
	record(healed, "heal --links");
	record(down, "down");
	/* The hand-built lab. */
	replay(script);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, expected));
	assert_non_null(strstr(out, "link 2 -> 3: loss 100%"));
	assert_non_null(strstr(out, "filter: on 3/3 ports (clsact)"));
	assert_int_equal(netlab_udp_open(&u, lab, 3), 0);
	/* 1 | 2,3, and 2 -> 3 lost. */
	assert_carries(&u, "12 21 13 31 23");
	replay(healed);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "partition: healthy"));
	assert_carries(&u, "");
	netlab_udp_close(&u);
	replay(down);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 1);
	assert_non_null(strstr(out, "no lab"));
	unlink(script);
	unlink(healed);
	unlink(down);
}

/* The default hook's lines replay too: the ports bound to the lab's shared blocks by tc, the
 * blocks' filters added once, and the record of the blocks that the whole-lab check reads. */
static void test_explain_blocks_replays(void **state)
{
	char script[] = "/tmp/capnet-explain-blocks-XXXXXX", down[64];
	struct netlab_udp u;
	int fd;

	(void)state;
	fd = mkstemp(script);
	assert_true(fd >= 0);
	close(fd);
	snprintf(down, sizeof(down), "%s.down", script);
	record(script, "up -n 3");
	record(script, "partition 1 2,3");
	record(down, "down");
	replay(script);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "partition: 1 | 2,3"));
	assert_non_null(strstr(out, "filter: on 3/3 ports (blocks)"));
	assert_int_equal(netlab_udp_open(&u, lab, 3), 0);
	assert_carries(&u, "12 21 13 31");
	netlab_udp_close(&u);
	replay(down);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 1);
	unlink(script);
	unlink(down);
}

/* start's lines start the same services, with the pid files capnet knows them by. */
static void test_explain_start_replays(void **state)
{
	char script[] = "/tmp/capnet-explain-start-XXXXXX";
	int fd;

	(void)state;
	fd = mkstemp(script);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3 --hook clsact"), 0);
	record(script, "start --mode cp");
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain stop"), 0);
	assert_non_null(strstr(out, "+ kill -TERM -- -"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "replicas: none running"));
	replay(script);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "replicas: 1-3 running (cp mode)"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain kill 2"), 0);
	assert_non_null(strstr(out, "+ kill -KILL -- -"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "replicas: 1,3 running"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	unlink(script);
}

static void test_explain_up_and_down(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain up -n 3 --hook tcx"), 0);
	/* Every kind of object is shown as a command a student can replay. */
	assert_non_null(strstr(out, "+ ip netns add "));
	assert_non_null(strstr(out, "type bridge"));
	assert_non_null(strstr(out, "type veth peer name eth0 netns "));
	assert_non_null(strstr(out, "addr add 10.77.0.3/16 dev eth0"));
	assert_non_null(strstr(out, "ingress protocol arp handle 1 pref 1 bpf direct-action"));
	assert_non_null(strstr(out, "bridge-nf-call-iptables=0"));
	assert_non_null(strstr(out, "bpftool net attach tcx_egress pinned "));
	assert_non_null(strstr(out, "/capnet_egress dev p3"));
	assert_non_null(strstr(out, "bpftool map update pinned"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain partition 1 2,3"), 0);
	assert_non_null(strstr(out, "/control key 0 0 0 0 value 1 0 0 0"));
	/* Loss goes into the idle copy (0 now) before the flip: key {copy 0, 1 -> 2}, value
	 * {100000 ppm loss, 0 dup, 0 corrupt, every frame, no flags, pad, seed 0}, as bytes in
	 * memory order. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out),
				       "--explain link 1 2 --loss 10%% --one-way"),
			 0);
	assert_non_null(strstr(out, "/impair key hex 00 00 01 00 02 00 00 00 value hex a0 86 01 00 "
				    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
				    "00 00 00 00 00 00 00 00   # copy 0, 1 -> 2\n"));
	assert_non_null(strstr(out, "/control key 0 0 0 0 value 0 0 0 0"));
	/* The delay line's AF_XDP sockets have no command: its steps are comments, each with
	 * real bytes (key {1, 2}, 10 ms as u64 ns), never a placeholder. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain link 1 2 --delay 10ms"),
			 0);
	assert_non_null(strstr(out, "+ # the delay line is capnet's own process"));
	assert_non_null(strstr(out, "+ #   bpftool map update pinned "));
	assert_non_null(strstr(out, "/delay_links key hex 01 00 02 00 value hex 80 96 98 00 00 "));
	assert_null(strstr(out, "value ..."));
	assert_null(strstr(out, "<generation"));
	for (char *line = strstr(out, "+ "); line; line = strstr(line + 1, "\n+ "))
		if (strncmp(line + (*line == '\n'), "+ #", 3))
			fail_msg("a delay line step that is not a comment: %.80s", line);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain heal --delays"), 0);
	assert_non_null(strstr(out, "+ #   kill -TERM "));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain down"), 0);
	assert_non_null(strstr(out, "+ ip netns del "));
	assert_lab_gone(3);
	/* Idempotent: a second down is fine and says so the same way. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
}

/* The classic hook, for kernels without tcx and for people learning tc: the same filter,
 * visible to tc, and partitions hold through it. */
static void test_clsact_hook(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain up -n 3 --hook clsact"),
			 0);
	assert_non_null(strstr(out, "tc qdisc add dev p3 clsact"));
	assert_non_null(strstr(out, "egress handle 1 pref 1 bpf direct-action pinned "));
	assert_non_null(strstr(out, "filter on every port (clsact)"));
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "nsenter --net=/run/netns/%s-sw tc filter show dev p2 egress",
				   lab),
			 0);
	assert_non_null(strstr(out, "capnet_egress"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "filter: on 3/3 ports (clsact)"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition 3"), 0);
	assert_int_not_equal(
		netlab_capnet(lab, out, sizeof(out), "exec 1 -- ping -c 1 -W 1 10.77.0.3"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "exec 1 -- ping -c 1 -W 1 10.77.0.2"),
			 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "heal"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "exec 1 -- ping -c 1 -W 1 10.77.0.3"),
			 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(3);
	/* A hook that does not exist is refused before anything is built. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3 --hook netem"), 2);
	assert_non_null(strstr(out, "--hook takes tcx or clsact, not \"netem\""));
	assert_lab_gone(3);
}

static void test_exec(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 2"), 0);
	/* The program runs inside the node: it sees eth0 with the node's address. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out),
				       "exec 2 -- sh -c 'cat /sys/class/net/eth0/address; "
				       "echo $CAPNET_NODE'"),
			 0);
	assert_non_null(strstr(out, "02:ca:fe:00:00:02"));
	assert_non_null(strstr(out, "\n2\n"));
	/* Its exit status is ours. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "exec 1 -- sh -c 'exit 7'"), 7);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "exec 3 -- true"), 2);
	assert_non_null(strstr(out, "out of range"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "exec 1 -- no-such-program-x"), 127);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(2);
}

static void test_missing_bpf_state_is_reported(void **state)
{
	char pins[256];

	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3"), 0);
	filter_pin_dir(lab, pins, sizeof(pins));
	assert_int_equal(filter_remove(lab), 0);
	assert_false(path_exists(pins));
	/* Never silently half-working: status and partition refuse, saying why. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 1);
	assert_non_null(strstr(out, "no filter state"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition 1 2"), 1);
	assert_non_null(strstr(out, "no filter state"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(3);
}

static void test_down_cleans_remains_of_crashed_up(void **state)
{
	char name[128], cmd[256];

	(void)state;
	/* What a crash halfway through up leaves: some namespaces, no switch, no pins. */
	snprintf(name, sizeof(name), "%s-n2", lab);
	snprintf(cmd, sizeof(cmd), "ip netns add %s && ip netns add %s-n5", name, lab);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 5"), 1);
	assert_non_null(strstr(out, "exists"));
	/* up refused without touching anything: the namespaces are still the same two. */
	assert_true(netns_exists(name));
	snprintf(name, sizeof(name), "%s-sw", lab);
	assert_false(netns_exists(name));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(5);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 5"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(5);
}

/* A lab name with a '.' is refused by the name check, before anything is made: bpffs would
 * refuse its pin directory only after the namespaces and the run directory exist. */
static void test_dotted_lab_name_refused(void **state)
{
	char dotted[64], path[128];
	struct stat st;

	(void)state;
	snprintf(dotted, sizeof(dotted), "%s.y", lab);
	assert_int_equal(netlab_capnet(dotted, out, sizeof(out), "up -n 2"), 2);
	assert_non_null(strstr(out, "has '.' at position"));
	assert_non_null(strstr(out, "use letters, digits, '_' and '-'"));
	snprintf(path, sizeof(path), "/run/capnet/%s", dotted);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "/sys/fs/bpf/capnet/%s", dotted);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s-n1", dotted);
	assert_false(netns_exists(path));
}

/* Every command that reads or changes the policy, or starts replicas, and what it is given. */
static const char *const acting[] = {
	"partition 40",	       "cut 1 2",	  "heal",
	"link 1 2 --loss 10%", "start --mode cp", "watch --count 1 --duration 1",
};

static void expect_refused(const char *why, unsigned int asked)
{
	char remedy[96], captrace[512], dir[] = "/tmp/capnet-test-rec-XXXXXX";
	size_t i;

	snprintf(remedy, sizeof(remedy), "up -n %u", asked);
	for (i = 0; i < sizeof(acting) / sizeof(acting[0]); i++) {
		if (netlab_capnet(lab, out, sizeof(out), "%s", acting[i]) != 1 ||
		    !strstr(out, why) || !strstr(out, remedy))
			fail_msg("capnet %s on a lab that is not whole: %s", acting[i], out);
	}
	/* status shows what it can, and fails all the same. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 1);
	assert_non_null(strstr(out, why));
	/* and says so to a JSON reader, however far up got */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status --json"), 1);
	assert_non_null(strstr(out, "\"whole\":false,\"not_whole\":\""));
	assert_non_null(mkdtemp(dir));
	netlab_sibling("captrace", captrace, sizeof(captrace));
	assert_int_equal(netlab_sh(out, sizeof(out), "%s --lab %s record -o %s/r --duration 1",
				   captrace, lab, dir),
			 1);
	assert_non_null(strstr(out, why));
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
}

/* An `up` killed at any moment leaves a lab that every acting command refuses, naming the size
 * it was asked for; `down` then leaves nothing. */
static void test_killed_up_is_refused(void **state)
{
	/* Every phase of up, in order; the test hook parks up in each one, so the kill lands
	 * there on any machine, however fast it builds or attaches. */
	static const char *const phases[] = { "recorded",    "half-built", "built",
					      "maps-pinned", "pinned",	   "filter-attached",
					      "attached" };
	static const char *const hooks[] = { "blocks", "clsact", "tcx" };
	char run_dir[256], fifo[64];
	size_t k, h;

	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/capnet-test-phase-%d", (int)getpid());
	for (h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++)
		for (k = 0; k < sizeof(phases) / sizeof(phases[0]); k++) {
			unlink(fifo);
			assert_int_equal(mkfifo(fifo, 0600), 0);
			assert_int_equal(
				netlab_sh(
					out, sizeof(out),
					"f=%s; CAPNET_TEST_STOP_AT=%s CAPNET_TEST_STOP_FIFO=\"$f\" "
					"%s --lab %s up -n 20 --hook %s >/dev/null 2>&1 & " NETLAB_READ_PHASE
					"kill -9 $p; wait $p; echo \"in $phase\"",
					fifo, phases[k], getenv("CAPNET"), lab, hooks[h]),
				0);
			if (!strstr(out, phases[k]))
				fail_msg("up --hook %s never reached phase %s: %s", hooks[h],
					 phases[k], out);
			expect_refused("up -n 20", 20);
			assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
			assert_lab_gone(20);
			run_dir_of_lab(lab, NULL, run_dir, sizeof(run_dir));
			assert_false(path_exists(run_dir));
		}
	unlink(fifo);
	/* The next up of the name works, and the lab it builds is whole. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition 1 2"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
}

/* Two `up`s of one name: the first to record the size builds, the second is refused before it
 * touches anything, whatever phase the first is in; `down` then leaves nothing. Each phase is
 * held by the test hook while the second runs; then both are started at once, unparked. */
static void test_racing_ups_leave_nothing_after_down(void **state)
{
	static const char *const phases[] = { "recorded", "half-built",	     "built",
					      "pinned",	  "filter-attached", "attached" };
	char fifo[64];
	size_t k;
	int i;

	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/capnet-test-race-%d", (int)getpid());
	for (k = 0; k < sizeof(phases) / sizeof(phases[0]); k++) {
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(
			netlab_sh(out, sizeof(out),
				  "f=%s; CAPNET_TEST_STOP_AT=%s CAPNET_TEST_STOP_FIFO=\"$f\" "
				  "%s --lab %s up -n 6 >/dev/null 2>&1 & " NETLAB_READ_PHASE
				  "%s --lab %s up -n 6 2>&1; rc=$?; "
				  "kill -9 $p; wait $p; echo \"second up: $rc in $phase\"",
				  fifo, phases[k], getenv("CAPNET"), lab, getenv("CAPNET"), lab),
			0);
		if (!strstr(out, "second up: 1 in ") || !strstr(out, phases[k]) ||
		    (!strstr(out, "another `up` is building it") && !strstr(out, "already exists")))
			fail_msg("a second up while the first is in %s: %s", phases[k], out);
		assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
		assert_lab_gone(6);
	}
	unlink(fifo);
	for (i = 0; i < 5; i++) {
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "%s --lab %s up -n 6 >/dev/null 2>&1 & a=$!; "
					   "%s --lab %s up -n 6 >/dev/null 2>&1 & b=$!; "
					   "wait $a; ra=$?; wait $b; rb=$?; echo $ra $rb",
					   getenv("CAPNET"), lab, getenv("CAPNET"), lab),
				 0);
		/* One of them built the lab (unless both lost to each other's remains). */
		if (strcmp(out, "0 1\n") && strcmp(out, "1 0\n") && strcmp(out, "1 1\n"))
			fail_msg("two racing ups exited %s", out);
		assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
		assert_lab_gone(6);
	}
}

/* The filter taken off one port by hand: refused as well, naming the port. */
static void test_filter_missing_on_a_port_is_refused(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3 --hook clsact"), 0);
	/* Another filter beside the port's own (the lab's ARP responder stands in for one that
	 * passes every frame: at the same priority it runs first). */
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "nsenter --net=/run/netns/%s-sw tc filter add dev p2 egress handle 2 "
			  "pref 1 protocol all bpf object-pinned "
			  "/sys/fs/bpf/capnet/%s/capnet_arp direct-action",
			  lab, lab),
		0);
	expect_refused("p2 holds 2 filters at egress", 3);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ip netns exec %s-sw tc filter del dev p2 egress", lab),
			 0);
	expect_refused("missing on 1 of 3 ports (first: p2)", 3);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(3);
}

/* A lab on shared blocks (the default hook): a port whose qdisc is gone, or bound to another
 * block, holds no filter, and is refused as a port without its filter is; so is a block that
 * lost its filter, or holds another filter beside the lab's (at the same priority it runs
 * first, and one that passes every frame undoes every partition), and a bridge with a port
 * that is no node's. Put back as `up` bound it, the lab is whole again. */
static void test_port_unbound_from_blocks_is_refused(void **state)
{
	char sw[128];

	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--explain up -n 3"), 0);
	assert_non_null(strstr(out, "tc qdisc add dev p2 ingress_block 2 egress_block 1 clsact"));
	assert_non_null(strstr(out, "tc filter add block 1 handle 1 pref 1 bpf direct-action"));
	assert_non_null(strstr(out, "filter on every port (blocks)"));
	snprintf(sw, sizeof(sw), "nsenter --net=/run/netns/%s-sw", lab);
	assert_int_equal(netlab_sh(out, sizeof(out), "%s tc qdisc del dev p2 clsact", sw), 0);
	expect_refused("1 of 3 ports are not bound to its blocks (egress 1, ingress 2; first: p2)",
		       3);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "%s tc qdisc add dev p2 ingress_block 2 egress_block 7 clsact",
				   sw),
			 0);
	expect_refused("1 of 3 ports are not bound to its blocks (egress 1, ingress 2; first: p2)",
		       3);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "%s tc qdisc del dev p2 clsact && "
				   "%s tc qdisc add dev p2 ingress_block 2 egress_block 1 clsact",
				   sw, sw),
			 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition 1 2,3"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "filter: on 3/3 ports (blocks)"));
	assert_int_not_equal(
		netlab_capnet(lab, out, sizeof(out), "exec 2 -- ping -c 1 -W 1 10.77.0.1"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "exec 2 -- ping -c 1 -W 1 10.77.0.3"),
			 0);
	/* The lab's own ARP responder, added again to the egress block: any second filter. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "%s tc filter add block 1 handle 2 pref 1 protocol all bpf "
				   "object-pinned /sys/fs/bpf/capnet/%s/capnet_arp direct-action",
				   sw, lab),
			 0);
	expect_refused("block 1 (egress) holds 2 filters", 3);
	assert_int_equal(
		netlab_sh(out, sizeof(out), "%s tc filter del block 1 handle 2 pref 1 bpf", sw), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "heal"), 0);
	/* A port on the bridge that is no node's: frames through it leave by no filtered port. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "%s ip link add xa type veth peer name xb && "
				   "%s ip link set xa master br0 up",
				   sw, sw),
			 0);
	expect_refused("xa is a port of its bridge and no node's", 3);
	assert_int_equal(netlab_sh(out, sizeof(out), "%s ip link del xa", sw), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "heal"), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "%s tc filter del block 2", sw), 0);
	expect_refused("block 2 (ingress) does not hold the lab's ARP responder", 3);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(3);
}

/* A program that tcx runs on a port comes before clsact and its blocks, so one that passes
 * every frame undoes every partition: a lab with one is refused, naming the port, whichever
 * hook it uses. The lab's own ARP responder stands in for it. */
static void test_tcx_program_beside_the_filter_is_refused(void **state)
{
	static const char *const hooks[] = { "blocks", "clsact", "tcx" };
	/* tcx's ingress attach type (Linux 6.6), which older uapi headers do not name. */
	const enum bpf_attach_type tcx_ingress = (enum bpf_attach_type)46;
	char path[256], sw[128];
	int saved, prog, err;
	size_t h;

	(void)state;
	for (h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++) {
		assert_int_equal(
			netlab_capnet(lab, out, sizeof(out), "up -n 3 --hook %s", hooks[h]), 0);
		snprintf(path, sizeof(path), "/sys/fs/bpf/capnet/%s/capnet_arp", lab);
		prog = bpf_obj_get(path);
		assert_true(prog >= 0);
		snprintf(sw, sizeof(sw), "%s-sw", lab);
		saved = netns_enter(sw);
		assert_true(saved >= 0);
		err = bpf_prog_attach_opts(prog, (int)if_nametoindex("p3"), tcx_ingress, NULL);
		netns_return(saved);
		close(prog);
		assert_int_equal(err, 0);
		expect_refused("p3 runs another program", 3);
		assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
		assert_lab_gone(3);
	}
}

/* start run again after an earlier one stopped half-way: it starts what is missing and says
 * which nodes already ran, one true sentence; another mode on a running node is refused. */
static void test_start_again(void **state)
{
	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 3"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start 1 --mode cp"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start --mode cp"), 0);
	assert_non_null(strstr(out, "2 capnodes started in cp mode, node 1 already running"));
	assert_null(strstr(out, "already runs"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start 2,3 --mode ap"), 1);
	assert_non_null(strstr(out, "node 2 already runs in cp mode, not ap"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(3);
}

/* Runs capnet as an unprivileged user: it must say root is needed and change nothing. */
static int capnet_as_nobody(const char *args)
{
	return netlab_sh(out, sizeof(out),
			 "setpriv --reuid=65534 --regid=65534 --clear-groups %s --lab %s %s",
			 getenv("CAPNET"), lab, args);
}

static void test_not_root(void **state)
{
	(void)state;
	assert_int_equal(capnet_as_nobody("up -n 2"), 1);
	assert_non_null(strstr(out, "root"));
	assert_lab_gone(2);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 2"), 0);
	assert_int_equal(capnet_as_nobody("partition 1 2"), 1);
	assert_non_null(strstr(out, "root"));
	assert_int_equal(capnet_as_nobody("down"), 1);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status --json"), 0);
	assert_non_null(strstr(out, "\"partition\":\"healthy\""));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(2);
}

static bool alive(long pid)
{
	char path[64], stat[256] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = 0;
	/* A zombie is gone for this purpose: nothing runs, it only waits to be reaped. */
	return !strstr(stat, ") Z ");
}

/* down ends every process in the lab: replicas kept in another run directory, and whatever
 * capnet exec started, so nothing keeps a deleted lab's namespaces alive. */
static void test_down_ends_every_process(void **state)
{
	char dir[] = "/tmp/capnet-lab-XXXXXX", path[128];
	long replica = 0, sleeper = 0;
	FILE *f;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 2"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "start --mode cp --dir %s", dir), 0);
	snprintf(path, sizeof(path), "%s/n1.pid", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &replica), 1);
	fclose(f);
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "(%s --lab %s exec 2 -- sh -c 'echo $$ >%s/sleeper; exec sleep 613' "
			  ">/dev/null 2>&1 &); for i in $(seq 1200); do [ -s %s/sleeper ] && break; "
			  "sleep 0.05; done; cat %s/sleeper",
			  getenv("CAPNET"), lab, dir, dir, dir),
		0);
	sleeper = atol(out);
	assert_true(alive(replica));
	assert_true(sleeper > 1 && alive(sleeper));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	for (i = 0; i < 50 && (alive(replica) || alive(sleeper)); i++)
		usleep(20 * 1000);
	assert_false(alive(replica));
	assert_false(alive(sleeper));
	assert_lab_gone(2);
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
}

static void test_big_lab(void **state)
{
	(void)state;
	/* 64 nodes: the size tools/bench/README.md measures; a partition of a big lab is one flip too. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--json up -n 64"), 0);
	printf("up -n 64: %s", out);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition --preset halves"), 0);
	assert_non_null(strstr(out, "1-32 | 33-64"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(64);
}

/* Counters of a lab whose links outnumber one read of the pass counters (4096): links at the
 * start and at the end of that array land on the right pair of nodes. */
static void test_counters_of_a_big_lab(void **state)
{
	long long passed, dropped, passed_cut;

	(void)state;
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "up -n 100"), 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "partition --preset halves"), 0);
	/* Node 1's IPv6 start-up reports may have reached node 100 before the partition, however
	 * long up and partition took: what the cut link passed so far is the baseline. */
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--json status"), 0);
	passed_cut = netlab_json_number(out, "{\"from\":1,\"to\":100,", "passed");
	if (passed_cut < 0)
		passed_cut = 0;
	/* 25 datagrams 1 -> 100 (cut) and 25 on 99 -> 100 (open), to a port nobody listens on. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "for n in 1 99; do %s --lab %s exec $n -- bash -c "
				   "'for i in $(seq 25); do echo x >/dev/udp/10.77.0.100/9; done'; "
				   "done",
				   getenv("CAPNET"), lab),
			 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "--json status"), 0);
	dropped = netlab_json_number(out, "{\"from\":1,\"to\":100,", "dropped_partition");
	passed = netlab_json_number(out, "{\"from\":99,\"to\":100,", "passed");
	printf("1 -> 100: %lld dropped; 99 -> 100: %lld passed\n", dropped, passed);
	/* A few IPv6 multicast reports of node 1 or 99 may be counted beside the datagrams. */
	assert_in_range(dropped, 25, 35);
	assert_in_range(passed, 25, 35);
	assert_true(netlab_json_number(out, "{\"from\":1,\"to\":100,", "passed") <= passed_cut);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_lab_gone(100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_explain_up_and_down, netlab_teardown),
		cmocka_unit_test_teardown(test_clsact_hook, netlab_teardown),
		cmocka_unit_test_teardown(test_exec, netlab_teardown),
		cmocka_unit_test_teardown(test_missing_bpf_state_is_reported, netlab_teardown),
		cmocka_unit_test_teardown(test_down_cleans_remains_of_crashed_up, netlab_teardown),
		cmocka_unit_test_teardown(test_dotted_lab_name_refused, netlab_teardown),
		cmocka_unit_test_teardown(test_killed_up_is_refused, netlab_teardown),
		cmocka_unit_test_teardown(test_racing_ups_leave_nothing_after_down,
					  netlab_teardown),
		cmocka_unit_test_teardown(test_explain_replays, netlab_teardown),
		cmocka_unit_test_teardown(test_explain_blocks_replays, netlab_teardown),
		cmocka_unit_test_teardown(test_explain_start_replays, netlab_teardown),
		cmocka_unit_test_teardown(test_filter_missing_on_a_port_is_refused,
					  netlab_teardown),
		cmocka_unit_test_teardown(test_port_unbound_from_blocks_is_refused,
					  netlab_teardown),
		cmocka_unit_test_teardown(test_tcx_program_beside_the_filter_is_refused,
					  netlab_teardown),
		cmocka_unit_test_teardown(test_start_again, netlab_teardown),
		cmocka_unit_test_teardown(test_not_root, netlab_teardown),
		cmocka_unit_test_teardown(test_down_ends_every_process, netlab_teardown),
		cmocka_unit_test_teardown(test_big_lab, netlab_teardown),
		cmocka_unit_test_teardown(test_counters_of_a_big_lab, netlab_teardown),
	};

	netlab_require_root("test_lab");
	lab = netlab_unique_lab("tl");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
