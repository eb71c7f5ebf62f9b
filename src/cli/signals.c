/*
 * signals.c — see signals.h.
 */
#include "cli/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t interrupts;
static volatile pid_t forward_pid;

static void on_signal(int sig)
{
    if (sig == SIGINT && ++interrupts > 1)
        _exit(EXIT_INTERRUPTED);
    if (sig == SIGTERM && forward_pid > 0)
        kill(forward_pid, SIGTERM);
    stop_requested = 1;
}

void signals_install(pid_t child)
{
    forward_pid = child;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a signal must cut short the sleep between samples. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool signals_stop_requested(void)
{
    return stop_requested != 0;
}
