/*
 * stacks.c — raw frames -> call-tree nodes, with per-thread memo; see stacks.h.
 */
#include "sampler/stacks.h"

#include <stdlib.h>
#include <string.h>

/* A thread not seen for this many samples has ended: forget its memo. */
#define MEMO_EXPIRE_SAMPLES 4096

void stack_resolver_init(struct stack_resolver *r, struct profile *p, struct code_cache *codes,
                         struct snapshot *snap, struct py_target *target)
{
    memset(r, 0, sizeof(*r));
    r->profile = p;
    r->codes = codes;
    r->snap = snap;
    r->target = target;
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

void stack_resolver_begin_sample(struct stack_resolver *r, const struct code_generation *gen)
{
    r->sample_no++;
    r->previous_generation = r->generation;
    r->generation = *gen;
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
        r->memos[i].base = ID_NONE;
        u64map_put(&r->memo_by_tid, tid, i);
    }
    r->memos[i].last_sample = r->sample_no;
    return &r->memos[i];
}

/* Has the generation counter stood still since the previous sample? Then an
 * identity read in this sample stays true for as long as it keeps standing. */
static bool generation_steady(const struct stack_resolver *r)
{
    return r->generation.valid && r->previous_generation.valid && !r->generation_broken &&
           r->generation.value == r->previous_generation.value;
}

/* How a stack's code objects are known to be what the cache says. */
enum identity_proof {
    /* Frames from the sample's first read, before its generation counter:
     * an unchanged counter proves an entry trusted under it. */
    PROOF_BY_GENERATION,
    /* The same, in a sample that checks the counter: what it would prove is
     * read directly from the target and compared. */
    PROOF_SELF_CHECK,
    /* Frames from a later read (a second look, pages fetched on demand):
     * every identity is read from the snapshot's latest copy. */
    PROOF_BY_READING,
};

/* Is entry `e` still the code object at its address, for these frames? */
static bool check_identity(struct stack_resolver *r, struct py_code *e, bool self_check);

static inline bool still_valid(struct stack_resolver *r, struct py_code *e,
                               enum identity_proof proof)
{
    bool by_generation = e->trusted && r->generation.valid && !r->generation_broken &&
                         e->trusted_generation == r->generation.value;
    if (proof == PROOF_BY_GENERATION && by_generation) {
        r->identity_checks_skipped++;
        return true;
    }
    if (e->checked_read == r->snap->reads)
        return true;    /* checked already in this copy (recursion, other threads) */
    return check_identity(r, e, proof == PROOF_SELF_CHECK && by_generation);
}

/*
 * The identity of the code object at `addr`: from this sample's snapshot, or
 * (`direct`) read from the target now, outside the plan. From the snapshot
 * it is a LATE copy, taken after the frames that point to it: an object
 * replaced after it was copied but before the frames were (at an address
 * reused for a function called meanwhile) would pass for the new one.
 */
static bool read_identity(struct stack_resolver *r, uint64_t addr, bool direct,
                          struct code_identity *id)
{
    const struct py_layout *l = r->codes->layout;
    if (direct)
        return code_identity_read(r->snap->remote, l, addr, id, NULL);
    const uint8_t *header = snapshot_get_late(r->snap, addr, l->code_read_size);
    if (!header)
        return false;
    *id = code_identity_from(l, header);
    const void *hash = snapshot_get_late(r->snap, id->plain_name + l->unicode.hash,
                                         sizeof(id->name_hash));
    if (hash)
        memcpy(&id->name_hash, hash, sizeof(id->name_hash));
    return hash != NULL;
}

/* Read the identity of e's code object and compare. */
static bool check_identity(struct stack_resolver *r, struct py_code *e, bool self_check)
{
    r->identity_checks++;
    struct code_identity id;
    /* A self-check reads directly, so that it does not grow the plan. */
    if (!read_identity(r, e->addr, self_check, &id))
        return false;
    if (!code_identity_equal(&id, &e->id)) {
        if (!self_check)
            return false;
        /* A self-check read the object after the sample's generation was
         * read, so the object may have died since (the frames of this sample
         * were read before: the proof holds for them). Only a different
         * *code object* there with the counter still unmoved shows the
         * counter lying. */
        struct code_generation now;
        bool other_code = !r->codes->code_type || id.ob_type == r->codes->code_type;
        if (other_code && py_code_generation_now(r->target, &now) &&
            now.value == r->generation.value)
            r->generation_broken = true;
        return !r->generation_broken;
    }
    e->checked_read = r->snap->reads;
    if (generation_steady(r)) {
        e->trusted = true;
        e->trusted_generation = r->generation.value;
    }
    return true;
}

/* The cache entry for a frame's code object, read and decoded if needed. */
static uint32_t resolve_code(struct stack_resolver *r, uint64_t addr, enum identity_proof proof)
{
    uint32_t index = code_cache_find(r->codes, addr);
    if (index != ID_NONE && still_valid(r, code_cache_get(r->codes, index), proof))
        return index;
    struct code_identity id;
    if (!read_identity(r, addr, false, &id))
        return ID_NONE;
    index = code_cache_resolve(r->codes, addr, &id);
    if (index != ID_NONE) {
        struct py_code *e = code_cache_get(r->codes, index);
        e->checked_read = r->snap->reads;
        e->trusted = generation_steady(r);
        e->trusted_generation = r->generation.value;
    }
    return index;
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
    code->memo_frame =
        symbols_frame(syms, code->sym_file, code->sym_name, line, code->id.firstlineno);
    return code->memo_frame;
}

/* How many root-side frames of this stack equal the memo's and can be reused. */
static size_t common_prefix(struct stack_resolver *r, const struct stack_memo *m,
                            const struct raw_frame *frames, size_t depth,
                            enum identity_proof proof, uint32_t base)
{
    if (m->code_epoch != r->codes->epoch || m->base != base)
        return 0;
    size_t n = MIN(depth, (size_t)m->depth);
    uint64_t validated = 0;     /* recursion repeats a code object: check it once */
    size_t i = 0;
    for (; i < n; i++) {
        const struct raw_frame *rf = &frames[depth - 1 - i];
        const struct stack_memo_frame *mf = &m->frames[i];
        if (rf->code != mf->code || rf->offset != mf->offset)
            break;
        if (rf->code != validated) {
            if (!still_valid(r, code_cache_get(r->codes, mf->code_index), proof))
                break;
            validated = rf->code;
        }
    }
    return i;
}

/* Does the innermost data-stack frame end at the stack top (frames.h)? Its
 * code object was resolved, and so checked, with the rest of the stack. */
static bool ends_at_stack_top(const struct stack_resolver *r, const struct raw_frame *frames,
                              const struct stack_end_check *end)
{
    uint32_t index = code_cache_find(r->codes, frames[end->index].code);
    if (index == ID_NONE)
        return false;
    int64_t words = code_cache_get(r->codes, index)->id.frame_words;
    return words > 0 && end->frame_addr + (uint64_t)words * sizeof(uint64_t) == end->top;
}

/* Was a frame copied after it returned (frames.h)? 3.13+ mark it with a
 * stack depth of 0, which no live frame of a function with locals shows;
 * 3.11–3.12 leave it standing at its return, where no frame that called
 * another from its evaluation loop stands. However alike its two copies (a
 * loop that returns and calls again rewrites the same slots, and the frames
 * above a popped one stay as they were), such a stack moved. */
static bool returned(const struct py_code *code, const struct raw_frame *f)
{
    return (f->stack_depth == 0 && code->nlocalsplus > 0) ||
           (f->calls_inline && code_returns_at(code, f->offset));
}

/* Does the copy that showed the innermost frame popped (frames.h) stand
 * inside the code the other copy shows? Its code object was resolved with
 * the stack, so its size is known. */
static bool cleared_copy_fits(const struct stack_resolver *r, const struct raw_frame *innermost)
{
    if (innermost->cleared_offset == CLEARED_OFFSET_NONE)
        return true;
    uint32_t index = code_cache_find(r->codes, innermost->code);
    if (index == ID_NONE)
        return false;
    int64_t units = code_cache_get(r->codes, index)->units;
    return units > 0 && units <= INT64_MAX / CODE_UNIT_BYTES && innermost->cleared_offset >= 0 &&
           innermost->cleared_offset < units * CODE_UNIT_BYTES;
}

/* The frame of the stack that returned (its index in frames, innermost
 * 0), or `depth` if none did. m->frames holds its code entries if
 * `indices_valid` (else they are looked up). The first `common` frames
 * stand where the memo's did, whose returns were looked for then. */
static size_t returned_frame(const struct stack_resolver *r, const struct stack_memo *m,
                             const struct raw_frame *frames, size_t depth, size_t common,
                             bool indices_valid)
{
    bool maps = r->codes->layout->nreturn_opcodes != 0;
    for (size_t i = 0; i < depth; i++) {
        const struct raw_frame *f = &frames[depth - 1 - i];
        if (f->stack_depth != 0 && !(maps && f->calls_inline && i >= common))
            continue;
        uint32_t index = indices_valid ? m->frames[i].code_index : code_cache_find(r->codes, f->code);
        if (index != ID_NONE && returned(code_cache_get(r->codes, index), f))
            return depth - 1 - i;
    }
    return depth;
}

/* A stack torn at frames[index] (innermost 0): RESOLVE_TORN, and where. */
static enum resolve_status torn_at(struct stack_resolver *r, size_t index)
{
    r->torn_at = tear_site_at(index);
    return RESOLVE_TORN;
}

enum resolve_status stack_resolver_add(struct stack_resolver *r, struct stack_place *place,
                                       const struct raw_frame *frames, size_t depth,
                                       bool truncated, bool from_plan,
                                       const struct stack_end_check *end, uint64_t ns)
{
    struct calltree *tree = &r->profile->tree;
    struct stack_memo *m = memo_for(r, place->memo_key);
    uint32_t epoch = r->codes->epoch;
    enum identity_proof proof = !from_plan ? PROOF_BY_READING
                                : r->sample_no % GENERATION_SELF_CHECK_SAMPLES == 0 ? PROOF_SELF_CHECK
                                                                                   : PROOF_BY_GENERATION;
    uint32_t parent = place->base != ID_NONE ? place->base : calltree_root(tree, place->tid);
    uint64_t misses_before = r->snap->stats.misses, decoded_before = r->codes->stats.decoded;
    size_t common = 0;
    if (truncated) {
        /* Rare: no memo for cut stacks, they start at a marker frame. */
        parent = calltree_child(tree, parent, r->profile->truncated_frame);
        m->depth = 0;
    } else {
        common = common_prefix(r, m, frames, depth, proof, place->base);
        if (common)
            parent = m->frames[common - 1].node;
    }
    if (m->cap < depth) {
        m->frames = xrealloc(m->frames, depth * sizeof(*m->frames));
        m->cap = depth;
    }
    r->frames_reused += common;
    r->frames_resolved += depth - common;
    enum resolve_status status = RESOLVE_OK;
    for (size_t i = common; i < depth && status == RESOLVE_OK; i++) {
        const struct raw_frame *rf = &frames[depth - 1 - i];
        uint32_t index = resolve_code(r, rf->code, proof);
        if (index == ID_NONE) {
            status = RESOLVE_NOT_CODE;
            break;
        }
        struct py_code *code = code_cache_get(r->codes, index);
        if (!code_offset_valid(code, rf->offset)) {
            status = torn_at(r, depth - 1 - i);
            break;
        }
        /* A shim frame is passed through: its callee hangs from its caller. */
        if (!code_is_shim(code))
            parent = calltree_child(tree, parent, frame_symbol(r, code, rf->offset));
        m->frames[i] = (struct stack_memo_frame){ rf->code, rf->offset, index, parent };
    }
    if (status == RESOLVE_OK && end->wanted && !ends_at_stack_top(r, frames, end))
        status = torn_at(r, end->index);
    if (status == RESOLVE_OK && !cleared_copy_fits(r, &frames[0]))
        status = torn_at(r, 0);
    if (status == RESOLVE_OK) {
        size_t returned_at = returned_frame(r, m, frames, depth, common,
                                            !truncated && epoch == r->codes->epoch);
        if (returned_at < depth)
            status = torn_at(r, returned_at);
    }
    if (status == RESOLVE_OK && r->snap->stats.misses != misses_before)
        status = RESOLVE_READ_LATE;
    else if (status == RESOLVE_OK && r->codes->stats.decoded != decoded_before)
        status = RESOLVE_NEWS;
    /* If resolving replaced or cleared cache entries, the indices kept for
     * the frames before that point may be stale: start afresh next time. */
    m->depth = status != RESOLVE_OK || truncated || epoch != r->codes->epoch ? 0 : (uint32_t)depth;
    m->code_epoch = r->codes->epoch;
    m->base = place->base;
    if (status == RESOLVE_OK && place->record)
        calltree_add(tree, parent, 1, ns);
    if (status == RESOLVE_OK)
        place->leaf = parent;
    return status;
}

static const struct stack_memo *find_memo(const struct stack_resolver *r, uint64_t tid)
{
    uint32_t i = u64map_get(&r->memo_by_tid, tid);
    return i == ID_NONE ? NULL : &r->memos[i];
}

/* The innermost call-tree node of a memo's stack, ID_NONE if it has none. */
static uint32_t memo_last_node(const struct stack_memo *m)
{
    return m && m->depth ? m->frames[m->depth - 1].node : ID_NONE;
}

void stack_resolver_set_still(struct stack_resolver *r, uint64_t tid,
                              const struct stack_still *still, uint32_t before)
{
    struct stack_memo *m = memo_for(r, tid);
    m->still_confirmed = still && m->has_still && memcmp(&m->still, still, sizeof(*still)) == 0 &&
                         before != ID_NONE && before == memo_last_node(m);
    m->has_still = still != NULL;
    if (still)
        m->still = *still;
}

void stack_resolver_gil_passed(struct stack_resolver *r, uint64_t switches,
                               uint64_t from_holder, uint64_t to_holder)
{
    for (size_t i = 0; i < r->nmemos; i++) {
        struct stack_still *still = &r->memos[i].still;
        if (r->memos[i].has_still && still->gil_switches == switches &&
            still->tstate != from_holder && still->tstate != to_holder)
            still->gil_switches = switches + 1;
    }
}

uint32_t stack_resolver_last_node(const struct stack_resolver *r, uint64_t tid)
{
    return memo_last_node(find_memo(r, tid));
}

bool stack_resolver_still_leaf(const struct stack_resolver *r, uint64_t tid, uint64_t switches,
                               uint64_t tstate, uint64_t *leaf_frame)
{
    const struct stack_memo *m = find_memo(r, tid);
    if (!m || !m->has_still || !m->still_confirmed || memo_last_node(m) == ID_NONE ||
        m->still.gil_switches != switches || m->still.tstate != tstate)
        return false;
    *leaf_frame = m->still.leaf_frame;
    return true;
}

void stack_resolver_repeat(struct stack_resolver *r, uint64_t tid, uint32_t node, uint64_t ns)
{
    memo_for(r, tid);   /* keeps the memo from expiring */
    calltree_add(&r->profile->tree, node, 1, ns);
}
