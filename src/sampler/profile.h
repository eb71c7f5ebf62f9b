/*
 * profile.h — a finished (or in-progress) profile: what the outputs read.
 *
 * Holds the aggregated call tree, the symbols it refers to, the sampling
 * accounting (how many samples were taken, missed and failed, over how long)
 * and a description of the target. Every output format is a function of a
 * const struct profile.
 */
#ifndef STROBE_SAMPLER_PROFILE_H
#define STROBE_SAMPLER_PROFILE_H

#include "proc/target_files.h"
#include "python/frames.h"
#include "sampler/calltree.h"
#include "sampler/symbols.h"

#include <sys/types.h>

/* Why a thread's stack could not be recorded in a sample. */
enum sample_error {
    SAMPLE_ERROR_UNREADABLE,    /* frame or code object memory unreadable */
    SAMPLE_ERROR_TORN,          /* frame changed while being read */
    SAMPLE_ERROR_CYCLE,         /* frame chain loops */
    SAMPLE_ERROR_NOT_CODE,      /* a frame's code object is not one (freed?) */
    SAMPLE_ERROR_THREAD_LIST,   /* the thread list itself was torn */
    SAMPLE_ERROR_COUNT,
};

const char *sample_error_name(enum sample_error e);
/* A short identifier for machine-readable outputs: "torn", "cycle", ... */
const char *sample_error_key(enum sample_error e);

enum stop_reason {
    STOP_DURATION,      /* -d elapsed */
    STOP_SIGNAL,        /* Ctrl-C or SIGTERM */
    STOP_EXITED,        /* the target process ended */
    STOP_READ_FAILED,   /* the target could no longer be read */
    STOP_EXEC,          /* the target replaced its program (exec) */
    STOP_UNLOADED,      /* the target unloaded its CPython runtime */
};

struct profile_stats {
    uint64_t samples;           /* sampling rounds taken */
    uint64_t missed;            /* scheduled rounds skipped because strobe fell behind */
    uint64_t missed_waiting;    /* ... of which came due while strobe waited for
                                   its time: the kernel woke or ran it late */
    uint64_t thread_samples;    /* thread stacks recorded */
    uint64_t thread_errors;     /* thread stacks that could not be read */
    uint64_t errors[SAMPLE_ERROR_COUNT];
    uint64_t truncated;         /* stacks deeper than the limit (kept, marked) */
    uint64_t start_ns, end_ns;  /* monotonic times of the first and last sample */
    uint64_t start_unix_ns;     /* wall-clock time of the start, for outputs */
    uint64_t interval_ns;       /* requested interval */
    uint32_t depth_limit;       /* frames kept per stack before truncating */
    uint32_t max_threads;       /* most threads alive in one sample */
};

/* What sampling cost strobe itself: for --stats and the benchmark. */
struct profile_costs {
    uint64_t syscalls, bytes_read;          /* process_vm_readv calls and bytes */
    uint64_t remote_ranges;                 /* the ranges those calls asked for */
    uint64_t plans;                         /* reads of the read plan, and ... */
    uint64_t plan_ranges, plan_bytes;       /* ... its ranges and bytes, summed */
    uint64_t plan_hits, plan_misses, plan_rebuilds;
    uint64_t plan_unmapped;                 /* planned ranges found unmapped */
    uint64_t code_decoded, code_replaced, code_failed;
    uint64_t code_raced;                    /* died while decoded: refused */
    uint64_t frames_reused, frames_resolved;    /* by the per-thread stack memo */
    uint64_t identity_checks;               /* code objects re-read to prove identity */
    uint64_t identity_checks_skipped;       /* proved by the code generation instead */
    bool generation_broken;                 /* the generation counter failed a self-check */
    uint64_t stacks_repeated;               /* proved unchanged by the GIL, not read */
    bool gil_broken;                        /* the GIL proof failed a self-check */
    uint64_t retries;                       /* thread walks retried after a torn read */
    uint64_t retry_wait_ns;                 /* ... waiting first, out of step (sampler.c) */
    uint64_t second_looks;                  /* ... or for want of copies to check them */
    uint64_t torn[TEAR_SITE_COUNT];         /* looks that caught a stack changing, by
                                               where (python/frames.h) */
    const char *cpu_policy;                 /* how strobe was scheduled (timer.h) */
    uint64_t run_delay_ns;                  /* sampling, it waited this long for a CPU */
    /* Samples taken more than late_threshold_ns after they were due: when
     * strobe waits for a CPU the program is using, it runs once the program
     * blocks, and its samples see the program waiting more often than it
     * does (a bias, not a loss: they are not missed). */
    uint64_t late_samples, late_threshold_ns;
    bool cpu_policy_refused;                /* ... asked for, but the kernel said no */
    double cpu_user_s, cpu_system_s;        /* strobe's own CPU time, sampling */
    uint64_t peak_rss_kb;
};

struct profile {
    struct symbols symbols;
    struct calltree tree;
    struct profile_stats stats;
    struct profile_costs costs;
    pid_t pid;
    char target[64];            /* "CPython 3.12.1" */
    char python[32];            /* "3.12.1" */
    enum stop_reason stop;
    uint32_t truncated_frame;   /* frame id of the "<truncated>" marker */
    /* Whose rights the target's source files are read with (the heat map):
     * the target's, as last seen while sampling; unknown in a replay. */
    struct file_identity sources_reader;
};

void profile_init(struct profile *p);
void profile_free(struct profile *p);

/* Seconds between the first and last sample. */
double profile_duration_s(const struct profile *p);

/* Percentage of thread reads that failed. */
double profile_error_pct(const struct profile *p);

/* Of the missed rounds, those woken late (never more than missed, whatever
 * a recording said). */
uint64_t profile_missed_woken_late(const struct profile_stats *st);

#endif
