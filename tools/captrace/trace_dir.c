// SPDX-License-Identifier: GPL-2.0-only
/* Writing and reading the files of a recording directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "tools/captrace/trace_dir.h"
#include "lib/json.h"
#include "lib/monotonic.h"
#include "netem/policy/spec.h"

void trace_pcap_name(unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "n%u.pcap", node);
}

static bool member_u64(const struct json_value *obj, const char *key, uint64_t *v)
{
	return json_is_u64(json_member(obj, key), v);
}

/* Parsed once; every field is looked up in the tree. */
/* "macs": ["aa:bb:cc:dd:ee:ff", ...], one per node, when the lab was adopted. */
static int parse_macs(const struct json_value *macs, struct trace_meta *m, char *err, size_t errlen)
{
	m->has_macs = false;
	if (!macs)
		return 0;
	if (macs->kind != JSON_ARRAY || macs->n != m->nodes) {
		snprintf(err, errlen, "\"macs\" is not a list of %u MACs", m->nodes);
		return -EINVAL;
	}
	for (size_t i = 0; i < macs->n; i++) {
		unsigned int b[6];
		char extra;

		if (macs->items[i].kind != JSON_STRING ||
		    sscanf(macs->items[i].str, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
			   &b[3], &b[4], &b[5], &extra) != 6) {
			snprintf(err, errlen, "\"macs\": item %zu is not a MAC", i + 1);
			return -EINVAL;
		}
		for (int k = 0; k < 6; k++)
			m->mac[i + 1][k] = (uint8_t)b[k];
	}
	m->has_macs = true;
	return 0;
}

/* "hosts":[{"host":"h1","nodes":"1,2"},...] of a recording across hosts: absent on one host. */
static int parse_hosts(const struct json_value *hosts, struct trace_meta *m, char *err,
		       size_t errlen)
{
	m->n_hosts = 0;
	if (!hosts)
		return 0;
	if (hosts->kind != JSON_ARRAY || hosts->n > TRACE_HOSTS_MAX)
		goto bad;
	for (size_t h = 0; h < hosts->n; h++) {
		char nodes[4096];
		struct node_set set;
		struct spec_error e;

		if (json_copy_string(json_member(&hosts->items[h], "host"), m->host[h],
				     sizeof(m->host[h])) ||
		    json_copy_string(json_member(&hosts->items[h], "nodes"), nodes,
				     sizeof(nodes)) ||
		    nodeset_parse(nodes, m->nodes, &set, &e))
			goto bad;
		for (unsigned int i = 1; i <= m->nodes; i++)
			if (nodeset_has(&set, i))
				m->host_of[i] = h;
	}
	m->n_hosts = hosts->n;
	return 0;
bad:
	snprintf(err, errlen, "\"hosts\" is not a list of {\"host\", \"nodes\"}");
	return -EINVAL;
}

static int meta_from_json(const struct json_value *root, struct trace_meta *m, char *err,
			  size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
	} clocks[] = {
		{ "start_realtime_ns", offsetof(struct trace_meta, start_realtime_ns) },
		{ "start_monotonic_ns", offsetof(struct trace_meta, start_monotonic_ns) },
		{ "stop_realtime_ns", offsetof(struct trace_meta, stop_realtime_ns) },
		{ "stop_monotonic_ns", offsetof(struct trace_meta, stop_monotonic_ns) },
		{ "end_realtime_ns", offsetof(struct trace_meta, end_realtime_ns) },
		{ "end_monotonic_ns", offsetof(struct trace_meta, end_monotonic_ns) },
	};
	const struct json_value *complete;
	uint64_t v;
	size_t i;

	if (!member_u64(root, "version", &v) || v != TRACE_FORMAT_VERSION) {
		snprintf(err, errlen,
			 "no \"version\":%d (not a captrace recording, or another "
			 "version)",
			 TRACE_FORMAT_VERSION);
		return -EINVAL;
	}
	if (!member_u64(root, "nodes", &v) || !v || v > CAPNET_MAX_NODES) {
		snprintf(err, errlen, "\"nodes\" missing or not in 1..%d", CAPNET_MAX_NODES);
		return -EINVAL;
	}
	m->nodes = v;
	if (json_copy_string(json_member(root, "lab"), m->lab, sizeof(m->lab)))
		snprintf(m->lab, sizeof(m->lab), "?");
	if (json_copy_string(json_member(root, "subnet"), m->subnet, sizeof(m->subnet)))
		snprintf(m->subnet, sizeof(m->subnet), "?");
	for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++)
		if (!member_u64(root, clocks[i].key, (uint64_t *)((char *)m + clocks[i].off))) {
			snprintf(err, errlen, "\"%s\" missing or not a number", clocks[i].key);
			return -EINVAL;
		}
	if (m->stop_realtime_ns < m->start_realtime_ns ||
	    m->end_realtime_ns < m->stop_realtime_ns) {
		snprintf(err, errlen, "clocks out of order (start, stop, end)");
		return -EINVAL;
	}
	/* Recordings from before the field existed were written only when they had ended. */
	complete = json_member(root, "complete");
	m->complete = !complete || complete->kind != JSON_BOOL || complete->b;
	member_u64(root, "ring_overflow", &m->ring_overflow);
	member_u64(root, "pcap_dropped", &m->pcap_dropped);
	if (parse_hosts(json_member(root, "hosts"), m, err, errlen))
		return -EINVAL;
	return parse_macs(json_member(root, "macs"), m, err, errlen);
}

int trace_meta_parse(const char *text, struct trace_meta *m, char *err, size_t errlen)
{
	struct json_value root = { 0 };
	int rc;

	memset(m, 0, sizeof(*m));
	/* Not JSON at all reads as what it is not: a recording's metadata. */
	if (json_parse(text, strlen(text), JSON_MAX_DEPTH_ANY, &root, NULL) == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = meta_from_json(&root, m, err, errlen);
	json_value_free(&root);
	return rc;
}

void trace_drop_write(FILE *f, const struct capnet_drop_event *ev)
{
	char src[INET6_ADDRSTRLEN] = "-", dst[INET6_ADDRSTRLEN] = "-";
	char payload[2 * CAPNET_EVENT_PAYLOAD + 1];
	unsigned int i,
		n = ev->payload_len < CAPNET_EVENT_PAYLOAD ? ev->payload_len : CAPNET_EVENT_PAYLOAD;

	if (ev->ethertype == 0x0800) {
		inet_ntop(AF_INET, ev->saddr, src, sizeof(src));
		inet_ntop(AF_INET, ev->daddr, dst, sizeof(dst));
	} else if (ev->ethertype == 0x86dd) {
		inet_ntop(AF_INET6, ev->saddr, src, sizeof(src));
		inet_ntop(AF_INET6, ev->daddr, dst, sizeof(dst));
	}
	for (i = 0; i < n; i++)
		sprintf(payload + 2 * i, "%02x", ev->payload[i]);
	payload[2 * n] = 0;
	fprintf(f,
		"{\"time_ns\":%llu,\"generation\":%llu,\"from\":%u,\"to\":%u,\"reason\":%u,"
		"\"cause\":\"%s\",\"ethertype\":%u,\"ip_proto\":%u,\"src\":\"%s\",\"dst\":\"%s\","
		"\"sport\":%u,\"dport\":%u,\"ip_id\":%u,\"l4_csum\":%u,\"len\":%u,"
		"\"payload\":\"%s\",\"flags\":%u}\n",
		(unsigned long long)ev->time_ns, (unsigned long long)ev->generation, ev->src,
		ev->dst, ev->reason,
		ev->reason == CAPNET_DROP_PARTITION ? "partition" :
		ev->reason == CAPNET_DROP_LOSS	    ? "loss" :
		ev->reason == CAPNET_CORRUPTED	    ? "corrupted" :
						      "other",
		ev->ethertype, ev->ip_proto, src, dst, ev->sport, ev->dport, ev->ip_id, ev->l4_csum,
		ev->len, payload, ev->flags);
}

static int get_u(const struct json_value *obj, const char *key, uint64_t max, uint64_t *v)
{
	const struct json_value *m = json_member(obj, key);

	if (!m)
		return -ENOENT;
	if (!json_is_u64(m, v))
		return -EINVAL;
	return *v > max ? -ERANGE : 0;
}

/* Parsed once; every field looked up in the tree. */
static int drop_from_json(const struct json_value *obj, struct capnet_drop_event *ev)
{
	char addr[INET6_ADDRSTRLEN + 1], payload[2 * CAPNET_EVENT_PAYLOAD + 1];
	uint64_t v[12];
	size_t i, n;
	int af;

	if (get_u(obj, "time_ns", UINT64_MAX, &v[0]) ||
	    get_u(obj, "generation", UINT64_MAX, &v[1]) ||
	    get_u(obj, "from", CAPNET_MAX_NODES, &v[2]) ||
	    get_u(obj, "to", CAPNET_MAX_NODES, &v[3]) || get_u(obj, "reason", 255, &v[4]) ||
	    get_u(obj, "ethertype", 0xffff, &v[5]) || get_u(obj, "ip_proto", 255, &v[6]) ||
	    get_u(obj, "sport", 0xffff, &v[7]) || get_u(obj, "dport", 0xffff, &v[8]) ||
	    get_u(obj, "ip_id", 0xffff, &v[9]) || get_u(obj, "l4_csum", 0xffff, &v[10]) ||
	    get_u(obj, "len", UINT32_MAX, &v[11]))
		return -EINVAL;
	ev->time_ns = v[0];
	ev->generation = v[1];
	ev->src = v[2];
	ev->dst = v[3];
	ev->reason = v[4];
	ev->ethertype = v[5];
	ev->ip_proto = v[6];
	ev->sport = v[7];
	ev->dport = v[8];
	ev->ip_id = v[9];
	ev->l4_csum = v[10];
	ev->len = v[11];
	/* Recordings made before flags were written have none. */
	if (!get_u(obj, "flags", 255, &v[0]))
		ev->flags = v[0];
	af = ev->ethertype == 0x0800 ? AF_INET : ev->ethertype == 0x86dd ? AF_INET6 : 0;
	if (af) {
		if (json_copy_string(json_member(obj, "src"), addr, sizeof(addr)) ||
		    inet_pton(af, addr, ev->saddr) != 1 ||
		    json_copy_string(json_member(obj, "dst"), addr, sizeof(addr)) ||
		    inet_pton(af, addr, ev->daddr) != 1)
			return -EINVAL;
	}
	if (json_copy_string(json_member(obj, "payload"), payload, sizeof(payload)))
		return -EINVAL;
	n = strlen(payload);
	if (n % 2)
		return -EINVAL;
	for (i = 0; i < n; i += 2) {
		unsigned int b;

		if (sscanf(payload + i, "%2x", &b) != 1 ||
		    !strchr("0123456789abcdefABCDEF", payload[i + 1]))
			return -EINVAL;
		ev->payload[i / 2] = b;
	}
	ev->payload_len = n / 2;
	return 0;
}

int trace_drop_parse(const char *line, struct capnet_drop_event *ev)
{
	struct json_value obj;
	int err;

	memset(ev, 0, sizeof(*ev));
	err = json_parse(line, strcspn(line, "\n"), JSON_MAX_DEPTH_ANY, &obj, NULL);
	if (err)
		return err == -ENOMEM ? err : -EINVAL;
	err = obj.kind == JSON_OBJECT ? drop_from_json(&obj, ev) : -EINVAL;
	json_value_free(&obj);
	return err;
}

void trace_partition_write(FILE *f, uint64_t generation, uint64_t flip_ns, uint64_t seen_ns,
			   const char *spec, const char *impairments)
{
	fprintf(f, "{\"generation\":%llu,\"flip_ns\":%llu,\"seen_ns\":%llu,\"spec\":",
		(unsigned long long)generation, (unsigned long long)flip_ns,
		(unsigned long long)seen_ns);
	json_write_string(f, spec);
	fputs(",\"impairments\":", f);
	json_write_string(f, impairments ? impairments : "");
	fputs("}\n", f);
}

int trace_partition_parse(const char *line, uint64_t *generation, uint64_t *flip_ns, char *spec,
			  size_t speclen, char *impairments, size_t implen)
{
	struct json_value root;
	const struct json_value *imp;
	int rc = -EINVAL;

	if (json_parse(line, strcspn(line, "\n"), JSON_MAX_DEPTH_ANY, &root, NULL))
		return -EINVAL;
	imp = json_member(&root, "impairments");
	if (member_u64(&root, "generation", generation) && member_u64(&root, "flip_ns", flip_ns) &&
	    !json_copy_string(json_member(&root, "spec"), spec, speclen) &&
	    (!imp || !json_copy_string(imp, impairments, implen))) {
		if (!imp)
			impairments[0] = 0;
		rc = 0;
	}
	json_value_free(&root);
	return rc;
}

/* Reads a whole small file into a NUL-terminated buffer. */
static int read_text(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096, n = 0, got;
	char *buf = NULL, *p;
	int err = 0;

	if (!f)
		return -errno;
	for (;;) {
		p = realloc(buf, cap + 1);
		if (!p) {
			err = -ENOMEM;
			break;
		}
		buf = p;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap) {
			if (ferror(f))
				err = -EIO;
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = 0;
	*out = buf;
	return 0;
}

/* Calls fn for each non-empty line of a .jsonl file; errors name the line. */
static int for_each_line(const char *dir, const char *name, char *err, size_t errlen,
			 int (*fn)(const char *line, void *ctx), void *ctx)
{
	char path[4096], *text = NULL, *line, *next;
	unsigned int lineno = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = read_text(path, &text);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (!*line)
			continue;
		rc = fn(line, ctx);
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno,
				 rc == -ENOMEM ? "out of memory" : "not a valid record");
			break;
		}
	}
	free(text);
	return rc;
}

static int load_drop(const char *line, void *ctx)
{
	struct capnet_drop_event ev;
	int rc = trace_drop_parse(line, &ev);

	return rc ? rc : trace_add_drop(ctx, &ev);
}

static int load_partition(const char *line, void *ctx)
{
	char spec[256], imp[256];
	uint64_t gen, flip;
	int rc = trace_partition_parse(line, &gen, &flip, spec, sizeof(spec), imp, sizeof(imp));

	return rc ? rc : trace_add_partition(ctx, gen, flip, spec, imp);
}

int trace_dir_load(const char *dir, struct trace_dir *td, struct trace_analysis *an, char *err,
		   size_t errlen)
{
	char path[4096], name[32], why[256], *text = NULL;
	struct pcap_packet pkt;
	uint64_t t0;
	unsigned int i;
	int rc;

	/* The caller's progress hook outlives the reset. */
	void (*reading)(unsigned int, unsigned int, uint64_t, void *) = td->reading;
	void *reading_arg = td->reading_arg;

	memset(td, 0, sizeof(*td));
	td->reading = reading;
	td->reading_arg = reading_arg;
	trace_analysis_init(an, 1);
	snprintf(path, sizeof(path), "%s/%s", dir, TRACE_META);
	rc = read_text(path, &text);
	if (rc) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(-rc),
			 rc == -ENOENT ? " (not a captrace record directory?)" : "");
		return rc;
	}
	rc = trace_meta_parse(text, &td->meta, why, sizeof(why));
	free(text);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, why);
		return rc;
	}
	trace_analysis_init(an, td->meta.nodes);
	if (td->meta.has_macs)
		an->node_mac = (const uint8_t(*)[6])td->meta.mac;
	an->start_ns = td->meta.start_realtime_ns;
	an->stop_ns = td->meta.stop_realtime_ns;
	an->realtime_offset_ns = trace_meta_offset(&td->meta);

	rc = for_each_line(dir, TRACE_PARTITIONS, err, errlen, load_partition, an);
	if (rc)
		return rc;
	rc = for_each_line(dir, TRACE_DROPS, err, errlen, load_drop, an);
	if (rc)
		return rc;

	td->pcaps = calloc(td->meta.nodes, sizeof(*td->pcaps));
	if (!td->pcaps) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t0 = monotonic_ns();
	for (i = 1; i <= td->meta.nodes; i++) {
		struct pcap_reader *r = &td->pcaps[i - 1];

		trace_pcap_name(i, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		rc = pcap_reader_open(r, path);
		td->npcaps = i;
		if (rc) {
			snprintf(err, errlen, "%s", r->err);
			return rc;
		}
		if (r->linktype != PCAP_LINKTYPE_ETHERNET) {
			snprintf(err, errlen, "%s: link type %u is not Ethernet", path,
				 r->linktype);
			return -EINVAL;
		}
		while ((rc = pcap_reader_next(r, &pkt)) > 0) {
			td->bytes += pkt.caplen;
			if (td->reading && !(r->packets & 4095))
				td->reading(i + 1, td->npcaps, td->bytes, td->reading_arg);
			rc = trace_add_frame(an, i, pkt.ts_ns, pkt.data, pkt.caplen);
			if (rc) {
				snprintf(err, errlen, "out of memory");
				return rc;
			}
		}
		if (rc == -ENODATA) {
			/* The last packet was being written when the recorder died: what came
			 * before it is whole. */
			if (!td->torn++)
				snprintf(td->warning, sizeof(td->warning), "%s", r->err);
			rc = 0;
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s", r->err);
			return rc;
		}
		td->packets += r->packets;
	}
	td->read_ns = monotonic_ns() - t0;
	return 0;
}

void trace_dir_close(struct trace_dir *td)
{
	unsigned int i;

	if (!td)
		return;
	for (i = 0; i < td->npcaps; i++)
		pcap_reader_close(&td->pcaps[i]);
	free(td->pcaps);
	memset(td, 0, sizeof(*td));
}
