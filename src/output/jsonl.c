/*
 * jsonl.c — see jsonl.h and docs/jsonl.md.
 */
#include "output/jsonl.h"

#include "base/clock.h"
#include "output/formats.h"
#include "output/json.h"
#include "sampler/flat.h"

#include <stdlib.h>

static void write_frame(FILE *f, const struct symbols *s, uint32_t frame)
{
    const struct frame_sym *fs = symbols_get(s, frame);
    fputs("{\"file\":", f);
    json_string(f, symbols_str(s, fs->file));
    fputs(",\"function\":", f);
    json_string(f, symbols_str(s, fs->name));
    fprintf(f, ",\"line\":%d}", fs->line);
}

static void write_header(FILE *f, const struct profile *p)
{
    const struct profile_stats *st = &p->stats;
    fprintf(f, "{\"type\":\"header\",\"format\":\"strobe-jsonl\",\"version\":%d,\"strobe\":",
            JSONL_SCHEMA_VERSION);
    json_string(f, STROBE_VERSION);
    fprintf(f, ",\"pid\":%d,\"python\":", (int)p->pid);
    json_string(f, p->python);
    fprintf(f, ",\"rate_hz\":%.6g,\"interval_ns\":%llu,\"start_unix_ns\":%llu,\"duration_s\":",
            st->interval_ns ? (double)NS_PER_SEC / (double)st->interval_ns : 0.0,
            (unsigned long long)st->interval_ns, (unsigned long long)st->start_unix_ns);
    json_seconds(f, st->end_ns > st->start_ns ? st->end_ns - st->start_ns : 0);
    fputs("}\n", f);
}

/* Returns how many stacks were written. */
static size_t write_stacks(FILE *f, const struct profile *p)
{
    const struct calltree *t = &p->tree;
    struct calltree_leaves leaves;
    calltree_leaves_collect(t, &leaves);
    uint32_t *path = xmalloc((leaves.max_depth + 1) * sizeof(*path));
    for (size_t thread = 0; thread < t->nthreads; thread++) {
        const struct calltree_thread *th = &t->threads[thread];
        for (size_t i = leaves.start[thread]; i < leaves.start[thread + 1]; i++) {
            const struct call_node *leaf = &t->nodes[leaves.nodes[i]];
            fprintf(f, "{\"type\":\"stack\",\"tid\":%llu,\"thread\":", (unsigned long long)th->tid);
            json_string(f, th->name);
            fprintf(f, ",\"samples\":%llu,\"seconds\":", (unsigned long long)leaf->self_samples);
            json_seconds(f, leaf->self_ns);
            fputs(",\"frames\":[", f);
            size_t depth = calltree_path(t, leaves.nodes[i], path);
            for (size_t d = depth; d--;) {
                write_frame(f, &p->symbols, path[d]);
                if (d)
                    fputc(',', f);
            }
            fputs("]}\n", f);
        }
    }
    size_t count = leaves.count;
    free(path);
    calltree_leaves_free(&leaves);
    return count;
}

static void write_functions(FILE *f, const struct profile *p)
{
    struct flat_profile flat;
    flat_profile_compute(p, &flat);
    for (size_t i = 0; i < flat.count; i++) {
        const struct flat_row *row = &flat.rows[i];
        fputs("{\"type\":\"function\",\"frame\":", f);
        write_frame(f, &p->symbols, row->frame);
        fprintf(f, ",\"direct\":%llu,\"cumulative\":%llu,\"direct_s\":",
                (unsigned long long)row->direct, (unsigned long long)row->cumulative);
        json_seconds(f, row->direct_ns);
        fputs(",\"cumulative_s\":", f);
        json_seconds(f, row->cumulative_ns);
        fputs("}\n", f);
    }
    flat_profile_free(&flat);
}

static void write_trailer(FILE *f, const struct profile *p, size_t stacks)
{
    const struct profile_stats *st = &p->stats;
    fprintf(f,
            "{\"type\":\"end\",\"samples\":%llu,\"missed\":%llu,\"missed_woken_late\":%llu,"
            "\"thread_samples\":%llu,\"thread_errors\":%llu,\"errors\":{",
            (unsigned long long)st->samples, (unsigned long long)st->missed,
            (unsigned long long)profile_missed_woken_late(st),
            (unsigned long long)st->thread_samples, (unsigned long long)st->thread_errors);
    for (int e = 0; e < SAMPLE_ERROR_COUNT; e++) {
        fputs(e ? "," : "", f);
        json_string(f, sample_error_key((enum sample_error)e));
        fprintf(f, ":%llu", (unsigned long long)st->errors[e]);
    }
    fprintf(f, "},\"threads\":%zu,\"stacks\":%zu}\n", p->tree.nthreads, stacks);
}

void jsonl_write(FILE *f, const struct profile *p)
{
    write_header(f, p);
    size_t stacks = write_stacks(f, p);
    write_functions(f, p);
    write_trailer(f, p, stacks);
}
