/*
 * fuzz_sampler.c — the whole sampling engine over hostile memory.
 *
 * The input is a fake target (fake_memory.h): which CPython, where its
 * runtime is, and regions of its memory; the seeds are recordings of real
 * interpreters (record_seed.c). Everything strobe does per sample runs over
 * it: interpreter and thread lists, frame walks with their checks, the code
 * cache (strings, line tables), aggregation, and then every output format
 * is written. The only acceptable outcomes are samples and
 * counted errors: no crash, no sanitizer report, no hang, no unbounded
 * allocation.
 */
#include "fake_memory.h"

#include "output/formats.h"
#include "python/target.h"
#include "sampler/sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Samples per input: enough for plans to settle, caches to be reused and
 * identities to be checked again. */
#define FUZZ_SAMPLES 4
#define FUZZ_SAMPLE_NS 1000000
/* A pid no process has (pid_max is at most 2^22): /proc lookups fail. */
#define FUZZ_PID 0x7ffffff0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_outputs(const struct profile *p)
{
    FILE *sink = fopen("/dev/null", "w");
    if (!sink)
        return;
    struct report_options ro = { .sort = SORT_NSAMPLES, .limit = 0, .summary = true };
    char err[ERRMSG_MAX];
    for (int f = 0; f < FORMAT_COUNT; f++) {
        struct output_request req = { (enum output_format)f, &ro, NULL, NULL };
        output_write(&req, sink, p, err, sizeof(err));
    }
    fclose(sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake_header h;
    if (!fake_memory_load(data, size, &h))
        return 0;
    static struct py_target t;
    if (!fake_target_init(&t, &h, FUZZ_PID))
        return 0;
    struct profile p;
    profile_init(&p);
    struct sampler *s = sampler_new(&t, &p);
    for (int i = 0; i < FUZZ_SAMPLES && sampler_sample(s, FUZZ_SAMPLE_NS); i++) {
        p.stats.samples++;
        p.stats.end_ns += FUZZ_SAMPLE_NS;
    }
    sampler_delete(s);
    /* STROBE_FUZZ_VERBOSE=1: show what each input gave (seed sanity). */
    if (getenv("STROBE_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_sampler: CPython 3.%u: %llu samples, %llu thread stacks, %llu errors\n",
                h.minor, (unsigned long long)p.stats.samples,
                (unsigned long long)p.stats.thread_samples, (unsigned long long)p.stats.thread_errors);
    write_outputs(&p);
    profile_free(&p);
    return 0;
}
