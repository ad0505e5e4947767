// SPDX-License-Identifier: GPL-2.0-only
/* Stable latencies and the stale count of a broadcast history: each acknowledged message against
 * every successful read begun after its broadcast. A read that lacks it moves its stable time to
 * that read's end; a final read that lacks it means it never became stable. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "netem/maelstrom/stable.h"

struct message {
	const char *value; /* JSON text, as the reads give it */
	uint64_t invoke_ns, ack_ns, stable_ns;
	bool stale, missing_finally;
};

static int cmp_message(const void *a, const void *b)
{
	return strcmp(((const struct message *)a)->value, ((const struct message *)b)->value);
}

static double quantile_ms(const uint64_t *sorted, size_t n, unsigned int percent)
{
	return n ? sorted[(n - 1) * percent / 100] / 1e6 : 0;
}

int mael_stable_latency(const struct mael_op *ops, size_t n, struct mael_stable *out)
{
	struct message *msgs = NULL;
	uint64_t *lat = NULL;
	bool *seen = NULL;
	size_t m = 0, k = 0;
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		m += !ops[i].read && ops[i].outcome == MAEL_OK && ops[i].arg;
	msgs = calloc(m ? m : 1, sizeof(*msgs));
	seen = calloc(m ? m : 1, sizeof(*seen));
	lat = calloc(m ? m : 1, sizeof(*lat));
	if (!msgs || !seen || !lat)
		goto out;
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (!ops[i].read && ops[i].outcome == MAEL_OK && ops[i].arg)
			msgs[m++] = (struct message){ .value = ops[i].arg,
						      .invoke_ns = ops[i].invoke_ns,
						      .ack_ns = ops[i].complete_ns,
						      .stable_ns = ops[i].invoke_ns };
	qsort(msgs, m, sizeof(*msgs), cmp_message);
	for (size_t i = 0; i < n; i++) {
		const struct mael_op *r = &ops[i];

		if (!r->read || r->outcome != MAEL_OK)
			continue;
		memset(seen, 0, m * sizeof(*seen));
		for (size_t e = 0; e < r->n_elements; e++) {
			struct message key = { .value = r->elements[e] }, *hit;

			if (!key.value)
				continue;
			hit = bsearch(&key, msgs, m, sizeof(*msgs), cmp_message);
			if (hit)
				seen[hit - msgs] = true;
		}
		for (size_t j = 0; j < m; j++) {
			struct message *g = &msgs[j];

			if (seen[j] || r->invoke_ns < g->invoke_ns)
				continue;
			if (r->complete_ns > g->stable_ns)
				g->stable_ns = r->complete_ns;
			if (r->invoke_ns > g->ack_ns)
				g->stale = true;
			if (r->final)
				g->missing_finally = true;
		}
	}
	out->messages = m;
	for (size_t j = 0; j < m; j++) {
		out->stale += msgs[j].stale;
		if (msgs[j].missing_finally) {
			out->never_stable++;
			continue;
		}
		lat[k++] = msgs[j].stable_ns - msgs[j].invoke_ns;
	}
	out->stable = k;
	sort_u64(lat, k);
	out->q0 = quantile_ms(lat, k, 0);
	out->q50 = quantile_ms(lat, k, 50);
	out->q95 = quantile_ms(lat, k, 95);
	out->q99 = quantile_ms(lat, k, 99);
	out->max = quantile_ms(lat, k, 100);
	rc = 0;
out:
	free(msgs);
	free(seen);
	free(lat);
	return rc;
}
