/*
 * flat.h — the flat profile: per frame (file, line, function), how often and
 * for how long it was executing (direct) or on the stack (cumulative).
 *
 * Derived from the call tree in one pass over the nodes that have samples.
 * A frame that appears several times in one stack (recursion) counts once
 * for that stack's cumulative value, as in Tachyon and cProfile.
 */
#ifndef STROBE_SAMPLER_FLAT_H
#define STROBE_SAMPLER_FLAT_H

#include "sampler/profile.h"

struct flat_row {
    uint32_t frame;             /* frame symbol id */
    uint64_t direct, cumulative;        /* samples */
    uint64_t direct_ns, cumulative_ns;  /* estimated wall time */
};

struct flat_profile {
    struct flat_row *rows;      /* only frames that were on some stack */
    size_t count;
    uint64_t total_samples;     /* thread stacks: the 100% of sample% */
    uint64_t total_ns;
};

void flat_profile_compute(const struct profile *p, struct flat_profile *out);

/* The same over groups of frames (group_of_frame[frame] < ngroups): a group
 * is on a stack once however many of its frames are, and each row's frame
 * is its group's first. (The heat map groups a source line's frames: a
 * lambda and the function holding it run one line.) */
void flat_profile_compute_groups(const struct profile *p, const uint32_t *group_of_frame,
                                 size_t ngroups, struct flat_profile *out);
void flat_profile_free(struct flat_profile *f);

/*
 * Caller -> callee edges between frames, as cProfile keeps them: how many
 * samples had `callee` called from `caller` somewhere on the stack
 * (cumulative, once per stack even under recursion) and how many of those
 * had it executing (direct). Threads are merged.
 */
struct flat_edge {
    uint32_t caller, callee;            /* frame symbol ids */
    uint64_t direct, cumulative;        /* samples */
    uint64_t direct_ns, cumulative_ns;
};

struct flat_edges {
    struct flat_edge *edges;    /* sorted by callee, then caller */
    size_t count;
};

void flat_edges_compute(const struct profile *p, struct flat_edges *out);
void flat_edges_free(struct flat_edges *e);

#endif
