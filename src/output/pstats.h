/*
 * pstats.h — Python's binary stats file, as cProfile writes it, so that
 * `pstats.Stats(FILE)`, `python -m pstats FILE`, snakeviz and gprof2dot open
 * a strobe profile.
 *
 * The file is one marshalled dict, no header:
 *   {(file, line, function): (cc, nc, tt, ct, {caller_key: (nc, cc, tt, ct)})}
 * A key is a place in the source as strobe reports it (the line being
 * executed, so a function can have several rows, as in Tachyon's file).
 * cc counts the samples a place was executing, nc those it was on the
 * stack; tt and ct are the wall time those samples stand for (seconds,
 * weighted by measured elapsed time). Callers are cProfile-style 4-tuples.
 * No marker keys are added, so every Python 3.x pstats reads it.
 */
#ifndef STROBE_OUTPUT_PSTATS_H
#define STROBE_OUTPUT_PSTATS_H

#include "sampler/profile.h"

#include <stdio.h>

void pstats_write(FILE *f, const struct profile *p);

#endif
