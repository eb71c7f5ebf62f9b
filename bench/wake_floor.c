/*
 * wake_floor.c — what sleeping to absolute deadlines costs on this machine,
 * with no work at all: the floor under any profiler that sleeps between
 * samples (strobe at ordinary rates). Prints the CPU used per wake-up and the
 * median lateness.
 *
 * Usage: wake_floor RATE_HZ SECONDS
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_clock.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: wake_floor RATE_HZ SECONDS\n");
        return 2;
    }
    double rate = atof(argv[1]), seconds = atof(argv[2]);
    if (rate <= 0 || seconds <= 0)
        return 2;
    prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    uint64_t interval = (uint64_t)(NS_PER_SEC / rate);
    uint64_t next = now_ns(), end = next + (uint64_t)(seconds * NS_PER_SEC);
    uint64_t wakeups = 0;
    while (next < end) {
        next += interval;
        struct timespec due = { (time_t)(next / NS_PER_SEC), (long)(next % NS_PER_SEC) };
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        wakeups++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("wakeups %llu cpu_seconds %.6f cpu_percent %.2f\n", (unsigned long long)wakeups, cpu,
           100.0 * cpu / seconds);
    return 0;
}
