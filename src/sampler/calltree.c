/*
 * calltree.c — see calltree.h.
 */
#include "sampler/calltree.h"

#include <stdlib.h>
#include <string.h>

void calltree_init(struct calltree *t)
{
    memset(t, 0, sizeof(*t));
    u64map_init(&t->children);
    u64map_init(&t->thread_roots);
}

void calltree_free(struct calltree *t)
{
    free(t->nodes);
    free(t->threads);
    free(t->log.items);
    free(t->round.nodes);
    u64map_free(&t->children);
    u64map_free(&t->thread_roots);
    memset(t, 0, sizeof(*t));
}

static uint32_t add_node(struct calltree *t, uint32_t parent, uint32_t frame, uint32_t thread,
                         uint32_t depth)
{
    t->nodes = xgrow(t->nodes, &t->cap, t->count + 1, sizeof(*t->nodes));
    uint32_t id = (uint32_t)t->count++;
    t->nodes[id] = (struct call_node){ parent, frame, thread, depth, 0, 0 };
    return id;
}

bool calltree_has_thread(const struct calltree *t, uint64_t tid)
{
    return u64map_get(&t->thread_roots, tid) != ID_NONE;
}

uint32_t calltree_root(struct calltree *t, uint64_t tid)
{
    uint32_t thread = u64map_get(&t->thread_roots, tid);
    if (thread != ID_NONE)
        return t->threads[thread].root;
    thread = (uint32_t)t->nthreads;
    t->threads = xgrow(t->threads, &t->threads_cap, t->nthreads + 1, sizeof(*t->threads));
    uint32_t root = add_node(t, ID_NONE, thread, thread, 0);
    t->threads[t->nthreads++] = (struct calltree_thread){ .tid = tid, .root = root };
    u64map_put(&t->thread_roots, tid, thread);
    return root;
}

uint32_t calltree_new_child(struct calltree *t, uint32_t parent, uint32_t frame)
{
    const struct call_node *p = &t->nodes[parent];
    uint32_t id = add_node(t, parent, frame, p->thread, p->depth + 1);
    u64map_put(&t->children, (uint64_t)parent << 32 | frame, id);
    return id;
}

/* The non-root nodes (with samples only, if leaves_only) grouped by thread;
 * a counting sort keeps node order, so parents come first, within each. */
static void group_by_thread(const struct calltree *t, bool leaves_only,
                            struct calltree_leaves *out)
{
    memset(out, 0, sizeof(*out));
    out->start = xcalloc(t->nthreads + 1, sizeof(*out->start));
    for (uint32_t n = 0; n < t->count; n++) {
        const struct call_node *node = &t->nodes[n];
        if (node->parent != ID_NONE && (node->self_samples || !leaves_only)) {
            out->start[node->thread + 1]++;
            out->count++;
            out->max_depth = MAX(out->max_depth, node->depth);
        }
    }
    for (size_t i = 0; i < t->nthreads; i++)
        out->start[i + 1] += out->start[i];
    out->nodes = xmalloc(MAX(out->count, 1) * sizeof(*out->nodes));
    size_t *next = xmalloc((t->nthreads + 1) * sizeof(*next));
    memcpy(next, out->start, (t->nthreads + 1) * sizeof(*next));
    for (uint32_t n = 0; n < t->count; n++) {
        const struct call_node *node = &t->nodes[n];
        if (node->parent != ID_NONE && (node->self_samples || !leaves_only))
            out->nodes[next[node->thread]++] = n;
    }
    free(next);
}

void calltree_leaves_collect(const struct calltree *t, struct calltree_leaves *out)
{
    group_by_thread(t, true, out);
}

void calltree_nodes_by_thread(const struct calltree *t, struct calltree_leaves *out)
{
    group_by_thread(t, false, out);
}

void calltree_leaves_free(struct calltree_leaves *l)
{
    free(l->nodes);
    free(l->start);
    memset(l, 0, sizeof(*l));
}

size_t calltree_path(const struct calltree *t, uint32_t node, uint32_t *frames)
{
    size_t depth = 0;
    for (uint32_t m = node; t->nodes[m].parent != ID_NONE; m = t->nodes[m].parent)
        frames[depth++] = t->nodes[m].frame;
    return depth;
}

void calltree_log_sample(struct calltree *t, uint32_t node, uint64_t ns)
{
    struct calltree_log *log = &t->log;
    log->items = xgrow(log->items, &log->cap, log->count + 1, sizeof(*log->items));
    log->items[log->count++] = (struct calltree_sample){ node, ns };
}

void calltree_round_note(struct calltree *t, uint32_t node)
{
    struct calltree_round *r = &t->round;
    r->nodes = xgrow(r->nodes, &r->cap, r->count + 1, sizeof(*r->nodes));
    r->nodes[r->count++] = node;
}

void calltree_round_begin(struct calltree *t)
{
    t->round.count = 0;
    t->round.log_start = t->log.count;
    t->round.open = true;
}

void calltree_round_end(struct calltree *t, uint64_t ns)
{
    struct calltree_round *r = &t->round;
    r->open = false;
    if (!ns)
        return;
    for (size_t i = 0; i < r->count; i++)
        t->nodes[r->nodes[i]].self_ns += ns;
    if (t->log.enabled)
        for (size_t i = r->log_start; i < t->log.count; i++)
            t->log.items[i].ns += ns;
}
