// SPDX-License-Identifier: GPL-2.0-only
/* The policy in the filter's maps: reading either copy back, writing the idle copy (groups,
 * reach words, rules, impairments) and the one-word flip that switches every link at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/explain.h"
#include "netem/filter/filter_internal.h"

/* The copy in force now: `active`, or `pending` once a scheduled flip's instant has passed. */
static int read_active(struct filter *f, unsigned int *active)
{
	struct capnet_control ctl;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(f->fd[FM_CONTROL], &zero, &ctl))
		return -errno;
	if (ctl.flip_at_tai_ns && tai_ns() >= ctl.flip_at_tai_ns)
		*active = ctl.pending & 1;
	else
		*active = ctl.active & 1;
	return 0;
}

int filter_read_meta(struct filter *f, unsigned int copy, struct capnet_policy_meta *meta)
{
	if (copy >= CAPNET_POLICY_COPIES)
		return -EINVAL;
	return bpf_map_lookup_elem(f->fd[FM_POLICY_META], &copy, meta) ? -errno : 0;
}

int filter_active_meta(struct filter *f, unsigned int *copy, struct capnet_policy_meta *meta)
{
	int err = read_active(f, copy);

	return err ? err : filter_read_meta(f, *copy, meta);
}

static int write_control(struct filter *f, const struct capnet_control *ctl, const char *why)
{
	uint32_t zero = 0;
	char pin[256];

	filter_pin_dir(f->lab, pin, sizeof(pin));
	filter_explain_update(pin, "control", &zero, sizeof(zero), ctl, sizeof(*ctl), why);
	return bpf_map_update_elem(f->fd[FM_CONTROL], &zero, ctl, BPF_ANY) ? -errno : 0;
}

int filter_settle_flip(struct filter *f)
{
	struct capnet_control ctl;
	uint32_t zero = 0;
	int err;

	if (bpf_map_lookup_elem(f->fd[FM_CONTROL], &zero, &ctl))
		return -errno;
	if (!ctl.flip_at_tai_ns)
		return 0;
	if (tai_ns() < ctl.flip_at_tai_ns)
		return -EAGAIN;
	/* One change per write, in the order the filter's reads need: `active` first. */
	ctl.active = ctl.pending;
	err = write_control(f, &ctl, "control: the scheduled copy made active");
	ctl.flip_at_tai_ns = 0;
	return err ?: write_control(f, &ctl, "control: no flip scheduled");
}

int filter_schedule_flip(struct filter *f, uint64_t generation, uint64_t flip_at_tai_ns)
{
	struct capnet_policy_meta meta;
	struct capnet_control ctl;
	uint32_t zero = 0, idle;
	int err;

	err = filter_settle_flip(f);
	if (err == -EAGAIN)
		return -EBUSY; /* another switch is scheduled and not yet in force */
	if (err)
		return err;
	if (bpf_map_lookup_elem(f->fd[FM_CONTROL], &zero, &ctl))
		return -errno;
	idle = !(ctl.active & 1);
	if (bpf_map_lookup_elem(f->fd[FM_POLICY_META], &idle, &meta))
		return -errno;
	if (meta.generation != generation)
		return -ESTALE; /* the idle copy is not the one prepared */
	/* `pending` before the instant that makes it count. */
	ctl.pending = idle;
	err = write_control(f, &ctl, "control: the copy to take at the instant");
	ctl.flip_at_tai_ns = flip_at_tai_ns;
	return err ?: write_control(f, &ctl, "control: the CLOCK_TAI instant of the flip");
}

static bool flips_deferred;

void filter_defer_flips(bool defer)
{
	flips_deferred = defer;
}

bool filter_flips_deferred(void)
{
	return flips_deferred;
}

/* Reads n consecutive array elements from key `first` on: one syscall when the kernel has
 * batch lookups (a batch resumes after the key it is given, so it is given first - 1), element
 * by element otherwise. */
static int array_read(int fd, uint32_t first, void *values, size_t value_size, uint32_t n)
{
	uint32_t *keys, cursor = first ? first - 1 : 0, out = 0, count = n, i;
	int err;

	if (!n)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	err = bpf_map_lookup_batch(fd, first ? &cursor : NULL, &out, keys, values, &count, NULL);
	if (!err && count == n && keys[0] == first) {
		free(keys);
		return 0;
	}
	err = 0;
	for (i = 0; i < n && !err; i++) {
		uint32_t k = first + i;

		if (bpf_map_lookup_elem(fd, &k, (char *)values + i * value_size))
			err = -errno;
	}
	free(keys);
	return err;
}

/* Layer `layer` of a policy copy: the group of every node and the reach words in use. */
static int read_layer(struct filter *f, uint32_t copy, uint32_t layer, unsigned int nodes,
		      unsigned int groups, struct policy *pol)
{
	uint32_t base = copy * CAPNET_LAYERS + layer, k, i, words;

	if (!groups)
		return -EBADMSG;
	pol->nodes = nodes;
	pol->groups = groups;
	pol->group_of[0] = 0;
	uint32_t *g = malloc((nodes + 1) * sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	err = array_read(f->fd[FM_GROUP_OF], base * CAPNET_NODE_SLOTS, g, sizeof(*g), nodes + 1);
	for (i = 1; i <= nodes && !err; i++)
		pol->group_of[i] = g[i];
	free(g);
	if (err)
		return err;
	words = groups * (CAPNET_MAX_GROUPS / 64);
	k = base * CAPNET_REACH_WORDS;
	return array_read(f->fd[FM_REACH], k, pol->reach, sizeof(pol->reach[0]), words);
}

static int read_state_copy(struct filter *f, struct filter_state *st, int want);

int filter_read_state(struct filter *f, struct filter_state *st)
{
	return read_state_copy(f, st, -1);
}

int filter_partition_now(const char *lab, char *buf, size_t len, unsigned int *rules)
{
	static struct filter_state st;
	static struct partition part;
	struct filter *f = NULL;
	struct spec_error e;
	int err;

	buf[0] = 0;
	*rules = 0;
	err = filter_open(lab, &f);
	if (err)
		return err;
	err = filter_read_state(f, &st);
	if (!err)
		err = policy_expand(&st.policy, &part, &e) ? -EBADMSG : 0;
	if (!err && partition_format(&part, buf, len) < 0)
		err = -ENOSPC;
	if (err)
		buf[0] = 0;
	else
		*rules = st.rules.count;
	filter_close(f);
	return err;
}

int filter_read_copy(struct filter *f, unsigned int copy, struct filter_state *st)
{
	return copy < CAPNET_POLICY_COPIES ? read_state_copy(f, st, copy) : -EINVAL;
}

static int impairment_cmp(const void *a, const void *b)
{
	const struct link_impairment *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

/* The policy copy `want` (-1: the active one), its rules and impairments. */
static int read_state_copy(struct filter *f, struct filter_state *st, int want)
{
	struct capnet_link_key key, next;
	struct capnet_impairment imp;
	struct link_impairment *li;
	uint32_t zero = 0, k, copy, r;
	int err;

	/* Only what is read back is written: a filter_state is megabytes for the largest lab and
	 * every rule layer, and clearing it all cost a command more than the rest of its work. */
	st->meta = (struct capnet_policy_meta){};
	st->rules.count = 0;
	st->impairments.count = 0;
	if (bpf_map_lookup_elem(f->fd[FM_LAB_META], &zero, &st->lab))
		return -errno;
	if (st->lab.version != CAPNET_LAB_META_VERSION || !st->lab.nodes ||
	    st->lab.nodes > CAPNET_MAX_NODES)
		return -EBADMSG;
	err = read_active(f, &st->active);
	if (err)
		return err;
	copy = want < 0 ? st->active : (uint32_t)want;
	if (bpf_map_lookup_elem(f->fd[FM_POLICY_META], &copy, &st->meta))
		return -errno;
	if (!st->meta.groups || st->meta.groups > CAPNET_MAX_GROUPS)
		return -EBADMSG;

	if (st->meta.rules > CAPNET_MAX_RULES)
		return -EBADMSG;
	err = read_layer(f, copy, 0, st->lab.nodes, st->meta.groups, &st->policy);
	for (r = 0; r < st->meta.rules && !err; r++) {
		k = copy * CAPNET_MAX_MATCHES + r;
		if (st->meta.rule_groups[r] > CAPNET_MAX_GROUPS)
			return -EBADMSG;
		if (bpf_map_lookup_elem(f->fd[FM_RULE_MATCH], &k, &st->rules.rule[r].match))
			return -errno;
		err = read_layer(f, copy, r + 1, st->lab.nodes, st->meta.rule_groups[r],
				 &st->rules.rule[r].policy);
	}
	if (err)
		return err;
	st->rules.count = st->meta.rules;

	if (bpf_map_get_next_key(f->fd[FM_IMPAIR], NULL, &next))
		return 0;
	do {
		key = next;
		if (key.copy != copy || bpf_map_lookup_elem(f->fd[FM_IMPAIR], &key, &imp))
			continue;
		if (st->impairments.count >= CAPNET_MAX_IMPAIRMENTS)
			return -E2BIG;
		li = &st->impairments.items[st->impairments.count++];
		*li = (struct link_impairment){ .src = key.src,
						.dst = key.dst,
						.loss_ppm = imp.loss_ppm,
						.dup_ppm = imp.dup_ppm,
						.corrupt_ppm = imp.corrupt_ppm,
						.flags = imp.flags,
						.seed = imp.seed };
		if (imp.match) {
			k = copy * CAPNET_MAX_MATCHES + ((imp.match - 1) % CAPNET_MAX_MATCHES);
			if (bpf_map_lookup_elem(f->fd[FM_RULE_MATCH], &k, &li->match))
				return -errno;
		}
	} while (!bpf_map_get_next_key(f->fd[FM_IMPAIR], &key, &next));
	/* A hash walks in no useful order: by link, so every reader sees the same list. */
	qsort(st->impairments.items, st->impairments.count, sizeof(st->impairments.items[0]),
	      impairment_cmp);
	return 0;
}

/* Writes n consecutive array elements starting at key `first`: one syscall when the kernel
 * has batch updates, element by element otherwise. */
static int array_write(int fd, uint32_t first, const void *values, size_t value_size, uint32_t n)
{
	uint32_t *keys, i, count = n;
	int err;

	if (!n)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		keys[i] = first + i;
	err = bpf_map_update_batch(fd, keys, values, &count, NULL);
	if (err) {
		err = 0;
		for (i = 0; i < n && !err; i++)
			if (bpf_map_update_elem(fd, &keys[i], (const char *)values + i * value_size,
						BPF_ANY))
				err = -errno;
	}
	free(keys);
	return err;
}

/* One impair entry written or deleted; the first few are shown, then how many more. */
static void explain_impair(const struct filter *f, const char *verb,
			   const struct capnet_link_key *key, const struct capnet_impairment *imp,
			   unsigned int shown)
{
	char pin[256], k[64], v[128], src[16], dst[16];

	(void)shown;
	if (!explain_enabled())
		return;
	filter_pin_dir(f->lab, pin, sizeof(pin));
	explain_hex(key, sizeof(*key), k, sizeof(k));
	if (imp)
		explain_hex(imp, sizeof(*imp), v, sizeof(v));
	/* Node 0 is the wildcard `all`. */
	snprintf(src, sizeof(src), key->src ? "%u" : "all", key->src);
	snprintf(dst, sizeof(dst), key->dst ? "%u" : "all", key->dst);
	explain("bpftool map %s pinned %s/impair key hex %s%s%s   # copy %u, %s -> %s%s", verb, pin,
		k, imp ? " value hex " : "", imp ? v : "", key->copy, src, dst,
		imp ? "" : ": the idle copy is cleared before it is rewritten");
}

static int clear_impairments(struct filter *f, uint32_t copy)
{
	struct capnet_link_key key, next;
	unsigned int shown = 0;
	bool more;

	/* Deleting while iterating restarts the walk; collect keys of one copy at a time. */
	more = !bpf_map_get_next_key(f->fd[FM_IMPAIR], NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(f->fd[FM_IMPAIR], &key, &next);
		if (key.copy != copy)
			continue;
		if (bpf_map_delete_elem(f->fd[FM_IMPAIR], &key) && errno != ENOENT)
			return -errno;
		explain_impair(f, "delete", &key, NULL, shown++);
	}
	return 0;
}

/* Writes one layer of the idle copy: the group of every node, the reach words in use. */
static int write_layer(struct filter *f, uint32_t copy, uint32_t layer, const struct policy *pol,
		       const char *pin)
{
	uint32_t groups[CAPNET_NODE_SLOTS] = { 0 };
	uint32_t base = copy * CAPNET_LAYERS + layer, i, words;
	int err;

	for (i = 1; i <= pol->nodes; i++)
		groups[i] = pol->group_of[i];
	err = array_write(f->fd[FM_GROUP_OF], base * CAPNET_NODE_SLOTS, groups, sizeof(groups[0]),
			  pol->nodes + 1);
	if (err)
		return err;
	words = pol->groups * (CAPNET_MAX_GROUPS / 64);
	err = array_write(f->fd[FM_REACH], base * CAPNET_REACH_WORDS, pol->reach,
			  sizeof(pol->reach[0]), words);
	if (err)
		return err;
	if (!explain_enabled())
		return 0;
	explain("# policy copy %u, layer %u (%s): the group of every node, then the reach bits, "
		"64 per word, bit (from * %u + to)",
		copy, layer, layer ? "a rule" : "every frame", CAPNET_MAX_GROUPS);
	for (i = 1; i <= pol->nodes; i++) {
		uint32_t key = base * CAPNET_NODE_SLOTS + i;
		char meaning[96];

		snprintf(meaning, sizeof(meaning),
			 "group_of[copy %u][layer %u][node %u] = group %u", copy, layer, i,
			 groups[i]);
		filter_explain_update(pin, "group_of", &key, sizeof(key), &groups[i],
				      sizeof(groups[i]), meaning);
	}
	for (i = 0; i < words; i++) {
		uint32_t key = base * CAPNET_REACH_WORDS + i, from = i / (CAPNET_MAX_GROUPS / 64);
		uint32_t first = (i % (CAPNET_MAX_GROUPS / 64)) * 64, b;
		char meaning[256];
		size_t used;

		used = snprintf(meaning, sizeof(meaning),
				"reach[copy %u][layer %u] word %u: group %u "
				"reaches",
				copy, layer, i, from);
		for (b = 0; b < 64 && used < sizeof(meaning); b++)
			if (pol->reach[i] >> b & 1)
				used += snprintf(meaning + used, sizeof(meaning) - used, " %u",
						 first + b);
		if (!pol->reach[i] && used < sizeof(meaning))
			snprintf(meaning + used, sizeof(meaning) - used, " none of groups %u..%u",
				 first, first + 63);
		filter_explain_update(pin, "reach", &key, sizeof(key), &pol->reach[i],
				      sizeof(pol->reach[i]), meaning);
	}
	return 0;
}

/* The index of `m` in the copy's match table, appended if new: -E2BIG when full. */
static int match_slot(struct capnet_match *table, unsigned int *used, const struct capnet_match *m)
{
	unsigned int i;

	for (i = 0; i < *used; i++)
		if (table[i].negate == m->negate && table[i].count == m->count &&
		    !memcmp(table[i].term, m->term, m->count * sizeof(m->term[0])))
			return i;
	if (*used >= CAPNET_MAX_MATCHES)
		return -E2BIG;
	table[*used] = *m;
	return (*used)++;
}

int filter_apply(struct filter *f, const struct policy *pol, const struct filter_rules *rules,
		 const struct impairment_set *imps, struct capnet_policy_meta *meta_out,
		 struct filter_timing *timing)
{
	uint64_t t_start = monotonic_ns(), t_flip;
	struct capnet_policy_meta cur, meta = {};
	struct capnet_match table[CAPNET_MAX_MATCHES];
	struct capnet_control ctl = { 0 };
	uint32_t active, idle, zero = 0, i, k;
	unsigned int shown = 0, used = 0;
	char pin[256], v[160];
	int err, slot;

	if (rules->count > CAPNET_MAX_RULES)
		return -E2BIG;
	/* Rule r's match is entry r - 1: the filter finds it without a lookup of its own. */
	memset(table, 0, sizeof(table));
	for (i = 0; i < rules->count; i++)
		table[i] = rules->rule[i].match;
	used = rules->count;
	for (i = 0; i < imps->count; i++)
		if (imps->items[i].match.count &&
		    match_slot(table, &used, &imps->items[i].match) < 0)
			return -E2BIG;

	/* A switch still scheduled in the future would take the copy written here. */
	err = filter_settle_flip(f);
	if (err == -EAGAIN)
		return -EBUSY;
	err = err ?: read_active(f, &active);
	if (err)
		return err;
	idle = !active;
	if (bpf_map_lookup_elem(f->fd[FM_POLICY_META], &active, &cur))
		return -errno;
	filter_pin_dir(f->lab, pin, sizeof(pin));

	err = write_layer(f, idle, 0, pol, pin);
	for (i = 0; i < rules->count && !err; i++) {
		err = write_layer(f, idle, i + 1, &rules->rule[i].policy, pin);
		meta.rule_groups[i] = rules->rule[i].policy.groups;
	}
	if (err)
		return err;
	for (i = 0; i < used; i++) {
		k = idle * CAPNET_MAX_MATCHES + i;
		if (bpf_map_update_elem(f->fd[FM_RULE_MATCH], &k, &table[i], BPF_ANY))
			return -errno;
		if (explain_enabled()) {
			explain_hex(&table[i], sizeof(table[i]), v, sizeof(v));
			explain("bpftool map update pinned %s/rule_match key %u 0 0 0 value hex %s   "
				"# copy %u, match %u",
				pin, k & 0xff, v, idle, i + 1);
		}
	}

	err = clear_impairments(f, idle);
	if (err)
		return err;
	for (i = 0; i < imps->count; i++) {
		const struct link_impairment *li = &imps->items[i];
		struct capnet_link_key key = { .copy = idle, .src = li->src, .dst = li->dst };
		struct capnet_impairment imp = { .loss_ppm = li->loss_ppm,
						 .dup_ppm = li->dup_ppm,
						 .corrupt_ppm = li->corrupt_ppm,
						 .flags = li->flags,
						 .seed = li->seed };

		if (!li->loss_ppm && !li->dup_ppm && !li->corrupt_ppm)
			continue;
		if (li->match.count) {
			slot = match_slot(table, &used, &li->match);
			imp.match = slot + 1;
		}
		if (bpf_map_update_elem(f->fd[FM_IMPAIR], &key, &imp, BPF_ANY))
			return -errno;
		explain_impair(f, "update", &key, &imp, shown++);
		meta.impaired = 1;
	}

	meta.generation = cur.generation + 1;
	meta.groups = pol->groups;
	meta.rules = rules->count;
	meta.flip_ns = t_flip = monotonic_ns();
	if (bpf_map_update_elem(f->fd[FM_POLICY_META], &idle, &meta, BPF_ANY))
		return -errno;
	if (explain_enabled()) {
		char meaning[128];

		snprintf(
			meaning, sizeof(meaning),
			"policy_meta[copy %u]: generation %llu, flip time, %u groups, %s, %u rules",
			idle, (unsigned long long)meta.generation, meta.groups,
			meta.impaired ? "impaired" : "not impaired", meta.rules);
		filter_explain_update(pin, "policy_meta", &idle, sizeof(idle), &meta, sizeof(meta),
				      meaning);
	}

	if (flips_deferred) { /* prepared: filter_schedule_flip makes it count */
		if (meta_out)
			*meta_out = meta;
		return 0;
	}
	/* The switch itself: one aligned word, so every link changes at the same instant. */
	ctl.active = idle;
	explain("bpftool map update pinned %s/control key 0 0 0 0 value %u 0 0 0 0 0 0 0 0 0 0 0 0 0 "
		"0 0",
		pin, idle);
	if (bpf_map_update_elem(f->fd[FM_CONTROL], &zero, &ctl, BPF_ANY))
		return -errno;
	/* Stamp the flip's own time; the program reads only generation and impaired, unchanged.
	 * The filter's taken_tai_ns starts again from this write: within a host the flip is one
	 * store, so only a lab across hosts, whose flips are scheduled, shows it. */
	meta.flip_ns = monotonic_ns();
	if (timing) {
		timing->write_ns = t_flip - t_start;
		timing->flip_ns = meta.flip_ns - t_flip;
	}
	bpf_map_update_elem(f->fd[FM_POLICY_META], &idle, &meta, BPF_ANY);
	if (meta_out)
		*meta_out = meta;
	return 0;
}

int filter_seen_reset(struct filter *f)
{
	uint64_t key, next;
	bool more;

	/* Deleting the key just read is safe: the walk goes on from the next one. */
	more = !bpf_map_get_next_key(f->fd[FM_SEEN_FRAMES], NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(f->fd[FM_SEEN_FRAMES], &key, &next);
		if (bpf_map_delete_elem(f->fd[FM_SEEN_FRAMES], &key) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* A fresh lab: both copies healthy (every node in group 0, which reaches itself), copy 0
 * active, generation 1. Array maps start zeroed, so group_of needs no writes. */
int filter_write_healthy(struct filter *f)
{
	struct capnet_policy_meta meta = { .generation = 1, .groups = 1 };
	struct capnet_control ctl = { .active = 0 };
	uint64_t all_reach = 1;
	uint32_t copy, key, zero = 0;

	char pin[256], meaning[96];

	filter_pin_dir(f->lab, pin, sizeof(pin));
	for (copy = 0; copy < CAPNET_POLICY_COPIES; copy++) {
		key = copy * CAPNET_LAYERS * CAPNET_REACH_WORDS;
		meta.flip_ns = monotonic_ns();
		if (bpf_map_update_elem(f->fd[FM_REACH], &key, &all_reach, BPF_ANY) ||
		    bpf_map_update_elem(f->fd[FM_POLICY_META], &copy, &meta, BPF_ANY))
			return -errno;
		snprintf(meaning, sizeof(meaning),
			 "reach[copy %u][layer 0] word 0: group 0 reaches group 0", copy);
		filter_explain_update(pin, "reach", &key, sizeof(key), &all_reach,
				      sizeof(all_reach), meaning);
		snprintf(meaning, sizeof(meaning),
			 "policy_meta[copy %u]: generation 1, flip time, 1 group, no rules", copy);
		filter_explain_update(pin, "policy_meta", &copy, sizeof(copy), &meta, sizeof(meta),
				      meaning);
	}
	if (bpf_map_update_elem(f->fd[FM_CONTROL], &zero, &ctl, BPF_ANY))
		return -errno;
	filter_explain_update(
		pin, "control", &zero, sizeof(zero), &ctl, sizeof(ctl),
		"control: copy 0 active; every node in group 0 of both copies (arrays "
		"start zeroed)");
	return 0;
}
