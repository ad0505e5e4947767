// SPDX-License-Identifier: GPL-2.0-only
/* clsact filters of many ports in a few round trips: one netlink socket, the requests of a
 * whole chunk of ports in one send, then their answers. A query per port through libbpf's
 * bpf_tc_query opens a socket for each, which at 1,000 ports was most of what a `capnet
 * partition` spent; and libbpf's bpf_tc_attach cannot name a protocol, which the ARP responder
 * needs so that no other frame runs it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>

#include "netem/filter/clsact_bulk.h"

#define CHUNK 128
#define MSG_MAX 256

static struct rtattr *put_attr(struct nlmsghdr *nh, unsigned short type, const void *data,
			       size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void end_nest(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nh + nh->nlmsg_len - (char *)nest);
}

static struct tcmsg *start(struct nlmsghdr *nh, unsigned short type, unsigned short flags,
			   uint32_t seq, int ifindex)
{
	struct tcmsg *tc;

	memset(nh, 0, MSG_MAX);
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*tc));
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
	tc = NLMSG_DATA(nh);
	tc->tcm_family = AF_UNSPEC;
	tc->tcm_ifindex = ifindex;
	return tc;
}

/* The filter capnet adds: handle 1, priority 1, the given protocol. */
static void filter_key(struct tcmsg *tc, bool ingress, uint16_t protocol)
{
	tc->tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
	tc->tcm_handle = 1;
	tc->tcm_info = TC_H_MAKE(1 << 16, htons(protocol));
}

/* The program id in a RTM_NEWTFILTER answer: TCA_OPTIONS, then TCA_BPF_ID inside it. */
static uint32_t answer_prog_id(const struct nlmsghdr *nh)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc));
	const struct rtattr *a =
		(const struct rtattr *)((const char *)tc + NLMSG_ALIGN(sizeof(*tc)));

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

static int open_socket(void)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd, rcvbuf = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Room for a chunk's answers before they are read. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&local, sizeof(local))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Sends the n messages packed in buf, then reads until each sequence number in [first + 1,
 * first + n] has had its answer, handing each to `got`. */
static int exchange(int fd, const char *out, size_t out_len, uint32_t first, unsigned int n,
		    void (*got)(const struct nlmsghdr *nh, unsigned int at, void *arg), void *arg)
{
	static char in[1 << 16];
	unsigned int answered = 0;

	if (send(fd, out, out_len, 0) != (ssize_t)out_len)
		return errno ? -errno : -EIO;
	while (answered < n) {
		struct nlmsghdr *nh;
		ssize_t r = recv(fd, in, sizeof(in), 0);
		int len;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)r;
		for (nh = (struct nlmsghdr *)in; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			unsigned int at = nh->nlmsg_seq - 1;

			if (at < first || at >= first + n)
				continue;
			got(nh, at, arg);
			answered++;
		}
	}
	return 0;
}

static void got_prog_id(const struct nlmsghdr *nh, unsigned int at, void *arg)
{
	uint32_t *prog_id = arg;

	/* An error answer is a port without the filter (ENOENT; EINVAL: no clsact). */
	prog_id[at] = nh->nlmsg_type == RTM_NEWTFILTER ? answer_prog_id(nh) : 0;
}

int clsact_prog_ids(const int *ifindex, unsigned int n, bool ingress, uint16_t protocol,
		    uint32_t *prog_id)
{
	static char out[CHUNK * MSG_MAX];
	unsigned int first, i, count;
	int fd, err = 0;

	fd = open_socket();
	if (fd < 0)
		return fd;
	for (first = 0; first < n && !err; first += count) {
		size_t used = 0;

		count = n - first < CHUNK ? n - first : CHUNK;
		for (i = 0; i < count; i++) {
			struct nlmsghdr *nh = (struct nlmsghdr *)(out + used);
			struct tcmsg *tc =
				start(nh, RTM_GETTFILTER, 0, first + i + 1, ifindex[first + i]);

			filter_key(tc, ingress, protocol);
			put_attr(nh, TCA_KIND, "bpf", sizeof("bpf"));
			used += NLMSG_ALIGN(nh->nlmsg_len);
			prog_id[first + i] = 0;
		}
		err = exchange(fd, out, used, first, count, got_prog_id, prog_id);
	}
	close(fd);
	return err;
}

struct acks {
	int err;
	unsigned int failed;
	unsigned int per_port; /* messages per port: 1, or 2 with the qdisc */
};

static void got_ack(const struct nlmsghdr *nh, unsigned int at, void *arg)
{
	struct acks *a = arg;
	const struct nlmsgerr *e = NLMSG_DATA(nh);

	if (nh->nlmsg_type != NLMSG_ERROR || !e->error || a->err)
		return;
	a->err = e->error;
	a->failed = at / a->per_port;
}

/* A clsact qdisc on port ifindex; bound to shared blocks when their indexes are not 0. */
static void put_clsact(struct nlmsghdr *nh, uint32_t seq, int ifindex, uint32_t ingress_block,
		       uint32_t egress_block)
{
	struct tcmsg *tc =
		start(nh, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq, ifindex);

	tc->tcm_parent = TC_H_CLSACT;
	tc->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	put_attr(nh, TCA_KIND, "clsact", sizeof("clsact"));
	if (ingress_block)
		put_attr(nh, TCA_INGRESS_BLOCK, &ingress_block, sizeof(ingress_block));
	if (egress_block)
		put_attr(nh, TCA_EGRESS_BLOCK, &egress_block, sizeof(egress_block));
}

/* The bpf filter capnet adds (handle 1, priority 1, direct action) into a started request. */
static void put_bpf(struct nlmsghdr *nh, int prog_fd, const char *prog_name)
{
	uint32_t fd32 = (uint32_t)prog_fd, flags = TCA_BPF_FLAG_ACT_DIRECT;
	struct rtattr *opts;

	put_attr(nh, TCA_KIND, "bpf", sizeof("bpf"));
	opts = put_attr(nh, TCA_OPTIONS, NULL, 0);
	put_attr(nh, TCA_BPF_FD, &fd32, sizeof(fd32));
	put_attr(nh, TCA_BPF_NAME, prog_name, strlen(prog_name) + 1);
	put_attr(nh, TCA_BPF_FLAGS, &flags, sizeof(flags));
	end_nest(nh, opts);
}

/* What a batch asks of every port: a clsact qdisc (bound to blocks or not), a filter, or both. */
struct port_request {
	bool qdisc, filter, ingress;
	uint32_t ingress_block, egress_block;
	uint16_t protocol;
	int prog_fd;
	const char *prog_name;
};

static int per_port(const int *ifindex, unsigned int n, const struct port_request *rq,
		    unsigned int *failed)
{
	static char out[CHUNK * MSG_MAX];
	struct acks acks = { .per_port = rq->qdisc + rq->filter };
	unsigned int first, i, count, chunk = CHUNK / acks.per_port;
	int fd, err = 0;

	fd = open_socket();
	if (fd < 0)
		return fd;
	for (first = 0; first < n && !err && !acks.err; first += count) {
		size_t used = 0;
		uint32_t seq = first * acks.per_port;

		count = n - first < chunk ? n - first : chunk;
		for (i = 0; i < count; i++) {
			struct nlmsghdr *nh = (struct nlmsghdr *)(out + used);
			struct tcmsg *tc;

			if (rq->qdisc) {
				put_clsact(nh, ++seq, ifindex[first + i], rq->ingress_block,
					   rq->egress_block);
				used += NLMSG_ALIGN(nh->nlmsg_len);
				nh = (struct nlmsghdr *)(out + used);
			}
			if (!rq->filter)
				continue;
			tc = start(nh, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ++seq,
				   ifindex[first + i]);
			filter_key(tc, rq->ingress, rq->protocol);
			put_bpf(nh, rq->prog_fd, rq->prog_name);
			used += NLMSG_ALIGN(nh->nlmsg_len);
		}
		err = exchange(fd, out, used, first * acks.per_port, count * acks.per_port, got_ack,
			       &acks);
	}
	close(fd);
	if (!err && acks.err) {
		err = acks.err;
		*failed = acks.failed;
	}
	return err;
}

int clsact_attach_all(const int *ifindex, unsigned int n, bool make_qdisc, bool ingress,
		      uint16_t protocol, int prog_fd, const char *prog_name, unsigned int *failed)
{
	struct port_request rq = { .qdisc = make_qdisc,
				   .filter = true,
				   .ingress = ingress,
				   .protocol = protocol,
				   .prog_fd = prog_fd,
				   .prog_name = prog_name };

	return per_port(ifindex, n, &rq, failed);
}

int clsact_bind_all(const int *ifindex, unsigned int n, uint32_t ingress_block,
		    uint32_t egress_block, unsigned int *failed)
{
	struct port_request rq = { .qdisc = true,
				   .ingress_block = ingress_block,
				   .egress_block = egress_block };

	return per_port(ifindex, n, &rq, failed);
}

/* A request about the filter of a shared block: the block stands where the port would. */
static struct tcmsg *start_block(struct nlmsghdr *nh, unsigned short type, unsigned short flags,
				 uint32_t block, uint16_t protocol)
{
	struct tcmsg *tc = start(nh, type, flags, 1, (int)TCM_IFINDEX_MAGIC_BLOCK);

	tc->tcm_block_index = block;
	tc->tcm_handle = 1;
	tc->tcm_info = TC_H_MAKE(1 << 16, htons(protocol));
	return tc;
}

int clsact_block_attach(uint32_t block, uint16_t protocol, int prog_fd, const char *prog_name)
{
	static char out[MSG_MAX];
	struct nlmsghdr *nh = (struct nlmsghdr *)out;
	struct acks acks = { .per_port = 1 };
	int fd, err;

	fd = open_socket();
	if (fd < 0)
		return fd;
	/* Exclusive: a filter already in the block is another lab's, never to be joined. */
	start_block(nh, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, block, protocol);
	put_bpf(nh, prog_fd, prog_name);
	err = exchange(fd, out, nh->nlmsg_len, 0, 1, got_ack, &acks);
	close(fd);
	return err ?: acks.err;
}

int clsact_block_prog_id(uint32_t block, uint16_t protocol, uint32_t *prog_id)
{
	static char out[MSG_MAX];
	struct nlmsghdr *nh = (struct nlmsghdr *)out;
	int fd, err;

	fd = open_socket();
	if (fd < 0)
		return fd;
	start_block(nh, RTM_GETTFILTER, 0, block, protocol);
	put_attr(nh, TCA_KIND, "bpf", sizeof("bpf"));
	err = exchange(fd, out, nh->nlmsg_len, 0, 1, got_prog_id, prog_id);
	close(fd);
	return err;
}

/* On socket fd, dumps what `type` (RTM_GETQDISC, RTM_GETTFILTER) lists of what tc names
 * (the namespace, a port's qdisc, a shared block), handing fn every message until the end. */
static int dump_on(int fd, unsigned short type, const struct tcmsg *tc,
		   void (*fn)(const struct nlmsghdr *nh, void *arg), void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1 },
		.tc = *tc,
	};
	static char in[1 << 16];
	int err = 0;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		err = -errno;
	while (!err) {
		ssize_t r = recv(fd, in, sizeof(in), 0);
		struct nlmsghdr *nh;
		int len;

		if (r < 0) {
			if (errno != EINTR)
				err = -errno;
			continue;
		}
		len = (int)r;
		for (nh = (struct nlmsghdr *)in; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EIO;
				goto out;
			}
			fn(nh, arg);
		}
	}
out:
	return err;
}

static int dump(unsigned short type, const struct tcmsg *tc,
		void (*fn)(const struct nlmsghdr *nh, void *arg), void *arg)
{
	int fd = open_socket(), err;

	if (fd < 0)
		return fd;
	err = dump_on(fd, type, tc, fn, arg);
	close(fd);
	return err;
}

struct clsact_visit {
	void (*fn)(int ifindex, uint32_t ingress_block, uint32_t egress_block, void *arg);
	void *arg;
};

static void got_qdisc(const struct nlmsghdr *nh, void *arg)
{
	const struct clsact_visit *v = arg;
	const struct tcmsg *tc = NLMSG_DATA(nh);
	const struct rtattr *a =
		(const struct rtattr *)((const char *)tc + NLMSG_ALIGN(sizeof(*tc)));
	int alen = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc));
	uint32_t blocks[TCA_EGRESS_BLOCK + 1] = {};
	bool clsact = false;

	if (nh->nlmsg_type != RTM_NEWQDISC)
		return;
	for (; alen > 0 && RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == TCA_KIND)
			clsact = !strcmp(RTA_DATA(a), "clsact");
		else if ((a->rta_type == TCA_INGRESS_BLOCK || a->rta_type == TCA_EGRESS_BLOCK) &&
			 RTA_PAYLOAD(a) >= sizeof(uint32_t))
			blocks[a->rta_type] = *(const uint32_t *)RTA_DATA(a);
	}
	if (clsact)
		v->fn(tc->tcm_ifindex, blocks[TCA_INGRESS_BLOCK], blocks[TCA_EGRESS_BLOCK], v->arg);
}

/* Every clsact qdisc of the namespace, one dump: fn gets each one's port and blocks (0: none). */
static int clsact_dump(void (*fn)(int ifindex, uint32_t ingress_block, uint32_t egress_block,
				  void *arg),
		       void *arg)
{
	struct clsact_visit v = { .fn = fn, .arg = arg };
	struct tcmsg tc = { .tcm_family = AF_UNSPEC };

	return dump(RTM_GETQDISC, &tc, got_qdisc, &v);
}

/* A dump lists each priority's classifier (handle 0) before its filters. */
static void count_filter(const struct nlmsghdr *nh, void *arg)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	unsigned int *count = arg;

	if (nh->nlmsg_type == RTM_NEWTFILTER && tc->tcm_handle)
		(*count)++;
}

int clsact_block_filters(uint32_t block, unsigned int *count)
{
	struct tcmsg tc = { .tcm_family = AF_UNSPEC,
			    .tcm_ifindex = (int)TCM_IFINDEX_MAGIC_BLOCK,
			    .tcm_block_index = block };

	*count = 0;
	return dump(RTM_GETTFILTER, &tc, count_filter, count);
}

int clsact_port_filters(const int *ifindex, unsigned int n, bool ingress, unsigned int *count)
{
	struct tcmsg tc = { .tcm_family = AF_UNSPEC,
			    .tcm_parent = TC_H_MAKE(TC_H_CLSACT,
						    ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS) };
	unsigned int i;
	int fd, err = 0;

	fd = open_socket();
	if (fd < 0)
		return fd;
	for (i = 0; i < n && !err; i++) {
		count[i] = 0;
		tc.tcm_ifindex = ifindex[i];
		err = dump_on(fd, RTM_GETTFILTER, &tc, count_filter, &count[i]);
		/* A port without a clsact qdisc has no filters to list. */
		if (err == -EINVAL || err == -ENOENT)
			err = 0;
	}
	close(fd);
	return err;
}

static void note_highest(int ifindex, uint32_t ingress_block, uint32_t egress_block, void *arg)
{
	uint32_t *highest = arg;

	(void)ifindex;
	if (ingress_block > *highest)
		*highest = ingress_block;
	if (egress_block > *highest)
		*highest = egress_block;
}

int clsact_highest_block(uint32_t *highest)
{
	*highest = 0;
	return clsact_dump(note_highest, highest);
}

struct port_blocks {
	const int *pos_of_ifindex; /* [ifindex]: 1 + the port's place, 0 for other interfaces */
	int max_ifindex;
	uint32_t *ingress_block, *egress_block;
};

static void note_port(int ifindex, uint32_t ingress_block, uint32_t egress_block, void *arg)
{
	struct port_blocks *pb = arg;
	int at = ifindex > 0 && ifindex <= pb->max_ifindex ? pb->pos_of_ifindex[ifindex] - 1 : -1;

	if (at < 0)
		return;
	pb->ingress_block[at] = ingress_block;
	pb->egress_block[at] = egress_block;
}

int clsact_port_blocks(const int *ifindex, unsigned int n, uint32_t *ingress_block,
		       uint32_t *egress_block)
{
	struct port_blocks pb = { .ingress_block = ingress_block, .egress_block = egress_block };
	int *pos, err;
	unsigned int i;

	for (i = 0; i < n; i++) {
		ingress_block[i] = egress_block[i] = 0;
		if (ifindex[i] > pb.max_ifindex)
			pb.max_ifindex = ifindex[i];
	}
	pos = calloc((size_t)pb.max_ifindex + 1, sizeof(*pos));
	if (!pos)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (ifindex[i] > 0)
			pos[ifindex[i]] = (int)i + 1;
	pb.pos_of_ifindex = pos;
	err = clsact_dump(note_port, &pb);
	free(pos);
	return err;
}
