/* SPDX-License-Identifier: GPL-2.0-only */
/* Client libraries of other systems (libcurl for etcd, hiredis for Redis), loaded by their
 * soname only when a command talks to such a system, so that every other command starts without
 * them and their dependency chains. */
#ifndef CAPNET_DYNLIB_H
#define CAPNET_DYNLIB_H

#include <stddef.h>

/* One function to resolve: its name in the library and the function pointer to fill, as
 * `(void **)&table.fn` (the POSIX way of storing what dlsym returns). */
struct dynlib_symbol {
	const char *name;
	void **slot;
};

/* Opens soname (kept open for the life of the process) and fills every slot. 0, or -ENOENT
 * with an error_note naming the library, the Debian package that ships it and dlerror's
 * reason. */
int dynlib_load(const char *soname, const char *package, const struct dynlib_symbol *symbols,
		size_t n);

#endif /* CAPNET_DYNLIB_H */
