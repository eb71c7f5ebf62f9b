/*
 * test_replay.c — the sampler over recorded interpreters.
 *
 * The recordings are the fuzzer's seeds (tests/fuzz/corpus/sampler, made by
 * record_seed from real processes); fake_memory.h serves strobe's reads from
 * them. Recorded memory holds still, so every stack in it must be recorded.
 * Then a recording is edited to show what a read racing the target can
 * copy, and that stack must not be.
 */
#include "fake_memory.h"

#include "proc/snapshot.h"
#include "python/gil.h"
#include "python/threads.h"
#include "sampler/profile.h"
#include "sampler/sampler.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_DIR "tests/fuzz/corpus/sampler/"
/* Enough samples for the plan to settle and each stack to get every look. */
#define REPLAY_SAMPLES 4
#define REPLAY_SAMPLE_NS 1000000
/* Samples before every stack is proved, and before any is left at rest. */
#define SETTLE_SAMPLES 2
/* Longest function name compared with the target's memory. */
#define MAX_NAME_COMPARED 256
/* A pid no process has (pid_max is at most 2^22): /proc lookups fail. */
#define REPLAY_PID 0x7ffffff0
/* Frames looked through for a caller on the data stack. */
#define MAX_FRAMES_TO_CALLER 8
/* Threads of a recording, at most. */
#define MAX_THREADS 16
/* _PyFrameOwner: on its thread's data stack, or in a generator. */
#define OWNED_BY_THREAD 0
#define OWNED_BY_GENERATOR 1
/* _PyStackRef tag bits (3.14+). */
#define STACKREF_TAG_MASK 7
/* PEP 393 state: all ASCII. */
#define STR_ASCII_BIT (1u << 6)
/* A name no recorded function has: the first character of a reused name. */
#define REUSED_NAME_MARK '#'
/* Where a freed object's allocator link may point: a block further on. */
#define FREED_NEIGHBOUR 512

struct replay {
    uint8_t *data;
    struct fake_header header;
    struct py_target target;
};

static void load(struct replay *r, const char *seed)
{
    char path[256];
    snprintf(path, sizeof(path), SEED_DIR "%s", seed);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    r->data = malloc((size_t)size);
    assert_non_null(r->data);
    assert_int_equal(fread(r->data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    assert_true(fake_memory_load(r->data, (size_t)size, &r->header));
    assert_true(fake_target_init(&r->target, &r->header, REPLAY_PID));
}

/* A fresh sampler's samples of the recording, into p. */
static void take_samples(struct sampler *s, struct profile *p, int count)
{
    for (int i = 0; i < count; i++) {
        assert_true(sampler_sample(s, REPLAY_SAMPLE_NS));
        p->stats.samples++;
    }
}

static void sample(struct replay *r, struct profile *p)
{
    profile_init(p);
    struct sampler *s = sampler_new(&r->target, p);
    take_samples(s, p, REPLAY_SAMPLES);
    sampler_delete(s);
}

/* Load a recording and sample it as it was recorded, into `before`: some
 * stacks must come out. */
static void load_and_sample(struct replay *r, const char *seed, struct profile *before)
{
    load(r, seed);
    sample(r, before);
    assert_true(before->stats.thread_samples > 0);
}

/* Load a recording and start a sampler on it, into p, for a test that
 * samples it in steps. */
static struct sampler *start_sampler(struct replay *r, const char *seed, struct profile *p)
{
    load(r, seed);
    profile_init(p);
    return sampler_new(&r->target, p);
}

static uint64_t read_u64(struct replay *r, uint64_t addr)
{
    uint64_t v = 0;
    assert_int_equal(remote_read(&r->target.remote, addr, &v, sizeof(v)), REMOTE_OK);
    return v;
}

static uint8_t read_u8(struct replay *r, uint64_t addr)
{
    uint8_t v = 0;
    assert_int_equal(remote_read(&r->target.remote, addr, &v, sizeof(v)), REMOTE_OK);
    return v;
}

/* A Python function's frame on the data stack? */
static bool on_data_stack(struct replay *r, uint64_t frame)
{
    const struct py_layout *l = &r->target.layout;
    return read_u8(r, frame + l->frame.owner) == OWNED_BY_THREAD &&
           read_u64(r, frame + l->frame.code) != 0;
}

/* The nearest frame on the data stack that a thread's innermost frame
 * returns to (one suspended at a call), or 0. `inline_call`: only a frame
 * that called the innermost one straight from its evaluation loop. */
static uint64_t caller_of(struct replay *r, uint64_t leaf, bool inline_call)
{
    const struct py_layout *l = &r->target.layout;
    uint64_t frame = read_u64(r, leaf + l->frame.back);
    if (inline_call)
        return on_data_stack(r, leaf) && frame && on_data_stack(r, frame) &&
                       (l->frame.is_entry == OFFSET_NONE || !read_u8(r, leaf + l->frame.is_entry))
                   ? frame
                   : 0;
    for (int n = 0; frame && n < MAX_FRAMES_TO_CALLER; n++) {
        if (on_data_stack(r, frame))
            return frame;
        frame = read_u64(r, frame + l->frame.back);
    }
    return 0;
}

/* The recording's threads, into threads[MAX_THREADS]: how many. */
static size_t read_threads(struct replay *r, struct py_thread *threads)
{
    struct snapshot snap;
    snapshot_init(&snap, &r->target.remote);
    snapshot_begin(&snap);
    size_t count = 0, interpreters = 0;
    struct code_generation gen;
    py_threads_read(&r->target, &snap, threads, MAX_THREADS, &count, &gen, &interpreters, NULL,
                    NULL);
    snapshot_free(&snap);
    return count;
}

/* The recorded threads' callers, as caller_of finds them: *count of them. */
static void callers(struct replay *r, bool inline_call, uint64_t *out, size_t max,
                    size_t *count)
{
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(r, threads);
    *count = 0;
    for (size_t i = 0; i < nthreads && *count < max; i++) {
        uint64_t caller =
            threads[i].leaf_frame ? caller_of(r, threads[i].leaf_frame, inline_call) : 0;
        if (caller)
            out[(*count)++] = caller;
    }
}

/* Sample the edited recording: the stacks the edit touched (`all`: every
 * thread's) are refused as torn, each after its second looks, the later of
 * which wait a random while first (sampler.c). Frees the replay and
 * `before`. */
static void expect_refused(struct replay *r, struct profile *before, bool all)
{
    struct profile after;
    sample(r, &after);
    if (all)
        assert_int_equal(after.stats.thread_samples, 0);
    assert_true(after.stats.thread_samples < before->stats.thread_samples);
    assert_true(after.stats.errors[SAMPLE_ERROR_TORN] > before->stats.errors[SAMPLE_ERROR_TORN]);
    assert_true(after.costs.retries > before->costs.retries);
    /* The waits are random: their sum, not how it compares with the
     * unedited recording's. */
    assert_true(after.costs.retry_wait_ns > 0);
    profile_free(before);
    profile_free(&after);
    free(r->data);
}

/*
 * 3.13+: a caller that shows the stack depth popping leaves is a frame that
 * returned: a read that copied it while a loop returned and called again
 * (its two copies alike) must not report it. Unedited, the recording gives
 * stacks (and some errors: its ranges were copied at different moments);
 * with every thread's caller popped, none.
 */
static void test_popped_caller(void **state)
{
    const char *seed = *state;
    struct replay r;
    struct profile before;
    load_and_sample(&r, seed, &before);
    const struct py_layout *l = &r.target.layout;
    assert_int_not_equal(l->frame.stack_depth, OFFSET_NONE);

    uint64_t frames[MAX_THREADS];
    uint8_t popped[MAX_THREADS][sizeof(uint64_t)];
    size_t count;
    callers(&r, false, frames, MAX_THREADS, &count);
    assert_true(count > 0);
    for (size_t i = 0; i < count; i++) {
        uint32_t len;
        if (l->stack_depth_is_pointer) {
            uint64_t base = frames[i] + l->frame.localsplus;   /* stackpointer at localsplus */
            memcpy(popped[i], &base, sizeof(base));
            len = sizeof(base);
        } else {
            int32_t zero = 0;                                   /* stacktop 0 */
            memcpy(popped[i], &zero, sizeof(zero));
            len = sizeof(zero);
        }
        assert_true(fake_memory_overlay(frames[i] + l->frame.stack_depth, popped[i], len));
    }
    expect_refused(&r, &before, true);
}

/* Where a frame of code object `code` is shown to stand, in an edit. */
typedef uint64_t (*position_fn)(struct replay *r, uint64_t code);

/* Show every thread's inline caller (3.11–3.12) standing `where`: its stack
 * must be refused. */
static void refuse_inline_callers_at(const char *seed, position_fn where)
{
    struct replay r;
    struct profile before;
    load_and_sample(&r, seed, &before);
    const struct py_layout *l = &r.target.layout;
    assert_true(l->inline_callers_started && l->nreturn_opcodes > 0);

    uint64_t frames[MAX_THREADS], positions[MAX_THREADS];
    size_t count;
    callers(&r, true, frames, MAX_THREADS, &count);
    assert_true(count > 0);
    for (size_t i = 0; i < count; i++) {
        positions[i] = where(&r, read_u64(&r, frames[i] + l->frame.code));
        assert_true(fake_memory_overlay(frames[i] + l->frame.position,
                                        (const uint8_t *)&positions[i], sizeof(positions[i])));
    }
    expect_refused(&r, &before, false);
}

/* The first instruction of a code object. */
static uint64_t first_instruction(struct replay *r, uint64_t code)
{
    return code + r->target.layout.code.code_adaptive;
}

/* The address of a return instruction in a code object (3.11–3.12). */
static uint64_t a_return_in(struct replay *r, uint64_t code)
{
    const struct py_layout *l = &r->target.layout;
    uint64_t units = read_u64(r, code + l->code.ob_size);
    for (uint64_t u = 0; u < units; u++) {
        uint64_t at = code + l->code.code_adaptive + u * 2;
        uint8_t opcode = read_u8(r, at);
        for (unsigned k = 0; k < l->nreturn_opcodes; k++)
            if (opcode == l->return_opcodes[k])
                return at;
    }
    fail_msg("no return instruction in the code object at %#llx", (unsigned long long)code);
    return 0;
}

/*
 * 3.11–3.12: a frame that called another from its evaluation loop has run
 * past its first instruction. One shown there (a frame just called, with
 * the frames above it left over from an earlier call: its two copies alike)
 * must not be reported as a caller.
 */
static void test_caller_at_first_instruction(void **state)
{
    refuse_inline_callers_at(*state, first_instruction);
}

/*
 * 3.11–3.12 leave a popped frame standing at its return. The frames above
 * a frame just called, left over from an earlier, deeper call, are such
 * frames: one that stands at a return with a frame called inline above it
 * must not be reported.
 */
static void test_caller_at_return(void **state)
{
    refuse_inline_callers_at(*state, a_return_in);
}

/* The samples a profile holds of the thread with kernel id `tid`. */
static uint64_t samples_of_thread(const struct profile *p, uint64_t tid)
{
    uint64_t n = 0;
    for (size_t i = 0; i < p->tree.count; i++) {
        const struct call_node *node = &p->tree.nodes[i];
        if (p->tree.threads[node->thread].tid == tid)
            n += node->self_samples;
    }
    return n;
}

/* A frame on the data stack whose callee is a generator's frame (called
 * inline or from C), in any thread, and that thread's kernel id and pointer
 * to its innermost frame; 0 if none. */
static uint64_t caller_of_generator(struct replay *r, uint64_t *tid, uint64_t *leaf_pointer)
{
    const struct py_layout *l = &r->target.layout;
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(r, threads);
    for (size_t i = 0; i < nthreads; i++) {
        bool generator_above = false;
        uint64_t frame = threads[i].leaf_frame;
        for (int n = 0; frame && n < MAX_FRAMES_TO_CALLER * 8; n++) {
            uint8_t owner = read_u8(r, frame + l->frame.owner);
            if (on_data_stack(r, frame) && generator_above) {
                *tid = threads[i].tid;
                *leaf_pointer = threads[i].leaf_pointer;
                return frame;
            }
            if (owner < l->internal_owner_min)   /* a Python function's frame */
                generator_above = owner == OWNED_BY_GENERATOR;
            frame = read_u64(r, frame + l->frame.back);
        }
    }
    return 0;
}

/* A thread's frame calling a generator, as the edits of a test need it. */
struct generator_caller {
    uint64_t frame, tid, leaf_pointer;
    uint64_t position;      /* where the frame's position is */
    uint64_t moved;         /* that position one instruction on */
};

/* Load a recording, sample it into `before` and find a generator's caller
 * in a thread that gave stacks. */
static void load_generator_caller(struct replay *r, const char *seed, struct profile *before,
                                  struct generator_caller *g)
{
    load_and_sample(r, seed, before);
    g->frame = caller_of_generator(r, &g->tid, &g->leaf_pointer);
    if (!g->frame)
        fail_msg("%s has no frame on the data stack calling a generator", seed);
    assert_true(samples_of_thread(before, g->tid) > 0);
    g->position = g->frame + r->target.layout.frame.position;
    g->moved = read_u64(r, g->position) + 2;
}

/* Free a replay and the profiles taken of it. */
static void free_replay(struct replay *r, struct profile *before, struct profile *after)
{
    profile_free(before);
    profile_free(after);
    free(r->data);
}

/*
 * A frame whose callee is a generator's frame can show the same thing in
 * both its copies while, between them, it was elsewhere: a loop returned to
 * it and called again from the same place. Its third copy, taken in the
 * middle of the read, gives it away.
 */
static void test_caller_changed_and_back(void **state)
{
    struct replay r;
    struct profile before, after;
    struct generator_caller g;
    load_generator_caller(&r, *state, &before, &g);
    /* One instruction on in every second copy of it: once a read has all
     * three, the first and the last agree and the middle one (the centre of
     * the read) does not. */
    assert_true(fake_memory_overlay_between(g.position, g.position, (const uint8_t *)&g.moved,
                                            sizeof(g.moved)));
    sample(&r, &after);
    assert_int_equal(samples_of_thread(&after, g.tid), 0);
    free_replay(&r, &before, &after);
}

/* The innermost frame a thread names, of a thread with samples in `p`, and
 * that thread's kernel id. */
static uint64_t sampled_leaf(struct replay *r, const struct profile *p, uint64_t *tid)
{
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(r, threads);
    for (size_t i = 0; i < nthreads; i++) {
        if (threads[i].leaf_frame && samples_of_thread(p, threads[i].tid) > 0) {
            *tid = threads[i].tid;
            return threads[i].leaf_frame;
        }
    }
    fail_msg("no thread with samples names an innermost frame");
    return 0;
}

/* The thread state of the thread with kernel id `tid`. */
static uint64_t thread_state_of(struct replay *r, uint64_t tid)
{
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(r, threads);
    for (size_t i = 0; i < nthreads; i++)
        if (threads[i].tid == tid)
            return threads[i].tstate;
    fail_msg("no thread %llu", (unsigned long long)tid);
    return 0;
}

/*
 * 3.8-3.10: a leaf's caller, a frame object of its own, shows another call
 * in every second copy of itself: once a read has all three, the first and
 * the last agree and the middle one (just after the centre) does not. The
 * thread must give no stack.
 */
static void test_object_caller_changed_and_back(void **state)
{
    struct replay r;
    struct profile before, after;
    load_and_sample(&r, *state, &before);
    const struct py_layout *l = &r.target.layout;
    uint64_t tid;
    uint64_t caller = read_u64(&r, sampled_leaf(&r, &before, &tid) + l->frame.back);
    assert_true(caller != 0);
    uint64_t position = caller + l->frame.position;
    int32_t moved;
    assert_int_equal(remote_read(&r.target.remote, position, &moved, sizeof(moved)), REMOTE_OK);
    moved += 2;     /* one instruction on */
    assert_true(fake_memory_overlay_between(position, position, (const uint8_t *)&moved,
                                            sizeof(moved)));
    sample(&r, &after);
    assert_int_equal(samples_of_thread(&after, tid), 0);
    free_replay(&r, &before, &after);
}

/* Which copies of a frame an edit shows in. */
enum edited_copies {
    EDIT_IN_EVERY_COPY,
    EDIT_BEFORE_CENTRE,     /* in the copies read before the centre */
    EDIT_AFTER_CENTRE,      /* in the first copy read after the centre */
};

/* Show `edit` (of the bytes at addr, `original` as recorded) in some copies
 * of them; `centre` is where the range copied at the centre starts. */
static void edit_copies(uint64_t centre, uint64_t addr, const void *edit, const void *original,
                        uint32_t len, enum edited_copies which)
{
    switch (which) {
    case EDIT_IN_EVERY_COPY:
        assert_true(fake_memory_overlay(addr, edit, len));
        break;
    case EDIT_BEFORE_CENTRE:
        /* Edited everywhere, with the recorded bytes laid back over the
         * first copy after each centre. */
        assert_true(fake_memory_overlay(addr, edit, len));
        assert_true(fake_memory_overlay_once_after_start(centre, addr, original, len));
        break;
    case EDIT_AFTER_CENTRE:
        assert_true(fake_memory_overlay_once_after_start(centre, addr, edit, len));
        break;
    }
}

/*
 * 3.8-3.10: the innermost frame, which the centre names as running, must
 * show itself running in both its copies. One that shows its object at rest
 * (a finished frame kept for reuse) in the copies before the centre, as if
 * called just then, or in the copy after it, as if it had returned, or in
 * every copy, is refused: the copies may be of two activations of a reused
 * object, between which its callers moved (frames.h).
 */
static void sample_with_object_leaf_at_rest(const char *seed, enum edited_copies which)
{
    struct replay r;
    struct profile before, after;
    load_and_sample(&r, seed, &before);
    const struct py_layout *l = &r.target.layout;
    uint64_t tid;
    uint64_t leaf = sampled_leaf(&r, &before, &tid);
    /* The thread state holds the pointer copied at the centre, and its range
     * starts at it. */
    uint64_t centre = thread_state_of(&r, tid);
    static const int64_t no_references = 0;
    int64_t references;
    assert_int_equal(remote_read(&r.target.remote, leaf + l->ob_refcnt, &references,
                                 sizeof(references)), REMOTE_OK);
    edit_copies(centre, leaf + l->ob_refcnt, &no_references, &references, sizeof(references),
                which);
    sample(&r, &after);
    assert_int_equal(samples_of_thread(&after, tid), 0);
    free_replay(&r, &before, &after);
}

static void test_object_leaf_called_before_the_centre(void **state)
{
    sample_with_object_leaf_at_rest(*state, EDIT_BEFORE_CENTRE);
}

static void test_object_leaf_returned_after_the_centre(void **state)
{
    sample_with_object_leaf_at_rest(*state, EDIT_AFTER_CENTRE);
}

static void test_object_leaf_at_rest(void **state)
{
    sample_with_object_leaf_at_rest(*state, EDIT_IN_EVERY_COPY);
}

/* Where a cleared copy of the leaf stands (sample_with_leaf_cleared). */
enum cleared_position {
    CLEARED_IN_ITS_CODE,    /* where it stood: in the code the other copy shows */
    CLEARED_ELSEWHERE,      /* far past that code: another function's frame */
};

/* PyStackRef_NULL: the executable of a frame popped (3.14+). */
#define STACKREF_NULL 1
/* Bytes a cleared copy's instruction pointer is moved on to leave its code. */
#define FAR_PAST_ANY_CODE ((uint64_t)1 << 24)

/*
 * 3.14+: the innermost frame pushed or popped between its copies shows its
 * executable cleared in one of them, and its instruction pointer where it
 * stood last, in its code (frames.h). The other copy speaks for it: the
 * thread's stacks come out as if nothing had moved. If the cleared copy
 * stands outside that code, a different function was popped there, and
 * the stack is refused.
 */
static void sample_with_leaf_cleared(const char *seed, enum edited_copies which,
                                     enum cleared_position where)
{
    struct replay r;
    struct profile before, after;
    load_and_sample(&r, seed, &before);
    const struct py_layout *l = &r.target.layout;
    assert_true(l->executable_is_stackref);
    uint64_t tid;
    uint64_t leaf = sampled_leaf(&r, &before, &tid);
    assert_true(on_data_stack(&r, leaf));
    uint64_t centre = thread_state_of(&r, tid);
    /* The edits are served from these (fake_memory keeps pointers): they
     * must live until the samples are taken. */
    static const uint64_t cleared = STACKREF_NULL;
    uint64_t executable = read_u64(&r, leaf + l->frame.code);
    uint64_t position = read_u64(&r, leaf + l->frame.position);
    uint64_t away = position + FAR_PAST_ANY_CODE;
    edit_copies(centre, leaf + l->frame.code, &cleared, &executable, sizeof(cleared), which);
    if (where == CLEARED_ELSEWHERE)
        edit_copies(centre, leaf + l->frame.position, &away, &position, sizeof(away), which);
    sample(&r, &after);
    if (where == CLEARED_IN_ITS_CODE)
        assert_int_equal(samples_of_thread(&after, tid), samples_of_thread(&before, tid));
    else
        assert_int_equal(samples_of_thread(&after, tid), 0);
    free_replay(&r, &before, &after);
}

static void test_leaf_pushed_before_the_centre(void **state)
{
    sample_with_leaf_cleared(*state, EDIT_BEFORE_CENTRE, CLEARED_IN_ITS_CODE);
}

static void test_leaf_popped_after_the_centre(void **state)
{
    sample_with_leaf_cleared(*state, EDIT_AFTER_CENTRE, CLEARED_IN_ITS_CODE);
}

static void test_other_leaf_popped_before_the_centre(void **state)
{
    sample_with_leaf_cleared(*state, EDIT_BEFORE_CENTRE, CLEARED_ELSEWHERE);
}

static void test_other_leaf_popped_after_the_centre(void **state)
{
    sample_with_leaf_cleared(*state, EDIT_AFTER_CENTRE, CLEARED_ELSEWHERE);
}

/* A thread's innermost Python frame; 0 if none, or not recorded. */
static uint64_t innermost_python_frame(struct replay *r, const struct py_thread *thread)
{
    const struct py_layout *l = &r->target.layout;
    uint64_t frame = thread->leaf_frame, code;
    uint8_t owner = 0;
    for (int n = 0; frame && n < MAX_FRAMES_TO_CALLER; n++) {
        if (remote_read(&r->target.remote, frame + l->frame.code, &code, sizeof(code)) !=
                REMOTE_OK ||
            (l->frame.owner != OFFSET_NONE &&
             remote_read(&r->target.remote, frame + l->frame.owner, &owner, 1) != REMOTE_OK))
            return 0;
        if (code && (l->frame.owner == OFFSET_NONE || owner < l->internal_owner_min))
            return frame;
        frame = read_u64(r, frame + l->frame.back);
    }
    return 0;
}

/* The code object a frame runs. */
static uint64_t code_of(struct replay *r, uint64_t frame)
{
    return read_u64(r, frame + r->target.layout.frame.code) & ~(uint64_t)STACKREF_TAG_MASK;
}

/*
 * 3.8-3.10: a frame's position past the end of its code's bytecode (the
 * length of co_code, a bytes object of its own) is refused, as it is in
 * later versions, whose code objects hold their size. The recordings hold
 * no bytecode: the leaf's is given a length here, and its position is set
 * past it.
 */
static void test_object_position_past_its_code(void **state)
{
    struct replay r;
    struct profile before, after;
    load_and_sample(&r, *state, &before);
    const struct py_layout *l = &r.target.layout;
    uint64_t tid;
    uint64_t leaf = sampled_leaf(&r, &before, &tid);
    uint64_t bytecode = read_u64(&r, code_of(&r, leaf) + l->code.bytecode);
    static const int64_t bytecode_bytes = 1 << 20;
    static const int32_t past_it = 1 << 21;     /* code units (3.10) or bytes */
    assert_true(fake_memory_overlay(bytecode + l->bytes.ob_size, (const uint8_t *)&bytecode_bytes,
                                    sizeof(bytecode_bytes)));
    assert_true(fake_memory_overlay(leaf + l->frame.position, (const uint8_t *)&past_it,
                                    sizeof(past_it)));
    sample(&r, &after);
    assert_int_equal(samples_of_thread(&after, tid), 0);
    free_replay(&r, &before, &after);
}

/* The code object of the first thread's innermost Python frame. */
static uint64_t innermost_code(struct replay *r)
{
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(r, threads);
    for (size_t i = 0; i < nthreads; i++) {
        uint64_t frame = innermost_python_frame(r, &threads[i]);
        if (frame)
            return code_of(r, frame);
    }
    fail_msg("no thread of the recording runs Python code");
    return 0;
}

/* Does a stack of the profile (one with samples) hold a function whose
 * name starts with c? */
static bool reported_name_starting(const struct profile *p, char c)
{
    const struct calltree *tree = &p->tree;
    for (size_t i = 0; i < tree->count; i++) {
        if (!tree->nodes[i].self_samples)
            continue;
        for (uint32_t n = (uint32_t)i; tree->nodes[n].parent != ID_NONE;
             n = tree->nodes[n].parent) {
            const struct frame_sym *f = symbols_get(&p->symbols, tree->nodes[n].frame);
            if (symbols_str(&p->symbols, f->name)[0] == c)
                return true;
        }
    }
    return false;
}

/* Where a code object's names are: its co_name, whose hash is part of its
 * identity, and the name strobe shows (co_qualname where there is one). */
struct code_names {
    uint64_t hash_at;       /* co_name's hash field */
    uint64_t hash;
    uint64_t first_char;    /* the shown name's first character */
};

/* The names of the code object at `code` (the shown one must be ASCII);
 * false if the recording does not hold them (strobe never read them: the
 * thread was not sampled). */
static bool find_code_names(struct replay *r, uint64_t code, struct code_names *n)
{
    const struct py_layout *l = &r->target.layout;
    struct remote *mem = &r->target.remote;
    uint32_t shown_at = l->code.qualname != OFFSET_NONE ? l->code.qualname : l->code.name;
    uint64_t name, shown;
    if (remote_read(mem, code + l->code.name, &name, sizeof(name)) != REMOTE_OK ||
        remote_read(mem, code + shown_at, &shown, sizeof(shown)) != REMOTE_OK ||
        remote_read(mem, name + l->unicode.hash, &n->hash, sizeof(n->hash)) != REMOTE_OK)
        return false;
    uint8_t state;
    if (remote_read(mem, shown + l->unicode.state, &state, 1) != REMOTE_OK)
        return false;
    assert_true(state & STR_ASCII_BIT);
    n->hash_at = name + l->unicode.hash;
    n->first_char = shown + l->unicode.ascii_data;
    return true;
}

/* Is every stack sampled of thread `tid` innermost in the function of the
 * code object at `code`? */
static bool always_innermost(struct replay *r, const struct profile *p, uint64_t tid,
                             uint64_t code)
{
    struct code_names names;
    assert_true(find_code_names(r, code, &names));
    for (size_t i = 0; i < p->tree.count; i++) {
        const struct call_node *node = &p->tree.nodes[i];
        if (p->tree.threads[node->thread].tid != tid || !node->self_samples)
            continue;
        const char *name = symbols_str(&p->symbols, symbols_get(&p->symbols, node->frame)->name);
        char shown[MAX_NAME_COMPARED];
        size_t len = strlen(name);
        if (len > sizeof(shown) ||
            remote_read(&r->target.remote, names.first_char, shown, len) != REMOTE_OK ||
            memcmp(shown, name, len) != 0)
            return false;
    }
    return true;
}

/*
 * The third copy of a generator's caller is taken after the centre of the
 * read, so it speaks for the moment the stack was read at only if the
 * thread's innermost frame stayed the same meanwhile. Here the caller shows
 * another call in all three copies, and the pointer to the innermost frame
 * names the generator at the centre but the caller right after the third
 * copy, as if the generator and the call had returned and a look-alike
 * frame had taken the caller's place: no stack of the generator may come
 * out. (A read whose pointer names the caller at the centre gives the
 * caller innermost, as it should.)
 */
static void test_leaf_moved_after_the_middle(void **state)
{
    struct replay r;
    struct profile before, after;
    struct generator_caller g;
    load_generator_caller(&r, *state, &before, &g);
    assert_true(fake_memory_overlay(g.position, (const uint8_t *)&g.moved, sizeof(g.moved)));
    /* The third copy is a range of its own, starting at the frame. */
    assert_true(fake_memory_overlay_once_after_start(g.frame, g.leaf_pointer,
                                                     (const uint8_t *)&g.frame,
                                                     sizeof(g.frame)));
    sample(&r, &after);
    assert_true(always_innermost(&r, &after, g.tid, code_of(&r, g.frame)));
    free_replay(&r, &before, &after);
}

/*
 * A code object that dies once a sample has seen it, before its strings are
 * read: its memory is freed (its first word becomes the allocator's link,
 * `free_link`) and its name's memory goes to another string. The name read
 * then is that string's, and must never be reported: the stacks that hold
 * the dead object are errors.
 */
static void refuse_code_freed_while_read(const char *seed, bool link_near)
{
    struct replay r;
    struct profile before;
    load_and_sample(&r, seed, &before);
    const struct py_layout *l = &r.target.layout;
    assert_false(reported_name_starting(&before, REUSED_NAME_MARK));

    uint64_t code = innermost_code(&r);
    struct code_names names;
    assert_true(find_code_names(&r, code, &names));
    /* In a pymalloc pool: the next free block, or none. */
    uint64_t free_link = link_near ? code + FREED_NEIGHBOUR : 0;
    uint64_t other_hash = names.hash ^ 1;
    uint8_t mark = REUSED_NAME_MARK;
    /* From the sample's read of the name's hash, which comes after the
     * frames: the object was alive when they were copied. */
    uint64_t trigger = names.hash_at;
    assert_true(fake_memory_overlay_after(trigger, code + l->ob_refcnt,
                                          (const uint8_t *)&free_link, sizeof(free_link)));
    assert_true(fake_memory_overlay_after(trigger, names.hash_at,
                                          (const uint8_t *)&other_hash, sizeof(other_hash)));
    assert_true(fake_memory_overlay_after(trigger, names.first_char, &mark, 1));

    struct profile after;
    sample(&r, &after);
    assert_false(reported_name_starting(&after, REUSED_NAME_MARK));
    assert_true(after.stats.errors[SAMPLE_ERROR_NOT_CODE] >
                before.stats.errors[SAMPLE_ERROR_NOT_CODE]);
    profile_free(&before);
    profile_free(&after);
    free(r.data);
}

static void test_code_freed_while_read(void **state)
{
    refuse_code_freed_while_read(*state, false);
    refuse_code_freed_while_read(*state, true);
}

/* Where the recording's code generation counter is, and its width; 0 if
 * the version has none. */
static uint64_t generation_counter(struct replay *r, uint32_t *width)
{
    const struct py_layout *l = &r->target.layout;
    *width = sizeof(uint32_t);
    if (r->target.code_generation_addr)
        return r->target.code_generation_addr;
    if (l->interp.code_generation == OFFSET_NONE)
        return 0;
    *width = l->interp.code_generation_width;
    return read_u64(r, r->target.runtime_addr + l->runtime.interpreters_head) +
           l->interp.code_generation;
}

/* An edit of a recording: a code object replaced by another (a new name
 * and hash; the code generation moved, where there is one), seen from its
 * frame's second copy until the frame is copied again. */
struct replacement {
    uint64_t name_hash;
    uint8_t mark;
    uint64_t generation;
};

/* false if the recording does not hold the object's names. */
static bool replace_code_after(struct replay *r, uint64_t frame, struct replacement *e)
{
    uint64_t trigger = frame + r->target.layout.frame.code;
    struct code_names names;
    if (!find_code_names(r, code_of(r, frame), &names))
        return false;
    e->name_hash = names.hash ^ 1;
    e->mark = REUSED_NAME_MARK;
    assert_true(fake_memory_overlay_window(trigger, 2, 3, names.hash_at,
                                           (const uint8_t *)&e->name_hash,
                                           sizeof(e->name_hash)));
    assert_true(fake_memory_overlay_window(trigger, 2, 3, names.first_char, &e->mark, 1));
    uint32_t width;
    uint64_t counter = generation_counter(r, &width);
    if (counter) {
        e->generation = read_u64(r, counter) + 1;
        assert_true(fake_memory_overlay_window(trigger, 2, 3, counter,
                                               (const uint8_t *)&e->generation, width));
    }
    return true;
}

static bool contains(const uint64_t *values, size_t count, uint64_t value)
{
    for (size_t i = 0; i < count; i++)
        if (values[i] == value)
            return true;
    return false;
}

/*
 * A frame's code object dies and another takes its address after the
 * frame's two copies but before the read copies the object (the read is
 * long, or strobe is preempted in it): the new object's name must not be
 * reported for the frame. On the next look the frame is read again and
 * the world has moved on (here: back). Where the interpreter counts code
 * objects, the counter moves with the new object.
 */
static void test_code_replaced_after_its_frame(void **state)
{
    const char *seed = *state;
    struct replay r;
    struct profile p;
    struct sampler *s = start_sampler(&r, seed, &p);
    /* The first samples build the plan and prove the stacks; the next
     * reads every thread once more before those the GIL has not reached are
     * left at rest. */
    take_samples(s, &p, SETTLE_SAMPLES);
    assert_true(p.stats.thread_samples > 0);
    assert_false(reported_name_starting(&p, REUSED_NAME_MARK));

    /* Every thread's innermost code object (the one that runs is read). */
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(&r, threads);
    uint64_t codes[MAX_THREADS];
    struct replacement edits[MAX_THREADS];
    size_t ncodes = 0;
    for (size_t i = 0; i < nthreads; i++) {
        uint64_t leaf = innermost_python_frame(&r, &threads[i]);
        if (!leaf || contains(codes, ncodes, code_of(&r, leaf)))
            continue;
        codes[ncodes] = code_of(&r, leaf);
        ncodes += replace_code_after(&r, leaf, &edits[ncodes]);
    }
    assert_true(ncodes > 0);

    take_samples(s, &p, REPLAY_SAMPLES);
    sampler_delete(s);
    /* The new object was seen (and decoded) ... */
    assert_true(p.costs.code_replaced > 0);
    /* ... but never reported. */
    assert_false(reported_name_starting(&p, REUSED_NAME_MARK));
    profile_free(&p);
    free(r.data);
}

/* The GIL as the recording has it, and a change to show from now on: its
 * count moved on by `passes`, its holder now `holder`. */
struct gil_edit {
    uint64_t addr, holder, switches;
};

static void gil_recorded(struct replay *r, struct gil_edit *g)
{
    g->addr = py_gil_address(&r->target, r->target.interp_head, 1);
    assert_true(g->addr != 0);
    g->holder = read_u64(r, g->addr + GIL_LAST_HOLDER_OFFSET);
    g->switches = read_u64(r, g->addr + GIL_SWITCH_NUMBER_OFFSET);
    assert_true(g->holder && g->switches);
}

static void gil_pass(struct gil_edit *g, uint64_t passes, uint64_t holder)
{
    g->switches += passes;
    g->holder = holder;
    assert_true(fake_memory_overlay(g->addr + GIL_LAST_HOLDER_OFFSET, (const uint8_t *)&g->holder,
                                    sizeof(g->holder)));
    assert_true(fake_memory_overlay(g->addr + GIL_SWITCH_NUMBER_OFFSET,
                                    (const uint8_t *)&g->switches, sizeof(g->switches)));
}

/* Stacks the GIL let strobe repeat without reading them, in `samples` more. */
static uint64_t repeated_in(struct sampler *s, struct profile *p, int samples)
{
    uint64_t before = p->costs.stacks_repeated;
    take_samples(s, p, samples);
    return p->costs.stacks_repeated - before;
}

/*
 * (Over the recordings that caught two threads in Python with the GIL read.)
 * The GIL passes once between two samples: only the holders at either end
 * can have run, so a thread at rest that is neither stays at rest, and one
 * that took the GIL is read. A count two higher hides who held it between:
 * every thread is read again.
 */
static void test_gil_passed_once(void **state)
{
    const char *seed = *state;
    struct replay r;
    struct profile p;
    struct sampler *s = start_sampler(&r, seed, &p);
    take_samples(s, &p, REPLAY_SAMPLES);
    struct gil_edit edits[3];   /* each shown from its gil_pass on */
    gil_recorded(&r, &edits[0]);
    uint64_t holder = edits[0].holder, resting = 0;
    struct py_thread threads[MAX_THREADS];
    size_t nthreads = read_threads(&r, threads);
    size_t in_python = 0;
    for (size_t i = 0; i < nthreads; i++) {
        in_python += threads[i].leaf_frame != 0;
        if (threads[i].leaf_frame && threads[i].tstate != holder)
            resting = threads[i].tstate;
    }
    /* The recording's two threads: one holds the GIL, the other rests. */
    assert_int_equal(in_python, 2);
    assert_true(resting != 0);
    assert_int_equal(repeated_in(s, &p, 1), 1);

    /* To a thread outside Python: the resting one rests on; the old holder
     * is read, twice, and then rests too. */
    uint64_t outside = holder + sizeof(uint64_t);
    gil_pass(&edits[0], 1, outside);
    assert_int_equal(repeated_in(s, &p, 1), 1);
    assert_int_equal(repeated_in(s, &p, 1), 1);
    assert_int_equal(repeated_in(s, &p, 1), 2);

    /* To the resting thread: it is read, the old holder rests on. */
    edits[1] = edits[0];
    gil_pass(&edits[1], 1, resting);
    assert_int_equal(repeated_in(s, &p, 1), 1);
    assert_int_equal(repeated_in(s, &p, 1), 1);

    /* Passed twice: none can be vouched for until read again. */
    edits[2] = edits[1];
    gil_pass(&edits[2], 2, outside);
    assert_int_equal(repeated_in(s, &p, 1), 0);

    sampler_delete(s);
    profile_free(&p);
    free(r.data);
}

/* Each test runs over the recordings of the versions it is about (for a
 * caller of a generator: those that caught a thread in one). */
#define REPLAY_TEST(test, seed) cmocka_unit_test_prestate(test, (void *)(seed))

int main(void)
{
    const struct CMUnitTest tests[] = {
        REPLAY_TEST(test_popped_caller, "3.13.0-churn_stack"),
        REPLAY_TEST(test_popped_caller, "3.14.10-churn_stack"),
        REPLAY_TEST(test_popped_caller, "3.15.2-churn_stack"),
        REPLAY_TEST(test_caller_at_first_instruction, "3.11.2-churn_stack"),
        REPLAY_TEST(test_caller_at_first_instruction, "3.12.1-churn_stack"),
        REPLAY_TEST(test_caller_at_return, "3.11.2-churn_stack"),
        REPLAY_TEST(test_caller_at_return, "3.12.1-churn_stack"),
        REPLAY_TEST(test_caller_changed_and_back, "3.13.0-churn_stack"),
        REPLAY_TEST(test_caller_changed_and_back, "3.15.2-churn_stack"),
        REPLAY_TEST(test_object_caller_changed_and_back, "3.8.18-churn_stack"),
        REPLAY_TEST(test_object_caller_changed_and_back, "3.9.18-churn_stack"),
        REPLAY_TEST(test_object_caller_changed_and_back, "3.10.13-churn_stack"),
        REPLAY_TEST(test_object_leaf_called_before_the_centre, "3.8.18-churn_stack"),
        REPLAY_TEST(test_object_leaf_called_before_the_centre, "3.9.18-churn_stack"),
        REPLAY_TEST(test_object_leaf_called_before_the_centre, "3.10.13-churn_stack"),
        REPLAY_TEST(test_object_leaf_returned_after_the_centre, "3.8.18-churn_stack"),
        REPLAY_TEST(test_object_leaf_returned_after_the_centre, "3.9.18-churn_stack"),
        REPLAY_TEST(test_object_leaf_returned_after_the_centre, "3.10.13-churn_stack"),
        REPLAY_TEST(test_object_position_past_its_code, "3.8.18-churn_stack"),
        REPLAY_TEST(test_object_position_past_its_code, "3.9.18-churn_stack"),
        REPLAY_TEST(test_object_position_past_its_code, "3.10.13-churn_stack"),
        REPLAY_TEST(test_object_leaf_at_rest, "3.8.18-churn_stack"),
        REPLAY_TEST(test_object_leaf_at_rest, "3.9.18-churn_stack"),
        REPLAY_TEST(test_object_leaf_at_rest, "3.10.13-churn_stack"),
        REPLAY_TEST(test_leaf_pushed_before_the_centre, "3.14.10-churn_stack"),
        REPLAY_TEST(test_leaf_pushed_before_the_centre, "3.15.2-churn_stack"),
        REPLAY_TEST(test_leaf_popped_after_the_centre, "3.14.10-churn_stack"),
        REPLAY_TEST(test_leaf_popped_after_the_centre, "3.15.2-churn_stack"),
        REPLAY_TEST(test_other_leaf_popped_before_the_centre, "3.14.10-churn_stack"),
        REPLAY_TEST(test_other_leaf_popped_before_the_centre, "3.15.2-churn_stack"),
        REPLAY_TEST(test_other_leaf_popped_after_the_centre, "3.14.10-churn_stack"),
        REPLAY_TEST(test_other_leaf_popped_after_the_centre, "3.15.2-churn_stack"),
        REPLAY_TEST(test_leaf_moved_after_the_middle, "3.13.0-churn_stack"),
        REPLAY_TEST(test_leaf_moved_after_the_middle, "3.15.2-churn_stack"),
        REPLAY_TEST(test_gil_passed_once, "3.11.2-churn_stack"),
        REPLAY_TEST(test_gil_passed_once, "3.13.0-churn_stack"),
        REPLAY_TEST(test_gil_passed_once, "3.14.10-churn_stack"),
        REPLAY_TEST(test_gil_passed_once, "3.15.2-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.8.18-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.9.18-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.10.13-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.11.2-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.12.1-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.13.0-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.14.10-churn_stack"),
        REPLAY_TEST(test_code_freed_while_read, "3.15.2-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.8.18-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.9.18-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.10.13-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.11.2-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.12.1-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.13.0-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.14.10-churn_stack"),
        REPLAY_TEST(test_code_replaced_after_its_frame, "3.15.2-churn_stack"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
