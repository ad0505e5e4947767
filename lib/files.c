// SPDX-License-Identifier: GPL-2.0-only
/* File-system helpers: directories made the way mkdir -p makes them, whole writes, durable
 * names. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/files.h"

int files_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int files_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k ? -errno : -EIO;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

void files_read_tail(const char *path, char *buf, size_t len)
{
	files_read_tail_from(path, 0, buf, len);
}

void files_read_tail_from(const char *path, off_t from, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size, start;
	ssize_t n;
	char *nl;

	buf[0] = 0;
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	start = size > from + (off_t)len - 1 ? size - ((off_t)len - 1) : from;
	n = size < 0 || start >= size ? -1 : pread(fd, buf, len - 1, start);
	close(fd);
	if (n < 0)
		return;
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	/* Cut inside a line: start at the next whole one, if there is one. */
	nl = start > from ? strchr(buf, '\n') : NULL;
	if (nl)
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
}

int files_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

ssize_t files_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* Writes data whole and synced under a private name beside path, then puts it in place: linked
 * (exclusive: a name there stays) or renamed over whatever is there. */
static int write_then_place(const char *path, const void *data, size_t len, mode_t mode,
			    bool replace)
{
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fchmod(fd, mode) ? -errno : 0;
	if (!err)
		err = files_write_all(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && replace && rename(tmp, path))
		err = -errno;
	/* link() refuses to replace a name: the exclusive claim. */
	if (!err && !replace && link(tmp, path))
		err = -errno;
	if (err || !replace)
		unlink(tmp);
	return err;
}

int files_create_exclusive(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_then_place(path, data, len, mode, false);
}

int files_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_then_place(path, data, len, mode, true);
}

static bool is_program(const char *path)
{
	struct stat st;

	return !access(path, X_OK) && !stat(path, &st) && !S_ISDIR(st.st_mode);
}

bool files_program_exists(const char *name)
{
	const char *path = getenv("PATH"), *dir, *end;
	char full[PATH_MAX];

	if (strchr(name, '/'))
		return is_program(name);
	for (dir = path ? path : "/usr/bin:/bin"; *dir; dir = *end ? end + 1 : end) {
		end = strchrnul(dir, ':');
		/* An empty entry is the current directory, as exec takes it. */
		snprintf(full, sizeof(full), "%.*s%s%s", (int)(end - dir), dir,
			 end > dir ? "/" : "", name);
		if (is_program(full))
			return true;
	}
	return false;
}
