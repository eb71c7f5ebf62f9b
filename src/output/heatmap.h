/*
 * heatmap.h — a line-level heat map: one self-contained HTML page (no
 * scripts, no network) with an index of the hottest lines and of the
 * files, then every profiled source file with each line's samples, its
 * colour the line's share of the executing samples.
 *
 * Sources are read from disk when the page is written, with the target's
 * rights and through its root while it still runs (proc/target_files.h);
 * a file that cannot be read is listed with its counts only.
 */
#ifndef STROBE_OUTPUT_HEATMAP_H
#define STROBE_OUTPUT_HEATMAP_H

#include "sampler/profile.h"

#include <stdio.h>

void heatmap_write(FILE *f, const struct profile *p);

#endif
