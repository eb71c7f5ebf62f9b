/*
 * cold_reader.c — a control for the slowdown columns: a "profiler" that
 * copies, at a given rate, one small piece of the target that the target
 * never writes (the start of its first mapping: its executable's ELF
 * header), with one process_vm_readv each time, as strobe's samples are
 * one call each. If the target slows down under it, the system call alone
 * costs the target; if not, what slows it under strobe is strobe copying
 * the memory the target is writing (its frames, its thread state), whose
 * cache lines must then come back to the target's CPU.
 *
 * It spins to absolute deadlines, so that it keeps the rate where strobe
 * does (a sleep here lasts longer than 10 us); a spinning process on the
 * other CPU cost the target under 1% when measured. Until SIGINT, then prints its
 * count in the words strobe and Tachyon use ("Captured N samples in T
 * seconds"), which bench.py reads.
 *
 * Usage: cold_reader PID RATE_HZ
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>

#include "bench_clock.h"

#define READ_BYTES 64

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The start of the target's first mapping (its executable), or 0. */
static uint64_t first_mapping(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    uint64_t start = 0;
    if (fscanf(f, "%" SCNx64, &start) != 1)
        start = 0;
    fclose(f);
    return start;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cold_reader PID RATE_HZ\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    double rate = atof(argv[2]);
    uint64_t addr = first_mapping(pid);
    if (rate <= 0 || !addr) {
        fprintf(stderr, "cold_reader: no process %s, or no rate\n", argv[1]);
        return 1;
    }
    struct sigaction sa = { .sa_handler = on_sigint };
    sigaction(SIGINT, &sa, NULL);
    char buf[READ_BYTES];
    struct iovec local = { buf, sizeof buf }, remote = { (void *)(uintptr_t)addr, sizeof buf };
    uint64_t interval = (uint64_t)(NS_PER_SEC / rate), start = now_ns(), next = start;
    uint64_t reads = 0, failed = 0;
    while (!stop_requested) {
        next += interval;
        uint64_t now = now_ns();
        if (next < now)
            next = now;     /* behind: skip the lost slots, as strobe does */
        while (now < next && !stop_requested)
            now = now_ns();
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof buf)
            failed++;
        reads++;
    }
    printf("Captured %" PRIu64 " samples in %.2f seconds\n", reads,
           (double)(now_ns() - start) / NS_PER_SEC);
    printf("cold_reader: %" PRIu64 " reads failed\n", failed);
    return 0;
}
