/*
 * memory.h — reading another process's memory.
 *
 * The only way strobe touches the target: process_vm_readv. It never writes
 * (there is no write function here by design), never stops the target, and
 * treats every byte it gets back as untrusted input.
 *
 * Each call reports how it failed so callers can tell "this address is not
 * mapped" (a racing or corrupt pointer: an error sample) from "the process is
 * gone" (stop sampling) and "not allowed" (a permission problem to explain).
 */
#ifndef STROBE_PROC_MEMORY_H
#define STROBE_PROC_MEMORY_H

#include "base/common.h"

#include <sys/types.h>
#include <sys/uio.h>

/* Refuse single reads larger than this: a length taken from remote memory
 * that is bigger is corrupt, and reading it would only waste time. */
#define REMOTE_READ_MAX ((size_t)64 * 1024 * 1024)

enum remote_status {
    REMOTE_OK = 0,
    REMOTE_FAULT,       /* some of the range is not mapped in the target */
    REMOTE_GONE,        /* the target process no longer exists */
    REMOTE_DENIED,      /* the kernel refused access (permissions) */
    REMOTE_INVALID,     /* nonsense request: NULL address, huge length */
};

/* Counters of system calls, the remote ranges they asked for (the kernel
 * pins the pages of each: what a read costs most) and bytes, for --stats
 * and the benchmark. */
struct remote_counters {
    uint64_t syscalls;
    uint64_t ranges;
    uint64_t bytes;
};

struct remote {
    pid_t process;  /* the target */
    pid_t pid;      /* the thread of it read through (process_live_task) */
    struct remote_counters counters;
    bool denied;    /* a read was refused: the process exists but is no
                       longer ours to read (it exec'd a setuid program) */
};

void remote_init(struct remote *r, pid_t pid);

/* Read exactly `len` bytes at remote address `addr` into `buf`. */
enum remote_status remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);

/*
 * Read a batch of ranges in as few system calls as possible. local[i] and
 * remote[i] must have equal lengths. On a partial read, *done is the number
 * of leading ranges read completely; the caller decides what to do with the
 * rest. Returns REMOTE_OK only if all ranges were read.
 */
enum remote_status remote_readv(struct remote *r, const struct iovec *local,
                                const struct iovec *remote, size_t count, size_t *done);

/* Helpers for reading one machine word. */
static inline enum remote_status remote_read_u64(struct remote *r, uint64_t addr, uint64_t *out)
{
    return remote_read(r, addr, out, sizeof(*out));
}

const char *remote_status_name(enum remote_status st);

#endif
