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
 * A write with an unknown outcome is only worth placing right before an operation that observes
 * its value (a read of it, or a cas expecting it); anywhere else it is overwritten unseen or
 * changes nothing that is looked at, so leaving it out is as good. The search therefore never
 * places such a write on its own, only together with the operation that needs it. Without this,
 * k crashed writers make 2^k configurations on every path. */
#include "tools/linearizability.h"

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
	enum mode base;
};

struct entry {
	struct entry *prev, *next, *match;
	uint32_t op; /* index into the search's active operations */
	bool call;
	uint64_t time;
};

struct frame {
	struct entry *e, *w; /* the operation placed, and the unknown-outcome write it needed */
	int32_t state;
	bool forced; /* placed without a choice: its failure is its configuration's */
};

/* Configurations in one array, stride words each: hash, state | next << 32, bitset. */
struct cache {
	uint64_t *cfg;
	size_t stride, words, n, cap, max;
	uint32_t *buckets;
	size_t nb;
};

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int cache_init(struct cache *c, size_t words, size_t max_memory)
{
	memset(c, 0, sizeof(*c));
	c->words = words;
	c->stride = 2 + words;
	/* A configuration costs its words plus about one bucket. */
	c->max = max_memory / (c->stride * 8 + 4);
	if (c->max > UINT32_MAX - 1)
		c->max = UINT32_MAX - 1;
	c->nb = 1024;
	c->buckets = calloc(c->nb, sizeof(*c->buckets));
	return c->buckets ? 0 : -ENOMEM;
}

static void cache_free(struct cache *c)
{
	free(c->cfg);
	free(c->buckets);
}

static uint32_t cfg_next(const uint64_t *cfg)
{
	return cfg[1] >> 32;
}

static int cache_rehash(struct cache *c)
{
	size_t nb = c->nb * 2, i, b;
	uint32_t *buckets = calloc(nb, sizeof(*buckets));

	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		uint64_t *cfg = &c->cfg[i * c->stride];

		b = cfg[0] & (nb - 1);
		cfg[1] = (uint32_t)cfg[1] | ((uint64_t)buckets[b] << 32);
		buckets[b] = i + 1;
	}
	free(c->buckets);
	c->buckets = buckets;
	c->nb = nb;
	return 0;
}

/* Returns 1 if the configuration is new (and now stored), 0 if seen, -E2BIG at the limit. */
static int cache_insert(struct cache *c, uint64_t hash, int32_t state, const uint64_t *bits)
{
	size_t b = hash & (c->nb - 1);
	uint64_t *cfg;
	uint32_t i;
	int ret;

	for (i = c->buckets[b]; i; i = cfg_next(cfg)) {
		cfg = &c->cfg[(size_t)(i - 1) * c->stride];
		if (cfg[0] == hash && (int32_t)(uint32_t)cfg[1] == state &&
		    !memcmp(cfg + 2, bits, c->words * 8))
			return 0;
	}
	if (c->n >= c->max)
		return -E2BIG;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		uint64_t *p;

		if (ncap > c->max)
			ncap = c->max;
		p = realloc(c->cfg, ncap * c->stride * 8);
		if (!p)
			return -ENOMEM;
		c->cfg = p;
		c->cap = ncap;
	}
	if (c->n >= c->nb) {
		ret = cache_rehash(c);
		if (ret)
			return ret;
		b = hash & (c->nb - 1);
	}
	cfg = &c->cfg[c->n * c->stride];
	cfg[0] = hash;
	cfg[1] = (uint32_t)state | ((uint64_t)c->buckets[b] << 32);
	memcpy(cfg + 2, bits, c->words * 8);
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

/* The first unknown-outcome write of value v that could be placed now: its call is before the
 * first return still pending. Any of equal value would do; the first keeps the choice canonical
 * so equal configurations meet in the cache. */
static struct entry *find_lazy_write(struct entry *head, const struct reg_op *ops,
				     const uint32_t *idx, const bool *lazy, int32_t v)
{
	struct entry *e;

	for (e = head->next; e && e->call; e = e->next)
		if (lazy[e->op] && ops[idx[e->op]].a == v)
			return e;
	return NULL;
}

struct search_ctx {
	size_t max_memory;
	size_t configs; /* total memoized, for the caller's budget */
	/* Of the last search: the operation whose return, latest in time, forced a backtrack. */
	size_t fail_op;
	uint64_t fail_time;
};

/* One search over ops with the given modes. Returns 0 with *verdict set, or -ENOMEM. */
static int search(const struct reg_op *ops, size_t n, const enum mode *modes, int32_t init,
		  struct search_ctx *ctx, enum lin_verdict *verdict)
{
	struct entry *entries = NULL, **sorted = NULL, *head, *e;
	struct frame *frames = NULL;
	uint32_t *idx = NULL;
	uint64_t *zob = NULL, *bits = NULL, hash = 0;
	bool *lazy = NULL;
	struct cache c = { 0 };
	size_t m = 0, i, words, sp = 0, remaining = 0;
	int32_t state = init;
	struct frame f = { 0 };
	bool fresh = true, exhausted = false;
	int ret = -ENOMEM;

	ctx->fail_time = TIME_INF;
	idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx)
		goto out;
	for (i = 0; i < n; i++)
		if (modes[i] != M_DROPPED)
			idx[m++] = i;
	entries = calloc(2 * m + 1, sizeof(*entries));
	sorted = malloc((2 * m + 1) * sizeof(*sorted));
	frames = malloc((m + 1) * sizeof(*frames));
	zob = malloc((m + 1) * sizeof(*zob));
	lazy = calloc(m + 1, sizeof(*lazy));
	words = (m + 63) / 64 + 1;
	bits = calloc(words, sizeof(*bits));
	if (!entries || !sorted || !frames || !zob || !lazy || !bits)
		goto out;
	ret = cache_init(&c, words, ctx->max_memory);
	if (ret)
		goto out;
	for (i = 0; i < m; i++) {
		const struct reg_op *op = &ops[idx[i]];
		struct entry *call = &entries[2 * i], *rt = &entries[2 * i + 1];
		bool req = modes[idx[i]] == M_REQUIRED;

		*call = (struct entry){ .op = i, .call = true, .time = op->call, .match = rt };
		*rt = (struct entry){ .op = i, .time = req ? op->ret : TIME_INF, .match = call };
		sorted[2 * i] = call;
		sorted[2 * i + 1] = rt;
		zob[i] = mix64(i);
		lazy[i] = !req && op->f == HISTORY_WRITE;
		remaining += req;
	}
	qsort(sorted, 2 * m, sizeof(*sorted), entry_cmp);
	head = &entries[2 * m];
	head->prev = NULL;
	head->next = m ? sorted[0] : NULL;
	for (i = 0; i < 2 * m; i++) {
		sorted[i]->prev = i ? sorted[i - 1] : head;
		sorted[i]->next = i + 1 < 2 * m ? sorted[i + 1] : NULL;
	}

	e = head->next;
	for (;;) {
		struct entry *w = NULL;
		bool forced = false, can = false;
		int32_t next;
		uint64_t h;

		if (!remaining) {
			*verdict = LIN_VALID;
			break;
		}
		if (fresh) {
			/* A read of the current value placed now loses nothing: it leaves the
			 * state as it is, and any way to go on without it can place it later
			 * only where the state is the same. So it is placed without a choice,
			 * and if that fails, this whole configuration does. */
			fresh = false;
			if (state != VAL_UNKNOWN) {
				for (e = head->next; e && e->call; e = e->next)
					if (ops[idx[e->op]].f == HISTORY_READ &&
					    ops[idx[e->op]].a == state)
						break;
				if (e && e->call) {
					forced = can = true;
					next = state;
				} else {
					e = head->next;
				}
			}
		}
		if (!e->call) {
			if (ctx->fail_time == TIME_INF || e->time > ctx->fail_time) {
				ctx->fail_time = e->time;
				ctx->fail_op = idx[e->op];
			}
			goto backtrack;
		}
		if (!can && !lazy[e->op]) {
			const struct reg_op *op = &ops[idx[e->op]];

			can = reg_step(state, op, &next);
			if (!can && op->f != HISTORY_WRITE) {
				w = find_lazy_write(head, ops, idx, lazy, op->a);
				if (w)
					can = reg_step(op->a, op, &next);
			}
		}
		if (can) {
			h = hash ^ zob[e->op] ^ (w ? zob[w->op] : 0);
			bits[e->op / 64] |= 1ULL << (e->op % 64);
			if (w)
				bits[w->op / 64] |= 1ULL << (w->op % 64);
			ret = cache_insert(&c, h, next, bits);
			if (ret == 1) {
				frames[sp++] = (struct frame){ e, w, state, forced };
				state = next;
				hash = h;
				lift(e);
				if (w)
					lift(w);
				remaining -= modes[idx[e->op]] == M_REQUIRED;
				e = head->next;
				fresh = true;
				continue;
			}
			bits[e->op / 64] &= ~(1ULL << (e->op % 64));
			if (w)
				bits[w->op / 64] &= ~(1ULL << (w->op % 64));
			if (ret == -E2BIG) {
				*verdict = LIN_UNDECIDED;
				break;
			}
			if (ret < 0)
				goto out;
			if (forced)
				goto backtrack; /* seen before, so it failed */
		}
		e = e->next;
		continue;
backtrack:
		/* An operation's return came before it could be placed: undo the last choice,
		 * and the forced placements before it. */
		for (;;) {
			if (!sp) {
				exhausted = true;
				break;
			}
			f = frames[--sp];
			if (f.w) {
				unlift(f.w);
				bits[f.w->op / 64] &= ~(1ULL << (f.w->op % 64));
				hash ^= zob[f.w->op];
			}
			unlift(f.e);
			bits[f.e->op / 64] &= ~(1ULL << (f.e->op % 64));
			hash ^= zob[f.e->op];
			state = f.state;
			remaining += modes[idx[f.e->op]] == M_REQUIRED;
			if (!f.forced)
				break;
		}
		if (exhausted) {
			*verdict = LIN_VIOLATION;
			break;
		}
		e = f.e->next;
	}
	ret = 0;
out:
	ctx->configs += c.n;
	cache_free(&c);
	free(bits);
	free(lazy);
	free(zob);
	free(frames);
	free(sorted);
	free(entries);
	free(idx);
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

static int validate_op(const struct history_op *op, struct history_error *err)
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
		ret = validate_op(&h->ops[i], err);
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
