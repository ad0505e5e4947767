// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of AP mode in a real 5-node lab: the five-node story in AP (both sides of 1,2 | 3,4,5
 * take writes at ONE, the minority reads stale, ALL is refused across the split, every node
 * agrees within seconds of the heal), hinted handoff with anti-entropy off (the hint surviving
 * kill -9 of its coordinator), data surviving kill -9 and a torn log record, anti-entropy
 * repairing a replica that was cut off for the whole write phase while the coordinator that
 * holds its hints is down, a bank overdraft after a split, reported by balance, a balance at
 * QUORUM seeing a transfer its own node missed, and the log compacted under load without losing
 * anything across kill -9 and a torn record. */
#include <sys/stat.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/monotonic.h"
#include "netem/svc/nodes.h"
#include "tests/lib/netlab.h"
#include "tools/capctl/client.h"

#define NODES 5

static const char *lab;
static char out[1 << 16];

static int capnet(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int capnet(const char *fmt, ...)
{
	char args[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	rc = netlab_capnet(lab, out, sizeof(out), "%s", args);
	if (rc != 0)
		printf("capnet %s -> exit %d:\n%s", args, rc, out);
	return rc;
}

/* Runs capctl and returns its exit status, output in out. */
static int request(unsigned int node, struct client_request *req, struct client_reply *rep)
{
	struct capnet_client c;
	int err;

	if (client_open(&c, lab, node, 7070))
		return -EIO;
	err = client_call(&c, req, 5000, rep);
	client_close(&c);
	return err;
}

static int put(unsigned int node, const char *key, const char *value, enum client_consistency cons,
	       struct client_reply *rep)
{
	struct client_request req = { .op = CLIENT_OP_PUT, .consistency = cons };

	snprintf(req.key, sizeof(req.key), "%s", key);
	req.value.len = strlen(value);
	memcpy(req.value.data, value, req.value.len);
	return request(node, &req, rep);
}

static int get(unsigned int node, const char *key, enum client_consistency cons,
	       struct client_reply *rep)
{
	struct client_request req = { .op = CLIENT_OP_GET, .consistency = cons };

	snprintf(req.key, sizeof(req.key), "%s", key);
	return request(node, &req, rep);
}

static int balance(unsigned int node, const char *account, enum client_consistency cons,
		   struct client_reply *rep)
{
	struct client_request req = { .op = CLIENT_OP_BALANCE, .consistency = cons };

	snprintf(req.key, sizeof(req.key), "%s", account);
	return request(node, &req, rep);
}

static bool value_is(const struct client_reply *rep, const char *value)
{
	return rep->status == REPLY_OK && rep->value.len == strlen(value) &&
	       !memcmp(rep->value.data, value, rep->value.len);
}

/* When a wait for a node gives up: a bound for a node that never gets there,
 * never a claim about how fast it does. */
#define REPLICATION_BOUND_S 60

/* Waits until node sees exactly `count` members (itself included) as reachable. */
static bool wait_reachable(unsigned int node, unsigned int count)
{
	double deadline = monotonic_s() + REPLICATION_BOUND_S;

	while (monotonic_s() < deadline) {
		struct capnet_client c;
		struct status_reply st;
		unsigned int i, n = 0;

		if (!client_open(&c, lab, node, 7070)) {
			if (!client_status(&c, 500, &st))
				for (i = 1; i <= NODES; i++)
					n += proto_bitmap_test(st.reachable, i);
			client_close(&c);
			if (n == count && st.mode == PROTO_MODE_AP && st.role == PROTO_ROLE_NONE)
				return true;
		}
		usleep(50 * 1000);
	}
	return false;
}

/* Node's AP counters as its status says them; false when it does not answer. */
static bool ap_counters(unsigned int node, struct status_ap *ap)
{
	struct capnet_client c;
	struct status_reply st;
	bool ok;

	if (client_open(&c, lab, node, 7070))
		return false;
	ok = !client_status(&c, 500, &st) && st.mode == PROTO_MODE_AP;
	client_close(&c);
	*ap = st.ap;
	return ok;
}

/* Until no node holds a hint: every write a replica missed while it was cut off has been
 * delivered to it (read nowhere in between, since a read repairs what it reads). */
static bool wait_hints_delivered(void)
{
	double deadline = monotonic_s() + REPLICATION_BOUND_S;
	struct status_ap ap;
	unsigned int i = 1;

	while (i <= NODES && monotonic_s() < deadline) {
		if (ap_counters(i, &ap) && !ap.hints_pending)
			i++;
		else
			usleep(20 * 1000);
	}
	return i > NODES;
}

/* Until node's store holds at least `keys` keys. */
static bool wait_keys(unsigned int node, uint64_t keys)
{
	double deadline = monotonic_s() + REPLICATION_BOUND_S;
	struct status_ap ap;

	while (monotonic_s() < deadline) {
		if (ap_counters(node, &ap) && ap.keys >= keys)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

/* After `partition 1,2 3-5`: until every node sees exactly its own side, so whichever node a
 * test asks next acts on the split. */
static bool wait_seed_split(void)
{
	for (unsigned int i = 1; i <= NODES; i++)
		if (!wait_reachable(i, i <= 2 ? 2 : 3))
			return false;
	return true;
}

/* A fresh lab for each test: the nodes' data starts empty, with these capnode options. */
static int start_lab(const char *options)
{
	if (capnet("up -n %d", NODES) || capnet("start --mode ap -- %s", options))
		return -1;
	for (unsigned int i = 1; i <= NODES; i++)
		if (!wait_reachable(i, NODES))
			return -1;
	return 0;
}

static int setup_default(void **state)
{
	(void)state;
	return start_lab("--anti-entropy-ms 300");
}

static int setup_no_anti_entropy(void **state)
{
	(void)state;
	return start_lab("--anti-entropy-ms 0");
}

static int teardown(void **state)
{
	(void)state;
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

static void test_split_story(void **state)
{
	struct client_reply rep;
	double t0, took;
	unsigned int i;

	(void)state;
	assert_int_equal(put(1, "x", "0", CONSISTENCY_ALL, &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_int_equal(rep.replicas_answered, 5);
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_true(wait_seed_split());
	/* Both sides accept writes at ONE. */
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency one put y minority"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "--json -n 4 --consistency one put x majority"),
			 0);
	printf("majority write: %s", out);
	/* QUORUM works on the majority, with three replicas. */
	assert_int_equal(put(3, "z", "q", CONSISTENCY_QUORUM, &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_true(rep.replicas_answered >= 3);
	/* A stale read on the minority. */
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 2 --consistency one get x"), 0);
	assert_string_equal(out, "0\n");
	/* ALL is refused across the split, saying why: from what the node knows of its peers,
	 * not after a timeout (how fast is a bench's question, not a test's). */
	t0 = monotonic_s();
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all put x never"),
			 3);
	took = monotonic_s() - t0;
	printf("minority ALL answered in %.2f s: %s", took, out);
	assert_string_equal(out,
			    "UNAVAILABLE: consistency ALL: 2 of 5 replicas reachable, 5 needed\n");
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 5 --consistency all get x"), 3);
	assert_string_equal(out,
			    "UNAVAILABLE: consistency ALL: 3 of 5 replicas reachable, 5 needed\n");
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency quorum get x"),
			 3);
	/* Heal: every node converges within seconds, by hints and anti-entropy alone (a read
	 * repairs what it reads, so each node is read once, at ONE, from its own store). */
	assert_int_equal(capnet("heal"), 0);
	t0 = monotonic_s();
	for (i = 1; i <= NODES; i++)
		assert_true(wait_reachable(i, NODES));
	assert_true(wait_hints_delivered());
	for (i = 1; i <= NODES; i++) {
		struct client_reply ry;

		assert_int_equal(get(i, "x", CONSISTENCY_ONE, &rep), 0);
		assert_int_equal(get(i, "y", CONSISTENCY_ONE, &ry), 0);
		if (!value_is(&rep, "majority") || !value_is(&ry, "minority"))
			fail_msg("node %u: x=%.*s y=%.*s %.1f s after the heal", i, rep.value.len,
				 rep.value.data, ry.value.len, ry.value.data, monotonic_s() - t0);
	}
	printf("all %d nodes agree %.1f s after the heal\n", NODES, monotonic_s() - t0);
}

/* Anti-entropy is off: only the hint the coordinator kept (and kept across kill -9 and a
 * restart) can bring node 3 the write. */
static void test_hinted_handoff(void **state)
{
	struct client_reply rep;
	double t0;

	(void)state;
	assert_int_equal(capnet("partition 3"), 0);
	assert_true(wait_reachable(1, 4) && wait_reachable(3, 1));
	assert_int_equal(put(1, "h", "handed-off", CONSISTENCY_QUORUM, &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_int_equal(get(3, "h", CONSISTENCY_ONE, &rep), 0);
	assert_int_equal(rep.status, REPLY_NOT_FOUND);
	/* The hint is on node 1's disk: it survives kill -9 and a restart. */
	assert_int_equal(capnet("kill 1"), 0);
	assert_int_equal(capnet("restart 1"), 0);
	assert_true(wait_reachable(1, 4));
	assert_int_equal(capnet("heal"), 0);
	assert_true(wait_reachable(3, NODES));
	/* No read in between (a read would repair): until node 1 holds no hint, then look once. */
	t0 = monotonic_s();
	assert_true(wait_hints_delivered());
	assert_int_equal(get(3, "h", CONSISTENCY_ONE, &rep), 0);
	if (!value_is(&rep, "handed-off"))
		fail_msg("node 3 has %s \"%.*s\" %.1f s after the heal",
			 proto_reply_status_name(rep.status), rep.value.len, rep.value.data,
			 monotonic_s() - t0);
	assert_int_equal(rep.replicas_answered, 1);
}

/* Node 5 misses every write; node 1 coordinated them all and holds the hints, but is down, so
 * only anti-entropy with nodes 2-4 can repair node 5. Checked by reading at ONE from node 5. */
static void test_anti_entropy(void **state)
{
	struct client_reply rep;
	char key[16], value[16];
	int k, have;

	(void)state;
	assert_int_equal(capnet("partition 5"), 0);
	assert_true(wait_reachable(1, 4));
	for (k = 0; k < 20; k++) {
		snprintf(key, sizeof(key), "ae%d", k);
		snprintf(value, sizeof(value), "v%d", k);
		assert_int_equal(put(1, key, value, CONSISTENCY_QUORUM, &rep), 0);
		assert_int_equal(rep.status, REPLY_OK);
	}
	assert_int_equal(capnet("stop 1"), 0);
	assert_int_equal(capnet("heal"), 0);
	assert_true(wait_reachable(5, NODES - 1));
	/* Each read repairs the key it reads, so look only once, when node 5's store holds 20
	 * keys: anti-entropy alone can have brought them. */
	assert_true(wait_keys(5, 20));
	for (k = 0, have = 0; k < 20; k++) {
		snprintf(key, sizeof(key), "ae%d", k);
		snprintf(value, sizeof(value), "v%d", k);
		/* ONE answers from node 5's own store. */
		assert_int_equal(get(5, key, CONSISTENCY_ONE, &rep), 0);
		have += value_is(&rep, value);
	}
	if (have < 20)
		fail_msg("node 5 has %d of 20 keys once its store holds 20", have);
	printf("node 5 repaired by anti-entropy: %d of 20 keys\n", have);
}

/* Both sides spend the same money; after the heal the overdraft shows on every node and the
 * total is what was opened. */
static void test_bank_overdraft(void **state)
{
	double t0;
	unsigned int i;

	(void)state;
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all open acct3 100"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all open shop 0"),
			 0);
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_true(wait_seed_split());
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "-n 1 --consistency one transfer acct3 shop 100"),
			 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "-n 4 --consistency quorum transfer acct3 shop 20"),
			 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "-n 4 --consistency quorum transfer acct3 shop 90"),
			 1);
	assert_non_null(strstr(out, "INSUFFICIENT_FUNDS"));
	assert_int_equal(capnet("heal"), 0);
	t0 = monotonic_s();
	for (i = 1; i <= NODES; i++) {
		while (netlab_capctl(lab, out, sizeof(out), "-n %u balance", i) ||
		       strcmp(out, "acct3=-20,shop=120\ntotal=100\n"
				   "overdrawn: acct3 is -20 after merging a split\n")) {
			if (monotonic_s() - t0 > 5.0)
				fail_msg("node %u: %s", i, out);
			usleep(100 * 1000);
		}
	}
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 2 balance acct3"), 0);
	assert_string_equal(out, "-20\noverdrawn: acct3 is -20 after merging a split\n");
	/* status says it too, on every node. */
	for (i = 1; i <= NODES; i++) {
		assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n %u status", i), 0);
		if (!strstr(out, "overdrawn: acct3 is -20"))
			fail_msg("node %u's status hides the overdraft: %s", i, out);
	}
}

/* What a node acknowledged is on its disk: kill -9, restart, and it answers from its own store
 * at once (anti-entropy is off, and ONE is answered locally). */
static void test_restart_keeps_data(void **state)
{
	/* The start of a record announcing 100 bytes, cut after 3 of them. */
	static const uint8_t torn[] = { 0, 0, 0, 100, 1, 0, 0, 0, 0xca, 0xfe, 0 };
	char dir[512], path[600];
	struct client_reply rep;
	FILE *f;

	(void)state;
	assert_int_equal(put(1, "d", "durable", CONSISTENCY_ALL, &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_int_equal(capnet("kill 2"), 0);
	assert_int_equal(capnet("restart 2"), 0);
	assert_int_equal(get(2, "d", CONSISTENCY_ONE, &rep), 0);
	assert_true(value_is(&rep, "durable"));
	assert_int_equal(rep.replicas_answered, 1);
	/* A record torn by a crash at the end of the log is cut off; the rest is kept. */
	assert_int_equal(capnet("stop 2"), 0);
	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/data/n2/ap.log", dir);
	f = fopen(path, "a");
	assert_non_null(f);
	assert_int_equal(fwrite(torn, 1, sizeof(torn), f), sizeof(torn));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(capnet("restart 2"), 0);
	assert_int_equal(get(2, "d", CONSISTENCY_ONE, &rep), 0);
	assert_true(value_is(&rep, "durable"));
	snprintf(path, sizeof(path), "%s/n2.log", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	out[fread(out, 1, sizeof(out) - 1, f)] = 0;
	fclose(f);
	assert_non_null(strstr(out, "cut a torn record (11 bytes) off the end"));
}

/* A transfer acknowledged at QUORUM by 1-3 while 4 and 5 were cut off; then the split moves to
 * 1,2 | 3-5, so no hint can reach 4 or 5. Node 5 at ONE does not know the transfer; at QUORUM it
 * gathers it from node 3 and answers with it; ALL is refused across the split. */
static void test_bank_quorum_balance(void **state)
{
	struct client_reply rep;

	(void)state;
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all open acct3 100"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all open shop 0"),
			 0);
	assert_int_equal(capnet("partition 1-3 4,5"), 0);
	assert_true(wait_reachable(1, 3) && wait_reachable(5, 2));
	assert_int_equal(netlab_capctl(lab, out, sizeof(out),
				       "-n 1 --consistency quorum transfer acct3 shop 30"),
			 0);
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	assert_true(wait_seed_split());
	assert_int_equal(balance(5, "acct3", CONSISTENCY_ONE, &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_int_equal(rep.amount, 100);
	assert_int_equal(balance(5, "acct3", CONSISTENCY_QUORUM, &rep), 0);
	if (rep.status != REPLY_OK || rep.amount != 70 || rep.replicas_answered < 3)
		fail_msg("QUORUM balance on node 5: %s %lld, %u answered: %s",
			 proto_reply_status_name(rep.status), (long long)rep.amount,
			 rep.replicas_answered, rep.reason);
	printf("node 5: 100 at ONE, 70 at QUORUM (%u replicas answered)\n", rep.replicas_answered);
	/* The read brought the transfer into node 5's own store. */
	assert_int_equal(balance(5, "acct3", CONSISTENCY_ONE, &rep), 0);
	assert_int_equal(rep.amount, 70);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 4 --consistency all balance"), 3);
	assert_string_equal(out,
			    "UNAVAILABLE: consistency ALL: 3 of 5 replicas reachable, 5 needed\n");
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency quorum balance"),
			 3);
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

static bool node_log_has(const char *dir, unsigned int node, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/n%u.log", dir, node);
	f = fopen(path, "r");
	if (!f)
		return false;
	out[fread(out, 1, sizeof(out) - 1, f)] = 0;
	fclose(f);
	return strstr(out, text) != NULL;
}

/* Enough overwrites of one key to pass the compaction floor several times over, between writes
 * of keys and transfers that must all survive; then kill -9, and a torn record after the
 * compacted log. Anti-entropy is off, and ONE answers from the node's own store. */
static void test_log_compaction(void **state)
{
	/* The start of a record announcing 100 bytes, cut after 3 of them. */
	static const uint8_t torn[] = { 0, 0, 0, 100, 1, 0, 0, 0, 0xca, 0xfe, 0 };
	char dir[512], path[600], key[16], value[1001];
	struct client_reply rep;
	long written = 0, size;
	double t0 = monotonic_s();
	int k, kept;
	FILE *f;

	(void)state;
	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/data/n1/ap.log", dir);
	assert_int_equal(
		netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all open a 100000"), 0);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --consistency all open b 0"),
			 0);
	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = 0;
	for (k = 0; k < 2500; k++) {
		snprintf(value, sizeof(value), "%05d", k);
		value[5] = 'x';
		assert_int_equal(put(1, "big", value, CONSISTENCY_ALL, &rep), 0);
		assert_int_equal(rep.status, REPLY_OK);
		written += sizeof(value);
		if (k % 50 == 0) {
			struct client_request req = { .op = CLIENT_OP_TRANSFER,
						      .consistency = CONSISTENCY_ALL,
						      .from_account = "a",
						      .to_account = "b",
						      .amount = 1 };

			snprintf(key, sizeof(key), "k%d", k / 50);
			assert_int_equal(put(1 + k % NODES, key, key, CONSISTENCY_ALL, &rep), 0);
			assert_int_equal(rep.status, REPLY_OK);
			assert_int_equal(request(1 + k % NODES, &req, &rep), 0);
			assert_int_equal(rep.status, REPLY_OK);
		}
	}
	size = file_size(path);
	printf("%d puts of 1 KB and 50 transfers in %.1f s; node 1's ap.log is %ld bytes\n", k,
	       monotonic_s() - t0, size);
	if (!node_log_has(dir, 1, "compacted ap.log"))
		fail_msg("node 1 never compacted its log: %s", out);
	assert_true(size > 0 && size < written / 2);
	assert_int_equal(capnet("kill 1"), 0);
	assert_int_equal(capnet("restart 1"), 0);
	for (int round = 0; round < 2; round++) {
		snprintf(value, sizeof(value), "%05d", k - 1);
		value[5] = 'x';
		assert_int_equal(get(1, "big", CONSISTENCY_ONE, &rep), 0);
		assert_true(value_is(&rep, value));
		for (kept = 0; kept < k / 50; kept++) {
			snprintf(key, sizeof(key), "k%d", kept);
			assert_int_equal(get(1, key, CONSISTENCY_ONE, &rep), 0);
			if (!value_is(&rep, key))
				fail_msg("node 1 lost %s", key);
		}
		assert_int_equal(balance(1, "b", CONSISTENCY_ONE, &rep), 0);
		assert_int_equal(rep.amount, k / 50);
		if (round)
			break;
		/* A record torn after the compacted log is cut off; the rest is kept. */
		assert_int_equal(capnet("stop 1"), 0);
		f = fopen(path, "a");
		assert_non_null(f);
		assert_int_equal(fwrite(torn, 1, sizeof(torn), f), sizeof(torn));
		assert_int_equal(fclose(f), 0);
		assert_int_equal(capnet("restart 1"), 0);
		assert_true(wait_reachable(1, NODES));
		assert_true(node_log_has(dir, 1, "cut a torn record (11 bytes) off the end"));
	}
	printf("after kill -9 and a torn record: the last value, %d keys and %d transfers kept\n",
	       kept, k / 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_split_story, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_hinted_handoff, setup_no_anti_entropy,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_data, setup_no_anti_entropy,
						teardown),
		cmocka_unit_test_setup_teardown(test_anti_entropy, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_bank_overdraft, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_bank_quorum_balance, setup_no_anti_entropy,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_compaction, setup_no_anti_entropy,
						teardown),
	};

	netlab_require_root("test_ap");
	lab = netlab_unique_lab("ta");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
