/*
 * gecko.h — the Firefox Profiler's "processed" profile format (version 57,
 * as Tachyon writes it; the profiler upgrades it on load): one thread per
 * OS thread, every sample at its real time, so the timeline shows when
 * each thread did what.
 *
 * Sample times come from a recording (output/recording.h): strobe records
 * to a temporary file while sampling when --gecko is asked for, and
 * `strobe replay` has one already.
 */
#ifndef STROBE_OUTPUT_GECKO_H
#define STROBE_OUTPUT_GECKO_H

#include "sampler/profile.h"

#include <stdio.h>

/* Write the profile recorded in `recording`. false with a message if the
 * recording cannot be read. */
bool gecko_write(FILE *f, const char *recording, char *err, size_t errlen);

#endif
