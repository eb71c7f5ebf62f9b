/*
 * flat.c — see flat.h.
 */
#include "sampler/flat.h"

#include <stdlib.h>
#include <string.h>

void flat_profile_compute_groups(const struct profile *p, const uint32_t *group_of_frame,
                                 size_t ngroups, struct flat_profile *out)
{
    const struct calltree *t = &p->tree;
    struct flat_row *by_group = xcalloc(MAX(ngroups, 1), sizeof(*by_group));
    /* stamp[g] = the leaf node last credited to group g, to count a group
     * once per stack even when it recurs. */
    uint32_t *stamp = xmalloc(MAX(ngroups, 1) * sizeof(*stamp));
    memset(stamp, 0xff, MAX(ngroups, 1) * sizeof(*stamp));
    for (size_t f = p->symbols.count; f-- > 0;)
        by_group[group_of_frame ? group_of_frame[f] : f].frame = (uint32_t)f;
    memset(out, 0, sizeof(*out));

    for (uint32_t n = 0; n < t->count; n++) {
        const struct call_node *leaf = &t->nodes[n];
        if (!leaf->self_samples || leaf->parent == ID_NONE)
            continue;
        uint32_t g = group_of_frame ? group_of_frame[leaf->frame] : leaf->frame;
        by_group[g].direct += leaf->self_samples;
        by_group[g].direct_ns += leaf->self_ns;
        out->total_samples += leaf->self_samples;
        out->total_ns += leaf->self_ns;
        for (uint32_t m = n; t->nodes[m].parent != ID_NONE; m = t->nodes[m].parent) {
            g = group_of_frame ? group_of_frame[t->nodes[m].frame] : t->nodes[m].frame;
            if (stamp[g] == n)
                continue;
            stamp[g] = n;
            by_group[g].cumulative += leaf->self_samples;
            by_group[g].cumulative_ns += leaf->self_ns;
        }
    }
    out->rows = xmalloc(MAX(ngroups, 1) * sizeof(*out->rows));
    for (size_t g = 0; g < ngroups; g++)
        if (by_group[g].cumulative)
            out->rows[out->count++] = by_group[g];
    free(by_group);
    free(stamp);
}

void flat_profile_compute(const struct profile *p, struct flat_profile *out)
{
    flat_profile_compute_groups(p, NULL, p->symbols.count, out);
}

void flat_profile_free(struct flat_profile *f)
{
    free(f->rows);
    memset(f, 0, sizeof(*f));
}

static int cmp_edges(const void *pa, const void *pb)
{
    const struct flat_edge *a = pa, *b = pb;
    if (a->callee != b->callee)
        return a->callee < b->callee ? -1 : 1;
    return (a->caller > b->caller) - (a->caller < b->caller);
}

/* An edge while it is being counted: the leaf that last credited it, to
 * count it once per stack even when the stack recurses through it. */
struct edge_count {
    struct flat_edge edge;
    uint32_t last_leaf;
};

static struct edge_count *edge_for(struct u64map *index, struct edge_count **counts,
                                   size_t *count, size_t *cap, uint32_t caller, uint32_t callee)
{
    uint64_t key = (uint64_t)caller << 32 | callee;
    uint32_t e = u64map_get(index, key);
    if (e == ID_NONE) {
        e = (uint32_t)*count;
        *counts = xgrow(*counts, cap, *count + 1, sizeof(**counts));
        (*counts)[e] = (struct edge_count){ .edge = { .caller = caller, .callee = callee },
                                            .last_leaf = ID_NONE };
        (*count)++;
        u64map_put(index, key, e);
    }
    return &(*counts)[e];
}

void flat_edges_compute(const struct profile *p, struct flat_edges *out)
{
    const struct calltree *t = &p->tree;
    struct u64map index;    /* caller << 32 | callee -> edge */
    u64map_init(&index);
    struct edge_count *counts = NULL;
    size_t count = 0, cap = 0;

    for (uint32_t n = 0; n < t->count; n++) {
        const struct call_node *leaf = &t->nodes[n];
        if (!leaf->self_samples || leaf->parent == ID_NONE)
            continue;
        for (uint32_t m = n; t->nodes[m].parent != ID_NONE; m = t->nodes[m].parent) {
            const struct call_node *callee = &t->nodes[m];
            const struct call_node *caller = &t->nodes[callee->parent];
            if (caller->parent == ID_NONE)
                break;  /* the thread root calls nobody's frame */
            struct edge_count *c = edge_for(&index, &counts, &count, &cap, caller->frame,
                                            callee->frame);
            if (m == n) {
                c->edge.direct += leaf->self_samples;
                c->edge.direct_ns += leaf->self_ns;
            }
            if (c->last_leaf == n)
                continue;
            c->last_leaf = n;
            c->edge.cumulative += leaf->self_samples;
            c->edge.cumulative_ns += leaf->self_ns;
        }
    }
    out->count = count;
    out->edges = xmalloc(MAX(count, 1) * sizeof(*out->edges));
    for (size_t i = 0; i < count; i++)
        out->edges[i] = counts[i].edge;
    if (count)
        qsort(out->edges, count, sizeof(*out->edges), cmp_edges);
    free(counts);
    u64map_free(&index);
}

void flat_edges_free(struct flat_edges *e)
{
    free(e->edges);
    memset(e, 0, sizeof(*e));
}
