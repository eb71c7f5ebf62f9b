/*
 * cacheline_floor.c — how long one cache line takes to go from CPU 0 to
 * CPU 1 and back, now.
 *
 * Why the benchmark asks: strobe copies the lines the target is writing (its
 * innermost frame, its thread state) many thousand times a second, so each
 * sample moves them between the two CPUs, and each time the target wants
 * them back. On a virtual machine the host may run the two virtual CPUs on
 * cores that share a cache or on cores far apart, and move them from one
 * arrangement to the other while the benchmark runs; the rates, error rates
 * and slowdowns move with it. Printing the round trip beside each row shows
 * which arrangement a row was measured on.
 *
 * Two threads, pinned to CPUs 0 and 1, pass one flag back and forth.
 * Usage: cacheline_floor ROUND_TRIPS   (prints "round_trip_ns N")
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_clock.h"

#define CACHE_LINE 64

static _Alignas(CACHE_LINE) atomic_int ball;    /* 1: CPU 1's turn, 0: CPU 0's */
static long round_trips;

static int pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *return_ball(void *unused)
{
    (void)unused;
    if (pin_to(1) != 0)
        exit(1);
    for (long i = 0; i < round_trips; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 1)
            ;
        atomic_store_explicit(&ball, 0, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    round_trips = argc > 1 ? atol(argv[1]) : 0;
    if (round_trips <= 0) {
        fprintf(stderr, "usage: cacheline_floor ROUND_TRIPS\n");
        return 2;
    }
    pthread_t other;
    if (pin_to(0) != 0 || pthread_create(&other, NULL, return_ball, NULL) != 0) {
        fprintf(stderr, "cacheline_floor: needs CPUs 0 and 1\n");
        return 1;
    }
    uint64_t start = now_ns();
    for (long i = 0; i < round_trips; i++) {
        atomic_store_explicit(&ball, 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 0)
            ;
    }
    uint64_t elapsed = now_ns() - start;
    pthread_join(other, NULL);
    printf("round_trip_ns %.0f\n", (double)elapsed / (double)round_trips);
    return 0;
}
