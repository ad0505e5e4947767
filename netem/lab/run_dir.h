/* SPDX-License-Identifier: GPL-2.0-only */
/* A lab's run directory (/run/capnet/<lab>: its record, keys, clocks, logs) and its services'
 * directories in it. capnet's own replicas (capnode) live in the run directory itself; any other
 * program started with `capnet start --name NAME -- PROGRAM ...` in <run dir>/svc/NAME. The lab
 * and the services both find their files here, so neither needs the other. */
#ifndef CAPNET_RUN_DIR_H
#define CAPNET_RUN_DIR_H

#include <stdbool.h>
#include <stddef.h>

#define CAPNET_RUN_ROOT "/run/capnet"
#define CAPNODE_SERVICE "capnode"
#define SERVICE_NAME_MAX 40

/* The lab's run directory: --dir if given, else /run/capnet/<lab>. */
void run_dir_of_lab(const char *lab, const char *dir_opt, char *buf, size_t len);
/* A service's directory: the run directory itself for capnode (name NULL or "capnode"), else
 * <run_dir>/svc/<name>. */
void run_dir_of_service(const char *run_dir, const char *name, char *buf, size_t len);
/* A name for a service: 1 to SERVICE_NAME_MAX letters, digits, '-', '_' or '.', not starting
 * with '.'. */
bool run_dir_service_name_ok(const char *name);
/* Calls fn for every service started in the lab (capnode first, then by name), with its
 * directory; stops at and returns fn's first non-zero value. */
int run_dir_for_each_service(const char *run_dir,
			     int (*fn)(const char *name, const char *dir, void *arg), void *arg);

#endif /* CAPNET_RUN_DIR_H */
