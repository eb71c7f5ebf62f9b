/*
 * record_seed.c — record a real interpreter's memory as a fuzzing seed.
 *
 *   record_seed PID OUT [SAMPLES]
 *
 * Attaches to PID as strobe does, takes SAMPLES samples, and writes every
 * byte range strobe read (the newest copy of each) in the fake-memory format
 * (fake_memory.h). Linked with -Wl,--wrap=remote_read,--wrap=remote_readv:
 * the reads really happen and are also logged. Seeds made this way start the
 * fuzzer from real layouts of every CPython version, so mutations explore
 * near-real structures instead of noise.
 */
#include "fake_memory.h"

#include "proc/memory.h"
#include "python/target.h"
#include "sampler/sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bounds on a seed: libFuzzer works best with inputs of tens of KiB. */
#define RECORD_MAX_REGIONS 2048
#define RECORD_MAX_BYTES ((size_t)160 * 1024)
#define RECORD_DEFAULT_SAMPLES 8
#define RECORD_SAMPLE_NS 1000000

struct recorded {
    uint64_t addr;
    uint32_t len;
    uint8_t *bytes;
};

/* The recording: a tool's own state, one per process. */
static struct recorded recorded[RECORD_MAX_REGIONS];
static size_t nrecorded, recorded_bytes;

static void record(uint64_t addr, const void *bytes, size_t len)
{
    for (size_t i = 0; i < nrecorded; i++) {
        if (recorded[i].addr == addr && recorded[i].len == len) {
            memcpy(recorded[i].bytes, bytes, len);     /* keep the newest */
            return;
        }
    }
    if (nrecorded == RECORD_MAX_REGIONS || recorded_bytes + len > RECORD_MAX_BYTES)
        return;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return;
    memcpy(copy, bytes, len);
    recorded[nrecorded++] = (struct recorded){ addr, (uint32_t)len, copy };
    recorded_bytes += len;
}

enum remote_status __real_remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);
enum remote_status __real_remote_readv(struct remote *r, const struct iovec *local,
                                       const struct iovec *remote, size_t count, size_t *done);
enum remote_status __wrap_remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);
enum remote_status __wrap_remote_readv(struct remote *r, const struct iovec *local,
                                       const struct iovec *remote, size_t count, size_t *done);

enum remote_status __wrap_remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
    enum remote_status st = __real_remote_read(r, addr, buf, len);
    if (st == REMOTE_OK)
        record(addr, buf, len);
    return st;
}

enum remote_status __wrap_remote_readv(struct remote *r, const struct iovec *local,
                                       const struct iovec *remote, size_t count, size_t *done)
{
    enum remote_status st = __real_remote_readv(r, local, remote, count, done);
    for (size_t i = 0; i < *done; i++)
        record((uint64_t)(uintptr_t)remote[i].iov_base, local[i].iov_base, local[i].iov_len);
    return st;
}

static int write_seed(const char *path, const struct py_target *t)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    struct fake_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, FAKE_MAGIC, FAKE_MAGIC_LEN);
    h.minor = t->layout.version.minor;
    h.pthread_tid_offset = t->pthread_tid_offset;
    h.runtime_addr = t->runtime_addr;
    h.code_type = t->code_type;
    h.code_generation_addr = t->code_generation_addr;
    fwrite(&h, sizeof(h), 1, f);
    for (size_t i = 0; i < nrecorded; i++) {
        fwrite(&recorded[i].addr, sizeof(recorded[i].addr), 1, f);
        fwrite(&recorded[i].len, sizeof(recorded[i].len), 1, f);
        fwrite(recorded[i].bytes, 1, recorded[i].len, f);
    }
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: record_seed PID OUT [SAMPLES]\n");
        return 2;
    }
    char *end;
    long pid = strtol(argv[1], &end, 10);
    long samples = argc > 3 ? strtol(argv[3], NULL, 10) : RECORD_DEFAULT_SAMPLES;
    if (*end || pid <= 0 || samples <= 0) {
        fprintf(stderr, "record_seed: bad PID or SAMPLES\n");
        return 2;
    }
    static struct py_target t;
    char err[ERRMSG_MAX];
    if (py_target_attach(&t, (pid_t)pid, err, sizeof(err)) != TARGET_OK) {
        fprintf(stderr, "record_seed: %s\n", err);
        return 1;
    }
    struct profile p;
    profile_init(&p);
    struct sampler *s = sampler_new(&t, &p);
    for (int i = 0; i < samples && sampler_sample(s, RECORD_SAMPLE_NS); i++)
        usleep(1000);
    sampler_delete(s);
    int rc = write_seed(argv[2], &t);
    fprintf(stderr, "record_seed: CPython 3.%u, %llu thread stacks, %zu regions, %zu bytes -> %s\n",
            t.layout.version.minor, (unsigned long long)p.stats.thread_samples, nrecorded,
            recorded_bytes, argv[2]);
    profile_free(&p);
    return rc;
}
