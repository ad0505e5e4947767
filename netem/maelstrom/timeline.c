// SPDX-License-Identifier: GPL-2.0-only
/* timeline.html of a Maelstrom run: see timeline.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/xml.h"
#include "netem/maelstrom/timeline.h"

#define ROW_PX 18
#define COLUMN_PX 150

struct event {
	uint64_t ns;
	size_t op;
	int complete; /* an invoke sorts before a completion at the same instant */
};

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	if (x->complete != y->complete)
		return x->complete - y->complete;
	return x->op < y->op ? -1 : x->op > y->op;
}

static size_t column_of(const uint64_t *procs, size_t n, uint64_t process)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (procs[mid] < process)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *outcome_name(enum mael_outcome o)
{
	return o == MAEL_OK ? "ok" : o == MAEL_FAIL ? "fail" : "info";
}

/* The request and the answer of one operation, as text. */
static void op_text(FILE *f, enum mael_workload w, const struct mael_op *op)
{
	xml_write_text(f, mael_request_type(w, op));
	if (op->key) {
		fputc(' ', f);
		xml_write_text(f, op->key);
	}
	if (op->arg) {
		fputc(' ', f);
		xml_write_text(f, op->arg);
	}
	if (op->to) {
		fputs(" -&gt; ", f);
		xml_write_text(f, op->to);
	}
	if (op->result) {
		fputs(" = ", f);
		xml_write_text(f, op->result);
	}
	if (op->elements) {
		fprintf(f, " = [%zu values]", op->n_elements);
	}
}

int mael_write_timeline(FILE *f, enum mael_workload w, const struct mael_op *ops, size_t n,
			uint64_t t0_ns, const char *title)
{
	struct event *ev = n ? calloc(2 * n, sizeof(*ev)) : NULL;
	uint64_t *procs = n ? calloc(n, sizeof(*procs)) : NULL;
	size_t *row_in = n ? calloc(n, sizeof(*row_in)) : NULL, *row_out = NULL;
	size_t i, nprocs = 0;

	if (n && (!ev || !procs || !row_in || !(row_out = calloc(n, sizeof(*row_out))))) {
		free(ev);
		free(procs);
		free(row_in);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ev[2 * i] = (struct event){ .ns = ops[i].invoke_ns, .op = i };
		ev[2 * i + 1] = (struct event){ .ns = ops[i].complete_ns, .op = i, .complete = 1 };
		procs[i] = ops[i].process;
	}
	if (n) {
		qsort(ev, 2 * n, sizeof(*ev), cmp_event);
		sort_u64(procs, n);
	}
	for (i = 0; i < 2 * n; i++)
		(ev[i].complete ? row_out : row_in)[ev[i].op] = i;
	for (i = 0; i < n; i++)
		if (!nprocs || procs[nprocs - 1] != procs[i])
			procs[nprocs++] = procs[i];

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
	xml_write_text(f, title);
	fputs("</title><style>\n"
	      "body{font:12px sans-serif;margin:8px}\n"
	      ".lanes{position:relative}\n"
	      ".head{position:sticky;top:0;background:#fff;height:20px;z-index:1}\n"
	      ".proc{position:absolute;top:2px;font-weight:bold}\n"
	      ".op{position:absolute;box-sizing:border-box;overflow:hidden;white-space:nowrap;"
	      "text-overflow:ellipsis;border:1px solid #888;border-radius:2px;padding:1px 3px}\n"
	      ".ok{background:#b3f3b5}.fail{background:#f2b3b3}.info{background:#ffffbb}\n"
	      "</style></head><body>\n<h1>",
	      f);
	xml_write_text(f, title);
	fprintf(f,
		"</h1>\n<p>%zu operations of %zu client processes; a row per event in time order, "
		"an operation from its invoke to its completion: <span class=\"ok\">ok</span> "
		"<span class=\"fail\">fail</span> <span class=\"info\">info</span> (outcome "
		"unknown). Hover for the whole operation.</p>\n",
		n, nprocs);
	fprintf(f, "<div class=\"lanes\" style=\"width:%zupx;height:%zupx\">\n", nprocs * COLUMN_PX,
		(2 * n + 1) * ROW_PX + 20);
	fputs("<div class=\"head\">", f);
	for (i = 0; i < nprocs; i++)
		fprintf(f, "<span class=\"proc\" style=\"left:%zupx\">process %" PRIu64 "</span>",
			i * COLUMN_PX, procs[i]);
	fputs("</div>\n", f);
	for (i = 0; i < n; i++) {
		const struct mael_op *op = &ops[i];
		size_t col = column_of(procs, nprocs, op->process);

		fprintf(f,
			"<div class=\"op %s\" style=\"left:%zupx;top:%zupx;width:%dpx;height:%zupx\" "
			"title=\"",
			outcome_name(op->outcome), col * COLUMN_PX, 20 + row_in[i] * ROW_PX,
			COLUMN_PX - 4, (row_out[i] - row_in[i] + 1) * ROW_PX);
		fprintf(f, "process %" PRIu64 " on n%u, %s%s: ", op->process, op->node,
			outcome_name(op->outcome), op->final ? ", final read" : "");
		op_text(f, w, op);
		fprintf(f, "; %.3f to %.3f s\">",
			op->invoke_ns >= t0_ns ? (op->invoke_ns - t0_ns) / 1e9 : 0.0,
			op->complete_ns >= t0_ns ? (op->complete_ns - t0_ns) / 1e9 : 0.0);
		op_text(f, w, op);
		fputs("</div>\n", f);
	}
	fputs("</div>\n</body></html>\n", f);
	free(ev);
	free(procs);
	free(row_in);
	free(row_out);
	return ferror(f) ? -EIO : 0;
}
