// SPDX-License-Identifier: GPL-2.0-only
/* Named network namespaces, made and removed exactly as iproute2's `ip netns add/del` does (a
 * bind mount of the namespace on /run/netns/NAME), so `ip netns list`, `ip -n NAME` and
 * `ip netns exec NAME` work on them. Only syscalls: no ip process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/report.h"
#include "netem/explain.h"
#include "netem/lab/topology.h"

/* The calling thread's namespace: /proc/self would name the main thread's. */
#define THREAD_NETNS "/proc/thread-self/ns/net"

static void netns_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);
}

/* As iproute2 does: /run/netns must be a shared mount so that a namespace unmounted here is
 * unmounted in every mount namespace that copied it, and the namespace can die. Done once per
 * process: making it shared again walks every namespace mount below it (MS_REC). */
static int netns_prepare_dir(const char *name)
{
	static bool prepared;
	bool made_mount = false;
	int err;

	if (prepared)
		return 0;
	if (mkdir(NETNS_RUN_DIR, 0755) && errno != EEXIST) {
		err = errno;
		error_note("create namespace %s: mkdir %s: %s%s", name, NETNS_RUN_DIR,
			   strerror(err), report_root_hint(err));
		return -err;
	}
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
		/* EINVAL: not a mount point yet; make it one by binding it on itself. */
		if (errno != EINVAL || made_mount) {
			err = errno;
			error_note("create namespace %s: mount --make-shared %s: %s%s", name,
				   NETNS_RUN_DIR, strerror(err), report_root_hint(err));
			return -err;
		}
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL)) {
			err = errno;
			error_note("create namespace %s: mount --bind %s %s: %s%s", name,
				   NETNS_RUN_DIR, NETNS_RUN_DIR, strerror(err),
				   report_root_hint(err));
			return -err;
		}
		made_mount = true;
	}
	prepared = true;
	return 0;
}

int netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd;

	netns_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int netns_enter(const char *name)
{
	char path[PATH_MAX];

	netns_path(name, path, sizeof(path));
	return netns_enter_file(path);
}

int netns_enter_file(const char *path)
{
	int saved, fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	saved = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		close(saved);
		close(fd);
		return err;
	}
	close(fd);
	return saved;
}

pid_t netns_fork_session(const char *name)
{
	pid_t pid = fork();
	int saved;

	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	saved = netns_enter(name);
	if (saved < 0)
		_exit(126);
	close(saved);
	setsid();
	return 0;
}

int netns_return(int saved_fd)
{
	int err = 0;

	if (setns(saved_fd, CLONE_NEWNET))
		err = -errno;
	close(saved_fd);
	return err;
}

/* The file /run/netns/NAME, new (-EEXIST if the name is taken), for a namespace to be bound
 * on; its path into path. Reports only what netns_prepare_dir reports. */
static int name_file_create(const char *name, char *path, size_t len)
{
	int err = netns_prepare_dir(name), fd;

	if (err)
		return err;
	netns_path(name, path, len);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int netns_create(const char *name)
{
	char path[PATH_MAX];
	int saved = -1, err;
	bool created = false;

	err = name_file_create(name, path, sizeof(path));
	if (err) {
		if (err != -EEXIST)
			error_note("create namespace %s: %s%s", name, strerror(-err),
				   report_root_hint(-err));
		return err;
	}
	created = true;

	saved = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		err = -errno;
		error_note("create namespace %s: open %s: %s", name, THREAD_NETNS, strerror(-err));
		goto cleanup;
	}
	/* The new namespace lives as long as something refers to it: the bind mount, made while
	 * this thread is inside it, becomes that reference. */
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		error_note("create namespace %s: %s%s", name, strerror(-err),
			   report_root_hint(-err));
		goto cleanup;
	}
	if (mount(THREAD_NETNS, path, "none", MS_BIND, NULL)) {
		err = -errno;
		error_note("create namespace %s: bind mount on %s: %s%s", name, path,
			   strerror(-err), report_root_hint(-err));
	}
	if (setns(saved, CLONE_NEWNET)) {
		/* Nothing after this could be trusted to run in the right namespace. */
		err = -errno;
		error_note("create namespace %s: return to the original namespace: %s", name,
			   strerror(-err));
		goto cleanup;
	}
	if (!err) {
		created = false;
		explain("ip netns add %s", name);
	}
cleanup:
	if (saved >= 0)
		close(saved);
	if (created)
		unlink(path);
	return err;
}

int netns_attach(const char *name, const char *ns_file)
{
	char path[PATH_MAX];
	int err = name_file_create(name, path, sizeof(path));

	if (err) {
		error_note("name namespace %s: %s%s", name, strerror(-err), report_root_hint(-err));
		return err;
	}
	if (mount(ns_file, path, "none", MS_BIND, NULL)) {
		err = -errno;
		error_note("name namespace %s: bind mount %s on %s: %s", name, ns_file, path,
			   strerror(-err));
		unlink(path);
		return err;
	}
	explain("touch %s && mount --bind %s %s   # as ip netns attach", path, ns_file, path);
	return 0;
}

int netns_delete(const char *name)
{
	char path[PATH_MAX];
	int err;

	netns_path(name, path, sizeof(path));
	/* EINVAL: the file is there but not mounted (an up that died in netns_create). */
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT) {
		err = errno;
		error_note("delete namespace %s: unmount %s: %s%s", name, path, strerror(err),
			   report_root_hint(err));
		return -err;
	}
	if (unlink(path)) {
		err = errno;
		if (err == ENOENT)
			return -ENOENT;
		error_note("delete namespace %s: remove %s: %s%s", name, path, strerror(err),
			   report_root_hint(err));
		return -err;
	}
	explain("ip netns del %s", name);
	return 0;
}

int netns_for_each(int (*fn)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	int err = 0;
	DIR *dir;

	dir = opendir(NETNS_RUN_DIR);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		err = errno;
		error_note("list %s: %s%s", NETNS_RUN_DIR, strerror(err), report_root_hint(err));
		return -err;
	}
	while (!err && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		err = fn(de->d_name, arg);
	}
	closedir(dir);
	return err;
}

int netns_address(const char *name, char *buf, size_t len)
{
	struct ifaddrs *ifs, *i;
	int saved = netns_enter(name), err = -ENOENT;

	if (saved < 0)
		return saved;
	if (getifaddrs(&ifs)) {
		err = -errno;
		netns_return(saved);
		return err;
	}
	netns_return(saved);
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, "lo")) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
				  len);
			err = 0;
			break;
		}
	freeifaddrs(ifs);
	return err;
}
