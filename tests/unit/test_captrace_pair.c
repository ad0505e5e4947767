// SPDX-License-Identifier: GPL-2.0-only
/* Pairing sends with arrivals on synthetic captures built in memory: capnet messages by id,
 * other IPv4 traffic as a multiset, losses explained by drop events or not, duplicates,
 * windows, the capture interval; the maelstrom shims' messages by their tag, from their logs
 * or a capture, and the ones that reached a killed node; and the recording files' formats read
 * back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "netem/maelstrom/wire.h"
#include "node/proto.h"
#include "tools/captrace/trace_dir.h"
#include "lib/json.h"
#include "tools/captrace/trace_packet.h"
#include "tools/captrace/trace_pair.h"

#define S 1000000000ull

/* Frames live as long as the analysis points into them. */
static uint8_t frames[64][128];
static unsigned int nframes;

static uint32_t addr(unsigned int node)
{
	return htonl(0x0a4d0000u + node);
}

/* Ethernet + IPv4 + UDP (with a capnet PING of msg_id when id != 0) or TCP. */
static uint8_t *frame(unsigned int from, unsigned int to, uint8_t proto, uint16_t ip_id,
		      uint64_t msg_id, uint32_t *len)
{
	uint8_t *f = frames[nframes++];
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint16_t l4len;

	assert_true(nframes <= 64);
	memset(f, 0, 128);
	memcpy(f, (uint8_t[]){ 0x02, 0xca, 0xfe, 0, 0, (uint8_t)to }, 6);
	memcpy(f + 6, (uint8_t[]){ 0x02, 0xca, 0xfe, 0, 0, (uint8_t)from }, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[4] = ip_id >> 8;
	ip[5] = ip_id & 0xff;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &(uint32_t){ addr(from) }, 4);
	memcpy(ip + 16, &(uint32_t){ addr(to) }, 4);
	if (proto == 17) {
		struct proto_header hdr = {
			.type = PROTO_PING, .from = from, .to = to, .msg_id = msg_id
		};
		int n = proto_encode(l4 + 8, 64, &hdr, "ping", 4);

		assert_true(n > 0);
		l4len = 8 + n;
		l4[0] = 7070 >> 8;
		l4[1] = 7070 & 0xff;
		l4[2] = 7070 >> 8;
		l4[3] = 7070 & 0xff;
		l4[4] = l4len >> 8;
		l4[5] = l4len & 0xff;
		l4[6] = 0xab;
		l4[7] = (uint8_t)msg_id;
	} else {
		l4len = 20;
		l4[12] = 5 << 4;
		l4[16] = 0x12;
		l4[17] = 0x34;
	}
	ip[2] = (20 + l4len) >> 8;
	ip[3] = (20 + l4len) & 0xff;
	*len = 14 + 20 + l4len;
	return f;
}

/* The frame seen at both ends (or only the sender's when arrive_ns is 0). */
static void exchange(struct trace_analysis *an, unsigned int from, unsigned int to, uint8_t proto,
		     uint16_t ip_id, uint64_t msg_id, uint64_t send_ns, uint64_t arrive_ns)
{
	uint32_t len;
	uint8_t *f = frame(from, to, proto, ip_id, msg_id, &len);

	assert_int_equal(trace_add_frame(an, from, send_ns, f, len), 0);
	if (arrive_ns)
		assert_int_equal(trace_add_frame(an, to, arrive_ns, f, len), 0);
}

static void drop_for(struct capnet_drop_event *ev, unsigned int from, unsigned int to,
		     uint8_t proto, uint16_t ip_id, uint64_t msg_id, uint8_t reason,
		     uint64_t generation)
{
	uint32_t len;
	uint8_t *f = frame(from, to, proto, ip_id, msg_id, &len);
	struct trace_packet p;

	assert_int_equal(trace_packet_parse(f, len, &p), 0);
	memset(ev, 0, sizeof(*ev));
	ev->src = from;
	ev->dst = to;
	ev->reason = reason;
	ev->generation = generation;
	ev->ethertype = 0x0800;
	ev->ip_proto = proto;
	ev->saddr[0] = p.saddr;
	ev->daddr[0] = p.daddr;
	ev->sport = p.sport;
	ev->dport = p.dport;
	ev->ip_id = ip_id;
	ev->l4_csum = p.l4_csum;
	ev->payload_len = p.payload_len < 32 ? p.payload_len : 32;
	memcpy(ev->payload, p.payload, ev->payload_len);
	nframes--; /* the event copied what it needs */
}

static const struct trace_msg *msg_with_id(const struct trace_analysis *an, uint64_t id)
{
	size_t i;

	for (i = 0; i < an->nmsgs; i++)
		if (an->msgs[i].key.kind == TRACE_CAPNET && an->msgs[i].key.a == id)
			return &an->msgs[i];
	return NULL;
}

static void test_capnet(void **state)
{
	struct trace_analysis an;
	struct capnet_drop_event ev;
	const struct trace_msg *m;
	uint32_t len;
	uint8_t *f;

	(void)state;
	nframes = 0;
	trace_analysis_init(&an, 3);
	an.start_ns = 100 * S;
	an.stop_ns = 110 * S;
	an.realtime_offset_ns = 100 * S; /* monotonic 0 is realtime 100 s */
	assert_int_equal(trace_add_partition(&an, 2, 3 * S, "1 | 2,3", NULL), 0);
	assert_int_equal(trace_add_partition(&an, 1, 0, "healthy", ""), 0);
	assert_int_equal(trace_add_partition(&an, 3, 6 * S, "healthy", "3->1 loss 20%"), 0);

	exchange(&an, 1, 2, 17, 1, 11, 101 * S, 101 * S + 5000);
	exchange(&an, 2, 1, 17, 2, 12, 102 * S, 102 * S + 5000);
	/* Under the partition: 1 -> 2 dropped by the filter, 1 -> 3 lost without an event. */
	exchange(&an, 1, 2, 17, 3, 13, 104 * S, 0);
	drop_for(&ev, 1, 2, 17, 3, 13, CAPNET_DROP_PARTITION, 2);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	exchange(&an, 1, 3, 17, 4, 14, 104 * S + 1, 0);
	/* Healed; a loss on 3 -> 1, and a duplicated delivery on 2 -> 3. */
	exchange(&an, 3, 1, 17, 5, 15, 107 * S, 0);
	drop_for(&ev, 3, 1, 17, 5, 15, CAPNET_DROP_LOSS, 3);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	f = frame(2, 3, 17, 6, 16, &len);
	assert_int_equal(trace_add_frame(&an, 2, 108 * S, f, len), 0);
	assert_int_equal(trace_add_frame(&an, 3, 108 * S + 10, f, len), 0);
	assert_int_equal(trace_add_frame(&an, 3, 108 * S + 20, f, len), 0);
	/* A drop event of something never captured, and a send after stop. */
	drop_for(&ev, 2, 1, 17, 9, 99, CAPNET_DROP_PARTITION, 2);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	exchange(&an, 1, 2, 17, 7, 17, 111 * S, 0);

	assert_int_equal(trace_analyse(&an), 0);
	assert_int_equal(an.nmsgs, 6);
	assert_int_equal(an.outside, 1);
	assert_int_equal(an.total[TRACE_DELIVERED], 3);
	assert_int_equal(an.total[TRACE_LOST_PARTITION], 1);
	assert_int_equal(an.total[TRACE_LOST_LOSS], 1);
	assert_int_equal(an.total[TRACE_LOST_UNEXPLAINED], 1);
	assert_int_equal(an.duplicates, 1);
	assert_int_equal(an.unmatched_drops, 1);

	m = msg_with_id(&an, 13);
	assert_non_null(m);
	assert_int_equal(m->fate, TRACE_LOST_PARTITION);
	assert_int_equal(m->generation, 2);
	assert_string_equal(trace_generation_spec(&an, m->generation), "1 | 2,3");
	m = msg_with_id(&an, 14);
	assert_int_equal(m->fate, TRACE_LOST_UNEXPLAINED);
	assert_int_equal(m->generation, 2); /* by send time */
	m = msg_with_id(&an, 15);
	assert_int_equal(m->fate, TRACE_LOST_LOSS);
	assert_int_equal(m->generation, 3);
	m = msg_with_id(&an, 11);
	assert_int_equal(m->fate, TRACE_DELIVERED);
	assert_int_equal(m->arrival_ns, 101 * S + 5000);
	assert_int_equal(m->generation, 1);

	/* Windows: sorted, clipped to the capture, counted. */
	assert_int_equal(an.nwindows, 3);
	assert_int_equal(an.windows[0].start_ns, 100 * S);
	assert_int_equal(an.windows[0].end_ns, 103 * S);
	assert_int_equal(an.windows[1].sent, 2);
	assert_int_equal(an.windows[1].lost[TRACE_LOST_PARTITION], 1);
	assert_int_equal(an.windows[1].lost[TRACE_LOST_UNEXPLAINED], 1);
	assert_int_equal(an.windows[2].end_ns, 110 * S);
	assert_string_equal(an.windows[2].impairments, "3->1 loss 20%");
	assert_int_equal(an.links[1 * 4 + 2].sent, 2);
	assert_int_equal(an.links[1 * 4 + 2].delivered, 1);
	assert_int_equal(an.links[1 * 4 + 2].lost[TRACE_LOST_PARTITION], 1);
	trace_analysis_free(&an);
}

static void test_ip_multiset(void **state)
{
	struct trace_analysis an;
	struct capnet_drop_event ev;
	char desc[256], type[16];
	size_t i, lost = 0;

	(void)state;
	nframes = 0;
	trace_analysis_init(&an, 2);
	an.stop_ns = 100 * S;
	/* The same TCP segment (same IP id and checksum) sent three times, two arrive, one was
	 * dropped: exactly one is lost, and it is the last one. */
	exchange(&an, 1, 2, 6, 77, 0, 1 * S, 1 * S + 10);
	exchange(&an, 1, 2, 6, 77, 0, 2 * S, 2 * S + 10);
	exchange(&an, 1, 2, 6, 77, 0, 3 * S, 0);
	drop_for(&ev, 1, 2, 6, 77, 0, CAPNET_DROP_PARTITION, 5);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	/* A different IP id on the same link: its own key. */
	exchange(&an, 1, 2, 6, 78, 0, 4 * S, 4 * S + 10);
	assert_int_equal(trace_analyse(&an), 0);
	assert_int_equal(an.total[TRACE_DELIVERED], 3);
	assert_int_equal(an.total[TRACE_LOST_PARTITION], 1);
	for (i = 0; i < an.nmsgs; i++) {
		const struct trace_msg *m = &an.msgs[i];

		if (m->fate == TRACE_DELIVERED)
			continue;
		lost++;
		assert_int_equal(m->time_ns, 3 * S);
		assert_int_equal(m->generation, 5);
		assert_null(trace_generation_spec(&an, 5));
		assert_string_equal(trace_msg_type(m, type, sizeof(type)), "tcp");
		trace_msg_describe(m, desc, sizeof(desc));
		assert_string_equal(desc,
				    "tcp 10.77.0.1:0 > 10.77.0.2:0 id 77 csum 0x1234 (0 bytes "
				    "payload)");
	}
	assert_int_equal(lost, 1);
	trace_analysis_free(&an);
}

/* captrace report --port: names parsed strictly, and TCP frames to or from a named port (the
 * source first, a reply's) take its name as their type. */
static void test_port_names(void **state)
{
	static const char *const bad[] = {
		"",	 "2181",     "=zk",	 "0=zk", "65536=zk",
		"2181=", "2181=zk,", "2181=z k", "x=zk", "2181=a-name-far-too-long-for-it"
	};
	struct trace_port_name names[TRACE_PORT_NAMES];
	struct trace_analysis an;
	char err[200], type[32], desc[512];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		assert_int_equal(trace_port_names_parse(bad[i], names, &n, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "--port"));
	}
	n = 0;
	assert_int_equal(trace_port_names_parse("2888=zab-quorum,2181=zk-client", names, &n, err,
						sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(names[1].port, 2181);
	assert_string_equal(names[1].name, "zk-client");

	nframes = 0;
	trace_analysis_init(&an, 2);
	an.stop_ns = 100 * S;
	exchange(&an, 1, 2, 6, 77, 0, 1 * S, 1 * S + 10);
	exchange(&an, 2, 1, 6, 78, 0, 2 * S, 2 * S + 10);
	exchange(&an, 1, 2, 6, 79, 0, 3 * S, 3 * S + 10);
	assert_int_equal(trace_analyse(&an), 0);
	assert_int_equal(an.nmsgs, 3);
	an.msgs[0].dport = 2181; /* a request to the server */
	an.msgs[1].sport = 2181; /* its reply */
	an.msgs[2].dport = 9999; /* nobody's */
	memcpy(an.ports, names, sizeof(names));
	an.nports = n;
	trace_name_ports(&an);
	assert_string_equal(trace_msg_type(&an.msgs[0], type, sizeof(type)), "zk-client");
	assert_string_equal(trace_msg_type(&an.msgs[1], type, sizeof(type)), "zk-client");
	assert_string_equal(trace_msg_type(&an.msgs[2], type, sizeof(type)), "tcp");
	trace_msg_describe(&an.msgs[0], desc, sizeof(desc));
	assert_true(!strncmp(desc, "zk-client 10.77.0.1:0 > 10.77.0.2:2181", 38));
	trace_analysis_free(&an);
}

static void test_frames_ignored(void **state)
{
	struct trace_analysis an;
	uint8_t arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
			    0xca, 0xfe, 0,    0,    1,	  0x08, 0x06 };
	uint8_t shortip[20] = { 0x02, 0xca, 0xfe, 0, 0, 2, 0x02, 0xca, 0xfe, 0, 0, 1, 0x08, 0x00 };

	(void)state;
	trace_analysis_init(&an, 2);
	assert_int_equal(trace_add_frame(&an, 1, 1, arp, sizeof(arp)), 0);
	assert_int_equal(trace_add_frame(&an, 1, 1, shortip, sizeof(shortip)), 0);
	assert_int_equal(trace_add_frame(&an, 1, 1, arp, 5), 0);
	assert_int_equal(an.other_frames, 3);
	assert_int_equal(an.nmsgs, 0);
	assert_int_equal(trace_analyse(&an), 0);
	trace_analysis_free(&an);
}

static void test_formats(void **state)
{
	struct capnet_drop_event ev, back;
	char buf[2048], spec[64], s[32], imp[64];
	uint64_t gen, flip, v;
	int64_t i;
	FILE *f;

	(void)state;
	nframes = 0;
	drop_for(&ev, 3, 1, 17, 5, 0x1122334455667788ull, CAPNET_DROP_LOSS, 9);
	ev.time_ns = 123456789012345ull;
	ev.len = 74;
	f = fmemopen(buf, sizeof(buf), "w");
	trace_drop_write(f, &ev);
	trace_partition_write(f, 4, 77, 78, "1,2 | \"3\"", "1->2 loss 0.5%");
	fclose(f);
	assert_int_equal(trace_drop_parse(buf, &back), 0);
	assert_memory_equal(&ev, &back, sizeof(ev));
	assert_int_equal(trace_partition_parse(strchr(buf, '\n') + 1, &gen, &flip, spec,
					       sizeof(spec), imp, sizeof(imp)),
			 0);
	assert_string_equal(imp, "1->2 loss 0.5%");
	assert_int_equal(gen, 4);
	assert_int_equal(flip, 77);
	assert_string_equal(spec, "1,2 | \"3\"");
	assert_int_equal(trace_drop_parse("{\"time_ns\":1}", &back), -EINVAL);
	assert_int_equal(trace_drop_parse("garbage", &back), -EINVAL);

	/* Nested values are skipped; only top-level keys are found. */
	assert_int_equal(json_text_u64("{\"a\":[1,{\"b\":2}],\"b\":3}", "b", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(json_text_u64("{\"a\":{\"c\":1}}", "c", &v), -ENOENT);
	assert_int_equal(json_text_i64("{\"x\":-5}", "x", &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(json_text_u64("{\"x\":-5}", "x", &v), -EINVAL);
	assert_int_equal(json_text_str("{\"s\":\"a\\u0041\\n\"}", "s", s, sizeof(s)), 0);
	assert_string_equal(s, "aA\n");
	assert_int_equal(json_text_str("{\"s\":\"abcdef\"}", "s", s, 4), -ENOSPC);
	assert_int_equal(json_text_str("{\"s\":\"abc", "s", s, sizeof(s)), -EINVAL);
}

/* A corrupted frame seen arriving is corrupted, not delivered: its drop event (the frame as
 * sent, netem's CAPNET_CORRUPTED) names it; one not seen arriving is corrupted too. */
static void test_corrupted(void **state)
{
	struct trace_analysis an;
	struct capnet_drop_event ev;

	(void)state;
	nframes = 0;
	trace_analysis_init(&an, 2);
	an.start_ns = 100 * S;
	an.stop_ns = 110 * S;
	an.realtime_offset_ns = 100 * S;
	assert_int_equal(trace_add_partition(&an, 1, 0, "healthy", "1->2 corrupt 100%"), 0);
	exchange(&an, 1, 2, 17, 1, 21, 101 * S, 101 * S + 5000);
	drop_for(&ev, 1, 2, 17, 1, 21, CAPNET_CORRUPTED, 1);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	exchange(&an, 1, 2, 17, 2, 22, 102 * S, 0);
	drop_for(&ev, 1, 2, 17, 2, 22, CAPNET_CORRUPTED, 1);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	exchange(&an, 1, 2, 17, 3, 23, 103 * S, 103 * S + 5000);
	/* A seeded loss says so. */
	exchange(&an, 1, 2, 17, 4, 24, 104 * S, 0);
	drop_for(&ev, 1, 2, 17, 4, 24, CAPNET_DROP_LOSS, 1);
	ev.flags = CAPNET_EVENT_SEEDED;
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	assert_int_equal(trace_analyse(&an), 0);
	assert_int_equal(msg_with_id(&an, 24)->fate, TRACE_LOST_LOSS);
	assert_true(msg_with_id(&an, 24)->seeded);
	assert_false(msg_with_id(&an, 21)->seeded);
	assert_int_equal(an.total[TRACE_CORRUPTED], 2);
	assert_int_equal(an.total[TRACE_DELIVERED], 1);
	assert_int_equal(an.unmatched_drops, 0);
	assert_int_equal(msg_with_id(&an, 21)->fate, TRACE_CORRUPTED);
	assert_int_equal(msg_with_id(&an, 22)->fate, TRACE_CORRUPTED);
	assert_int_equal(msg_with_id(&an, 23)->fate, TRACE_DELIVERED);
	assert_string_equal(trace_fate_name(TRACE_CORRUPTED), "corrupted");
	trace_analysis_free(&an);
}

/* The tag trace_add_drop and trace_add_frame read in a shim's datagram. */
static void test_maelstrom_wire(void **state)
{
	uint64_t seq;
	size_t start;

	(void)state;
	assert_int_equal(mael_wire_parse("M17 {}", 6, &seq, &start), 0);
	assert_int_equal(seq, 17);
	assert_int_equal(start, 4);
	assert_int_equal(mael_wire_parse("{\"src\":1}", 9, &seq, &start), -EINVAL);
	assert_int_equal(mael_wire_parse("M {}", 4, &seq, &start), -EINVAL);
	assert_int_equal(mael_wire_parse("M0 {}", 5, &seq, &start), -EINVAL);
	assert_int_equal(mael_wire_parse("M12", 3, &seq, &start), -EINVAL);
	/* A drop event holds the first 32 bytes only: the tag must be in them. */
	assert_int_equal(mael_wire_parse("M99999999999999999999999 {}", 27, &seq, &start), -EINVAL);
}

/* The filter's drop of a shim's datagram: UDP to the shims' port, its payload's start. */
static void shim_drop(struct capnet_drop_event *ev, unsigned int from, unsigned int to,
		      uint16_t dport, const char *payload, uint8_t reason, uint64_t time_ns)
{
	*ev = (struct capnet_drop_event){ .src = from,
					  .dst = to,
					  .reason = reason,
					  .time_ns = time_ns,
					  .ethertype = 0x0800,
					  .ip_proto = 17,
					  .saddr = { addr(from) },
					  .daddr = { addr(to) },
					  .sport = MAEL_SHIM_PORT,
					  .dport = dport,
					  .payload_len = (uint16_t)strlen(payload) };
	memcpy(ev->payload, payload, ev->payload_len);
}

static const struct trace_msg *shim_msg(const struct trace_analysis *an, unsigned int from,
					unsigned int to, uint64_t seq)
{
	struct trace_key k = trace_key_maelstrom(from, to, seq);

	for (size_t i = 0; i < an->nmsgs; i++)
		if (!memcmp(&an->msgs[i].key, &k, sizeof(k)))
			return &an->msgs[i];
	return NULL;
}

static void shim_send(struct trace_analysis *an, unsigned int from, unsigned int to, uint64_t seq,
		      uint64_t time_ns, const void *origin)
{
	struct trace_key k = trace_key_maelstrom(from, to, seq);

	assert_int_equal(trace_add_send(an, &k, time_ns, origin), 0);
}

static void shim_arrive(struct trace_analysis *an, unsigned int from, unsigned int to, uint64_t seq,
			uint64_t time_ns, bool node_down)
{
	struct trace_key k = trace_key_maelstrom(from, to, seq);

	assert_int_equal(trace_add_arrival(an, &k, time_ns, node_down), 0);
}

/* Messages between maelstrom shims from their logs: paired by (sender, receiver, number),
 * explained by the filter's drops of their datagrams, and one that arrived where the nemesis had
 * killed the program is lost to that, unless the filter dropped it first. */
static void test_maelstrom_messages(void **state)
{
	static const char *const origin = "the caller's record";
	static const uint64_t want[TRACE_FATES] = {
		[TRACE_DELIVERED] = 2,	    [TRACE_LOST_PARTITION] = 1,	  [TRACE_LOST_LOSS] = 1,
		[TRACE_LOST_NODE_DOWN] = 1, [TRACE_LOST_UNEXPLAINED] = 1,
	};
	struct trace_analysis an;
	struct capnet_drop_event ev;
	const struct trace_msg *m;

	(void)state;
	trace_analysis_init(&an, 3);
	shim_send(&an, 1, 2, 1, 100, origin);
	shim_arrive(&an, 1, 2, 1, 105, false);
	shim_arrive(&an, 1, 2, 1, 106, false); /* duplicated: delivered once */
	shim_send(&an, 1, 3, 2, 110, origin);
	shim_drop(&ev, 1, 3, MAEL_SHIM_PORT, "M2 {\"src\":\"n0\",\"dest\":\"n2\"",
		  CAPNET_DROP_PARTITION, 111);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	shim_send(&an, 2, 1, 1, 120, origin);
	shim_arrive(&an, 2, 1, 1, 125, false);
	/* Dropped by the filter and at a killed node too: the filter's drop is the cause. */
	shim_send(&an, 2, 3, 2, 130, origin);
	shim_drop(&ev, 2, 3, MAEL_SHIM_PORT, "M2 {}", CAPNET_DROP_LOSS, 131);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	shim_arrive(&an, 2, 3, 2, 135, true);
	shim_send(&an, 3, 1, 1, 140, origin);
	/* Number 1 of node 3 to another node: no match. */
	shim_drop(&ev, 3, 2, MAEL_SHIM_PORT, "M1 {}", CAPNET_DROP_PARTITION, 141);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	/* The tag on another port is no shim's message. */
	shim_drop(&ev, 3, 1, 9999, "M1 {}", CAPNET_DROP_PARTITION, 142);
	assert_int_equal(trace_add_drop(&an, &ev), 0);
	shim_send(&an, 3, 2, 3, 150, origin);
	shim_arrive(&an, 3, 2, 3, 151, true);
	shim_arrive(&an, 1, 2, 9, 152, false); /* nobody sent it */

	assert_int_equal(trace_analyse(&an), 0);
	assert_int_equal(an.nmsgs, 6);
	for (int fate = 0; fate < TRACE_FATES; fate++)
		assert_int_equal(an.total[fate], want[fate]);
	assert_int_equal(an.duplicates, 1);
	assert_int_equal(an.unmatched_drops, 2);
	assert_int_equal(an.unsent_arrivals, 1);
	assert_string_equal(trace_fate_name(TRACE_LOST_NODE_DOWN), "node killed");

	m = shim_msg(&an, 1, 2, 1);
	assert_int_equal(m->fate, TRACE_DELIVERED);
	assert_int_equal(m->arrival_ns, 105);
	assert_ptr_equal(m->origin, origin);
	m = shim_msg(&an, 1, 3, 2);
	assert_int_equal(m->fate, TRACE_LOST_PARTITION);
	assert_int_equal(m->dropped_ns, 111);
	m = shim_msg(&an, 2, 3, 2);
	assert_int_equal(m->fate, TRACE_LOST_LOSS);
	assert_int_equal(m->dropped_ns, 131);
	m = shim_msg(&an, 3, 1, 1);
	assert_int_equal(m->fate, TRACE_LOST_UNEXPLAINED);
	assert_int_equal(m->dropped_ns, 0);
	m = shim_msg(&an, 3, 2, 3);
	assert_int_equal(m->fate, TRACE_LOST_NODE_DOWN);
	assert_int_equal(an.links[3 * 4 + 2].lost[TRACE_LOST_NODE_DOWN], 1);
	trace_analysis_free(&an);
}

/* A shim's datagram in a capture pairs by its tag as its logs do, and is named so. */
static void test_maelstrom_in_capture(void **state)
{
	static const char payload[] = "M4 {\"src\":\"n0\",\"dest\":\"n1\",\"body\":{}}";
	struct trace_analysis an;
	uint8_t *f = frames[0], *ip = f + 14, *udp = ip + 20;
	uint16_t udp_len = 8 + sizeof(payload) - 1;
	char buf[96];

	(void)state;
	memset(f, 0, 128);
	memcpy(f, (uint8_t[]){ 0x02, 0xca, 0xfe, 0, 0, 2 }, 6);
	memcpy(f + 6, (uint8_t[]){ 0x02, 0xca, 0xfe, 0, 0, 1 }, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (20 + udp_len) >> 8;
	ip[3] = (20 + udp_len) & 0xff;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &(uint32_t){ addr(1) }, 4);
	memcpy(ip + 16, &(uint32_t){ addr(2) }, 4);
	udp[0] = udp[2] = MAEL_SHIM_PORT >> 8;
	udp[1] = udp[3] = MAEL_SHIM_PORT & 0xff;
	udp[4] = udp_len >> 8;
	udp[5] = udp_len & 0xff;
	memcpy(udp + 8, payload, sizeof(payload) - 1);
	trace_analysis_init(&an, 2);
	assert_int_equal(trace_add_frame(&an, 1, 10, f, 14 + 20 + udp_len), 0);
	assert_int_equal(trace_add_frame(&an, 2, 12, f, 14 + 20 + udp_len), 0);
	assert_int_equal(trace_analyse(&an), 0);
	assert_int_equal(an.nmsgs, 1);
	assert_int_equal(an.msgs[0].key.kind, TRACE_MAELSTROM);
	assert_int_equal(an.msgs[0].key.a, 4);
	assert_int_equal(an.msgs[0].fate, TRACE_DELIVERED);
	assert_string_equal(trace_msg_type(&an.msgs[0], buf, sizeof(buf)), "maelstrom");
	trace_msg_describe(&an.msgs[0], buf, sizeof(buf));
	assert_string_equal(buf, "maelstrom message 4 from node 1 to node 2");
	trace_analysis_free(&an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capnet),
		cmocka_unit_test(test_ip_multiset),
		cmocka_unit_test(test_frames_ignored),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_port_names),
		cmocka_unit_test(test_maelstrom_wire),
		cmocka_unit_test(test_maelstrom_messages),
		cmocka_unit_test(test_maelstrom_in_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
