// SPDX-License-Identifier: GPL-2.0-only
/* The key file: created exclusively and synced, read back only if nobody else can read it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/files.h"
#include "lib/report.h"
#include "node/key_file.h"

int key_file_read(const char *path, struct proto_key *key)
{
	char text[PROTO_KEY_TEXT_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		error_note("key file %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		error_note("key file %s: not a regular file", path);
		return -EINVAL;
	}
	/* As ssh does with a private key: one others can read is no secret any more. */
	if (st.st_mode & 077) {
		close(fd);
		error_note("key file %s: mode %03o lets others read or change it (chmod 600 %s)",
			   path, st.st_mode & 0777, path);
		return -EPERM;
	}
	n = read(fd, text, sizeof(text));
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err) {
		error_note("key file %s: %s", path, strerror(-err));
		return err;
	}
	if (proto_key_parse(text, (size_t)n, key)) {
		error_note("key file %s: not a key (64 hex digits and a newline)", path);
		return -EINVAL;
	}
	return 0;
}

int key_file_read_stdin(struct proto_key *key)
{
	char text[PROTO_KEY_TEXT_LEN + 2];
	size_t got = 0;
	ssize_t n;
	int err = 0;

	while (got < sizeof(text) &&
	       (n = read(STDIN_FILENO, text + got, sizeof(text) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	if (proto_key_parse(text, got, key)) {
		error_note("no key on standard input (64 hex digits and a newline)");
		err = -EINVAL;
	}
	memset(text, 0, sizeof(text));
	return err;
}

/* Creates path holding key, if nobody has: 0, -EEXIST, or another -errno (error_note). */
static int write_new(const char *path, const struct proto_key *key)
{
	char text[PROTO_KEY_TEXT_LEN + 1], dir[PATH_MAX];
	int err;

	proto_key_format(key, text);
	err = files_create_exclusive(path, text, PROTO_KEY_TEXT_LEN, 0600);
	memset(text, 0, sizeof(text));
	if (err == -EEXIST)
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	if (!err)
		err = files_sync_dir(dirname(dir));
	if (err)
		error_note("write key file %s: %s", path, strerror(-err));
	return err;
}

int key_file_ensure(const char *path, struct proto_key *key)
{
	int err;

	if (!access(path, F_OK))
		return key_file_read(path, key);
	/* Of two concurrent starts, exactly one key wins; the other reads it. */
	err = proto_key_generate(key);
	if (!err)
		err = write_new(path, key);
	return err == -EEXIST ? key_file_read(path, key) : err;
}

int key_file_install(const char *path, const struct proto_key *key)
{
	struct proto_key there;
	int err = write_new(path, key);

	if (err != -EEXIST)
		return err;
	err = key_file_read(path, &there);
	if (!err && memcmp(there.bytes, key->bytes, sizeof(there.bytes)))
		err = -EEXIST;
	memset(&there, 0, sizeof(there));
	if (err == -EEXIST)
		error_note("key file %s holds another key (capnet stop, then remove it)", path);
	return err;
}
