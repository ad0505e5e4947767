// SPDX-License-Identifier: GPL-2.0-only
/* The phase hook of test_hook.h. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/files.h"
#include "lib/test_hook.h"

void test_hook_phase(const char *phase)
{
	const char *want = getenv("CAPNET_TEST_STOP_AT");
	const char *fifo = getenv("CAPNET_TEST_STOP_FIFO");
	struct stat st;
	sigset_t resume, old;
	int fd, sig;

	if (!want || !fifo || strcmp(want, phase))
		return;
	/* Only a FIFO means a test is listening: a missing path or a regular file (a stale or
	 * mistaken variable) must not park the command where nothing will ever release it. */
	if (stat(fifo, &st) || !S_ISFIFO(st.st_mode))
		return;
	/* Blocked before the test can know the phase is reached, so that its SIGUSR1 is never
	 * lost: it waits, pending, for sigwait below. */
	sigemptyset(&resume);
	sigaddset(&resume, SIGUSR1);
	sigprocmask(SIG_BLOCK, &resume, &old);
	/* Blocks until the test opens its end: the test knows the phase is reached only once this
	 * process is parked in it. */
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	files_write_all(fd, phase, strlen(phase));
	files_write_all(fd, "\n", 1);
	close(fd);
	while (sigwait(&resume, &sig))
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
}
