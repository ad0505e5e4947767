/* SPDX-License-Identifier: GPL-2.0-only */
/* A test's way to catch a command in a named phase without guessing how long anything takes:
 * with CAPNET_TEST_STOP_AT=PHASE and CAPNET_TEST_STOP_FIFO=PATH in its environment, a command
 * that reaches test_hook_phase("PHASE") writes "PHASE\n" to the FIFO and waits there until a
 * signal ends it, or SIGUSR1 lets it go on. The test reads the line, then kills the command
 * (or changes the world under it and lets it go on), which is exactly in that phase on any
 * machine, fast or slow. Without the variables, or when PATH is not a FIFO, it does nothing. */
#ifndef CAPNET_TEST_HOOK_H
#define CAPNET_TEST_HOOK_H

void test_hook_phase(const char *phase);

#endif /* CAPNET_TEST_HOOK_H */
