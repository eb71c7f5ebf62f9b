/*
 * fuzz_recording.c — `strobe replay` over hostile files: damaged headers,
 * blocks that lie about their sizes, records with references out of range,
 * entries defined twice, strings with NULs, endless varints. The first
 * input byte picks how the rest is used:
 *   even: the rest is a whole recording file, as found on disk;
 *   odd:  the rest is the records of one block, which the harness wraps in
 *         a valid header and zstd block, so mutations reach the parser.
 * Whatever replays is then written in every output format, the Firefox
 * Profiler's from the recording itself (through a memory file). The only
 * acceptable outcomes are a profile or a clean error.
 */
#include "output/formats.h"
#include "output/recording.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#define HEADER_BYTES 16
#define BLOCK_HEADER_BYTES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_u32_le(uint8_t *out, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

/* A one-block recording holding `records`. */
static uint8_t *wrap_records(const uint8_t *records, size_t len, size_t *out_len)
{
    size_t bound = ZSTD_compressBound(len);
    static const uint8_t magic[8] = { 'S', 'T', 'R', 'O', 'B', 'R', 'E', 'C' };
    uint8_t *file = malloc(HEADER_BYTES + BLOCK_HEADER_BYTES + bound);
    if (!file)
        return NULL;
    memcpy(file, magic, sizeof(magic));
    put_u32_le(file + 8, RECORDING_VERSION);
    put_u32_le(file + 12, 0);
    size_t n = ZSTD_compress(file + HEADER_BYTES + BLOCK_HEADER_BYTES, bound, records, len, 1);
    if (ZSTD_isError(n)) {
        free(file);
        return NULL;
    }
    put_u32_le(file + HEADER_BYTES, (uint32_t)len);
    put_u32_le(file + HEADER_BYTES + 4, (uint32_t)n);
    *out_len = HEADER_BYTES + BLOCK_HEADER_BYTES + n;
    return file;
}

static void count_sample(void *ctx, const struct profile *p, const struct recorded_sample *s)
{
    (void)p;
    (void)s;
    (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *file = data + 1;
    size_t len = size - 1;
    uint8_t *wrapped = NULL;
    if (data[0] & 1) {
        wrapped = wrap_records(data + 1, size - 1, &len);
        if (!wrapped)
            return 0;
        file = wrapped;
    }
    struct profile p;
    profile_init(&p);
    size_t samples = 0;
    bool complete;
    char err[ERRMSG_MAX];
    if (recording_replay_buffer(file, len, &p, count_sample, &samples, &complete, err,
                                sizeof(err))) {
        FILE *sink = fopen("/dev/null", "w");
        if (sink) {
            struct report_options ro = { .sort = SORT_CUMTIME, .limit = 0, .summary = true };
            int fd = memfd_create("recording", 0);
            char path[64];
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            bool have_file = fd >= 0 && write(fd, file, len) == (ssize_t)len;
            /* The file is both the recording and a baseline to compare with. */
            for (int f = 0; f < FORMAT_COUNT; f++) {
                struct output_request req = { (enum output_format)f, &ro, have_file ? path : NULL,
                                              have_file ? path : NULL };
                output_write(&req, sink, &p, err, sizeof(err));
            }
            if (fd >= 0)
                close(fd);
            fclose(sink);
        }
    }
    profile_free(&p);
    free(wrapped);
    return 0;
}
