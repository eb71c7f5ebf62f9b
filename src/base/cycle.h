/*
 * cycle.h — detecting a cycle in a remote linked list in O(1) memory.
 *
 * Remote lists (interpreters, thread states, frames) are untrusted: a torn
 * read or corrupt memory can make one loop back on itself. Brent's algorithm
 * remembers one node and compares every later node against it, moving the
 * remembered node at power-of-two steps; a cycle is found within twice its
 * length plus its distance from the start. Each step is a compare and an
 * increment, cheap enough to run on every frame of every sample.
 */
#ifndef STROBE_BASE_CYCLE_H
#define STROBE_BASE_CYCLE_H

#include <stdbool.h>
#include <stdint.h>

struct cycle_check {
    uint64_t saved;
    uint64_t power, steps;
};

static inline void cycle_check_init(struct cycle_check *c)
{
    c->saved = 0;
    c->power = 1;
    c->steps = 0;
}

/* Feed the next node; true if it was seen before (a cycle). */
static inline bool cycle_check_step(struct cycle_check *c, uint64_t node)
{
    if (node == c->saved)
        return true;
    if (++c->steps == c->power) {
        c->saved = node;
        c->power *= 2;
        c->steps = 0;
    }
    return false;
}

#endif
