/*
 * flamegraph.h — one self-contained interactive HTML flame graph: no
 * network, no external script. Click to zoom, search with highlight,
 * tooltips with samples, percentage and time, a per-thread filter.
 *
 * The page (flamegraph.html, linked into the binary) draws the call tree
 * that is embedded in it as JSON: every thread's tree under one root,
 * children widest first. Frames are places in the source, as in the report.
 */
#ifndef STROBE_OUTPUT_FLAMEGRAPH_H
#define STROBE_OUTPUT_FLAMEGRAPH_H

#include "sampler/profile.h"

#include <stdio.h>

void flamegraph_write(FILE *f, const struct profile *p);

#endif
