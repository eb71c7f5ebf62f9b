/*
 * code.h — the code-object cache: remote PyCodeObject -> file, name, lines.
 *
 * Reading a code object's strings and line table costs several system calls,
 * so each is read once and kept, keyed by its remote address. Addresses are
 * reused when code objects die and new ones are born, so an entry is only
 * trusted while the object at that address still has the same identity: the
 * same type, name, file, line-table object and first line. The frame walker
 * re-reads those header fields with every sample (they come in the sample's
 * batched read), and a mismatch replaces the entry — a profile never shows a
 * dead function's name for a new one.
 *
 * Decoding reads the object's strings after the sample that found it, maybe
 * long after (strobe can be descheduled): by then the object may have died
 * and its name's memory been given to another string. So a decode is kept
 * only if, read again once its strings are in, the object still has the
 * identity the sample saw and still looks alive: then they were its strings.
 */
#ifndef STROBE_PYTHON_CODE_H
#define STROBE_PYTHON_CODE_H

#include "base/u64map.h"
#include "proc/memory.h"
#include "python/layout.h"
#include "python/linetable.h"

/* Bytes in a code unit (an instruction or its cache entry; 3.6+). */
#define CODE_UNIT_BYTES 2

/* The cache is cleared when it holds this many entries (bounded memory on a
 * target that creates code objects without end). */
#define CODE_CACHE_MAX_ENTRIES 65536

/*
 * What identifies a code object: its header fields, and the hash of its
 * co_name. Pointers alone are not enough: when code objects made from one
 * template die and are born again in a loop, their names, files and line
 * tables are freed and reallocated in the same order, at the same addresses.
 * The name's content (through the hash an interned identifier always has)
 * tells "f_41" from "f_42" even then.
 */
struct code_identity {
    uint64_t ob_type;
    uint64_t filename, name, plain_name, linetable;
    int64_t ob_size;
    uint64_t bytecode;      /* co_code (3.8–3.10) */
    int64_t name_hash;      /* hash field of the co_name str */
    int32_t firstlineno;
    int32_t flags;          /* co_flags (3.12+; 0 before) */
    /* 3.11–3.12: words its frames take on the data stack (co_nlocalsplus +
     * co_stacksize + FRAME_SPECIALS_SIZE), for the check in frames.h; 0 in
     * other versions. */
    int64_t frame_words;
    uint64_t localsplusnames;   /* 3.13+: the tuple of local names */
};

struct py_code {
    uint64_t addr;
    struct code_identity id;
    char *filename;         /* UTF-8 */
    char *name;             /* co_qualname where the version has it, else co_name */
    struct line_table lines;
    /* co_nlocalsplus: words of locals, cells and free variables at the
     * start of localsplus in its frames; -1 if unknown. */
    int32_t nlocalsplus;
    /* Size of its bytecode in code units (two bytes); -1 if unknown. */
    int64_t units;
    /* 3.11–3.12 (layout.h return_opcodes): bit n set if code unit n is a
     * return instruction; NULL if not known. */
    uint64_t *returns;
    /* Free for the sampler: interned symbol ids and the last offset it
     * resolved, reset (to ID_NONE) whenever the entry is (re)decoded. */
    uint32_t sym_file, sym_name;
    int64_t memo_offset;
    uint32_t memo_frame;
    /* Also the sampler's: the read of the target (snapshot.reads) in which
     * the identity was last checked, and the code generation under which it
     * is known to hold. */
    uint64_t checked_read;
    uint64_t trusted_generation;
    bool trusted;
};

struct code_cache_stats {
    uint64_t lookups, decoded, replaced, failed, clears;
    /* Decodes refused because the object died or changed while its strings
     * were read (not in failed). */
    uint64_t raced;
};

struct code_cache {
    struct remote *remote;
    const struct py_layout *layout;
    uint64_t code_type;         /* remote &PyCode_Type, 0 if unknown */
    struct py_code *entries;
    size_t count, cap;
    struct u64map by_addr;
    /* Bumped whenever an entry changes meaning (replaced or cleared), so
     * anything derived from entries can tell it is out of date. */
    uint32_t epoch;
    struct code_cache_stats stats;
};

void code_cache_init(struct code_cache *c, struct remote *r, const struct py_layout *l,
                     uint64_t code_type);
void code_cache_free(struct code_cache *c);

/* Room for the identity fields of a code object (3.14: 144 bytes). */
#define CODE_HEADER_MAX 512

/* Identity fields from a header of layout->code_read_size bytes, all but
 * name_hash (which needs a read of the co_name string at plain_name). */
struct code_identity code_identity_from(const struct py_layout *l, const uint8_t *header);

/* The whole identity of the code object at `addr`, read from the target
 * now; *alive (if not NULL) tells whether the object looks alive rather
 * than freed (see code.c). false if it cannot be read. */
bool code_identity_read(struct remote *r, const struct py_layout *l, uint64_t addr,
                        struct code_identity *id, bool *alive);

/*
 * The entry for the code object at `addr` whose identity (as read in this
 * sample) is `id`; ID_NONE if it is not a code object or cannot be read. The
 * index is valid until the next call.
 */
uint32_t code_cache_resolve(struct code_cache *c, uint64_t addr, const struct code_identity *id);

static inline struct py_code *code_cache_get(const struct code_cache *c, uint32_t index)
{
    return &c->entries[index];
}

/* The entry for `addr` if there is one (not checked: compare identities). */
static inline uint32_t code_cache_find(const struct code_cache *c, uint64_t addr)
{
    return u64map_get(&c->by_addr, addr);
}

/* Does the size of this code object allow a current instruction at byte
 * `offset`? (An unknown size, or one too large to double, is none: anything
 * goes.) */
static inline bool code_offset_valid(const struct py_code *code, int64_t offset)
{
    int64_t units = code->units;
    return units <= 0 || units > INT64_MAX / CODE_UNIT_BYTES ||
           offset <= units * CODE_UNIT_BYTES;
}

/* Is the instruction at byte offset `offset` a return (3.11–3.12)? false if
 * not known. */
static inline bool code_returns_at(const struct py_code *code, int64_t offset)
{
    if (!code->returns || offset < 0 || offset % CODE_UNIT_BYTES ||
        !code_offset_valid(code, offset + CODE_UNIT_BYTES))
        return false;
    uint64_t unit = (uint64_t)offset / CODE_UNIT_BYTES;
    return (code->returns[unit / 64] >> (unit % 64)) & 1;
}

static inline bool code_identity_equal(const struct code_identity *a, const struct code_identity *b)
{
    return a->ob_type == b->ob_type && a->filename == b->filename && a->name == b->name &&
           a->plain_name == b->plain_name && a->linetable == b->linetable &&
           a->ob_size == b->ob_size && a->bytecode == b->bytecode &&
           a->name_hash == b->name_hash &&
           a->firstlineno == b->firstlineno && a->flags == b->flags &&
           a->frame_words == b->frame_words && a->localsplusnames == b->localsplusnames;
}

/* co_flags' CO_NO_MONITORING_EVENTS (3.12+): set only on code the
 * interpreter makes for itself, such as 3.13+'s _Py_InitCleanup, which a
 * class's __init__ returns through. CPython's own tracebacks never show such
 * frames; neither does strobe. */
#define CO_NO_MONITORING_EVENTS 0x2000000

/* Is this the interpreter's own shim code rather than the program's? */
static inline bool code_is_shim(const struct py_code *code)
{
    return (code->id.flags & CO_NO_MONITORING_EVENTS) != 0;
}

#endif
