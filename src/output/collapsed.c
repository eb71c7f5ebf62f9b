/*
 * collapsed.c — folded-stack output; see collapsed.h.
 */
#include "output/collapsed.h"

#include <stdlib.h>

static void put_field(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == ';' ? '_' : *s, f);
}

static int cmp_by_count(const void *pa, const void *pb, void *ctx)
{
    const struct call_node *nodes = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    uint64_t ca = nodes[a].self_samples, cb = nodes[b].self_samples;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return (a > b) - (a < b);
}

void collapsed_write(FILE *f, const struct profile *p)
{
    const struct calltree *t = &p->tree;
    uint32_t *leaves = xmalloc(MAX(t->count, 1) * sizeof(*leaves));
    size_t n = 0;
    uint32_t max_depth = 0;
    for (uint32_t i = 0; i < t->count; i++) {
        if (t->nodes[i].self_samples && t->nodes[i].parent != ID_NONE) {
            leaves[n++] = i;
            max_depth = MAX(max_depth, t->nodes[i].depth);
        }
    }
    qsort_r(leaves, n, sizeof(*leaves), cmp_by_count, (void *)t->nodes);
    uint32_t *path = xmalloc((max_depth + 1) * sizeof(*path));
    for (size_t i = 0; i < n; i++) {
        const struct call_node *leaf = &t->nodes[leaves[i]];
        size_t depth = 0;
        for (uint32_t m = leaves[i]; t->nodes[m].parent != ID_NONE; m = t->nodes[m].parent)
            path[depth++] = t->nodes[m].frame;
        fprintf(f, "tid:%llu", (unsigned long long)t->threads[leaf->thread].tid);
        while (depth--) {
            const struct frame_sym *fs = symbols_get(&p->symbols, path[depth]);
            fputc(';', f);
            put_field(f, symbols_str(&p->symbols, fs->file));
            fputc(':', f);
            put_field(f, symbols_str(&p->symbols, fs->name));
            fprintf(f, ":%d", fs->line);
        }
        fprintf(f, " %llu\n", (unsigned long long)leaf->self_samples);
    }
    free(path);
    free(leaves);
}
