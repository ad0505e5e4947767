// SPDX-License-Identifier: GPL-2.0-only
/* The results of maelstrom test: the checker's verdict, the summary printed as Maelstrom's, and
 * the store's files (results.json, history.jsonl, lost.jsonl, the pictures). */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/json.h"
#include "lib/msg_diagram.h"
#include "netem/maelstrom/harness.h"
#include "netem/maelstrom/timeline.h"
#include "netem/maelstrom/stable.h"

static void summarize(const struct harness *h, struct summary *s)
{
	uint64_t *lat = malloc((h->st.n ? h->st.n : 1) * sizeof(*lat));
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < h->st.n; i++) {
		const struct mael_op *op = &h->st.ops[i];

		if (op->final)
			continue;
		s->total++;
		if (op->outcome == MAEL_OK) {
			s->ok++;
			if (lat)
				lat[n++] = op->complete_ns - op->invoke_ns;
		} else if (op->outcome == MAEL_FAIL) {
			s->fail++;
		} else {
			s->info++;
		}
	}
	if (lat && n) {
		sort_u64(lat, n);
		s->p50 = lat[(n - 1) * 50 / 100] / 1e6;
		s->p95 = lat[(n - 1) * 95 / 100] / 1e6;
		s->p99 = lat[(n - 1) * 99 / 100] / 1e6;
		s->max = lat[n - 1] / 1e6;
	}
	free(lat);
	for (unsigned int i = 0; i < h->o->nodes; i++) {
		s->messages += h->shims[i].sent;
		s->forged += h->shims[i].forged;
		s->repeated += h->shims[i].repeated;
	}
	s->availability = s->total ? (double)s->ok / s->total : 0;
	/* What broadcast is graded on; g-set is the same set checker in Maelstrom. */
	s->has_stable = (h->o->workload == MAEL_BROADCAST || h->o->workload == MAEL_G_SET) &&
			!mael_stable_latency(h->st.ops, h->st.n, &s->stable);
}

int mael_on_drop(const struct capnet_drop_event *ev, void *arg)
{
	struct harness *h = arg;

	/* Out of memory, a drop is not known: its message is counted lost elsewhere. */
	trace_add_drop(&h->pairing, ev);
	return 0;
}

const char *mael_fate_name(enum trace_fate f)
{
	/* Every frame between shims crosses the filter: one it did not drop died beyond it (a
	 * full socket buffer). */
	return f == TRACE_LOST_UNEXPLAINED ? "not dropped by the filter" : trace_fate_name(f);
}

/* Where a message was lost: where the filter dropped it, else where it was sent. */
static uint64_t lost_ns(const struct trace_msg *m)
{
	return m->dropped_ns ? m->dropped_ns : m->time_ns;
}

static int cmp_lost(const void *a, const void *b)
{
	uint64_t x = lost_ns(*(const struct trace_msg *const *)a),
		 y = lost_ns(*(const struct trace_msg *const *)b);

	return x < y ? -1 : x > y;
}

/* A shim's log (net-n<node>.log): "s SEQ TIME PEER TYPE MSG_ID IN_REPLY_TO" for a message
 * sent, into h->sent; "r SRC SEQ TIME" received and "d SRC SEQ TIME" received while the program
 * was killed, into the pairing. */
static int read_log(struct harness *h, unsigned int node, FILE *f, size_t *cap)
{
	unsigned long long seq, t;
	long long id, irt;
	unsigned int peer;
	char line[256], type[40];
	int err = 0;

	while (!err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "s %llu %llu %u %39s %lld %lld", &seq, &t, &peer, type, &id,
			   &irt) == 6 &&
		    peer < h->o->nodes) {
			struct mael_sent *m;

			if (array_grow((void **)&h->sent, sizeof(*h->sent), h->n_sent, cap))
				return -ENOMEM;
			m = &h->sent[h->n_sent++];
			*m = (struct mael_sent){ .src = node,
						 .dest = peer,
						 .seq = seq,
						 .time_ns = t,
						 .msg_id = id,
						 .in_reply_to = irt };
			snprintf(m->type, sizeof(m->type), "%s", type);
		} else if ((line[0] == 'r' || line[0] == 'd') &&
			   sscanf(line + 1, " %u %llu %llu", &peer, &seq, &t) == 3 &&
			   peer < h->o->nodes) {
			struct trace_key key = trace_key_maelstrom(peer + 1, node + 1, seq);

			err = trace_add_arrival(&h->pairing, &key, t, line[0] == 'd');
		}
	}
	return err;
}

/* The shims' message logs against the filter's drops, paired as captrace pairs a recording:
 * which messages were lost, and why; written to lost.jsonl, one message a line, in the order
 * of their loss. */
static int find_lost(struct harness *h)
{
	struct mael_lost *lost = &h->lost;
	char path[PATH_MAX + 32];
	size_t cap = 0;
	FILE *f;
	int err = 0;

	if (h->filter)
		filter_events_poll(h->filter, 0, mael_on_drop, h);
	for (unsigned int i = 0; !err && i < h->o->nodes; i++) {
		snprintf(path, sizeof(path), "%s/net-n%u.log", h->store, i);
		f = fopen(path, "r");
		if (!f)
			continue;
		err = read_log(h, i, f, &cap);
		fclose(f);
	}
	/* Only now, h->sent whole, may the pairing point into it. */
	for (size_t i = 0; !err && i < h->n_sent; i++) {
		const struct mael_sent *m = &h->sent[i];
		struct trace_key key = trace_key_maelstrom(m->src + 1, m->dest + 1, m->seq);

		err = trace_add_send(&h->pairing, &key, m->time_ns, m);
	}
	if (!err)
		err = trace_analyse(&h->pairing);
	lost->sent = h->n_sent;
	lost->msgs = err ? NULL : calloc(h->pairing.nmsgs + 1, sizeof(*lost->msgs));
	if (!lost->msgs)
		return err ?: -ENOMEM;
	for (size_t i = 0; i < h->pairing.nmsgs; i++) {
		const struct trace_msg *m = &h->pairing.msgs[i];

		if (m->fate == TRACE_DELIVERED)
			continue;
		/* Neither dropped nor at a killed node, and sent as the shims stopped. */
		if (m->fate == TRACE_LOST_UNEXPLAINED && m->time_ns > h->t0 + h->end_ns) {
			lost->in_flight++;
			continue;
		}
		lost->msgs[lost->n++] = m;
		lost->by_fate[m->fate]++;
	}
	if (lost->n > 1)
		qsort(lost->msgs, lost->n, sizeof(*lost->msgs), cmp_lost);
	snprintf(path, sizeof(path), "%s/lost.jsonl", h->store);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < lost->n; i++) {
		const struct trace_msg *l = lost->msgs[i];
		const struct mael_sent *m = l->origin;

		fprintf(f,
			"{\"time\":%.6f,\"src\":\"n%u\",\"dest\":\"n%u\",\"seq\":%llu,"
			"\"type\":\"%s\",\"msg_id\":%lld,\"in_reply_to\":%lld,\"cause\":\"%s\"}\n",
			((double)lost_ns(l) - (double)h->t0) / 1e9, m->src, m->dest,
			(unsigned long long)m->seq, m->type, (long long)m->msg_id,
			(long long)m->in_reply_to, mael_fate_name(l->fate));
	}
	return fclose(f) ? -errno : 0;
}

void mael_free_messages(struct harness *h)
{
	trace_analysis_free(&h->pairing);
	free(h->sent);
	free(h->lost.msgs);
}

/* Arrows drawn at most in messages.svg; a note says when more were left out. */
#define MAX_ARROWS 20000

/* The hover of a message's arrow: "n0 to n2: gossip msg_id 3, sent 1.250000 s". */
static void describe(const struct harness *h, const struct trace_msg *t, char *buf, size_t len)
{
	const struct mael_sent *m = t->origin;
	int n = snprintf(buf, len, "n%u to n%u: %s", m->src, m->dest, m->type);

	if (m->msg_id >= 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " msg_id %lld", (long long)m->msg_id);
	if (m->in_reply_to >= 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " in_reply_to %lld", (long long)m->in_reply_to);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, ", sent %.6f s",
			 ((double)m->time_ns - (double)h->t0) / 1e9);
}

/* messages.svg: the lost first, so that their labels win a crowded spot. */
static int draw_messages(FILE *f, struct harness *h, const char *title)
{
	const struct trace_analysis *an = &h->pairing;
	size_t n = an->nmsgs < MAX_ARROWS ? an->nmsgs : MAX_ARROWS, drawn = 0;
	/* The test's own span, and before it the init exchange if messages were sent then; as
	 * tall as a label per arrow asks, no taller than a browser draws. */
	struct msg_diagram d = { .lanes = h->o->nodes,
				 .t1_s = h->end_ns / 1e9,
				 .want_px = fmin(16.0 * n, 30000),
				 .n_lost = h->lost.n };
	char what[200], hover[300];

	for (size_t i = 0; i < an->nmsgs; i++) {
		double t = ((double)an->msgs[i].time_ns - (double)h->t0) / 1e9;

		d.t0_s = fmin(d.t0_s, t);
		d.t1_s = fmax(d.t1_s, t);
	}
	snprintf(what, sizeof(what), "%s: messages between nodes", title);
	msg_diagram_begin(f, &d, "messages", what);
	for (size_t b = 0; b < h->n_bands; b++)
		msg_diagram_band(f, &d, h->bands[b].from_s, h->bands[b].to_s, h->bands[b].label,
				 NULL);
	msg_diagram_axes(f, &d);
	for (size_t i = 0; i < h->lost.n && drawn < MAX_ARROWS; i++, drawn++) {
		const struct trace_msg *t = h->lost.msgs[i];
		const struct mael_sent *m = t->origin;
		int k = snprintf(hover, sizeof(hover), "lost (%s): ", mael_fate_name(t->fate));

		describe(h, t, hover + k, sizeof(hover) - k);
		msg_diagram_lost(f, &d, m->src, m->dest, ((double)m->time_ns - (double)h->t0) / 1e9,
				 mael_fate_name(t->fate), m->type, hover);
	}
	for (size_t i = 0; i < an->nmsgs && drawn < MAX_ARROWS; i++) {
		const struct trace_msg *t = &an->msgs[i];
		const struct mael_sent *m = t->origin;

		if (t->fate != TRACE_DELIVERED)
			continue;
		describe(h, t, hover, sizeof(hover));
		msg_diagram_delivered(f, &d, m->src, m->dest,
				      ((double)m->time_ns - (double)h->t0) / 1e9,
				      ((double)t->arrival_ns - (double)h->t0) / 1e9, m->type,
				      hover);
		drawn++;
	}
	snprintf(what, sizeof(what),
		 "only the first %d messages are drawn; lost.jsonl and the net-n*.log files hold "
		 "every one",
		 MAX_ARROWS);
	return msg_diagram_end(f, &d, drawn == MAX_ARROWS ? what : NULL);
}

/* latency.svg: capctl report's picture of the operations, a panel per request type. */
static int draw_latency(FILE *f, const struct harness *h, const char *title)
{
	struct op_chart_op *ops = calloc(h->st.n ? h->st.n : 1, sizeof(*ops));
	struct op_chart c = { .ops = ops,
			      .n_ops = h->st.n,
			      .who = "n",
			      .seconds = h->end_ns > 0 ? h->end_ns / 1e9 : 1,
			      .bands = h->bands,
			      .n_bands = h->n_bands,
			      .title = title,
			      .throughput_below = true };
	int err;

	if (!ops)
		return -ENOMEM;
	for (size_t i = 0; i < h->st.n; i++) {
		const struct mael_op *op = &h->st.ops[i];

		ops[i] = (struct op_chart_op){
			.start_s = op->invoke_ns / 1e9,
			.end_s = (op->complete_ns > op->invoke_ns ? op->complete_ns :
								    op->invoke_ns) /
				 1e9,
			.outcome = op->outcome == MAEL_OK   ? OP_CHART_OK :
				   op->outcome == MAEL_FAIL ? OP_CHART_FAIL :
							      OP_CHART_INFO,
			.kind = op_chart_kind(&c, mael_request_type(h->o->workload, op)),
			.who = op->node,
		};
	}
	err = op_chart_latency(f, &c);
	free(ops);
	return err;
}

/* messages.svg, latency.svg and timeline.html in the store. */
static void draw(struct harness *h)
{
	char path[PATH_MAX + 32], title[128];
	FILE *f;

	snprintf(title, sizeof(title), "%s on %u nodes", mael_workload_name(h->o->workload),
		 h->o->nodes);
	snprintf(path, sizeof(path), "%s/messages.svg", h->store);
	f = fopen(path, "w");
	if (f) {
		draw_messages(f, h, title);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/latency.svg", h->store);
	f = fopen(path, "w");
	if (f) {
		draw_latency(f, h, title);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/timeline.html", h->store);
	f = fopen(path, "w");
	if (f) {
		/* The operations count their times from the run's start already. */
		mael_write_timeline(f, h->o->workload, h->st.ops, h->st.n, 0, title);
		fclose(f);
	}
}

static void write_history(const struct harness *h, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	if (h->o->workload == MAEL_LIN_KV) {
		/* capnet's own history format: capctl check --model register reads it again. */
		struct history kv;

		if (!mael_kv_history(h->st.ops, h->st.n, &kv)) {
			for (size_t i = 0; i < kv.n_events; i++)
				history_write_event(f, &kv.events[i]);
			history_free(&kv);
		}
		fclose(f);
		return;
	}
	for (size_t i = 0; i < h->st.n; i++) {
		const struct mael_op *op = &h->st.ops[i];

		fprintf(f,
			"{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"node\":\"n%u\","
			"\"final\":%s,\"invoke_ns\":%llu,\"complete_ns\":%llu",
			(unsigned long long)op->process,
			op->outcome == MAEL_OK	 ? "ok" :
			op->outcome == MAEL_FAIL ? "fail" :
						   "info",
			mael_request_type(h->o->workload, op), op->node,
			op->final ? "true" : "false", (unsigned long long)op->invoke_ns,
			(unsigned long long)op->complete_ns);
		if (op->key)
			fprintf(f, ",\"key\":%s", op->key);
		if (op->arg)
			fprintf(f, ",\"value\":%s", op->arg);
		if ((h->o->workload == MAEL_G_COUNTER || h->o->workload == MAEL_PN_COUNTER) &&
		    !op->read)
			fprintf(f, ",\"value\":%lld", (long long)op->delta);
		if (op->result)
			fprintf(f, ",\"result\":%s", op->result);
		if (op->elements) {
			fputs(",\"result\":[", f);
			for (size_t k = 0; k < op->n_elements; k++)
				fprintf(f, "%s%s", k ? "," : "", op->elements[k]);
			fputc(']', f);
		}
		fputs("}\n", f);
	}
	fclose(f);
}

/* results.edn: the same figures as results.json, under the keys of Maelstrom's results.edn
 * where it has them (:valid?, :stats, :availability, :net, :workload with :stable-latencies and
 * :stale-count), for tools written against Maelstrom's store. */
static void write_edn(const struct harness *h, const struct summary *s, const struct mael_result *r,
		      bool valid)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/results.edn", h->store);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"{:valid? %s\n :seed %llu\n"
		" :stats {:count %zu, :ok-count %zu, :fail-count %zu, :info-count %zu}\n"
		" :availability {:ok-fraction %.4f}\n"
		" :latency-ms {:p50 %.3f, :p95 %.3f, :p99 %.3f, :max %.3f}\n"
		" :net {:servers {:msg-count %llu, :msgs-per-op %.3f}"
		", :lost {:total %zu, :partition %zu, :loss %zu, :node-killed %zu, :elsewhere %zu}"
		", :refused {:forged %llu, :repeated %llu}}\n"
		" :workload {:valid? %s, :workload :%s, :summary ",
		valid ? "true" : "false", (unsigned long long)h->o->seed, s->total, s->ok, s->fail,
		s->info, s->availability, s->p50, s->p95, s->p99, s->max,
		(unsigned long long)s->messages, s->total ? (double)s->messages / s->total : 0,
		h->lost.n, h->lost.by_fate[TRACE_LOST_PARTITION], h->lost.by_fate[TRACE_LOST_LOSS],
		h->lost.by_fate[TRACE_LOST_NODE_DOWN], h->lost.by_fate[TRACE_LOST_UNEXPLAINED],
		(unsigned long long)s->forged, (unsigned long long)s->repeated,
		r->valid ? "true" : "false", mael_workload_name(h->o->workload));
	/* EDN strings escape as JSON's do, \\uXXXX included. */
	json_write_string(f, r->summary);
	if (s->has_stable)
		fprintf(f,
			",\n            :stable-count %zu, :lost-count %zu, :stale-count %zu"
			",\n            :stable-latencies {0 %.0f, 0.5 %.0f, 0.95 %.0f, 0.99 %.0f, 1 %.0f}",
			s->stable.stable, s->stable.never_stable, s->stable.stale, s->stable.q0,
			s->stable.q50, s->stable.q95, s->stable.q99, s->stable.max);
	fputs("}}\n", f);
	fclose(f);
}

static void report(const struct harness *h, const struct summary *s, const struct mael_result *r,
		   bool valid, const char *why_invalid)
{
	char path[PATH_MAX + 32];
	FILE *f;

	printf("\n%s on %u node%s, %g s at %.4g ops/s%s%s (lab %s, seed %llu)\n",
	       mael_workload_name(h->o->workload), h->o->nodes, h->o->nodes == 1 ? "" : "s",
	       h->o->time_limit, h->o->rate, h->o->nemesis ? ", nemesis " : "", h->o->nemesis_text,
	       h->lab, (unsigned long long)h->o->seed);
	printf("  operations: %zu ok, %zu fail, %zu info (availability %.3f)\n", s->ok, s->fail,
	       s->info, s->availability);
	printf("  latency of ok operations (ms): p50 %.2f, p95 %.2f, p99 %.2f, max %.2f\n", s->p50,
	       s->p95, s->p99, s->max);
	if (s->has_stable)
		printf("  stable latency (ms): p0 %.0f, p50 %.0f, p95 %.0f, p99 %.0f, max %.0f (%zu of "
		       "%zu acknowledged messages stable); stale count %zu\n",
		       s->stable.q0, s->stable.q50, s->stable.q95, s->stable.q99, s->stable.max,
		       s->stable.stable, s->stable.messages, s->stable.stale);
	printf("  messages between nodes: %llu (%.2f per operation)\n",
	       (unsigned long long)s->messages, s->total ? (double)s->messages / s->total : 0);
	printf("  messages lost between nodes: %zu of %zu (partition %zu, loss %zu, node killed "
	       "%zu, not dropped by the filter %zu)\n",
	       h->lost.n, h->lost.sent, h->lost.by_fate[TRACE_LOST_PARTITION],
	       h->lost.by_fate[TRACE_LOST_LOSS], h->lost.by_fate[TRACE_LOST_NODE_DOWN],
	       h->lost.by_fate[TRACE_LOST_UNEXPLAINED]);
	printf("  datagrams the shims refused: %llu forged (not from a peer shim's address and "
	       "port, or not its own message), %llu repeated\n",
	       (unsigned long long)s->forged, (unsigned long long)s->repeated);
	if (h->lost.in_flight)
		printf("    and %zu sent after the test's end, still in flight as the nodes "
		       "stopped\n",
		       h->lost.in_flight);
	for (size_t i = 0; i < h->lost.n && i < 5; i++) {
		const struct trace_msg *l = h->lost.msgs[i];
		const struct mael_sent *m = l->origin;

		printf("    %8.3f s  n%u -> n%u  %s", ((double)lost_ns(l) - (double)h->t0) / 1e9,
		       m->src, m->dest, m->type);
		if (m->msg_id >= 0)
			printf(" msg_id %lld", (long long)m->msg_id);
		if (m->in_reply_to >= 0)
			printf(" in_reply_to %lld", (long long)m->in_reply_to);
		printf("  (%s)\n", mael_fate_name(l->fate));
	}
	if (h->lost.n > 5)
		printf("    ... every one in %s/lost.jsonl\n", h->store);
	printf("  checker: %s\n", r->summary);
	for (size_t i = 0; i < r->n_evidence; i++)
		printf("    %s\n", r->evidence[i]);
	if (r->problems > r->n_evidence)
		printf("    ... and %zu more\n", r->problems - r->n_evidence);
	if (why_invalid)
		printf("  %s\n", why_invalid);
	printf("  results, history, node logs and faults in %s\n", h->store);
	printf("%s\n", valid ? "Everything looks good!" : "Analysis invalid!");
	snprintf(path, sizeof(path), "%s/results.json", h->store);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"{\"valid\":%s,\"seed\":%llu,\"workload\":\"%s\",\"nodes\":%u,\"time_limit_s\":%g,\"rate\":%g,"
		"\"nemesis\":\"%s\",\"consistency_models\":\"%s\",\"ok\":%zu,\"fail\":%zu,\"info\":%zu,\"availability\":%.4f,"
		"\"latency_ms\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		"\"setup_s\":%.3f,\"messages\":%llu,\"messages_per_op\":%.3f,\"lost\":{\"total\":%zu,"
		"\"partition\":%zu,\"loss\":%zu,\"node_killed\":%zu,\"elsewhere\":%zu},"
		"\"refused\":{\"forged\":%llu,\"repeated\":%llu},\"checker\":",
		valid ? "true" : "false", (unsigned long long)h->o->seed,
		mael_workload_name(h->o->workload), h->o->nodes, h->o->time_limit, h->o->rate,
		h->o->nemesis_text, h->o->models_text, s->ok, s->fail, s->info, s->availability,
		s->p50, s->p95, s->p99, s->max, (h->cluster_ns - h->started_ns) / 1e9,
		(unsigned long long)s->messages, s->total ? (double)s->messages / s->total : 0,
		h->lost.n, h->lost.by_fate[TRACE_LOST_PARTITION], h->lost.by_fate[TRACE_LOST_LOSS],
		h->lost.by_fate[TRACE_LOST_NODE_DOWN], h->lost.by_fate[TRACE_LOST_UNEXPLAINED],
		(unsigned long long)s->forged, (unsigned long long)s->repeated);
	json_write_string(f, r->summary);
	fputs(",\"evidence\":[", f);
	for (size_t i = 0; i < r->n_evidence; i++) {
		fputs(i ? "," : "", f);
		json_write_string(f, r->evidence[i]);
	}
	fputc(']', f);
	if (s->has_stable)
		fprintf(f,
			",\"stable_latency_ms\":{\"0\":%.3f,\"0.5\":%.3f,\"0.95\":%.3f,\"0.99\":%.3f,"
			"\"1\":%.3f},\"stable_count\":%zu,\"never_stable\":%zu,\"stale_count\":%zu",
			s->stable.q0, s->stable.q50, s->stable.q95, s->stable.q99, s->stable.max,
			s->stable.stable, s->stable.never_stable, s->stable.stale);
	fputs("}\n", f);
	fclose(f);
	write_edn(h, s, r, valid);
}

void mael_free_ops(struct harness *h)
{
	for (size_t i = 0; i < h->st.n_owned; i++)
		free(h->st.owned[i]);
	free(h->st.owned);
	free(h->st.ops);
	free(h->clients);
}

int mael_results(struct harness *h)
{
	const struct options *o = h->o;
	char path[PATH_MAX + 32], why[160] = "";
	struct mael_result r;
	struct summary sum;
	bool valid;
	int rc;

	if (mael_check_models(o->workload, h->st.ops, h->st.n, o->models, &r)) {
		rc = EXIT_USAGE;
		return rc;
	}
	if (find_lost(h))
		report_warn("maelstrom: the lost-message report could not be made");
	draw(h);
	summarize(h, &sum);
	valid = r.valid;
	if (o->availability_total && sum.ok != sum.total) {
		valid = false;
		snprintf(why, sizeof(why),
			 "--availability total: %zu of %zu operations did not "
			 "succeed",
			 sum.total - sum.ok, sum.total);
	}
	snprintf(path, sizeof(path), "%s/history.jsonl", h->store);
	write_history(h, path);
	report(h, &sum, &r, valid, why[0] ? why : NULL);
	rc = valid ? EXIT_OK : EXIT_FAIL;
	return rc;
}
