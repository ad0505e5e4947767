// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of CP mode in a real 5-node lab: the five-node story (the minority refuses with the
 * quorum message, the majority serves, the healed minority catches up), a leader cut off on the
 * minority side, kill -9 of followers and leaders with no acknowledged write lost, the bank
 * under random transfers and partitions with money conserved and never negative, and a node
 * whose log has a flipped bit refusing to start. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "lib/monotonic.h"
#include "node/key_file.h"
#include "node/raft_wire.h"
#include "tests/lib/netlab.h"
#include "tools/capctl/client.h"

#define NODES 5

static const char *lab;
static char out[1 << 16];

#define capnet(...) netlab_capnet_checked(lab, out, sizeof(out), __VA_ARGS__)

/* One request to node i through the client library, as capctl makes it. */
static int request(unsigned int node, struct client_request *req, long timeout_ms,
		   struct client_reply *rep)
{
	struct capnet_client c;
	int err;

	if (client_open(&c, lab, node, 7070))
		return -EIO;
	err = client_call(&c, req, timeout_ms, rep);
	client_close(&c);
	return err;
}

static int put(unsigned int node, const char *key, const char *value, struct client_reply *rep)
{
	struct client_request req = { .op = CLIENT_OP_PUT };

	snprintf(req.key, sizeof(req.key), "%s", key);
	req.value.len = strlen(value);
	memcpy(req.value.data, value, req.value.len);
	return request(node, &req, 5000, rep);
}

static int get(unsigned int node, const char *key, struct client_reply *rep)
{
	struct client_request req = { .op = CLIENT_OP_GET };

	snprintf(req.key, sizeof(req.key), "%s", key);
	return request(node, &req, 5000, rep);
}

/* Right after a heal a node may still see itself cut off for a moment (its reachability is
 * measured, not assumed): retry an UNAVAILABLE read for a few seconds, as a client would. */
static int get_settled(unsigned int node, const char *key, struct client_reply *rep)
{
	double deadline = monotonic_s() + 5;
	int err;

	do {
		err = get(node, key, rep);
		if (err || rep->status != REPLY_UNAVAILABLE)
			return err;
		usleep(100 * 1000);
	} while (monotonic_s() < deadline);
	return err;
}

static bool value_is(const struct client_reply *rep, const char *value)
{
	return rep->status == REPLY_OK && rep->value.len == strlen(value) &&
	       !memcmp(rep->value.data, value, rep->value.len);
}

static unsigned int node_status(unsigned int node, struct status_reply *st)
{
	struct capnet_client c;
	int err;

	if (client_open(&c, lab, node, 7070))
		return 0;
	err = client_status(&c, 500, st);
	client_close(&c);
	return err ? 0 : st->node_id;
}

/* Polls node i's status until the peers it hears from are exactly peers[0..n): a node measures
 * reachability by its pings, so a partition shows there once it missed some, which on a busy
 * machine takes longer. False after a minute. */
static bool wait_hears_only(unsigned int node, const unsigned int *peers, unsigned int n)
{
	long long limit = monotonic_ms() + 60 * 1000;
	struct status_reply st;

	do {
		bool exact = node_status(node, &st) != 0;

		for (unsigned int id = 1; exact && id <= NODES; id++) {
			bool heard = st.reachable[(id - 1) / 8] & (1u << ((id - 1) % 8)),
			     want = false;

			for (unsigned int k = 0; k < n; k++)
				want |= peers[k] == id;
			exact = id == node || heard == want;
		}
		if (exact)
			return true;
		usleep(50 * 1000);
	} while (monotonic_ms() < limit);
	return false;
}

/* Polls node i's status until it counts `want` more datagrams refused as `kind` than before:
 * a node counts a refusal when it reads the datagram, which on a busy machine comes later than
 * the send. False after a minute. */
static bool wait_refused(unsigned int node, const struct status_reply *before, unsigned int kind,
			 uint64_t want, struct status_reply *after)
{
	long long limit = monotonic_ms() + 60 * 1000;

	do {
		if (node_status(node, after) && after->rx[kind] - before->rx[kind] >= want)
			return true;
		usleep(20 * 1000);
	} while (monotonic_ms() < limit);
	return false;
}

/* The leader most nodes of `among` agree on, once it is elected; 0 after the timeout. */
static unsigned int wait_leader(const unsigned int *among, unsigned int n, double timeout_s)
{
	double deadline = monotonic_s() + timeout_s;
	struct status_reply st;
	unsigned int i;

	while (monotonic_s() < deadline) {
		for (i = 0; i < n; i++)
			if (node_status(among[i], &st) && st.role == PROTO_ROLE_LEADER)
				return among[i];
		usleep(100 * 1000);
	}
	return 0;
}

static const unsigned int all_nodes[NODES] = { 1, 2, 3, 4, 5 };

static int setup(void **state)
{
	(void)state;
	if (netlab_capnet(lab, out, sizeof(out), "up -n %d", NODES) ||
	    netlab_capnet(lab, out, sizeof(out), "start --mode cp")) {
		printf("lab set-up failed:\n%s", out);
		return -1;
	}
	if (!wait_leader(all_nodes, NODES, 10)) {
		printf("no leader elected within 10 s\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

static int heal(void **state)
{
	(void)state;
	if (capnet("heal"))
		return -1;
	return wait_leader(all_nodes, NODES, 10) ? 0 : -1;
}

/* Runs capctl and returns its exit status, output in out. */
static void test_seed_story(void **state)
{
	struct client_reply rep;
	double t0, took;

	(void)state;
	/* 1. A write succeeds. */
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 put x 1"), 0);
	/* 2. Partition 1,2 | 3,4,5. */
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	/* 3. The minority refuses, saying why: its "503", from what it knows of its peers, not
	 * after a timeout (how fast is a bench's question, not a test's). */
	assert_true(wait_hears_only(1, (const unsigned int[]){ 2 }, 1));
	t0 = monotonic_s();
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 --timeout 5000 put x 2"), 3);
	took = monotonic_s() - t0;
	printf("minority answered in %.2f s: %s", took, out);
	assert_non_null(strstr(out, "UNAVAILABLE: no quorum (2/5 reachable, 3 needed)"));
	/* 4. The majority accepts (after electing a leader of its own if it had none). */
	assert_int_equal(put(3, "x", "2", &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	/* 5. Heal: the minority catches up and reads the new value, linearizably. */
	assert_int_equal(capnet("heal"), 0);
	assert_true(wait_leader(all_nodes, NODES, 10) != 0);
	assert_int_equal(get_settled(1, "x", &rep), 0);
	if (!value_is(&rep, "2"))
		fail_msg("node 1 read %s \"%.*s\" (%s) after heal, expected 2",
			 proto_reply_status_name(rep.status), rep.value.len, rep.value.data,
			 rep.reason);
	assert_int_equal(netlab_capctl(lab, out, sizeof(out), "-n 1 get x"), 0);
	assert_string_equal(out, "2\n");
}

static void test_leader_on_minority_side(void **state)
{
	unsigned int leader, other, majority[3], k = 0, i, new_leader;
	struct client_reply rep;

	(void)state;
	leader = wait_leader(all_nodes, NODES, 10);
	assert_true(leader != 0);
	other = leader % NODES + 1;
	for (i = 1; i <= NODES; i++)
		if (i != leader && i != other)
			majority[k++] = i;
	assert_int_equal(capnet("partition %u,%u", leader, other), 0);
	/* The majority elects a new leader and serves. */
	new_leader = wait_leader(majority, 3, 10);
	printf("old leader %u cut off with %u; new leader %u\n", leader, other, new_leader);
	assert_true(new_leader != 0 && new_leader != leader);
	assert_int_equal(put(majority[0], "y", "majority", &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	/* The old leader, without a quorum, refuses rather than accept a write it cannot commit,
	 * once it sees it has none. */
	assert_true(wait_hears_only(leader, &other, 1));
	assert_int_equal(put(leader, "y", "minority", &rep), 0);
	assert_int_equal(rep.status, REPLY_UNAVAILABLE);
	assert_int_equal(capnet("heal"), 0);
	assert_true(wait_leader(all_nodes, NODES, 10) != 0);
	assert_int_equal(get_settled(leader, "y", &rep), 0);
	assert_true(value_is(&rep, "majority"));
}

static void test_kill_and_restart_lose_nothing(void **state)
{
	struct client_reply rep;
	char key[16], value[16];
	unsigned int leader, follower, stable, i, acked = 0;
	bool ok[60] = { false };

	(void)state;
	leader = wait_leader(all_nodes, NODES, 10);
	assert_true(leader != 0);
	follower = leader % NODES + 1;
	stable = follower % NODES + 1;
	for (i = 0; i < 60; i++) {
		if (i == 20)
			assert_int_equal(capnet("kill -9 %u", follower), 0);
		if (i == 30)
			assert_int_equal(capnet("kill -9 %u", leader), 0);
		if (i == 45) {
			assert_int_equal(capnet("restart %u,%u", follower, leader), 0);
		}
		snprintf(key, sizeof(key), "k%u", i);
		snprintf(value, sizeof(value), "v%u", i);
		/* Through a node that stays up the whole time. */
		if (put(stable, key, value, &rep) == 0 && rep.status == REPLY_OK) {
			ok[i] = true;
			acked++;
		}
	}
	printf("%u of 60 writes acknowledged around two kill -9s\n", acked);
	assert_true(acked >= 40);
	assert_true(wait_leader(all_nodes, NODES, 10) != 0);
	/* Every acknowledged write is there, read through each restarted node. */
	for (i = 0; i < 60; i++) {
		if (!ok[i])
			continue;
		snprintf(key, sizeof(key), "k%u", i);
		snprintf(value, sizeof(value), "v%u", i);
		assert_int_equal(get_settled(leader, key, &rep), 0);
		if (!value_is(&rep, value))
			fail_msg("acknowledged write %s=%s lost after kill -9 and restart", key,
				 value);
		assert_int_equal(get_settled(follower, key, &rep), 0);
		assert_true(value_is(&rep, value));
	}
}

/* Five clients move money between ten accounts while a nemesis splits the lab at random. */
#define ACCOUNTS 10
#define OPENING 1000

struct bank_client {
	pthread_t thread;
	unsigned int node, transfers;
	unsigned int ok, refused, insufficient, unknown;
	unsigned int seed;
};

static void *bank_client_main(void *arg)
{
	struct bank_client *bc = arg;
	struct capnet_client c;
	unsigned int i;

	if (client_open(&c, lab, bc->node, 7070))
		return NULL;
	for (i = 0; i < bc->transfers; i++) {
		struct client_request req = { .op = CLIENT_OP_TRANSFER };
		struct client_reply rep;
		unsigned int from = rand_r(&bc->seed) % ACCOUNTS, to = rand_r(&bc->seed) % ACCOUNTS;

		if (from == to)
			to = (to + 1) % ACCOUNTS;
		snprintf(req.from_account, sizeof(req.from_account), "acct%u", from);
		snprintf(req.to_account, sizeof(req.to_account), "acct%u", to);
		req.amount = 1 + rand_r(&bc->seed) % 300;
		if (client_call(&c, &req, 1000, &rep))
			bc->unknown++;
		else if (rep.status == REPLY_OK)
			bc->ok++;
		else if (rep.status == REPLY_TIMEOUT)
			bc->unknown++;
		else if (rep.status == REPLY_INSUFFICIENT_FUNDS)
			bc->insufficient++;
		else
			bc->refused++;
		/* A refusal is instant: pace the client so it spans the nemesis's rounds. */
		if (rep.status != REPLY_OK)
			usleep(20 * 1000);
	}
	client_close(&c);
	return NULL;
}

static void test_bank_under_partitions(void **state)
{
	struct bank_client clients[NODES];
	struct client_request req;
	struct client_reply rep;
	unsigned int i, seed = 12345, total_ok = 0;
	volatile bool done = false;
	char *p;
	long long sum;

	(void)state;
	for (i = 0; i < ACCOUNTS; i++) {
		memset(&req, 0, sizeof(req));
		req.op = CLIENT_OP_OPEN;
		snprintf(req.key, sizeof(req.key), "acct%u", i);
		req.amount = OPENING;
		assert_int_equal(request(1 + i % NODES, &req, 5000, &rep), 0);
		assert_int_equal(rep.status, REPLY_OK);
	}
	for (i = 0; i < NODES; i++) {
		clients[i] =
			(struct bank_client){ .node = i + 1, .transfers = 200, .seed = 1000 + i };
		assert_int_equal(
			pthread_create(&clients[i].thread, NULL, bank_client_main, &clients[i]), 0);
	}
	/* The nemesis: a random split every 400 ms while the clients run. */
	for (i = 0; i < 12 && !done; i++) {
		unsigned int a = 1 + rand_r(&seed) % NODES, b = 1 + rand_r(&seed) % NODES;

		if (i % 3 == 2)
			capnet("heal");
		else
			capnet("partition %u,%u", a, b == a ? a % NODES + 1 : b);
		usleep(400 * 1000);
	}
	for (i = 0; i < NODES; i++) {
		pthread_join(clients[i].thread, NULL);
		printf("client on node %u: %u ok, %u unavailable, %u insufficient funds, %u "
		       "unknown\n",
		       clients[i].node, clients[i].ok, clients[i].refused, clients[i].insufficient,
		       clients[i].unknown);
		total_ok += clients[i].ok;
	}
	assert_true(total_ok > 0);
	assert_int_equal(capnet("heal"), 0);
	assert_true(wait_leader(all_nodes, NODES, 10) != 0);
	/* Money is conserved and never negative, read through every node. */
	for (i = 1; i <= NODES; i++) {
		memset(&req, 0, sizeof(req));
		req.op = CLIENT_OP_BALANCE;
		do {
			assert_int_equal(request(i, &req, 5000, &rep), 0);
		} while (rep.status == REPLY_UNAVAILABLE && usleep(100 * 1000) == 0);
		assert_int_equal(rep.status, REPLY_OK);
		assert_int_equal(rep.amount, ACCOUNTS * OPENING);
		rep.value.data[rep.value.len < PROTO_VALUE_MAX ? rep.value.len : 0] = 0;
		sum = 0;
		for (p = (char *)rep.value.data; (p = strchr(p, '=')); p++) {
			long long b = strtoll(p + 1, NULL, 10);

			assert_true(b >= 0);
			sum += b;
		}
		assert_int_equal(sum, ACCOUNTS * OPENING);
	}
}

/* The lab's key, as capnet start made it. */
static struct proto_key lab_key(void)
{
	char path[256];
	struct proto_key key;

	snprintf(path, sizeof(path), "/run/capnet/%s/" KEY_FILE_NAME, lab);
	assert_int_equal(key_file_read(path, &key), 0);
	return key;
}

/* Garbage, a bad CRC, a datagram cut short, one without a tag, one with another key's, and,
 * tagged with the cluster's key, one from a node of another cluster and one from a member's id
 * at another address: each is counted by kind and dropped, and the node goes on serving. */
static void test_bad_datagrams_counted_and_dropped(void **state)
{
	struct proto_header hdr = { .type = PROTO_APPEND, .from = 3, .to = 1, .term = 99 };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(7070),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct proto_key key = lab_key(), other_key = key;
	struct status_reply before, after;
	struct client_reply rep;
	uint8_t dgram[PROTO_MAX_DGRAM];
	unsigned int i;
	int fd, saved, len;

	(void)state;
	other_key.bytes[0] ^= 1;
	proto_key_prepare(&other_key);
	assert_true(node_status(1, &before) != 0);
	saved = netlab_enter(lab, 1);
	assert_true(saved >= 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netlab_leave(saved);
	assert_true(fd >= 0);
	for (i = 0; i < sizeof(dgram); i++)
		dgram[i] = i * 31 + 7;
	/* Random bytes: not even the magic. */
	assert_int_equal(sendto(fd, dgram, 100, 0, (struct sockaddr *)&to, sizeof(to)), 100);
	/* A well-formed header with a flipped payload byte: the CRC catches it. */
	len = proto_encode(dgram, sizeof(dgram), &hdr, "0123456789abcdef", 16);
	assert_true(len > 0);
	dgram[len - 1] ^= 0x40;
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	/* Cut short: fewer bytes than the header announces. */
	dgram[len - 1] ^= 0x40;
	assert_int_equal(sendto(fd, dgram, len - 4, 0, (struct sockaddr *)&to, sizeof(to)),
			 len - 4);
	/* Whole and valid, but with no tag: refused before its claims are read. */
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	/* Tagged with a key that is not the cluster's. */
	len = proto_auth_seal(dgram, len, sizeof(dgram), &other_key);
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	/* With the right key, but from node 77, which is not a member. */
	hdr.from = 77;
	len = proto_encode(dgram, sizeof(dgram), &hdr, NULL, 0);
	len = proto_auth_seal(dgram, len, sizeof(dgram), &key);
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	/* With the right key and a member's id, but not from that member's address. */
	hdr.from = 3;
	len = proto_encode(dgram, sizeof(dgram), &hdr, NULL, 0);
	len = proto_auth_seal(dgram, len, sizeof(dgram), &key);
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	close(fd);
	assert_true(wait_refused(1, &before, PROTO_ERR_MAGIC, 1, &after) &&
		    wait_refused(1, &before, PROTO_ERR_CRC, 1, &after) &&
		    wait_refused(1, &before, PROTO_ERR_TRUNCATED, 1, &after) &&
		    wait_refused(1, &before, PROTO_ERR_AUTH, 2, &after) &&
		    wait_refused(1, &before, PROTO_ERR_NODE, 1, &after) &&
		    wait_refused(1, &before, PROTO_ERR_SOURCE, 1, &after));
	printf("refused: magic %llu, crc %llu, truncated %llu, auth %llu, node %llu, source %llu\n",
	       (unsigned long long)(after.rx[PROTO_ERR_MAGIC] - before.rx[PROTO_ERR_MAGIC]),
	       (unsigned long long)(after.rx[PROTO_ERR_CRC] - before.rx[PROTO_ERR_CRC]),
	       (unsigned long long)(after.rx[PROTO_ERR_TRUNCATED] - before.rx[PROTO_ERR_TRUNCATED]),
	       (unsigned long long)(after.rx[PROTO_ERR_AUTH] - before.rx[PROTO_ERR_AUTH]),
	       (unsigned long long)(after.rx[PROTO_ERR_NODE] - before.rx[PROTO_ERR_NODE]),
	       (unsigned long long)(after.rx[PROTO_ERR_SOURCE] - before.rx[PROTO_ERR_SOURCE]));
	assert_int_equal(after.rx[PROTO_ERR_MAGIC] - before.rx[PROTO_ERR_MAGIC], 1);
	assert_int_equal(after.rx[PROTO_ERR_CRC] - before.rx[PROTO_ERR_CRC], 1);
	assert_int_equal(after.rx[PROTO_ERR_TRUNCATED] - before.rx[PROTO_ERR_TRUNCATED], 1);
	assert_int_equal(after.rx[PROTO_ERR_AUTH] - before.rx[PROTO_ERR_AUTH], 2);
	assert_int_equal(after.rx[PROTO_ERR_NODE] - before.rx[PROTO_ERR_NODE], 1);
	assert_int_equal(after.rx[PROTO_ERR_SOURCE] - before.rx[PROTO_ERR_SOURCE], 1);
	/* A read context is an AP notion: CP refuses it rather than ignore it. */
	{
		struct client_request req = { .op = CLIENT_OP_PUT };

		snprintf(req.key, sizeof(req.key), "k");
		req.value.len = 1;
		req.value.data[0] = 'v';
		req.expected.len = 3;
		memcpy(req.expected.data, "1:1", 3);
		assert_int_equal(request(1, &req, 5000, &rep), 0);
		assert_int_equal(rep.status, REPLY_BAD_REQUEST);
	}
	/* The term of the forged APPEND was never believed, and the node still serves. */
	assert_true(after.term < 99);
	assert_int_equal(put(1, "after-garbage", "ok", &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
}

/* A UDP datagram with any source address and port, sent from a raw socket in node `from`'s
 * namespace: what a root process in one node can do to claim another's address. */
static void send_spoofed(unsigned int from, uint32_t src_ip, uint32_t dst_ip, const uint8_t *data,
			 int len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(dst_ip) };
	uint8_t pkt[PROTO_MAX_DGRAM + 28] = { 0 };
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip));
	int fd, saved;

	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(src_ip);
	ip->daddr = htonl(dst_ip);
	ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + len);
	udp->source = htons(7070);
	udp->dest = htons(7070);
	udp->len = htons(sizeof(*udp) + len);
	udp->check = 0; /* none: allowed over IPv4 */
	memcpy(pkt + sizeof(*ip) + sizeof(*udp), data, len);
	saved = netlab_enter(lab, from);
	assert_true(saved >= 0);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	netlab_leave(saved);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, pkt, ntohs(ip->tot_len), 0, (struct sockaddr *)&to, sizeof(to)),
			 ntohs(ip->tot_len));
	close(fd);
}

/* The forgery found in review: a process in a follower's namespace sends another follower an
 * APPEND that claims to come from the leader, with the leader's term and a valid CRC, from its own socket
 * and from a raw socket with the leader's own address and port, which the source check alone
 * would believe. The target refuses all of them for want of the cluster's tag, counts them, and its
 * term does not move; it takes an APPEND only from the real leader. */
static void test_forged_sender_refused(void **state)
{
	struct status_reply before, after;
	struct raft_entry entry = { .type = RAFT_ENTRY_NORMAL,
				    .data = (uint8_t *)"EVIL",
				    .len = 4 };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .to = 3 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7070) };
	unsigned int leader, attacker = 0, target = 0, i;
	uint8_t dgram[PROTO_MAX_DGRAM];
	struct client_reply rep;
	int fd, saved, len;

	(void)state;
	/* Two followers: one sends, in the leader's name, to the other. */
	assert_true(node_status(1, &before) != 0);
	leader = before.leader;
	assert_true(leader >= 1 && leader <= NODES);
	for (i = 1; i <= NODES; i++)
		if (i != leader && !attacker)
			attacker = i;
		else if (i != leader && !target)
			target = i;
	m.to = target;
	assert_true(node_status(target, &before) != 0);
	m.from = leader;
	m.term = before.term;
	m.index = before.last_log_index;
	m.log_term = before.term;
	m.commit = before.last_log_index + 1;
	entry.index = before.last_log_index + 1;
	entry.term = before.term;
	m.entries = &entry;
	m.n_entries = 1;
	len = raft_wire_encode(&m, 1, dgram, sizeof(dgram));
	assert_true(len > 0);
	to.sin_addr.s_addr = htonl(0x0a4d0000 + target); /* 10.77.0.<target> */
	saved = netlab_enter(lab, attacker);
	assert_true(saved >= 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netlab_leave(saved);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	send_spoofed(attacker, 0x0a4d0000 + leader, 0x0a4d0000 + target, dgram, len);
	m.term += 100; /* and one that would depose the leader, if believed */
	len = raft_wire_encode(&m, 2, dgram, sizeof(dgram));
	assert_int_equal(sendto(fd, dgram, len, 0, (struct sockaddr *)&to, sizeof(to)), len);
	send_spoofed(attacker, 0x0a4d0000 + leader, 0x0a4d0000 + target, dgram, len);
	close(fd);
	assert_true(wait_refused(target, &before, PROTO_ERR_AUTH, 4, &after));
	printf("forged by node %u in node %u's name to node %u: %llu refused for want of the "
	       "cluster's tag\n",
	       attacker, leader, target,
	       (unsigned long long)(after.rx[PROTO_ERR_AUTH] - before.rx[PROTO_ERR_AUTH]));
	assert_int_equal(after.rx[PROTO_ERR_AUTH] - before.rx[PROTO_ERR_AUTH], 4);
	assert_int_equal(after.term, before.term);
	/* The cluster still agrees: the next real write commits, and "EVIL" is nowhere. */
	assert_int_equal(put(m.from, "after-forgery", "ok", &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_int_equal(get(target, "after-forgery", &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
}

/* Flips one bit in the payload of the last record of node `node`'s newest WAL segment (again to
 * put it back); the offset of that record. */
static long flip_last_record(unsigned int node)
{
	long last = -1, off = 0, len;
	uint8_t *buf;
	FILE *f;

	/* Segment names sort by number; the last one listed is the newest. */
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "ls /run/capnet/%s/data/n%u/wal-*.log | tail -1", lab, node),
			 0);
	out[strcspn(out, "\n")] = 0;
	f = fopen(out, "r+b");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	/* Records begin with their length, big-endian (node/wal.h). */
	while (off + 4 <= len) {
		last = off;
		off += (long)((uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
			      (uint32_t)buf[off + 2] << 8 | buf[off + 3]);
	}
	assert_int_equal(off, len);
	assert_true(last >= 0 && last + 14 < len);
	buf[last + 13] ^= 0x08;
	fseek(f, last + 13, SEEK_SET);
	assert_int_equal(fwrite(&buf[last + 13], 1, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	free(buf);
	return last;
}

/* One flipped bit in the last record of a follower's log, after the write it holds was
 * acknowledged: the node refuses to start and says where, and `capnet restart` fails with
 * exit 1 naming it, rather than cut the record as if a crash had torn it. */
static void test_flipped_bit_stops_the_node(void **state)
{
	struct client_reply rep;
	unsigned int leader, follower;
	char where[64];
	long at;

	(void)state;
	leader = wait_leader(all_nodes, NODES, 10);
	assert_true(leader != 0);
	follower = leader % NODES + 1;
	assert_int_equal(put(leader, "y", "200", &rep), 0);
	assert_int_equal(rep.status, REPLY_OK);
	assert_int_equal(capnet("stop %u", follower), 0);
	at = flip_last_record(follower);
	assert_int_equal(netlab_capnet(lab, out, sizeof(out), "restart %u", follower), 1);
	printf("%s", out);
	snprintf(where, sizeof(where), "at offset %ld of segment", at);
	assert_non_null(strstr(out, where));
	assert_non_null(strstr(out, "record checksum mismatch"));
	snprintf(where, sizeof(where), "node %u", follower);
	assert_non_null(strstr(out, where));
	/* What it said is this start's words, not the earlier run's "up" from the same log. */
	assert_non_null(strstr(out, "exited at start"));
	assert_null(strstr(strstr(out, "exited at start"), "node up"));
	/* Mended, the node starts, and the write is there. */
	flip_last_record(follower);
	assert_int_equal(capnet("restart %u", follower), 0);
	assert_int_equal(get_settled(follower, "y", &rep), 0);
	assert_true(value_is(&rep, "200"));
}

/* capnode's own arguments: every mistake is named, with exit 2, before anything starts. */
static void test_capnode_bad_arguments(void **state)
{
	static const struct {
		const char *args, *says;
	} cases[] = {
		{ "--bogus", "capnode: unknown option --bogus" },
		{ "--id 1 --cluster 10.0.0.1 --mode ap --bogus 1",
		  "capnode: unknown option --bogus" },
		{ "--id", "capnode: --id needs a value" },
		{ "--id 1 --cluster 10.0.0.1 --mode xp", "capnode: --mode \"xp\": cp or ap" },
		{ "--siblings --id 1", "capnode: --id, --cluster and --mode are required" },
	};
	char bin[512];

	(void)state;
	netlab_sibling("capnode", bin, sizeof(bin));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(netlab_sh(out, sizeof(out), "%s %s", bin, cases[i].args), 2);
		if (!strstr(out, cases[i].says))
			fail_msg("capnode %s said \"%s\", not \"%s\"", cases[i].args, out,
				 cases[i].says);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_seed_story, heal),
		cmocka_unit_test_teardown(test_leader_on_minority_side, heal),
		cmocka_unit_test_teardown(test_kill_and_restart_lose_nothing, heal),
		cmocka_unit_test_teardown(test_bank_under_partitions, heal),
		cmocka_unit_test(test_bad_datagrams_counted_and_dropped),
		cmocka_unit_test(test_forged_sender_refused),
		cmocka_unit_test(test_capnode_bad_arguments),
		cmocka_unit_test(test_flipped_bit_stops_the_node),
	};

	netlab_require_root("test_cp");
	lab = netlab_unique_lab("tc");
	return cmocka_run_group_tests(tests, setup, teardown);
}
