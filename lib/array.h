/* SPDX-License-Identifier: GPL-2.0-only */
/* Growing an array by doubling, and sorting and searching one that may be empty: the helpers
 * every parser, table and checker here uses. */
#ifndef CAPNET_ARRAY_H
#define CAPNET_ARRAY_H

#include <errno.h>
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

static inline void *find_n(const void *key, const void *base, size_t n, size_t size,
			   int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

#endif /* CAPNET_ARRAY_H */
