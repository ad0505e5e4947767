// SPDX-License-Identifier: GPL-2.0-only
/* The store of maelstrom test, as Maelstrom's: store/<workload>/<time>/ per run, store/latest
 * pointing at the newest run there is. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/files.h"
#include "netem/maelstrom/harness.h"

/* store/latest to run (relative to store/), replaced in one rename so that it never points at
 * nothing; NULL removes it. A convenience only: a failure leaves the runs as they are. */
static void point_latest(const char *run)
{
	char tmp[64];

	if (!run) {
		unlink("store/latest");
		return;
	}
	snprintf(tmp, sizeof(tmp), "store/.latest.%d", (int)getpid());
	unlink(tmp);
	if (!symlink(run, tmp) && rename(tmp, "store/latest"))
		unlink(tmp);
}

/* A run deleted by hand leaves store/latest pointing at nothing: it goes back to the newest run
 * there is (the names of runs are times, so the greatest is the newest). */
void mael_repair_latest(void)
{
	char newest[2 * NAME_MAX + 2] = "", run[2 * NAME_MAX + 2];
	const char *newest_time = "";
	struct dirent *w, *r;
	struct stat st;
	DIR *store, *dir;

	if (lstat("store/latest", &st) || !stat("store/latest", &st))
		return;
	store = opendir("store");
	while (store && (w = readdir(store))) {
		if (w->d_name[0] == '.' || !strcmp(w->d_name, "latest"))
			continue;
		snprintf(run, sizeof(run), "store/%s", w->d_name);
		dir = opendir(run);
		while (dir && (r = readdir(dir))) {
			if (r->d_name[0] == '.' || strcmp(r->d_name, newest_time) <= 0)
				continue;
			snprintf(newest, sizeof(newest), "%s/%s", w->d_name, r->d_name);
			newest_time = strchr(newest, '/') + 1;
		}
		if (dir)
			closedir(dir);
	}
	if (store)
		closedir(store);
	point_latest(newest[0] ? newest : NULL);
}

/* store/<workload>/<time>/, as Maelstrom's, and store/latest pointing at it. */
int mael_make_store(struct harness *h)
{
	char stamp[64];
	struct timespec ts;
	struct tm tm;
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(h->store, sizeof(h->store), "store/%s/%s.%03ld",
		 mael_workload_name(h->o->workload), stamp, ts.tv_nsec / 1000000);
	err = files_mkdir_p(h->store, 0755);
	if (err)
		return err;
	point_latest(h->store + strlen("store/"));
	return 0;
}
