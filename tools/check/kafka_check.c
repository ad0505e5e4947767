// SPDX-License-Identifier: GPL-2.0-only
/* The kafka checker: every (key, offset, message) anyone saw, sorted two ways, then each
 * process's polls and sends against the offsets known to exist. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tools/check/kafka_check.h"

static const char *const anomaly_names[KAFKA_ANOMALIES] = {
	[KAFKA_INCONSISTENT_OFFSETS] = "inconsistent-offsets",
	[KAFKA_DUPLICATE] = "duplicate",
	[KAFKA_LOST_WRITE] = "lost-write",
	[KAFKA_POLL_NONMONOTONIC] = "nonmonotonic-poll",
	[KAFKA_POLL_SKIP] = "poll-skip",
	[KAFKA_SEND_NONMONOTONIC] = "nonmonotonic-send",
	[KAFKA_COMMIT_LOST] = "lost-commit",
	[KAFKA_COMMIT_PHANTOM] = "phantom-commit",
};

const char *kafka_anomaly_name(enum kafka_anomaly a)
{
	return (unsigned int)a < KAFKA_ANOMALIES ? anomaly_names[a] : "?";
}

/* One message where someone saw it. */
struct seen {
	const char *key, *msg;
	int64_t offset;
	size_t op;
	bool polled;
};

static void found(struct kafka_result *r, enum kafka_anomaly a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void found(struct kafka_result *r, enum kafka_anomaly a, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->valid = false;
	if (r->counts[a]++ >= 2 || r->n_evidence == sizeof(r->evidence) / sizeof(r->evidence[0]))
		return; /* two of each kind are evidence enough */
	n = snprintf(r->evidence[r->n_evidence], sizeof(r->evidence[0]), "%s: ", anomaly_names[a]);
	va_start(ap, fmt);
	vsnprintf(r->evidence[r->n_evidence] + n, sizeof(r->evidence[0]) - n, fmt, ap);
	va_end(ap);
	r->n_evidence++;
}

static int by_key_offset(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->polled - y->polled;
}

static int by_key_msg(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	c = strcmp(x->msg, y->msg);
	if (c)
		return c;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The offsets known to exist, one per (key, offset), sorted. */
struct known {
	const struct seen *v;
	size_t n;
};

/* The index of the first entry of key at an offset >= offset (n if none). */
static size_t lower_bound(const struct known *k, const char *key, int64_t offset)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(k->v[mid].key, key);

		if (c < 0 || (!c && k->v[mid].offset < offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A known offset of key in [lo, hi), or -1. */
static int64_t known_between(const struct known *k, const char *key, int64_t lo, int64_t hi)
{
	size_t i = lower_bound(k, key, lo);

	if (i < k->n && !strcmp(k->v[i].key, key) && k->v[i].offset < hi)
		return k->v[i].offset;
	return -1;
}

static bool has(const struct known *k, const char *key, int64_t offset)
{
	size_t i = lower_bound(k, key, offset);

	return i < k->n && !strcmp(k->v[i].key, key) && k->v[i].offset == offset;
}

/* The highest offset of key in k, or -1. */
static int64_t highest(const struct known *k, const char *key)
{
	size_t i = lower_bound(k, key, INT64_MAX);

	if (i < k->n && !strcmp(k->v[i].key, key) && k->v[i].offset == INT64_MAX)
		return INT64_MAX;
	return i > 0 && !strcmp(k->v[i - 1].key, key) ? k->v[i - 1].offset : -1;
}

/* Keeps one entry per (key, offset) of v[0..n) that pass, in place; returns how many. */
static size_t unique_offsets(struct seen *v, size_t n, bool polled_only)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (polled_only && !v[i].polled)
			continue;
		if (m && !strcmp(v[m - 1].key, v[i].key) && v[m - 1].offset == v[i].offset)
			continue;
		v[m++] = v[i];
	}
	return m;
}

static void check_offsets(const struct kafka_op *ops, struct seen *v, size_t n,
			  struct kafka_result *r)
{
	sort_n(v, n, sizeof(*v), by_key_offset);
	/* Once per (key, offset): its first message against the first that differs. */
	for (size_t lo = 0, i; lo < n; lo = i) {
		const struct seen *a = &v[lo], *b = NULL;

		for (i = lo + 1; i < n && !strcmp(v[i].key, a->key) && v[i].offset == a->offset;
		     i++)
			if (!b && strcmp(v[i].msg, a->msg))
				b = &v[i];
		if (!b)
			continue;
		found(r, KAFKA_INCONSISTENT_OFFSETS,
		      "key %s offset %lld holds %s (%s by process %llu) and %s (%s by process "
		      "%llu)",
		      a->key, (long long)a->offset, a->msg, a->polled ? "polled" : "sent",
		      (unsigned long long)ops[a->op].process, b->msg, b->polled ? "polled" : "sent",
		      (unsigned long long)ops[b->op].process);
	}
	sort_n(v, n, sizeof(*v), by_key_msg);
	/* Once per (key, message): its lowest offset against the next one. */
	for (size_t lo = 0, i; lo < n; lo = i) {
		const struct seen *a = &v[lo], *b = NULL;

		for (i = lo + 1; i < n && !strcmp(v[i].key, a->key) && !strcmp(v[i].msg, a->msg);
		     i++)
			if (!b && v[i].offset != a->offset)
				b = &v[i];
		if (!b)
			continue;
		found(r, KAFKA_DUPLICATE, "key %s holds message %s at offsets %lld and %lld",
		      a->key, a->msg, (long long)a->offset, (long long)b->offset);
	}
	sort_n(v, n, sizeof(*v), by_key_offset);
}

static void check_polls(const struct kafka_op *ops, size_t n, const struct known *known,
			struct kafka_result *r)
{
	for (size_t i = 0; i < n; i++) {
		const struct kafka_op *op = &ops[i];

		if (op->f != KAFKA_POLL || op->outcome != KAFKA_OK)
			continue;
		r->polls++;
		for (size_t k = 0; k < op->n_keys; k++) {
			const struct kafka_key *q = &op->keys[k];
			int64_t skipped;

			if (!q->n_pairs)
				continue;
			if (!q->absent && q->pairs[0].offset < q->offset)
				found(r, KAFKA_POLL_NONMONOTONIC,
				      "process %llu polled key %s from offset %lld and got offset "
				      "%lld first",
				      (unsigned long long)op->process, q->key, (long long)q->offset,
				      (long long)q->pairs[0].offset);
			else if (!q->absent && (skipped = known_between(known, q->key, q->offset,
									q->pairs[0].offset)) >= 0)
				found(r, KAFKA_POLL_SKIP,
				      "process %llu polled key %s from offset %lld and got %lld "
				      "first, skipping offset %lld",
				      (unsigned long long)op->process, q->key, (long long)q->offset,
				      (long long)q->pairs[0].offset, (long long)skipped);
			for (size_t p = 1; p < q->n_pairs; p++) {
				int64_t a = q->pairs[p - 1].offset, b = q->pairs[p].offset;

				if (b <= a)
					found(r, KAFKA_POLL_NONMONOTONIC,
					      "process %llu polled key %s: offset %lld came after "
					      "%lld in one poll",
					      (unsigned long long)op->process, q->key, (long long)b,
					      (long long)a);
				else if ((skipped = known_between(known, q->key, a + 1, b)) >= 0)
					found(r, KAFKA_POLL_SKIP,
					      "process %llu polled key %s: offsets %lld then %lld in "
					      "one poll, skipping %lld",
					      (unsigned long long)op->process, q->key, (long long)a,
					      (long long)b, (long long)skipped);
			}
		}
	}
}

/* Sends by one process: each later offset of a key above the earlier. */
static int check_sends(const struct kafka_op *ops, size_t n, struct kafka_result *r)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx)), m = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (ops[i].f == KAFKA_SEND && ops[i].outcome == KAFKA_OK)
			idx[m++] = i;
	/* Quadratic in the sends of one process and key only: the inner loop stops at the
	 * process's previous send to that key. */
	for (size_t a = 0; a < m; a++) {
		const struct kafka_op *later = &ops[idx[a]];

		for (size_t b = a; b-- > 0;) {
			const struct kafka_op *earlier = &ops[idx[b]];

			if (earlier->process != later->process || strcmp(earlier->key, later->key))
				continue;
			if (later->offset <= earlier->offset)
				found(r, KAFKA_SEND_NONMONOTONIC,
				      "process %llu sent %s to key %s at offset %lld, then %s at "
				      "offset %lld",
				      (unsigned long long)later->process, earlier->msg, later->key,
				      (long long)earlier->offset, later->msg,
				      (long long)later->offset);
			break;
		}
	}
	free(idx);
	return 0;
}

/* A list must answer at least every commit acknowledged before it began, and no more than
 * the highest commit asked before it ended. */
static void check_commits(const struct kafka_op *ops, size_t n, struct kafka_result *r)
{
	for (size_t i = 0; i < n; i++) {
		const struct kafka_op *l = &ops[i];

		if (l->f != KAFKA_LIST || l->outcome != KAFKA_OK)
			continue;
		for (size_t k = 0; k < l->n_keys; k++) {
			const struct kafka_key *q = &l->keys[k];
			int64_t done = -1, asked = -1;
			size_t done_op = 0;

			for (size_t j = 0; j < n; j++) {
				const struct kafka_op *c = &ops[j];

				if (c->f != KAFKA_COMMIT || c->invoke_ns > l->complete_ns)
					continue;
				for (size_t ck = 0; ck < c->n_keys; ck++) {
					if (strcmp(c->keys[ck].key, q->key))
						continue;
					if (c->keys[ck].offset > asked)
						asked = c->keys[ck].offset;
					if (c->outcome == KAFKA_OK &&
					    c->complete_ns < l->invoke_ns &&
					    c->keys[ck].offset > done) {
						done = c->keys[ck].offset;
						done_op = j;
					}
				}
			}
			if (done >= 0 && (q->absent || q->offset < done))
				found(r, KAFKA_COMMIT_LOST,
				      "process %llu committed key %s at offset %lld, acknowledged; "
				      "process %llu then listed it %s%lld",
				      (unsigned long long)ops[done_op].process, q->key,
				      (long long)done, (unsigned long long)l->process,
				      q->absent ? "as absent, not " : "at ",
				      (long long)(q->absent ? done : q->offset));
			else if (!q->absent && q->offset > asked)
				found(r, KAFKA_COMMIT_PHANTOM,
				      "process %llu listed key %s committed at offset %lld, but "
				      "commits asked no more than %lld",
				      (unsigned long long)l->process, q->key, (long long)q->offset,
				      (long long)asked);
		}
	}
}

int kafka_check(const struct kafka_op *ops, size_t n, struct kafka_result *r)
{
	struct seen *v = NULL, *obs = NULL;
	size_t n_v = 0, cap = 0, n_known, n_obs;
	struct known known, observed;
	int rc = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->valid = true;
	for (size_t i = 0; i < n; i++) {
		const struct kafka_op *op = &ops[i];
		size_t need = n_v + 1;

		if (op->f == KAFKA_SEND) {
			r->sends++;
			if (op->outcome == KAFKA_OK)
				r->acknowledged++;
		}
		if (op->outcome != KAFKA_OK)
			continue;
		if (op->f == KAFKA_POLL)
			for (size_t k = 0; k < op->n_keys; k++)
				need += op->keys[k].n_pairs;
		if (need > cap) {
			size_t c = cap ? 2 * cap : 1024;
			struct seen *p;

			while (c < need)
				c *= 2;
			p = realloc(v, c * sizeof(*p));
			if (!p)
				goto out;
			v = p;
			cap = c;
		}
		if (op->f == KAFKA_SEND)
			v[n_v++] = (struct seen){ op->key, op->msg, op->offset, i, false };
		else if (op->f == KAFKA_POLL)
			for (size_t k = 0; k < op->n_keys; k++)
				for (size_t p = 0; p < op->keys[k].n_pairs; p++)
					v[n_v++] = (struct seen){ op->keys[k].key,
								  op->keys[k].pairs[p].msg,
								  op->keys[k].pairs[p].offset, i,
								  true };
	}
	check_offsets(ops, v, n_v, r);
	obs = malloc((n_v ? n_v : 1) * sizeof(*obs));
	if (!obs)
		goto out;
	if (n_v)
		memcpy(obs, v, n_v * sizeof(*obs));
	n_obs = unique_offsets(obs, n_v, true);
	n_known = unique_offsets(v, n_v, false);
	known = (struct known){ v, n_known };
	observed = (struct known){ obs, n_obs };
	for (size_t i = 0; i < n_known; i++)
		if (!i || strcmp(v[i - 1].key, v[i].key))
			r->keys++;
	r->observed = n_obs;
	for (size_t i = 0; i < n; i++) {
		const struct kafka_op *op = &ops[i];
		int64_t top;

		if (op->f != KAFKA_SEND || op->outcome != KAFKA_OK ||
		    has(&observed, op->key, op->offset))
			continue;
		top = highest(&observed, op->key);
		if (top > op->offset)
			found(r, KAFKA_LOST_WRITE,
			      "process %llu sent %s to key %s, acknowledged at offset %lld; polls "
			      "read that key up to offset %lld and never saw it",
			      (unsigned long long)op->process, op->msg, op->key,
			      (long long)op->offset, (long long)top);
		else
			r->unobserved++;
	}
	check_polls(ops, n, &known, r);
	rc = check_sends(ops, n, r);
	if (!rc)
		check_commits(ops, n, r);
out:
	free(v);
	free(obs);
	return rc;
}
