// SPDX-License-Identifier: GPL-2.0-only
/* Key-value load for make bench: concurrent clients (threads) issuing writes for a fixed time
 * against capnode (its UDP protocol, through tools/capctl/client.h) or etcd (its v3 JSON gateway over
 * HTTP/1.1 keep-alive), each client inside a node's namespace talking over loopback, and the
 * failover time: the leader is isolated with `capnet partition` and the clock runs from the
 * filter's flip to the first write acknowledged by the majority side. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "netem/lab/topology.h"
#include "tools/capctl/client.h"

#define MAX_CLIENTS 64
#define MAX_SAMPLES (1u << 21)

enum target { TARGET_CAPNODE, TARGET_ETCD };

struct opts {
	const char *lab;
	const char *capnet;
	enum target target;
	unsigned int nodes;
	unsigned int clients;
	unsigned int leader; /* 0: find it (capnode), or spread clients over every node */
	double secs;
	uint16_t port;
	bool failover;
	bool spread; /* clients spread over every node, no leader (AP mode) */
};

struct worker {
	const struct opts *o;
	unsigned int id;
	unsigned int node;
	double deadline;
	unsigned long long ok, failed;
	uint32_t *lat_us;
	unsigned int nlat;
	pthread_t thread;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- etcd: a minimal HTTP/1.1 client of the v3 gateway (POST /v3/kv/put, base64 fields) ---- */

struct http_conn {
	int fd;
	char ns[64];
	uint16_t port;
	char buf[16384];
};

static int http_connect(struct http_conn *h, long timeout_ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(h->port) };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int saved, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	saved = netns_enter(h->ns);
	if (saved < 0)
		return saved;
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	netns_return(saved);
	if (h->fd < 0)
		return -errno;
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(h->fd, (struct sockaddr *)&sin, sizeof(sin))) {
		int err = -errno;

		close(h->fd);
		h->fd = -1;
		return err;
	}
	return 0;
}

static void b64(const char *in, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint8_t)in[i] << 16 | (uint8_t)in[i + 1] << 8 | (uint8_t)in[i + 2];

		*out++ = tab[v >> 18];
		*out++ = tab[v >> 12 & 63];
		*out++ = tab[v >> 6 & 63];
		*out++ = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint8_t)in[i] << 16;

		*out++ = tab[v >> 18];
		*out++ = tab[v >> 12 & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint8_t)in[i] << 16 | (uint8_t)in[i + 1] << 8;

		*out++ = tab[v >> 18];
		*out++ = tab[v >> 12 & 63];
		*out++ = tab[v >> 6 & 63];
		*out++ = '=';
	}
	*out = 0;
}

/* One put; 0 when etcd answered 200, -errno on a transport error (the connection is closed). */
static int etcd_put(struct http_conn *h, const char *key, const char *value, long timeout_ms)
{
	char k64[256], v64[256], body[600], req[1024];
	size_t have = 0, need;
	int len, blen;
	char *end, *cl;
	ssize_t n;

	if (h->fd < 0) {
		int err = http_connect(h, timeout_ms);

		if (err)
			return err;
	}
	b64(key, k64);
	b64(value, v64);
	blen = snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
	len = snprintf(req, sizeof(req),
		       "POST /v3/kv/put HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
		       "application/json\r\nContent-Length: %d\r\n\r\n%s",
		       blen, body);
	if (send(h->fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		goto broken;
	for (;;) {
		n = recv(h->fd, h->buf + have, sizeof(h->buf) - 1 - have, 0);
		if (n <= 0)
			goto broken;
		have += (size_t)n;
		h->buf[have] = 0;
		end = strstr(h->buf, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(h->buf, "content-length:");
		need = (size_t)(end - h->buf) + 4 +
		       (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
		if (have >= need)
			break;
	}
	return strncmp(h->buf, "HTTP/1.1 200", 12) ? -EPROTO : 0;
broken:
	close(h->fd);
	h->fd = -1;
	return -EIO;
}

/* ---- capnode ---- */

static int capnode_put(struct capnet_client *c, const char *key, const char *value, long timeout_ms,
		       struct client_reply *rep)
{
	static __thread struct client_request req;

	memset(&req, 0, sizeof(req));
	req.op = CLIENT_OP_PUT;
	snprintf(req.key, sizeof(req.key), "%s", key);
	req.value.len = (uint16_t)strlen(value);
	memcpy(req.value.data, value, req.value.len);
	return client_call(c, &req, timeout_ms, rep);
}

static unsigned int capnode_leader(const struct opts *o)
{
	struct capnet_client c;
	struct status_reply st;
	unsigned int i;

	for (i = 1; i <= o->nodes; i++) {
		if (client_open(&c, o->lab, i, o->port))
			continue;
		if (!client_status(&c, 300, &st) && st.role == PROTO_ROLE_LEADER) {
			client_close(&c);
			return i;
		}
		client_close(&c);
	}
	return 0;
}

/* ---- the load ---- */

static void *worker_main(void *arg)
{
	static __thread struct client_reply rep;
	struct worker *w = arg;
	const struct opts *o = w->o;
	struct capnet_client c = { .fd = -1 };
	struct http_conn h = { .fd = -1, .port = o->port };
	char key[64], value[32];
	unsigned long long i = 0;
	int err;

	if (o->target == TARGET_CAPNODE) {
		if (client_open(&c, o->lab, w->node, o->port))
			return NULL;
	} else {
		lab_node_ns(o->lab, w->node, h.ns, sizeof(h.ns));
	}
	snprintf(value, sizeof(value), "value-%016u", w->id);
	for (;;) {
		double t0 = now_s(), t1;

		if (t0 >= w->deadline)
			break;
		snprintf(key, sizeof(key), "bench-%u-%llu", w->id, i++ % 1024);
		if (o->target == TARGET_CAPNODE) {
			err = capnode_put(&c, key, value, 1000, &rep);
			if (!err && rep.status == REPLY_NOT_LEADER && rep.leader_hint) {
				/* Follow the leader, as any client would; not counted. */
				client_close(&c);
				if (client_open(&c, o->lab, rep.leader_hint, o->port))
					return NULL;
				continue;
			}
			if (!err && rep.status != REPLY_OK)
				err = -EAGAIN;
		} else {
			err = etcd_put(&h, key, value, 1000);
		}
		t1 = now_s();
		if (err) {
			w->failed++;
			continue;
		}
		w->ok++;
		if (w->nlat < MAX_SAMPLES / MAX_CLIENTS)
			w->lat_us[w->nlat++] = (uint32_t)((t1 - t0) * 1e6);
	}
	if (o->target == TARGET_CAPNODE)
		client_close(&c);
	else if (h.fd >= 0)
		close(h.fd);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int run_load(const struct opts *o)
{
	static struct worker w[MAX_CLIENTS];
	static uint32_t all[MAX_SAMPLES];
	unsigned long long ok = 0, failed = 0;
	unsigned int i, n = 0, leader = o->leader;
	double t0, t1;

	if (o->target == TARGET_CAPNODE && !leader && !o->spread) {
		double give_up = now_s() + 10;

		while (!(leader = capnode_leader(o)) && now_s() < give_up)
			usleep(100000);
		if (!leader) {
			fprintf(stderr, "kv_bench: no leader in lab %s\n", o->lab);
			return 1;
		}
	}
	t0 = now_s();
	for (i = 0; i < o->clients; i++) {
		w[i] = (struct worker){ .o = o, .id = i + 1, .deadline = t0 + o->secs };
		/* With a leader every client talks to it; otherwise clients spread over nodes. */
		w[i].node = leader ? leader : i % o->nodes + 1;
		w[i].lat_us = all + i * (MAX_SAMPLES / MAX_CLIENTS);
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
			fprintf(stderr, "kv_bench: cannot start client thread %u\n", i + 1);
			break;
		}
	}
	for (unsigned int j = 0; j < i; j++)
		pthread_join(w[j].thread, NULL);
	t1 = now_s();
	for (unsigned int j = 0; j < i; j++) {
		ok += w[j].ok;
		failed += w[j].failed;
		memmove(all + n, w[j].lat_us, w[j].nlat * sizeof(uint32_t));
		n += w[j].nlat;
	}
	if (!n) {
		fprintf(stderr, "kv_bench: no write succeeded (%llu failed)\n", failed);
		return 1;
	}
	qsort(all, n, sizeof(all[0]), cmp_u32);
	printf("ops %llu failed %llu seconds %.3f ops_per_s %.0f p50_us %u p99_us %u leader %u\n",
	       ok, failed, t1 - t0, ok / (t1 - t0), all[n / 2], all[(size_t)n * 99 / 100], leader);
	return 0;
}

/* Isolates the leader and times the first write acknowledged by the rest. */
static int run_failover(const struct opts *o)
{
	static struct client_reply rep;
	struct capnet_client c = { .fd = -1 };
	struct http_conn h = { .fd = -1, .port = o->port };
	unsigned long long flip_ns = 0;
	unsigned int leader = o->leader, target, attempt = 0;
	char cmd[512], line[1024], *p;
	double t_ok, give_up;
	FILE *f;
	int err;

	if (o->target == TARGET_CAPNODE && !leader)
		leader = capnode_leader(o);
	if (!leader) {
		fprintf(stderr, "kv_bench: no leader to isolate in lab %s\n", o->lab);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "%s --lab %s --json partition %u", o->capnet, o->lab, leader);
	f = popen(cmd, "r");
	if (!f || !fgets(line, sizeof(line), f) || !(p = strstr(line, "\"flip_ns\":"))) {
		fprintf(stderr, "kv_bench: %s failed\n", cmd);
		if (f)
			pclose(f);
		return 1;
	}
	pclose(f);
	flip_ns = strtoull(p + 10, NULL, 10);
	target = leader % o->nodes + 1;
	give_up = now_s() + 20;
	for (;;) {
		char key[32];

		if (now_s() > give_up) {
			fprintf(stderr,
				"kv_bench: no write committed 20 s after isolating node %u\n",
				leader);
			return 1;
		}
		snprintf(key, sizeof(key), "failover-%u", attempt++);
		if (o->target == TARGET_CAPNODE) {
			if (c.fd < 0 && client_open(&c, o->lab, target, o->port))
				return 1;
			err = capnode_put(&c, key, "x", 100, &rep);
			if (!err && rep.status == REPLY_OK)
				break;
			if (!err && rep.status == REPLY_NOT_LEADER && rep.leader_hint &&
			    rep.leader_hint != leader && rep.leader_hint != target) {
				target = rep.leader_hint;
				client_close(&c);
				c.fd = -1;
			} else if (!err && rep.status != REPLY_NOT_LEADER) {
				usleep(2000);
			}
		} else {
			if (!h.ns[0])
				lab_node_ns(o->lab, target, h.ns, sizeof(h.ns));
			if (!etcd_put(&h, key, "x", 100))
				break;
		}
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t_ok = ts.tv_sec * 1e9 + ts.tv_nsec;
	}
	printf("failover_ms %.1f isolated %u\n", (t_ok - (double)flip_ns) / 1e6, leader);
	if (o->target == TARGET_CAPNODE)
		client_close(&c);
	else if (h.fd >= 0)
		close(h.fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kv_bench --lab L --nodes N [--etcd] [--clients C] [--secs S] [--port P]\n"
		"                [--leader I | --spread] [--failover --capnet PATH]\n"
		"  Writes from C clients (default 8) for S seconds (default 5), each client in a\n"
		"  node's namespace over loopback: capnode on P (default 7070), or with --etcd its\n"
		"  v3 HTTP gateway on P (default 2379). Prints ops, ops_per_s, p50_us, p99_us.\n"
		"  --failover isolates the leader (--leader, found by status for capnode) and prints\n"
		"  failover_ms: the filter's flip to the first write acknowledged by the others.\n"
		"  --spread: clients spread over every node (AP mode has no leader).\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "lab", required_argument, NULL, 'L' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "clients", required_argument, NULL, 'c' },
		{ "secs", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "leader", required_argument, NULL, 'l' },
		{ "etcd", no_argument, NULL, 'e' },
		{ "failover", no_argument, NULL, 'f' },
		{ "capnet", required_argument, NULL, 'C' },
		{ "spread", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .clients = 8, .secs = 5 };
	int c, port = 0;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'L':
			o.lab = optarg;
			break;
		case 'n':
			o.nodes = (unsigned int)atoi(optarg);
			break;
		case 'c':
			o.clients = (unsigned int)atoi(optarg);
			break;
		case 's':
			o.secs = atof(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'l':
			o.leader = (unsigned int)atoi(optarg);
			break;
		case 'e':
			o.target = TARGET_ETCD;
			break;
		case 'f':
			o.failover = true;
			break;
		case 'C':
			o.capnet = optarg;
			break;
		case 'S':
			o.spread = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	o.port = (uint16_t)(port ? port : o.target == TARGET_ETCD ? 2379 : 7070);
	if (!o.lab || !o.nodes || !o.clients || o.clients > MAX_CLIENTS || o.secs <= 0 ||
	    port < 0 || port > 65535 || (o.failover && !o.capnet) ||
	    (o.failover && o.target == TARGET_ETCD && !o.leader)) {
		usage();
		return 2;
	}
	return o.failover ? run_failover(&o) : run_load(&o);
}
