// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: node/ap_log.c node/crc32c.c node/dynamo.c node/dynamo_store.c node/dynamo_codec.c node/dynamo_coord.c node/dynamo_bank.c node/dynamo_peer.c node/bank.c node/kv.c node/proto.c
/* libFuzzer harness for AP log replay: the parser node_ap.c replays ap.log with, and every record
 * it accepts restored into a fresh state machine, as a restarted node does. Since a fuzzer rarely
 * forges CRCs, one mode frames the input's chunks into records with valid checksums, so that
 * dyn_restore() sees arbitrary record contents. The scan must account for every byte, stop on a
 * record boundary, and re-encoding what it accepted must give back the same bytes. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/ap_log.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

struct replay {
	struct dynamo *d;
	const uint8_t *buf;
	size_t records;
};

static int restore(void *arg, const struct dyn_write *w, size_t off)
{
	static uint8_t again[AP_LOG_RECORD_MAX];
	struct replay *r = arg;
	size_t n = ap_log_encode(again, w);
	int err;

	CHECK(!memcmp(again, r->buf + off, n));
	r->records++;
	err = dyn_restore(r->d, w);
	/* A record the state machine refuses stops replay with an error, never a crash. */
	CHECK(err <= 0);
	return err;
}

static int count_only(void *arg, const struct dyn_write *w, size_t off)
{
	(void)w;
	(void)off;
	(*(size_t *)arg)++;
	return 0;
}

/* Mode 1: the input is chunks "kind, len, bytes", each framed as a valid record. */
static size_t frame(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
	static struct dyn_write w;
	size_t used = 0;

	while (size >= 2) {
		size_t n = data[1] % 200;

		w.kind = data[0] % 8;
		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		w.len = n;
		memcpy(w.data, data, n);
		data += n;
		size -= n;
		if (used + AP_LOG_RECORD_MAX > cap)
			break;
		used += ap_log_encode(out + used, &w);
	}
	/* A torn tail of what is left. */
	if (size && used + size <= cap) {
		memcpy(out + used, data, size);
		used += size;
	}
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t framed[1 << 16];
	struct dyn_config cfg = { .id = 1, .nnodes = 3, .nodes = { 1, 2, 3 }, .replicas = 3 };
	struct ap_log_scan scan, again;
	const uint8_t *buf = data;
	struct replay r = { 0 };
	size_t len = size, n = 0;
	int err;

	if (size && data[0] == 'F') {
		len = frame(data + 1, size - 1, framed, sizeof(framed));
		buf = framed;
	}
	r.d = dyn_new(&cfg);
	if (!r.d)
		return 0;
	r.buf = buf;
	err = ap_log_parse(buf, len, restore, &r, &scan);
	CHECK(err == 0 || err == -EBADMSG || err < 0);
	if (err == 0 || err == -EBADMSG) {
		CHECK(scan.good + scan.tail == len);
		CHECK(scan.records == r.records);
		CHECK(err ? scan.tail > AP_LOG_RECORD_MAX : scan.tail <= AP_LOG_RECORD_MAX);
		/* What was good is good alone: cutting the tail leaves nothing more to cut. */
		CHECK(ap_log_parse(buf, scan.good, count_only, &n, &again) == 0);
		CHECK(again.tail == 0 && again.good == scan.good && n == scan.records);
	}
	dyn_free(r.d);
	return 0;
}
