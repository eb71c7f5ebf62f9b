/*
 * speedscope.h — speedscope's JSON file format
 * (https://www.speedscope.app/file-format-schema.json).
 *
 * One "sampled" profile per thread; frames (function, file, line) are
 * shared. Each distinct stack is one sample, root first, weighted by the
 * wall time its samples stand for, in seconds: speedscope's time axis then
 * shows real elapsed time even where samples were missed.
 */
#ifndef STROBE_OUTPUT_SPEEDSCOPE_H
#define STROBE_OUTPUT_SPEEDSCOPE_H

#include "sampler/profile.h"

#include <stdio.h>

void speedscope_write(FILE *f, const struct profile *p);

#endif
