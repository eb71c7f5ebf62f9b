/*
 * recording.h — the binary recording (--binary, --record): every sample
 * with its time, streamed to disk while sampling, and read back by
 * `strobe replay` into the very profile strobe had built, so that any
 * output format can be made from it later with the same result.
 *
 * The format is documented in docs/recording.md. In short: a 16-byte
 * header, then independent zstd-compressed blocks. A block holds records
 * that extend the profile's append-only tables (strings, frames, call-tree
 * nodes, threads) in the order strobe created them, sampling rounds with
 * their time, and the samples of each round. A block is written at least
 * every RECORDING_FLUSH_NS, so a strobe that is killed loses at most the
 * last second; the final block carries the totals.
 *
 * The reader treats the file as hostile input: every length, count and
 * reference is checked, and a damaged or truncated file is an error or an
 * early end, never a crash.
 */
#ifndef STROBE_OUTPUT_RECORDING_H
#define STROBE_OUTPUT_RECORDING_H

#include "sampler/profile.h"

#include <stdio.h>

#define RECORDING_VERSION 1

struct recorder;

/* Start recording `p` (already initialised, maybe empty) into `path`,
 * which is written directly, not renamed into place: what was streamed
 * must survive strobe being killed. NULL with a message on failure. */
struct recorder *recorder_open(const char *path, struct profile *p, char *err, size_t errlen);

/* After each sampling round: what the profile gained since the last call,
 * and the samples of the round (from the call tree's sample log), at
 * monotonic time `now_ns`. */
void recorder_round(struct recorder *r, struct profile *p, uint64_t now_ns);

/* The totals, the last block, and close. false with a message if writing
 * failed at any point (a full disk, say). */
bool recorder_finish(struct recorder *r, struct profile *p, char *err, size_t errlen);

/* One sample as replay sees it, for outputs that need the timeline. */
struct recorded_sample {
    uint64_t time_ns;       /* since the first sample */
    uint32_t node;          /* call-tree node (its thread is the node's) */
    uint64_t weight_ns;
};
typedef void (*recording_sample_fn)(void *ctx, const struct profile *p,
                                    const struct recorded_sample *s);

/*
 * Read the recording at `path` into `p` (freshly profile_init'ed), calling
 * on_sample (if not NULL) for every sample in order. false with a message
 * if the file is not a recording or is damaged; a recording that simply
 * stops (strobe was killed) is read up to where it stops, with
 * *complete = false.
 */
bool recording_replay(const char *path, struct profile *p, recording_sample_fn on_sample,
                      void *ctx, bool *complete, char *err, size_t errlen);

/* The same over a recording in memory (for the fuzzer). */
bool recording_replay_buffer(const uint8_t *data, size_t len, struct profile *p,
                             recording_sample_fn on_sample, void *ctx, bool *complete,
                             char *err, size_t errlen);

#endif
