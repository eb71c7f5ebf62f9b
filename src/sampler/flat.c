/*
 * flat.c — see flat.h.
 */
#include "sampler/flat.h"

#include <stdlib.h>
#include <string.h>

void flat_profile_compute(const struct profile *p, struct flat_profile *out)
{
    const struct calltree *t = &p->tree;
    size_t nframes = p->symbols.count;
    struct flat_row *by_frame = xcalloc(nframes, sizeof(*by_frame));
    /* stamp[f] = the leaf node last credited to frame f, to count a frame
     * once per stack even when it recurs. */
    uint32_t *stamp = xmalloc(MAX(nframes, 1) * sizeof(*stamp));
    memset(stamp, 0xff, MAX(nframes, 1) * sizeof(*stamp));
    memset(out, 0, sizeof(*out));

    for (uint32_t n = 0; n < t->count; n++) {
        const struct call_node *leaf = &t->nodes[n];
        if (!leaf->self_samples || leaf->parent == ID_NONE)
            continue;
        by_frame[leaf->frame].direct += leaf->self_samples;
        by_frame[leaf->frame].direct_ns += leaf->self_ns;
        out->total_samples += leaf->self_samples;
        out->total_ns += leaf->self_ns;
        for (uint32_t m = n; t->nodes[m].parent != ID_NONE; m = t->nodes[m].parent) {
            uint32_t f = t->nodes[m].frame;
            if (stamp[f] == n)
                continue;
            stamp[f] = n;
            by_frame[f].cumulative += leaf->self_samples;
            by_frame[f].cumulative_ns += leaf->self_ns;
        }
    }
    out->rows = xmalloc(MAX(nframes, 1) * sizeof(*out->rows));
    for (uint32_t f = 0; f < nframes; f++) {
        if (!by_frame[f].cumulative)
            continue;
        by_frame[f].frame = f;
        out->rows[out->count++] = by_frame[f];
    }
    free(by_frame);
    free(stamp);
}

void flat_profile_free(struct flat_profile *f)
{
    free(f->rows);
    memset(f, 0, sizeof(*f));
}
