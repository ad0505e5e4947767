// SPDX-License-Identifier: GPL-2.0-only
/* Where a lab's and its services' run directories are, and which services a lab has started. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/lab/run_dir.h"

void run_dir_of_lab(const char *lab, const char *dir_opt, char *buf, size_t len)
{
	if (dir_opt)
		snprintf(buf, len, "%s", dir_opt);
	else
		snprintf(buf, len, "%s/%s", CAPNET_RUN_ROOT, lab);
}

void run_dir_of_service(const char *run_dir, const char *name, char *buf, size_t len)
{
	if (!name || !strcmp(name, CAPNODE_SERVICE))
		snprintf(buf, len, "%s", run_dir);
	else
		snprintf(buf, len, "%s/svc/%s", run_dir, name);
}

bool run_dir_service_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > SERVICE_NAME_MAX || name[0] == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	       n;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int run_dir_for_each_service(const char *run_dir,
			     int (*fn)(const char *name, const char *dir, void *arg), void *arg)
{
	char dir[PATH_MAX], *names[256];
	struct dirent *de;
	size_t n = 0, i;
	int rc = 0;
	DIR *d;

	/* capnode is a service once a node of it was started (its command line recorded). */
	d = opendir(run_dir);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] == 'n' && strstr(de->d_name, ".cmd"))
				break;
		closedir(d);
		if (de)
			rc = fn(CAPNODE_SERVICE, run_dir, arg);
	}
	if (rc)
		return rc;
	snprintf(dir, sizeof(dir), "%s/svc", run_dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < sizeof(names) / sizeof(names[0]))
		if (run_dir_service_name_ok(de->d_name))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (i = 0; i < n; i++) {
		if (!rc && names[i]) {
			run_dir_of_service(run_dir, names[i], dir, sizeof(dir));
			rc = fn(names[i], dir, arg);
		}
		free(names[i]);
	}
	return rc;
}
