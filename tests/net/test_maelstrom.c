// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of capnet maelstrom test with the example nodes of tests/maelstrom: correct nodes
 * pass, with and without partitions; the broadcast that never retries fails under partitions
 * and passes without them, which proves the partitions act; duplicate ids, colliding kafka
 * offsets and transactions that fit no order are caught; forged messages are refused; bad
 * programs, and programs that die, are named; and no lab is left behind, even after SIGHUP, and a
 * killed run leaves one that `down` removes. */
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

#include <cmocka.h>

#include "netem/filter/filter.h"
#include "netem/lab/run_dir.h"
#include "tests/lib/netlab.h"

static char out[1 << 18], dir[] = "/tmp/capnet-mael-XXXXXX", repo[4096];
static const char *lab;

/* Runs a test from the scratch directory (its store/ lands there); the exit status. */
static int maelstrom(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int maelstrom(const char *fmt, ...)
{
	char args[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	/* Maelstrom's 10 s of quiet before the final reads, cut to 3 s where a test does not say:
	 * the example nodes converge in well under a second. */
	rc = netlab_sh(out, sizeof(out), "cd %s && %s --lab %s maelstrom test %s%s", dir,
		       getenv("CAPNET"), lab, args,
		       strstr(args, "--final-wait") ? "" : " --final-wait 3");
	printf("%s", out);
	return rc;
}

/* Each run builds its lab under this test's own name (other runs of this test may be going on
 * the same machine) and must take it down. */
static bool no_lab_left(void)
{
	return netlab_sh(out, sizeof(out), "ip netns list | grep -q '^%s-'", lab) != 0;
}

static void test_echo_and_ids(void **state)
{
	(void)state;
	assert_int_equal(maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --node-count 2 "
				   "--time-limit 2 --rate 50",
				   repo),
			 0);
	assert_non_null(strstr(out, "100 echoes answered, 0 wrong"));
	assert_non_null(strstr(out, "Everything looks good!"));
	/* An echo from a buffer shared between requests answers with the previous payload. */
	assert_int_equal(maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --reuse-buffer "
				   "--time-limit 1 --rate 20",
				   repo),
			 1);
	assert_non_null(strstr(out, "and got back \"Please echo "));
	assert_int_equal(maelstrom("-w unique-ids --bin %s/tests/maelstrom/unique_ids.py "
				   "--node-count 3 --time-limit 2 --rate 100 --nemesis partition "
				   "--nemesis-interval 0.5",
				   repo),
			 0);
	assert_int_equal(maelstrom("-w unique-ids --bin %s/tests/maelstrom/unique_ids_counter.py "
				   "--node-count 3 --time-limit 2 --rate 100",
				   repo),
			 1);
	assert_non_null(strstr(out, "was generated more than once"));
	assert_non_null(strstr(out, "Analysis invalid!"));
	assert_true(no_lab_left());
}

static void test_broadcast_partitions_act(void **state)
{
	(void)state;
	/* Correct gossip survives the partitions. */
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py "
				   "--node-count 5 --time-limit 5 --rate 50 --nemesis partition "
				   "--nemesis-interval 1",
				   repo),
			 0);
	assert_non_null(strstr(out, "0 acknowledged values missing from final reads"));
	/* A healthy network loses none of its messages. */
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py "
				   "--node-count 3 --time-limit 2 --rate 50",
				   repo),
			 0);
	assert_non_null(strstr(out, "messages lost between nodes: 0 of"));
	/* Without retries it passes on a healthy network... */
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py --no-retry "
				   "--node-count 5 --time-limit 3 --rate 50",
				   repo),
			 0);
	/* ...and loses acknowledged messages once partitions cut its one send. Its gossip floods,
	 * so a bridge or a ring of majorities is routed around: seed 42 draws a bridge, then two
	 * halves, which nothing crosses. */
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py --no-retry "
				   "--node-count 5 --time-limit 5 --rate 50 --nemesis partition "
				   "--nemesis-interval 1 --seed 42",
				   repo),
			 1);
	assert_non_null(strstr(out, "final read lacks"));
	/* What the partitions took, message by message, each with its cause. */
	assert_null(strstr(out, "messages lost between nodes: 0 of"));
	assert_non_null(strstr(out, "gossip  (partition)"));
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s/store/latest && grep -c '\"cause\":\"partition\"' lost.jsonl "
			  "&& grep -c 'class=\"lost\"' messages.svg && grep -c "
			  "'class=\"fault\"' latency.svg && grep -q '\"lost\":{\"total\":' "
			  "results.json",
			  dir),
		0);
	/* Both pictures as chromium draws them: no label over another, and a panel per kind of
	 * operation, each axis with three tick labels or more. */
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s/store/latest && grep -c 'broadcast: latency' latency.svg && "
			  "grep -c 'read: latency' latency.svg && %s/tests/lib/layout_check.sh "
			  "latency.svg messages.svg",
			  dir, repo),
		0);
	printf("%s", out);
	assert_true(no_lab_left());
}

static void test_counter(void **state)
{
	(void)state;
	assert_int_equal(maelstrom("-w g-counter --bin %s/tests/maelstrom/g_counter.py "
				   "--node-count 3 --time-limit 3 --rate 50 --nemesis partition "
				   "--nemesis-interval 1",
				   repo),
			 0);
	assert_non_null(strstr(out, "0 out of bounds"));
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "test -s %s/store/latest/results.json && "
				   "test -s %s/store/latest/history.jsonl && "
				   "grep -q 'class=\"op ok\"' %s/store/latest/timeline.html",
				   dir, dir, dir),
			 0);
}

static void test_lin_kv_and_services(void **state)
{
	(void)state;
	/* A proxy to the lin-kv service is linearizable, a proxy that caches reads is not. */
	assert_int_equal(maelstrom("-w lin-kv --bin %s/tests/maelstrom/lin_kv_proxy.py "
				   "--node-count 3 --time-limit 3 --rate 60 --nemesis partition "
				   "--nemesis-interval 1",
				   repo),
			 0);
	assert_non_null(strstr(out, "linearizable"));
	{
		char capctl[512];

		netlab_sibling("capctl", capctl, sizeof(capctl));
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "cd %s && %s check --model register "
					   "store/latest/history.jsonl",
					   dir, capctl),
				 0);
	}
	assert_int_equal(maelstrom("-w lin-kv --bin %s/tests/maelstrom/lin_kv_cached.py "
				   "--node-count 3 --time-limit 4 --rate 60",
				   repo),
			 1);
	assert_non_null(strstr(out, "not linearizable"));
	assert_non_null(strstr(out, "cannot be placed"));
	/* seq-kv serves stale reads: a counter that reads without moving to the newest state
	 * first loses acknowledged adds in its final reads; the one that writes first does not. */
	assert_int_equal(maelstrom("-w g-counter --bin %s/tests/maelstrom/g_counter_seq_kv.py "
				   "--node-count 5 --time-limit 3 --rate 100",
				   repo),
			 0);
	assert_int_equal(maelstrom("-w g-counter --bin %s/tests/maelstrom/g_counter_seq_kv.py "
				   "--stale-reads --node-count 5 --time-limit 3 --rate 100",
				   repo),
			 1);
	assert_non_null(strstr(out, "final read is"));
	assert_true(no_lab_left());
}

/* Kills and pauses of a random minority: nodes whose state lives in a service, or that only
 * answer, survive them; the messages a killed node never read are reported as such. */
static void test_nemesis_kill_pause(void **state)
{
	(void)state;
	assert_int_equal(maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --node-count 3 "
				   "--time-limit 3 --rate 50 --nemesis kill,pause "
				   "--nemesis-interval 0.5",
				   repo),
			 0);
	/* Which of the two each fault is, is drawn at random: both together, then each alone. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "cd %s/store/latest && grep -cE '\"f\":\"(kill|pause)\"' "
				   "faults.jsonl",
				   dir),
			 0);
	assert_true(atoi(out) >= 2);
	assert_int_equal(
		maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --node-count 3 "
			  "--time-limit 2 --rate 50 --nemesis pause --nemesis-interval 0.5",
			  repo),
		0);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "cd %s/store/latest && grep -c '\"f\":\"pause\"' faults.jsonl",
				   dir),
			 0);
	assert_int_equal(maelstrom("-w lin-kv --bin %s/tests/maelstrom/lin_kv_proxy.py "
				   "--node-count 3 --time-limit 3 --rate 50 "
				   "--nemesis kill,pause,partition --nemesis-interval 0.5",
				   repo),
			 0);
	assert_int_equal(maelstrom("-w g-counter --bin %s/tests/maelstrom/g_counter_seq_kv.py "
				   "--node-count 3 --time-limit 3 --rate 50 --nemesis kill "
				   "--nemesis-interval 0.5",
				   repo),
			 0);
	assert_int_equal(maelstrom("-w g-counter --bin %s/tests/maelstrom/g_counter.py "
				   "--node-count 3 --time-limit 3 --rate 50 --nemesis kill "
				   "--nemesis-interval 0.5",
				   repo) == 2,
			 0);
	assert_non_null(strstr(out, "(node killed)"));
	assert_int_equal(
		maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --nemesis crash", repo), 2);
	assert_non_null(strstr(out, "known: partition, kill, pause"));
	assert_true(no_lab_left());
}

/* The example node in C, built beside the programs: each workload correct under partitions,
 * and its broadcast without retries caught. */
static void test_c_node(void **state)
{
	static const char *const workloads[] = { "echo", "unique-ids", "broadcast", "g-counter" };
	char node[600];

	(void)state;
	netlab_sibling("../tests/maelstrom/c_node", node, sizeof(node));
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		assert_int_equal(maelstrom("-w %s --bin %s %s --node-count 3 --time-limit 3 "
					   "--rate 50 --nemesis partition --nemesis-interval 1",
					   workloads[i], node, workloads[i]),
				 0);
	assert_int_equal(maelstrom("-w broadcast --bin %s broadcast --no-retry --node-count 5 "
				   "--time-limit 4 --rate 50 --nemesis partition "
				   "--nemesis-interval 1 --seed 42",
				   node),
			 1);
	assert_non_null(strstr(out, "final read lacks"));
	assert_true(no_lab_left());
}

static void test_bad_input(void **state)
{
	(void)state;
	/* A program that writes what is not a message. */
	assert_int_equal(maelstrom("-w echo --bin /bin/sh -c 'read l; echo not json' "
				   "--time-limit 1"),
			 2);
	assert_non_null(strstr(out, "n0 wrote a line that is not JSON: not json"));
	assert_int_equal(maelstrom("-w echo --bin /bin/sh -c 'read l; echo \"{\\\"body\\\":{}}\"' "
				   "--time-limit 1"),
			 2);
	assert_non_null(strstr(out, "n0 wrote a message without a \"dest\""));
	/* One that exits at once, and one that never answers init. */
	assert_int_equal(maelstrom("-w echo --bin /bin/false --time-limit 1"), 2);
	assert_non_null(strstr(out, "exited"));
	assert_int_equal(maelstrom("-w echo --bin /bin/sleep 60 --time-limit 1"), 2);
	assert_non_null(strstr(out, "never answered init"));
	assert_int_equal(maelstrom("-w kafca --bin /bin/true"), 2);
	assert_non_null(strstr(out, "one of echo, unique-ids, broadcast"));
	assert_int_equal(maelstrom("-w echo --bin /nonexistent/node"), 2);
	/* Not a program exec would find: refused before any lab is built. */
	assert_int_equal(maelstrom("-w echo --bin capnet-no-such-program"), 2);
	assert_non_null(strstr(out, "no such program on PATH"));
	assert_int_equal(maelstrom("-w echo --bin /tmp"), 2);
	assert_non_null(strstr(out, "not an executable program"));
	assert_int_equal(maelstrom("-w echo --bin /bin/true --frobnicate 1"), 2);
	/* Counts are whole: a NaN concurrency once crashed the run with its lab up. */
	assert_int_equal(maelstrom("-w echo --bin /bin/true --node-count 1.5"), 2);
	assert_non_null(strstr(out, "expects a whole number"));
	assert_int_equal(maelstrom("-w echo --bin /bin/true --concurrency nan"), 2);
	assert_int_equal(maelstrom("-w echo --bin /bin/true --seed 1.9"), 2);
	assert_true(no_lab_left());
}

/* Broadcast's stable latency and stale count, against a node whose latency is known: it holds
 * every value 500 ms before gossiping it, so the median stable latency is near 500 ms. The
 * bounds are wide, for a loaded machine: a node that gossips at once is stable in milliseconds,
 * and nothing here waits seconds. Reads begun in the 500 ms lack acknowledged values: stale. */
static void test_broadcast_stable_latency(void **state)
{
	double q0, median;
	unsigned long stale;
	const char *line;

	(void)state;
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py "
				   "--gossip-after 0.5 --node-count 3 --time-limit 4 --rate 50 "
				   "--final-wait 2",
				   repo),
			 0);
	line = strstr(out, "stable latency (ms): p0 ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "stable latency (ms): p0 %lf, p50 %lf", &q0, &median), 2);
	assert_true(median >= 250 && median <= 5000);
	line = strstr(out, "stale count ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "stale count %lu", &stale), 1);
	assert_true(stale > 0);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "cd %s/store/latest && grep -q ':stable-latencies {0 ' "
				   "results.edn && grep -q ':stale-count ' results.edn && grep -q "
				   "'\"stable_latency_ms\":{\"0\":' results.json",
				   dir),
			 0);
	assert_true(no_lab_left());
}

/* --latency-dist as Maelstrom's: each message its own draw, here exponential, which the lab's
 * delay line holds (seen in status); a distribution not known is a usage error. */
static void test_latency_dist(void **state)
{
	(void)state;
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py "
				   "--node-count 2 --time-limit 1 --rate 20 --latency 40 "
				   "--latency-dist exponential --final-wait 1 --keep",
				   repo),
			 0);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "all->all 20ms +-20ms exponential reorder"));
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
	assert_int_equal(maelstrom("-w echo --bin /bin/true --latency 10 --latency-dist pareto"),
			 2);
	assert_non_null(strstr(out, "constant, uniform, normal or exponential"));
	assert_true(no_lab_left());
}

/* Another process in a node sends a peer's shim a gossip of a value nobody broadcast, as from
 * n0 and as from its own node: neither comes from a shim's port, so both are refused and
 * counted, and the correct broadcast stays valid. */
static void test_forged_messages_refused(void **state)
{
	(void)state;
	assert_int_equal(maelstrom("-w broadcast --bin %s/tests/maelstrom/broadcast.py --forge "
				   "--node-count 3 --time-limit 2 --rate 20",
				   repo),
			 0);
	assert_non_null(strstr(out, "datagrams the shims refused: 2 forged"));
	assert_non_null(strstr(out, "0 unexpected"));
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "grep -q '\"refused\":{\"forged\":2,' %s/store/latest/results.json", dir),
		0);
	assert_true(no_lab_left());
}

/* A destination that names nobody is the program's error, with its line, whatever the spelling:
 * a second name for n1, a node or a client the test does not have, no name. */
static void test_bad_destinations(void **state)
{
	static const char *const dests[] = { "n01", "n99", "c99", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++) {
		assert_int_equal(maelstrom("-w echo --node-count 2 --time-limit 5 --bin "
					   "%s/tests/maelstrom/misdirect.py '%s'",
					   repo, dests[i]),
				 2);
		assert_non_null(strstr(out, "which names no node, client or service"));
		assert_non_null(strstr(out, "\"body\": {\"type\": \"x\"}"));
	}
	assert_true(no_lab_left());
}

/* A node program that exits in the middle of the run, not killed by the nemesis, ends the test
 * with exit 2 naming it, its status and what it said last, and the lab comes down: every time
 * (it exits after its third answer, so no timing decides where). */
static void test_dying_program_named(void **state)
{
	(void)state;
	for (int run = 0; run < 10; run++) {
		assert_int_equal(
			maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --exit-after 3 "
				  "--node-count 2 --time-limit 5 --rate 100",
				  repo),
			2);
		assert_non_null(strstr(out, "exited with status 7 during the run"));
		assert_non_null(strstr(out, "echo: leaving after 3 answers"));
		assert_true(no_lab_left());
	}
}

/* A closed terminal (SIGHUP) stops the run and takes the lab down, as ^C does. The node program
 * says when the run has begun; the signal comes after that, whenever it is. */
static void test_sighup_takes_the_lab_down(void **state)
{
	(void)state;
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "cd %s && rm -f ready && { %s --lab %s maelstrom test -w echo "
			  "--time-limit 60 --bin %s/tests/maelstrom/echo.py --ready %s/ready "
			  ">hup.out 2>&1 & pid=$!; }; while [ ! -e ready ]; do sleep 0.05; done; "
			  "kill -HUP $pid; wait $pid; echo \"exit $?\"; cat hup.out",
			  dir, getenv("CAPNET"), lab, repo, dir),
		0);
	printf("%s", out);
	assert_non_null(strstr(out, "exit 2"));
	assert_non_null(strstr(out, "interrupted"));
	assert_true(no_lab_left());
}

/* A test killed at any moment leaves a lab that `down` removes whole: while the lab is built,
 * once it is up with the delay line of --latency, and with the nodes running. The test hook
 * parks the run in each phase, so the kill lands there on any machine. */
static void test_killed_run_leaves_a_lab_down_removes(void **state)
{
	static const char *const phases[] = { "half-built", "attached", "lab-ready", "nodes-up" };
	char fifo[64], run_dir[256], pins[256];

	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/capnet-mael-phase-%d", (int)getpid());
	for (size_t k = 0; k < sizeof(phases) / sizeof(phases[0]); k++) {
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(
			netlab_sh(
				out, sizeof(out),
				"f=%s; cd %s && CAPNET_TEST_STOP_AT=%s CAPNET_TEST_STOP_FIFO=\"$f\" "
				"%s --lab %s maelstrom test -w echo --bin %s/tests/maelstrom/echo.py "
				"--node-count 3 --latency 10 --time-limit 5 >/dev/null 2>&1 & " NETLAB_READ_PHASE
				"kill -9 $p; wait $p; echo \"in $phase\"",
				fifo, dir, phases[k], getenv("CAPNET"), lab, repo),
			0);
		if (!strstr(out, phases[k]))
			fail_msg("maelstrom test never reached phase %s: %s", phases[k], out);
		/* It left a lab behind... */
		assert_false(no_lab_left());
		assert_int_equal(netlab_capnet(lab, out, sizeof(out), "down"), 0);
		assert_true(no_lab_left());
		run_dir_of_lab(lab, NULL, run_dir, sizeof(run_dir));
		filter_pin_dir(lab, pins, sizeof(pins));
		assert_int_equal(access(run_dir, F_OK), -1);
		assert_int_equal(access(pins, F_OK), -1);
	}
	unlink(fifo);
}

/* store/latest follows the newest run there is: a run deleted by hand sends it back to the one
 * before, at the next command. */
static void test_latest_never_dangles(void **state)
{
	(void)state;
	assert_int_equal(
		maelstrom("-w echo --bin %s/tests/maelstrom/echo.py --time-limit 0.5", repo), 0);
	assert_int_equal(netlab_sh(out, sizeof(out), "cd %s && readlink store/latest", dir), 0);
	{
		char *first = strdup(out);

		assert_non_null(first);
		assert_int_equal(maelstrom("-w echo --bin %s/tests/maelstrom/echo.py "
					   "--time-limit 0.5",
					   repo),
				 0);
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "cd %s && rm -r \"store/$(readlink store/latest)\"",
					   dir),
				 0);
		/* Even a command that fails at once puts it right. */
		assert_int_equal(maelstrom("-w kafca --bin /bin/true"), 2);
		assert_int_equal(netlab_sh(out, sizeof(out),
					   "cd %s && readlink -e store/latest >/dev/null && "
					   "readlink store/latest",
					   dir),
				 0);
		assert_string_equal(out, first);
		free(first);
	}
}

/* kafka and the txn workloads on lin-kv survive partitions and kills; their --local versions,
 * which keep state per node, are caught: offsets given twice, transactions whose reads fit no
 * order. */
static void test_kafka_and_txn(void **state)
{
	(void)state;
	assert_int_equal(maelstrom("-w kafka --bin %s/tests/maelstrom/kafka.py --node-count 3 "
				   "--time-limit 4 --rate 60 --nemesis partition,kill "
				   "--nemesis-interval 1",
				   repo),
			 0);
	assert_non_null(strstr(out, "none read past: no anomalies"));
	assert_int_equal(maelstrom("-w kafka --bin %s/tests/maelstrom/kafka.py --local "
				   "--node-count 2 --time-limit 3 --rate 60",
				   repo),
			 1);
	assert_non_null(strstr(out, "inconsistent-offsets: key "));
	assert_int_equal(maelstrom("-w txn-list-append --bin %s/tests/maelstrom/txn.py "
				   "--node-count 3 --time-limit 3 --rate 60 --latency 5 "
				   "--nemesis partition --nemesis-interval 1",
				   repo),
			 0);
	assert_non_null(strstr(out, "checked for strict-serializable: no anomalies"));
	assert_int_equal(maelstrom("-w txn-list-append --bin %s/tests/maelstrom/txn.py --local "
				   "--node-count 3 --time-limit 3 --rate 100 --latency 20",
				   repo),
			 1);
	assert_non_null(strstr(out, "incompatible-order: key "));
	assert_int_equal(maelstrom("-w txn-rw-register --bin %s/tests/maelstrom/txn.py "
				   "--node-count 3 --time-limit 3 --rate 60 --nemesis kill "
				   "--nemesis-interval 1 --consistency-models serializable,"
				   "strict-serializable",
				   repo),
			 0);
	assert_non_null(strstr(out, "checked for serializable, strict-serializable: no anomalies"));
	/* The history is Maelstrom's operations, one JSON object a line. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "cd %s && grep -c '\"f\":\"txn\"' store/latest/history.jsonl",
				   dir),
			 0);
	assert_true(atoi(out) >= 100);
	/* Anomalies of the node that answers alone are likely, not certain: given time. */
	assert_int_equal(maelstrom("-w txn-rw-register --bin %s/tests/maelstrom/txn.py --local "
				   "--node-count 3 --time-limit 5 --rate 100 --latency 20",
				   repo),
			 1);
	assert_non_null(strstr(out, "(forbidden)"));
	assert_int_equal(maelstrom("-w txn-rw-register --bin %s/tests/maelstrom/txn.py "
				   "--consistency-models serialisable",
				   repo),
			 2);
	assert_non_null(strstr(out, "one of read-uncommitted, read-committed"));
	assert_true(no_lab_left());
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_and_ids),
		cmocka_unit_test(test_broadcast_partitions_act),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_lin_kv_and_services),
		cmocka_unit_test(test_c_node),
		cmocka_unit_test(test_nemesis_kill_pause),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_kafka_and_txn),
		cmocka_unit_test(test_forged_messages_refused),
		cmocka_unit_test(test_broadcast_stable_latency),
		cmocka_unit_test(test_latency_dist),
		cmocka_unit_test(test_bad_destinations),
		cmocka_unit_test(test_dying_program_named),
		cmocka_unit_test(test_sighup_takes_the_lab_down),
		cmocka_unit_test(test_latest_never_dangles),
		cmocka_unit_test_teardown(test_killed_run_leaves_a_lab_down_removes,
					  netlab_teardown),
	};
	int rc;

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("mt");
	if (!getcwd(repo, sizeof(repo)) || !mkdtemp(dir))
		return 1;
	if (access("/usr/bin/python3", X_OK)) {
		printf("%s: python3 is not installed (make deps installs it)\n", argv[0]);
		return 1;
	}
	/* MAELSTROM_TEST_ONLY=test_dying_program_named: one test (a glob), for a replay. */
	if (getenv("MAELSTROM_TEST_ONLY"))
		cmocka_set_test_filter(getenv("MAELSTROM_TEST_ONLY"));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return rc;
}
