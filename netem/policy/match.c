// SPDX-License-Identifier: GPL-2.0-only
/* --only / --except specs: parse, normalise, compare, print. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/policy/match.h"

#define ETHERTYPE_ARP 0x0806
#define PROTO_TCP 6
#define PROTO_UDP 17

static int fail(struct spec_error *err, const char *fmt, const char *what)
{
	snprintf(err->msg, sizeof(err->msg), fmt, what);
	return -EINVAL;
}

/* A decimal in lo..hi, nothing else. */
static int parse_number(const char *text, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno || *end || *out < lo || *out > hi)
		return -EINVAL;
	return 0;
}

static int parse_term(const char *spec, struct capnet_match_term *t, struct spec_error *err)
{
	const char *colon = strchr(spec, ':');
	size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long n;

	memset(t, 0, sizeof(*t));
	if (!name_len && !colon)
		return fail(err, "an empty SPEC%s (like tcp:2380, udp, icmp, arp or ip:132)", "");
	if (name_len == 3 && !strncmp(spec, "tcp", 3)) {
		t->ip_proto = PROTO_TCP;
	} else if (name_len == 3 && !strncmp(spec, "udp", 3)) {
		t->ip_proto = PROTO_UDP;
	} else if (name_len == 2 && !strncmp(spec, "ip", 2)) {
		if (!colon)
			return fail(err, "\"%s\": ip needs a protocol number, like ip:132", spec);
		if (parse_number(colon + 1, 1, 255, &n))
			return fail(err, "\"%s\": the IP protocol is a number in 1..255", spec);
		t->kind = CAPNET_MATCH_IP_PROTO;
		t->ip_proto = n;
		/* ip:6 and ip:17 are tcp and udp: one spelling, so equal rules compare equal. */
		return 0;
	} else if (name_len == 4 && !strncmp(spec, "icmp", 4) && !colon) {
		t->kind = CAPNET_MATCH_ICMP;
		return 0;
	} else if (name_len == 3 && !strncmp(spec, "arp", 3) && !colon) {
		t->kind = CAPNET_MATCH_ETHERTYPE;
		t->value = ETHERTYPE_ARP;
		return 0;
	} else {
		return fail(err,
			    "\"%s\": not a SPEC (tcp:PORT, udp:PORT, tcp, udp, icmp, arp or "
			    "ip:PROTO)",
			    spec);
	}
	t->kind = CAPNET_MATCH_IP_PROTO;
	if (colon && parse_number(colon + 1, 1, 65535, &n))
		return fail(err, "\"%s\": a port is a number in 1..65535", spec);
	if (colon)
		t->value = n;
	return 0;
}

static int term_cmp(const void *a, const void *b)
{
	const struct capnet_match_term *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->ip_proto != y->ip_proto)
		return x->ip_proto - y->ip_proto;
	return (int)x->value - (int)y->value;
}

int match_parse(const char *text, bool negate, struct capnet_match *out, struct spec_error *err)
{
	struct capnet_match m = { .negate = negate };
	struct capnet_match_term t;
	char spec[64];
	const char *p = text, *comma;
	unsigned int i, kept;
	size_t n;
	int rc;

	if (!*text)
		return fail(err,
			    "%s--only and --except need a SPEC (like tcp:2380, udp, icmp, "
			    "arp or ip:132)",
			    "");
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n >= sizeof(spec))
			return fail(err, "\"%.40s...\": not a SPEC", p);
		memcpy(spec, p, n);
		spec[n] = 0;
		if (!n)
			return fail(err, "\"%s\": an empty SPEC between commas", text);
		rc = parse_term(spec, &t, err);
		if (rc)
			return rc;
		if (m.count >= CAPNET_MATCH_TERMS)
			return fail(err, "\"%s\": more SPECs than a rule holds (8)", text);
		m.term[m.count++] = t;
		if (!comma)
			break;
		p = comma + 1;
	}
	qsort(m.term, m.count, sizeof(m.term[0]), term_cmp);
	/* A port term is covered by a whole-protocol term of the same protocol. */
	for (i = 0, kept = 0; i < m.count; i++) {
		const struct capnet_match_term *c = &m.term[i];
		bool covered = kept && !term_cmp(&m.term[kept - 1], c);
		unsigned int j;

		for (j = 0; j < m.count && !covered; j++)
			covered = c->kind == CAPNET_MATCH_IP_PROTO && c->value &&
				  m.term[j].kind == CAPNET_MATCH_IP_PROTO &&
				  m.term[j].ip_proto == c->ip_proto && !m.term[j].value;
		if (!covered)
			m.term[kept++] = *c;
	}
	memset(&m.term[kept], 0, (m.count - kept) * sizeof(m.term[0]));
	m.count = kept;
	*out = m;
	return 0;
}

static int format_term(const struct capnet_match_term *t, char *buf, size_t len)
{
	switch (t->kind) {
	case CAPNET_MATCH_ETHERTYPE:
		if (t->value == ETHERTYPE_ARP)
			return snprintf(buf, len, "arp");
		return snprintf(buf, len, "ethertype:0x%04x", t->value);
	case CAPNET_MATCH_ICMP:
		return snprintf(buf, len, "icmp");
	case CAPNET_MATCH_IP_PROTO:
		if (t->ip_proto == PROTO_TCP || t->ip_proto == PROTO_UDP) {
			const char *name = t->ip_proto == PROTO_TCP ? "tcp" : "udp";

			return t->value ? snprintf(buf, len, "%s:%u", name, t->value) :
					  snprintf(buf, len, "%s", name);
		}
		return snprintf(buf, len, "ip:%u", t->ip_proto);
	}
	return snprintf(buf, len, "?");
}

int match_format_specs(const struct capnet_match *m, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;
	char one[32];

	if (len)
		buf[0] = 0;
	for (i = 0; i < m->count && i < CAPNET_MATCH_TERMS; i++) {
		format_term(&m->term[i], one, sizeof(one));
		used += snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
				 "%s%s", i ? "," : "", one);
	}
	return used;
}

int match_format(const struct capnet_match *m, char *buf, size_t len)
{
	char specs[CAPNET_MATCH_TERMS * 32];

	if (match_is_all(m)) {
		if (len)
			buf[0] = 0;
		return 0;
	}
	match_format_specs(m, specs, sizeof(specs));
	return snprintf(buf, len, "%s %s", m->negate ? "except" : "only", specs);
}

bool match_equal(const struct capnet_match *a, const struct capnet_match *b)
{
	return a->negate == b->negate && a->count == b->count &&
	       !memcmp(a->term, b->term, a->count * sizeof(a->term[0]));
}

bool match_is_all(const struct capnet_match *m)
{
	return !m->count;
}

int match_take_option(int argc, char **argv, int *i, struct match_opt *opt, struct spec_error *err)
{
	const char *name = argv[*i];
	bool negate;

	if (strcmp(name, "--only") && strcmp(name, "--except"))
		return 0;
	negate = name[2] == 'e';
	if (opt->given) {
		snprintf(err->msg, sizeof(err->msg),
			 "give one --only or one --except (with SPECs separated by commas), not "
			 "both or twice");
		return -1;
	}
	if (*i + 1 >= argc) {
		snprintf(err->msg, sizeof(err->msg),
			 "%s needs a SPEC (like tcp:2380, udp, icmp, arp or ip:132)", name);
		return -1;
	}
	if (match_parse(argv[*i + 1], negate, &opt->match, err))
		return -1;
	opt->given = true;
	(*i)++;
	return 1;
}
