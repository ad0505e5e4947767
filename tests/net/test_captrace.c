// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of captrace against ground truth in a real 5-node lab: the test sends capnet
 * messages (and TCP) whose fate it knows, records them with captrace, and checks that the
 * report's lost set is exactly what crossed cut links, exactly the filter's drop events, with
 * the right causes and generations. Also bad input, and the HTML page in a headless browser. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "node/proto.h"
#include "node/proto_auth.h"
#include "tools/captrace/trace_dir.h"
#include "lib/json.h"
#include "tests/lib/netlab.h"

#define NODES 5
#define PORT 7070
#define PER_LINK 4
#define MAX_SENT 4096

static const char *lab;
static char captrace[4096];
static char tmpdir[] = "/tmp/captrace-test-XXXXXX";
static char out[1 << 20];
static int sock[NODES + 1];
static uint64_t next_id = 1;
/* The recorder's stdout: kept open until it exits, which prints a summary at the end. */
static FILE *record_out;

/* What the test sent, and whether it crossed a link cut at that moment. */
struct sent {
	unsigned int from, to;
	uint64_t msg_id;
	bool cut;
};
static struct sent sent[MAX_SENT];
static unsigned int nsent;

/* A lost entry of the report. */
struct lost {
	unsigned int from, to;
	uint64_t msg_id, generation, ip_id, l4_csum, ip_proto;
	char cause[16], kind[8];
};
static struct lost lost[MAX_SENT];
static unsigned int nlost;

#define capnet(...) netlab_capnet_checked(lab, out, sizeof(out), __VA_ARGS__)

/* Runs a shell command line, stdout (and stderr if asked) into out; returns the exit code. */
static int run(bool with_stderr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(bool with_stderr, const char *fmt, ...)
{
	char cmd[8192];
	size_t used = 0, n;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (with_stderr)
		strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (used + 1 < sizeof(out) && (n = fread(out + used, 1, sizeof(out) - 1 - used, p)))
		used += n;
	out[used] = 0;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Starts `captrace record` and waits until it says every capture is active. */
static pid_t record_start(const char *dir)
{
	char line[512];
	int pfd[2];
	pid_t pid;
	FILE *f;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(captrace, captrace, "--lab", lab, "record", "-o", dir, "--duration", "60",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "recording ", 10)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (f)
			fclose(f);
		return -1;
	}
	record_out = f;
	return pid;
}

static int record_stop(pid_t pid)
{
	int status;

	kill(pid, SIGINT);
	while (fgets(out, sizeof(out), record_out))
		printf("record: %s", out);
	fclose(record_out);
	record_out = NULL;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int open_sockets(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int rcvbuf = 1 << 20;
	unsigned int i;

	for (i = 1; i <= NODES; i++) {
		int saved = netlab_enter(lab, i);

		if (saved < 0)
			return -1;
		sock[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		netlab_leave(saved);
		if (sock[i] < 0)
			return -1;
		setsockopt(sock[i], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		sa.sin_addr.s_addr = htonl(0x0a4d0000u + i);
		if (bind(sock[i], (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
	}
	return 0;
}

static void drain(void)
{
	uint8_t buf[2048];
	unsigned int i;

	for (i = 1; i <= NODES; i++)
		while (recv(sock[i], buf, sizeof(buf), 0) > 0)
			;
}

/* One capnet PING from -> to with a fresh message id; every other one authenticated, as
 * capnodes with a key send them, so decoding and the dissector are checked on both forms. */
static void send_ping(unsigned int from, unsigned int to, bool cut)
{
	static const struct proto_key key = { { 0x5e, 0xed } };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct proto_header hdr = { .type = PROTO_PING, .from = from, .to = to, .term = 7 };
	uint8_t buf[PROTO_MAX_DGRAM], payload[16] = "captrace-test";
	int len;

	assert_true(nsent < MAX_SENT);
	hdr.msg_id = next_id++;
	len = proto_encode(buf, sizeof(buf), &hdr, payload, sizeof(payload));
	assert_true(len > 0);
	if (hdr.msg_id % 2)
		len = proto_auth_seal(buf, len, sizeof(buf), &key);
	assert_true(len > 0);
	sa.sin_addr.s_addr = htonl(0x0a4d0000u + to);
	assert_int_equal(sendto(sock[from], buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)), len);
	sent[nsent++] = (struct sent){ .from = from, .to = to, .msg_id = hdr.msg_id, .cut = cut };
}

/* PER_LINK messages on every directed link; `cut` says which links are cut now. */
static void send_all(bool (*cut)(unsigned int from, unsigned int to))
{
	unsigned int k, s, d;

	for (k = 0; k < PER_LINK; k++)
		for (s = 1; s <= NODES; s++)
			for (d = 1; d <= NODES; d++)
				if (s != d)
					send_ping(s, d, cut && cut(s, d));
	usleep(20000);
	drain();
}

static bool cut_1_2_vs_3_5(unsigned int from, unsigned int to)
{
	return (from <= 2) != (to <= 2);
}

/* The generation a capnet switch reported: "(generation N, ...". */
static uint64_t switched_generation(void)
{
	const char *p = strstr(out, "(generation ");

	assert_non_null(p);
	return strtoull(p + 12, NULL, 10);
}

static uint64_t member_u64(const struct json_value *obj, const char *key)
{
	uint64_t v = 0;

	assert_true(json_is_u64(json_member(obj, key), &v));
	return v;
}

/* Runs report --json on dir and collects its lost entries. */
static void report(const char *dir)
{
	const struct json_value *arr;
	struct json_value root;
	size_t i;

	assert_int_equal(run(false, "%s report %s --json", captrace, dir), 0);
	assert_int_equal(json_parse(out, strlen(out), JSON_MAX_DEPTH_ANY, &root, NULL), 0);
	arr = json_member(&root, "lost");
	assert_non_null(arr);
	assert_int_equal(arr->kind, JSON_ARRAY);
	nlost = 0;
	for (i = 0; i < arr->n; i++) {
		const struct json_value *m = &arr->items[i];
		struct lost *l;

		assert_true(nlost < MAX_SENT);
		l = &lost[nlost++];
		memset(l, 0, sizeof(*l));
		l->from = member_u64(m, "from");
		l->to = member_u64(m, "to");
		l->generation = member_u64(m, "generation");
		assert_int_equal(
			json_copy_string(json_member(m, "cause"), l->cause, sizeof(l->cause)), 0);
		assert_int_equal(json_copy_string(json_member(m, "kind"), l->kind, sizeof(l->kind)),
				 0);
		if (!strcmp(l->kind, "capnet")) {
			l->msg_id = member_u64(m, "msg_id");
		} else {
			l->ip_id = member_u64(m, "ip_id");
			l->l4_csum = member_u64(m, "l4_csum");
			l->ip_proto = member_u64(m, "ip_proto");
		}
	}
	json_value_free(&root);
}

/* The filter's own drop events of the recording, as the ring buffer gave them. */
static unsigned int read_drops(const char *dir, struct capnet_drop_event *evs, unsigned int max)
{
	char path[4200], line[1024];
	unsigned int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, TRACE_DROPS);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		assert_true(n < max);
		assert_int_equal(trace_drop_parse(line, &evs[n]), 0);
		n++;
	}
	fclose(f);
	return n;
}

static const struct lost *find_lost(unsigned int from, unsigned int to, uint64_t msg_id)
{
	unsigned int i;

	for (i = 0; i < nlost; i++)
		if (!strcmp(lost[i].kind, "capnet") && lost[i].from == from && lost[i].to == to &&
		    lost[i].msg_id == msg_id)
			return &lost[i];
	return NULL;
}

/* The lost capnet set must equal what the test sent across cut links and equal the filter's
 * capnet drop events, one for one, with the expected cause. */
static void check_capnet_lost(const char *dir, const char *cause, uint64_t generation)
{
	static struct capnet_drop_event evs[MAX_SENT];
	unsigned int i, n, ndrops = 0, ncut = 0, ncapnet = 0;
	struct proto_header hdr;

	for (i = 0; i < nlost; i++) {
		if (strcmp(lost[i].kind, "capnet"))
			continue;
		ncapnet++;
		assert_string_equal(lost[i].cause, cause);
		if (generation)
			assert_int_equal(lost[i].generation, generation);
	}
	for (i = 0; i < nsent; i++) {
		const struct lost *l = find_lost(sent[i].from, sent[i].to, sent[i].msg_id);

		if (sent[i].cut) {
			ncut++;
			if (!l)
				fail_msg(
					"message %llu %u -> %u crossed a cut link but is not in the "
					"lost list",
					(unsigned long long)sent[i].msg_id, sent[i].from,
					sent[i].to);
		} else if (l && generation) {
			fail_msg("message %llu %u -> %u crossed an open link but is listed lost",
				 (unsigned long long)sent[i].msg_id, sent[i].from, sent[i].to);
		}
	}
	n = read_drops(dir, evs, MAX_SENT);
	for (i = 0; i < n; i++) {
		if (evs[i].ip_proto != 17 || evs[i].dport != PORT ||
		    proto_peek(evs[i].payload, evs[i].payload_len, &hdr))
			continue;
		ndrops++;
		if (!find_lost(evs[i].src, evs[i].dst, hdr.msg_id))
			fail_msg("drop event of message %llu %u -> %u is not in the lost list",
				 (unsigned long long)hdr.msg_id, evs[i].src, evs[i].dst);
	}
	printf("capnet: %u sent, %u across cut links, %u lost, %u drop events\n", nsent, ncut,
	       ncapnet, ndrops);
	if (generation)
		assert_int_equal(ncapnet, ncut);
	assert_int_equal(ncapnet, ndrops);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	if (capnet("up -n %d", NODES))
		return -1;
	return open_sockets();
}

static int teardown(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 1; i <= NODES; i++)
		if (sock[i] > 0)
			close(sock[i]);
	/* CAPTRACE_TEST_KEEP=1 keeps the recordings to look at (report --svg, decode). */
	if (getenv("CAPTRACE_TEST_KEEP"))
		printf("recordings kept in %s\n", tmpdir);
	else
		run(false, "rm -rf %s", tmpdir);
	return capnet("down") ? -1 : 0;
}

static void test_partition(void **state)
{
	char dir[4200], anchor[64];
	uint64_t gen;
	pid_t pid;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/partition", tmpdir);
	nsent = 0;
	pid = record_start(dir);
	assert_true(pid > 0);
	send_all(NULL);
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	gen = switched_generation();
	send_all(cut_1_2_vs_3_5);
	assert_int_equal(capnet("heal"), 0);
	send_all(NULL);
	assert_int_equal(record_stop(pid), 0);
	report(dir);
	check_capnet_lost(dir, "partition", gen);
	/* Every link carried 3 * PER_LINK; the 12 cut ones lost PER_LINK each. */
	assert_int_equal(netlab_json_number(out, "{\"from\":1,\"to\":3,", "sent"), 3 * PER_LINK);
	assert_int_equal(netlab_json_number(out, "{\"from\":1,\"to\":3,", "partition"), PER_LINK);
	assert_int_equal(netlab_json_number(out, "{\"from\":1,\"to\":2,", "delivered"),
			 3 * PER_LINK);
	assert_int_equal(netlab_json_number(out, NULL, "unexplained"), 0);
	/* The partition's window: every message sent in it, and its losses. */
	snprintf(anchor, sizeof(anchor), "{\"generation\":%llu,", (unsigned long long)gen);
	assert_int_equal(netlab_json_number(out, anchor, "sent"), PER_LINK * NODES * (NODES - 1));
	assert_int_equal(netlab_json_number(out, anchor, "partition"), PER_LINK * 12);
	assert_int_equal(netlab_json_number(out, anchor, "delivered"), PER_LINK * 8);
}

static void test_loss(void **state)
{
	char dir[4200];
	unsigned int k, n;
	pid_t pid;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/loss", tmpdir);
	nsent = 0;
	pid = record_start(dir);
	assert_true(pid > 0);
	assert_int_equal(capnet("link 1 2 --loss 30%% --one-way"), 0);
	for (k = 0; k < 200; k++) {
		send_ping(1, 2, false);
		send_ping(2, 1, false);
		if (k % 50 == 49) {
			usleep(10000);
			drain();
		}
	}
	usleep(20000);
	drain();
	assert_int_equal(capnet("heal --links"), 0);
	assert_int_equal(record_stop(pid), 0);
	report(dir);
	/* Which ones the dice dropped only the filter knows: the lost set must be its set. */
	check_capnet_lost(dir, "loss", 0);
	for (n = k = 0; k < nlost; k++) {
		assert_int_equal(lost[k].from, 1);
		assert_int_equal(lost[k].to, 2);
		n++;
	}
	printf("30%% loss on 1 -> 2: %u of 200 lost\n", n);
	assert_in_range(n, 20, 110);
}

static void test_tcp(void **state)
{
	static struct capnet_drop_event evs[MAX_SENT];
	unsigned int i, j, n, tcp_drops = 0, tcp_lost = 0;
	char dir[4200];
	pid_t pid;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tcp", tmpdir);
	nsent = 0;
	pid = record_start(dir);
	assert_true(pid > 0);
	assert_true(netlab_tcp_works(lab, 1, 3, 1000));
	assert_int_equal(capnet("partition 1 2-5"), 0);
	assert_false(netlab_tcp_works(lab, 1, 3, 1300));
	assert_int_equal(capnet("heal"), 0);
	assert_true(netlab_tcp_works(lab, 1, 3, 1000));
	assert_int_equal(record_stop(pid), 0);
	report(dir);
	n = read_drops(dir, evs, MAX_SENT);
	for (i = 0; i < n; i++) {
		if (evs[i].ethertype != 0x0800 || evs[i].ip_proto != 6)
			continue;
		tcp_drops++;
		for (j = 0; j < nlost; j++)
			if (lost[j].ip_proto == 6 && lost[j].ip_id == evs[i].ip_id &&
			    lost[j].l4_csum == evs[i].l4_csum && lost[j].from == evs[i].src &&
			    lost[j].to == evs[i].dst)
				break;
		if (j == nlost)
			fail_msg("TCP drop event %u -> %u ip id %u is not in the lost list",
				 evs[i].src, evs[i].dst, evs[i].ip_id);
	}
	for (j = 0; j < nlost; j++) {
		if (!strcmp(lost[j].kind, "capnet"))
			continue;
		assert_string_equal(lost[j].cause, "partition");
		/* Only node 1 was cut off: every lost frame is on a link from or to it. */
		assert_true((lost[j].from == 1) != (lost[j].to == 1));
		if (lost[j].ip_proto == 6)
			tcp_lost++;
	}
	printf("tcp: %u segments lost, %u TCP drop events\n", tcp_lost, tcp_drops);
	assert_true(tcp_drops >= 1); /* at least the SYN */
	assert_int_equal(tcp_lost, tcp_drops);
}

/* A recorder killed with SIGKILL leaves a recording that report still reads: everything up to
 * the recorder's last update, said to have ended early. */
static void test_killed_recorder(void **state)
{
	char dir[4200], meta[4300];
	unsigned int waited;
	pid_t pid;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/killed", tmpdir);
	nsent = 0;
	pid = record_start(dir);
	assert_true(pid > 0);
	send_all(NULL);
	assert_int_equal(capnet("partition 1,2 3-5"), 0);
	send_all(cut_1_2_vs_3_5);
	/* Killed once its meta.json says it holds them: the frames of the first round (sent and
	 * arrived) and the drops of the second. The bound is for a recorder that stalled. */
	snprintf(meta, sizeof(meta), "%s/meta.json", dir);
	for (waited = 0; waited < 60000; waited += 50) {
		if (!run(false, "cat %s", meta) &&
		    netlab_json_number(out, NULL, "drop_events") >= PER_LINK * 12 &&
		    netlab_json_number(out, NULL, "packets") >= 2 * PER_LINK * NODES * (NODES - 1))
			break;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fclose(record_out);
	record_out = NULL;
	assert_int_equal(capnet("heal"), 0);
	assert_int_equal(run(true, "%s report %s", captrace, dir), 0);
	assert_non_null(strstr(out, "ended early"));
	assert_int_equal(run(false, "%s report %s --json", captrace, dir), 0);
	assert_non_null(strstr(out, "\"complete\":false"));
	/* What was sent before the partition, and cut by it, is all there: nothing unexplained. */
	assert_true(netlab_json_number(out, NULL, "sent") >= PER_LINK * NODES * (NODES - 1));
	assert_true(netlab_json_number(out, NULL, "partition") >= PER_LINK * 12);
	assert_int_equal(netlab_json_number(out, NULL, "unexplained"), 0);
}

static void copy_dir(const char *from, const char *to)
{
	assert_int_equal(run(false, "rm -rf %s && cp -r %s %s", to, from, to), 0);
}

static void test_bad_input(void **state)
{
	char good[4200], bad[4200];

	(void)state;
	snprintf(good, sizeof(good), "%s/partition", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad", tmpdir);

	/* A last record cut short in the middle of a packet, as a killed capture leaves it: a
	 * warning, and everything before it is reported and decoded. */
	copy_dir(good, bad);
	assert_int_equal(run(false, "truncate -s -7 %s/n1.pcap", bad), 0);
	assert_int_equal(run(true, "%s report %s", captrace, bad), 0);
	assert_non_null(strstr(out, "truncated packet at offset"));
	assert_non_null(strstr(out, "cut short"));
	assert_int_equal(run(true, "%s decode %s/n1.pcap", captrace, bad), 0);
	assert_non_null(strstr(out, "truncated"));
	assert_non_null(strstr(out, " PING "));

	/* Not a pcap at all. */
	copy_dir(good, bad);
	assert_int_equal(run(false, "printf 'garbage, not a pcap file' > %s/n2.pcap", bad), 0);
	assert_int_equal(run(true, "%s report %s", captrace, bad), 1);
	assert_non_null(strstr(out, "not a pcap file"));

	/* A corrupt record length. */
	copy_dir(good, bad);
	assert_int_equal(run(false,
			     "printf '\\377\\377\\377\\177' | dd of=%s/n3.pcap bs=1 seek=32 "
			     "conv=notrunc status=none",
			     bad),
			 0);
	assert_int_equal(run(true, "%s report %s", captrace, bad), 1);
	assert_non_null(strstr(out, "corrupt record at offset 24"));

	/* Missing files and directories; bad usage. */
	copy_dir(good, bad);
	assert_int_equal(run(false, "rm %s/n4.pcap", bad), 0);
	assert_int_equal(run(true, "%s report %s", captrace, bad), 1);
	assert_non_null(strstr(out, "n4.pcap: No such file"));
	assert_int_equal(run(true, "%s report %s/nowhere", captrace, tmpdir), 1);
	assert_non_null(strstr(out, "meta.json"));
	assert_int_equal(run(false, "echo '{\"version\":1}' > %s/meta.json", bad), 0);
	assert_int_equal(run(true, "%s report %s", captrace, bad), 1);
	assert_non_null(strstr(out, "nodes"));
	assert_int_equal(run(true, "%s report", captrace), 2);
	assert_int_equal(run(true, "%s report %s --bogus", captrace, good), 2);
	assert_int_equal(run(true, "%s decode %s/none.pcap", captrace, tmpdir), 1);
}

/* decode and the Wireshark dissector must agree on every capnet message of a node's capture,
 * and both must see exactly what node 1 sent and received: 3 * PER_LINK sent on each of its 4
 * links, as many received from node 2, and from 3, 4 and 5 all but the PER_LINK each that the
 * partition 1,2 | 3-5 dropped. */
static void test_decode_tshark(void **state)
{
	static char decoded[1 << 16];
	const unsigned int expect = 3 * PER_LINK * 4 + 3 * PER_LINK + 3 * 2 * PER_LINK;
	char pcap[4200], *line, *save = NULL;
	unsigned int n = 0;
	const char *lua;

	(void)state;
	snprintf(pcap, sizeof(pcap), "%s/partition/n1.pcap", tmpdir);
	assert_int_equal(run(false, "%s decode %s | grep -c ' PING term 7 from '", captrace, pcap),
			 0);
	assert_int_equal(strtoul(out, NULL, 10), expect);
	/* One "type from to msg_id" line per message, sorted, from decode's JSON. */
	assert_int_equal(run(false, "%s decode --json %s", captrace, pcap), 0);
	decoded[0] = 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t type, from, to, id;
		char one[128];

		assert_int_equal(json_text_u64(line, "type", &type), 0);
		assert_int_equal(json_text_u64(line, "from", &from), 0);
		assert_int_equal(json_text_u64(line, "to", &to), 0);
		assert_int_equal(json_text_u64(line, "msg_id", &id), 0);
		snprintf(one, sizeof(one), "%llu %llu %llu %llu 1\n", (unsigned long long)type,
			 (unsigned long long)from, (unsigned long long)to, (unsigned long long)id);
		strncat(decoded, one, sizeof(decoded) - strlen(decoded) - 1);
		n++;
	}
	assert_int_equal(n, expect);

	if (access("/usr/bin/tshark", X_OK)) {
		printf("tshark: SKIP: /usr/bin/tshark is not installed\n");
		skip();
	}
	lua = getenv("CAPNET_LUA");
	if (!lua || !*lua)
		lua = "tools/wireshark/capnet.lua";
	if (access(lua, R_OK)) {
		printf("tshark: SKIP: no dissector at %s (run from the source tree or set "
		       "CAPNET_LUA)\n",
		       lua);
		skip();
	}
	assert_int_equal(run(false,
			     "tshark -X lua_script:%s -r %s -Y capnet -T fields -E separator=' ' "
			     "-e capnet.type -e capnet.from -e capnet.to -e capnet.msg_id "
			     "-e capnet.crc_ok 2>/dev/null | sed 's/True$/1/'",
			     lua, pcap),
			 0);
	/* The same messages in the same order (both read the file front to back). */
	assert_string_equal(out, decoded);
}

/* How many tick labels the explorer's time axis had in the test-result in out. */
static int explorer_ticks(void)
{
	const char *p = strstr(out, "\"ticks\":["), *end;
	int n = 0;

	if (!p || !(end = strchr(p, ']')))
		return -1;
	for (p += 9; p < end; p++)
		n += *p == ',';
	return end > strstr(out, "\"ticks\":[") + 9 ? n + 1 : 0;
}

/* The report page in chromium headless, opened at #test=ACTIONS: the explorer's test-result. */
static void explore(const char *html, const char *actions)
{
	const char *p;

	assert_int_equal(
		run(false,
		    "d=$(mktemp -d) && timeout 60 chromium --headless --no-sandbox "
		    "--disable-gpu --disable-background-networking "
		    "--disable-component-update --disable-sync --no-first-run "
		    "--user-data-dir=$d --dump-dom 'file://%s#test=%s' 2>/dev/null; rc=$?; "
		    "rm -rf $d; exit $rc",
		    html, actions),
		0);
	p = strstr(out, "<pre id=\"test-result\"");
	assert_non_null(p);
	/* Text is dumped with its quotes as they are: the JSON reads back whole. */
	memmove(out, p, strlen(p) + 1);
}

static void test_html(void **state)
{
	char good[4200], html[4200], json[8192];
	const char *p;
	long long lost_count, partition;

	(void)state;
	if (access("/usr/bin/chromium", X_OK)) {
		printf("html: SKIP: /usr/bin/chromium is not installed (make deps installs it)\n");
		skip();
	}
	snprintf(good, sizeof(good), "%s/partition", tmpdir);
	snprintf(html, sizeof(html), "%s/report.html", tmpdir);
	assert_int_equal(run(false, "%s report %s --json --html %s", captrace, good, html), 0);
	lost_count = netlab_json_number(out, NULL, "lost_total");
	snprintf(json, sizeof(json), "%.*s", (int)sizeof(json) - 1, out);
	assert_true(lost_count > 0);
	assert_int_equal(run(false,
			     "d=$(mktemp -d) && timeout 60 chromium --headless --no-sandbox "
			     "--disable-gpu --disable-background-networking "
			     "--disable-component-update --disable-sync --no-first-run "
			     "--user-data-dir=$d --dump-dom file://%s 2>/dev/null; rc=$?; "
			     "rm -rf $d; exit $rc",
			     html),
			 0);
	/* The page's script counted the lost arrows the browser built from the SVG. */
	p = strstr(out, "id=\"drawn-lost\">");
	assert_non_null(p);
	assert_int_equal(strtoll(p + 16, NULL, 10), lost_count);
	p = strstr(out, "id=\"lost-count\">");
	assert_non_null(p);
	assert_int_equal(strtoll(p + 16, NULL, 10), lost_count);
	/* What the browser drew of the sequence diagram: no label over another, three ticks or
	 * more on its time axis. */
	assert_int_equal(run(false, "%s/../lib/layout_check.sh %s", CAPNET_TEST_DATA, html), 0);
	printf("%s", out);

	/* The explorer reacts: the page plays the clicks its #test= names (every type box but
	 * PING's unticked; the cause chosen), then says what it draws. The recording holds the
	 * test's PINGs (term 7) and whatever else the nodes sent. */
	explore(html, "");
	assert_non_null(strstr(out, "\"types\":["));
	/* A time axis with values, whole or zoomed in to a tenth of a second. */
	assert_true(explorer_ticks() >= 3);
	explore(html, "zoom:0.5-0.6");
	assert_true(explorer_ticks() >= 3);
	explore(html, "");
	/* The partition's window is a band, named by its generation and groups. */
	assert_non_null(strstr(out, ": 1,2 | 3-5\""));
	assert_non_null(strstr(out, "\"PING\""));
	explore(html, "type:PING");
	assert_non_null(strstr(out, "\"counts\":{\"PING\":"));
	assert_null(strstr(out, "\"counts\":{\"PING\":1,\""));
	p = strstr(out, "\"counts\":{");
	assert_non_null(p);
	/* One type drawn: the counts object ends after its one member. */
	assert_true(strchr(p, '}') < strchr(p + 11, ','));
	assert_non_null(strstr(out, "\"labels\":[\"PING t7"));
	assert_non_null(strstr(out, "PING term 7"));
	explore(html, "type:nothing-at-all");
	assert_non_null(strstr(out, "\"rows\":0,"));
	/* Only the lost ones, one row each: as many as the report counts. */
	partition = netlab_json_number(json, NULL, "partition");
	explore(html, "cause:partition,nofold");
	p = strstr(out, "\"rows\":");
	assert_non_null(p);
	assert_int_equal(strtoll(p + 7, NULL, 10), partition);
	assert_non_null(strstr(out, " s: partition"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partition), cmocka_unit_test(test_loss),
		cmocka_unit_test(test_tcp),	  cmocka_unit_test(test_killed_recorder),
		cmocka_unit_test(test_bad_input), cmocka_unit_test(test_decode_tshark),
		cmocka_unit_test(test_html),
	};
	const char *env = getenv("CAPTRACE");

	(void)argc;
	netlab_require_root(argv[0]);
	if (env && *env) {
		snprintf(captrace, sizeof(captrace), "%s", env);
	} else {
		const char *capnet_bin = getenv("CAPNET");
		const char *slash = strrchr(capnet_bin, '/');

		snprintf(captrace, sizeof(captrace), "%.*scaptrace",
			 slash ? (int)(slash - capnet_bin + 1) : 0, capnet_bin);
	}
	if (access(captrace, X_OK)) {
		printf("%s: SKIP: no captrace binary at %s (set CAPTRACE)\n", argv[0], captrace);
		return 77;
	}
	lab = netlab_unique_lab("ct");
	return cmocka_run_group_tests(tests, setup, teardown);
}
