/*
 * stats.h — `--stats`: what the profile cost strobe itself (system calls,
 * bytes read, how well its caches did, its CPU time and memory), so the
 * claims about overhead can be checked on any workload.
 */
#ifndef STROBE_OUTPUT_STATS_H
#define STROBE_OUTPUT_STATS_H

#include "sampler/profile.h"

#include <stdio.h>

void stats_write(FILE *f, const struct profile *p);

/* Late samples (profile_costs.late_samples) bias a profile when they are
 * this share of all, or more, and strobe spent at least this share of the
 * time waiting for a CPU (runnable; otherwise a sleep's lateness made them
 * late, which does not depend on what the program does): then say so. */
#define LATE_WARN_FRACTION 0.05

/* One line on `f` if enough samples were late to bias the profile. */
void stats_warn_late(FILE *f, const struct profile *p);

/* The --realtime-stats line: rate, strobe's CPU per sample, missed and
 * errors since `since`, a copy of the stats at the previous line taken
 * `window_ns` ago, in which strobe used `cpu_ns` of CPU. */
void stats_write_live(FILE *f, const struct profile *p, const struct profile_stats *since,
                      uint64_t window_ns, uint64_t cpu_ns, bool terminal);

#endif
