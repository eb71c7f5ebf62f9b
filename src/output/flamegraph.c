/*
 * flamegraph.c — see flamegraph.h and the page itself, flamegraph.html,
 * which documents the data it reads.
 *
 * The call tree is renumbered breadth first so that each node's children
 * are contiguous and widest first: the page then needs only (first child,
 * child count) per node.
 */
#include "output/flamegraph.h"

#include "base/hash.h"
#include "base/u64map.h"
#include "output/formats.h"
#include "output/json.h"
#include "output/recording.h"

#include <stdlib.h>
#include <string.h>

extern const char strobe_flamegraph_html[];
extern const uint64_t strobe_flamegraph_html_size;

#define DATA_MARKER "/*STROBE_DATA*/"

/* The display tree: node 0 is "all threads", then the calltree's nodes
 * (without empty ones) in breadth-first order. */
struct display {
    uint32_t *order;        /* display index -> calltree node (index 0: none) */
    uint32_t *first_child;  /* display index -> display index of its first child */
    uint32_t *child_count;
    uint64_t *total;        /* per calltree node: samples in its subtree */
    uint64_t *total_ns;
    size_t count;
};

/* Subtree totals: children are always created after their parents, so one
 * pass from the last node back adds every node into its parent. */
static void subtree_totals(const struct calltree *t, struct display *d)
{
    d->total = xcalloc(MAX(t->count, 1), sizeof(*d->total));
    d->total_ns = xcalloc(MAX(t->count, 1), sizeof(*d->total_ns));
    for (size_t i = t->count; i--;) {
        d->total[i] += t->nodes[i].self_samples;
        d->total_ns[i] += t->nodes[i].self_ns;
        uint32_t parent = t->nodes[i].parent;
        if (parent != ID_NONE) {
            d->total[parent] += d->total[i];
            d->total_ns[parent] += d->total_ns[i];
        }
    }
}

static int cmp_wider_first(const void *pa, const void *pb, void *ctx)
{
    const uint64_t *total = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (total[a] != total[b])
        return total[a] > total[b] ? -1 : 1;
    return (a > b) - (a < b);
}

static void build_display(const struct calltree *t, struct display *d)
{
    memset(d, 0, sizeof(*d));
    subtree_totals(t, d);
    /* Children of each node, grouped by parent (thread roots under ID_NONE,
     * kept at the end). */
    size_t n = t->count;
    size_t *start = xcalloc(n + 2, sizeof(*start));
    for (size_t i = 0; i < n; i++) {
        uint32_t parent = t->nodes[i].parent;
        start[(parent == ID_NONE ? n : parent) + 1]++;
    }
    for (size_t i = 0; i <= n; i++)
        start[i + 1] += start[i];
    uint32_t *children = xmalloc(MAX(n, 1) * sizeof(*children));
    size_t *next = xmalloc((n + 1) * sizeof(*next));
    memcpy(next, start, (n + 1) * sizeof(*next));
    for (size_t i = 0; i < n; i++) {
        uint32_t parent = t->nodes[i].parent;
        children[next[parent == ID_NONE ? n : parent]++] = (uint32_t)i;
    }
    d->order = xmalloc((n + 1) * sizeof(*d->order));
    d->first_child = xcalloc(n + 1, sizeof(*d->first_child));
    d->child_count = xcalloc(n + 1, sizeof(*d->child_count));
    d->order[0] = ID_NONE;
    d->count = 1;
    /* Breadth first: display node `at` gets its non-empty children next. */
    for (size_t at = 0; at < d->count; at++) {
        size_t group = at == 0 ? n : d->order[at];
        uint32_t *kids = children + start[group];
        size_t nkids = start[group + 1] - start[group];
        qsort_r(kids, nkids, sizeof(*kids), cmp_wider_first, d->total);
        d->first_child[at] = (uint32_t)d->count;
        for (size_t k = 0; k < nkids && d->total[kids[k]]; k++) {
            d->order[d->count++] = kids[k];
            d->child_count[at]++;
        }
    }
    free(next);
    free(children);
    free(start);
}

static void free_display(struct display *d)
{
    free(d->order);
    free(d->first_child);
    free(d->child_count);
    free(d->total);
    free(d->total_ns);
    memset(d, 0, sizeof(*d));
}

/* Strings: the profile's own, then one label per thread and "all threads". */
static void write_strings(FILE *f, const struct profile *p)
{
    const struct calltree *t = &p->tree;
    fputs("\"strings\":[", f);
    for (size_t i = 0; i < p->symbols.strings.count; i++) {
        if (i)
            fputc(',', f);
        json_string_in_html(f, symbols_str(&p->symbols, (uint32_t)i));
    }
    for (size_t i = 0; i < t->nthreads; i++) {
        char label[THREAD_LABEL_MAX];
        output_thread_label(&t->threads[i], label, sizeof(label));
        fputs(i || p->symbols.strings.count ? "," : "", f);
        json_string_in_html(f, label);
    }
    fputs(t->nthreads || p->symbols.strings.count ? "," : "", f);
    json_string_in_html(f, "all threads");
    fputs("]", f);
}

/* ---- call paths, for comparing two profiles ---- */

#define ROOT_PATH_KEY 0x5354524f42452121ULL     /* every thread's root: threads merge */

struct flamegraph_baseline {
    struct u64map index;    /* path key -> entry */
    uint64_t *samples;      /* entry -> samples under that path, all threads */
    size_t count, cap;
    uint64_t total;
    const char *name;
};

/* Per node, a key for its call path: the thread root, then each frame's
 * file, function and line, by content. Parents come before children. */
static uint64_t *path_keys(const struct profile *p)
{
    const struct strtab *strings = &p->symbols.strings;
    uint64_t *string_hash = xmalloc(MAX(strings->count, 1) * sizeof(*string_hash));
    for (size_t i = 0; i < strings->count; i++)
        string_hash[i] = hash_bytes(strtab_get(strings, (uint32_t)i),
                                    strtab_len(strings, (uint32_t)i), 0);
    const struct calltree *t = &p->tree;
    uint64_t *key = xmalloc(MAX(t->count, 1) * sizeof(*key));
    for (size_t i = 0; i < t->count; i++) {
        const struct call_node *n = &t->nodes[i];
        if (n->parent == ID_NONE) {
            key[i] = ROOT_PATH_KEY;
            continue;
        }
        const struct frame_sym *fs = symbols_get(&p->symbols, n->frame);
        key[i] = hash_u64(key[n->parent] ^ hash_u64(string_hash[fs->file] ^
                                                    hash_u64(string_hash[fs->name] +
                                                             (uint64_t)(uint32_t)fs->line)));
    }
    free(string_hash);
    return key;
}

static void baseline_from_profile(struct flamegraph_baseline *b, const struct profile *p)
{
    struct display d;
    memset(&d, 0, sizeof(d));
    subtree_totals(&p->tree, &d);
    uint64_t *key = path_keys(p);
    for (size_t i = 0; i < p->tree.count; i++) {
        uint32_t e = u64map_get(&b->index, key[i]);
        if (e == ID_NONE) {
            e = (uint32_t)b->count++;
            b->samples = xgrow(b->samples, &b->cap, b->count, sizeof(*b->samples));
            b->samples[e] = 0;
            u64map_put(&b->index, key[i], e);
        }
        /* The same path in several threads adds up: the baseline is for
         * all threads together, as the merged view is. */
        b->samples[e] += d.total[i];
        if (p->tree.nodes[i].parent == ID_NONE)
            b->total += d.total[i];
    }
    free(key);
    free(d.total);
    free(d.total_ns);
}

static uint64_t baseline_samples(const struct flamegraph_baseline *b, uint64_t key)
{
    uint32_t e = u64map_get(&b->index, key);
    return e == ID_NONE ? 0 : b->samples[e];
}

static void write_nodes(FILE *f, const struct profile *p, const struct display *d,
                        const struct flamegraph_baseline *base)
{
    uint64_t *key = base ? path_keys(p) : NULL;
    const struct calltree *t = &p->tree;
    size_t thread_labels = p->symbols.strings.count;
    size_t all_label = thread_labels + t->nthreads;
    uint64_t all = 0, all_ns = 0;
    for (size_t i = 0; i < t->nthreads; i++) {
        all += d->total[t->threads[i].root];
        all_ns += d->total_ns[t->threads[i].root];
    }
    fputs(",\n\"nodes\":[", f);
    for (size_t at = 0; at < d->count; at++) {
        uint32_t node = d->order[at];
        size_t name, file = 0;
        int32_t line = 0;
        uint64_t total = all, total_ns = all_ns, self = 0, self_ns = 0;
        if (at == 0) {
            name = all_label;
        } else {
            const struct call_node *c = &t->nodes[node];
            total = d->total[node];
            total_ns = d->total_ns[node];
            self = c->self_samples;
            self_ns = c->self_ns;
            if (c->parent == ID_NONE) {
                name = thread_labels + c->thread;
            } else {
                const struct frame_sym *fs = symbols_get(&p->symbols, c->frame);
                name = fs->name;
                file = fs->file;
                line = fs->line;
            }
        }
        fprintf(f, "%s\n[%zu,%zu,%d,%llu,%llu,%llu,%llu,%u,%u", at ? "," : "", name, file, line,
                (unsigned long long)total, (unsigned long long)self,
                (unsigned long long)total_ns, (unsigned long long)self_ns, d->first_child[at],
                d->child_count[at]);
        if (base)
            fprintf(f, ",%llu", (unsigned long long)(at == 0 ? base->total
                                                             : baseline_samples(base, key[node])));
        fputc(']', f);
    }
    fputs("]", f);
    free(key);
}

static void write_threads(FILE *f, const struct profile *p, const struct display *d)
{
    const struct calltree *t = &p->tree;
    fputs(",\n\"threads\":[", f);
    bool first = true;
    for (uint32_t k = 0; k < d->child_count[0]; k++) {
        uint32_t at = d->first_child[0] + k;
        const struct calltree_thread *th = &t->threads[t->nodes[d->order[at]].thread];
        char label[THREAD_LABEL_MAX];
        output_thread_label(th, label, sizeof(label));
        fprintf(f, "%s{\"tid\":%llu,\"node\":%u,\"label\":", first ? "" : ",",
                (unsigned long long)th->tid, at);
        json_string_in_html(f, label);
        fputc('}', f);
        first = false;
    }
    fputs("]", f);
}

static void write_data(FILE *f, const struct profile *p, const struct flamegraph_baseline *base)
{
    struct display d;
    build_display(&p->tree, &d);
    char title[128], subtitle[160];
    snprintf(title, sizeof(title), "strobe: pid %d%s", (int)p->pid,
             base ? ", compared with a baseline" : "");
    snprintf(subtitle, sizeof(subtitle), "%s, %.2f s, %llu samples, %zu threads",
             p->target[0] ? p->target : "CPython", profile_duration_s(p),
             (unsigned long long)p->stats.thread_samples, p->tree.nthreads);
    fputs("{\"title\":", f);
    json_string_in_html(f, title);
    fputs(",\"subtitle\":", f);
    json_string_in_html(f, subtitle);
    fputs(",\n", f);
    write_strings(f, p);
    write_nodes(f, p, &d, base);
    write_threads(f, p, &d);
    if (base) {
        fprintf(f, ",\n\"baseline\":{\"total\":%llu,\"name\":", (unsigned long long)base->total);
        json_string_in_html(f, base->name);
        fputc('}', f);
    }
    fputs("}", f);
    free_display(&d);
}

void flamegraph_write(FILE *f, const struct profile *p, const struct flamegraph_baseline *base)
{
    size_t len = (size_t)strobe_flamegraph_html_size;
    const char *marker = memmem(strobe_flamegraph_html, len, DATA_MARKER, strlen(DATA_MARKER));
    if (!marker) {      /* cannot happen: the build embeds the page as is */
        fwrite(strobe_flamegraph_html, 1, len, f);
        return;
    }
    size_t before = (size_t)(marker - strobe_flamegraph_html);
    fwrite(strobe_flamegraph_html, 1, before, f);
    write_data(f, p, base);
    size_t after = before + strlen(DATA_MARKER);
    fwrite(strobe_flamegraph_html + after, 1, len - after, f);
}

bool flamegraph_write_diff(FILE *f, const struct profile *p, const char *baseline_path, char *err,
                           size_t errlen)
{
    struct profile before;
    profile_init(&before);
    bool complete;
    bool ok = recording_replay(baseline_path, &before, NULL, NULL, &complete, err, errlen);
    if (ok) {
        struct flamegraph_baseline base = { .name = baseline_path };
        u64map_init(&base.index);
        baseline_from_profile(&base, &before);
        flamegraph_write(f, p, &base);
        u64map_free(&base.index);
        free(base.samples);
    }
    profile_free(&before);
    return ok;
}
