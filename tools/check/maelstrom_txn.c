// SPDX-License-Identifier: GPL-2.0-only
/* Maelstrom's txn operations, as JSON texts, turned into the transaction checker's. An answer
 * must be the transaction asked, step by step, with only the reads filled in; one that is not
 * is itself a finding, and its transaction counts as indeterminate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tools/check/mael_arena.h"
#include "tools/check/maelstrom_check.h"
#include "tools/check/txn_check.h"

/* [[f, k, v], ...] into steps; read values taken only when answered. False when the text has
 * another shape. */
static bool mops_of(struct mael_arena *a, enum mael_workload w, const struct json_value *txn,
		    bool answered, struct txn_mop **out, size_t *n)
{
	const char *write_f = w == MAEL_TXN_LIST_APPEND ? "append" : "w";
	struct txn_mop *m;

	if (!txn || txn->kind != JSON_ARRAY)
		return false;
	m = mael_arena_keep(a, calloc(txn->n + 1, sizeof(*m)));
	if (!m)
		return false;
	for (size_t i = 0; i < txn->n; i++) {
		const struct json_value *s = &txn->items[i], *v;

		if (s->kind != JSON_ARRAY || s->n != 3 || s->items[0].kind != JSON_STRING ||
		    !json_is_i64(&s->items[1], &m[i].key))
			return false;
		v = &s->items[2];
		if (!strcmp(s->items[0].str, write_f)) {
			m[i].f = TXN_WRITE;
			if (!json_is_i64(v, &m[i].value))
				return false;
			continue;
		}
		if (strcmp(s->items[0].str, "r"))
			return false;
		m[i].f = TXN_READ;
		m[i].nil = v->kind == JSON_NULL;
		if (!answered || m[i].nil)
			continue;
		if (w == MAEL_TXN_RW_REGISTER) {
			if (!json_is_i64(v, &m[i].value))
				return false;
		} else {
			int64_t *list;

			if (v->kind != JSON_ARRAY)
				return false;
			list = mael_arena_keep(a, calloc(v->n + 1, sizeof(*list)));
			if (!list)
				return false;
			for (size_t e = 0; e < v->n; e++)
				if (!json_is_i64(&v->items[e], &list[e]))
					return false;
			m[i].list = list;
			m[i].n_list = v->n;
		}
	}
	*out = m;
	*n = txn->n;
	return true;
}

static void summarize(const struct txn_result *tr, unsigned int models, struct mael_result *r)
{
	char found[400] = "", asked[160] = "";
	size_t used = 0, m_used = 0;

	for (int a = 0; a < TXN_ANOMALIES; a++) {
		if (!tr->counts[a] || used >= sizeof(found))
			continue;
		used += snprintf(found + used, sizeof(found) - used, "%s%s %zu%s", used ? ", " : "",
				 txn_anomaly_name(a), tr->counts[a],
				 tr->forbidden_by[a] ? " (forbidden)" : "");
	}
	for (int m = 0; m < TXN_MODELS && m_used < sizeof(asked); m++)
		if (models & (1u << m))
			m_used += snprintf(asked + m_used, sizeof(asked) - m_used, "%s%s",
					   m_used ? ", " : "", txn_model_name(m));
	snprintf(r->summary, sizeof(r->summary),
		 "%zu transactions (%zu ok, %zu failed, %zu indeterminate), %zu dependencies, "
		 "checked for %s: %.250s",
		 tr->ok + tr->failed + tr->indeterminate, tr->ok, tr->failed, tr->indeterminate,
		 tr->edges, asked, found[0] ? found : "no anomalies");
}

int mael_check_txn(enum mael_workload w, const struct mael_op *ops, size_t n, unsigned int models,
		   struct mael_result *r)
{
	struct txn_op *t = calloc(n + 1, sizeof(*t));
	struct mael_arena a = { 0 };
	struct txn_result tr;
	size_t m = 0, bad = 0;
	int rc;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct mael_op *op = &ops[i];
		struct txn_mop *asked, *got;
		size_t n_asked, n_got;
		struct txn_op *x = &t[m];

		if (!mops_of(&a, w, mael_arena_parse(&a, op->arg), false, &asked, &n_asked))
			continue; /* not a request of ours: nothing to check */
		*x = (struct txn_op){ .process = op->process,
				      .node = op->node,
				      .outcome = op->outcome == MAEL_OK	  ? TXN_OK :
						 op->outcome == MAEL_FAIL ? TXN_FAIL :
									    TXN_INFO,
				      .mops = asked,
				      .n_mops = n_asked,
				      .invoke_ns = op->invoke_ns,
				      .complete_ns = op->outcome == MAEL_INFO ? UINT64_MAX :
										op->complete_ns };
		m++;
		if (op->outcome != MAEL_OK)
			continue;
		if (mops_of(&a, w, mael_arena_parse(&a, op->result), true, &got, &n_got) &&
		    txn_same_steps(asked, n_asked, got, n_got)) {
			x->mops = got;
			continue;
		}
		x->outcome = TXN_INFO;
		r->bad_reads++;
		if (!bad++)
			mael_evidence(
				r,
				"process %llu asked n%u for the txn %.120s and got back %.120s, "
				"which is not that txn with its reads filled in",
				(unsigned long long)op->process, op->node, op->arg,
				op->result ? op->result : "nothing");
	}
	rc = txn_check(w == MAEL_TXN_LIST_APPEND ? TXN_LIST_APPEND : TXN_RW_REGISTER, t, m, models,
		       &tr);
	if (!rc) {
		for (size_t e = 0; e < tr.n_evidence; e++)
			mael_evidence(r, "%s", tr.evidence[e]);
		r->problems -= tr.n_evidence;
		for (int an = 0; an < TXN_ANOMALIES; an++)
			r->problems += tr.counts[an];
		/* Anomalies the models allow are told, not held against the run. */
		r->valid = !bad && tr.valid;
		summarize(&tr, models, r);
	}
	mael_arena_free(&a);
	free(t);
	return rc;
}
