/*
 * sampler.h — the sampling loop: schedule, read, walk, aggregate.
 *
 * One sample is: read the snapshot plan (one system call in steady state),
 * enumerate every thread of every interpreter, walk each thread's frames,
 * resolve only what changed since that thread's previous sample, and add the
 * sample to the call tree weighted by the time since the previous sample.
 * A thread whose stack cannot be read is counted as an error for that thread
 * only; the other threads of the sample are kept.
 */
#ifndef STROBE_SAMPLER_SAMPLER_H
#define STROBE_SAMPLER_SAMPLER_H

#include "python/target.h"
#include "sampler/profile.h"
#include "sampler/timer.h"

struct sampler_options {
    uint64_t interval_ns;
    uint64_t duration_ns;   /* 0: until the target exits or stop is asked */
    enum cpu_policy cpu_policy;
};

/* Polled between samples with the profile so far and the time, and at
 * least every SAMPLER_POLL_NS however slow the rate: returns
 * SAMPLER_CONTINUE, or the reason to stop. */
#define SAMPLER_POLL_NS (100 * NS_PER_MS)
#define SAMPLER_CONTINUE (-1)
typedef int (*sampler_poll_fn)(void *ctx, struct profile *p, uint64_t now_ns);

/* The engine without the timed loop, one sample at a time: for tests and
 * fuzzers that drive it over fake memory. sampler_sample returns false once
 * the target can no longer be read or has unloaded its runtime. */
struct sampler;
struct sampler *sampler_new(struct py_target *target, struct profile *profile);
bool sampler_sample(struct sampler *s, uint64_t weight_ns);
void sampler_delete(struct sampler *s);

/* Sample `target` into `profile` until duration, exit or poll says stop.
 * Returns why it stopped (also stored in profile->stop). A profile that
 * already has samples is continued (after the target exec'd). */
enum stop_reason sampler_run(struct py_target *target, const struct sampler_options *opts,
                             struct profile *profile, sampler_poll_fn poll, void *poll_ctx);

#endif
