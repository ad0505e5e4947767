/* SPDX-License-Identifier: GPL-2.0-only */
/* Small file-system helpers shared by the node's storage and the lab's run directories. */
#ifndef CAPNET_FILES_H
#define CAPNET_FILES_H

#include <sys/types.h>

/* mkdir -p: creates every missing directory of path. 0 or -errno. */
int files_mkdir_p(const char *path, mode_t mode);

#endif /* CAPNET_FILES_H */
