/*
 * fake_memory.c — remote reads served from regions of the fuzz input; see
 * fake_memory.h. Later regions win where regions overlap (a recording keeps
 * the newest copy last).
 */
#include "fake_memory.h"

#include "proc/memory.h"

#include <string.h>

struct region {
    uint64_t addr;
    uint32_t len;
    const uint8_t *bytes;
};

/* The fake target: test scaffolding, one per process. */
static struct region regions[FAKE_MAX_REGIONS];
static size_t nregions;

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

int fake_memory_load(const uint8_t *data, size_t size, struct fake_header *header)
{
    nregions = 0;
    if (size < sizeof(*header))
        return 0;
    memcpy(header, data, sizeof(*header));
    if (memcmp(header->magic, FAKE_MAGIC, FAKE_MAGIC_LEN) != 0)
        return 0;
    size_t at = sizeof(*header);
    const size_t region_header = sizeof(uint64_t) + sizeof(uint32_t);
    while (at + region_header <= size && nregions < FAKE_MAX_REGIONS) {
        uint64_t addr = get_u64(data + at);
        uint32_t len = get_u32(data + at + sizeof(uint64_t));
        at += region_header;
        if (len > size - at)
            len = (uint32_t)(size - at);
        regions[nregions++] = (struct region){ addr, len, data + at };
        at += len;
    }
    return 1;
}

/* The newest region holding the byte at `at`, or NULL. */
static const struct region *region_at(uint64_t at)
{
    for (size_t i = nregions; i > 0; i--) {
        const struct region *r = &regions[i - 1];
        if (at >= r->addr && at - r->addr < r->len)
            return r;
    }
    return NULL;
}

/* Copy [addr, addr+len) if every byte of it is in some region. */
static int fake_copy(uint64_t addr, uint8_t *out, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done;
        const struct region *r = region_at(at);
        if (!r)
            return 0;
        size_t n = r->len - (size_t)(at - r->addr);
        if (n > len - done)
            n = len - done;
        memcpy(out + done, r->bytes + (at - r->addr), n);
        done += n;
    }
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
