/*
 * report.h — the default text report, shaped like Tachyon's so its users can
 * read it at once: the capture summary, a table of functions
 * (nsamples direct/cumulative, sample%, tottime, cumul%, cumtime,
 * filename:lineno(function)), a legend and a summary of interesting
 * functions.
 *
 * Unlike Tachyon, times are estimates from measured wall time (each sample
 * weighted by the time since the previous one), so they add up to the real
 * duration even when samples were missed, and are always in seconds.
 */
#ifndef STROBE_OUTPUT_REPORT_H
#define STROBE_OUTPUT_REPORT_H

#include "sampler/profile.h"

#include <stdio.h>

#define REPORT_DEFAULT_LIMIT 15

enum report_sort {
    SORT_NSAMPLES,          /* direct samples (default) */
    SORT_TOTTIME,
    SORT_CUMTIME,
    SORT_SAMPLE_PCT,
    SORT_CUMUL_PCT,
    SORT_NSAMPLES_CUMUL,
    SORT_NAME,
};

struct report_options {
    enum report_sort sort;
    size_t limit;           /* rows; 0 means all */
    bool summary;           /* print "Summary of Interesting Functions" */
};

/* Accepts Tachyon's names: nsamples, tottime, cumtime, sample-pct,
 * cumul-pct, nsamples-cumul, name. */
bool report_parse_sort(const char *name, enum report_sort *out);
extern const char REPORT_SORT_NAMES[];

/* "Captured N samples in T seconds", rates, warnings, target description. */
void report_write_capture_summary(FILE *f, const struct profile *p);

/* The table, legend and summary of interesting functions. */
void report_write(FILE *f, const struct profile *p, const struct report_options *o);

#endif
