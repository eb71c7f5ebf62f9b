/*
 * spawn.c — see spawn.h.
 */
#include "proc/spawn.h"

#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_SIGNAL_BASE 128
#define TERMINATE_POLL_MS 10

bool spawn_program(char *const argv[], pid_t *pid, char *err, size_t errlen)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        return false;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return false;
    }
    if (child == 0) {
        close(pipefd[0]);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t unused = write(pipefd[1], &e, sizeof(e));
        (void)unused;
        _exit(127);
    }
    close(pipefd[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(pipefd[0], &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof(child_errno)) {
        waitpid(child, NULL, 0);
        snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(child_errno));
        return false;
    }
    *pid = child;
    return true;
}

static int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return EXIT_SIGNAL_BASE + WTERMSIG(status);
    return 1;
}

bool spawn_reap(pid_t pid, bool block, int *exit_code)
{
    int status;
    pid_t r;
    do {
        r = waitpid(pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r != pid)
        return false;
    *exit_code = exit_code_of(status);
    return true;
}

int spawn_terminate(pid_t pid, unsigned grace_ms)
{
    int code = EXIT_FAILURE;    /* if it cannot be reaped (not our child any more) */
    if (spawn_reap(pid, false, &code))
        return code;
    kill(pid, SIGTERM);
    for (unsigned waited = 0; waited < grace_ms; waited += TERMINATE_POLL_MS) {
        if (spawn_reap(pid, false, &code))
            return code;
        clock_sleep_ns(TERMINATE_POLL_MS * NS_PER_MS);
    }
    kill(pid, SIGKILL);
    spawn_reap(pid, true, &code);
    return code;
}
