/*
 * fake_memory.c — remote reads served from regions of the fuzz input; see
 * fake_memory.h. Later regions win where regions overlap (a recording keeps
 * the newest copy last).
 */
#include "fake_memory.h"

#include "proc/memory.h"
#include "python/debug_offsets.h"
#include "python/layout.h"
#include "python/target.h"

#include <stdbool.h>
#include <string.h>

struct region {
    uint64_t addr;
    uint32_t len;
    const uint8_t *bytes;
    /* Shown (if trigger is not 0) while this byte has been copied `from`
     * times or more and fewer than `until`, and, if `alternate`, an odd
     * number of times. */
    uint64_t trigger;
    uint32_t from, until;
    bool alternate;
    /* Instead: shown from each copy that starts at `trigger` (a range of
     * its own, not one it lies in) to the next copy of these bytes. */
    bool once_after_start;
    bool shown;                 /* to the copy being made */
    uint32_t copies;            /* copies of the trigger */
};

/* The fake target: test scaffolding, one per process. */
static struct region regions[FAKE_MAX_REGIONS];
static size_t nregions, ntriggered;

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Room for another region, or NULL. */
static struct region *new_region(uint64_t addr, const uint8_t *bytes, uint32_t len)
{
    if (nregions >= FAKE_MAX_REGIONS)
        return NULL;
    regions[nregions] = (struct region){ .addr = addr, .len = len, .bytes = bytes, .shown = true };
    return &regions[nregions++];
}

int fake_memory_load(const uint8_t *data, size_t size, struct fake_header *header)
{
    nregions = ntriggered = 0;
    if (size < sizeof(*header))
        return 0;
    memcpy(header, data, sizeof(*header));
    if (memcmp(header->magic, FAKE_MAGIC, FAKE_MAGIC_LEN) != 0)
        return 0;
    size_t at = sizeof(*header);
    const size_t region_header = sizeof(uint64_t) + sizeof(uint32_t);
    while (at + region_header <= size) {
        uint64_t addr = get_u64(data + at);
        uint32_t len = get_u32(data + at + sizeof(uint64_t));
        at += region_header;
        if (len > size - at)
            len = (uint32_t)(size - at);
        if (!new_region(addr, data + at, len))
            break;
        at += len;
    }
    return 1;
}

/* A region shown according to the copies of `trigger` (see struct region). */
static int triggered(uint64_t trigger, uint32_t from, uint32_t until, bool alternate,
                     uint64_t addr, const uint8_t *bytes, uint32_t len)
{
    struct region *r = trigger ? new_region(addr, bytes, len) : NULL;
    if (!r)
        return 0;
    r->trigger = trigger;
    r->from = from;
    r->until = until;
    r->alternate = alternate;
    r->shown = from == 0;
    ntriggered++;
    return 1;
}

int fake_memory_overlay(uint64_t addr, const uint8_t *bytes, uint32_t len)
{
    return new_region(addr, bytes, len) != NULL;
}

int fake_memory_overlay_between(uint64_t trigger, uint64_t addr, const uint8_t *bytes,
                                uint32_t len)
{
    return triggered(trigger, 1, UINT32_MAX, true, addr, bytes, len);
}

int fake_memory_overlay_after(uint64_t trigger, uint64_t addr, const uint8_t *bytes,
                              uint32_t len)
{
    return triggered(trigger, 1, UINT32_MAX, false, addr, bytes, len);
}

int fake_memory_overlay_window(uint64_t trigger, uint32_t from, uint32_t until, uint64_t addr,
                               const uint8_t *bytes, uint32_t len)
{
    return triggered(trigger, from, until, false, addr, bytes, len);
}

int fake_memory_overlay_once_after_start(uint64_t trigger, uint64_t addr, const uint8_t *bytes,
                                         uint32_t len)
{
    if (!triggered(trigger, UINT32_MAX, UINT32_MAX, false, addr, bytes, len))
        return 0;
    regions[nregions - 1].once_after_start = true;
    return 1;
}

/* A copy of [addr, addr+len) is made: the regions it triggers turn. */
static void count_copy(uint64_t addr, size_t len)
{
    for (size_t i = 0; ntriggered && i < nregions; i++) {
        struct region *r = &regions[i];
        if (r->once_after_start) {
            if (r->shown && r->addr < addr + len && addr < r->addr + r->len)
                r->shown = false;
            if (addr == r->trigger)
                r->shown = true;
            continue;
        }
        if (r->trigger && r->trigger >= addr && r->trigger - addr < len) {
            r->copies++;
            r->shown = r->copies >= r->from && r->copies < r->until &&
                       (!r->alternate || r->copies % 2 == 1);
        }
    }
}

int fake_target_init(struct py_target *t, const struct fake_header *h, int pid)
{
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    remote_init(&t->remote, pid);
    t->runtime_addr = h->runtime_addr;
    t->code_type = h->code_type;
    t->code_generation_addr = h->code_generation_addr;
    t->pthread_tid_offset = h->pthread_tid_offset;
    struct py_version v = { 3, h->minor, 0, 0, 0 };
    if (!py_version_supported(v))
        return 0;
    const struct py_layout *table = layout_legacy_for(h->minor);
    if (table) {
        t->layout = *table;
        t->layout.version = v;
        layout_finish(&t->layout);
        return 1;
    }
    uint8_t offsets[DEBUG_OFFSETS_MAX_BYTES];
    size_t want = debug_offsets_size(v);
    char err[ERRMSG_MAX];
    return want && want <= sizeof(offsets) &&
           remote_read(&t->remote, t->runtime_addr, offsets, want) == REMOTE_OK &&
           debug_offsets_to_layout(offsets, want, &t->layout, err, sizeof(err));
}

/* The newest region holding the byte at `at` (its index), or -1. */
static long region_at(uint64_t at)
{
    for (size_t i = nregions; i > 0; i--) {
        const struct region *r = &regions[i - 1];
        if (at >= r->addr && at - r->addr < r->len && r->shown)
            return (long)(i - 1);
    }
    return -1;
}

/* How many bytes from `at` region k serves before a newer region starts. */
static size_t served_run(size_t k, uint64_t at, size_t want)
{
    const struct region *r = &regions[k];
    size_t n = r->len - (size_t)(at - r->addr);
    if (n > want)
        n = want;
    for (size_t j = k + 1; j < nregions; j++)
        if (regions[j].shown && regions[j].addr > at &&
            regions[j].addr - at < n)
            n = (size_t)(regions[j].addr - at);
    return n;
}

/* Copy [addr, addr+len) if every byte of it is in some region. */
static int fake_copy(uint64_t addr, uint8_t *out, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done;
        long k = region_at(at);
        if (k < 0)
            return 0;
        size_t n = served_run((size_t)k, at, len - done);
        memcpy(out + done, regions[k].bytes + (at - regions[k].addr), n);
        done += n;
    }
    count_copy(addr, len);
    return 1;
}

enum remote_status __wrap_remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);
enum remote_status __wrap_remote_readv(struct remote *r, const struct iovec *local,
                                       const struct iovec *remote, size_t count, size_t *done);

enum remote_status __wrap_remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
    if (len == 0)
        return REMOTE_OK;
    if (addr == 0 || len > REMOTE_READ_MAX || addr + len < addr)
        return REMOTE_INVALID;
    r->counters.syscalls++;
    if (!fake_copy(addr, buf, len))
        return REMOTE_FAULT;
    r->counters.bytes += len;
    return REMOTE_OK;
}

enum remote_status __wrap_remote_readv(struct remote *r, const struct iovec *local,
                                       const struct iovec *remote, size_t count, size_t *done)
{
    r->counters.syscalls++;
    for (*done = 0; *done < count; (*done)++) {
        uint64_t addr = (uint64_t)(uintptr_t)remote[*done].iov_base;
        size_t len = remote[*done].iov_len;
        if (addr + len < addr || !fake_copy(addr, local[*done].iov_base, len))
            return REMOTE_FAULT;
        r->counters.bytes += len;
    }
    return REMOTE_OK;
}
