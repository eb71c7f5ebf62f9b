/*
 * collapsed.h — folded stacks, one line per distinct stack, in Tachyon's
 * format:
 *
 *   tid:TID;file:function:line;...;file:function:line COUNT
 *
 * root first, the count after the last space. flamegraph.pl, speedscope,
 * inferno and the like read it. Semicolons inside names are replaced by '_'
 * so the frame separator stays unambiguous; file names are kept whole.
 */
#ifndef STROBE_OUTPUT_COLLAPSED_H
#define STROBE_OUTPUT_COLLAPSED_H

#include "sampler/profile.h"

#include <stdio.h>

void collapsed_write(FILE *f, const struct profile *p);

#endif
