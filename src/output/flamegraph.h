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

/*
 * A baseline to compare with (--diff-flamegraph): for each call path,
 * matched by file, function and line (never by ids, which differ between
 * profiles), how many samples the baseline had under it, all threads
 * together. Frames are coloured by how their share of the samples changed.
 */
struct flamegraph_baseline;

void flamegraph_write(FILE *f, const struct profile *p, const struct flamegraph_baseline *base);

/* The flame graph of `p` against the recording at `baseline_path`. false
 * with a message if the baseline cannot be read. */
bool flamegraph_write_diff(FILE *f, const struct profile *p, const char *baseline_path, char *err,
                           size_t errlen);

#endif
