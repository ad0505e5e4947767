// SPDX-License-Identifier: GPL-2.0-only
/* The record is created exclusively, so of two `up`s of one name only one writes it, and it is
 * complete the moment it has a name: written to a temporary file first, then linked. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/files.h"
#include "lib/report.h"
#include "netem/explain.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/run_dir.h"

#define RECORD_NAME "up.nodes"

static void record_path(const char *lab, const char *name, char *buf, size_t len)
{
	char dir[256];

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(buf, len, "%s/%s", dir, name);
}

int lab_record_create(const char *lab, unsigned int nodes)
{
	char dir[256], path[320], tmp[340], text[32];
	int fd, err = 0, n;

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	err = files_mkdir_p(dir, 0755);
	if (err) {
		error_note("mkdir -p %s: %s", dir, strerror(-err));
		return err;
	}
	record_path(lab, RECORD_NAME, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	n = snprintf(text, sizeof(text), "%u\n", nodes);
	explain("mkdir -p %s && echo %u > %s   # the size up was asked for", dir, nodes, path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		error_note("create %s: %s", tmp, strerror(errno));
		return err;
	}
	err = files_write_all(fd, text, n);
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	/* link() fails with EEXIST if a record is there: the exclusive claim. */
	if (!err && link(tmp, path))
		err = -errno;
	unlink(tmp);
	if (err && err != -EEXIST)
		error_note("record the size of lab %s in %s: %s", lab, path, strerror(-err));
	return err;
}

unsigned int lab_record_nodes(const char *lab)
{
	char path[320], text[32];
	unsigned long v;
	char *end;

	record_path(lab, RECORD_NAME, path, sizeof(path));
	if (files_read_small(path, text, sizeof(text)) <= 0)
		return 0;
	v = strtoul(text, &end, 10);
	return (*end == '\n' || !*end) && v <= 100000 ? (unsigned int)v : 0;
}

void lab_record_remove(const char *lab)
{
	char path[320];

	record_path(lab, RECORD_NAME, path, sizeof(path));
	unlink(path);
}
