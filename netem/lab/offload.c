// SPDX-License-Identifier: GPL-2.0-only
/* TX checksum offload off on a node's interface, through the ethtool ioctl. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "lib/files.h"
#include "netem/explain.h"
#include "netem/lab/run_dir.h"
#include "netem/lab/offload.h"
#include "netem/lab/topology.h"

static int ethtool_value(int fd, const char *ifname, uint32_t cmd, uint32_t *value)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *value };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	*value = ev.data;
	return 0;
}

static void keep_off_path(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/checksums-by-sender", CAPNET_RUN_ROOT, lab);
}

void offload_keep_off(const char *lab)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s/%s", CAPNET_RUN_ROOT, lab);
	if (files_mkdir_p(dir, 0755))
		return;
	keep_off_path(lab, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

bool offload_kept_off(const char *lab)
{
	char path[PATH_MAX];

	keep_off_path(lab, path, sizeof(path));
	return !access(path, F_OK);
}

int node_tx_checksum_set(const char *lab, unsigned int node, bool on, bool *changed)
{
	char ns[LAB_NAME_MAX + 16];
	uint32_t was = 0, want = on;
	int saved, fd, err;

	if (changed)
		*changed = false;
	lab_node_ns(lab, node, ns, sizeof(ns));
	saved = netns_enter(ns);
	if (saved < 0)
		return saved;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netns_return(saved);
	if (fd < 0)
		return -errno;
	err = ethtool_value(fd, NODE_IF, ETHTOOL_GTXCSUM, &was);
	if (!err && !was != !on) {
		err = ethtool_value(fd, NODE_IF, ETHTOOL_STXCSUM, &want);
		if (!err && changed)
			*changed = true;
	}
	close(fd);
	return err;
}

int node_tx_checksum_off(const char *lab, unsigned int node, bool *changed)
{
	char ns[LAB_NAME_MAX + 16];
	int err = node_tx_checksum_set(lab, node, false, changed);

	lab_node_ns(lab, node, ns, sizeof(ns));
	if (!err && *changed)
		explain("ip netns exec %s ethtool -K %s tx off   # checksums made by the sender, so "
			"a corrupted frame is caught",
			ns, NODE_IF);
	return err;
}
