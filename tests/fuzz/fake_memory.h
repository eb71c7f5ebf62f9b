/*
 * fake_memory.h — a target's memory made of recorded or fuzzed regions.
 *
 * The fuzzers and the seed recorder share one file format: a header saying
 * which interpreter the memory belongs to and where its runtime is, then
 * regions of remote memory. Linked with -Wl,--wrap=remote_read,
 * --wrap=remote_readv, every read strobe makes goes to these regions instead
 * of process_vm_readv, so the real interpreter model runs over bytes the
 * fuzzer controls.
 *
 * Format, little-endian:
 *   header  struct fake_header (magic "strobefz", minor version, addresses)
 *   regions u64 address, u32 length, length bytes; until the input ends
 * Parsing is bounded: a region that runs past the end is cut short.
 */
#ifndef STROBE_TESTS_FAKE_MEMORY_H
#define STROBE_TESTS_FAKE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define FAKE_MAGIC "strobefz"
#define FAKE_MAGIC_LEN 8
/* Regions kept at most: a bound on work per input. */
#define FAKE_MAX_REGIONS 4096

struct fake_header {
    char magic[FAKE_MAGIC_LEN];
    uint32_t minor;                 /* CPython 3.minor */
    uint32_t pthread_tid_offset;    /* as found at attach time, or ~0 */
    uint64_t runtime_addr;
    uint64_t code_type;
    uint64_t code_generation_addr;
};

struct py_target;

/* Make `data` (header and regions) the target's memory; the bytes must stay
 * valid until the next call. false if there is no valid header. */
int fake_memory_load(const uint8_t *data, size_t size, struct fake_header *header);

/* Lay `bytes` over the target's memory at `addr` (newer than every region):
 * a test's edit of a recording. They must stay valid, as the regions must.
 * false if there is no room for another region. */
int fake_memory_overlay(uint64_t addr, const uint8_t *bytes, uint32_t len);

/* The same, but shown only after the byte at `trigger` has been copied an
 * odd number of times: memory that changes, and changes back, between two
 * copies of another object, or (trigger within these bytes) shows the
 * change to every second copy of itself. */
int fake_memory_overlay_between(uint64_t trigger, uint64_t addr, const uint8_t *bytes,
                                uint32_t len);

/* The same, but shown from each copy that starts at `trigger` (a range read
 * on its own, not one that holds it) to the next copy of these bytes: memory
 * that changes right after one particular copy of another object. */
int fake_memory_overlay_once_after_start(uint64_t trigger, uint64_t addr, const uint8_t *bytes,
                                         uint32_t len);

/* The same, but shown from the first copy of the byte at `trigger` on:
 * memory that changes for good while strobe reads (an object dying). */
int fake_memory_overlay_after(uint64_t trigger, uint64_t addr, const uint8_t *bytes,
                              uint32_t len);

/* The same, but shown only once the byte at `trigger` has been copied
 * `from` times and until it is copied for the `until`-th time: memory that
 * changes at a chosen point of a read and changes back. */
int fake_memory_overlay_window(uint64_t trigger, uint32_t from, uint32_t until, uint64_t addr,
                               const uint8_t *bytes, uint32_t len);

/* A target as attaching to the recorded one would find it: its addresses,
 * and its layout (a table for 3.8–3.12, the recorded debug offsets for
 * 3.13+). false if strobe cannot profile that version or memory. */
int fake_target_init(struct py_target *t, const struct fake_header *h, int pid);

#endif
