/* SPDX-License-Identifier: GPL-2.0-only */
/* Clock faults through Debian's libfaketime: every service capnet starts is preloaded with it
 * and told to read a control file of its own on its node (<service dir>/n<i>.clock), which
 * `capnet clock` rewrites from the node's setting (<run dir>/clock/n<i>.setting). libfaketime
 * rereads the file once a wall-clock second, so a change holds for every call after the next
 * second begins; capnet waits that long before it says so. Only the wall
 * clock moves: CLOCK_MONOTONIC is left alone, as a real clock step or skew leaves it. */
#ifndef CAPNET_CLOCK_CTL_H
#define CAPNET_CLOCK_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netem/svc/clock_spec.h"

/* libfaketime's library and capnet's clock_nanosleep mend that goes before it (preload/): 0,
 * or -ENOENT with what is missing and how to get it in why. */
int clock_preload_find(char *faketime, size_t flen, char *mend, size_t mlen, char *why,
		       size_t wlen);

/* Whether a service's processes are preloaded with libfaketime: capnode always, any other
 * program when started with --clock (not by default: libfaketime 0.9.10 cannot start inside
 * some programs, Redis among them, whose allocator reads the clock while libfaketime sets
 * itself up). Kept in the service's directory, so restarts do the same. */
int clock_enable(const char *svc_dir, bool on);
bool clock_enabled(const char *svc_dir);

/* Before a service (its directory, netem/svc/nodes.h) starts on a node: its start recorded and its
 * control file written for the node's clock as it is. Then, in the child before exec, the
 * environment that makes libfaketime follow that file; false when libfaketime is not installed
 * (the service runs on the true clock, and `clock` says so). */
void clock_prepare(const char *lab, const char *svc_dir, unsigned int node);
bool clock_child_env(const char *svc_dir, unsigned int node);
/* The same environment as words for --explain ("LD_PRELOAD=... FAKETIME_...=..."), or "". */
void clock_env_words(const char *svc_dir, unsigned int node, char *buf, size_t len);

/* The node's setting: the true time when it has no file. -EBADMSG for a file capnet did not
 * write. */
int clock_read(const char *lab, unsigned int node, struct clock_setting *s);
/* Keeps the node's setting and writes it to the control file of every service on the node. */
int clock_write(const char *lab, unsigned int node, const struct clock_setting *s);

/* A strobe: a process in the node's namespace (so `down` ends it with the lab) that moves the
 * clock by jump_ns and back every period_ns. One per node; start stops the one before. */
int clock_strobe_start(const char *lab, unsigned int node, const struct clock_setting *rest,
		       int64_t jump_ns, uint64_t period_ns);
void clock_strobe_stop(const char *lab, unsigned int node);
/* Whether a strobe runs on the node, and its jump and period. */
bool clock_strobe_running(const char *lab, unsigned int node, int64_t *jump_ns,
			  uint64_t *period_ns);

/* Whether process pid follows its service's control file on the node (its environment names
 * it). */
bool clock_process_follows(pid_t pid, const char *svc_dir, unsigned int node);
/* libfaketime 0.9.10 makes a semaphore and a shared memory object for each process it starts
 * in (/dev/shm/sem.faketime_sem_<pid>, faketime_shm_<pid>) and removes them only when that
 * process exits normally: a service killed or stopped by a signal would leave them behind.
 * Whether capnet preloaded the process, read before it is signalled; and, once it is gone, its
 * two objects removed. */
bool clock_process_preloaded(pid_t pid);
void clock_process_gone(pid_t pid);
/* The true wall clock (capnet itself is never preloaded), in ns: what settings are made at. */
int64_t clock_true_now_ns(void);
/* Sleeps until every process that follows a control file has reread it. */
void clock_wait_in_force(void);

#endif /* CAPNET_CLOCK_CTL_H */
