/*
 * pprof.h — pprof's profile.proto, gzip-compressed: what `go tool pprof`,
 * Pyroscope, Parca and speedscope read.
 *
 * Two sample types, "samples"/"count" and "wall"/"nanoseconds" (the
 * default), so both the count and the measured time of each stack are
 * there. One pprof sample per distinct stack and thread, locations leaf
 * first, labelled with "thread id" (and "thread name" when the OS knows
 * one). A location is one place in the source (function and line); a
 * function has its file and first line. Period, start time and duration
 * are filled in.
 */
#ifndef STROBE_OUTPUT_PPROF_H
#define STROBE_OUTPUT_PPROF_H

#include "sampler/profile.h"

#include <stdio.h>

void pprof_write(FILE *f, const struct profile *p);

#endif
