/*
 * bench_clock.h — the monotonic clock in nanoseconds, for the benchmark's
 * small C programs (each stands alone: one file, no link to strobe).
 */
#ifndef STROBE_BENCH_CLOCK_H
#define STROBE_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_SEC 1000000000ULL
#define NS_PER_US 1000ULL

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif
