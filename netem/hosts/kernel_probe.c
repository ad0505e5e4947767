// SPDX-License-Identifier: GPL-2.0-only
/* The kernel features a host's share needs, asked of the kernel itself: a VXLAN device made in
 * a throwaway network namespace (the kernel loads the vxlan module for it, as `up` would need
 * it to), and libbpf's probes of tc programs and of the CLOCK_TAI helper. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>

#include "netem/hosts/kernel_probe.h"

/* In a child, whose network namespace is its own and dies with it: nothing is left behind
 * whatever the kernel does. Writes the kernel's refusal on fd. */
static void vxlan_child(int fd)
{
	const char *kind = getenv("CAPNET_TEST_PROBE_VXLAN_KIND");
	struct rtnl_link *link = rtnl_link_vxlan_alloc();
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (unshare(CLONE_NEWNET) || !link || !sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		dprintf(fd, "a scratch network namespace: %s", strerror(errno));
		_exit(2);
	}
	rtnl_link_set_name(link, "vxprobe");
	rtnl_link_vxlan_set_id(link, 1);
	if (kind && *kind)
		rtnl_link_set_type(link, kind);
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (err < 0) {
		dprintf(fd, "%s", nl_geterror(err));
		_exit(1);
	}
	_exit(0);
}

static int probe_vxlan(char *why, size_t len)
{
	char said[256] = "";
	int fds[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0)
		vxlan_child(fds[1]);
	close(fds[1]);
	n = pid < 0 ? -1 : read(fds[0], said, sizeof(said) - 1);
	said[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	snprintf(why, len, "this host's kernel makes no VXLAN device (%s)",
		 said[0] ? said : "killed");
	return -EOPNOTSUPP;
}

/* The number in the environment variable name for a test, else fallback. */
static long probe_number(const char *name, long fallback)
{
	const char *text = getenv(name);

	return text && *text ? strtol(text, NULL, 0) : fallback;
}

int kernel_probe(char *why, size_t len)
{
	enum bpf_prog_type type = (enum bpf_prog_type)probe_number(
		"CAPNET_TEST_PROBE_BPF_PROG_TYPE", BPF_PROG_TYPE_SCHED_CLS);
	enum bpf_func_id helper = (enum bpf_func_id)probe_number("CAPNET_TEST_PROBE_BPF_HELPER",
								 BPF_FUNC_ktime_get_tai_ns);
	int err = probe_vxlan(why, len);

	if (err)
		return err;
	if (libbpf_probe_bpf_prog_type(type, NULL) != 1) {
		snprintf(why, len,
			 "this host's kernel loads no BPF tc program (CONFIG_BPF_SYSCALL, "
			 "CONFIG_NET_CLS_BPF)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_helper(type, helper, NULL) != 1) {
		snprintf(
			why, len,
			"this host's kernel has no bpf_ktime_get_tai_ns for BPF (Linux 6.1 or later "
			"is needed for the switch's instant)");
		return -EOPNOTSUPP;
	}
	return 0;
}
