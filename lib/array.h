/* SPDX-License-Identifier: GPL-2.0-only */
/* Growing an array by doubling, and sorting and searching one that may be empty: the helpers
 * every parser, table and checker here uses. */
#ifndef CAPNET_ARRAY_H
#define CAPNET_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for element n of *arr (elements of `size` bytes, capacity *cap). 0 or -ENOMEM;
 * on failure *arr and *cap are unchanged. */
static inline int array_grow(void **arr, size_t size, size_t n, size_t *cap)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* qsort and bsearch for arrays that may be empty (and NULL): C leaves those undefined. */
static inline void sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* Sorts n numbers in ascending order. */
static inline int array_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static inline void sort_u64(uint64_t *v, size_t n)
{
	sort_n(v, n, sizeof(*v), array_cmp_u64);
}

static inline void *find_n(const void *key, const void *base, size_t n, size_t size,
			   int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

#endif /* CAPNET_ARRAY_H */
