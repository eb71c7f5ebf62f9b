/*
 * jsonl.h — newline-delimited JSON for scripts: a header record, one record
 * per distinct stack, one per function (place in the source), and a
 * trailer with the totals. The schema is in docs/jsonl.md; a reader should
 * dispatch on "type" and ignore fields it does not know.
 */
#ifndef STROBE_OUTPUT_JSONL_H
#define STROBE_OUTPUT_JSONL_H

#include "sampler/profile.h"

#include <stdio.h>

#define JSONL_SCHEMA_VERSION 1

void jsonl_write(FILE *f, const struct profile *p);

#endif
