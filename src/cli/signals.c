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

static void on_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (sig == SIGINT && ++interrupts > 1)
        _exit(EXIT_INTERRUPTED);
    /* A terminal's Ctrl-C (sent by the kernel) already reached the program
     * in our process group; a signal sent to strobe alone is passed on. */
    bool from_terminal = info && info->si_code == SI_KERNEL;
    if (forward_pid > 0 && !from_terminal)
        kill(forward_pid, sig);
    stop_requested = 1;
}

void signals_install(pid_t child)
{
    forward_pid = child;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a signal must cut short the sleep between samples. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool signals_stop_requested(void)
{
    return stop_requested != 0;
}
