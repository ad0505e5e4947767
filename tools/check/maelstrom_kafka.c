// SPDX-License-Identifier: GPL-2.0-only
/* Maelstrom's kafka operations, as JSON texts, turned into the kafka checker's: an answer that
 * does not have the shape Maelstrom's protocol gives it is itself a finding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tools/check/kafka_check.h"
#include "tools/check/mael_arena.h"
#include "tools/check/maelstrom_check.h"

/* A key as the checker compares it: a string's text, anything else its JSON. */
static const char *key_text(struct mael_arena *a, const char *json)
{
	const struct json_value *v = mael_arena_parse(a, json);

	if (v && v->kind == JSON_STRING)
		return v->str;
	return json;
}

static bool is_i64(const struct json_value *v, int64_t *out)
{
	return v && json_is_i64(v, out);
}

/* {"k": offset, ...} into keys; false when it is no such object. */
static bool offsets_of(struct mael_arena *a, const struct json_value *obj, struct kafka_key **out,
		       size_t *n)
{
	struct kafka_key *k;

	if (!obj || obj->kind != JSON_OBJECT)
		return false;
	k = mael_arena_keep(a, calloc(obj->n + 1, sizeof(*k)));
	if (!k)
		return false;
	for (size_t i = 0; i < obj->n; i++) {
		k[i].key = obj->names[i];
		if (!is_i64(&obj->items[i], &k[i].offset))
			return false;
	}
	*out = k;
	*n = obj->n;
	return true;
}

/* A poll: the offsets asked, then the pairs answered for each key asked. */
static bool poll_of(struct mael_arena *a, const struct mael_op *op, struct kafka_op *k)
{
	const struct json_value *asked = mael_arena_parse(a, op->arg), *msgs;
	struct kafka_key *keys;
	size_t n;

	if (!offsets_of(a, asked, &keys, &n))
		return false;
	k->keys = keys;
	k->n_keys = n;
	if (op->outcome != MAEL_OK)
		return true;
	msgs = mael_arena_parse(a, op->result);
	if (!msgs || msgs->kind != JSON_OBJECT)
		return false;
	for (size_t i = 0; i < msgs->n; i++) {
		const struct json_value *pairs = &msgs->items[i];
		struct kafka_pair *p;
		size_t which = n;

		for (size_t q = 0; q < n; q++)
			if (!strcmp(keys[q].key, msgs->names[i]))
				which = q;
		if (which == n || pairs->kind != JSON_ARRAY)
			return false; /* a key nobody asked for, or no list */
		p = mael_arena_keep(a, calloc(pairs->n + 1, sizeof(*p)));
		if (!p)
			return false;
		for (size_t e = 0; e < pairs->n; e++) {
			const struct json_value *pair = &pairs->items[e];

			if (pair->kind != JSON_ARRAY || pair->n != 2 ||
			    !is_i64(&pair->items[0], &p[e].offset))
				return false;
			p[e].msg = mael_arena_keep(a, json_value_text(&pair->items[1]));
			if (!p[e].msg)
				return false;
		}
		keys[which].pairs = p;
		keys[which].n_pairs = pairs->n;
	}
	return true;
}

/* A list: the keys asked, each with what the answer said of it. */
static bool list_of(struct mael_arena *a, const struct mael_op *op, struct kafka_op *k)
{
	const struct json_value *asked = mael_arena_parse(a, op->arg), *answer;
	struct kafka_key *keys;

	if (!asked || asked->kind != JSON_ARRAY)
		return false;
	keys = mael_arena_keep(a, calloc(asked->n + 1, sizeof(*keys)));
	if (!keys)
		return false;
	for (size_t i = 0; i < asked->n; i++) {
		if (asked->items[i].kind != JSON_STRING)
			return false;
		keys[i] = (struct kafka_key){ .key = asked->items[i].str, .absent = true };
	}
	k->keys = keys;
	k->n_keys = asked->n;
	if (op->outcome != MAEL_OK)
		return true;
	answer = mael_arena_parse(a, op->result);
	if (!answer || answer->kind != JSON_OBJECT)
		return false;
	for (size_t i = 0; i < answer->n; i++)
		for (size_t q = 0; q < asked->n; q++)
			if (!strcmp(keys[q].key, answer->names[i])) {
				if (!is_i64(&answer->items[i], &keys[q].offset))
					return false;
				keys[q].absent = false;
			}
	return true;
}

static bool convert(struct mael_arena *a, const struct mael_op *op, struct kafka_op *k)
{
	*k = (struct kafka_op){ .process = op->process,
				.outcome = op->outcome == MAEL_OK   ? KAFKA_OK :
					   op->outcome == MAEL_FAIL ? KAFKA_FAIL :
								      KAFKA_INFO,
				.invoke_ns = op->invoke_ns,
				.complete_ns = op->outcome == MAEL_INFO ? UINT64_MAX :
									  op->complete_ns };
	if (!op->type)
		return false;
	if (!strcmp(op->type, "send")) {
		k->f = KAFKA_SEND;
		k->key = key_text(a, op->key);
		k->msg = op->arg;
		if (!k->key || !k->msg)
			return false;
		return op->outcome != MAEL_OK ||
		       is_i64(mael_arena_parse(a, op->result), &k->offset);
	}
	if (!strcmp(op->type, "poll")) {
		k->f = KAFKA_POLL;
		return poll_of(a, op, k);
	}
	if (!strcmp(op->type, "commit_offsets")) {
		struct kafka_key *keys;

		k->f = KAFKA_COMMIT;
		if (!offsets_of(a, mael_arena_parse(a, op->arg), &keys, &k->n_keys))
			return false;
		k->keys = keys;
		return true;
	}
	if (!strcmp(op->type, "list_committed_offsets")) {
		k->f = KAFKA_LIST;
		return list_of(a, op, k);
	}
	return false;
}

int mael_check_kafka(const struct mael_op *ops, size_t n, struct mael_result *r)
{
	struct kafka_op *k = calloc(n + 1, sizeof(*k));
	struct kafka_result kr;
	struct mael_arena a = { 0 };
	size_t m = 0, bad = 0;
	int rc;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (convert(&a, &ops[i], &k[m])) {
			m++;
			continue;
		}
		/* The answer is no kafka answer: said, and the operation left out. */
		if (!bad++)
			mael_evidence(
				r,
				"process %llu's %s on n%u got an answer of the wrong shape: %.200s",
				(unsigned long long)ops[i].process,
				ops[i].type ? ops[i].type : "operation", ops[i].node,
				ops[i].result ? ops[i].result : "(none)");
		r->bad_reads++;
	}
	rc = kafka_check(k, m, &kr);
	if (!rc) {
		char counts[200] = "";
		size_t used = 0;

		for (int an = 0; an < KAFKA_ANOMALIES; an++)
			if (kr.counts[an] && used < sizeof(counts))
				used += snprintf(counts + used, sizeof(counts) - used, "%s%s %zu",
						 used ? ", " : "", kafka_anomaly_name(an),
						 kr.counts[an]);
		for (size_t e = 0; e < kr.n_evidence; e++)
			mael_evidence(r, "%s", kr.evidence[e]);
		/* mael_evidence counted lines; the anomalies count as problems instead. */
		r->problems -= kr.n_evidence;
		for (int an = 0; an < KAFKA_ANOMALIES; an++)
			r->problems += kr.counts[an];
		r->valid = r->valid && kr.valid;
		r->lost = kr.counts[KAFKA_LOST_WRITE];
		snprintf(r->summary, sizeof(r->summary),
			 "%zu sends (%zu acknowledged) to %zu keys, %zu polls; %zu of the "
			 "acknowledged never polled, none read past: %s",
			 kr.sends, kr.acknowledged, kr.keys, kr.polls, kr.unobserved,
			 counts[0] ? counts : "no anomalies");
	}
	mael_arena_free(&a);
	free(k);
	return rc;
}
