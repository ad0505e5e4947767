/* SPDX-License-Identifier: GPL-2.0-only */
/* What a lab may be called: 1 to LAB_NAME_MAX of [A-Za-z0-9_-], starting with a letter or a
 * digit. */
#ifndef CAPNET_LAB_NAME_H
#define CAPNET_LAB_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define LAB_NAME_MAX 32

/* True if name is a valid lab name; else false with one line in err. */
bool lab_name_valid(const char *name, char *err, size_t errlen);

#endif /* CAPNET_LAB_NAME_H */
