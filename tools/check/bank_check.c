// SPDX-License-Identifier: GPL-2.0-only
/* Bank invariants. A balance read is atomic over every account, so it must add up to the money
 * opened, show nothing negative, and equal the opening balances moved by some set of transfers:
 * all that completed ok before the read was invoked, none invoked after it returned, and any
 * subset of the rest (ok ones concurrent with the read, and those whose outcome is unknown).
 * Finding that subset is a search over vectors; it is pruned by the least and most each account
 * can still move, which keeps it small when concurrency is. */
#include "tools/check/bank_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_STATES (1u << 18)
#define DEFAULT_MAX_MEMORY (128u << 20)
#define MAX_SEARCH_STATES (1u << 30)
/* Bounds every sum below far from overflow: a million ops of this size still fit in int64. */
#define MAX_AMOUNT 1000000000000LL

struct transfer {
	size_t op;
	int from, to;
	int64_t amount;
	uint64_t call, ret; /* ret is UINT64_MAX when the outcome is unknown */
	bool ok;
};

struct bank {
	const struct history *h;
	const char **names; /* accounts, sorted */
	int64_t *opened;
	size_t n;
	struct transfer *tr;
	size_t n_tr;
	bool ap;
};

static int input_err(struct history_error *err, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int input_err(struct history_error *err, long line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_amount(const char *s, int64_t *out)
{
	if (!s || history_parse_int(s, out) || *out > MAX_AMOUNT || *out < -MAX_AMOUNT)
		return -EINVAL;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int account(const struct bank *b, const char *name)
{
	const char **p;

	if (!name)
		return -1;
	p = bsearch(&name, b->names, b->n, sizeof(*b->names), name_cmp);
	return p ? (int)(p - b->names) : -1;
}

static const char *bank_ops = "open, transfer or balance";

static int load_accounts(struct bank *b, struct history_error *err)
{
	const struct history *h = b->h;
	uint64_t start = UINT64_MAX;
	size_t i, k, n = 0;
	int64_t amount;

	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f == HISTORY_OPEN)
			n++;
		else if (op->f == HISTORY_TRANSFER || op->f == HISTORY_BALANCE)
			start = op->call < start ? op->call : start;
		else
			return input_err(err, op->line, "\"%s\" is not a bank operation (%s)",
					 history_f_name(op->f), bank_ops);
	}
	b->names = calloc(n + 1, sizeof(*b->names));
	b->opened = calloc(n + 1, sizeof(*b->opened));
	if (!b->names || !b->opened)
		return -ENOMEM;
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f != HISTORY_OPEN)
			continue;
		if (!op->key)
			return input_err(err, op->line, "open needs the account as \"key\"");
		if (op->arg->kind != HISTORY_VALUE_STRING || parse_amount(op->arg->str, &amount) ||
		    amount < 0)
			return input_err(
				err, op->line,
				"expected an open's value to be a balance from 0 to 10^12");
		if (op->outcome != HISTORY_OK)
			return input_err(err, op->line,
					 "open of \"%s\" did not succeed: the money in the bank "
					 "would be unknown",
					 op->key);
		if (op->ret > start)
			return input_err(err, op->ret_line,
					 "open of \"%s\" completes after the first transfer or "
					 "balance was invoked",
					 op->key);
		b->names[b->n++] = op->key;
	}
	qsort(b->names, b->n, sizeof(*b->names), name_cmp);
	for (k = 1; k < b->n; k++) {
		bool first = true;

		if (strcmp(b->names[k - 1], b->names[k]))
			continue;
		for (i = 0; i < h->n_ops; i++) {
			if (h->ops[i].f != HISTORY_OPEN || strcmp(h->ops[i].key, b->names[k]))
				continue;
			if (!first)
				return input_err(err, h->ops[i].line,
						 "account \"%s\" is opened twice", b->names[k]);
			first = false;
		}
	}
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f == HISTORY_OPEN)
			parse_amount(op->arg->str, &b->opened[account(b, op->key)]);
	}
	if (!b->n && start != UINT64_MAX)
		return input_err(err, 1, "no account is opened before the workload");
	return 0;
}

static int load_transfers(struct bank *b, struct history_error *err)
{
	const struct history *h = b->h;
	size_t i;

	b->tr = calloc(h->n_ops + 1, sizeof(*b->tr));
	if (!b->tr)
		return -ENOMEM;
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];
		const struct history_value *v = op->arg;
		struct transfer *t = &b->tr[b->n_tr];

		if (op->f != HISTORY_TRANSFER && op->f != HISTORY_BALANCE)
			continue;
		if (op->f == HISTORY_BALANCE) {
			if (op->key && account(b, op->key) < 0)
				return input_err(err, op->line,
						 "balance of account \"%s\", never opened",
						 op->key);
			continue;
		}
		if (op->key)
			return input_err(err, op->line,
					 "expected \"key\" of a transfer to be null");
		if (v->kind != HISTORY_VALUE_LIST || v->n != 3 || !v->items[0] || !v->items[1] ||
		    !v->items[2])
			return input_err(err, op->line,
					 "expected a transfer's value to be [from, to, amount]");
		t->from = account(b, v->items[0]);
		t->to = account(b, v->items[1]);
		if (t->from < 0 || t->to < 0)
			return input_err(err, op->line,
					 "transfer names account \"%s\", never opened",
					 v->items[t->from < 0 ? 0 : 1]);
		if (t->from == t->to)
			return input_err(err, op->line, "transfer from \"%s\" to itself",
					 v->items[0]);
		if (parse_amount(v->items[2], &t->amount) || t->amount < 0)
			return input_err(err, op->line,
					 "expected a transfer's amount to be from 0 to 10^12");
		if (op->outcome == HISTORY_FAIL)
			continue; /* never took effect */
		t->op = i;
		t->call = op->call;
		t->ret = op->ret;
		t->ok = op->outcome == HISTORY_OK;
		b->n_tr++;
	}
	return 0;
}

static void add_violation(struct bank_result *res, enum bank_violation_kind kind, size_t op,
			  long line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add_violation(struct bank_result *res, enum bank_violation_kind kind, size_t op,
			  long line, const char *fmt, ...)
{
	struct bank_violation *v;
	va_list ap;

	res->valid = false;
	if (res->n_violations++ >= BANK_MAX_REPORTED)
		return;
	v = &res->violations[res->n_violations - 1];
	v->kind = kind;
	v->op = op;
	v->line = line;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

/* A negative balance: a violation for a CP bank, an overdraft to report for an AP one. */
static void add_finding(const struct bank *b, struct bank_result *res, size_t op, long line,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add_finding(const struct bank *b, struct bank_result *res, size_t op, long line,
			const char *fmt, ...)
{
	struct bank_violation *v;
	va_list ap;

	if (!b->ap) {
		if (res->n_violations >= BANK_MAX_REPORTED) {
			res->n_violations++;
			res->valid = false;
			return;
		}
		res->valid = false;
		v = &res->violations[res->n_violations++];
	} else {
		if (res->n_overdrafts++ >= BANK_MAX_OVERDRAFTS)
			return;
		v = &res->overdrafts[res->n_overdrafts - 1];
	}
	v->kind = BANK_NEGATIVE;
	v->op = op;
	v->line = line;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

/* Reads the balances of one read into out[]; reports an account problem as a violation. */
static int read_balances(const struct bank *b, size_t opi, int64_t *out, bool *seen,
			 struct bank_result *res, struct history_error *err)
{
	const struct history_op *op = &b->h->ops[opi];
	const struct history_value *v = op->result;
	size_t i;
	int a;

	if (v->kind != HISTORY_VALUE_MAP)
		return input_err(err, op->ret_line,
				 "expected a balance read's value to be an object of balances");
	memset(seen, 0, b->n * sizeof(*seen));
	for (i = 0; i < v->n; i++) {
		const char *name = v->items[2 * i];
		int64_t x;

		if (parse_amount(v->items[2 * i + 1], &x))
			return input_err(err, op->ret_line,
					 "expected balance of \"%s\" to be an integer within "
					 "+-10^12",
					 name);
		a = account(b, name);
		if (a < 0) {
			add_violation(res, BANK_ACCOUNTS, opi, op->ret_line,
				      "balance read shows account \"%s\", never opened", name);
			return 1;
		}
		if (seen[a]) {
			add_violation(res, BANK_ACCOUNTS, opi, op->ret_line,
				      "balance read shows account \"%s\" twice", name);
			return 1;
		}
		seen[a] = true;
		out[a] = x;
	}
	for (a = 0; a < (int)b->n; a++) {
		if (!seen[a]) {
			add_violation(res, BANK_ACCOUNTS, opi, op->ret_line,
				      "balance read misses account \"%s\"", b->names[a]);
			return 1;
		}
	}
	return 0;
}

/* Balance vectors, deduplicated by open addressing. */
struct vecset {
	int64_t *v;
	size_t n, cap, dim;
	uint32_t *slots; /* index + 1 */
	uint32_t *slot_of; /* where each vector went, so clearing costs what was added */
	size_t nslots;
};

static uint64_t vec_hash(const int64_t *v, size_t dim)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < dim; i++) {
		h ^= (uint64_t)v[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

static int vecset_init(struct vecset *s, size_t dim, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->dim = dim;
	s->cap = cap;
	for (s->nslots = 16; s->nslots < 2 * cap; s->nslots *= 2)
		;
	s->v = malloc((cap * dim + 1) * sizeof(*s->v));
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	s->slot_of = malloc((cap + 1) * sizeof(*s->slot_of));
	return s->v && s->slots && s->slot_of ? 0 : -ENOMEM;
}

static void vecset_clear(struct vecset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		s->slots[s->slot_of[i]] = 0;
	s->n = 0;
}

static void vecset_free(struct vecset *s)
{
	free(s->v);
	free(s->slots);
	free(s->slot_of);
}

/* Returns 1 if added, 0 if present, -E2BIG when full. */
static int vecset_add(struct vecset *s, const int64_t *v)
{
	size_t i = vec_hash(v, s->dim) & (s->nslots - 1);

	while (s->slots[i]) {
		if (!memcmp(&s->v[(s->slots[i] - 1) * s->dim], v, s->dim * sizeof(*v)))
			return 0;
		i = (i + 1) & (s->nslots - 1);
	}
	if (s->n == s->cap)
		return -E2BIG;
	memcpy(&s->v[s->n * s->dim], v, s->dim * sizeof(*v));
	s->slot_of[s->n] = i;
	s->slots[i] = ++s->n;
	return 1;
}

struct explain_ctx {
	size_t dim;
	struct vecset seen; /* (still to explain, next transfer) already tried: dim + 1 wide */
	int64_t *lo, *hi; /* (n_maybe + 1) x dim: least and most each account can still move */
	int64_t *key;
	int64_t *need; /* scratch for one-account reads */
	const struct bank *b;
	const size_t *maybe;
	size_t nm;
	int only;
	bool *took; /* per transfer: in the last read's explanation */
};

/* True if the moves in need can still be made by some of maybe[j..]. Accounts outside a
 * one-account read have need and bounds 0. */
static bool viable(const struct explain_ctx *x, size_t j, const int64_t *need)
{
	size_t a;

	for (a = 0; a < x->dim; a++)
		if (need[a] < x->lo[j * x->dim + a] || need[a] > x->hi[j * x->dim + a])
			return false;
	return true;
}

static void move(const struct explain_ctx *x, const struct transfer *t, int64_t *v, int sign)
{
	if (x->only < 0 || t->from == x->only)
		v[t->from] += sign * t->amount;
	if (x->only < 0 || t->to == x->only)
		v[t->to] -= sign * t->amount;
}

/* Depth first, so a history that is fine is usually explained on the first path: a transfer
 * that completed ok is tried as done first, and so is one whose outcome is unknown if it
 * explained the read before (once done, it stays done); other unknown ones as not done. What
 * was tried and failed is remembered. */
static int explain_from(struct explain_ctx *x, size_t j, int64_t *rest)
{
	const struct transfer *t;
	size_t a;
	int pass, ret;

	for (a = 0; a < x->dim && !rest[a]; a++)
		;
	if (a == x->dim)
		return 1;
	if (j == x->nm || !viable(x, j, rest))
		return 0;
	memcpy(x->key, rest, x->dim * sizeof(*rest));
	x->key[x->dim] = j;
	ret = vecset_add(&x->seen, x->key);
	if (ret <= 0)
		return ret;
	t = &x->b->tr[x->maybe[j]];
	for (pass = 0; pass < 2; pass++) {
		bool take = (pass == 0) == (t->ok || x->took[x->maybe[j]]);

		if (take)
			move(x, t, rest, 1);
		ret = explain_from(x, j + 1, rest);
		if (take)
			move(x, t, rest, -1);
		if (ret == 1)
			x->took[x->maybe[j]] = take;
		if (ret)
			return ret;
	}
	return 0;
}

/* Is need (read minus certain effects) the sum of some subset of maybe's effects? Returns 1 yes,
 * 0 no, -E2BIG when the search outgrew its bound, -ENOMEM. need is left as it was. */
static int explain(struct explain_ctx *x, const struct bank *b, const size_t *maybe, size_t nm,
		   int64_t *need, int only)
{
	size_t dim = x->dim, j;
	int ret;

	x->lo = calloc((nm + 1) * dim, sizeof(*x->lo));
	x->hi = calloc((nm + 1) * dim, sizeof(*x->hi));
	if (!x->lo || !x->hi) {
		ret = -ENOMEM;
		goto out;
	}
	x->b = b;
	x->maybe = maybe;
	x->nm = nm;
	x->only = only;
	for (j = nm; j-- > 0;) {
		const struct transfer *t = &b->tr[maybe[j]];

		memcpy(&x->lo[j * dim], &x->lo[(j + 1) * dim], dim * sizeof(*x->lo));
		memcpy(&x->hi[j * dim], &x->hi[(j + 1) * dim], dim * sizeof(*x->hi));
		if (only < 0 || t->from == only)
			x->lo[j * dim + t->from] -= t->amount;
		if (only < 0 || t->to == only)
			x->hi[j * dim + t->to] += t->amount;
	}
	vecset_clear(&x->seen);
	ret = explain_from(x, 0, need);
out:
	free(x->lo);
	free(x->hi);
	x->lo = x->hi = NULL;
	return ret;
}

static void format_read(char *buf, size_t len, const struct bank *b, const int64_t *v)
{
	size_t i, off = 0;

	for (i = 0; i < b->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s=%lld", i ? " " : "", b->names[i],
				(long long)v[i]);
}

/* Splits the transfers for the read op: certain ones are taken out of need, possible ones
 * listed in maybe. Returns how many are possible; *certain counts the others. */
static size_t split_transfers(const struct bank *b, const struct history_op *op, int64_t *need,
			      size_t *maybe, size_t *certain)
{
	size_t j, nm = 0;

	*certain = 0;
	for (j = 0; j < b->n_tr; j++) {
		const struct transfer *t = &b->tr[j];

		if (t->ok && t->ret < op->call) {
			need[t->from] += t->amount;
			need[t->to] -= t->amount;
			(*certain)++;
		} else if (t->call <= op->ret) {
			maybe[nm++] = j;
		}
	}
	return nm;
}

/* A read of one account: not negative, and explained by the transfers touching it. */
static int check_one(const struct bank *b, struct explain_ctx *x, size_t opi, size_t *maybe,
		     struct bank_result *res, struct history_error *err)
{
	const struct history_op *op = &b->h->ops[opi];
	int a = account(b, op->key), ret;
	size_t nm, certain, k;
	int64_t bal;

	if (op->result->kind != HISTORY_VALUE_STRING || parse_amount(op->result->str, &bal))
		return input_err(err, op->ret_line,
				 "expected the balance of \"%s\" to be an integer within +-10^12",
				 op->key);
	if (bal < 0) {
		add_finding(b, res, opi, op->ret_line,
			    "account \"%s\" reads %lld: a negative balance", op->key,
			    (long long)bal);
		return 0;
	}
	if (b->ap)
		return 0;
	memset(x->need, 0, b->n * sizeof(*x->need));
	x->need[a] = bal - b->opened[a];
	nm = split_transfers(b, op, x->need, maybe, &certain);
	for (k = 0; k < b->n; k++)
		if ((int)k != a)
			x->need[k] = 0;
	ret = explain(x, b, maybe, nm, x->need, a);
	if (ret == -E2BIG) {
		res->undecided++;
		return 0;
	}
	if (ret < 0)
		return ret;
	if (!ret)
		add_violation(res, BANK_TRANSFERS, opi, op->ret_line,
			      "balance %s=%lld is not the opening balance moved by the %zu "
			      "transfer%s completed before this read began plus any of the %zu "
			      "concurrent or unknown-outcome ones",
			      op->key, (long long)bal, certain, certain == 1 ? "" : "s", nm);
	return 0;
}

/* What one remembered vector of dim costs: itself, its hash slots (fewer than 4 per vector)
 * and its slot_of entry. */
static size_t vecset_bytes_per_vector(size_t dim)
{
	return dim * sizeof(int64_t) + 4 * sizeof(uint32_t) + sizeof(uint32_t);
}

/* How many vectors a read's search may remember: max_states if set, else as many as
 * max_memory holds (DEFAULT_MAX_STATES when neither is set), never more than the memory (128 MiB
 * when unset) holds, nor than a uint32_t slot can index. */
static size_t search_bound(size_t dim, size_t max_states, size_t max_memory)
{
	size_t fit = (max_memory ? max_memory : DEFAULT_MAX_MEMORY) / vecset_bytes_per_vector(dim);

	if (!max_states)
		max_states = max_memory ? fit : DEFAULT_MAX_STATES;
	if (max_states > fit)
		max_states = fit;
	if (max_states > MAX_SEARCH_STATES)
		max_states = MAX_SEARCH_STATES;
	return max_states ? max_states : 1;
}

static int check_reads(struct bank *b, size_t max_states, struct bank_result *res,
		       struct history_error *err)
{
	const struct history *h = b->h;
	struct explain_ctx x = { .dim = b->n };
	int64_t *bal = NULL, *need = NULL;
	size_t *maybe = NULL, i, a, nm, certain;
	bool *seen = NULL;
	char text[120];
	int ret = -ENOMEM;

	bal = calloc(b->n + 1, sizeof(*bal));
	need = calloc(b->n + 1, sizeof(*need));
	x.key = calloc(b->n + 2, sizeof(*x.key));
	x.took = calloc(b->n_tr + 1, sizeof(*x.took));
	x.need = calloc(b->n + 1, sizeof(*x.need));
	seen = calloc(b->n + 1, sizeof(*seen));
	maybe = calloc(b->n_tr + 1, sizeof(*maybe));
	if (!bal || !need || !x.key || !x.need || !x.took || !seen || !maybe)
		goto out;
	ret = vecset_init(&x.seen, b->n + 1, max_states);
	if (ret)
		goto out;
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];
		int64_t sum = 0, total = res->total;
		bool bad = false;

		if (op->f != HISTORY_BALANCE || op->outcome != HISTORY_OK)
			continue;
		res->reads++;
		if (op->key) {
			ret = check_one(b, &x, i, maybe, res, err);
			if (ret < 0)
				goto out;
			continue;
		}
		ret = read_balances(b, i, bal, seen, res, err);
		if (ret < 0)
			goto out;
		if (ret)
			continue;
		for (a = 0; a < b->n; a++) {
			sum += bal[a];
			if (bal[a] < 0) {
				add_finding(b, res, i, op->ret_line,
					    "account \"%s\" reads %lld: a negative balance",
					    b->names[a], (long long)bal[a]);
				bad = true;
			}
		}
		if (sum != total) {
			add_violation(res, BANK_CONSERVATION, i, op->ret_line,
				      "balances add up to %lld, but %lld was opened: money %s",
				      (long long)sum, (long long)total,
				      sum > total ? "was created" : "was lost");
			continue;
		}
		/* An AP read may be stale: only conservation holds for it. */
		if (bad || b->ap)
			continue;
		/* What the read shows minus the opening balances and the certain transfers must
		 * be made up by some of the possible ones. */
		for (a = 0; a < b->n; a++)
			need[a] = bal[a] - b->opened[a];
		nm = split_transfers(b, op, need, maybe, &certain);
		ret = explain(&x, b, maybe, nm, need, -1);
		if (ret == -E2BIG) {
			res->undecided++;
			continue;
		}
		if (ret < 0)
			goto out;
		if (!ret) {
			format_read(text, sizeof(text), b, bal);
			add_violation(
				res, BANK_TRANSFERS, i, op->ret_line,
				"balances %s are not the opening balances moved by the %zu "
				"transfer%s completed before this read began plus any of the %zu "
				"concurrent or unknown-outcome ones",
				text, certain, certain == 1 ? "" : "s", nm);
		}
	}
	ret = 0;
out:
	vecset_free(&x.seen);
	free(maybe);
	free(seen);
	free(x.key);
	free(x.took);
	free(x.need);
	free(need);
	free(bal);
	return ret;
}

int bank_check(const struct history *h, const struct bank_options *opt, struct bank_result *res,
	       struct history_error *err)
{
	struct bank b = { .h = h, .ap = opt && opt->ap };
	size_t i, max_states = opt ? opt->max_states : 0, max_memory = opt ? opt->max_memory : 0;
	int ret;

	memset(res, 0, sizeof(*res));
	res->valid = true;
	res->ops = h->n_ops;
	res->violations = calloc(BANK_MAX_REPORTED, sizeof(*res->violations));
	if (!res->violations)
		return -ENOMEM;
	ret = load_accounts(&b, err);
	if (!ret)
		ret = load_transfers(&b, err);
	if (!ret) {
		res->accounts = b.n;
		for (i = 0; i < b.n; i++)
			res->total += b.opened[i];
		for (i = 0; i < h->n_ops; i++)
			res->transfers += h->ops[i].f == HISTORY_TRANSFER;
		ret = check_reads(&b, search_bound(b.n + 1, max_states, max_memory), res, err);
	}
	free(b.tr);
	free(b.opened);
	free(b.names);
	if (ret)
		bank_result_free(res);
	return ret;
}

void bank_result_free(struct bank_result *res)
{
	if (!res)
		return;
	free(res->violations);
	res->violations = NULL;
}

const char *bank_violation_kind_name(enum bank_violation_kind k)
{
	switch (k) {
	case BANK_CONSERVATION:
		return "conservation";
	case BANK_NEGATIVE:
		return "negative";
	case BANK_ACCOUNTS:
		return "accounts";
	case BANK_TRANSFERS:
		return "transfers";
	}
	return "?";
}
