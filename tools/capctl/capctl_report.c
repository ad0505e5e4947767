// SPDX-License-Identifier: GPL-2.0-only
/* capctl report HISTORY: the pictures a reader takes in at a glance, for any history (capnode,
 * etcd, Redis): the latency of every operation over time, coloured by outcome, one panel per
 * operation kind (f); the throughput by outcome; the faults of the run as shaded bands; and,
 * with --model, the checker's verdict at the top. As SVG files, and as one self-contained HTML
 * page with both. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/op_chart.h"
#include "lib/report.h"
#include "lib/svg.h"
#include "lib/xml.h"
#include "netem/script/scenario.h"
#include "tools/capctl/capctl.h"
#include "tools/check/history.h"
#include "tools/check/linearizability.h"

#define LEFT 90.0
#define TOP 48.0
#define WIDTH 900.0

struct report {
	const struct history *h;
	uint64_t t0;
	double seconds;
	struct op_chart chart; /* the operations and faults as lib/op_chart draws them */
	struct op_chart_op *ops;
	struct op_chart_band *bands;
	size_t n_bands;
	char verdict[512];
	int verdict_status; /* capctl check's exit status, -1 without --model */
	struct lin_result lin; /* --model register with a violation: the smallest failing window */
	bool have_window;
};

static double at_s(const struct report *r, uint64_t t)
{
	return t > r->t0 ? (t - r->t0) / 1e9 : 0;
}

static void bands_from_faults(struct report *r, const struct faults *fs)
{
	size_t i;

	r->bands = calloc(fs->n ? fs->n : 1, sizeof(*r->bands));
	if (!r->bands)
		return;
	for (i = 0; i < fs->n; i++) {
		const struct history_fault *x = &fs->items[i];
		struct op_chart_band *b;

		if (fault_ends_one(x->f))
			continue;
		b = &r->bands[r->n_bands++];
		b->from_s = at_s(r, x->time);
		b->to_s = i + 1 < fs->n ? at_s(r, fs->items[i + 1].time) : r->seconds;
		snprintf(b->label, sizeof(b->label), "%s %s", x->f, x->value);
	}
}

/* Every operation at its start, from its invoke to its completion (an info left open runs to
 * the end), one panel per f in the order they first appear. */
static int chart_ops(struct report *r)
{
	r->ops = calloc(r->h->n_ops ? r->h->n_ops : 1, sizeof(*r->ops));
	if (!r->ops)
		return -ENOMEM;
	r->chart = (struct op_chart){ .ops = r->ops,
				      .n_ops = r->h->n_ops,
				      .who = "process ",
				      .seconds = r->seconds,
				      .bands = r->bands,
				      .n_bands = r->n_bands,
				      .verdict = r->verdict,
				      .verdict_ok = r->verdict_status == 0 };
	for (size_t i = 0; i < r->h->n_ops; i++) {
		const struct history_op *op = &r->h->ops[i];
		bool open = op->ret == UINT64_MAX;

		r->ops[i] = (struct op_chart_op){
			.start_s = at_s(r, op->call),
			.end_s = open ? r->seconds : at_s(r, op->ret),
			.outcome = op->outcome == HISTORY_OK   ? OP_CHART_OK :
				   op->outcome == HISTORY_FAIL ? OP_CHART_FAIL :
								 OP_CHART_INFO,
			.kind = op_chart_kind(&r->chart, history_f_name(op->f)),
			.open = open,
			.who = op->process,
			.line = op->line,
		};
	}
	return 0;
}

static int write_latency(FILE *f, const struct report *r)
{
	return op_chart_latency(f, &r->chart);
}

static int write_throughput(FILE *f, const struct report *r)
{
	return op_chart_throughput(f, &r->chart);
}

static void value_text(const struct history_value *v, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	if (!v || v->kind == HISTORY_VALUE_NULL) {
		snprintf(buf, len, "nil");
		return;
	}
	if (v->kind == HISTORY_VALUE_STRING) {
		snprintf(buf, len, "%s", v->str);
		return;
	}
	for (size_t i = 0; i < v->n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s",
				 i ? (v->kind == HISTORY_VALUE_LIST ? "→" : " ") : "",
				 v->items[i] ? v->items[i] : "nil");
}

/* What a bar says: "write 3", "read 2", "cas 1→2". */
static void op_text(const struct history_op *op, char *buf, size_t len)
{
	char v[96];

	value_text(op->f == HISTORY_READ ? op->result : op->arg, v, sizeof(v));
	snprintf(buf, len, "%s %s", history_f_name(op->f), v);
}

/* As Knossos's linear.svg: the smallest window of the key where the checker failed, one row per
 * process, each operation a bar from its invoke to its completion with what it read or wrote;
 * the operation that cannot be placed in red, those that may or may not have happened dashed. */
static int write_violation(FILE *f, const struct report *r)
{
	const struct lin_result *l = &r->lin;
	uint64_t from = UINT64_MAX, to = 0, procs[64];
	unsigned int n_procs = 0;
	double row_h = 34, height, x_of;

	for (size_t i = 0; i < l->n_window; i++) {
		const struct history_op *op = &r->h->ops[l->window[i].op];
		unsigned int k;

		if (op->call < from)
			from = op->call;
		if (op->ret != UINT64_MAX && op->ret > to)
			to = op->ret;
		if (op->call > to)
			to = op->call;
		for (k = 0; k < n_procs && procs[k] != op->process; k++)
			;
		if (k == n_procs && n_procs < 64)
			procs[n_procs++] = op->process;
	}
	if (to <= from)
		to = from + 1;
	to += (to - from) / 20;
	x_of = WIDTH / (double)(to - from);
	height = TOP + 30 + n_procs * row_h + 30;
	op_chart_begin(f, &r->chart, height, "violation");
	fprintf(f, "<text class=\"panel\" x=\"%.0f\" y=\"%.0f\">key ", LEFT, TOP);
	xml_write_text(f, l->key ? l->key : "nil");
	fprintf(f, ": the %s window of %zu operations in which no order works%s</text>\n",
		l->minimal ? "smallest" : "", l->n_window,
		l->initial_known ? " (from the start: the register is nil)" : "");
	for (unsigned int k = 0; k < n_procs; k++)
		fprintf(f,
			"<text class=\"process\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">process "
			"%llu</text>\n",
			LEFT - 6, TOP + 30 + k * row_h + row_h / 2 + 4,
			(unsigned long long)procs[k]);
	for (size_t i = 0; i < l->n_window; i++) {
		const struct history_op *op = &r->h->ops[l->window[i].op];
		enum lin_role role = l->window[i].role;
		uint64_t end = op->ret == UINT64_MAX ? to : op->ret;
		unsigned int k;
		double x, w, y;
		char text[160];

		for (k = 0; k < n_procs && procs[k] != op->process; k++)
			;
		x = LEFT + (op->call - from) * x_of;
		w = (end - op->call) * x_of;
		y = TOP + 30 + k * row_h + 4;
		op_text(op, text, sizeof(text));
		fprintf(f,
			"<g class=\"bar %s\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
			"rx=\"3\" fill=\"%s\" stroke=\"%s\"%s><title>",
			role == LIN_ROLE_FAILED	  ? "failed" :
			role == LIN_ROLE_OPTIONAL ? "optional" :
						    "required",
			x, y, w > 2 ? w : 2, row_h - 8,
			role == LIN_ROLE_FAILED	  ? "#f6c7c7" :
			role == LIN_ROLE_OPTIONAL ? "#fff" :
						    "#dbe9f7",
			role == LIN_ROLE_FAILED ? "#c22" : "#557",
			role == LIN_ROLE_OPTIONAL ? " stroke-dasharray=\"4 3\"" : "");
		xml_write_text(f, text);
		fprintf(f, " (%s, history line %ld)</title></rect>",
			role == LIN_ROLE_FAILED	  ? "cannot be placed" :
			role == LIN_ROLE_OPTIONAL ? "may or may not have happened" :
						    "took effect inside its bar",
			op->line);
		if (role == LIN_ROLE_FAILED)
			strncat(text, " ✗", sizeof(text) - strlen(text) - 1);
		/* Inside its bar or not at all: the bar's title has it. */
		if (svg_text_width(text, SVG_FONT_PX) + 6 <= (w > 2 ? w : 2))
			svg_text(f, x + 3, y + row_h / 2, SVG_FONT_PX, NULL, NULL, NULL, text);
		fputs("</g>\n", f);
	}
	svg_end(f);
	return ferror(f) ? -EIO : 0;
}

/* The verdict, from `capctl check` run on the same history, its first line. */
static void run_check(struct report *r, const char *model, const char *path)
{
	char line[1024], self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fds[2], status;
	pid_t pid;
	FILE *p;

	r->verdict_status = -1;
	if (!model || n <= 0 || pipe(fds))
		return;
	self[n] = 0;
	/* No shell between: any file name is passed as it is. */
	pid = fork();
	if (pid == 0) {
		char *argv[] = { self, "check", "--model", (char *)model, (char *)path, NULL };

		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(self, argv);
		_exit(127);
	}
	close(fds[1]);
	p = pid > 0 ? fdopen(fds[0], "r") : NULL;
	if (!p) {
		close(fds[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return;
	}
	if (!fgets(r->verdict, sizeof(r->verdict), p))
		r->verdict[0] = 0;
	r->verdict[strcspn(r->verdict, "\n")] = 0;
	while (fgets(line, sizeof(line), p))
		;
	fclose(p);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 2 << 8;
			break;
		}
	r->verdict_status = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
	if (r->verdict_status == 2)
		snprintf(r->verdict + strlen(r->verdict), sizeof(r->verdict) - strlen(r->verdict),
			 " (no verdict)");
}

static int write_file(const char *path, int (*draw)(FILE *, const struct report *),
		      const struct report *r)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f) {
		report_warn("%s: %s", path, strerror(errno));
		return -errno;
	}
	err = draw(f, r);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		report_warn("write %s: %s", path, strerror(-err));
	return err;
}

static int write_html(const char *path, const struct report *r, const char *history)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f) {
		report_warn("%s: %s", path, strerror(errno));
		return -errno;
	}
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
	xml_write_text(f, history);
	fputs("</title><style>body{font-family:sans-serif;margin:1em}"
	      ".verdict{font-weight:bold}.ok{color:#2a7}.bad{color:#c22}</style></head><body>\n<h1>",
	      f);
	xml_write_text(f, history);
	fprintf(f, "</h1>\n<p id=\"verdict\" class=\"verdict %s\">",
		r->verdict_status == 0 ? "ok" : "bad");
	xml_write_text(f, r->verdict[0] ? r->verdict : "no checker run (capctl report --model M)");
	fprintf(f, "</p>\n<p>%zu operations over %.3g s, %zu fault window%s shaded.</p>\n",
		r->h->n_ops, r->seconds, r->n_bands, r->n_bands == 1 ? "" : "s");
	if (r->have_window) {
		fputs("<h2>The violation</h2>\n", f);
		err = write_violation(f, r);
		if (err)
			goto out;
	}
	err = write_latency(f, r);
	if (!err)
		err = write_throughput(f, r);
out:
	fputs("</body></html>\n", f);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		report_warn("write %s: %s", path, strerror(-err));
	return err;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: capctl report HISTORY [--model register|bank|set|append] [--faults FILE]\n"
		"           [--html FILE] [--svg-dir DIR]\n"
		"  The latency of every operation over time by outcome, one panel per f, the\n"
		"  throughput, and the faults (--faults FILE, else H.faults.jsonl beside H.jsonl,\n"
		"  else the lab's fault log) as bands; with --model, the checker's verdict at the top. --svg-dir writes\n"
		"  latency.svg and throughput.svg; --html one page with both.\n");
}

int capctl_report_main(int argc, char **argv)
{
	const char *path = NULL, *faults_path = NULL, *html = NULL, *svg_dir = NULL, *model = NULL;
	struct report r = { .verdict_status = -1 };
	struct history_error e = { 0 };
	struct faults fs = { 0 };
	char derived[4096], file[4096];
	uint64_t last = 0;
	bool lin_done = false;
	struct history h;
	int rc, i;
	FILE *f;

	report_set_program("capctl report");
	for (i = 1; i < argc; i++) {
		const char **slot = !strcmp(argv[i], "--html")	  ? &html :
				    !strcmp(argv[i], "--svg-dir") ? &svg_dir :
				    !strcmp(argv[i], "--faults")  ? &faults_path :
				    !strcmp(argv[i], "--model")	  ? &model :
								    NULL;

		if (slot && i + 1 < argc) {
			*slot = argv[++i];
		} else if (slot) {
			report_warn("%s needs a value", argv[i]);
			return CAPCTL_USAGE;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return CAPCTL_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			report_warn("unknown option %s (capctl report --help)", argv[i]);
			return CAPCTL_USAGE;
		} else if (path) {
			report_warn("one history please");
			return CAPCTL_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage(stderr);
		return CAPCTL_USAGE;
	}
	if (!html && !svg_dir) {
		report_warn("where to? (--html FILE and/or --svg-dir DIR)");
		return CAPCTL_USAGE;
	}
	if (model && strcmp(model, "register") && strcmp(model, "bank") && strcmp(model, "set") &&
	    strcmp(model, "append")) {
		report_warn("--model takes register, bank, set or append, not \"%s\"", model);
		return CAPCTL_USAGE;
	}
	f = fopen(path, "r");
	if (!f) {
		report_warn("%s: %s", path, strerror(errno));
		return CAPCTL_USAGE;
	}
	history_init(&h);
	rc = history_read_any(&h, f, &e);
	fclose(f);
	if (!rc)
		rc = history_pair(&h, &e);
	if (!rc && !h.n_ops) {
		e.line = 0;
		snprintf(e.msg, sizeof(e.msg), "no operations");
		rc = -EINVAL;
	}
	if (rc) {
		if (rc == -EINVAL)
			report_warn("%s:%ld: %s", path, e.line, e.msg);
		else
			report_warn("%s: %s", path, strerror(-rc));
		history_free(&h);
		return CAPCTL_USAGE;
	}
	r.h = &h;
	r.t0 = UINT64_MAX;
	for (size_t k = 0; k < h.n_ops; k++) {
		const struct history_op *op = &h.ops[k];

		if (op->call < r.t0)
			r.t0 = op->call;
		if (op->call > last)
			last = op->call;
		if (op->ret != UINT64_MAX && op->ret > last)
			last = op->ret;
	}
	rc = faults_for_history(path, faults_path, r.t0, last, &fs, derived, sizeof(derived));
	if (rc) {
		if (rc != -EINVAL)
			report_warn("%s: %s", derived, strerror(-rc));
		history_free(&h);
		faults_free(&fs);
		return CAPCTL_USAGE;
	}
	for (size_t k = 0; k < fs.n; k++)
		if (fs.items[k].time > last)
			last = fs.items[k].time;
	r.seconds = last > r.t0 ? (last - r.t0) / 1e9 : 1e-6;
	bands_from_faults(&r, &fs);
	run_check(&r, model, path);
	if (model && !strcmp(model, "register") && r.verdict_status == 1) {
		struct lin_options lopt = { 0 };
		int err;

		/* The window is searched as check searched: every interval widened by its clock's
		 * bound; the pictures then draw the times as they were stamped. */
		history_widen(&h);
		err = lin_check_register(&h, &lopt, &r.lin, &e);
		/* Paired once already: only memory can fail it, and then there is no picture. */
		if (history_pair(&h, &e)) {
			report_warn("%s: out of memory", path);
			if (!err)
				lin_result_free(&r.lin);
			free(r.bands);
			faults_free(&fs);
			history_free(&h);
			return CAPCTL_FAIL;
		}
		if (!err) {
			lin_done = true;
			r.have_window = r.lin.verdict == LIN_VIOLATION && r.lin.n_window;
		}
	}
	rc = chart_ops(&r);
	if (rc)
		report_warn("%s", strerror(-rc));
	if (!rc && svg_dir) {
		if (mkdir(svg_dir, 0755) && errno != EEXIST) {
			report_warn("mkdir %s: %s", svg_dir, strerror(errno));
			rc = -errno;
		}
		snprintf(file, sizeof(file), "%s/latency.svg", svg_dir);
		if (!rc)
			rc = write_file(file, write_latency, &r);
		snprintf(file, sizeof(file), "%s/throughput.svg", svg_dir);
		if (!rc)
			rc = write_file(file, write_throughput, &r);
		snprintf(file, sizeof(file), "%s/violation.svg", svg_dir);
		if (!rc && r.have_window)
			rc = write_file(file, write_violation, &r);
	}
	if (!rc && html)
		rc = write_html(html, &r, path);
	if (!rc)
		printf("report of %s: %zu operations, %u kind%s, %zu fault window%s%s%s%s%s%s\n",
		       path, h.n_ops, r.chart.n_kinds, r.chart.n_kinds == 1 ? "" : "s", r.n_bands,
		       r.n_bands == 1 ? "" : "s", r.verdict[0] ? "; " : "", r.verdict,
		       html ? "; " : "", html ? html : "", svg_dir ? " and the SVGs" : "");
	free(r.bands);
	free(r.ops);
	if (lin_done)
		lin_result_free(&r.lin);
	faults_free(&fs);
	history_free(&h);
	return rc ? CAPCTL_FAIL : CAPCTL_OK;
}
