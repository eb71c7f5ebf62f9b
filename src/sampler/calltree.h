/*
 * calltree.h — the aggregated profile: a tree of call paths with counts.
 *
 * Each distinct stack seen is a path from a thread's root node to a node;
 * samples are added to the node at the end of their path ("self" counts), so
 * memory grows with the number of distinct call paths, never with the number
 * of samples. Each thread (kernel tid) has its own root. Cumulative values
 * are derived when an output needs them.
 *
 * A node records both how many samples ended there and how much wall time
 * those samples stand for: each sample is weighted by the measured time since
 * the previous sample, so times stay right when samples are missed.
 */
#ifndef STROBE_SAMPLER_CALLTREE_H
#define STROBE_SAMPLER_CALLTREE_H

#include "base/u64map.h"

/* A node of the tree. Roots have no frame: their `frame` holds the thread
 * index instead. */
struct call_node {
    uint32_t parent;        /* ID_NONE for a thread root */
    uint32_t frame;         /* frame symbol id; thread index for roots */
    uint32_t thread;        /* index into calltree.threads */
    uint32_t depth;         /* 0 for roots */
    uint64_t self_samples;
    uint64_t self_ns;
};

#define THREAD_NAME_MAX 16     /* the kernel's TASK_COMM_LEN */

struct calltree_thread {
    uint64_t tid;
    uint32_t root;
    char name[THREAD_NAME_MAX];    /* the OS thread name when first seen, or "" */
};

/* Samples in the order they were added, for a streaming recording
 * (output/recording.h), which enables the log and drains it after each
 * round. Off, it costs one predictable branch per sample. */
struct calltree_sample {
    uint32_t node;
    uint64_t ns;
};

struct calltree_log {
    struct calltree_sample *items;
    size_t count, cap;
    bool enabled;
};

/* The samples of the round being taken, between calltree_round_begin and
 * calltree_round_end: a round's time is only known once its reads are done
 * (sampler.c), and is then added to each of them. */
struct calltree_round {
    uint32_t *nodes;
    size_t count, cap;
    size_t log_start;       /* log.count when the round began */
    bool open;
};

struct calltree {
    struct call_node *nodes;
    size_t count, cap;
    struct calltree_thread *threads;
    size_t nthreads, threads_cap;
    struct u64map children;     /* (parent << 32 | frame) -> node */
    struct u64map thread_roots; /* tid -> thread index */
    struct calltree_log log;
    struct calltree_round round;
};

void calltree_init(struct calltree *t);
void calltree_free(struct calltree *t);

/* Has thread `tid` a root yet? */
bool calltree_has_thread(const struct calltree *t, uint64_t tid);

/* The root node of thread `tid`, created on first use. */
uint32_t calltree_root(struct calltree *t, uint64_t tid);

void calltree_log_sample(struct calltree *t, uint32_t node, uint64_t ns);
void calltree_round_note(struct calltree *t, uint32_t node);

static inline void calltree_add(struct calltree *t, uint32_t node, uint64_t samples, uint64_t ns)
{
    t->nodes[node].self_samples += samples;
    t->nodes[node].self_ns += ns;
    if (unlikely(t->log.enabled))
        calltree_log_sample(t, node, ns);
    if (t->round.open)
        calltree_round_note(t, node);
}

/* Open a round: the samples added until calltree_round_end are its. */
void calltree_round_begin(struct calltree *t);
/* Close it, adding `ns` more to each of its samples (and to their entries
 * in the log, which is drained between rounds). */
void calltree_round_end(struct calltree *t, uint64_t ns);

uint32_t calltree_new_child(struct calltree *t, uint32_t parent, uint32_t frame);

/*
 * For the outputs: the nodes that have samples (each the end of one
 * distinct stack), grouped by thread. Thread i's are
 * nodes[start[i] .. start[i + 1]), in node order.
 */
struct calltree_leaves {
    uint32_t *nodes;
    size_t *start;          /* nthreads + 1 entries */
    size_t count;
    uint32_t max_depth;     /* deepest leaf: room calltree_path needs */
};

void calltree_leaves_collect(const struct calltree *t, struct calltree_leaves *out);
/* The same grouping of every node but the thread roots. */
void calltree_nodes_by_thread(const struct calltree *t, struct calltree_leaves *out);
void calltree_leaves_free(struct calltree_leaves *l);

/* The frames from `node` up to its thread root, leaf first, into
 * frames[node's depth]; returns the depth. */
size_t calltree_path(const struct calltree *t, uint32_t node, uint32_t *frames);

/* The child of `parent` for `frame`, created on first use. */
static inline uint32_t calltree_child(struct calltree *t, uint32_t parent, uint32_t frame)
{
    uint32_t n = u64map_get(&t->children, (uint64_t)parent << 32 | frame);
    return n != ID_NONE ? n : calltree_new_child(t, parent, frame);
}

#endif
