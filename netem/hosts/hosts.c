// SPDX-License-Identifier: GPL-2.0-only
/* The hosts of a lab as `--hosts` names them: SSH destinations `[user@]host[:port]` or `local`,
 * given inline or one a line in a file. Pure: the file's text is read by the caller. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netem/hosts/hosts.h"

/* Messages quote what the user wrote; a long entry is cut in the message, never refused for it. */
__attribute__((format(printf, 2, 3))) static int fail(struct spec_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Characters of a host name or address, and of a login: what ssh itself would take without
 * quoting, and nothing a shell or an option parser would read another way. */
static bool name_chars(const char *s, const char *extra)
{
	if (!*s || *s == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-", *s) || strchr(extra, *s)))
			return false;
	return true;
}

static int parse_port(const char *text, const char *dest, unsigned int *port,
		      struct spec_error *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (!*text || *end || errno || *text < '0' || *text > '9' || v < 1 || v > 65535)
		return fail(err, "host \"%s\": \"%s\" is not a port (1 to 65535)", dest, text);
	*port = v;
	return 0;
}

/* One destination, trimmed by the caller. */
static int parse_dest(const char *text, struct host_dest *h, struct spec_error *err)
{
	char buf[sizeof(h->dest)], *host, *at, *colon;

	memset(h, 0, sizeof(*h));
	if (strlen(text) >= sizeof(h->dest))
		return fail(err, "host \"%.40s...\" is too long", text);
	snprintf(h->dest, sizeof(h->dest), "%s", text);
	if (!strcmp(text, HOST_LOCAL)) {
		h->local = true;
		snprintf(h->host, sizeof(h->host), "%s", HOST_LOCAL);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	host = buf;
	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (strlen(buf) >= sizeof(h->user) || !name_chars(buf, ""))
			return fail(err, "host \"%s\": \"%s\" is not a user name", text, buf);
		snprintf(h->user, sizeof(h->user), "%s", buf);
		host = at + 1;
	}
	if (*host == '[') { /* [v6]:port */
		char *close = strchr(host, ']');

		if (!close)
			return fail(err, "host \"%s\": \"%s\" lacks its \"]\"", text, host);
		*close = '\0';
		if (close[1] && close[1] != ':')
			return fail(err, "host \"%s\": junk after \"]\": \"%s\"", text, close + 1);
		if (close[1] && parse_port(close + 2, text, &h->port, err))
			return -EINVAL;
		host++;
	} else if ((colon = strchr(host, ':')) && !strchr(colon + 1, ':')) {
		*colon = '\0';
		if (parse_port(colon + 1, text, &h->port, err))
			return -EINVAL;
	}
	/* Several colons and no brackets: a bare IPv6 address. */
	if (!name_chars(host, strchr(host, ':') ? ":" : ""))
		return fail(err, "host \"%s\": \"%s\" is not a host name or address", text, host);
	if (strlen(host) >= sizeof(h->host))
		return fail(err, "host \"%s\": the name is too long", text);
	snprintf(h->host, sizeof(h->host), "%s", host);
	return 0;
}

static bool same_machine(const struct host_dest *a, const struct host_dest *b)
{
	if (a->local || b->local)
		return a->local && b->local;
	return !strcasecmp(a->host, b->host) && a->port == b->port;
}

static int add_dest(struct host_list *out, const char *text, size_t len, struct spec_error *err)
{
	char buf[sizeof(out->host[0].dest) + 1];
	struct host_dest *h;

	while (len && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
		len--;
	if (!len)
		return fail(err, "--hosts: an empty host in the list");
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1; /* parse_dest says it is too long */
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (out->count == HOSTS_MAX) {
		snprintf(err->msg, sizeof(err->msg), "--hosts: more than %d hosts", HOSTS_MAX);
		return -E2BIG;
	}
	h = &out->host[out->count];
	if (parse_dest(buf, h, err))
		return -EINVAL;
	for (unsigned int i = 0; i < out->count; i++)
		if (same_machine(&out->host[i], h))
			return h->local ? fail(err, "--hosts: \"local\" given twice") :
					  fail(err, "--hosts: \"%s\" and \"%s\" are the same host",
					       out->host[i].dest, h->dest);
	out->count++;
	return 0;
}

int hosts_parse_list(const char *text, struct host_list *out, struct spec_error *err)
{
	struct host_list list = { 0 };

	for (const char *p = text;; p++) {
		const char *end = strchrnul(p, ',');

		if (add_dest(&list, p, end - p, err))
			return -EINVAL;
		if (!*end)
			break;
		p = end;
	}
	*out = list;
	return 0;
}

int hosts_parse_file(const char *text, struct host_list *out, struct spec_error *err)
{
	struct host_list list = { 0 };

	for (const char *p = text; *p;) {
		const char *end = strchrnul(p, '\n'), *q = p;

		while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q < end && *q != '#' && add_dest(&list, q, end - q, err))
			return -EINVAL;
		p = *end ? end + 1 : end;
	}
	if (!list.count)
		return fail(err, "--hosts: the file names no host");
	*out = list;
	return 0;
}

int hosts_find(const struct host_list *hosts, const char *name)
{
	int found = -1;

	for (unsigned int i = 0; i < hosts->count; i++)
		if (!strcmp(hosts->host[i].dest, name))
			return i;
	for (unsigned int i = 0; i < hosts->count; i++)
		if (!strcasecmp(hosts->host[i].host, name)) {
			if (found >= 0)
				return -1; /* ambiguous: two logins to one name cannot be; two ports can */
			found = i;
		}
	return found;
}

int host_ssh_target(const struct host_dest *h, char *buf, size_t len)
{
	return snprintf(buf, len, "%s%s%s", h->user, *h->user ? "@" : "", h->host);
}
