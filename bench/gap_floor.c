/*
 * gap_floor.c — the samples a sampler that costs nothing would miss here.
 *
 * At rates whose interval is shorter than a sleep's lateness (100 kHz on
 * the virtual machines strobe is benchmarked on), a sampler spins to each
 * deadline. It still misses the slots that pass while its CPU is taken
 * from it: by the guest kernel, or by the host, which the guest cannot
 * see. This program spins on the clock as such a sampler would, takes every
 * slot the instant it is due (a sample that costs nothing), and skips and
 * counts the slots that passed as strobe's timer does (src/sampler/timer.h:
 * a slot is lost once the clock has run a whole interval past the one
 * after it). Its missed % is the floor under any sampler's missed % at
 * that rate on this machine, measured now.
 *
 * Usage: gap_floor RATE_HZ SECONDS
 * Prints: missed_percent P slots N gaps G longest_gap_us L
 * (a gap: the clock jumped past at least one whole interval between two
 * reads, so at least one slot was lost).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_clock.h"


int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gap_floor RATE_HZ SECONDS\n");
        return 2;
    }
    double rate = atof(argv[1]), seconds = atof(argv[2]);
    if (rate <= 0 || rate > NS_PER_SEC || seconds <= 0)
        return 2;
    uint64_t interval = (uint64_t)(NS_PER_SEC / rate);
    uint64_t start = now_ns(), end = start + (uint64_t)(seconds * NS_PER_SEC);
    uint64_t next = start, slots = 0, missed = 0, gaps = 0, longest = 0;
    uint64_t previous_read = start;
    for (;;) {
        uint64_t now = now_ns();
        uint64_t gap = now - previous_read;
        previous_read = now;
        if (gap > longest)
            longest = gap;
        if (now >= end)
            break;
        if (now < next)
            continue;
        /* The slot due at `next` is taken now, at no cost. */
        slots++;
        next += interval;
        if (now >= next + interval) {
            uint64_t skipped = (now - next) / interval;
            missed += skipped;
            slots += skipped;
            next += skipped * interval;
            gaps++;
        }
    }
    printf("missed_percent %.3f slots %llu gaps %llu longest_gap_us %.1f\n",
           slots ? 100.0 * (double)missed / (double)slots : 0.0, (unsigned long long)slots,
           (unsigned long long)gaps, (double)longest / NS_PER_US);
    return 0;
}
