// SPDX-License-Identifier: GPL-2.0-only
/* captrace report: what every node sent, what arrived, and for each frame that did not, when,
 * on which link, what it was, under which partition, and why. Text and JSON come from one
 * pass over the same analysis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "lib/monotonic.h"
#include "lib/progress.h"
#include "tools/captrace/captrace_cli.h"
#include "tools/captrace/captrace_svg.h"
#include "tools/captrace/trace_dir.h"
#include "lib/json.h"

static double rel_s(const struct trace_analysis *an, uint64_t t)
{
	return (double)(int64_t)(t - an->start_ns) / 1e9;
}

static void print_lost_json(FILE *f, const struct trace_analysis *an, const struct trace_meta *meta,
			    const struct trace_msg *m, bool first)
{
	char type[32], desc[512];
	const char *spec = trace_generation_spec(an, m->generation);

	trace_msg_describe(m, desc, sizeof(desc));
	fprintf(f, "%s\n{\"time\":%.9f,\"time_ns\":%llu,\"from\":%u,\"to\":%u,\"type\":",
		first ? "" : ",", rel_s(an, m->time_ns), (unsigned long long)m->time_ns,
		m->key.from, m->key.to);
	json_write_string(f, trace_msg_type(m, type, sizeof(type)));
	fprintf(f, ",\"seeded\":%s", m->seeded ? "true" : "false");
	fprintf(f, ",\"cause\":\"%s\",\"generation\":%llu,\"spec\":", trace_fate_name(m->fate),
		(unsigned long long)m->generation);
	if (spec)
		json_write_string(f, spec);
	else
		fputs("null", f);
	if (m->key.kind == TRACE_CAPNET) {
		fprintf(f, ",\"kind\":\"capnet\",\"sender\":%u,\"msg_id\":%llu",
			(unsigned int)m->key.b, (unsigned long long)m->key.a);
	} else {
		uint32_t s = htonl((uint32_t)(m->key.a >> 32)), d = htonl((uint32_t)m->key.a);
		char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &s, src, sizeof(src));
		inet_ntop(AF_INET, &d, dst, sizeof(dst));
		fprintf(f,
			",\"kind\":\"ip\",\"src\":\"%s\",\"dst\":\"%s\",\"ip_proto\":%u,\"sport\":%u,"
			"\"dport\":%u,\"ip_id\":%u,\"l4_csum\":%u",
			src, dst, m->ip_proto, m->sport, m->dport,
			(unsigned int)(m->key.b >> 16 & 0xffff), (unsigned int)(m->key.b & 0xffff));
	}
	/* Across hosts: the host that judged it, its destination's. */
	if (meta->n_hosts && m->key.to <= meta->nodes) {
		fputs(",\"host\":", f);
		json_write_string(f, meta->host[meta->host_of[m->key.to]]);
	}
	fputs(",\"message\":", f);
	json_write_string(f, desc);
	fputc('}', f);
}

static void print_json(FILE *f, const struct trace_analysis *an, const struct trace_dir *td)
{
	unsigned int s, d, stride = an->nodes + 1;
	uint64_t lost = an->total[TRACE_LOST_PARTITION] + an->total[TRACE_LOST_LOSS] +
			an->total[TRACE_LOST_UNEXPLAINED];
	bool first = true;
	size_t i;

	fputs("{\"lab\":", f);
	json_write_string(f, td->meta.lab);
	fprintf(f, ",\"complete\":%s,\"torn_captures\":%u", td->meta.complete ? "true" : "false",
		td->torn);
	fprintf(f,
		",\"nodes\":%u,\"start_realtime_ns\":%llu,\"duration\":%.9f,\"packets\":%llu,"
		"\"sent\":%zu,\"delivered\":%llu,\"lost_total\":%llu,\"partition\":%llu,"
		"\"loss\":%llu,\"unexplained\":%llu,\"corrupted\":%llu,\"duplicates\":%llu,"
		"\"unsent_arrivals\":%llu,"
		"\"unmatched_drops\":%llu,\"not_judged\":%llu,\"other_frames\":%llu,"
		"\"pcap_dropped\":%llu,\"ring_overflow\":%llu,\"lost\":[",
		an->nodes, (unsigned long long)an->start_ns, (an->stop_ns - an->start_ns) / 1e9,
		(unsigned long long)td->packets, an->nmsgs,
		(unsigned long long)an->total[TRACE_DELIVERED], (unsigned long long)lost,
		(unsigned long long)an->total[TRACE_LOST_PARTITION],
		(unsigned long long)an->total[TRACE_LOST_LOSS],
		(unsigned long long)an->total[TRACE_LOST_UNEXPLAINED],
		(unsigned long long)an->total[TRACE_CORRUPTED], (unsigned long long)an->duplicates,
		(unsigned long long)an->unsent_arrivals, (unsigned long long)an->unmatched_drops,
		(unsigned long long)an->outside, (unsigned long long)an->other_frames,
		(unsigned long long)td->meta.pcap_dropped,
		(unsigned long long)td->meta.ring_overflow);
	for (i = 0; i < an->nmsgs; i++) {
		if (an->msgs[i].fate == TRACE_DELIVERED)
			continue;
		print_lost_json(f, an, &td->meta, &an->msgs[i], first);
		first = false;
	}
	fputs("],\n\"links\":[", f);
	first = true;
	for (s = 1; s <= an->nodes; s++)
		for (d = 1; d <= an->nodes; d++) {
			const struct trace_link *l = &an->links[(size_t)s * stride + d];

			if (!l->sent)
				continue;
			fprintf(f,
				"%s\n{\"from\":%u,\"to\":%u,\"sent\":%llu,\"delivered\":%llu,"
				"\"partition\":%llu,\"loss\":%llu,\"unexplained\":%llu,\"corrupted\":%llu}",
				first ? "" : ",", s, d, (unsigned long long)l->sent,
				(unsigned long long)l->delivered,
				(unsigned long long)l->lost[TRACE_LOST_PARTITION],
				(unsigned long long)l->lost[TRACE_LOST_LOSS],
				(unsigned long long)l->lost[TRACE_LOST_UNEXPLAINED],
				(unsigned long long)l->lost[TRACE_CORRUPTED]);
			first = false;
		}
	fputs("],\n\"windows\":[", f);
	for (i = 0; i < an->nwindows; i++) {
		const struct trace_window *w = &an->windows[i];

		fprintf(f, "%s\n{\"generation\":%llu,\"start\":%.9f,\"end\":%.9f,\"spec\":",
			i ? "," : "", (unsigned long long)w->generation, rel_s(an, w->start_ns),
			rel_s(an, w->end_ns));
		json_write_string(f, w->spec);
		fputs(",\"impairments\":", f);
		json_write_string(f, w->impairments);
		fprintf(f,
			",\"sent\":%llu,\"delivered\":%llu,\"partition\":%llu,\"loss\":%llu,"
			"\"unexplained\":%llu}",
			(unsigned long long)w->sent, (unsigned long long)w->delivered,
			(unsigned long long)w->lost[TRACE_LOST_PARTITION],
			(unsigned long long)w->lost[TRACE_LOST_LOSS],
			(unsigned long long)w->lost[TRACE_LOST_UNEXPLAINED]);
	}
	fputs("]}\n", f);
}

static void print_text(FILE *f, const struct trace_analysis *an, const struct trace_dir *td)
{
	unsigned int s, d, stride = an->nodes + 1;
	uint64_t lost = an->total[TRACE_LOST_PARTITION] + an->total[TRACE_LOST_LOSS] +
			an->total[TRACE_LOST_UNEXPLAINED];
	size_t i;

	fprintf(f, "lab %s, %u nodes, %.3f s captured, %llu packets\n", td->meta.lab, an->nodes,
		(an->stop_ns - an->start_ns) / 1e9, (unsigned long long)td->packets);
	for (unsigned int h = 0; h < td->meta.n_hosts; h++) {
		fprintf(f, "%s %s: nodes",
			h ? "," : "across hosts (each judges the frames to its nodes):",
			td->meta.host[h]);
		for (unsigned int i = 1; i <= td->meta.nodes; i++)
			if (td->meta.host_of[i] == h)
				fprintf(f, " %u", i);
		fputs(h + 1 == td->meta.n_hosts ? "\n" : "", f);
	}
	fprintf(f,
		"sent %zu, delivered %llu, lost %llu (partition %llu, loss %llu, unexplained "
		"%llu)%s",
		an->nmsgs, (unsigned long long)an->total[TRACE_DELIVERED], (unsigned long long)lost,
		(unsigned long long)an->total[TRACE_LOST_PARTITION],
		(unsigned long long)an->total[TRACE_LOST_LOSS],
		(unsigned long long)an->total[TRACE_LOST_UNEXPLAINED],
		an->total[TRACE_CORRUPTED] ? "" : "\n");
	if (an->total[TRACE_CORRUPTED])
		fprintf(f, ", corrupted %llu\n", (unsigned long long)an->total[TRACE_CORRUPTED]);
	if (lost || an->total[TRACE_CORRUPTED]) {
		fprintf(f, "\n%s:\n  %-12s %-11s %-15s %-5s %-12s %-16s %s\n",
			an->total[TRACE_CORRUPTED] ? "lost or corrupted" : "lost", "time (s)",
			"link", "type", "gen", "cause", "partition", "message");
		for (i = 0; i < an->nmsgs; i++) {
			const struct trace_msg *m = &an->msgs[i];
			const char *spec = trace_generation_spec(an, m->generation);
			char link[24], type[32], desc[512];

			if (m->fate == TRACE_DELIVERED)
				continue;
			snprintf(link, sizeof(link), "%u -> %u", m->key.from, m->key.to);
			trace_msg_describe(m, desc, sizeof(desc));
			fprintf(f, "  %-12.6f %-11s %-15s %-5llu %-12s %-16s %s\n",
				rel_s(an, m->time_ns), link, trace_msg_type(m, type, sizeof(type)),
				(unsigned long long)m->generation,
				m->seeded ? "loss, seeded" : trace_fate_name(m->fate),
				spec ? spec : "?", desc);
		}
	}
	fprintf(f, "\nlinks:\n  %-11s %9s %9s %9s %9s %11s\n", "link", "sent", "delivered",
		"partition", "loss", "unexplained");
	for (s = 1; s <= an->nodes; s++)
		for (d = 1; d <= an->nodes; d++) {
			const struct trace_link *l = &an->links[(size_t)s * stride + d];
			char link[24];

			if (!l->sent)
				continue;
			snprintf(link, sizeof(link), "%u -> %u", s, d);
			fprintf(f, "  %-11s %9llu %9llu %9llu %9llu %11llu\n", link,
				(unsigned long long)l->sent, (unsigned long long)l->delivered,
				(unsigned long long)l->lost[TRACE_LOST_PARTITION],
				(unsigned long long)l->lost[TRACE_LOST_LOSS],
				(unsigned long long)l->lost[TRACE_LOST_UNEXPLAINED]);
		}
	fprintf(f, "\npartition windows:\n  %-5s %-21s %-20s %9s %9s %9s %9s %11s\n", "gen",
		"time (s)", "partition", "sent", "delivered", "partition", "loss", "unexplained");
	for (i = 0; i < an->nwindows; i++) {
		const struct trace_window *w = &an->windows[i];
		char span[48], label[520];

		snprintf(span, sizeof(span), "%.3f .. %.3f", rel_s(an, w->start_ns),
			 rel_s(an, w->end_ns));
		snprintf(label, sizeof(label), "%s%s%s", w->spec, w->impairments[0] ? "; " : "",
			 w->impairments);
		fprintf(f, "  %-5llu %-21s %-20s %9llu %9llu %9llu %9llu %11llu\n",
			(unsigned long long)w->generation, span, label, (unsigned long long)w->sent,
			(unsigned long long)w->delivered,
			(unsigned long long)w->lost[TRACE_LOST_PARTITION],
			(unsigned long long)w->lost[TRACE_LOST_LOSS],
			(unsigned long long)w->lost[TRACE_LOST_UNEXPLAINED]);
	}
	if (an->duplicates || an->unsent_arrivals || an->unmatched_drops || an->outside)
		fprintf(f,
			"\nnot paired: %llu duplicate arrivals, %llu arrivals sent before the "
			"capture, %llu drop events of no captured frame, %llu frames sent outside "
			"the capture interval\n",
			(unsigned long long)an->duplicates, (unsigned long long)an->unsent_arrivals,
			(unsigned long long)an->unmatched_drops, (unsigned long long)an->outside);
	if (td->meta.pcap_dropped || td->meta.ring_overflow)
		fprintf(f,
			"warning: the recording is incomplete: libpcap dropped %llu packets, the "
			"filter lost %llu drop events\n",
			(unsigned long long)td->meta.pcap_dropped,
			(unsigned long long)td->meta.ring_overflow);
}

static int write_picture(const char *path, const struct trace_analysis *an,
			 const struct trace_dir *td, bool html)
{
	FILE *f = fopen(path, "we");
	int err;

	if (!f)
		return report_fail("report: create %s: %s", path, strerror(errno));
	err = html ? trace_html_write(f, an, &td->meta) : trace_svg_write(f, an, &td->meta);
	if (fclose(f) || err)
		return report_fail("report: writing %s failed", path);
	return 0;
}

static void show_reading(unsigned int node, unsigned int nodes, uint64_t bytes, void *arg)
{
	struct progress *p = arg;

	progress_show(p, "report: reading node %u of %u, %.1f MB, %.1f s", node, nodes, bytes / 1e6,
		      progress_elapsed(p));
}

int captrace_report(struct captrace_cli *cli, int argc, char **argv)
{
	struct progress line;
	const char *dir = NULL, *svg = NULL, *html = NULL;
	struct trace_port_name ports[TRACE_PORT_NAMES];
	size_t nports = 0;
	struct trace_analysis an;
	struct trace_dir td;
	char err[1024];
	uint64_t t0;
	int i, rc = EXIT_FAIL;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			cli->json = true;
		} else if (!strcmp(argv[i], "--svg") || !strcmp(argv[i], "--html")) {
			if (i + 1 >= argc)
				return report_usage("report: %s needs a file name", argv[i]);
			if (argv[i][2] == 's')
				svg = argv[++i];
			else
				html = argv[++i];
		} else if (!strcmp(argv[i], "--port")) {
			if (i + 1 >= argc)
				return report_usage(
					"report: --port needs PORT=NAME[,PORT=NAME...]");
			if (trace_port_names_parse(argv[++i], ports, &nports, err, sizeof(err)))
				return report_usage("report: %s", err);
		} else if (argv[i][0] == '-') {
			return report_usage(
				"report: unknown option \"%s\" (captrace report DIR [--json] "
				"[--svg FILE] [--html FILE] [--port PORT=NAME,...])",
				argv[i]);
		} else if (!dir) {
			dir = argv[i];
		} else {
			return report_usage("report: one directory only (\"%s\" is extra)",
					    argv[i]);
		}
	}
	if (!dir)
		return report_usage("report: which directory? (captrace report DIR, as written by "
				    "captrace record -o DIR)");
	progress_start(&line, cli->quiet);
	td.reading = show_reading;
	td.reading_arg = &line;
	if (trace_dir_load(dir, &td, &an, err, sizeof(err))) {
		progress_end(&line);
		report_fail("report: %s", err);
		goto cleanup;
	}
	progress_step(&line, "report: %llu packets read, pairing sends and arrivals",
		      (unsigned long long)td.packets);
	/* A recording cut short is reported for what it holds, and said to be cut short. */
	if (!td.meta.complete)
		report_warn("report: %s ended early (its recorder was stopped abruptly): what it "
			    "captured in its first %.3f s is reported",
			    dir, (td.meta.stop_realtime_ns - td.meta.start_realtime_ns) / 1e9);
	if (td.torn)
		report_warn("report: %u capture%s end%s in a packet cut short, left out: %s",
			    td.torn, td.torn == 1 ? "" : "s", td.torn == 1 ? "s" : "", td.warning);
	if (cli->verbose)
		fprintf(stderr,
			"captrace: read %llu packets (%llu bytes) in %.3f s: %.0f packets/s\n",
			(unsigned long long)td.packets, (unsigned long long)td.bytes,
			td.read_ns / 1e9, td.read_ns ? td.packets / (td.read_ns / 1e9) : 0.0);
	memcpy(an.ports, ports, sizeof(ports));
	an.nports = nports;
	t0 = monotonic_ns();
	if (trace_analyse(&an)) {
		progress_end(&line);
		report_fail("report: out of memory");
		goto cleanup;
	}
	trace_name_ports(&an);
	progress_end(&line);
	if (cli->verbose)
		fprintf(stderr, "captrace: paired %zu sends and %zu arrivals in %.3f s\n", an.nmsgs,
			an.narrivals, (monotonic_ns() - t0) / 1e9);
	if (cli->json)
		print_json(stdout, &an, &td);
	else
		print_text(stdout, &an, &td);
	if (svg && write_picture(svg, &an, &td, false))
		goto cleanup;
	if (html && write_picture(html, &an, &td, true))
		goto cleanup;
	if (fflush(stdout)) {
		report_fail("report: write: %s", strerror(errno));
		goto cleanup;
	}
	rc = EXIT_OK;
cleanup:
	trace_analysis_free(&an);
	trace_dir_close(&td);
	return rc;
}
