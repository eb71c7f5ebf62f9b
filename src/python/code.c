/*
 * code.c — the code-object cache; see code.h.
 */
#include "python/code.h"

#include "python/strings.h"

#include <stdlib.h>
#include <string.h>

/* Placeholder shown when a name cannot be read. */
#define UNKNOWN_NAME "<unknown>"
/* More locals than any compiler makes: a torn or corrupt tuple. */
#define CODE_MAX_LOCALS (1 << 20)
/* Bytecode scanned for return instructions, at most (code units). */
#define CODE_MAX_SCANNED_UNITS ((int64_t)64 * 1024)
/*
 * A freed object's first word is no reference count but its allocator's
 * link to the next free block: pymalloc's is 0 (none) or an address in the
 * same pool, within an arena of the object. (glibc's tcache also overwrites
 * the type word, and a debug build's fills it with dead bytes: the identity
 * tells those.) A live object's count is small, or immortal (2^32-1 and up
 * in 3.12+, flags in its upper half in 3.14+): never an address near it.
 */
#define FREE_LINK_REACH ((uint64_t)1 << 20)

void code_cache_init(struct code_cache *c, struct remote *r, const struct py_layout *l,
                     uint64_t code_type)
{
    memset(c, 0, sizeof(*c));
    c->remote = r;
    c->layout = l;
    c->code_type = code_type;
    u64map_init(&c->by_addr);
}

static void entry_release(struct py_code *e)
{
    free(e->filename);
    free(e->name);
    free(e->returns);
    line_table_free(&e->lines);
}

static void clear_all(struct code_cache *c)
{
    for (size_t i = 0; i < c->count; i++)
        entry_release(&c->entries[i]);
    c->count = 0;
    u64map_clear(&c->by_addr);
    c->epoch++;
    c->stats.clears++;
}

void code_cache_free(struct code_cache *c)
{
    clear_all(c);
    free(c->entries);
    u64map_free(&c->by_addr);
    memset(c, 0, sizeof(*c));
}

static uint64_t read_u64_at(const uint8_t *p, uint32_t offset)
{
    uint64_t v = 0;
    if (offset != OFFSET_NONE)
        memcpy(&v, p + offset, sizeof(v));
    return v;
}

struct code_identity code_identity_from(const struct py_layout *l, const uint8_t *header)
{
    struct code_identity id;
    memset(&id, 0, sizeof(id));
    id.ob_type = read_u64_at(header, l->ob_type);
    id.filename = read_u64_at(header, l->code.filename);
    id.name = read_u64_at(header, l->code.qualname != OFFSET_NONE ? l->code.qualname : l->code.name);
    id.plain_name = read_u64_at(header, l->code.name);
    id.linetable = read_u64_at(header, l->code.linetable);
    id.ob_size = (int64_t)read_u64_at(header, l->code.ob_size);
    id.bytecode = read_u64_at(header, l->code.bytecode);
    memcpy(&id.firstlineno, header + l->code.firstlineno, sizeof(id.firstlineno));
    if (l->code.flags != OFFSET_NONE)
        memcpy(&id.flags, header + l->code.flags, sizeof(id.flags));
    id.localsplusnames = read_u64_at(header, l->code.localsplusnames);
    if (l->frame_specials_words != OFFSET_NONE) {
        int32_t stacksize, nlocalsplus;
        memcpy(&stacksize, header + l->code.stacksize, sizeof(stacksize));
        memcpy(&nlocalsplus, header + l->code.nlocalsplus, sizeof(nlocalsplus));
        /* Corrupt sizes give a size no frame can end at the stack top with. */
        id.frame_words = stacksize < 0 || nlocalsplus < 0
                             ? -1
                             : (int64_t)stacksize + nlocalsplus + l->frame_specials_words;
    }
    return id;
}

/* Does the object whose header this is look alive (see FREE_LINK_REACH)? */
static bool header_alive(const struct py_layout *l, const uint8_t *header, uint64_t addr)
{
    if (l->ob_refcnt == OFFSET_NONE)
        return true;
    uint64_t word = read_u64_at(header, l->ob_refcnt);
    uint64_t distance = word > addr ? word - addr : addr - word;
    return word != 0 && distance >= FREE_LINK_REACH;
}

bool code_identity_read(struct remote *r, const struct py_layout *l, uint64_t addr,
                        struct code_identity *id, bool *alive)
{
    uint8_t header[CODE_HEADER_MAX];
    if (l->code_read_size > sizeof(header) ||
        remote_read(r, addr, header, l->code_read_size) != REMOTE_OK)
        return false;
    *id = code_identity_from(l, header);
    if (alive)
        *alive = header_alive(l, header, addr);
    return remote_read(r, id->plain_name + l->unicode.hash, &id->name_hash,
                       sizeof(id->name_hash)) == REMOTE_OK;
}

/* co_nlocalsplus, as the length of the tuple of local names (3.13+; a tuple
 * is a var-object like the code object); -1 if unknown. The tuple lives as
 * long as the code object, whose identity the caller has checked. */
static int32_t read_nlocalsplus(struct code_cache *c, const struct code_identity *id)
{
    int64_t len;
    if (!id->localsplusnames || c->layout->code.ob_size == OFFSET_NONE ||
        remote_read(c->remote, id->localsplusnames + c->layout->code.ob_size, &len,
                    sizeof(len)) != REMOTE_OK ||
        len < 0 || len > CODE_MAX_LOCALS)
        return -1;
    return (int32_t)len;
}

/* The size of a code object's bytecode in code units, -1 if unknown: its
 * ob_size (3.11+), or its co_code's length (3.8–3.10; a bytes object lives as
 * long as the code object, whose identity, which holds the pointer, the
 * caller checks). */
static int64_t code_units(struct code_cache *c, const struct code_identity *id)
{
    const struct py_layout *l = c->layout;
    if (l->code.ob_size != OFFSET_NONE)
        return id->ob_size > 0 ? id->ob_size : -1;
    int64_t len;
    if (!id->bytecode ||
        remote_read(c->remote, id->bytecode + l->bytes.ob_size, &len, sizeof(len)) !=
            REMOTE_OK ||
        len <= 0 || len > (int64_t)PY_BYTES_MAX || len % CODE_UNIT_BYTES)
        return -1;
    return len / CODE_UNIT_BYTES;
}

/* Where a code object's return instructions are (3.11–3.12), from its
 * bytecode; NULL if the layout knows none or it cannot be read. Specialising
 * never rewrites a return into anything else. */
static uint64_t *map_returns(struct code_cache *c, uint64_t addr, const struct code_identity *id)
{
    const struct py_layout *l = c->layout;
    if (!l->nreturn_opcodes || l->code.code_adaptive == OFFSET_NONE || id->ob_size <= 0 ||
        id->ob_size > CODE_MAX_SCANNED_UNITS)
        return NULL;
    size_t units = (size_t)id->ob_size;
    uint8_t *bytecode = xmalloc(units * CODE_UNIT_BYTES);
    uint64_t *returns = NULL;
    if (remote_read(c->remote, addr + l->code.code_adaptive, bytecode,
                    units * CODE_UNIT_BYTES) == REMOTE_OK) {
        returns = xcalloc((units + 63) / 64, sizeof(*returns));
        for (size_t u = 0; u < units; u++)
            for (unsigned k = 0; k < l->nreturn_opcodes; k++)
                if (bytecode[u * CODE_UNIT_BYTES] == l->return_opcodes[k])
                    returns[u / 64] |= (uint64_t)1 << (u % 64);
    }
    free(bytecode);
    return returns;
}

/* Read strings and line table of a code object into `e`. */
static bool decode_entry(struct code_cache *c, uint64_t addr, const struct code_identity *id,
                         struct py_code *e)
{
    char buf[PY_STRING_MAX_UTF8];
    memset(e, 0, sizeof(*e));
    e->addr = addr;
    e->id = *id;
    e->sym_file = e->sym_name = e->memo_frame = ID_NONE;
    if (!py_read_str(c->remote, c->layout, id->name, buf, sizeof(buf)))
        return false;
    e->name = xstrdup(buf);
    if (!py_read_str(c->remote, c->layout, id->filename, buf, sizeof(buf))) {
        free(e->name);
        return false;
    }
    e->filename = xstrdup(buf);
    uint8_t *table = NULL;
    size_t len = 0;
    /* A code object whose line table cannot be read still has a name: report
     * its first line rather than losing the frame. */
    if (!py_read_bytes(c->remote, c->layout, id->linetable, PY_BYTES_MAX, &table, &len))
        len = 0;
    line_table_decode(&e->lines, c->layout->linetable_format, table, len, id->firstlineno);
    free(table);
    e->nlocalsplus = read_nlocalsplus(c, id);
    e->units = code_units(c, id);
    e->returns = map_returns(c, addr, id);
    return true;
}

/* Is the object at `addr`, read again now that its strings are in, the
 * one `id` describes, and alive (code.h)? Its name's hash, part of the
 * identity, is read again too: a name whose memory went to another string
 * shows that string's. */
static bool still_itself(struct code_cache *c, uint64_t addr, const struct code_identity *id)
{
    struct code_identity now;
    bool alive;
    return code_identity_read(c->remote, c->layout, addr, &now, &alive) && alive &&
           code_identity_equal(&now, id);
}

uint32_t code_cache_resolve(struct code_cache *c, uint64_t addr, const struct code_identity *id)
{
    c->stats.lookups++;
    if (c->code_type && id->ob_type != c->code_type)
        return ID_NONE;
    uint32_t index = u64map_get(&c->by_addr, addr);
    if (index != ID_NONE && code_identity_equal(&c->entries[index].id, id))
        return index;

    struct py_code fresh;
    if (!decode_entry(c, addr, id, &fresh)) {
        c->stats.failed++;
        return ID_NONE;
    }
    if (!still_itself(c, addr, id)) {
        entry_release(&fresh);
        c->stats.raced++;
        return ID_NONE;
    }
    c->stats.decoded++;
    if (index != ID_NONE) {
        /* Same address, different object: the old one died. */
        entry_release(&c->entries[index]);
        c->entries[index] = fresh;
        c->stats.replaced++;
        c->epoch++;
        return index;
    }
    if (c->count >= CODE_CACHE_MAX_ENTRIES)
        clear_all(c);
    c->entries = xgrow(c->entries, &c->cap, c->count + 1, sizeof(*c->entries));
    index = (uint32_t)c->count++;
    c->entries[index] = fresh;
    u64map_put(&c->by_addr, addr, index);
    return index;
}
