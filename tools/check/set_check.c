// SPDX-License-Identifier: GPL-2.0-only
/* The set checker: every add's element looked up in every final read of its set, settled or
 * not. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tools/check/set_check.h"

/* One element someone tried to add, with what became of its attempts. */
struct attempt {
	const char *key, *element;
	long line; /* the first add's invoke */
	enum history_type outcome; /* the best of its adds: ok, else info, else fail */
	size_t seen; /* final reads that have it */
};

struct final_read {
	const struct history_op *op;
	struct set_reader reader;
	bool settled; /* its reader's last final read of the set */
	bool misses, has; /* settled, and missing a diverged element; having one */
	const char **items; /* sorted */
	size_t n;
};

static int cmp_str(const char *a, const char *b)
{
	return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

static int cmp_attempt(const void *x, const void *y)
{
	const struct attempt *a = x, *b = y;
	int c = cmp_str(a->key, b->key);

	return c ? c : cmp_str(a->element, b->element);
}

static int cmp_item(const void *x, const void *y)
{
	return cmp_str(*(const char *const *)x, *(const char *const *)y);
}

/* Evidence in (key, element, line) order. */
static int cmp_item_line(const void *x, const void *y)
{
	const struct set_item *a = x, *b = y;
	int c = cmp_str(a->key, b->key);

	if (!c)
		c = cmp_str(a->element, b->element);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

static int cmp_reader(const struct set_reader *a, const struct set_reader *b)
{
	if (a->is_node != b->is_node)
		return a->is_node ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

/* Final reads by set, then reader, then invoke time: each reader's settled read ends its run. */
static int cmp_final_read(const void *x, const void *y)
{
	const struct final_read *a = x, *b = y;
	int c = cmp_str(a->op->key, b->op->key);

	if (!c)
		c = cmp_reader(&a->reader, &b->reader);
	if (!c)
		c = (a->op->call > b->op->call) - (a->op->call < b->op->call);
	return c ? c : (a->op->line > b->op->line) - (a->op->line < b->op->line);
}

static int add_reader(struct set_reader **rs, size_t *n, size_t *cap, struct set_reader r)
{
	int rc;

	for (size_t i = 0; i < *n; i++)
		if (!cmp_reader(&(*rs)[i], &r))
			return 0;
	rc = array_grow((void **)rs, sizeof(**rs), *n, cap);
	if (!rc)
		(*rs)[(*n)++] = r;
	return rc;
}

static int cmp_reader_v(const void *x, const void *y)
{
	return cmp_reader(x, y);
}

static int rank(enum history_type t)
{
	return t == HISTORY_OK ? 2 : t == HISTORY_INFO ? 1 : 0;
}

static int bad(struct history_error *err, long line, const char *msg)
{
	err->line = line;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -EINVAL;
}

static int push(struct set_item **items, size_t *n, size_t *cap, const char *key,
		const char *element, long line)
{
	int rc = array_grow((void **)items, sizeof(**items), *n, cap);

	if (rc)
		return rc;
	(*items)[(*n)++] = (struct set_item){ .key = key, .element = element, .line = line };
	return 0;
}

void set_result_free(struct set_result *r)
{
	free(r->duplicated);
	free(r->lost);
	free(r->unexpected);
	free(r->recovered);
	free(r->stale);
	free(r->diverged);
	free(r->missing);
	free(r->having);
	memset(r, 0, sizeof(*r));
}

/* When the last add of each set was over: a read invoked later is a final read. */
struct key_over {
	const char *key;
	uint64_t over;
};

static int cmp_key_over(const void *x, const void *y)
{
	return cmp_str(((const struct key_over *)x)->key, ((const struct key_over *)y)->key);
}

/* One entry per set, in key order (an ends array of the history's adds, merged). */
static struct key_over *adds_over(const struct history *h, size_t *n)
{
	struct key_over *ko = malloc((h->n_ops ? h->n_ops : 1) * sizeof(*ko));
	size_t m = 0, i, j;

	if (!ko)
		return NULL;
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f == HISTORY_ADD)
			ko[m++] = (struct key_over){ .key = op->key,
						     .over = op->outcome == HISTORY_INFO ?
								     op->call :
								     op->ret };
	}
	sort_n(ko, m, sizeof(*ko), cmp_key_over);
	for (i = 0, j = 0; i < m; i++) {
		if (j && !cmp_str(ko[j - 1].key, ko[i].key)) {
			if (ko[i].over > ko[j - 1].over)
				ko[j - 1].over = ko[i].over;
			continue;
		}
		ko[j++] = ko[i];
	}
	*n = j;
	return ko;
}

static uint64_t over_of(const struct key_over *ko, size_t n, const char *key)
{
	struct key_over want = { .key = key };
	const struct key_over *k = find_n(&want, ko, n, sizeof(*ko), cmp_key_over);

	return k ? k->over : 0;
}

static int validate(const struct history *h, struct history_error *err)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f != HISTORY_ADD && op->f != HISTORY_READ) {
			err->line = op->line;
			snprintf(err->msg, sizeof(err->msg),
				 "\"%s\" is not a set operation (add or read): one history, one "
				 "model",
				 history_f_name(op->f));
			return -EINVAL;
		}
		if (!op->key)
			return bad(err, op->line, "set operations need a string \"key\"");
		if (op->f == HISTORY_ADD && op->arg->kind != HISTORY_VALUE_STRING)
			return bad(err, op->line, "expected an add's value to be a string");
		if (op->f == HISTORY_READ && op->outcome == HISTORY_OK) {
			if (op->result->kind != HISTORY_VALUE_LIST)
				return bad(err, op->ret_line,
					   "expected a set read's value to be a list of strings");
			for (size_t k = 0; k < op->result->n; k++)
				if (!op->result->items[k])
					return bad(err, op->ret_line,
						   "a set holds strings, not null");
		}
	}
	return 0;
}

/* A read of a set that lists an element twice: a set holds each element once, so the system
 * stored or returned it twice (Jepsen's set-full calls the history invalid for it too). Every
 * ok read, final or not; each element once, at the first read that repeats it. */
static int find_duplicates(const struct history *h, struct set_result *r)
{
	const char **items = NULL;
	size_t cap_items = 0, cap = 0, i, j;
	int rc = 0;

	for (i = 0; i < h->n_ops && !rc; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f != HISTORY_READ || op->outcome != HISTORY_OK || op->result->n < 2)
			continue;
		if (op->result->n > cap_items) {
			const char **grown = realloc(items, op->result->n * sizeof(*items));

			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			items = grown;
			cap_items = op->result->n;
		}
		memcpy(items, op->result->items, op->result->n * sizeof(*items));
		sort_n(items, op->result->n, sizeof(*items), cmp_item);
		for (j = 1; j < op->result->n && !rc; j++)
			if (!cmp_str(items[j], items[j - 1]) &&
			    (j < 2 || cmp_str(items[j], items[j - 2])))
				rc = push(&r->duplicated, &r->n_duplicated, &cap, op->key, items[j],
					  op->ret_line);
	}
	free(items);
	if (rc)
		return rc;
	sort_n(r->duplicated, r->n_duplicated, sizeof(*r->duplicated), cmp_item_line);
	for (i = 0, j = 0; i < r->n_duplicated; i++)
		if (!j || cmp_str(r->duplicated[j - 1].key, r->duplicated[i].key) ||
		    cmp_str(r->duplicated[j - 1].element, r->duplicated[i].element))
			r->duplicated[j++] = r->duplicated[i];
	r->n_duplicated = j;
	return 0;
}

int set_check(const struct history *h, struct set_result *r, struct history_error *err)
{
	struct attempt *at = NULL;
	struct final_read *fr = NULL;
	struct key_over *ko = NULL;
	size_t n_ko = 0;
	size_t n_at = 0, cap_at = 0, n_fr = 0, cap_fr = 0, cap[7] = { 0 }, i, j, k;
	const char *last_key = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = validate(h, err);
	if (rc)
		return rc;
	rc = find_duplicates(h, r);
	if (rc)
		goto out;
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f != HISTORY_ADD)
			continue;
		r->attempts++;
		if (op->outcome == HISTORY_OK)
			r->acknowledged++;
		rc = array_grow((void **)&at, sizeof(*at), n_at, &cap_at);
		if (rc)
			goto out;
		at[n_at++] = (struct attempt){ .key = op->key,
					       .element = op->arg->str,
					       .line = op->line,
					       .outcome = op->outcome };
	}
	sort_n(at, n_at, sizeof(*at), cmp_attempt);
	/* The same element added twice is one element, with the best outcome of its adds. */
	for (i = 0, j = 0; i < n_at; i++) {
		if (j && !cmp_attempt(&at[j - 1], &at[i])) {
			if (rank(at[i].outcome) > rank(at[j - 1].outcome))
				at[j - 1].outcome = at[i].outcome;
			continue;
		}
		at[j++] = at[i];
	}
	n_at = j;

	ko = adds_over(h, &n_ko);
	if (!ko) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < h->n_ops; i++) {
		const struct history_op *op = &h->ops[i];

		if (op->f != HISTORY_READ || op->outcome != HISTORY_OK ||
		    op->call < over_of(ko, n_ko, op->key))
			continue;
		rc = array_grow((void **)&fr, sizeof(*fr), n_fr, &cap_fr);
		if (rc)
			goto out;
		fr[n_fr] = (struct final_read){ .op = op };
		fr[n_fr].reader = h->events[op->invoke].node ?
					  (struct set_reader){ .is_node = true,
							       .id = h->events[op->invoke].node } :
					  (struct set_reader){ .id = op->process };
		fr[n_fr].n = op->result->n;
		fr[n_fr].items = malloc((op->result->n ? op->result->n : 1) * sizeof(char *));
		if (!fr[n_fr].items) {
			rc = -ENOMEM;
			goto out;
		}
		if (op->result->n)
			memcpy(fr[n_fr].items, op->result->items, op->result->n * sizeof(char *));
		sort_n(fr[n_fr].items, fr[n_fr].n, sizeof(char *), cmp_item);
		n_fr++;
	}
	if (!n_fr) {
		rc = bad(err, 0,
			 "no final read (an ok read of a set after its last add): nothing says "
			 "what the sets hold, so nothing can be found lost");
		goto out;
	}
	r->final_reads = n_fr;
	sort_n(fr, n_fr, sizeof(*fr), cmp_final_read);
	for (i = 0; i < n_fr; i++)
		fr[i].settled = i + 1 == n_fr || cmp_str(fr[i].op->key, fr[i + 1].op->key) ||
				cmp_reader(&fr[i].reader, &fr[i + 1].reader);

	/* Every element of every final read: counted for its attempt, or unexpected. */
	for (i = 0; i < n_fr; i++)
		for (k = 0; k < fr[i].n; k++) {
			struct attempt key = { .key = fr[i].op->key, .element = fr[i].items[k] };
			struct attempt *a = find_n(&key, at, n_at, sizeof(*at), cmp_attempt);

			if (k && !cmp_str(fr[i].items[k], fr[i].items[k - 1]))
				continue; /* a list with a repeat: the set has it once */
			if (a && a->outcome != HISTORY_FAIL) {
				a->seen++;
				continue;
			}
			/* Never tried, or tried and surely refused: it should not be there. */
			rc = push(&r->unexpected, &r->n_unexpected, &cap[1], fr[i].op->key,
				  fr[i].items[k], fr[i].op->ret_line);
			if (rc)
				goto out;
		}
	/* Each unexpected element once, at the first final read that has it. */
	sort_n(r->unexpected, r->n_unexpected, sizeof(*r->unexpected), cmp_item_line);
	for (i = 0, j = 0; i < r->n_unexpected; i++)
		if (!j || cmp_str(r->unexpected[j - 1].key, r->unexpected[i].key) ||
		    cmp_str(r->unexpected[j - 1].element, r->unexpected[i].element))
			r->unexpected[j++] = r->unexpected[i];
	r->n_unexpected = j;

	for (i = 0; i < n_at; i++) {
		struct attempt *a = &at[i];
		size_t settled_of_key = 0, settled_have = 0;
		bool diverged;

		if (!last_key || cmp_str(last_key, a->key)) {
			r->keys++;
			last_key = a->key;
		}
		for (j = 0; j < n_fr; j++) {
			const char *el = a->element;

			if (!fr[j].settled || cmp_str(fr[j].op->key, a->key))
				continue;
			settled_of_key++;
			settled_have +=
				!!find_n(&el, fr[j].items, fr[j].n, sizeof(char *), cmp_item);
		}
		if (a->outcome == HISTORY_OK && !settled_have && settled_of_key)
			rc = push(&r->lost, &r->n_lost, &cap[0], a->key, a->element, a->line);
		else if (a->outcome == HISTORY_INFO && settled_have)
			rc = push(&r->recovered, &r->n_recovered, &cap[2], a->key, a->element,
				  a->line);
		if (rc)
			goto out;
		if (!a->seen)
			continue;
		/* Settled reads that disagree diverged; an earlier read that misses what they all
		 * have was only behind. */
		diverged = settled_have && settled_have < settled_of_key;
		if (diverged) {
			r->diverged_adds++;
			r->diverged_acknowledged += a->outcome == HISTORY_OK;
		}
		for (j = 0; j < n_fr; j++) {
			const char *el = a->element;
			bool has;

			if (cmp_str(fr[j].op->key, a->key))
				continue;
			has = find_n(&el, fr[j].items, fr[j].n, sizeof(char *), cmp_item);
			if (diverged && fr[j].settled) {
				fr[j].has |= has;
				fr[j].misses |= !has;
				if (!has)
					rc = push(&r->diverged, &r->n_diverged, &cap[4], a->key,
						  a->element, fr[j].op->ret_line);
			} else if (!has && !fr[j].settled && settled_have == settled_of_key) {
				rc = push(&r->stale, &r->n_stale, &cap[3], a->key, a->element,
					  fr[j].op->ret_line);
			}
			if (rc)
				goto out;
		}
	}
	for (j = 0; j < n_fr && !rc; j++) {
		if (fr[j].misses)
			rc = add_reader(&r->missing, &r->n_missing, &cap[6], fr[j].reader);
		if (!rc && fr[j].has)
			rc = add_reader(&r->having, &r->n_having, &cap[5], fr[j].reader);
	}
	if (rc)
		goto out;
	sort_n(r->missing, r->n_missing, sizeof(*r->missing), cmp_reader_v);
	sort_n(r->having, r->n_having, sizeof(*r->having), cmp_reader_v);
	r->valid = !r->n_lost && !r->n_unexpected && !r->diverged_adds && !r->n_duplicated;
out:
	for (i = 0; i < n_fr; i++)
		free(fr[i].items);
	free(fr);
	free(at);
	free(ko);
	if (rc)
		set_result_free(r);
	return rc;
}
