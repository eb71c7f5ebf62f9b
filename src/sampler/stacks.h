/*
 * stacks.h — turning a thread's raw frames into a call-tree node.
 *
 * Consecutive samples of a thread usually share most of their stack. Each
 * thread keeps a memo of its previous stack (raw frames and the call-tree
 * nodes they resolved to); a new sample compares root-first and only
 * resolves the frames below the first difference: a code-cache lookup, a
 * line-table search and a tree step per changed frame, nothing for the rest.
 *
 * Every code object a sample names must still be the one the code cache
 * describes (its address may have been reused). That is proved one of two
 * ways: by reading its identity fields in this sample (once per code object
 * per sample), or — where the interpreter has one — by the code generation
 * counter standing still since the identity was last read, which needs no
 * read at all. The counter is distrusted for good if a periodic full check
 * ever finds it standing still across a replaced code object.
 */
#ifndef STROBE_SAMPLER_STACKS_H
#define STROBE_SAMPLER_STACKS_H

#include "proc/snapshot.h"
#include "python/code.h"
#include "python/frames.h"
#include "python/threads.h"
#include "sampler/profile.h"

/* Every this many samples, identities are checked even when the generation
 * counter says nothing changed: a self-test of the counter. Those reads go
 * straight to the target, so they do not grow the read plan. */
#define GENERATION_SELF_CHECK_SAMPLES 4096

struct stack_memo_frame {
    uint64_t code;
    int64_t offset;
    uint32_t code_index;
    uint32_t node;
};

/*
 * A caller's evidence that a thread's stack has not changed since it was
 * last recorded (sampler.c: the GIL's switch count and the thread state are
 * the same, so the thread has not run since), and where its innermost frame
 * was. While the caller shows the same count and thread state, that stack
 * still stands and is recorded again without being read.
 */
struct stack_still {
    uint64_t gil_switches, tstate, leaf_frame;
};

struct stack_memo {
    uint64_t tid;               /* its key: a tid, or a nested thread state's
                                   (stack_place) */
    uint32_t base;              /* the node its stack hung from (stack_place) */
    struct stack_still still;   /* valid if has_still */
    bool has_still;
    bool still_confirmed;       /* the same stack read twice under it */
    uint64_t last_sample;       /* to expire memos of threads that ended */
    uint32_t code_epoch;
    uint32_t depth;
    size_t cap;
    struct stack_memo_frame *frames;    /* root first */
};

struct stack_resolver {
    struct profile *profile;
    struct code_cache *codes;
    struct snapshot *snap;
    struct py_target *target;   /* to re-read the generation for a self-check */
    struct stack_memo *memos;
    size_t nmemos, memos_cap;
    struct u64map memo_by_tid;
    uint64_t sample_no;
    /* This sample's code generation and the previous sample's. */
    struct code_generation generation, previous_generation;
    bool generation_broken;     /* the counter failed its self-check */
    enum tear_site torn_at;     /* where the last RESOLVE_TORN saw a change */
    uint64_t frames_reused, frames_resolved;
    uint64_t identity_checks, identity_checks_skipped;
};

void stack_resolver_init(struct stack_resolver *r, struct profile *p, struct code_cache *codes,
                         struct snapshot *snap, struct py_target *target);
void stack_resolver_free(struct stack_resolver *r);

/* Call at the start of each sample, with the sample's code generation. */
void stack_resolver_begin_sample(struct stack_resolver *r, const struct code_generation *gen);

/*
 * Where a stack goes in the call tree. A thread that entered another
 * interpreter has a thread state in each, and the ones it came from stand
 * in the calls that entered the next: one OS thread, one stack, made of
 * theirs, outermost first. Each but the innermost only makes its path
 * (`record` false), which the next hangs from (`base`); each is compared
 * with a memo of its own (`memo_key`), as its path depends on the base.
 */
struct stack_place {
    uint64_t tid;           /* whose root the stack hangs from */
    uint64_t memo_key;      /* tid, or NESTED_MEMO_KEY | its thread state */
    uint32_t base;          /* the node it hangs from; ID_NONE: tid's root */
    bool record;            /* add the sample (else only make its path) */
    uint32_t leaf;          /* out: its innermost node, on RESOLVE_OK */
};

/* Marks the memo key of a stack placed under another's (no tid has it). */
#define NESTED_MEMO_KEY (UINT64_C(1) << 63)

enum resolve_status {
    RESOLVE_OK,
    RESOLVE_NOT_CODE,       /* a frame's code object is not (or no longer) one */
    RESOLVE_TORN,           /* a frame's position lies outside its code, or
                               it was copied after it returned (torn_at) */
    RESOLVE_READ_LATE,      /* a code identity had to be read on demand: after
                               its frame may have ended and the object been
                               replaced. Look again, with it in the plan. */
    RESOLVE_NEWS,           /* a code object was decoded: its identity is news
                               the frames cannot vouch for. Look again. */
};

/*
 * Record frames[0..depth) (innermost first) where `place` says, weighted
 * `ns`.
 * `truncated` marks a stack cut at the depth limit; `from_plan` says every
 * frame came from the sample's batched read (none fetched on demand later),
 * which the generation proof requires. `end`, if wanted, is checked against
 * the size of its frame's code object (RESOLVE_TORN if it does not end at the
 * stack top). Nothing is recorded unless RESOLVE_OK.
 *
 * A code identity is only evidence about the frames when it is copied right
 * after them, in the same read: one read on demand comes after this sample's
 * processing, when the frame pointing to it may have ended and its object
 * died and been replaced at the same address (code churn). Such a stack is
 * RESOLVE_READ_LATE; its identities join the plan for the next look. Even
 * within one read that can happen (the kernel copies for as long as it
 * takes, and can be preempted), so an identity not known before (a code
 * object decoded now) is news the frames cannot vouch for either: the stack
 * is RESOLVE_NEWS, and the next look, which reads frames and identities
 * again, must find the identity now known.
 */
enum resolve_status stack_resolver_add(struct stack_resolver *r, struct stack_place *place,
                                       const struct raw_frame *frames, size_t depth,
                                       bool truncated, bool from_plan,
                                       const struct stack_end_check *end, uint64_t ns);

/* Mark tid's last recorded stack as standing while `still` does (NULL:
 * nothing known). `before` is the innermost node of the stack recorded
 * before it (stack_resolver_last_node), to tell a confirmation. */
void stack_resolver_set_still(struct stack_resolver *r, uint64_t tid,
                              const struct stack_still *still, uint32_t before);

/* Where tid's innermost frame was when its last stack was recorded, if two
 * reads in a row found that stack under the GIL switch count `switches` and
 * thread state `tstate` (and so, while they stand, it still is there). One
 * read would do if reads were never wrong; two keep a rare torn read that
 * passed every check from being repeated for as long as the count stands. */
bool stack_resolver_still_leaf(const struct stack_resolver *r, uint64_t tid, uint64_t switches,
                               uint64_t tstate, uint64_t *leaf_frame);

/* Between two samples the GIL passed once, from thread state `from_holder`
 * to `to_holder` (its count went from `switches` to switches + 1): only
 * those two can have run, so every other stack standing under `switches`
 * stands under the new count too. */
void stack_resolver_gil_passed(struct stack_resolver *r, uint64_t switches,
                               uint64_t from_holder, uint64_t to_holder);

/* The innermost call-tree node of tid's last recorded stack, ID_NONE if none. */
uint32_t stack_resolver_last_node(const struct stack_resolver *r, uint64_t tid);

/* Record tid's stack ending at `node` (its last: stack_resolver_last_node)
 * once more, weighted `ns`. */
void stack_resolver_repeat(struct stack_resolver *r, uint64_t tid, uint32_t node, uint64_t ns);

#endif
