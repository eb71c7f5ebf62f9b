/*
 * stacks.c — raw frames -> call-tree nodes, with per-thread memo; see stacks.h.
 */
#include "sampler/stacks.h"

#include <stdlib.h>
#include <string.h>

/* A thread not seen for this many samples has ended: forget its memo. */
#define MEMO_EXPIRE_SAMPLES 4096

void stack_resolver_init(struct stack_resolver *r, struct profile *p, struct code_cache *codes)
{
    memset(r, 0, sizeof(*r));
    r->profile = p;
    r->codes = codes;
    u64map_init(&r->memo_by_tid);
}

void stack_resolver_free(struct stack_resolver *r)
{
    for (size_t i = 0; i < r->nmemos; i++)
        free(r->memos[i].frames);
    free(r->memos);
    u64map_free(&r->memo_by_tid);
    memset(r, 0, sizeof(*r));
}

static void expire_memos(struct stack_resolver *r)
{
    for (size_t i = 0; i < r->nmemos;) {
        struct stack_memo *m = &r->memos[i];
        if (r->sample_no - m->last_sample < MEMO_EXPIRE_SAMPLES) {
            i++;
            continue;
        }
        u64map_remove(&r->memo_by_tid, m->tid);
        free(m->frames);
        *m = r->memos[--r->nmemos];
        if (i < r->nmemos)
            u64map_put(&r->memo_by_tid, m->tid, (uint32_t)i);
    }
}

void stack_resolver_begin_sample(struct stack_resolver *r)
{
    r->sample_no++;
    if (r->sample_no % MEMO_EXPIRE_SAMPLES == 0)
        expire_memos(r);
}

static struct stack_memo *memo_for(struct stack_resolver *r, uint64_t tid)
{
    uint32_t i = u64map_get(&r->memo_by_tid, tid);
    if (i == ID_NONE) {
        r->memos = xgrow(r->memos, &r->memos_cap, r->nmemos + 1, sizeof(*r->memos));
        i = (uint32_t)r->nmemos++;
        memset(&r->memos[i], 0, sizeof(r->memos[i]));
        r->memos[i].tid = tid;
        u64map_put(&r->memo_by_tid, tid, i);
    }
    r->memos[i].last_sample = r->sample_no;
    return &r->memos[i];
}

/* Frame symbol for a code object at an offset, memoised on the code entry. */
static uint32_t frame_symbol(struct stack_resolver *r, struct py_code *code, int64_t offset)
{
    if (code->memo_frame != ID_NONE && code->memo_offset == offset)
        return code->memo_frame;
    struct symbols *syms = &r->profile->symbols;
    if (code->sym_file == ID_NONE) {
        code->sym_file = strtab_intern(&syms->strings, code->filename, strlen(code->filename));
        code->sym_name = strtab_intern(&syms->strings, code->name, strlen(code->name));
    }
    int32_t line = line_table_lookup(&code->lines, offset);
    code->memo_offset = offset;
    code->memo_frame = symbols_frame(syms, code->sym_file, code->sym_name, line);
    return code->memo_frame;
}

/* How many root-side frames of this stack equal the memo's and can be reused. */
static size_t common_prefix(const struct stack_resolver *r, const struct stack_memo *m,
                            const struct raw_frame *frames, size_t depth)
{
    if (m->code_epoch != r->codes->epoch)
        return 0;
    const struct py_layout *l = r->codes->layout;
    size_t n = MIN(depth, (size_t)m->depth);
    uint64_t checked_code = 0;
    size_t i = 0;
    for (; i < n; i++) {
        const struct raw_frame *rf = &frames[depth - 1 - i];
        const struct stack_memo_frame *mf = &m->frames[i];
        if (rf->code != mf->code || rf->offset != mf->offset)
            break;
        /* Recursion repeats a code object: check its identity once. */
        if (rf->code != checked_code) {
            struct code_identity id = code_identity_from(l, rf->code_header);
            if (!code_identity_equal(&id, &code_cache_get(r->codes, mf->code_index)->id))
                break;
            checked_code = rf->code;
        }
    }
    return i;
}

bool stack_resolver_add(struct stack_resolver *r, uint64_t tid, const struct raw_frame *frames,
                        size_t depth, bool truncated, uint64_t ns)
{
    struct calltree *tree = &r->profile->tree;
    struct stack_memo *m = memo_for(r, tid);
    uint32_t epoch = r->codes->epoch;
    uint32_t parent = calltree_root(tree, tid);
    size_t common = 0;
    if (truncated) {
        /* Rare: no memo for cut stacks, they start at a marker frame. */
        parent = calltree_child(tree, parent, r->profile->truncated_frame);
        m->depth = 0;
    } else {
        common = common_prefix(r, m, frames, depth);
        if (common)
            parent = m->frames[common - 1].node;
    }
    if (m->cap < depth) {
        m->frames = xrealloc(m->frames, depth * sizeof(*m->frames));
        m->cap = depth;
    }
    for (size_t i = common; i < depth; i++) {
        const struct raw_frame *rf = &frames[depth - 1 - i];
        uint32_t index = code_cache_resolve(r->codes, rf->code, rf->code_header);
        if (index == ID_NONE) {
            m->depth = 0;
            return false;
        }
        uint32_t sym = frame_symbol(r, &r->codes->entries[index], rf->offset);
        parent = calltree_child(tree, parent, sym);
        m->frames[i] = (struct stack_memo_frame){ rf->code, rf->offset, index, parent };
    }
    /* If resolving replaced or cleared cache entries, the indices kept for
     * the frames before that point may be stale: start afresh next time. */
    m->depth = truncated || epoch != r->codes->epoch ? 0 : (uint32_t)depth;
    m->code_epoch = r->codes->epoch;
    calltree_add(tree, parent, 1, ns);
    return true;
}
