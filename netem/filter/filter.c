// SPDX-License-Identifier: GPL-2.0-only
/* The filter's pinned maps: where a lab's pins live, reopening them, the lock that serialises
 * switches, removing them, and --explain's map writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/report.h"
#include "netem/explain.h"
#include "netem/filter/filter_internal.h"

/* --explain: one map write as bpftool takes it, key and value as their bytes in memory order,
 * with what they mean. */
void filter_explain_update(const char *pin, const char *map, const void *key, size_t klen,
			   const void *value, size_t vlen, const char *meaning)
{
	char *k, *v;

	if (!explain_enabled())
		return;
	/* Sized by the key and value: a line cut short would not replay (bpftool checks the
	 * value's size against the map's). */
	k = malloc(3 * klen + 1);
	v = malloc(3 * vlen + 1);
	if (k && v) {
		explain_hex(key, klen, k, 3 * klen + 1);
		explain_hex(value, vlen, v, 3 * vlen + 1);
		explain("bpftool map update pinned %s/%s key hex %s value hex %s   # %s", pin, map,
			k, v, meaning);
	}
	free(k);
	free(v);
}

static const char *const map_names[FM_COUNT] = {
	[FM_CONTROL] = "control",
	[FM_POLICY_META] = "policy_meta",
	[FM_GROUP_OF] = "group_of",
	[FM_REACH] = "reach",
	[FM_IMPAIR] = "impair",
	[FM_NODE_OF_MAC] = "node_of_mac",
	[FM_NODE_OF_PORT] = "node_of_port",
	[FM_LINK_PASSED] = "link_passed",
	[FM_LINK_DROPS] = "link_drops",
	[FM_GLOBAL_STATS] = "global_stats",
	[FM_DROP_EVENTS] = "drop_events",
	[FM_LAB_META] = "lab_meta",
	[FM_RULE_MATCH] = "rule_match",
	[FM_SEEN_FRAMES] = "seen_frames",
};

void filter_pin_dir(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", CAPNET_PIN_ROOT, lab);
}

/* libbpf speaks only under -v (capnet sets CAPNET_VERBOSE), and then as every message does,
 * through lib/report: "capnet: libbpf: ...". */
int filter_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *text = NULL;
	int n;

	if (level == LIBBPF_DEBUG || !getenv("CAPNET_VERBOSE"))
		return 0;
	n = vasprintf(&text, fmt, ap);
	if (n < 0)
		return n;
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = 0;
	report_warn("libbpf: %s", text);
	free(text);
	return n;
}

int filter_remove(const char *lab)
{
	char dir[256], path[320];
	struct stat st;
	int i;

	filter_pin_dir(lab, dir, sizeof(dir));
	if (stat(dir, &st))
		return 0;
	explain("rm -r %s", dir);
	for (i = 0; i < FM_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PROG_PIN_NAME);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, ARP_PIN_NAME);
	unlink(path);
	if (rmdir(dir) && errno != ENOENT) {
		int err = -errno;

		error_note("remove %s: %s", dir, strerror(errno));
		return err;
	}
	return 0;
}

int filter_open(const char *lab, struct filter **out)
{
	struct filter *f;
	char dir[256], path[320];
	int i, err;

	libbpf_set_print(filter_libbpf_print);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	snprintf(f->lab, sizeof(f->lab), "%s", lab);
	f->lock_fd = -1;
	for (i = 0; i < FM_COUNT; i++)
		f->fd[i] = -1;
	filter_pin_dir(lab, dir, sizeof(dir));
	for (i = 0; i < FM_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		f->fd[i] = bpf_obj_get(path);
		if (f->fd[i] < 0) {
			err = -errno;
			filter_close(f);
			return err;
		}
	}
	*out = f;
	return 0;
}

void filter_close(struct filter *f)
{
	int i;

	if (!f)
		return;
	ring_buffer__free(f->ring);
	for (i = 0; i < FM_COUNT; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	free(f);
}

int filter_lock(struct filter *f)
{
	char dir[256];

	if (f->lock_fd >= 0)
		return 0;
	filter_pin_dir(f->lab, dir, sizeof(dir));
	f->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->lock_fd < 0 || flock(f->lock_fd, LOCK_EX)) {
		int err = -errno;

		error_note("lock %s: %s", dir, strerror(errno));
		return err;
	}
	return 0;
}
