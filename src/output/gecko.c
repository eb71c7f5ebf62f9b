/*
 * gecko.c — see gecko.h.
 *
 * The timeline comes from the recording: it is replayed into a profile of
 * its own (the same tables strobe built), and each sample's time and stack
 * are kept per thread, 12 bytes a sample, to be written thread by thread.
 * Every table of the format is a set of parallel arrays with a length.
 */
#include "output/gecko.h"

#include "base/clock.h"
#include "output/formats.h"
#include "output/json.h"
#include "output/recording.h"

#include <stdlib.h>
#include <string.h>

#define GECKO_META_VERSION 32
#define GECKO_PROCESSED_VERSION 57
#define CATEGORY_PYTHON 1

struct thread_samples {
    uint64_t *time_ns;
    uint32_t *node;
    size_t count, cap, node_cap;
};

struct timeline {
    struct thread_samples *threads;     /* by call-tree thread index */
    size_t nthreads;
};

static void keep_sample(void *ctx, const struct profile *p, const struct recorded_sample *s)
{
    struct timeline *tl = ctx;
    uint32_t thread = p->tree.nodes[s->node].thread;
    if (thread >= tl->nthreads) {
        size_t n = p->tree.nthreads;
        tl->threads = xrealloc(tl->threads, n * sizeof(*tl->threads));
        memset(tl->threads + tl->nthreads, 0, (n - tl->nthreads) * sizeof(*tl->threads));
        tl->nthreads = n;
    }
    struct thread_samples *ts = &tl->threads[thread];
    ts->time_ns = xgrow(ts->time_ns, &ts->cap, ts->count + 1, sizeof(*ts->time_ns));
    ts->node = xgrow(ts->node, &ts->node_cap, ts->count + 1, sizeof(*ts->node));
    ts->time_ns[ts->count] = s->time_ns;
    ts->node[ts->count++] = s->node;
}

/* "name":[v0,v1,...] from a function of the index. */
typedef void (*column_fn)(FILE *f, size_t i, const void *ctx);

static void column(FILE *f, const char *name, size_t n, column_fn fn, const void *ctx)
{
    fprintf(f, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        fn(f, i, ctx);
    }
    fputs("],", f);
}

static void put_null(FILE *f, size_t i, const void *ctx)
{
    (void)i, (void)ctx;
    fputs("null", f);
}

static void put_minus_one(FILE *f, size_t i, const void *ctx)
{
    (void)i, (void)ctx;
    fputs("-1", f);
}

static void put_zero(FILE *f, size_t i, const void *ctx)
{
    (void)i, (void)ctx;
    fputc('0', f);
}

static void put_false(FILE *f, size_t i, const void *ctx)
{
    (void)i, (void)ctx;
    fputs("false", f);
}

static void put_python(FILE *f, size_t i, const void *ctx)
{
    (void)i, (void)ctx;
    fprintf(f, "%d", CATEGORY_PYTHON);
}

static void put_u32_array(FILE *f, size_t i, const void *ctx)
{
    fprintf(f, "%u", ((const uint32_t *)ctx)[i]);
}

/* A thread's own tables: its stacks (one per call-tree node under its
 * root), the frames those use and the functions of the frames. */
struct thread_tables {
    uint32_t *stack_node;       /* stack index -> call-tree node */
    uint32_t *stack_prefix;     /* stack index -> stack index, ID_NONE at the top */
    uint32_t *stack_frame;      /* stack index -> local frame */
    size_t nstacks;
    uint32_t *frame_symbol;     /* local frame -> frame symbol */
    uint32_t *frame_func;       /* local frame -> local function */
    size_t nframes;
    uint32_t *func_name, *func_file;    /* string ids */
    int32_t *func_line;
    size_t nfuncs;
    uint32_t *stack_of_node;    /* call-tree node -> stack index (scratch, all nodes) */
};

static void build_tables(const struct profile *p, const uint32_t *nodes, size_t nnodes,
                         struct thread_tables *tt, uint32_t *local_frame)
{
    size_t cap_symbol = 0, cap_frame_func = 0, cap_name = 0, cap_file = 0, cap_line = 0;
    struct function_ids funcs;
    function_ids_init(&funcs);
    tt->stack_node = xmalloc(MAX(nnodes, 1) * sizeof(uint32_t));
    tt->stack_prefix = xmalloc(MAX(nnodes, 1) * sizeof(uint32_t));
    tt->stack_frame = xmalloc(MAX(nnodes, 1) * sizeof(uint32_t));
    for (size_t i = 0; i < nnodes; i++) {
        const struct call_node *n = &p->tree.nodes[nodes[i]];
        uint32_t frame = n->frame;
        if (local_frame[frame] == ID_NONE) {
            const struct frame_sym *fs = symbols_get(&p->symbols, frame);
            bool added;
            uint32_t func = function_ids_get(&funcs, fs, &added);
            if (added) {
                tt->nfuncs++;
                tt->func_name = xgrow(tt->func_name, &cap_name, tt->nfuncs, sizeof(uint32_t));
                tt->func_file = xgrow(tt->func_file, &cap_file, tt->nfuncs, sizeof(uint32_t));
                tt->func_line = xgrow(tt->func_line, &cap_line, tt->nfuncs, sizeof(int32_t));
                tt->func_name[func] = fs->name;
                tt->func_file[func] = fs->file;
                tt->func_line[func] = fs->first_line;
            }
            local_frame[frame] = (uint32_t)tt->nframes++;
            tt->frame_symbol = xgrow(tt->frame_symbol, &cap_symbol, tt->nframes, sizeof(uint32_t));
            tt->frame_func = xgrow(tt->frame_func, &cap_frame_func, tt->nframes, sizeof(uint32_t));
            tt->frame_symbol[local_frame[frame]] = frame;
            tt->frame_func[local_frame[frame]] = func;
        }
        uint32_t s = (uint32_t)tt->nstacks++;
        tt->stack_node[s] = nodes[i];
        tt->stack_frame[s] = local_frame[frame];
        tt->stack_of_node[nodes[i]] = s;
        tt->stack_prefix[s] = p->tree.nodes[n->parent].parent == ID_NONE
                                  ? ID_NONE : tt->stack_of_node[n->parent];
    }
    /* Leave the scratch map of frames clean for the next thread. */
    for (size_t f = 0; f < tt->nframes; f++)
        local_frame[tt->frame_symbol[f]] = ID_NONE;
    function_ids_free(&funcs);
}

static void free_tables(struct thread_tables *tt)
{
    free(tt->stack_node);
    free(tt->stack_prefix);
    free(tt->stack_frame);
    free(tt->frame_symbol);
    free(tt->frame_func);
    free(tt->func_name);
    free(tt->func_file);
    free(tt->func_line);
}

static void put_prefix(FILE *f, size_t i, const void *ctx)
{
    uint32_t v = ((const uint32_t *)ctx)[i];
    if (v == ID_NONE)
        fputs("null", f);
    else
        fprintf(f, "%u", v);
}

struct frame_lines {
    const struct profile *p;
    const uint32_t *symbol;
};

static void put_frame_line(FILE *f, size_t i, const void *ctx)
{
    const struct frame_lines *fl = ctx;
    fprintf(f, "%d", symbols_get(&fl->p->symbols, fl->symbol[i])->line);
}

static void put_i32_array(FILE *f, size_t i, const void *ctx)
{
    fprintf(f, "%d", ((const int32_t *)ctx)[i]);
}

struct sample_columns {
    const struct thread_samples *ts;
    const uint32_t *stack_of_node;
};

static void put_sample_stack(FILE *f, size_t i, const void *ctx)
{
    const struct sample_columns *sc = ctx;
    fprintf(f, "%u", sc->stack_of_node[sc->ts->node[i]]);
}

static void put_sample_time(FILE *f, size_t i, const void *ctx)
{
    const struct sample_columns *sc = ctx;
    uint64_t ns = sc->ts->time_ns[i];
    fprintf(f, "%llu.%06llu", (unsigned long long)(ns / NS_PER_MS),
            (unsigned long long)(ns % NS_PER_MS));
}

static void write_empty_table(FILE *f, const char *name, const char *const *columns, size_t n)
{
    fprintf(f, "\"%s\":{", name);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "\"%s\":[],", columns[i]);
    fputs("\"length\":0},", f);
}

static void write_thread(FILE *f, const struct profile *p, uint32_t thread,
                         const struct thread_samples *ts, const struct thread_tables *tt,
                         bool main_thread)
{
    const struct calltree_thread *th = &p->tree.threads[thread];
    char label[THREAD_LABEL_MAX];
    output_thread_label(th, label, sizeof(label));
    fputs("{\"name\":", f);
    json_string(f, label);
    fprintf(f, ",\"isMainThread\":%s,\"processType\":\"default\",\"processName\":",
            main_thread ? "true" : "false");
    json_string(f, p->target[0] ? p->target : "CPython");
    fprintf(f, ",\"pid\":\"%d\",\"tid\":%llu,\"registerTime\":0,\"unregisterTime\":null,"
               "\"processStartupTime\":0,\"processShutdownTime\":null,\"pausedRanges\":[],\n",
            (int)p->pid, (unsigned long long)th->tid);

    struct sample_columns sc = { ts, tt->stack_of_node };
    fputs("\"samples\":{", f);
    column(f, "stack", ts->count, put_sample_stack, &sc);
    column(f, "time", ts->count, put_sample_time, &sc);
    fprintf(f, "\"weight\":null,\"weightType\":\"samples\",\"length\":%zu},\n", ts->count);

    fputs("\"stackTable\":{", f);
    column(f, "frame", tt->nstacks, put_u32_array, tt->stack_frame);
    column(f, "category", tt->nstacks, put_python, NULL);
    column(f, "subcategory", tt->nstacks, put_zero, NULL);
    column(f, "prefix", tt->nstacks, put_prefix, tt->stack_prefix);
    fprintf(f, "\"length\":%zu},\n", tt->nstacks);

    struct frame_lines fl = { p, tt->frame_symbol };
    fputs("\"frameTable\":{", f);
    column(f, "address", tt->nframes, put_minus_one, NULL);
    column(f, "category", tt->nframes, put_python, NULL);
    column(f, "subcategory", tt->nframes, put_zero, NULL);
    column(f, "func", tt->nframes, put_u32_array, tt->frame_func);
    column(f, "innerWindowID", tt->nframes, put_zero, NULL);
    column(f, "implementation", tt->nframes, put_null, NULL);
    column(f, "optimizations", tt->nframes, put_null, NULL);
    column(f, "line", tt->nframes, put_frame_line, &fl);
    column(f, "column", tt->nframes, put_null, NULL);
    column(f, "inlineDepth", tt->nframes, put_zero, NULL);
    column(f, "nativeSymbol", tt->nframes, put_null, NULL);
    fprintf(f, "\"length\":%zu},\n", tt->nframes);

    fputs("\"funcTable\":{", f);
    column(f, "name", tt->nfuncs, put_u32_array, tt->func_name);
    column(f, "isJS", tt->nfuncs, put_false, NULL);
    column(f, "relevantForJS", tt->nfuncs, put_false, NULL);
    column(f, "resource", tt->nfuncs, put_minus_one, NULL);
    column(f, "fileName", tt->nfuncs, put_u32_array, tt->func_file);
    column(f, "lineNumber", tt->nfuncs, put_i32_array, tt->func_line);
    column(f, "columnNumber", tt->nfuncs, put_null, NULL);
    fprintf(f, "\"length\":%zu},\n", tt->nfuncs);

    static const char *const resource_columns[] = { "lib", "name", "host", "type" };
    static const char *const symbol_columns[] = { "libIndex", "address", "name", "functionSize" };
    static const char *const marker_columns[] = { "data", "name", "startTime", "endTime", "phase",
                                                  "category" };
    write_empty_table(f, "resourceTable", resource_columns, ARRAY_LEN(resource_columns));
    write_empty_table(f, "nativeSymbols", symbol_columns, ARRAY_LEN(symbol_columns));
    write_empty_table(f, "markers", marker_columns, ARRAY_LEN(marker_columns));
    fputs("\"processStartupTime\":0}", f);
}

static void write_meta(FILE *f, const struct profile *p)
{
    double interval_ms = p->stats.samples && p->stats.end_ns > p->stats.start_ns
                             ? (double)(p->stats.end_ns - p->stats.start_ns) / 1e6 /
                                   (double)p->stats.samples
                             : (double)p->stats.interval_ns / 1e6;
    fprintf(f, "\"meta\":{\"interval\":%.6f,\"startTime\":%.3f,\"processType\":0,\"product\":",
            interval_ms, (double)p->stats.start_unix_ns / 1e6);
    char product[96];
    snprintf(product, sizeof(product), "strobe: %s", p->target[0] ? p->target : "CPython");
    json_string(f, product);
    fprintf(f, ",\"stackwalk\":0,\"version\":%d,\"preprocessedProfileVersion\":%d,"
               "\"symbolicated\":true,\"markerSchema\":[],\"importedFrom\":\"strobe " STROBE_VERSION
               "\",\"categories\":[{\"name\":\"Other\",\"color\":\"grey\",\"subcategories\":[\"Other\"]},"
               "{\"name\":\"Python\",\"color\":\"yellow\",\"subcategories\":[\"Other\"]}]},\n",
            GECKO_META_VERSION, GECKO_PROCESSED_VERSION);
}

static void write_profile(FILE *f, const struct profile *p, const struct timeline *tl)
{
    const struct calltree *t = &p->tree;
    fputc('{', f);
    write_meta(f, p);
    fputs("\"libs\":[],\"pages\":[],\n\"shared\":{\"stringArray\":[", f);
    for (size_t i = 0; i < p->symbols.strings.count; i++) {
        if (i)
            fputc(',', f);
        json_string(f, symbols_str(&p->symbols, (uint32_t)i));
    }
    fputs("]},\n\"threads\":[", f);
    /* Each thread's nodes, parents first, and a scratch frame map. */
    struct calltree_leaves by_thread;
    calltree_nodes_by_thread(t, &by_thread);
    uint32_t *local_frame = xmalloc(MAX(p->symbols.count, 1) * sizeof(*local_frame));
    memset(local_frame, 0xff, MAX(p->symbols.count, 1) * sizeof(*local_frame));
    uint32_t *stack_of_node = xmalloc(MAX(t->count, 1) * sizeof(*stack_of_node));
    const size_t *start = by_thread.start;
    bool first = true;
    for (uint32_t th = 0; th < tl->nthreads && th < t->nthreads; th++) {
        if (!tl->threads[th].count)
            continue;
        struct thread_tables tt = { .stack_of_node = stack_of_node };
        build_tables(p, by_thread.nodes + start[th], start[th + 1] - start[th], &tt, local_frame);
        fputs(first ? "\n" : ",\n", f);
        write_thread(f, p, th, &tl->threads[th], &tt, t->threads[th].tid == (uint64_t)p->pid);
        first = false;
        free_tables(&tt);
    }
    fputs("]}\n", f);
    free(stack_of_node);
    free(local_frame);
    calltree_leaves_free(&by_thread);
}

bool gecko_write(FILE *f, const char *recording, char *err, size_t errlen)
{
    struct profile p;
    profile_init(&p);
    struct timeline tl = { NULL, 0 };
    bool complete;
    bool ok = recording_replay(recording, &p, keep_sample, &tl, &complete, err, errlen);
    if (ok)
        write_profile(f, &p, &tl);
    for (size_t i = 0; i < tl.nthreads; i++) {
        free(tl.threads[i].time_ns);
        free(tl.threads[i].node);
    }
    free(tl.threads);
    profile_free(&p);
    return ok;
}
