/*
 * stats.c — the --stats summary; see stats.h.
 */
#include "output/stats.h"

#include "base/clock.h"

static double per(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

void stats_write(FILE *f, const struct profile *p)
{
    const struct profile_costs *c = &p->costs;
    uint64_t samples = p->stats.samples;
    double duration = profile_duration_s(p);
    double cpu = c->cpu_user_s + c->cpu_system_s;
    fprintf(f, "strobe statistics:\n");
    fprintf(f, "  samples            %llu rounds (%.0f/s), %llu thread stacks\n",
            (unsigned long long)samples, duration > 0 ? (double)samples / duration : 0.0,
            (unsigned long long)p->stats.thread_samples);
    fprintf(f, "  system calls       %.3f per sample (%llu process_vm_readv, %.1f remote ranges "
               "each)\n",
            per(c->syscalls, samples), (unsigned long long)c->syscalls,
            per(c->remote_ranges, c->syscalls));
    fprintf(f, "  bytes read         %.1f KiB per sample\n", per(c->bytes_read, samples) / 1024);
    fprintf(f, "  read plan          %.1f ranges, %.1f KiB on average; %.3f%% of reads from it, "
               "%llu on demand, %llu rebuilds, %llu ranges found unmapped\n",
            per(c->plan_ranges, c->plans), per(c->plan_bytes, c->plans) / 1024,
            100.0 * per(c->plan_hits, c->plan_hits + c->plan_misses),
            (unsigned long long)c->plan_misses, (unsigned long long)c->plan_rebuilds,
            (unsigned long long)c->plan_unmapped);
    fprintf(f, "  code objects       %llu decoded, %llu replaced after their address was reused, "
               "%llu unreadable, %llu refused as they died while read\n",
            (unsigned long long)c->code_decoded, (unsigned long long)c->code_replaced,
            (unsigned long long)c->code_failed, (unsigned long long)c->code_raced);
    fprintf(f, "  code identity      %llu read, %llu proved by the generation counter%s\n",
            (unsigned long long)c->identity_checks, (unsigned long long)c->identity_checks_skipped,
            c->generation_broken ? " (counter distrusted after a failed self-check)" : "");
    fprintf(f, "  stack memo         %.3f%% of frames reused from the thread's previous sample\n",
            100.0 * per(c->frames_reused, c->frames_reused + c->frames_resolved));
    fprintf(f, "  threads at rest    %llu stacks repeated: the GIL had not reached their "
               "threads since they were read%s\n",
            (unsigned long long)c->stacks_repeated,
            c->gil_broken ? " (not trusted after a failed self-check)" : "");
    fprintf(f, "  second looks       %llu after a torn read (%.1f ms waited first), %llu to check "
               "a stack that moved\n",
            (unsigned long long)c->retries, (double)c->retry_wait_ns / NS_PER_MS,
            (unsigned long long)c->second_looks);
    uint64_t torn = 0;
    for (int site = 0; site < TEAR_SITE_COUNT; site++)
        torn += c->torn[site];
    fprintf(f, "  torn reads         %llu looks caught a stack changing: %llu at its innermost "
               "frame, %llu at a caller, %llu in the pointer to its innermost frame, %llu at a "
               "frame that failed its checks\n",
            (unsigned long long)torn, (unsigned long long)c->torn[TEAR_INNERMOST],
            (unsigned long long)c->torn[TEAR_CALLER],
            (unsigned long long)c->torn[TEAR_FRAME_POINTER],
            (unsigned long long)c->torn[TEAR_BAD_FRAME]);
    if (c->cpu_policy)
        fprintf(f, "  scheduling         %s%s; %.1f ms runnable, waiting for a CPU\n",
                c->cpu_policy, c->cpu_policy_refused ? " asked for, refused by the kernel" : "",
                (double)c->run_delay_ns / NS_PER_MS);
    uint64_t waiting = profile_missed_woken_late(&p->stats);
    fprintf(f, "  missed rounds      %llu as sampling fell behind, %llu as strobe was woken "
               "late\n",
            (unsigned long long)(p->stats.missed - waiting), (unsigned long long)waiting);
    fprintf(f, "  late samples       %llu (%.2f%%) taken over %.0f us after they were due\n",
            (unsigned long long)c->late_samples, 100.0 * per(c->late_samples, samples),
            (double)c->late_threshold_ns / NS_PER_US);
    fprintf(f, "  strobe CPU         %.2f s user + %.2f s system = %.2f us per sample, "
               "%.1f%% of one core\n",
            c->cpu_user_s, c->cpu_system_s, 1e6 * per((uint64_t)(cpu * 1e9), samples) / 1e9,
            duration > 0 ? 100.0 * cpu / duration : 0.0);
    fprintf(f, "  peak memory        %.1f MiB resident\n", (double)c->peak_rss_kb / 1024);
}

void stats_warn_late(FILE *f, const struct profile *p)
{
    const struct profile_costs *c = &p->costs;
    double late = per(c->late_samples, p->stats.samples);
    double duration = profile_duration_s(p);
    double waiting = duration > 0 ? (double)c->run_delay_ns / NS_PER_SEC / duration : 0.0;
    if (late < LATE_WARN_FRACTION || waiting < LATE_WARN_FRACTION)
        return;
    fprintf(f, "strobe: note: %.0f%% of samples came over %.2f ms late, as strobe waited for a "
               "busy CPU (%.0f%% of the time): code that runs in short bursts between waits may "
               "be under-counted; a CPU of strobe's own (taskset) avoids it\n",
            100.0 * late, (double)c->late_threshold_ns / NS_PER_MS, 100.0 * waiting);
}

void stats_write_live(FILE *f, const struct profile *p, const struct profile_stats *since,
                      uint64_t window_ns, uint64_t cpu_ns, bool terminal)
{
    const struct profile_stats *now = &p->stats;
    uint64_t samples = now->samples - since->samples;
    uint64_t missed = now->missed - since->missed;
    uint64_t ok = now->thread_samples - since->thread_samples;
    uint64_t errors = now->thread_errors - since->thread_errors;
    double seconds = (double)window_ns / (double)NS_PER_SEC;
    double rate = seconds > 0 ? (double)samples / seconds : 0;
    /* On a terminal the line rewrites itself; in a log each is kept. */
    fprintf(f, "%sstrobe: %.0f samples/s (%.2f us of CPU each), missed %.2f%%, errors %.3f%%, "
               "%llu thread stacks, %zu threads seen%s",
            terminal ? "\r\033[K" : "", rate, per(cpu_ns, samples) / (double)NS_PER_US,
            100.0 * per(missed, samples + missed), 100.0 * per(errors, ok + errors),
            (unsigned long long)ok, p->tree.nthreads, terminal ? "" : "\n");
    fflush(f);
}
