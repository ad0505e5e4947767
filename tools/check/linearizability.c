// SPDX-License-Identifier: GPL-2.0-only
/* Register linearizability: Wing-Gong/Lowe "just-in-time linearization" over a doubly linked
 * list of call and return entries, backtracking, and a hash set of the configurations already
 * seen (the set of linearized operations plus the register's value) so no configuration is
 * explored twice.
 *
 * Operations whose outcome is unknown (info, or left open) may take effect any time after their
 * invoke or never, so their return is at +infinity and the search succeeds once every operation
 * that completed ok is placed. A failed operation never took effect and a read whose outcome is
 * unknown observed nothing: both are left out.
 *
 * Three observations keep the search small without losing any linearization:
 * - A read of the register's current value changes nothing, so placing it at once is never
 *   worse than later: it is placed without a choice, and if that fails so does its configuration.
 * - An operation whose outcome is unknown only matters right before one that observes the value
 *   it leaves (a read of it, a cas expecting it); anywhere else leaving it out is as good. So
 *   such a write is only ever placed together with the operation that needs its value, and such
 *   a cas only when something that could come next observes its new value. Without this, k
 *   crashed writers make 2^k configurations on every path.
 * - A configuration is the set of placed operations, and every operation that returned before
 *   the first pending return is in it: only the few around that point need to be stored.
 *
 * Deciding that a long history is not linearizable can mean going back over every
 * configuration before the failure. When a first search runs out of room, windows ending where
 * it failed are tried from any starting value: if one cannot be linearized, neither can the
 * history. */
#include "lib/rng.h"
#include "tools/check/linearizability.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VAL_NULL 0
#define VAL_UNKNOWN (-1) /* a window cut out of the middle starts from any value */
#define TIME_INF UINT64_MAX
#define DEFAULT_MAX_MEMORY (512UL << 20)
/* Shrinking a violation may take this many times the configurations the verdict took. */
#define MINIMIZE_BUDGET_FACTOR 8
#define MINIMIZE_BUDGET_MIN 2000000
#define MINIMIZE_MAX_REQUIRED 128
#define MINIMIZE_MAX_SCAN 64

enum mode { M_REQUIRED, M_OPTIONAL, M_DROPPED };

struct reg_op {
	enum history_f f;
	int32_t a, b; /* read: value read; write: value; cas: old, new */
	uint64_t call, ret;
	size_t hop; /* index into history.ops */
};

/* ---- The search ----
 *
 * Operations that completed ok ("required") live in the linked list of call and return entries.
 * Those whose outcome is unknown ("optional") are kept out of it, in indexes by value: they have
 * no return to be passed, and a history with many of them would otherwise make every scan of
 * the list long. One may be placed once its invoke is before the first pending return. */

struct entry {
	struct entry *prev, *next, *match;
	uint32_t op; /* required op, numbered in call order */
	bool call;
	uint64_t time;
};

enum cand_kind { CAND_REQUIRED, CAND_CAS };

struct cand {
	uint32_t kind;
	uint32_t id; /* required op, or optional op */
	int32_t w; /* an optional write placed just before it, or -1 */
};

struct frame {
	struct cand c;
	uint32_t k; /* which candidate of its configuration */
	int32_t state;
	bool forced; /* placed without a choice: its failure is its configuration's */
};

/* Configurations, each a variable-length key: [b0 | c << 32][oc][required bits b0..c)
 * [optional bits 0..oc). Required ops before b0 are all placed and after c none can be; optional
 * ops after oc cannot be yet. That is the whole set of placed operations, in a few words. */
struct cache {
	uint64_t *arena; /* per config: hash, state | len << 32, key words */
	size_t used, cap; /* words */
	uint64_t *off; /* config -> arena offset */
	uint32_t *next; /* hash chain: config index + 1 */
	size_t n, ncap, max_bytes;
	uint32_t *buckets;
	size_t nb;
};

static void cache_free(struct cache *c)
{
	free(c->arena);
	free(c->off);
	free(c->next);
	free(c->buckets);
}

static int cache_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 1024;
	void *q;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return 0;
	q = realloc(*p, ncap * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

static int cache_rehash(struct cache *c)
{
	size_t nb = c->nb ? c->nb * 2 : 1024, i, b;
	uint32_t *buckets = calloc(nb, sizeof(*buckets));

	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		b = c->arena[c->off[i]] & (nb - 1);
		c->next[i] = buckets[b];
		buckets[b] = i + 1;
	}
	free(c->buckets);
	c->buckets = buckets;
	c->nb = nb;
	return 0;
}

/* Returns 1 if the configuration is new (and now stored), 0 if seen, -E2BIG at the limit. */
static int cache_insert(struct cache *c, const uint64_t *key, uint32_t len, int32_t state)
{
	uint64_t hash = rng_mix64(len ^ ((uint64_t)(uint32_t)state << 32)), *cfg;
	size_t i, b, old_ncap = c->ncap;
	uint32_t j;
	int ret;

	for (i = 0; i < len; i++)
		hash = rng_mix64(hash ^ key[i]);
	if (c->nb) {
		for (j = c->buckets[hash & (c->nb - 1)]; j; j = c->next[j - 1]) {
			cfg = &c->arena[c->off[j - 1]];
			if (cfg[0] == hash && cfg[1] == ((uint32_t)state | ((uint64_t)len << 32)) &&
			    !memcmp(cfg + 2, key, len * 8))
				return 0;
		}
	}
	/* What is stored, not what is allocated: the limit is the same whatever realloc does. */
	if (c->n + 1 >= UINT32_MAX ||
	    (c->used + 2 + len) * 8 + (c->n + 1) * 12 + c->nb * 4 > c->max_bytes)
		return -E2BIG;
	ret = cache_grow((void **)&c->arena, &c->cap, c->used + 2 + len, 8);
	if (!ret)
		ret = cache_grow((void **)&c->off, &c->ncap, c->n + 1, 8);
	if (!ret && c->ncap != old_ncap) {
		uint32_t *p = realloc(c->next, c->ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->next = p;
	}
	if (ret)
		return ret;
	if (c->n + 1 > c->nb) {
		ret = cache_rehash(c);
		if (ret)
			return ret;
	}
	cfg = &c->arena[c->used];
	cfg[0] = hash;
	cfg[1] = (uint32_t)state | ((uint64_t)len << 32);
	memcpy(cfg + 2, key, len * 8);
	c->off[c->n] = c->used;
	c->used += 2 + len;
	b = hash & (c->nb - 1);
	c->next[c->n] = c->buckets[b];
	c->buckets[b] = ++c->n;
	return 1;
}

static bool reg_step(int32_t s, const struct reg_op *op, int32_t *out)
{
	switch (op->f) {
	case HISTORY_READ:
		if (s != VAL_UNKNOWN && s != op->a)
			return false;
		*out = op->a;
		return true;
	case HISTORY_WRITE:
		*out = op->a;
		return true;
	case HISTORY_CAS:
		if (s != VAL_UNKNOWN && s != op->a)
			return false;
		*out = op->b;
		return true;
	default:
		return false;
	}
}

static void lift(struct entry *e)
{
	struct entry *m = e->match;

	e->prev->next = e->next;
	e->next->prev = e->prev;
	m->prev->next = m->next;
	if (m->next)
		m->next->prev = m->prev;
}

static void unlift(struct entry *e)
{
	struct entry *m = e->match;

	m->prev->next = m;
	if (m->next)
		m->next->prev = m;
	e->prev->next = e;
	e->next->prev = e;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	/* Equal times are concurrent: calls first, so no order is invented. */
	if (x->call != y->call)
		return x->call ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

struct search_ctx {
	size_t max_memory;
	size_t configs; /* total memoized, for the caller's budget */
	/* Of the last search: the operation whose return, latest in time, forced a backtrack. */
	size_t fail_op;
	uint64_t fail_time;
};

struct srch {
	const struct reg_op *ops;
	/* Required ops, in call order. */
	size_t nr;
	size_t *rop; /* -> index into ops */
	uint64_t *rcall;
	uint64_t *rbits;
	struct entry *entries, *head;
	/* Optional ops, in call order; writes indexed by value, cas by old value. */
	size_t no;
	size_t *oop;
	uint64_t *ocall;
	uint64_t *obits;
	uint32_t *w_off, *w_list, *c_off, *c_list;
	uint32_t *pairable, npair; /* optional cas whose old value some optional write has */
	size_t nvals;
	/* Scratch. */
	struct cand *cands;
	size_t ncands;
	uint64_t *key;
};

static bool bit(const uint64_t *b, size_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static void bit_flip(uint64_t *b, size_t i)
{
	b[i / 64] ^= 1ULL << (i % 64);
}

static size_t count_le(const uint64_t *sorted, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sorted[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first pending return: nothing invoked after it can be placed yet. */
static struct entry *first_return(const struct srch *s)
{
	struct entry *e;

	for (e = s->head->next; e && e->call; e = e->next)
		;
	return e;
}

/* The first optional write of value v that can be placed before time t. Writes of one value
 * are interchangeable, so taking the first keeps equal configurations equal. */
static int32_t find_lazy_write(const struct srch *s, int32_t v, uint64_t t)
{
	uint32_t i;

	if (v < 0 || (size_t)v >= s->nvals)
		return -1;
	for (i = s->w_off[v]; i < s->w_off[v + 1]; i++) {
		uint32_t o = s->w_list[i];

		if (s->ocall[o] > t)
			break;
		if (!bit(s->obits, o))
			return o;
	}
	return -1;
}

static void add_cand(struct srch *s, uint32_t kind, uint32_t id, int32_t w)
{
	s->cands[s->ncands++] = (struct cand){ kind, id, w };
}

/* Whether some operation that could be placed now observes value v. An unknown-outcome cas
 * is only worth placing right before one that does, like an unknown-outcome write: otherwise
 * leaving it out is as good. */
static bool observed_now(const struct srch *s, int32_t v, uint64_t t)
{
	struct entry *e;
	uint32_t i;

	for (e = s->head->next; e && e->call; e = e->next) {
		const struct reg_op *op = &s->ops[s->rop[e->op]];

		if (op->f != HISTORY_WRITE && op->a == v)
			return true;
	}
	if (v < 0 || (size_t)v >= s->nvals)
		return false;
	for (i = s->c_off[v]; i < s->c_off[v + 1]; i++) {
		uint32_t o = s->c_list[i];

		if (s->ocall[o] > t)
			break;
		if (!bit(s->obits, o))
			return true;
	}
	return false;
}

/* Everything that could be placed next from this configuration, in a fixed order. */
static void build_cands(struct srch *s, int32_t state, uint64_t t)
{
	struct entry *e;
	uint32_t i;
	int32_t next, w;

	s->ncands = 0;
	for (e = s->head->next; e && e->call; e = e->next) {
		const struct reg_op *op = &s->ops[s->rop[e->op]];

		if (reg_step(state, op, &next))
			add_cand(s, CAND_REQUIRED, e->op, -1);
		else if (op->f != HISTORY_WRITE && (w = find_lazy_write(s, op->a, t)) >= 0)
			add_cand(s, CAND_REQUIRED, e->op, w);
	}
	/* Earliest return first: what must be placed soonest is tried first, which is how a
	 * linearizable history usually goes, so the first path tends to be the right one. */
	for (i = 1; i < s->ncands; i++) {
		struct cand c = s->cands[i];
		uint64_t r = s->ops[s->rop[c.id]].ret;
		uint32_t j = i;

		while (j > 0 && s->ops[s->rop[s->cands[j - 1].id]].ret > r) {
			s->cands[j] = s->cands[j - 1];
			j--;
		}
		s->cands[j] = c;
	}
	/* From any value, an unknown-outcome cas is never needed: leaving the value unknown
	 * allows all its placement would, and keeps it for later. */
	if (state == VAL_UNKNOWN)
		return;
	if ((size_t)state < s->nvals) {
		for (i = s->c_off[state]; i < s->c_off[state + 1]; i++) {
			uint32_t o = s->c_list[i];

			if (s->ocall[o] > t)
				break;
			if (!bit(s->obits, o) && observed_now(s, s->ops[s->oop[o]].b, t))
				add_cand(s, CAND_CAS, o, -1);
		}
	}
	for (i = 0; i < s->npair; i++) {
		uint32_t o = s->pairable[i];
		const struct reg_op *op = &s->ops[s->oop[o]];

		if (s->ocall[o] > t || bit(s->obits, o) || op->a == state ||
		    !observed_now(s, op->b, t))
			continue;
		w = find_lazy_write(s, op->a, t);
		if (w >= 0)
			add_cand(s, CAND_CAS, o, w);
	}
}

static const struct reg_op *cand_op(const struct srch *s, const struct cand *c)
{
	return &s->ops[c->kind == CAND_REQUIRED ? s->rop[c->id] : s->oop[c->id]];
}

static void apply(struct srch *s, const struct cand *c)
{
	if (c->kind == CAND_REQUIRED) {
		bit_flip(s->rbits, c->id);
		lift(&s->entries[2 * c->id]);
	} else {
		bit_flip(s->obits, c->id);
	}
	if (c->w >= 0)
		bit_flip(s->obits, c->w);
}

static void undo(struct srch *s, const struct cand *c)
{
	if (c->w >= 0)
		bit_flip(s->obits, c->w);
	if (c->kind == CAND_REQUIRED) {
		unlift(&s->entries[2 * c->id]);
		bit_flip(s->rbits, c->id);
	} else {
		bit_flip(s->obits, c->id);
	}
}

/* The key of the current configuration (see struct cache). */
static uint32_t make_key(struct srch *s)
{
	struct entry *r = first_return(s);
	uint64_t t = r ? r->time : TIME_INF;
	size_t b0 = s->head->next ? s->head->next->op : s->nr;
	size_t c = count_le(s->rcall, s->nr, t), oc = count_le(s->ocall, s->no, t), i, k = 2;
	size_t nrw = (c - b0 + 63) / 64;

	s->key[0] = b0 | (uint64_t)c << 32;
	s->key[1] = oc;
	for (i = 0; i < nrw; i++) {
		size_t from = b0 + 64 * i, w = from / 64, sh = from % 64;
		uint64_t v = s->rbits[w] >> sh;

		if (sh && w + 1 < (s->nr + 63) / 64 + 1)
			v |= s->rbits[w + 1] << (64 - sh);
		if (c - from < 64)
			v &= (1ULL << (c - from)) - 1;
		s->key[k++] = v;
	}
	for (i = 0; i < (oc + 63) / 64; i++)
		s->key[k++] = s->obits[i];
	return k;
}

static int csr_index(size_t nvals, const struct srch *s, bool cas, uint32_t **off_out,
		     uint32_t **list_out)
{
	uint32_t *off = calloc(nvals + 2, sizeof(*off)), *list = calloc(s->no + 1, sizeof(*list));
	size_t o, v;

	if (!off || !list) {
		free(off);
		free(list);
		return -ENOMEM;
	}
	for (o = 0; o < s->no; o++) {
		const struct reg_op *op = &s->ops[s->oop[o]];

		if ((op->f == HISTORY_CAS) == cas && op->a >= 0)
			off[op->a + 1]++;
	}
	for (v = 0; v < nvals; v++)
		off[v + 1] += off[v];
	for (o = 0; o < s->no; o++) {
		const struct reg_op *op = &s->ops[s->oop[o]];

		if ((op->f == HISTORY_CAS) == cas && op->a >= 0)
			list[off[op->a]++] = o;
	}
	/* Shift back: off[v] was advanced to the end of its bucket. */
	for (v = nvals; v > 0; v--)
		off[v] = off[v - 1];
	off[0] = 0;
	*off_out = off;
	*list_out = list;
	return 0;
}

static int call_order_cmp(const void *a, const void *b, void *arg)
{
	const struct reg_op *ops = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (ops[x].call != ops[y].call)
		return ops[x].call < ops[y].call ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void srch_free(struct srch *s)
{
	free(s->rop);
	free(s->rcall);
	free(s->rbits);
	free(s->entries);
	free(s->oop);
	free(s->ocall);
	free(s->obits);
	free(s->w_off);
	free(s->w_list);
	free(s->c_off);
	free(s->c_list);
	free(s->pairable);
	free(s->cands);
	free(s->key);
}

static int srch_init(struct srch *s, const struct reg_op *ops, size_t n, const enum mode *modes)
{
	struct entry **sorted = NULL;
	size_t i, o;
	int ret = -ENOMEM;

	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->rop = malloc((n + 1) * sizeof(*s->rop));
	s->oop = malloc((n + 1) * sizeof(*s->oop));
	if (!s->rop || !s->oop)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (modes[i] == M_REQUIRED)
			s->rop[s->nr++] = i;
		else if (modes[i] == M_OPTIONAL)
			s->oop[s->no++] = i;
		if (modes[i] != M_DROPPED) {
			if (ops[i].a >= 0 && (size_t)ops[i].a >= s->nvals)
				s->nvals = ops[i].a + 1;
			if (ops[i].b >= 0 && (size_t)ops[i].b >= s->nvals)
				s->nvals = ops[i].b + 1;
		}
	}
	qsort_r(s->rop, s->nr, sizeof(*s->rop), call_order_cmp, (void *)ops);
	qsort_r(s->oop, s->no, sizeof(*s->oop), call_order_cmp, (void *)ops);
	s->rcall = malloc((s->nr + 1) * sizeof(*s->rcall));
	s->ocall = malloc((s->no + 1) * sizeof(*s->ocall));
	s->rbits = calloc(s->nr / 64 + 2, sizeof(*s->rbits));
	s->obits = calloc(s->no / 64 + 2, sizeof(*s->obits));
	s->entries = calloc(2 * s->nr + 1, sizeof(*s->entries));
	sorted = malloc((2 * s->nr + 1) * sizeof(*sorted));
	s->cands = malloc((s->nr + 2 * s->no + 1) * sizeof(*s->cands));
	s->key = malloc((s->nr / 64 + s->no / 64 + 8) * sizeof(*s->key));
	s->pairable = malloc((s->no + 1) * sizeof(*s->pairable));
	if (!s->rcall || !s->ocall || !s->rbits || !s->obits || !s->entries || !sorted ||
	    !s->cands || !s->key || !s->pairable)
		goto out;
	for (i = 0; i < s->nr; i++) {
		const struct reg_op *op = &ops[s->rop[i]];
		struct entry *call = &s->entries[2 * i], *rt = &s->entries[2 * i + 1];

		s->rcall[i] = op->call;
		*call = (struct entry){ .op = i, .call = true, .time = op->call, .match = rt };
		*rt = (struct entry){ .op = i, .time = op->ret, .match = call };
		sorted[2 * i] = call;
		sorted[2 * i + 1] = rt;
	}
	qsort(sorted, 2 * s->nr, sizeof(*sorted), entry_cmp);
	s->head = &s->entries[2 * s->nr];
	s->head->next = s->nr ? sorted[0] : NULL;
	for (i = 0; i < 2 * s->nr; i++) {
		sorted[i]->prev = i ? sorted[i - 1] : s->head;
		sorted[i]->next = i + 1 < 2 * s->nr ? sorted[i + 1] : NULL;
	}
	for (o = 0; o < s->no; o++)
		s->ocall[o] = ops[s->oop[o]].call;
	ret = csr_index(s->nvals, s, false, &s->w_off, &s->w_list);
	if (!ret)
		ret = csr_index(s->nvals, s, true, &s->c_off, &s->c_list);
	if (ret)
		goto out;
	for (o = 0; o < s->no; o++) {
		const struct reg_op *op = &ops[s->oop[o]];

		if (op->f != HISTORY_CAS)
			continue;
		if (op->a >= 0 && s->w_off[op->a + 1] > s->w_off[op->a])
			s->pairable[s->npair++] = o;
	}
	ret = 0;
out:
	free(sorted);
	return ret;
}

/* One search over ops with the given modes. Returns 0 with *verdict set, or -ENOMEM. */
static int search(const struct reg_op *ops, size_t n, const enum mode *modes, int32_t init,
		  struct search_ctx *ctx, enum lin_verdict *verdict)
{
	struct cache c = { .max_bytes = ctx->max_memory };
	struct frame *frames = NULL;
	struct srch s;
	size_t sp = 0, remaining, k = 0;
	int32_t state = init, next;
	struct entry *r;
	bool fresh = true;
	int ret;

	ctx->fail_time = TIME_INF;
	ret = srch_init(&s, ops, n, modes);
	if (ret)
		goto out;
	ret = -ENOMEM;
	frames = malloc((s.nr + s.no + 1) * sizeof(*frames));
	if (!frames)
		goto out;
	remaining = s.nr;
	for (;;) {
		struct cand cd;
		bool forced = false;
		int ins;

		if (fresh) {
			fresh = false;
			if (!remaining) {
				*verdict = LIN_VALID;
				break;
			}
			r = first_return(&s);
			/* A read of the current value placed now loses nothing: it leaves the
			 * state as it is, and any way to go on without it can place it later
			 * only where the state is the same. So it is placed without a choice,
			 * and if that fails, this whole configuration does. */
			if (state != VAL_UNKNOWN) {
				struct entry *e;

				for (e = s.head->next; e && e->call; e = e->next)
					if (ops[s.rop[e->op]].f == HISTORY_READ &&
					    ops[s.rop[e->op]].a == state)
						break;
				if (e && e->call) {
					cd = (struct cand){ CAND_REQUIRED, e->op, -1 };
					forced = true;
					next = state;
					goto place;
				}
			}
			build_cands(&s, state, r->time);
			k = 0;
		}
		if (k >= s.ncands)
			goto backtrack;
		cd = s.cands[k];
		if (cd.w >= 0)
			reg_step(ops[s.oop[cd.w]].a, cand_op(&s, &cd), &next);
		else
			reg_step(state, cand_op(&s, &cd), &next);
place:
		apply(&s, &cd);
		ins = cache_insert(&c, s.key, make_key(&s), next);
		if (ins == 1) {
			frames[sp++] = (struct frame){ cd, k, state, forced };
			state = next;
			remaining -= cd.kind == CAND_REQUIRED;
			fresh = true;
			continue;
		}
		undo(&s, &cd);
		if (ins == -E2BIG) {
			*verdict = LIN_UNDECIDED;
			break;
		}
		if (ins < 0)
			goto out;
		if (!forced) {
			k++;
			continue;
		}
		/* Seen before, so it failed: and so does this configuration. */
backtrack:
		r = first_return(&s);
		if (r && (ctx->fail_time == TIME_INF || r->time > ctx->fail_time)) {
			ctx->fail_time = r->time;
			ctx->fail_op = s.rop[r->op];
		}
		for (;;) {
			struct frame f;

			if (!sp) {
				*verdict = LIN_VIOLATION;
				goto done;
			}
			f = frames[--sp];
			undo(&s, &f.c);
			state = f.state;
			remaining += f.c.kind == CAND_REQUIRED;
			if (f.forced)
				continue;
			r = first_return(&s);
			build_cands(&s, state, r->time);
			k = f.k + 1;
			break;
		}
	}
done:
	ret = 0;
out:
	ctx->configs += c.n;
	cache_free(&c);
	free(frames);
	srch_free(&s);
	return ret;
}

/* ---- Shrinking a violation to a small window ----
 *
 * Every step below only relaxes the problem: an operation that completed ok becomes one whose
 * outcome is unknown, a read is left out, operations invoked after a cut are left out (those
 * pending at the cut become unknown), or operations that returned before the window's start are
 * left out and the register starts from any value. A relaxed history has every linearization
 * the original had, so if it still cannot be linearized neither can the original: the window
 * printed is a proof, not a guess. */

struct key_problem {
	struct reg_op *ops;
	size_t n;
	enum mode *base;
};

static enum mode relaxed(const struct reg_op *op)
{
	return op->f == HISTORY_READ ? M_DROPPED : M_OPTIONAL;
}

static int ret_order_cmp(const void *a, const void *b, void *arg)
{
	const struct reg_op *ops = arg;
	const struct reg_op *x = &ops[*(const size_t *)a], *y = &ops[*(const size_t *)b];

	if (x->ret != y->ret)
		return x->ret < y->ret ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The first k operations that completed ok, in return order, are kept; the rest invoked by the
 * k-th one's return are unknown; later ones are left out. */
static void prefix_modes(const struct key_problem *p, const size_t *order, const size_t *rank,
			 size_t k, enum mode *out)
{
	uint64_t t = p->ops[order[k - 1]].ret;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->base[i] == M_DROPPED || p->ops[i].call > t)
			out[i] = M_DROPPED;
		else if (p->base[i] == M_REQUIRED && rank[i] < k)
			out[i] = M_REQUIRED;
		else
			out[i] = relaxed(&p->ops[i]);
	}
}

/* Leaves out what returned before s; what spans s becomes unknown. */
static void window_modes(const struct key_problem *p, const enum mode *pm, uint64_t s,
			 enum mode *out)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		uint64_t ret = pm[i] == M_REQUIRED ? p->ops[i].ret : TIME_INF;

		if (pm[i] == M_DROPPED || p->ops[i].call >= s)
			out[i] = pm[i];
		else if (ret < s)
			out[i] = M_DROPPED;
		else
			out[i] = relaxed(&p->ops[i]);
	}
}

/* An operation that may or may not have happened only matters right before one that observes
 * the value it leaves (see the top of this file), so one whose value nothing left in the window
 * observes changes no verdict and is taken out. Repeated, as a cas taken out observes no more. */
static void prune_unobserved(const struct key_problem *p, enum mode *wm)
{
	bool changed = true;
	size_t i, j;

	while (changed) {
		changed = false;
		for (i = 0; i < p->n; i++) {
			int32_t v;

			if (wm[i] != M_OPTIONAL)
				continue;
			v = p->ops[i].f == HISTORY_CAS ? p->ops[i].b : p->ops[i].a;
			for (j = 0; j < p->n; j++)
				if (j != i && wm[j] != M_DROPPED && p->ops[j].f != HISTORY_WRITE &&
				    p->ops[j].a == v)
					break;
			if (j == p->n) {
				wm[i] = M_DROPPED;
				changed = true;
			}
		}
	}
}

struct budget {
	struct search_ctx *ctx;
	size_t limit;
	bool exhausted;
};

/* True only for a proven violation: running out of budget proves nothing. */
static int violates(const struct key_problem *p, const enum mode *modes, int32_t init,
		    struct budget *b, bool *out)
{
	enum lin_verdict v;
	int ret;

	*out = false;
	if (b->ctx->configs >= b->limit) {
		b->exhausted = true;
		return 0;
	}
	ret = search(p->ops, p->n, modes, init, b->ctx, &v);
	if (ret)
		return ret;
	if (v == LIN_UNDECIDED)
		b->exhausted = true;
	*out = v == LIN_VIOLATION;
	return 0;
}

static int shrink(const struct key_problem *p, int32_t init, struct search_ctx *ctx,
		  struct lin_result *res)
{
	size_t n = p->n, i, j, nreq = 0, lo, hi, k, ns = 0, nwin = 0, failed, best, above, step;
	size_t *order = NULL, *rank = NULL;
	enum mode *pm = NULL, *wm = NULL, *tmp = NULL;
	uint64_t *starts = NULL;
	struct budget b = { .ctx = ctx };
	bool v;
	int ret = -ENOMEM;

	b.limit = ctx->configs * MINIMIZE_BUDGET_FACTOR + MINIMIZE_BUDGET_MIN;
	order = malloc((n + 1) * sizeof(*order));
	rank = calloc(n + 1, sizeof(*rank));
	pm = malloc((n + 1) * sizeof(*pm));
	wm = malloc((n + 1) * sizeof(*wm));
	tmp = malloc((n + 1) * sizeof(*tmp));
	starts = malloc((n + 1) * sizeof(*starts));
	if (!order || !rank || !pm || !wm || !tmp || !starts)
		goto out;
	for (i = 0; i < n; i++) {
		rank[i] = SIZE_MAX;
		if (p->base[i] == M_REQUIRED)
			order[nreq++] = i;
	}
	qsort_r(order, nreq, sizeof(*order), ret_order_cmp, p->ops);
	for (i = 0; i < nreq; i++)
		rank[order[i]] = i;
	if (!nreq) {
		/* Nothing completed ok: nothing can be violated. Not reached. */
		ret = -EINVAL;
		goto out;
	}

	/* Smallest prefix that cannot be linearized; the whole history is one. */
	lo = 1;
	hi = nreq;
	while (lo < hi) {
		k = lo + (hi - lo) / 2;
		prefix_modes(p, order, rank, k, pm);
		ret = violates(p, pm, init, &b, &v);
		if (ret)
			goto out;
		if (v)
			hi = k;
		else
			lo = k + 1;
	}
	k = hi;
	failed = order[k - 1];
	prefix_modes(p, order, rank, k, pm);
	memcpy(wm, pm, n * sizeof(*wm));

	/* Latest start from which the window, from any value, still cannot be linearized. */
	for (i = 0; i < n; i++)
		if (pm[i] != M_DROPPED)
			starts[ns++] = p->ops[i].call;
	qsort(starts, ns, sizeof(*starts), u64_cmp);
	for (i = j = 0; i < ns; i++)
		if (!j || starts[j - 1] != starts[i])
			starts[j++] = starts[i];
	ns = j;
	/* Windows are not monotone in their start (an op that returned before one start is
	 * left out, but only relaxed for an earlier start, where it spans it), so starts are
	 * tried from the latest back, in growing steps, then one by one over the last gap. */
	best = SIZE_MAX;
	above = ns;
	for (step = 1, j = ns - 1;; step *= 2) {
		window_modes(p, pm, starts[j], tmp);
		ret = violates(p, tmp, VAL_UNKNOWN, &b, &v);
		if (ret)
			goto out;
		if (v) {
			best = j;
			break;
		}
		above = j;
		if (!j)
			break;
		j = j > step ? j - step : 0;
	}
	if (best != SIZE_MAX) {
		for (j = above - 1, k = 0; j > best && k < MINIMIZE_MAX_SCAN; j--, k++) {
			window_modes(p, pm, starts[j], tmp);
			ret = violates(p, tmp, VAL_UNKNOWN, &b, &v);
			if (ret)
				goto out;
			if (v) {
				best = j;
				break;
			}
		}
		if (j > best)
			b.exhausted = true;
		window_modes(p, pm, starts[best], wm);
		init = VAL_UNKNOWN;
	}

	/* Then whatever single operation can be relaxed without losing the violation. */
	for (i = 0, nreq = 0; i < n; i++)
		nreq += wm[i] == M_REQUIRED;
	if (nreq <= MINIMIZE_MAX_REQUIRED) {
		for (i = 0; i < n && !b.exhausted; i++) {
			if (wm[i] != M_REQUIRED || i == failed)
				continue;
			wm[i] = relaxed(&p->ops[i]);
			ret = violates(p, wm, init, &b, &v);
			if (ret)
				goto out;
			if (!v)
				wm[i] = M_REQUIRED;
		}
	} else {
		b.exhausted = true;
	}

	prune_unobserved(p, wm);
	for (i = 0; i < n; i++)
		nwin += wm[i] != M_DROPPED;
	res->window = calloc(nwin + 1, sizeof(*res->window));
	if (!res->window)
		goto out;
	for (i = 0; i < n; i++) {
		if (wm[i] == M_DROPPED)
			continue;
		res->window[res->n_window++] = (struct lin_window_op){
			.op = p->ops[i].hop,
			.role = i == failed	    ? LIN_ROLE_FAILED :
				wm[i] == M_REQUIRED ? LIN_ROLE_REQUIRED :
						      LIN_ROLE_OPTIONAL,
		};
	}
	res->failed_op = p->ops[failed].hop;
	res->initial_known = init == VAL_NULL;
	res->minimal = !b.exhausted;
	ret = 0;
out:
	free(starts);
	free(tmp);
	free(wm);
	free(pm);
	free(rank);
	free(order);
	return ret;
}

/* A search that runs out of memory has usually gone round and round the configurations before
 * one operation it could not place, proving that takes it back to the start. A window ending at
 * that operation's return, from any value, proves the same with far less: windows of 8, 16, 32...
 * operations are tried. Returns 0 with *found set and wm holding the window's modes. */
static int hunt(const struct key_problem *p, size_t r, struct search_ctx *ctx, enum mode *wm,
		bool *found)
{
	uint64_t t = p->ops[r].ret, *starts = NULL;
	enum mode *pm = NULL;
	enum lin_verdict v;
	size_t i, j, ns = 0, cnt;
	int ret = -ENOMEM;

	*found = false;
	pm = malloc((p->n + 1) * sizeof(*pm));
	starts = malloc((p->n + 1) * sizeof(*starts));
	if (!pm || !starts)
		goto out;
	for (i = 0; i < p->n; i++) {
		if (p->base[i] == M_DROPPED || p->ops[i].call > t)
			pm[i] = M_DROPPED;
		else if (p->base[i] == M_REQUIRED && p->ops[i].ret <= t)
			pm[i] = M_REQUIRED;
		else
			pm[i] = relaxed(&p->ops[i]);
		if (pm[i] != M_DROPPED)
			starts[ns++] = p->ops[i].call;
	}
	qsort(starts, ns, sizeof(*starts), u64_cmp);
	for (i = j = 0; i < ns; i++)
		if (!j || starts[j - 1] != starts[i])
			starts[j++] = starts[i];
	ns = j;
	ret = 0;
	for (cnt = 8; ns; cnt *= 2) {
		size_t k = cnt < ns ? ns - cnt : 0;

		window_modes(p, pm, starts[k], wm);
		ret = search(p->ops, p->n, wm, VAL_UNKNOWN, ctx, &v);
		if (ret || v == LIN_VIOLATION) {
			*found = !ret;
			break;
		}
		if (!k)
			break;
	}
out:
	free(starts);
	free(pm);
	return ret;
}

/* Decides one key: a first search on a small budget, which settles almost every history; if
 * that is not enough, a hunt for a window that cannot be linearized; then the full budget. */
static int check_key(struct key_problem *p, size_t max_memory, struct search_ctx *ctx,
		     struct lin_result *res, enum lin_verdict *v)
{
	enum mode *wm = NULL, *base = p->base;
	size_t small = max_memory / 8;
	bool found = false;
	int ret;

	ctx->max_memory = small;
	ret = search(p->ops, p->n, p->base, VAL_NULL, ctx, v);
	if (ret || *v != LIN_UNDECIDED)
		goto decided;
	if (ctx->fail_time != TIME_INF) {
		wm = malloc((p->n + 1) * sizeof(*wm));
		if (!wm)
			return -ENOMEM;
		ret = hunt(p, ctx->fail_op, ctx, wm, &found);
		if (ret)
			goto out;
		if (found) {
			*v = LIN_VIOLATION;
			ctx->max_memory = max_memory;
			/* The window is the problem now; shrinking starts from it. */
			p->base = wm;
			ret = shrink(p, VAL_UNKNOWN, ctx, res);
			p->base = base;
			goto out;
		}
	}
	ctx->max_memory = max_memory;
	ret = search(p->ops, p->n, p->base, VAL_NULL, ctx, v);
decided:
	ctx->max_memory = max_memory;
	if (!ret && *v == LIN_VIOLATION)
		ret = shrink(p, VAL_NULL, ctx, res);
out:
	free(wm);
	return ret;
}

/* ---- Building the per-key problems from a history ---- */

static int set_err(struct history_error *err, long line, const char *msg)
{
	if (err) {
		err->line = line;
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
	}
	return -EINVAL;
}

int lin_validate_op(const struct history_op *op, struct history_error *err)
{
	const struct history_value *a = op->arg, *r = op->result;

	if (!op->key)
		return set_err(err, op->line, "register operations need a string \"key\"");
	switch (op->f) {
	case HISTORY_READ:
		if (op->outcome == HISTORY_OK && r->kind != HISTORY_VALUE_STRING &&
		    r->kind != HISTORY_VALUE_NULL)
			return set_err(err, op->ret_line,
				       "expected a read's value to be a string or null");
		return 0;
	case HISTORY_WRITE:
		if (a->kind != HISTORY_VALUE_STRING)
			return set_err(err, op->line, "expected a write's value to be a string");
		return 0;
	case HISTORY_CAS:
		if (a->kind != HISTORY_VALUE_LIST || a->n != 2 || !a->items[1])
			return set_err(err, op->line,
				       "expected a cas's value to be [old, new], new a string");
		return 0;
	default:
		break;
	}
	if (err) {
		err->line = op->line;
		snprintf(err->msg, sizeof(err->msg),
			 "\"%s\" is not a register operation (read, write or cas)",
			 history_f_name(op->f));
	}
	return -EINVAL;
}

static int key_order_cmp(const void *a, const void *b, void *arg)
{
	const struct history_op *ops = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(ops[x].key, ops[y].key);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Values as small integers: 0 is null, i + 1 is the i-th distinct string. */
struct interner {
	const char **s;
	size_t n;
};

static int32_t intern(const struct interner *in, const char *s)
{
	const char **p;

	if (!s)
		return VAL_NULL;
	p = bsearch(&s, in->s, in->n, sizeof(*in->s), str_cmp);
	return p ? (int32_t)(p - in->s) + 1 : VAL_NULL;
}

static int build_key(const struct history *h, const size_t *sel, size_t n, struct key_problem *p)
{
	struct interner in = { 0 };
	size_t i, j;

	in.s = malloc((2 * n + 1) * sizeof(*in.s));
	p->ops = calloc(n + 1, sizeof(*p->ops));
	p->base = calloc(n + 1, sizeof(*p->base));
	if (!in.s || !p->ops || !p->base) {
		free(in.s);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct history_op *op = &h->ops[sel[i]];

		if (op->f == HISTORY_READ && op->result->kind == HISTORY_VALUE_STRING)
			in.s[in.n++] = op->result->str;
		else if (op->f == HISTORY_WRITE)
			in.s[in.n++] = op->arg->str;
		else if (op->f == HISTORY_CAS) {
			if (op->arg->items[0])
				in.s[in.n++] = op->arg->items[0];
			in.s[in.n++] = op->arg->items[1];
		}
	}
	qsort(in.s, in.n, sizeof(*in.s), str_cmp);
	for (i = j = 0; i < in.n; i++)
		if (!j || strcmp(in.s[j - 1], in.s[i]))
			in.s[j++] = in.s[i];
	in.n = j;
	for (i = 0; i < n; i++) {
		const struct history_op *op = &h->ops[sel[i]];
		struct reg_op *r = &p->ops[i];

		r->f = op->f;
		r->call = op->call;
		r->ret = op->ret;
		r->hop = sel[i];
		if (op->f == HISTORY_READ) {
			r->a = intern(&in, op->result->kind == HISTORY_VALUE_STRING ?
						   op->result->str :
						   NULL);
		} else if (op->f == HISTORY_WRITE) {
			r->a = intern(&in, op->arg->str);
		} else {
			r->a = intern(&in, op->arg->items[0]);
			r->b = intern(&in, op->arg->items[1]);
		}
		if (op->outcome == HISTORY_OK)
			p->base[i] = M_REQUIRED;
		else if (op->outcome == HISTORY_FAIL || op->f == HISTORY_READ)
			p->base[i] = M_DROPPED;
		else
			p->base[i] = M_OPTIONAL;
	}
	p->n = n;
	free(in.s);
	return 0;
}

static void key_problem_free(struct key_problem *p)
{
	free(p->ops);
	free(p->base);
	memset(p, 0, sizeof(*p));
}

void lin_result_free(struct lin_result *res)
{
	if (!res)
		return;
	free(res->window);
	res->window = NULL;
	res->n_window = 0;
}

int lin_check_register(const struct history *h, const struct lin_options *opt,
		       struct lin_result *res, struct history_error *err)
{
	size_t max_memory = opt && opt->max_memory ? opt->max_memory : DEFAULT_MAX_MEMORY;
	struct search_ctx ctx = { 0 };
	struct key_problem p = { 0 };
	const char *undecided = NULL;
	size_t *sel, i, start, end;
	enum lin_verdict v;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < h->n_ops; i++) {
		ret = lin_validate_op(&h->ops[i], err);
		if (ret)
			return ret;
	}
	sel = malloc((h->n_ops + 1) * sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (i = 0; i < h->n_ops; i++)
		sel[i] = i;
	qsort_r(sel, h->n_ops, sizeof(*sel), key_order_cmp, h->ops);
	res->ops = h->n_ops;
	for (start = 0; start < h->n_ops; start = end) {
		for (end = start + 1; end < h->n_ops; end++)
			if (strcmp(h->ops[sel[end]].key, h->ops[sel[start]].key))
				break;
		res->keys++;
		if (res->verdict == LIN_VIOLATION)
			continue; /* only counting keys now */
		ret = build_key(h, sel + start, end - start, &p);
		if (!ret)
			ret = check_key(&p, max_memory, &ctx, res, &v);
		if (!ret && v == LIN_VIOLATION) {
			res->verdict = LIN_VIOLATION;
			res->key = h->ops[sel[start]].key;
		} else if (!ret && v == LIN_UNDECIDED && !undecided) {
			undecided = h->ops[sel[start]].key;
		}
		key_problem_free(&p);
		if (ret)
			break;
	}
	free(sel);
	res->configs = ctx.configs;
	if (ret) {
		lin_result_free(res);
		return ret;
	}
	if (res->verdict != LIN_VIOLATION && undecided) {
		res->verdict = LIN_UNDECIDED;
		res->key = undecided;
	}
	return 0;
}
