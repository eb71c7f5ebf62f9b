/*
 * stacks.h — turning a thread's raw frames into a call-tree node.
 *
 * Consecutive samples of a thread usually share most of their stack. Each
 * thread keeps a memo of its previous stack (raw frames and the call-tree
 * nodes they resolved to); a new sample compares root-first and only
 * resolves the frames below the first difference: a code-cache lookup, a
 * line-table search and a tree step per changed frame, nothing for the rest.
 * Memo frames are trusted only while the code objects they name still have
 * the identity the code cache recorded, checked against this sample's bytes.
 */
#ifndef STROBE_SAMPLER_STACKS_H
#define STROBE_SAMPLER_STACKS_H

#include "python/code.h"
#include "python/frames.h"
#include "sampler/profile.h"

struct stack_memo_frame {
    uint64_t code;
    int64_t offset;
    uint32_t code_index;
    uint32_t node;
};

struct stack_memo {
    uint64_t tid;
    uint64_t last_sample;       /* to expire memos of threads that ended */
    uint32_t code_epoch;
    uint32_t depth;
    size_t cap;
    struct stack_memo_frame *frames;    /* root first */
};

struct stack_resolver {
    struct profile *profile;
    struct code_cache *codes;
    struct stack_memo *memos;
    size_t nmemos, memos_cap;
    struct u64map memo_by_tid;
    uint64_t sample_no;
};

void stack_resolver_init(struct stack_resolver *r, struct profile *p, struct code_cache *codes);
void stack_resolver_free(struct stack_resolver *r);

/* Call at the start of each sample. */
void stack_resolver_begin_sample(struct stack_resolver *r);

/*
 * Record frames[0..depth) (innermost first) of thread `tid`, weighted `ns`.
 * `truncated` marks a stack cut at the depth limit. Returns false (nothing
 * recorded) if a frame's code object is not a valid code object.
 */
bool stack_resolver_add(struct stack_resolver *r, uint64_t tid, const struct raw_frame *frames,
                        size_t depth, bool truncated, uint64_t ns);

#endif
