// SPDX-License-Identifier: GPL-2.0-only
/* libcurl to etcd's JSON gateway, sockets opened inside a node's namespace. libcurl is loaded
 * when the first etcd client is set up, so no other capctl command loads it and its chain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <sodium.h>

#include "lib/dynlib.h"
#include "lib/json.h"
#include "lib/report.h"
#include "netem/lab/topology.h"
#include "tools/capctl/etcd_client.h"

/* The libcurl functions the client calls, resolved by etcd_client_global_init. */
static struct {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
} curl;

int etcd_client_global_init(void)
{
	const struct dynlib_symbol symbols[] = {
		{ "curl_global_init", (void **)&curl.global_init },
		{ "curl_easy_init", (void **)&curl.easy_init },
		{ "curl_easy_setopt", (void **)&curl.easy_setopt },
		{ "curl_easy_perform", (void **)&curl.easy_perform },
		{ "curl_easy_getinfo", (void **)&curl.easy_getinfo },
		{ "curl_easy_strerror", (void **)&curl.easy_strerror },
		{ "curl_easy_cleanup", (void **)&curl.easy_cleanup },
	};
	int err;

	if (curl.easy_init)
		return 0;
	err = dynlib_load("libcurl.so.4", "libcurl4", symbols,
			  sizeof(symbols) / sizeof(symbols[0]));
	if (err)
		return err;
	if (curl.global_init(CURL_GLOBAL_DEFAULT) || sodium_init() < 0) {
		curl.easy_init = NULL;
		error_note("libcurl or libsodium failed to initialise");
		return -EIO;
	}
	return 0;
}

/* libcurl asks us for every socket it opens: made inside the node's namespace, so the
 * connection is the node's own. */
static curl_socket_t open_in_node(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct etcd_client *c = arg;
	int saved, fd;

	(void)purpose;
	saved = netns_enter(c->ns);
	if (saved < 0)
		return CURL_SOCKET_BAD;
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	netns_return(saved);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct etcd_client *c = arg;
	size_t len = size * n;

	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = (c->body_len + len + 1) * 2;
		char *p = realloc(c->body, cap);

		if (!p)
			return 0;
		c->body = p;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = 0;
	return len;
}

/* POSTs body to path. Returns the transport's verdict; the answer is in c->body. */
static enum etcd_transport post(struct etcd_client *c, const char *path, const char *body,
				long *status, const char **text)
{
	char url[160];
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	c->body_len = 0;
	if (c->body)
		c->body[0] = 0;
	curl.easy_setopt(c->curl, CURLOPT_URL, url);
	curl.easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	rc = curl.easy_perform(c->curl);
	*status = 0;
	*text = curl.easy_strerror(rc);
	if (rc == CURLE_OK) {
		curl.easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
		return ETCD_ANSWERED;
	}
	/* Refused or unreachable before a byte of the request left. */
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_URL_MALFORMAT)
		return ETCD_NOT_SENT;
	return ETCD_LOST;
}

int etcd_client_open(struct etcd_client *c, const char *lab, unsigned int node, uint16_t port,
		     long timeout_ms, bool serializable)
{
	char addr[INET_ADDRSTRLEN] = "";
	enum etcd_transport t;
	struct json_value v;
	const char *text;
	long status;
	int saved;

	memset(c, 0, sizeof(*c));
	if (!curl.easy_init) {
		snprintf(c->error, sizeof(c->error), "libcurl is not loaded");
		return -ENOENT;
	}
	c->node = node;
	c->timeout_ms = timeout_ms;
	c->serializable = serializable;
	lab_node_ns(lab, node, c->ns, sizeof(c->ns));
	saved = netns_enter(c->ns);
	if (saved < 0) {
		snprintf(c->error, sizeof(c->error), "enter node %u of lab %s (%s): %s", node, lab,
			 c->ns, strerror(-saved));
		return saved;
	}
	netns_return(saved);
	c->curl = curl.easy_init();
	if (!c->curl) {
		snprintf(c->error, sizeof(c->error), "libcurl: out of memory");
		return -ENOMEM;
	}
	curl.easy_setopt(c->curl, CURLOPT_OPENSOCKETFUNCTION, open_in_node);
	curl.easy_setopt(c->curl, CURLOPT_OPENSOCKETDATA, c);
	curl.easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl.easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl.easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl.easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl.easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
	/* Loopback first, then the member's own address (one that listens only there). */
	snprintf(c->base, sizeof(c->base), "http://127.0.0.1:%u", port);
	t = post(c, "/v3/maintenance/status", "{}", &status, &text);
	if (t == ETCD_NOT_SENT && !netns_address(c->ns, addr, sizeof(addr))) {
		snprintf(c->base, sizeof(c->base), "http://%s:%u", addr, port);
		t = post(c, "/v3/maintenance/status", "{}", &status, &text);
	}
	if (t != ETCD_ANSWERED) {
		snprintf(c->error, sizeof(c->error),
			 "no etcd answering on node %u port %u (127.0.0.1%s%s): %s", node, port,
			 addr[0] ? " and " : "", addr, text);
		etcd_client_close(c);
		return -ECONNREFUSED;
	}
	if (status != 200 || json_parse(c->body, c->body_len, 8, &v, NULL)) {
		snprintf(c->error, sizeof(c->error),
			 "node %u port %u does not answer as etcd's v3 gateway does (HTTP %ld): is "
			 "--client etcd the right client for this service?",
			 node, port, status);
		etcd_client_close(c);
		return -EPROTO;
	}
	if (!json_member(&v, "header") || !json_member(&v, "version")) {
		json_value_free(&v);
		snprintf(c->error, sizeof(c->error),
			 "node %u port %u answers HTTP but not as etcd (no header and version in "
			 "its status): is --client etcd the right client for this service?",
			 node, port);
		etcd_client_close(c);
		return -EPROTO;
	}
	json_value_free(&v);
	return 0;
}

void etcd_client_close(struct etcd_client *c)
{
	if (c->curl)
		curl.easy_cleanup(c->curl);
	c->curl = NULL;
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_cap = 0;
}

static void b64(const char *s, char *out, size_t len)
{
	sodium_bin2base64(out, len, (const unsigned char *)s, strlen(s),
			  sodium_base64_VARIANT_ORIGINAL);
}

void etcd_client_call(struct etcd_client *c, enum history_f f, const char *key, const char *value,
		      const char *expected, struct etcd_answer *a)
{
	char k[256], v[1500], e[1500], body[4096];
	const struct json_value *m, *kvs;
	struct json_value root;
	const char *text;
	size_t n = 0;

	*a = (struct etcd_answer){ .transport = ETCD_NOT_SENT, .text = "not connected" };
	c->found = false;
	c->value[0] = 0;
	if (!c->curl)
		return;
	b64(key, k, sizeof(k));
	if (f == HISTORY_READ) {
		snprintf(body, sizeof(body), "{\"key\":\"%s\"%s}", k,
			 c->serializable ? ",\"serializable\":true" : "");
		a->transport = post(c, "/v3/kv/range", body, &a->http_status, &text);
	} else if (f == HISTORY_WRITE) {
		b64(value, v, sizeof(v));
		snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}", k, v);
		a->transport = post(c, "/v3/kv/put", body, &a->http_status, &text);
	} else {
		b64(value, v, sizeof(v));
		b64(expected, e, sizeof(e));
		snprintf(body, sizeof(body),
			 "{\"compare\":[{\"key\":\"%s\",\"target\":\"VALUE\",\"result\":\"EQUAL\","
			 "\"value\":\"%s\"}],\"success\":[{\"requestPut\":{\"key\":\"%s\","
			 "\"value\":\"%s\"}}]}",
			 k, e, k, v);
		a->transport = post(c, "/v3/kv/txn", body, &a->http_status, &text);
	}
	a->text = text;
	if (a->transport != ETCD_ANSWERED)
		return;
	if (json_parse(c->body, c->body_len, 16, &root, NULL))
		return;
	m = json_member(&root, "error");
	if (!m || m->kind != JSON_STRING)
		m = json_member(&root, "message");
	if (m && m->kind == JSON_STRING) {
		snprintf(c->why, sizeof(c->why), "%s", m->str);
		a->error = c->why;
	}
	a->body_ok = json_member(&root, "header") != NULL;
	m = json_member(&root, "succeeded");
	a->succeeded = m && m->kind == JSON_BOOL && m->b;
	kvs = json_member(&root, "kvs");
	if (f == HISTORY_READ && kvs && kvs->kind == JSON_ARRAY && kvs->n == 1) {
		m = json_member(&kvs->items[0], "value");
		c->found = true;
		/* An empty value is left out of the JSON. */
		if (m && m->kind == JSON_STRING &&
		    sodium_base642bin((unsigned char *)c->value, sizeof(c->value) - 1, m->str,
				      strlen(m->str), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL)) {
			a->body_ok = false;
			n = 0;
		} else if (!m) {
			n = 0;
		}
		c->value[n] = 0;
	}
	json_value_free(&root);
}
