// SPDX-License-Identifier: GPL-2.0-only
/* The summary of a command on a lab's services: the words capnet has always printed for it, a
 * JSON line with the same facts, and the sum of the summaries of several hosts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "netem/svc/nodes_report.h"
#include "netem/lab/run_dir.h"

static const char *past_tense(const char *cmd)
{
	return !strcmp(cmd, "stop")    ? "stopped" :
	       !strcmp(cmd, "pause")   ? "paused" :
	       !strcmp(cmd, "resume")  ? "resumed" :
	       !strcmp(cmd, "restart") ? "restarted" :
					 "killed";
}

static int format_text(const struct nodes_report *r, const char *lab, char *buf, size_t len)
{
	unsigned int already = nodeset_count(&r->already), hit = nodeset_count(&r->hit);
	char nodes[1024] = "";
	bool only_capnode;

	if (!strcmp(r->command, "start")) {
		if (already)
			nodeset_format(&r->already, nodes, sizeof(nodes));
		if (r->mode[0])
			return snprintf(buf, len,
					"lab %s: %u capnode%s started in %s mode%s%s%s%s (logs and "
					"data in %s)\n",
					lab, r->started, r->started == 1 ? "" : "s", r->mode,
					already ? ", " : "",
					already == 1 ? "node " :
					already	     ? "nodes " :
						       "",
					nodes, already ? " already running" : "", r->dir);
		return snprintf(buf, len,
				"lab %s: %s started on %u node%s%s%s (logs and data in %s)\n", lab,
				r->service, r->started, r->started == 1 ? "" : "s",
				already ? ", already running on " : "", nodes, r->dir);
	}
	if (!strcmp(r->command, "restart"))
		return snprintf(buf, len, "lab %s: %u node%s restarted\n", lab, hit,
				hit == 1 ? "" : "s");
	only_capnode = !strcmp(r->names, CAPNODE_SERVICE) || !r->names[0];
	return snprintf(buf, len, "lab %s: %u node%s %s%s%s%s\n", lab, hit, hit == 1 ? "" : "s",
			past_tense(r->command), only_capnode ? "" : " (",
			only_capnode ? "" : r->names, only_capnode ? "" : ")");
}

static int format_json(const struct nodes_report *r, const char *lab, char *buf, size_t len)
{
	char nodes[1024];
	FILE *f = fmemopen(buf, len, "w");
	bool start = !strcmp(r->command, "start");
	long used;

	if (!f)
		return -errno;
	fprintf(f, "{\"lab\":");
	json_write_string(f, lab);
	fprintf(f, ",\"command\":");
	json_write_string(f, r->command);
	if (start) {
		nodeset_format(&r->already, nodes, sizeof(nodes));
		fprintf(f, ",\"service\":");
		json_write_string(f, r->service);
		fprintf(f, ",\"mode\":");
		json_write_string(f, r->mode[0] ? r->mode : NULL);
		fprintf(f, ",\"started\":%u,\"failed\":%u,\"already\":\"%s\",\"dir\":", r->started,
			r->failed, nodes);
		json_write_string(f, r->dir);
	} else {
		nodeset_format(&r->hit, nodes, sizeof(nodes));
		fprintf(f, ",\"nodes\":\"%s\",\"services\":", nodes);
		json_write_string(f, r->names);
	}
	fprintf(f, "}\n");
	used = ftell(f);
	fclose(f);
	return used < 0 ? -EIO : (int)used;
}

int nodes_report_format(const struct nodes_report *r, const char *lab, bool json, char *buf,
			size_t len)
{
	return json ? format_json(r, lab, buf, len) : format_text(r, lab, buf, len);
}

static int member_nodes(const struct json_value *obj, const char *name, struct node_set *set)
{
	const struct json_value *v = json_member(obj, name);
	struct spec_error e;
	char text[1024];

	nodeset_clear(set);
	if (!v || json_copy_string(v, text, sizeof(text)))
		return -EINVAL;
	return text[0] && nodeset_parse(text, CAPNET_MAX_NODES, set, &e) ? -EINVAL : 0;
}

static int member_text(const struct json_value *obj, const char *name, char *buf, size_t len)
{
	const struct json_value *v = json_member(obj, name);

	buf[0] = '\0';
	if (v && v->kind == JSON_NULL)
		return 0;
	return v ? json_copy_string(v, buf, len) : -EINVAL;
}

static int member_count(const struct json_value *obj, const char *name, unsigned int *out)
{
	uint64_t n;

	if (!json_is_u64(json_member(obj, name), &n) || n > CAPNET_MAX_NODES)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

int nodes_report_parse(const char *text, struct nodes_report *out)
{
	struct json_value v;
	int err;

	memset(out, 0, sizeof(*out));
	if (json_parse(text, strcspn(text, "\n"), 4, &v, NULL))
		return -EINVAL;
	err = v.kind == JSON_OBJECT ? 0 : -EINVAL;
	if (!err)
		err = member_text(&v, "command", out->command, sizeof(out->command));
	if (!err && !strcmp(out->command, "start")) {
		err = member_text(&v, "service", out->service, sizeof(out->service));
		if (!err)
			err = member_text(&v, "mode", out->mode, sizeof(out->mode));
		if (!err)
			err = member_text(&v, "dir", out->dir, sizeof(out->dir));
		if (!err)
			err = member_count(&v, "started", &out->started);
		if (!err)
			err = member_count(&v, "failed", &out->failed);
		if (!err)
			err = member_nodes(&v, "already", &out->already);
	} else if (!err) {
		err = member_nodes(&v, "nodes", &out->hit);
		if (!err)
			err = member_text(&v, "services", out->names, sizeof(out->names));
	}
	json_value_free(&v);
	return err ? -EINVAL : 0;
}

void nodes_report_add_name(struct nodes_report *r, const char *name)
{
	size_t used = strlen(r->names), n = strlen(name);

	for (const char *p = r->names; (p = strstr(p, name)); p += n)
		if ((p == r->names || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return;
	if (used + n + 3 < sizeof(r->names))
		snprintf(r->names + used, sizeof(r->names) - used, "%s%s", used ? ", " : "", name);
}

void nodes_report_add(struct nodes_report *sum, const struct nodes_report *more)
{
	char names[sizeof(more->names)], *save = NULL;

	if (!sum->command[0]) {
		*sum = *more;
		return;
	}
	sum->started += more->started;
	sum->failed += more->failed;
	for (unsigned int w = 0; w < CAPNET_NODE_SLOTS / 64; w++) {
		sum->already.bits[w] |= more->already.bits[w];
		sum->hit.bits[w] |= more->hit.bits[w];
	}
	snprintf(names, sizeof(names), "%s", more->names);
	for (char *name = strtok_r(names, ", ", &save); name; name = strtok_r(NULL, ", ", &save))
		nodes_report_add_name(sum, name);
}
