// SPDX-License-Identifier: GPL-2.0-only
/* Pairing by sorting: sends, arrivals and drop events are each sorted by key (then time), and
 * one merge walks the three lists together. For a key sent n times and seen arriving k < n
 * times, the first k sends count as delivered (a link keeps order) and the n - k later ones as
 * lost, each explained by the earliest unused drop event of the same key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "lib/ip_proto.h"
#include "netem/maelstrom/wire.h"
#include "node/proto.h"
#include "tools/captrace/trace_packet.h"
#include "lib/array.h"
#include "tools/captrace/trace_pair.h"

void trace_analysis_init(struct trace_analysis *an, unsigned int nodes)
{
	memset(an, 0, sizeof(*an));
	an->nodes = nodes;
	an->stop_ns = UINT64_MAX;
}

void trace_analysis_free(struct trace_analysis *an)
{
	if (!an)
		return;
	free(an->msgs);
	free(an->arrivals);
	free(an->drops);
	free(an->windows);
	free(an->links);
	memset(an, 0, sizeof(*an));
}

static void key_from_ip(struct trace_key *k, uint32_t saddr, uint32_t daddr, uint8_t proto,
			uint16_t ip_id, uint16_t csum)
{
	k->kind = TRACE_IP;
	k->a = (uint64_t)ntohl(saddr) << 32 | ntohl(daddr);
	k->b = (uint64_t)proto << 32 | (uint32_t)ip_id << 16 | csum;
}

struct trace_key trace_key_maelstrom(unsigned int from, unsigned int to, uint64_t seq)
{
	return (struct trace_key){
		.kind = TRACE_MAELSTROM, .a = seq, .from = (uint16_t)from, .to = (uint16_t)to
	};
}

/* A UDP datagram to a maelstrom shim's port with the shim's tag: its number in *seq. */
static bool shim_datagram(uint8_t ip_proto, uint16_t dport, const uint8_t *payload, size_t len,
			  uint64_t *seq)
{
	size_t start;

	return ip_proto == 17 && dport == MAEL_SHIM_PORT &&
	       !mael_wire_parse((const char *)payload, len, seq, &start);
}

/* Which node has this MAC, in an adopted lab; 0 for none. */
static unsigned int node_of_mac(const struct trace_analysis *an, const uint8_t *mac)
{
	for (unsigned int i = 1; i <= an->nodes; i++)
		if (!memcmp(an->node_mac[i], mac, 6))
			return i;
	return 0;
}

static struct trace_msg *add_msg(struct trace_analysis *an, const struct trace_key *key,
				 uint64_t time_ns)
{
	struct trace_msg *m;

	if (array_grow((void **)&an->msgs, sizeof(*an->msgs), an->nmsgs, &an->capmsgs))
		return NULL;
	m = &an->msgs[an->nmsgs++];
	memset(m, 0, sizeof(*m));
	m->key = *key;
	m->time_ns = time_ns;
	m->window = -1;
	return m;
}

int trace_add_send(struct trace_analysis *an, const struct trace_key *key, uint64_t time_ns,
		   const void *origin)
{
	struct trace_msg *m = add_msg(an, key, time_ns);

	if (!m)
		return -ENOMEM;
	m->origin = origin;
	return 0;
}

int trace_add_arrival(struct trace_analysis *an, const struct trace_key *key, uint64_t time_ns,
		      bool node_down)
{
	if (array_grow((void **)&an->arrivals, sizeof(*an->arrivals), an->narrivals,
		       &an->caparrivals))
		return -ENOMEM;
	an->arrivals[an->narrivals++] =
		(struct trace_arrival){ .key = *key, .time_ns = time_ns, .node_down = node_down };
	return 0;
}

int trace_add_frame(struct trace_analysis *an, unsigned int node, uint64_t time_ns,
		    const uint8_t *frame, uint32_t caplen)
{
	struct trace_packet p;
	struct trace_key key = {};
	uint64_t seq;
	int rc;

	rc = trace_packet_parse(frame, caplen, &p);
	if (!rc && an->node_mac) {
		p.dst_node = node_of_mac(an, frame);
		p.src_node = node_of_mac(an, frame + 6);
	}
	if (rc || !p.src_node || !p.dst_node || p.src_node == p.dst_node ||
	    (p.src_node != node && p.dst_node != node) || p.src_node > an->nodes ||
	    p.dst_node > an->nodes) {
		an->other_frames++;
		return 0;
	}
	key.from = p.src_node;
	key.to = p.dst_node;
	if (p.capnet) {
		key.kind = TRACE_CAPNET;
		key.a = p.hdr.msg_id;
		key.b = p.hdr.from;
	} else if (p.has_l4 && shim_datagram(p.ip_proto, p.dport, p.payload, p.payload_len, &seq)) {
		key = trace_key_maelstrom(p.src_node, p.dst_node, seq);
	} else {
		key_from_ip(&key, p.saddr, p.daddr, p.ip_proto, p.ip_id, p.l4_csum);
	}
	if (p.src_node == node) {
		struct trace_msg *m;

		if (time_ns < an->start_ns || time_ns > an->stop_ns) {
			an->outside++;
			return 0;
		}
		m = add_msg(an, &key, time_ns);
		if (!m)
			return -ENOMEM;
		m->payload = p.payload;
		m->payload_len = p.payload_len;
		m->sport = p.sport;
		m->dport = p.dport;
		m->ip_proto = p.ip_proto;
		return 0;
	}
	return trace_add_arrival(an, &key, time_ns, false);
}

int trace_add_drop(struct trace_analysis *an, const struct capnet_drop_event *ev)
{
	struct trace_drop *d;
	struct proto_header hdr;
	uint64_t seq;
	size_t len = ev->payload_len < CAPNET_EVENT_PAYLOAD ? ev->payload_len :
							      CAPNET_EVENT_PAYLOAD;

	if (array_grow((void **)&an->drops, sizeof(*an->drops), an->ndrops, &an->capdrops))
		return -ENOMEM;
	d = &an->drops[an->ndrops++];
	memset(d, 0, sizeof(*d));
	d->time_ns = ev->time_ns;
	d->generation = ev->generation;
	d->reason = ev->reason;
	d->seeded = ev->reason == CAPNET_DROP_LOSS && (ev->flags & CAPNET_EVENT_SEEDED);
	d->key.from = ev->src;
	d->key.to = ev->dst;
	if (ev->ethertype != TRACE_ETH_IPV4) {
		d->key.kind = 0; /* never equal to a send's key */
		return 0;
	}
	if (ev->ip_proto == 17 && !proto_peek(ev->payload, len, &hdr)) {
		d->key.kind = TRACE_CAPNET;
		d->key.a = hdr.msg_id;
		d->key.b = hdr.from;
	} else if (shim_datagram(ev->ip_proto, ev->dport, ev->payload, len, &seq)) {
		d->key = trace_key_maelstrom(ev->src, ev->dst, seq);
	} else {
		key_from_ip(&d->key, ev->saddr[0], ev->daddr[0], ev->ip_proto, ev->ip_id,
			    ev->l4_csum);
	}
	return 0;
}

int trace_add_partition(struct trace_analysis *an, uint64_t generation, uint64_t flip_ns,
			const char *spec, const char *impairments)
{
	struct trace_window *w;
	size_t i;

	for (i = 0; i < an->nwindows; i++)
		if (an->windows[i].generation == generation)
			return 0;
	if (array_grow((void **)&an->windows, sizeof(*an->windows), an->nwindows, &an->capwindows))
		return -ENOMEM;
	w = &an->windows[an->nwindows++];
	memset(w, 0, sizeof(*w));
	w->generation = generation;
	w->flip_ns = flip_ns;
	snprintf(w->spec, sizeof(w->spec), "%s", spec);
	snprintf(w->impairments, sizeof(w->impairments), "%s", impairments ? impairments : "");
	return 0;
}

static int key_cmp(const struct trace_key *x, const struct trace_key *y)
{
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return 0;
}

#define TIME_CMP(x, y) ((x) < (y) ? -1 : (x) > (y))

static int msg_cmp(const void *a, const void *b)
{
	const struct trace_msg *x = a, *y = b;
	int c = key_cmp(&x->key, &y->key);

	return c ? c : TIME_CMP(x->time_ns, y->time_ns);
}

static int arrival_cmp(const void *a, const void *b)
{
	const struct trace_arrival *x = a, *y = b;
	int c = key_cmp(&x->key, &y->key);

	return c ? c : TIME_CMP(x->time_ns, y->time_ns);
}

static int drop_cmp(const void *a, const void *b)
{
	const struct trace_drop *x = a, *y = b;
	int c = key_cmp(&x->key, &y->key);

	return c ? c : TIME_CMP(x->time_ns, y->time_ns);
}

static int msg_time_cmp(const void *a, const void *b)
{
	const struct trace_msg *x = a, *y = b;
	int c = TIME_CMP(x->time_ns, y->time_ns);

	return c ? c : key_cmp(&x->key, &y->key);
}

static int window_cmp(const void *a, const void *b)
{
	const struct trace_window *x = a, *y = b;

	return TIME_CMP(x->generation, y->generation);
}

/* qsort, which must not be given the NULL of an array never grown. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static enum trace_fate fate_of_reason(uint8_t reason)
{
	switch (reason) {
	case CAPNET_DROP_PARTITION:
		return TRACE_LOST_PARTITION;
	case CAPNET_DROP_LOSS:
		return TRACE_LOST_LOSS;
	case CAPNET_CORRUPTED:
		return TRACE_CORRUPTED;
	}
	return TRACE_LOST_UNEXPLAINED;
}

/* The window in force at a send: the last one whose flip (in realtime) is not after it. */
static int window_at(const struct trace_analysis *an, uint64_t time_ns)
{
	size_t lo = 0, hi = an->nwindows;

	/* windows are sorted by generation, and so by flip time */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (an->windows[mid].flip_ns + an->realtime_offset_ns <= time_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo - 1;
}

int trace_analyse(struct trace_analysis *an)
{
	size_t i = 0, j = 0, k = 0, n, w;
	unsigned int stride = an->nodes + 1;

	free(an->links);
	an->links = calloc((size_t)stride * stride, sizeof(*an->links));
	if (!an->links)
		return -ENOMEM;
	memset(an->total, 0, sizeof(an->total));
	an->unsent_arrivals = an->duplicates = an->unmatched_drops = 0;

	sort(an->msgs, an->nmsgs, sizeof(*an->msgs), msg_cmp);
	sort(an->arrivals, an->narrivals, sizeof(*an->arrivals), arrival_cmp);
	sort(an->drops, an->ndrops, sizeof(*an->drops), drop_cmp);
	sort(an->windows, an->nwindows, sizeof(*an->windows), window_cmp);

	while (i < an->nmsgs) {
		const struct trace_key *key = &an->msgs[i].key;
		size_t nsend, narr = 0, ndown = 0, first = i, d;

		for (n = i; n < an->nmsgs && !key_cmp(&an->msgs[n].key, key); n++)
			;
		nsend = n - i;
		/* Arrivals of keys never sent in the capture interval. */
		while (j < an->narrivals && key_cmp(&an->arrivals[j].key, key) < 0) {
			an->unsent_arrivals++;
			j++;
		}
		while (k < an->ndrops && key_cmp(&an->drops[k].key, key) < 0) {
			an->unmatched_drops++;
			k++;
		}
		for (; j < an->narrivals && !key_cmp(&an->arrivals[j].key, key); j++) {
			if (an->arrivals[j].node_down) {
				ndown++;
				continue;
			}
			if (narr < nsend)
				an->msgs[first + narr].arrival_ns = an->arrivals[j].time_ns;
			else
				an->duplicates++;
			narr++;
		}
		d = k;
		for (; i < n; i++) {
			struct trace_msg *m = &an->msgs[i];
			size_t c;

			/* Corrupted on the way, whatever a capture saw arrive: the receiver's stack
			 * dropped it, or the application got other bytes than were sent. */
			for (c = k; c < an->ndrops && !key_cmp(&an->drops[c].key, key); c++) {
				if (an->drops[c].used || an->drops[c].reason != CAPNET_CORRUPTED)
					continue;
				an->drops[c].used = true;
				m->fate = TRACE_CORRUPTED;
				m->generation = an->drops[c].generation;
				m->window = -2;
				break;
			}
			if (m->fate == TRACE_CORRUPTED)
				continue;
			if (i - first < narr) {
				m->fate = TRACE_DELIVERED;
				continue;
			}
			m->fate = TRACE_LOST_UNEXPLAINED;
			/* The earliest drop event of this key not yet used: both lists are in
			 * time order, so the n-th lost send takes the n-th drop. */
			for (; d < an->ndrops && !key_cmp(&an->drops[d].key, key); d++) {
				if (an->drops[d].used)
					continue;
				an->drops[d].used = true;
				m->fate = fate_of_reason(an->drops[d].reason);
				m->seeded = an->drops[d].seeded;
				m->generation = an->drops[d].generation;
				m->dropped_ns = an->drops[d].time_ns;
				m->window = -2; /* by generation, below */
				d++;
				break;
			}
			/* No drop event took it (that sets window -2), and it reached a node
			 * whose program was not there. */
			if (m->window != -2 && ndown) {
				m->fate = TRACE_LOST_NODE_DOWN;
				ndown--;
			}
		}
		for (; k < an->ndrops && !key_cmp(&an->drops[k].key, key); k++)
			if (!an->drops[k].used)
				an->unmatched_drops++;
	}
	an->unsent_arrivals += an->narrivals - j;
	an->unmatched_drops += an->ndrops - k;

	/* Windows in realtime, clipped to the capture. */
	for (w = 0; w < an->nwindows; w++) {
		struct trace_window *win = &an->windows[w];
		uint64_t start = win->flip_ns + an->realtime_offset_ns;

		win->start_ns = start < an->start_ns ? an->start_ns : start;
		win->end_ns = w + 1 < an->nwindows ?
				      an->windows[w + 1].flip_ns + an->realtime_offset_ns :
				      an->stop_ns;
		if (win->end_ns < win->start_ns)
			win->end_ns = win->start_ns;
		win->sent = win->delivered = 0;
		memset(win->lost, 0, sizeof(win->lost));
	}

	sort(an->msgs, an->nmsgs, sizeof(*an->msgs), msg_time_cmp);
	for (i = 0; i < an->nmsgs; i++) {
		struct trace_msg *m = &an->msgs[i];
		struct trace_link *l = &an->links[(size_t)m->key.from * stride + m->key.to];

		if (m->window == -2) {
			m->window = -1;
			for (w = 0; w < an->nwindows; w++)
				if (an->windows[w].generation == m->generation)
					m->window = (int)w;
		} else {
			m->window = window_at(an, m->time_ns);
			if (m->window >= 0)
				m->generation = an->windows[m->window].generation;
		}
		l->sent++;
		if (m->fate == TRACE_DELIVERED)
			l->delivered++;
		else
			l->lost[m->fate]++;
		an->total[m->fate]++;
		if (m->window >= 0) {
			struct trace_window *win = &an->windows[m->window];

			win->sent++;
			if (m->fate == TRACE_DELIVERED)
				win->delivered++;
			else
				win->lost[m->fate]++;
		}
	}
	return 0;
}

const char *trace_fate_name(enum trace_fate f)
{
	switch (f) {
	case TRACE_DELIVERED:
		return "delivered";
	case TRACE_LOST_PARTITION:
		return "partition";
	case TRACE_LOST_LOSS:
		return "loss";
	case TRACE_CORRUPTED:
		return "corrupted";
	case TRACE_LOST_NODE_DOWN:
		return "node killed";
	case TRACE_LOST_UNEXPLAINED:
	case TRACE_FATES:
		break;
	}
	return "unexplained";
}

const char *trace_generation_spec(const struct trace_analysis *an, uint64_t generation)
{
	size_t w;

	for (w = 0; w < an->nwindows; w++)
		if (an->windows[w].generation == generation)
			return an->windows[w].spec;
	return NULL;
}

int trace_port_names_parse(const char *text, struct trace_port_name *out, size_t *nout, char *err,
			   size_t len)
{
	const char *p = text;

	if (!*p) {
		snprintf(err, len, "--port needs PORT=NAME[,PORT=NAME...]");
		return -EINVAL;
	}
	while (*p) {
		struct trace_port_name *pn = &out[*nout];
		const char *name, *end;
		unsigned long port;
		char *after;
		size_t n;

		if (*nout == TRACE_PORT_NAMES) {
			snprintf(err, len, "--port: at most %d names", TRACE_PORT_NAMES);
			return -EINVAL;
		}
		port = *p >= '0' && *p <= '9' ? strtoul(p, &after, 10) : 0;
		if (!port || port > 65535 || *after != '=') {
			snprintf(err, len,
				 "--port \"%s\": PORT=NAME[,PORT=NAME...], a port 1 to 65535",
				 text);
			return -EINVAL;
		}
		name = after + 1;
		end = strchr(name, ',');
		n = end ? (size_t)(end - name) : strlen(name);
		if (!n || n >= TRACE_PORT_NAME_MAX ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-_.") < n) {
			snprintf(
				err, len,
				"--port \"%s\": a name is 1 to %d letters, digits, '-', '_' or '.'",
				text, TRACE_PORT_NAME_MAX - 1);
			return -EINVAL;
		}
		pn->port = (uint16_t)port;
		memcpy(pn->name, name, n);
		pn->name[n] = 0;
		(*nout)++;
		p = end ? end + 1 : name + n;
		if (end && !*p) {
			snprintf(err, len, "--port \"%s\": a name after the last comma", text);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *port_name(const struct trace_analysis *an, uint16_t port)
{
	for (size_t i = 0; i < an->nports; i++)
		if (an->ports[i].port == port)
			return an->ports[i].name;
	return NULL;
}

void trace_name_ports(struct trace_analysis *an)
{
	for (size_t i = 0; an->nports && i < an->nmsgs; i++) {
		struct trace_msg *m = &an->msgs[i];

		if (m->key.kind == TRACE_CAPNET || (m->ip_proto != 6 && m->ip_proto != 17))
			continue;
		/* The server's port is the one named: a reply's source, a request's destination. */
		m->service = port_name(an, m->sport);
		if (!m->service)
			m->service = port_name(an, m->dport);
	}
}

const char *trace_msg_type(const struct trace_msg *m, char *buf, size_t len)
{
	const char *name;

	if (m->service)
		return m->service;
	if (m->key.kind == TRACE_MAELSTROM)
		return "maelstrom";
	if (m->key.kind == TRACE_CAPNET) {
		struct proto_header hdr;

		if (!proto_peek(m->payload, m->payload_len, &hdr)) {
			name = proto_type_name(hdr.type);
			if (name)
				return name;
			snprintf(buf, len, "type-%u", hdr.type);
			return buf;
		}
	}
	return ip_proto_name(m->ip_proto, buf, len);
}

int trace_msg_describe(const struct trace_msg *m, char *buf, size_t len)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], tbuf[24];
	uint32_t s = htonl((uint32_t)(m->key.a >> 32)), d = htonl((uint32_t)m->key.a);

	if (m->key.kind == TRACE_CAPNET)
		return proto_describe(m->payload, m->payload_len, buf, len);
	if (m->key.kind == TRACE_MAELSTROM)
		return snprintf(buf, len, "maelstrom message %llu from node %u to node %u",
				(unsigned long long)m->key.a, m->key.from, m->key.to);
	inet_ntop(AF_INET, &s, src, sizeof(src));
	inet_ntop(AF_INET, &d, dst, sizeof(dst));
	if (m->ip_proto == 6 || m->ip_proto == 17)
		return snprintf(buf, len, "%s %s:%u > %s:%u id %u csum 0x%04x (%u bytes payload)",
				trace_msg_type(m, tbuf, sizeof(tbuf)), src, m->sport, dst, m->dport,
				(unsigned int)(m->key.b >> 16 & 0xffff),
				(unsigned int)(m->key.b & 0xffff), m->payload_len);
	return snprintf(buf, len, "%s %s > %s id %u", trace_msg_type(m, tbuf, sizeof(tbuf)), src,
			dst, (unsigned int)(m->key.b >> 16 & 0xffff));
}
