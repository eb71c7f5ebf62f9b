/*
 * clock.h — monotonic time in nanoseconds.
 *
 * Every duration strobe reports (sample weights, elapsed time, rates) is
 * measured with CLOCK_MONOTONIC, which the vDSO serves without a system call.
 */
#ifndef STROBE_BASE_CLOCK_H
#define STROBE_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_US 1000ULL

static inline uint64_t clock_read_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_now_ns(void)
{
    return clock_read_ns(CLOCK_MONOTONIC);
}

/* CPU time the calling thread has used. */
static inline uint64_t clock_thread_cpu_ns(void)
{
    return clock_read_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* CPU time the whole process has used (a system call: not for every
 * sample). */
static inline uint64_t clock_process_cpu_ns(void)
{
    return clock_read_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* Wall-clock time (for timestamps in outputs, never for intervals). */
static inline uint64_t clock_unix_ns(void)
{
    return clock_read_ns(CLOCK_REALTIME);
}

static inline struct timespec clock_ns_to_timespec(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / NS_PER_SEC), (long)(ns % NS_PER_SEC) };
    return ts;
}

/* Busy-wait until clock_now_ns() reaches `due`, and return it: for waits
 * of microseconds, shorter than a sleep can be (the kernel's timer slack
 * alone is 50 us). */
static inline uint64_t clock_spin_until_ns(uint64_t due)
{
    uint64_t now = clock_now_ns();
    while (now < due)
        now = clock_now_ns();
    return now;
}

/* Sleep for about `ns` (a signal may cut it short). */
static inline void clock_sleep_ns(uint64_t ns)
{
    struct timespec ts = clock_ns_to_timespec(ns);
    nanosleep(&ts, NULL);
}

#endif
