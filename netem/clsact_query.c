// SPDX-License-Identifier: GPL-2.0-only
/* Which BPF program runs at the clsact egress of many ports, in a few round trips: one netlink
 * socket, the filter requests of a whole chunk of ports in one send, then their answers. A
 * query per port through libbpf's bpf_tc_query opens a socket for each, which at 1,000 ports
 * was most of what a `capnet partition` spent. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>

#include "netem/clsact_query.h"

#define CHUNK 128
#define ALIGNED(len) NLMSG_ALIGN(len)

struct filter_request {
	struct nlmsghdr nh;
	struct tcmsg tc;
	char kind[ALIGNED(RTA_LENGTH(sizeof("bpf")))];
};

/* The program id in a RTM_NEWTFILTER answer: TCA_OPTIONS, then TCA_BPF_ID inside it. */
static uint32_t answer_prog_id(const struct nlmsghdr *nh)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc));
	const struct rtattr *a = (const struct rtattr *)((const char *)tc + ALIGNED(sizeof(*tc)));

	for (; len > 0 && RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const struct rtattr *o;
		int olen;

		if (a->rta_type != TCA_OPTIONS)
			continue;
		olen = (int)RTA_PAYLOAD(a);
		for (o = RTA_DATA(a); olen > 0 && RTA_OK(o, olen); o = RTA_NEXT(o, olen))
			if (o->rta_type == TCA_BPF_ID && RTA_PAYLOAD(o) >= sizeof(uint32_t))
				return *(const uint32_t *)RTA_DATA(o);
	}
	return 0;
}

static int ask_chunk(int fd, const int *ifindex, unsigned int first, unsigned int n,
		     uint32_t *prog_id)
{
	static struct filter_request req[CHUNK];
	static char buf[1 << 16];
	unsigned int answered = 0, i;
	ssize_t got;

	for (i = 0; i < n; i++) {
		struct rtattr *kind = (struct rtattr *)req[i].kind;

		memset(&req[i], 0, sizeof(req[i]));
		req[i].nh.nlmsg_len = sizeof(req[i]);
		req[i].nh.nlmsg_type = RTM_GETTFILTER;
		req[i].nh.nlmsg_flags = NLM_F_REQUEST;
		req[i].nh.nlmsg_seq = first + i + 1;
		req[i].tc.tcm_family = AF_UNSPEC;
		req[i].tc.tcm_ifindex = ifindex[first + i];
		req[i].tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);
		req[i].tc.tcm_handle = 1;
		/* The filter capnet adds: priority 1, every protocol. */
		req[i].tc.tcm_info = TC_H_MAKE(1 << 16, htons(ETH_P_ALL));
		kind->rta_type = TCA_KIND;
		kind->rta_len = RTA_LENGTH(sizeof("bpf"));
		memcpy(RTA_DATA(kind), "bpf", sizeof("bpf"));
		prog_id[first + i] = 0;
	}
	if (send(fd, req, n * sizeof(req[0]), 0) != (ssize_t)(n * sizeof(req[0])))
		return -errno ?: -EIO;
	while (answered < n) {
		struct nlmsghdr *nh;
		int len;

		got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)got;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			unsigned int at = nh->nlmsg_seq - 1;

			if (at < first || at >= first + n)
				continue;
			/* An error answer is a port without the filter (ENOENT, EINVAL: no clsact). */
			if (nh->nlmsg_type == RTM_NEWTFILTER)
				prog_id[at] = answer_prog_id(nh);
			answered++;
		}
	}
	return 0;
}

int clsact_egress_prog_ids(const int *ifindex, unsigned int n, uint32_t *prog_id)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd, err = 0, rcvbuf = 1 << 20;
	unsigned int first;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Room for a chunk's answers before we read them. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&local, sizeof(local))) {
		err = -errno;
		goto out;
	}
	for (first = 0; first < n && !err; first += CHUNK)
		err = ask_chunk(fd, ifindex, first, n - first < CHUNK ? n - first : CHUNK, prog_id);
out:
	close(fd);
	return err;
}
