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
#include "netem/lab/adopt.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/run_dir.h"

#define RECORD_NAME "up.nodes"
#define SHARE_NAME "up.share"
#define BLOCKS_NAME "up.blocks"

static void record_path(const char *lab, const char *name, char *buf, size_t len)
{
	char dir[256];

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Writes name in the lab's run directory through a temporary file, linked: EEXIST if it is
 * there already. */
int lab_record_write(const char *lab, const char *name, const char *text, const char *why)
{
	char dir[256], path[320], line[256];
	int err, n;

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	err = files_mkdir_p(dir, 0755);
	if (err) {
		error_note("mkdir -p %s: %s", dir, strerror(-err));
		return err;
	}
	record_path(lab, name, path, sizeof(path));
	explain("mkdir -p %s && echo %s > %s   # %s", dir, text, path, why);
	n = snprintf(line, sizeof(line), "%s\n", text);
	err = n < (int)sizeof(line) ? files_create_exclusive(path, line, n, 0644) : -E2BIG;
	if (err && err != -EEXIST)
		error_note("record %s of lab %s in %s: %s", why, lab, path, strerror(-err));
	return err;
}

int lab_record_replace(const char *lab, const char *name, const char *text, const char *why)
{
	char dir[256], path[320];
	int err;

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	err = files_mkdir_p(dir, 0755);
	record_path(lab, name, path, sizeof(path));
	explain("mkdir -p %s && cat > %s <<'EOF'   # %s\n%sEOF", dir, path, why, text);
	if (!err)
		err = files_replace(path, text, strlen(text), 0644);
	if (err)
		error_note("record %s of lab %s in %s: %s", why, lab, path, strerror(-err));
	return err;
}

int lab_record_create(const char *lab, unsigned int nodes)
{
	char text[32];

	snprintf(text, sizeof(text), "%u", nodes);
	return lab_record_write(lab, RECORD_NAME, text, "the size up was asked for");
}

int lab_record_share_create(const char *lab, const struct node_set *here)
{
	char text[4096];

	nodeset_format(here, text, sizeof(text));
	return lab_record_write(lab, SHARE_NAME, text, "the nodes of the lab on this host");
}

int lab_record_read(const char *lab, const char *name, char *buf, size_t len)
{
	char path[320];
	ssize_t n;

	record_path(lab, name, path, sizeof(path));
	n = files_read_small(path, buf, len);
	return n < 0 ? -ENOENT : 0;
}

void lab_record_forget(const char *lab, const char *name)
{
	char path[320];

	record_path(lab, name, path, sizeof(path));
	unlink(path);
}

int lab_record_share(const char *lab, struct node_set *here)
{
	char text[4096];
	struct spec_error err;

	if (lab_record_read(lab, SHARE_NAME, text, sizeof(text)))
		return -ENOENT;
	text[strcspn(text, "\n")] = '\0';
	return nodeset_parse(text, CAPNET_MAX_NODES, here, &err) ? -EINVAL : 0;
}

void lab_record_keep_share(const char *lab, struct node_set *set)
{
	struct node_set here;

	if (lab_record_share(lab, &here))
		return;
	for (unsigned int w = 0; w < CAPNET_NODE_SLOTS / 64; w++)
		set->bits[w] &= here.bits[w];
}

void lab_record_nodes_here(const char *lab, unsigned int nodes, struct node_set *here)
{
	nodeset_clear(here);
	for (unsigned int i = 1; i <= nodes; i++)
		nodeset_add(here, i);
	lab_record_keep_share(lab, here);
}

unsigned int lab_record_nodes(const char *lab)
{
	char text[32];
	unsigned long v;
	char *end;

	if (lab_record_read(lab, RECORD_NAME, text, sizeof(text)))
		return 0;
	v = strtoul(text, &end, 10);
	return (*end == '\n' || !*end) && v <= 100000 ? (unsigned int)v : 0;
}

void lab_record_remove(const char *lab)
{
	lab_record_forget(lab, RECORD_NAME);
	lab_record_forget(lab, SHARE_NAME);
	lab_record_forget(lab, BLOCKS_NAME);
}

int lab_record_blocks_create(const char *lab, uint32_t egress_block, uint32_t ingress_block)
{
	char text[64];

	snprintf(text, sizeof(text), "egress %u ingress %u", egress_block, ingress_block);
	return lab_record_write(lab, BLOCKS_NAME, text, "the shared tc blocks of the lab's ports");
}

int lab_record_blocks(const char *lab, uint32_t *egress_block, uint32_t *ingress_block)
{
	char text[64];

	if (lab_record_read(lab, BLOCKS_NAME, text, sizeof(text)))
		return -ENOENT;
	if (sscanf(text, "egress %u ingress %u", egress_block, ingress_block) != 2 ||
	    !*egress_block || !*ingress_block)
		return -EINVAL;
	return 0;
}

void lab_record_remedy(const char *lab, unsigned int nodes, char *made_by, size_t made_by_len,
		       char *remedy, size_t remedy_len)
{
	if (adopt_is_adopted(lab)) {
		snprintf(made_by, made_by_len, "`adopt`");
		snprintf(remedy, remedy_len,
			 "capnet --lab %s down && capnet --lab %s adopt ... of the same namespaces",
			 lab, lab);
		return;
	}
	snprintf(made_by, made_by_len, "`up -n %u`", nodes);
	snprintf(remedy, remedy_len, "capnet --lab %s down && capnet --lab %s up -n %u", lab, lab,
		 nodes);
}
