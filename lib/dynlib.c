// SPDX-License-Identifier: GPL-2.0-only
/* Loading a client library by its soname when a command first needs it. */
#include <dlfcn.h>
#include <errno.h>

#include "lib/dynlib.h"
#include "lib/report.h"

int dynlib_load(const char *soname, const char *package, const struct dynlib_symbol *symbols,
		size_t n)
{
	void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!handle) {
		error_note("%s not loaded (install Debian's %s): %s", soname, package, dlerror());
		return -ENOENT;
	}
	for (i = 0; i < n; i++) {
		*symbols[i].slot = dlsym(handle, symbols[i].name);
		if (!*symbols[i].slot) {
			error_note("%s has no %s (Debian's %s is the version capnet is built for)",
				   soname, symbols[i].name, package);
			while (i > 0)
				*symbols[--i].slot = NULL;
			dlclose(handle);
			return -ENOENT;
		}
	}
	return 0;
}
