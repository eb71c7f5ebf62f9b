/*
 * report.c — the Tachyon-shaped text report; see report.h.
 */
#include "output/report.h"

#include "base/clock.h"
#include "sampler/flat.h"

#include <stdlib.h>
#include <string.h>

#define NSAMPLES_WIDTH 15
#define PCT_WIDTH 8
#define TIME_WIDTH 12
#define SUMMARY_TOP 3

const char REPORT_SORT_NAMES[] =
    "nsamples, tottime, cumtime, sample-pct, cumul-pct, nsamples-cumul, name";

static const struct {
    const char *name;
    enum report_sort sort;
} sort_names[] = {
    { "nsamples", SORT_NSAMPLES },     { "tottime", SORT_TOTTIME },
    { "cumtime", SORT_CUMTIME },       { "sample-pct", SORT_SAMPLE_PCT },
    { "cumul-pct", SORT_CUMUL_PCT },   { "nsamples-cumul", SORT_NSAMPLES_CUMUL },
    { "name", SORT_NAME },
};

bool report_parse_sort(const char *name, enum report_sort *out)
{
    for (size_t i = 0; i < ARRAY_LEN(sort_names); i++) {
        if (strcmp(name, sort_names[i].name) == 0) {
            *out = sort_names[i].sort;
            return true;
        }
    }
    return false;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static double seconds(uint64_t ns)
{
    return (double)ns / (double)NS_PER_SEC;
}

static void write_error_causes(FILE *f, const struct profile *p)
{
    if (!p->stats.thread_errors) {
        fputc('\n', f);
        return;
    }
    const char *sep = " (";
    for (int e = 0; e < SAMPLE_ERROR_COUNT; e++) {
        if (!p->stats.errors[e])
            continue;
        fprintf(f, "%s%llu %s", sep, (unsigned long long)p->stats.errors[e],
                sample_error_name((enum sample_error)e));
        sep = ", ";
    }
    fputs(")\n", f);
}

/* Missed rounds and why: due while strobe was still busy with earlier ones,
 * or while it waited and the kernel woke or ran it late (timer.h). */
static void write_missed(FILE *f, const struct profile_stats *st)
{
    static const char *const BUSY = "sampling could not keep up with the requested rate";
    static const char *const WOKEN_LATE = "the kernel woke strobe late (see --sched)";
    if (!st->missed)
        return;
    uint64_t waiting = profile_missed_woken_late(st), busy = st->missed - waiting;
    uint64_t expected = st->samples + st->missed;
    fprintf(f, "Warning: missed %llu samples from the expected total of %llu (%.2f%%): ",
            (unsigned long long)st->missed, (unsigned long long)expected,
            pct(st->missed, expected));
    if (!waiting)
        fprintf(f, "%s\n", BUSY);
    else if (!busy)
        fprintf(f, "%s\n", WOKEN_LATE);
    else
        fprintf(f, "%llu as %s, %llu as %s\n", (unsigned long long)busy, BUSY,
                (unsigned long long)waiting, WOKEN_LATE);
}

void report_write_capture_summary(FILE *f, const struct profile *p)
{
    const struct profile_stats *st = &p->stats;
    double duration = profile_duration_s(p);
    fprintf(f, "Captured %llu sample%s in %.2f seconds\n", (unsigned long long)st->samples,
            st->samples == 1 ? "" : "s", duration);
    fprintf(f, "Sample rate: %.2f samples/sec\n", duration > 0 ? (double)st->samples / duration : 0.0);
    fprintf(f, "Error rate: %.2f%%", profile_error_pct(p));
    write_error_causes(f, p);
    write_missed(f, st);
    if (st->truncated)
        fprintf(f, "Note: %llu stacks were deeper than %u frames; their outermost frames are "
                   "shown as <truncated>\n", (unsigned long long)st->truncated, st->depth_limit);
    fprintf(f, "Target: PID %d, %s, %zu thread%s seen (at most %u at once), %llu thread stacks\n",
            (int)p->pid, p->target[0] ? p->target : "CPython", p->tree.nthreads,
            p->tree.nthreads == 1 ? "" : "s", st->max_threads,
            (unsigned long long)st->thread_samples);
}

/* A table row with the strings its sort order needs. */
struct sorted_row {
    const struct flat_row *row;
    const char *file;   /* base name */
    const char *name;
    int32_t line;
};

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return (a < b) - (a > b);
}

static int cmp_name(const struct sorted_row *a, const struct sorted_row *b)
{
    int c = strcmp(a->file, b->file);
    if (!c)
        c = (a->line > b->line) - (a->line < b->line);
    if (!c)
        c = strcmp(a->name, b->name);
    return c;
}

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
    const struct sorted_row *a = pa, *b = pb;
    int c = 0;
    switch (*(const enum report_sort *)ctx) {
    case SORT_NSAMPLES:
    case SORT_SAMPLE_PCT:
        c = cmp_u64_desc(a->row->direct, b->row->direct);
        break;
    case SORT_TOTTIME:
        c = cmp_u64_desc(a->row->direct_ns, b->row->direct_ns);
        break;
    case SORT_CUMTIME:
        c = cmp_u64_desc(a->row->cumulative_ns, b->row->cumulative_ns);
        break;
    case SORT_CUMUL_PCT:
    case SORT_NSAMPLES_CUMUL:
        c = cmp_u64_desc(a->row->cumulative, b->row->cumulative);
        break;
    case SORT_NAME:
        break;
    }
    return c ? c : cmp_name(a, b);
}

static void write_table(FILE *f, const struct profile *p, const struct flat_profile *flat,
                        const struct report_options *o)
{
    struct sorted_row *rows = xmalloc(MAX(flat->count, 1) * sizeof(*rows));
    for (size_t i = 0; i < flat->count; i++) {
        const struct frame_sym *fs = symbols_get(&p->symbols, flat->rows[i].frame);
        rows[i] = (struct sorted_row){ &flat->rows[i],
                                       base_name(symbols_str(&p->symbols, fs->file)),
                                       symbols_str(&p->symbols, fs->name), fs->line };
    }
    qsort_r(rows, flat->count, sizeof(*rows), cmp_rows, (void *)&o->sort);
    size_t shown = o->limit ? MIN(o->limit, flat->count) : flat->count;

    fprintf(f, "Profile Stats:\n");
    fprintf(f, "%*s  %*s  %*s  %*s  %*s  %s\n", NSAMPLES_WIDTH, "nsamples", PCT_WIDTH, "sample%",
            TIME_WIDTH, "tottime (s)", PCT_WIDTH, "cumul%", TIME_WIDTH, "cumtime (s)",
            "filename:lineno(function)");
    for (size_t i = 0; i < shown; i++) {
        const struct flat_row *r = rows[i].row;
        char nsamples[48];
        snprintf(nsamples, sizeof(nsamples), "%llu/%llu", (unsigned long long)r->direct,
                 (unsigned long long)r->cumulative);
        fprintf(f, "%*s  %*.1f  %*.3f  %*.1f  %*.3f  %s:%d(%s)\n", NSAMPLES_WIDTH, nsamples,
                PCT_WIDTH, pct(r->direct, flat->total_samples), TIME_WIDTH, seconds(r->direct_ns),
                PCT_WIDTH, pct(r->cumulative, flat->total_samples), TIME_WIDTH,
                seconds(r->cumulative_ns), rows[i].file, rows[i].line, rows[i].name);
    }
    if (shown < flat->count)
        fprintf(f, "(%zu of %zu rows shown; -l 0 shows all)\n", shown, flat->count);
    free(rows);
}

static void write_legend(FILE *f)
{
    fputs("\nLegend:\n"
          "  nsamples: Direct/Cumulative samples (direct executing / on call stack)\n"
          "  sample%: Percentage of total samples this function was directly executing\n"
          "  tottime: Estimated total time spent directly in this function (wall seconds)\n"
          "  cumul%: Percentage of total samples when this function was on the call stack\n"
          "  cumtime: Estimated cumulative time (including time in called functions)\n"
          "  filename:lineno(function): Function location and name\n",
          f);
}

/* Per function (file, name) over all its lines. */
struct func_total {
    uint32_t file, name;
    uint64_t direct, cumulative;
};

static int cmp_func_key(const void *pa, const void *pb)
{
    const struct func_total *a = pa, *b = pb;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return (a->name > b->name) - (a->name < b->name);
}

/* Sort keys of the three summary lists, as doubles so one comparator serves. */
static double key_hotspot(const struct func_total *t)
{
    return t->cumulative ? (double)t->direct / (double)t->cumulative : 0;
}
static double key_indirect(const struct func_total *t)
{
    return (double)(t->cumulative - t->direct);
}
static double key_magnification(const struct func_total *t)
{
    return t->direct ? (double)t->cumulative / (double)t->direct : 0;
}

typedef double (*func_key_fn)(const struct func_total *);

static int cmp_by_key(const void *pa, const void *pb, void *ctx)
{
    func_key_fn key = *(func_key_fn *)ctx;
    double a = key(pa), b = key(pb);
    if (a != b)
        return a > b ? -1 : 1;
    /* Ties: the function with more samples matters more. */
    const struct func_total *fa = pa, *fb = pb;
    if (fa->cumulative != fb->cumulative)
        return fa->cumulative > fb->cumulative ? -1 : 1;
    return cmp_func_key(pa, pb);
}

/* The three lists of Tachyon's "Summary of Interesting Functions": what to
 * sort by, which functions qualify, and how each line reads. */
static bool has_direct(const struct func_total *t)
{
    return t->direct > 0;
}
static bool has_indirect(const struct func_total *t)
{
    return t->cumulative > t->direct;
}
static bool has_both(const struct func_total *t)
{
    return t->direct > 0 && t->cumulative > t->direct;
}

static void describe_hotspot(FILE *f, const struct func_total *t, uint64_t total)
{
    fprintf(f, "%.3f direct/cumulative ratio, %.1f%% direct samples", key_hotspot(t),
            pct(t->direct, total));
}
static void describe_indirect(FILE *f, const struct func_total *t, uint64_t total)
{
    fprintf(f, "%llu indirect calls, %.1f%% total stack presence",
            (unsigned long long)(t->cumulative - t->direct), pct(t->cumulative, total));
}
static void describe_magnification(FILE *f, const struct func_total *t, uint64_t total)
{
    (void)total;
    fprintf(f, "%.1fx call magnification, %llu indirect calls from %llu direct",
            key_magnification(t), (unsigned long long)(t->cumulative - t->direct),
            (unsigned long long)t->direct);
}

static const struct summary_list {
    const char *title;
    func_key_fn key;
    bool (*qualifies)(const struct func_total *);
    void (*describe)(FILE *, const struct func_total *, uint64_t total);
} summary_lists[] = {
    { "Functions with Highest Direct/Cumulative Ratio (Hot Spots)", key_hotspot, has_direct,
      describe_hotspot },
    { "Functions with Highest Call Frequency (Indirect Calls)", key_indirect, has_indirect,
      describe_indirect },
    { "Functions with Highest Call Magnification (Cumulative/Direct)", key_magnification,
      has_both, describe_magnification },
};

static size_t aggregate_functions(const struct profile *p, const struct flat_profile *flat,
                                  struct func_total **out)
{
    struct func_total *all = xmalloc(MAX(flat->count, 1) * sizeof(*all));
    for (size_t i = 0; i < flat->count; i++) {
        const struct frame_sym *fs = symbols_get(&p->symbols, flat->rows[i].frame);
        all[i] = (struct func_total){ fs->file, fs->name, flat->rows[i].direct,
                                      flat->rows[i].cumulative };
    }
    qsort(all, flat->count, sizeof(*all), cmp_func_key);
    size_t n = 0;
    for (size_t i = 0; i < flat->count; i++) {
        if (n && all[n - 1].file == all[i].file && all[n - 1].name == all[i].name) {
            all[n - 1].direct += all[i].direct;
            /* Lines of one function are on a stack together only through
             * recursion; summing matches Tachyon's summary. */
            all[n - 1].cumulative += all[i].cumulative;
        } else {
            all[n++] = all[i];
        }
    }
    *out = all;
    return n;
}

static void write_summary(FILE *f, const struct profile *p, const struct flat_profile *flat)
{
    struct func_total *funcs;
    size_t n = aggregate_functions(p, flat, &funcs);
    fputs("\nSummary of Interesting Functions:\n", f);
    for (size_t l = 0; l < ARRAY_LEN(summary_lists); l++) {
        const struct summary_list *list = &summary_lists[l];
        fprintf(f, "\n%s:\n", list->title);
        func_key_fn key = list->key;
        qsort_r(funcs, n, sizeof(*funcs), cmp_by_key, &key);
        for (size_t i = 0, shown = 0; i < n && shown < SUMMARY_TOP; i++) {
            if (!list->qualifies(&funcs[i]))
                continue;
            fputs("  ", f);
            list->describe(f, &funcs[i], flat->total_samples);
            fprintf(f, ": %s:(%s)\n", base_name(symbols_str(&p->symbols, funcs[i].file)),
                    symbols_str(&p->symbols, funcs[i].name));
            shown++;
        }
    }
    free(funcs);
}

void report_write(FILE *f, const struct profile *p, const struct report_options *o)
{
    struct flat_profile flat;
    flat_profile_compute(p, &flat);
    if (flat.total_samples == 0) {
        fputs("No samples were collected.\n", f);
        flat_profile_free(&flat);
        return;
    }
    write_table(f, p, &flat, o);
    write_legend(f);
    if (o->summary)
        write_summary(f, p, &flat);
    flat_profile_free(&flat);
}
