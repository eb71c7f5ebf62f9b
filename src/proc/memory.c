/*
 * memory.c — process_vm_readv wrappers; see memory.h.
 */
#include "proc/memory.h"

#include "proc/process.h"

#include <errno.h>
#include <limits.h>

/* The kernel accepts at most IOV_MAX iovecs per call. */
#define READV_BATCH IOV_MAX

void remote_init(struct remote *r, pid_t pid)
{
    r->process = pid;
    r->pid = pid;
    r->counters = (struct remote_counters){ 0 };
    r->denied = false;
}

/* Why a read failed; a refusal is remembered (struct remote). */
static enum remote_status read_failed(struct remote *r, int err)
{
    switch (err) {
    case ESRCH:
        return REMOTE_GONE;
    case EPERM:
    case EACCES:
        r->denied = true;
        return REMOTE_DENIED;
    case EINVAL:
        return REMOTE_INVALID;
    default:
        return REMOTE_FAULT;
    }
}

/*
 * process_vm_readv of the thread read through failed with ESRCH: that
 * thread has ended, which the process may outlive (its main thread can
 * pthread_exit while the others go on). Read through another of its
 * threads if one runs: true if there is one to try.
 */
static bool switch_thread(struct remote *r)
{
    pid_t live = process_live_task(r->process);
    if (!live || live == r->pid)
        return false;
    r->pid = live;
    return true;
}

static ssize_t readv_through_live_thread(struct remote *r, const struct iovec *local,
                                         const struct iovec *remote, size_t count)
{
    r->counters.syscalls++;
    ssize_t n = process_vm_readv(r->pid, local, count, remote, count, 0);
    if (n < 0 && errno == ESRCH) {
        /* Looking through /proc for another thread sets errno of its own. */
        bool switched = switch_thread(r);
        errno = ESRCH;
        if (switched) {
            r->counters.syscalls++;
            n = process_vm_readv(r->pid, local, count, remote, count, 0);
        }
    }
    return n;
}

enum remote_status remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
    if (len == 0)
        return REMOTE_OK;
    if (addr == 0 || len > REMOTE_READ_MAX || addr + len < addr)
        return REMOTE_INVALID;
    struct iovec local = { buf, len };
    struct iovec remote = { (void *)(uintptr_t)addr, len };
    r->counters.ranges++;
    ssize_t n = readv_through_live_thread(r, &local, &remote, 1);
    if (n < 0)
        return read_failed(r, errno);
    r->counters.bytes += (uint64_t)n;
    return (size_t)n == len ? REMOTE_OK : REMOTE_FAULT;
}

enum remote_status remote_readv(struct remote *r, const struct iovec *local,
                                const struct iovec *remote, size_t count, size_t *done)
{
    *done = 0;
    while (*done < count) {
        size_t batch = MIN(count - *done, (size_t)READV_BATCH);
        size_t want = 0;
        for (size_t i = 0; i < batch; i++)
            want += remote[*done + i].iov_len;
        r->counters.ranges += batch;
        ssize_t n = readv_through_live_thread(r, local + *done, remote + *done, batch);
        if (n < 0)
            return read_failed(r, errno);
        r->counters.bytes += (uint64_t)n;
        if ((size_t)n == want) {
            *done += batch;
            continue;
        }
        /* Partial: count the ranges that were read completely. */
        size_t got = (size_t)n;
        while (got >= remote[*done].iov_len) {
            got -= remote[*done].iov_len;
            (*done)++;
        }
        return REMOTE_FAULT;
    }
    return REMOTE_OK;
}

const char *remote_status_name(enum remote_status st)
{
    switch (st) {
    case REMOTE_OK:
        return "ok";
    case REMOTE_FAULT:
        return "unmapped address";
    case REMOTE_GONE:
        return "process exited";
    case REMOTE_DENIED:
        return "permission denied";
    case REMOTE_INVALID:
        return "invalid address or length";
    }
    return "unknown";
}
