// SPDX-License-Identifier: GPL-2.0-only
/* Preloaded before libfaketime in every service capnet starts: clock_nanosleep on any clock
 * but CLOCK_REALTIME goes straight to the kernel.
 *
 * Why: capnet fakes only the wall clock (FAKETIME_DONT_FAKE_MONOTONIC=1), but libfaketime
 * 0.9.10 (Debian 12) still rewrites an absolute CLOCK_MONOTONIC sleep as if it were a wall-clock
 * deadline, and the kernel refuses the result (EINVAL). Python's time.sleep, among others,
 * sleeps that way. The monotonic clock is not faked, so the kernel's own answer is the right
 * one; a CLOCK_REALTIME sleep still goes to libfaketime, which fakes that clock. */
#include <dlfcn.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
	int saved = errno, rc;

	if (clock != CLOCK_REALTIME) {
		/* clock_nanosleep returns the error, and leaves errno as it was. */
		rc = syscall(SYS_clock_nanosleep, clock, flags, req, rem) ? errno : 0;
		errno = saved;
		return rc;
	}
	if (!next)
		next = (int (*)(clockid_t, int, const struct timespec *,
				struct timespec *))dlsym(RTLD_NEXT, "clock_nanosleep");
	if (!next)
		return ENOSYS;
	return next(clock, flags, req, rem);
}
