// SPDX-License-Identifier: GPL-2.0-only
/* The AP log's records. The CRC covers the kind and the padding as well as the data, so a flipped
 * kind byte is caught like a flipped data byte. */
#include <errno.h>
#include <string.h>

#include "node/ap_log.h"
#include "node/crc32c.h"

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t ap_log_encode(uint8_t *dst, const struct dyn_write *w)
{
	put_u32(dst, w->len);
	dst[4] = w->kind;
	dst[5] = dst[6] = dst[7] = 0;
	memcpy(dst + AP_LOG_HDR, w->data, w->len);
	put_u32(dst + AP_LOG_HDR + w->len, crc32c(0, dst + 4, 4 + w->len));
	return AP_LOG_HDR + w->len + 4;
}

int ap_log_parse(const uint8_t *buf, size_t len,
		 int (*fn)(void *arg, const struct dyn_write *w, size_t off), void *arg,
		 struct ap_log_scan *out)
{
	struct dyn_write w;
	size_t off = 0;
	int err;

	memset(out, 0, sizeof(*out));
	while (off + AP_LOG_HDR + 4 <= len) {
		uint32_t n = get_u32(buf + off);

		if (n > PROTO_MAX_PAYLOAD || off + AP_LOG_HDR + n + 4 > len ||
		    crc32c(0, buf + off + 4, 4 + n) != get_u32(buf + off + AP_LOG_HDR + n))
			break;
		w.kind = buf[off + 4];
		w.len = n;
		memcpy(w.data, buf + off + AP_LOG_HDR, n);
		out->good = off;
		err = fn(arg, &w, off);
		if (err)
			return err;
		off += AP_LOG_HDR + n + 4;
		out->records++;
	}
	out->good = off;
	out->tail = len - off;
	if (out->tail > AP_LOG_RECORD_MAX) {
		/* No torn write leaves more than one record's bytes after the last good one. */
		out->bad_at = off;
		return -EBADMSG;
	}
	return 0;
}
