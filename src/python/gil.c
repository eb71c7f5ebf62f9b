/*
 * gil.c — the GIL's holder and switch count across a sample; see gil.h.
 */
#include "python/gil.h"

#include <string.h>

/* last_holder, locked and switch_number, read as one request. */
#define GIL_READ_SIZE (GIL_SWITCH_NUMBER_OFFSET + sizeof(uint64_t) - GIL_LAST_HOLDER_OFFSET)

uint64_t py_gil_address(const struct py_target *t, uint64_t interp, size_t interpreters)
{
    const struct py_layout *l = &t->layout;
    /* Even where every interpreter takes the one GIL (3.8-3.11), entering
     * another interpreter switches thread states without passing the GIL
     * (gil.h): with more than one, the GIL proves nothing. */
    if (interpreters != 1 || !interp)
        return 0;
    if (l->gil.in_runtime != OFFSET_NONE)
        return t->runtime_addr + l->gil.in_runtime;
    if (l->gil.in_interp != OFFSET_NONE)
        return interp + l->gil.in_interp;
    return 0;
}

static void parse(const uint8_t *raw, uint64_t *holder, uint64_t *switches)
{
    memcpy(holder, raw, sizeof(*holder));
    memcpy(switches, raw + (GIL_SWITCH_NUMBER_OFFSET - GIL_LAST_HOLDER_OFFSET), sizeof(*switches));
}

void py_gil_read(struct snapshot *s, uint64_t gil, struct gil_state *out)
{
    memset(out, 0, sizeof(*out));
    if (!gil)
        return;
    /* Both requested every time, so that both stay in the plan. */
    const uint8_t *first = snapshot_get_first(s, gil + GIL_LAST_HOLDER_OFFSET, GIL_READ_SIZE);
    const uint8_t *last = snapshot_get_late(s, gil + GIL_LAST_HOLDER_OFFSET, GIL_READ_SIZE);
    if (!first || !last)
        return;
    uint64_t first_holder, first_switches;
    parse(first, &first_holder, &first_switches);
    parse(last, &out->last_holder, &out->switches);
    /* A GIL never taken (one a subinterpreter does not use) has no holder
     * and a zero count: it proves nothing. */
    out->known = first_holder == out->last_holder && first_switches == out->switches &&
                 out->last_holder && out->switches;
}
