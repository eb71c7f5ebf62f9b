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
 * `make bench-slowdown` runs it with more arguments, as controls that take
 * the same time and make the same calls but read elsewhere: `none` reads
 * nothing (it only spins to the deadlines), and ADDR:LEN... (hex address,
 * bytes) reads those ranges, one iovec each in the one call, which the
 * benchmark points at the workload's own frames and thread state: the
 * bytes of them strobe copies with each sample.
 *
 * Usage: cold_reader PID RATE_HZ [none | ADDR:LEN...]
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "bench_clock.h"

#define READ_BYTES 64
/* Most bytes and ranges read with ADDR:LEN... */
#define MAX_READ_BYTES 65536
#define MAX_RANGES 8

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

/* One ADDR:LEN argument; false if it is not one. */
static bool parse_range(const char *arg, uint64_t *addr, size_t *len)
{
    char *end;
    *addr = strtoull(arg, &end, 16);
    if (*end != ':')
        return false;
    *len = (size_t)strtoull(end + 1, &end, 10);
    return *end == '\0' && *addr && *len > 0 && *len <= MAX_READ_BYTES;
}

/* The remote ranges the arguments name (none: the executable's first
 * bytes; `none`: no range), laid out in buf; their count, or -1 if the
 * arguments name none. */
static int choose_ranges(pid_t pid, int nargs, char **args, struct iovec *local,
                         struct iovec *remote, char *buf)
{
    uint64_t addr[MAX_RANGES];
    size_t len[MAX_RANGES], total = 0;
    int n = 0;
    if (nargs == 0) {
        addr[0] = first_mapping(pid);
        len[0] = READ_BYTES;
        n = addr[0] ? 1 : -1;
    } else if (nargs == 1 && strcmp(args[0], "none") == 0) {
        n = 0;
    } else if (nargs <= MAX_RANGES) {
        for (n = 0; n < nargs; n++)
            if (!parse_range(args[n], &addr[n], &len[n]))
                return -1;
    } else {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (total + len[i] > MAX_READ_BYTES)
            return -1;
        local[i] = (struct iovec){ buf + total, len[i] };
        remote[i] = (struct iovec){ (void *)(uintptr_t)addr[i], len[i] };
        total += len[i];
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cold_reader PID RATE_HZ [none | ADDR:LEN...]\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    double rate = atof(argv[2]);
    static char buf[MAX_READ_BYTES];
    struct iovec local[MAX_RANGES], remote[MAX_RANGES];
    int nranges = choose_ranges(pid, argc - 3, argv + 3, local, remote, buf);
    if (rate <= 0 || nranges < 0) {
        fprintf(stderr, "cold_reader: no process %s, no rate, or no range to read\n", argv[1]);
        return 1;
    }
    ssize_t want = 0;
    for (int i = 0; i < nranges; i++)
        want += (ssize_t)local[i].iov_len;
    struct sigaction sa = { .sa_handler = on_sigint };
    sigaction(SIGINT, &sa, NULL);
    uint64_t interval = (uint64_t)(NS_PER_SEC / rate), start = now_ns(), next = start;
    uint64_t reads = 0, failed = 0;
    while (!stop_requested) {
        next += interval;
        uint64_t now = now_ns();
        if (next < now)
            next = now;     /* behind: skip the lost slots, as strobe does */
        while (now < next && !stop_requested)
            now = now_ns();
        if (nranges &&
            process_vm_readv(pid, local, (unsigned long)nranges, remote, (unsigned long)nranges,
                             0) != want)
            failed++;
        reads++;
    }
    printf("Captured %" PRIu64 " samples in %.2f seconds\n", reads,
           (double)(now_ns() - start) / NS_PER_SEC);
    printf("cold_reader: %" PRIu64 " reads failed\n", failed);
    return 0;
}
