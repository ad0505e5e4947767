// SPDX-License-Identifier: GPL-2.0-only
/* The filter's counters: every link's passes and drops (one slot per link for every CPU), and
 * the global ones, summed over CPUs. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netem/filter/filter_internal.h"

/* A link's drop counters. */
struct link_drop_entry {
	struct capnet_stats_key key;
	struct capnet_link_drops sum;
};

static int compare_links(const struct capnet_stats_key *a, const struct capnet_stats_key *b)
{
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->dst < b->dst ? -1 : a->dst > b->dst;
}

static int compare_drop_entries(const void *a, const void *b)
{
	return compare_links(&((const struct link_drop_entry *)a)->key,
			     &((const struct link_drop_entry *)b)->key);
}

/* Every link with a drop or a duplicate, sorted by (src, dst) like link_passed's indexes. */
static int read_link_drops(struct filter *f, struct link_drop_entry **out, size_t *count)
{
	struct link_drop_entry *list = NULL, *grown;
	struct capnet_stats_key key, next;
	struct capnet_link_drops drops;
	size_t n = 0, cap = 0;

	if (bpf_map_get_next_key(f->fd[FM_LINK_DROPS], NULL, &next))
		goto out;
	do {
		key = next;
		if (bpf_map_lookup_elem(f->fd[FM_LINK_DROPS], &key, &drops))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		list[n++] = (struct link_drop_entry){ .key = key, .sum = drops };
	} while (!bpf_map_get_next_key(f->fd[FM_LINK_DROPS], &key, &next));
	if (n)
		qsort(list, n, sizeof(*list), compare_drop_entries);
out:
	*out = list;
	*count = n;
	return 0;
}

static int emit_drops(const struct link_drop_entry *e, uint64_t passed,
		      int (*fn)(const struct capnet_stats_key *key,
				const struct capnet_link_stats *stats, void *ctx),
		      void *ctx)
{
	struct capnet_link_stats st = {
		.passed = passed,
		.dropped_partition = e->sum.dropped_partition,
		.dropped_loss = e->sum.dropped_loss,
		.duplicated = e->sum.duplicated,
		.corrupted = e->sum.corrupted,
	};

	return fn(&e->key, &st, ctx);
}

/* link_passed is read in batches: a 1000-node lab has a million links. */
#define PASSED_BATCH 4096

int filter_for_each_link(struct filter *f,
			 int (*fn)(const struct capnet_stats_key *key,
				   const struct capnet_link_stats *stats, void *ctx),
			 void *ctx)
{
	struct link_drop_entry *drops = NULL;
	size_t ndrops = 0, d = 0;
	struct capnet_lab_meta lab;
	uint32_t zero = 0, *keys = NULL, batch, got, j;
	uint64_t *values = NULL;
	bool first = true, last = false;
	int err;

	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &lab))
		return -errno;
	if (!lab.nodes || lab.nodes > CAPNET_MAX_NODES)
		return -EINVAL;
	err = read_link_drops(f, &drops, &ndrops);
	if (err)
		return err;
	keys = calloc(PASSED_BATCH, sizeof(*keys));
	values = calloc(PASSED_BATCH, sizeof(*values));
	if (!keys || !values) {
		err = -ENOMEM;
		goto out;
	}
	while (!last) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		got = PASSED_BATCH;
		if (bpf_map_lookup_batch(f->fd[FM_LINK_PASSED], first ? NULL : &batch, &batch, keys,
					 values, &got, &opts)) {
			if (errno != ENOENT) {
				err = -errno;
				goto out;
			}
			last = true;
		}
		first = false;
		for (j = 0; j < got; j++) {
			struct capnet_stats_key key = {
				.src = keys[j] / lab.nodes + 1,
				.dst = keys[j] % lab.nodes + 1,
			};
			struct capnet_link_stats st = { .passed = values[j] };

			for (; d < ndrops && compare_links(&drops[d].key, &key) < 0; d++) {
				err = emit_drops(&drops[d], 0, fn, ctx);
				if (err)
					goto out;
			}
			if (d < ndrops && !compare_links(&drops[d].key, &key)) {
				err = emit_drops(&drops[d++], st.passed, fn, ctx);
			} else if (st.passed) {
				err = fn(&key, &st, ctx);
			}
			if (err)
				goto out;
		}
		if (!got)
			break;
	}
	for (; d < ndrops; d++) {
		err = emit_drops(&drops[d], 0, fn, ctx);
		if (err)
			break;
	}
out:
	free(drops);
	free(keys);
	free(values);
	return err;
}

int filter_read_global(struct filter *f, struct capnet_global_stats *out)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct capnet_global_stats *percpu;
	uint32_t zero = 0;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(f->fd[FM_GLOBAL_STATS], &zero, percpu)) {
		err = -errno;
		goto out;
	}
	for (c = 0; c < ncpu; c++) {
		out->unknown_src += percpu[c].unknown_src;
		out->ring_overflow += percpu[c].ring_overflow;
		out->dup_failed += percpu[c].dup_failed;
	}
out:
	free(percpu);
	return err;
}
