/*
 * test_snapshot.c — the per-sample read plan, exercised on this process's own
 * memory (process_vm_readv works on oneself): misses join the plan, the plan
 * is read in one system call, data is fresh each sample, pages that vanish
 * are dropped, and stale pages leave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc/snapshot.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 8

struct fixture {
    struct remote remote;
    struct snapshot snap;
    uint8_t *mem;
    size_t page;
};

static int setup(void **state)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof(fx));
    remote_init(&fx.remote, getpid());
    snapshot_init(&fx.snap, &fx.remote);
    fx.page = (size_t)sysconf(_SC_PAGESIZE);
    fx.mem = mmap(NULL, PAGES * fx.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(fx.mem != MAP_FAILED);
    memset(fx.mem, 0, PAGES * fx.page);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    snapshot_free(&fx->snap);
    munmap(fx->mem, PAGES * fx->page);
    return 0;
}

static uint64_t addr(struct fixture *fx, size_t page, size_t offset)
{
    return (uint64_t)(uintptr_t)(fx->mem + page * fx->page + offset);
}

static uint64_t read_sample(struct fixture *fx, uint64_t where)
{
    uint64_t v = 0;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_true(snapshot_get_u64(&fx->snap, where, &v));
    snapshot_end(&fx->snap);
    return v;
}

static void test_miss_then_planned(void **state)
{
    struct fixture *fx = *state;
    uint64_t *p = (uint64_t *)(fx->mem + 3 * fx->page + 64);
    *p = 42;
    assert_int_equal(read_sample(fx, addr(fx, 3, 64)), 42);
    assert_int_equal(fx->snap.stats.misses, 1);
    uint64_t syscalls = fx->remote.counters.syscalls;
    *p = 43;    /* fresh data every sample */
    assert_int_equal(read_sample(fx, addr(fx, 3, 64)), 43);
    assert_int_equal(fx->snap.stats.misses, 1);
    assert_int_equal(fx->remote.counters.syscalls - syscalls, 1);
}

static void test_adjacent_pages_one_iovec(void **state)
{
    struct fixture *fx = *state;
    /* A request spanning pages 1 and 2, and one in page 5. */
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_non_null(snapshot_get(&fx->snap, addr(fx, 1, fx->page - 8), 16));
    assert_non_null(snapshot_get(&fx->snap, addr(fx, 5, 0), 8));
    snapshot_end(&fx->snap);
    assert_int_equal(fx->snap.nranges, 2);
    uint64_t syscalls = fx->remote.counters.syscalls;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_non_null(snapshot_get(&fx->snap, addr(fx, 1, fx->page - 8), 16));
    assert_non_null(snapshot_get(&fx->snap, addr(fx, 5, 0), 8));
    snapshot_end(&fx->snap);
    assert_int_equal(fx->remote.counters.syscalls - syscalls, 1);
    /* Only what was asked (plus room to grow), not whole pages. */
    assert_true(fx->snap.plan_bytes <= 16 + 8 + 2 * SNAPSHOT_GROWTH_SLACK + 16);
}

static bool planned(const struct snapshot *s, uint64_t where)
{
    for (size_t i = 0; i < s->nranges; i++)
        if (where >= s->ranges[i].start && where < s->ranges[i].end)
            return true;
    return false;
}

static void test_unmapped_page_is_dropped(void **state)
{
    struct fixture *fx = *state;
    uint8_t *extra = mmap(NULL, fx->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(extra != MAP_FAILED);
    uint64_t where = (uint64_t)(uintptr_t)extra;
    read_sample(fx, where);
    read_sample(fx, addr(fx, 0, 0));
    assert_true(planned(&fx->snap, where));
    munmap(extra, fx->page);
    /* The planned range is gone: the sample still works, the read fails. */
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_null(snapshot_get(&fx->snap, where, 8));
    assert_non_null(snapshot_get(&fx->snap, addr(fx, 0, 0), 8));
    snapshot_end(&fx->snap);
    assert_true(fx->snap.stats.failed_ranges >= 1);
    assert_false(planned(&fx->snap, where));
}

static void test_stale_ranges_leave_and_shrink(void **state)
{
    struct fixture *fx = *state;
    read_sample(fx, addr(fx, 6, 0));
    read_sample(fx, addr(fx, 7, 0));
    assert_int_equal(fx->snap.nranges, 2);
    for (int i = 0; i < 2 * SNAPSHOT_KEEP_SAMPLES; i++)
        read_sample(fx, addr(fx, 7, 0));
    assert_int_equal(fx->snap.nranges, 1);
    assert_true(planned(&fx->snap, addr(fx, 7, 0)));
    /* Trimmed to the bytes used over a window: the growth slack is gone. */
    assert_true(fx->snap.plan_bytes <= 8 + 8);
}

static void test_late_ranges_are_read_last(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_non_null(snapshot_get_late(&fx->snap, addr(fx, 0, 0), 8));
    assert_non_null(snapshot_get(&fx->snap, addr(fx, 4, 0), 8));
    snapshot_end(&fx->snap);
    assert_int_equal(fx->snap.nranges, 2);
    /* The MAIN range sorts first although its address is higher, and is read
     * first. */
    assert_int_equal(fx->snap.ranges[0].phase, PHASE_MAIN);
    assert_int_equal(fx->snap.ranges[1].phase, PHASE_LATE);
    assert_int_equal(fx->snap.ranges[1].start, addr(fx, 0, 0));
    assert_int_equal(fx->snap.iov_range[0], 0);
    assert_int_equal(fx->snap.iov_range[1], 1);
    /* A late request is never served by an earlier, MAIN copy. */
    uint64_t misses = fx->snap.stats.misses;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_non_null(snapshot_get_late(&fx->snap, addr(fx, 4, 0), 8));
    snapshot_end(&fx->snap);
    assert_int_equal(fx->snap.stats.misses, misses + 1);
}

static void test_watched_bytes_get_a_second_copy(void **state)
{
    struct fixture *fx = *state;
    uint64_t *p = (uint64_t *)(fx->mem + 2 * fx->page + 256);
    *p = 7;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    struct snapshot_watch w = snapshot_get_watched(&fx->snap, addr(fx, 2, 256), 8, WATCH_FRAMES);
    assert_non_null(w.main);
    assert_null(w.last);    /* not planned yet */
    /* A second look within the sample plans it: both copies now. */
    uint64_t syscalls = fx->remote.counters.syscalls;
    assert_int_equal(snapshot_replan(&fx->snap), REMOTE_OK);
    assert_int_equal(fx->remote.counters.syscalls - syscalls, 1);
    w = snapshot_get_watched(&fx->snap, addr(fx, 2, 256), 8, WATCH_FRAMES);
    assert_non_null(w.main);
    assert_non_null(w.last);
    assert_memory_equal(w.main, w.last, 8);
    snapshot_end(&fx->snap);
    /* Next sample: one system call reads both copies, fresh. */
    *p = 8;
    syscalls = fx->remote.counters.syscalls;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    w = snapshot_get_watched(&fx->snap, addr(fx, 2, 256), 8, WATCH_FRAMES);
    assert_int_equal(fx->remote.counters.syscalls - syscalls, 1);
    assert_non_null(w.last);
    assert_int_equal(*(const uint64_t *)w.main, 8);
    assert_int_equal(*(const uint64_t *)w.last, 8);
    snapshot_end(&fx->snap);
}

/* Watched bytes first fetched on demand are planned among the watched, not
 * as plain bytes read before them: a quick second look reads both their
 * copies again, so the two always come from the same read. */
static void test_quick_second_look_refreshes_both_copies(void **state)
{
    struct fixture *fx = *state;
    uint64_t *p = (uint64_t *)(fx->mem + 3 * fx->page + 128);
    *p = 1;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    struct snapshot_watch w = snapshot_get_watched(&fx->snap, addr(fx, 3, 128), 8, WATCH_FRAMES);
    assert_non_null(w.main);
    assert_null(w.last);
    snapshot_end(&fx->snap);
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    w = snapshot_get_watched(&fx->snap, addr(fx, 3, 128), 8, WATCH_FRAMES);
    assert_non_null(w.last);
    *p = 2;
    assert_int_equal(snapshot_reread_watched(&fx->snap), REMOTE_OK);
    assert_int_equal(*(const uint64_t *)w.main, 2);
    assert_int_equal(*(const uint64_t *)w.last, 2);
    snapshot_end(&fx->snap);
}

static void test_reading_order(void **state)
{
    struct fixture *fx = *state;
    /* Watched bytes on three pages far apart, asked for (as a walk asks for
     * frames, innermost first) in an order that is not their addresses',
     * an unwatched value above the first two, and a late value below them
     * all. */
    static const size_t asked[] = { 4, 1, 7 };
    for (int round = 0; round < 2; round++) {
        assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
        for (size_t k = 0; k < 3; k++)
            assert_non_null(
                snapshot_get_watched(&fx->snap, addr(fx, asked[k], 0), 8, WATCH_FRAMES).main);
        assert_non_null(snapshot_get(&fx->snap, addr(fx, 5, 2048), 8));
        assert_non_null(snapshot_get_late(&fx->snap, addr(fx, 0, 0), 8));
        snapshot_end(&fx->snap);
    }
    const struct snapshot *s = &fx->snap;
    size_t watch = s->phase_begin[PHASE_WATCH], late = s->phase_begin[PHASE_LATE];
    assert_int_equal(watch, 4);                 /* MAIN: 3 watched + 1 */
    assert_int_equal(late - watch, 3);
    assert_int_equal(s->nranges - late, 1);
    /* MAIN ranges without watched bytes first, then those with, the last
     * asked for first. */
    assert_int_equal(s->ranges[s->iov_range[0]].start, addr(fx, 5, 2048));
    for (size_t i = 1; i < 4; i++)
        assert_int_equal(s->ranges[s->iov_range[i]].start, addr(fx, asked[3 - i], 0));
    /* Second copies right after, the first asked for first; the late value
     * last. */
    for (size_t i = 0; i < 3; i++) {
        const struct snapshot_range *r = &s->ranges[s->iov_range[4 + i]];
        assert_int_equal(r->phase, PHASE_WATCH);
        assert_true(r->start <= addr(fx, asked[i], 0) && r->end >= addr(fx, asked[i], 8));
    }
    assert_int_equal(s->iov_range[7], late);
}

/* Watched bytes are read as a palindrome: frames, anchors, anchors again,
 * frames again; the anchors' two copies side by side in the middle, so that
 * every range's two copies bracket the same moment. */
static void test_anchors_are_copied_in_the_middle(void **state)
{
    struct fixture *fx = *state;
    uint64_t *anchor = (uint64_t *)(fx->mem + 2 * fx->page);
    *anchor = 7;
    struct snapshot_watch w = { 0 };
    /* Three samples: the first plans the bytes, the second their copies,
     * the third reads them all in the final order. */
    for (int round = 0; round < 3; round++) {
        assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
        w = snapshot_get_watched(&fx->snap, addr(fx, 2, 0), 8, WATCH_ANCHORS);
        assert_non_null(w.main);
        for (size_t page = 4; page < PAGES; page += 3)
            assert_non_null(snapshot_get_watched(&fx->snap, addr(fx, page, 0), 8, WATCH_FRAMES).main);
        if (round == 2)
            break;
        snapshot_end(&fx->snap);
    }
    assert_non_null(w.last);
    assert_true(w.main != w.last);
    assert_int_equal(*(const uint64_t *)w.main, 7);
    assert_int_equal(*(const uint64_t *)w.last, 7);
    const struct snapshot *s = &fx->snap;
    const struct snapshot_range *r = s->ranges;
    size_t i = s->watched_iov_begin;
    assert_int_equal(s->niov - i, 6);
    /* frame 7, frame 4, anchor | anchor, frame 4, frame 7: the frame asked
     * for first (the innermost) nearest the anchors */
    static const struct { uint8_t phase, watch; size_t page; } order[] = {
        { PHASE_MAIN, WATCH_FRAMES, 7 },   { PHASE_MAIN, WATCH_FRAMES, 4 },
        { PHASE_MAIN, WATCH_ANCHORS, 2 },  { PHASE_WATCH, WATCH_ANCHORS, 2 },
        { PHASE_WATCH, WATCH_FRAMES, 4 },  { PHASE_WATCH, WATCH_FRAMES, 7 },
    };
    for (size_t k = 0; k < 6; k++) {
        const struct snapshot_range *got = &r[s->iov_range[i + k]];
        assert_int_equal(got->phase, order[k].phase);
        assert_int_equal(got->watch, order[k].watch);
        assert_true(got->start <= addr(fx, order[k].page, 0) &&
                    got->end >= addr(fx, order[k].page, 8));
    }
    snapshot_end(&fx->snap);
}

/* A centre value (a frame pointer, an entry frame) is copied once, between
 * the anchors' two copies, inside the frames' two, and is its own second
 * copy; fetched on demand, it is unchecked, and planned straight into its
 * place (with a spare second copy, in case its place is shared with frames,
 * which leaves the plan unused). */
static void test_centre_values_are_copied_once_at_the_centre(void **state)
{
    struct fixture *fx = *state;
    *(uint64_t *)(fx->mem + 5 * fx->page) = 9;
    struct snapshot_watch entry = { 0 };
    const int rounds = SNAPSHOT_KEEP_SAMPLES + 2;     /* past a trim */
    for (int round = 0; round < rounds; round++) {
        assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
        assert_non_null(snapshot_get_watched(&fx->snap, addr(fx, 8, 0), 8, WATCH_FRAMES).main);
        assert_non_null(snapshot_get_watched(&fx->snap, addr(fx, 2, 0), 8, WATCH_ANCHORS).main);
        entry = snapshot_get_watched(&fx->snap, addr(fx, 5, 0), 8, WATCH_CENTRE);
        assert_non_null(entry.main);
        if (round == 0)
            assert_null(entry.last);    /* fetched on demand: not in the middle */
        else
            assert_ptr_equal(entry.last, entry.main);
        if (round == rounds - 1)
            break;
        snapshot_end(&fx->snap);
    }
    assert_int_equal(*(const uint64_t *)entry.main, 9);
    const struct snapshot *s = &fx->snap;
    const struct snapshot_range *r = s->ranges;
    size_t i = s->watched_iov_begin;
    /* frame, anchor, centre value, anchor, frame */
    static const struct { uint8_t phase, watch; } order[] = {
        { PHASE_MAIN, WATCH_FRAMES }, { PHASE_MAIN, WATCH_ANCHORS }, { PHASE_MAIN, WATCH_CENTRE },
        { PHASE_WATCH, WATCH_ANCHORS }, { PHASE_WATCH, WATCH_FRAMES },
    };
    assert_int_equal(s->niov - i, 5);
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(r[s->iov_range[i + k]].phase, order[k].phase);
        assert_int_equal(r[s->iov_range[i + k]].watch, order[k].watch);
    }
    snapshot_end(&fx->snap);
    /* Sharing a range with frames, it gets their two copies instead. */
    for (int round = 0; round < 3; round++) {
        assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
        assert_non_null(snapshot_get_watched(&fx->snap, addr(fx, 5, 64), 8, WATCH_FRAMES).main);
        entry = snapshot_get_watched(&fx->snap, addr(fx, 5, 0), 8, WATCH_CENTRE);
        if (round == 2)
            break;
        snapshot_end(&fx->snap);
    }
    assert_non_null(entry.last);
    assert_true(entry.last != entry.main);
    assert_int_equal(*(const uint64_t *)entry.last, 9);
    snapshot_end(&fx->snap);
    /* Once nothing asks for frames there, it is back to one copy after the
     * window that still saw them ends, and the second copy, then unused,
     * leaves the plan after the next. */
    for (int round = 0; round < 3 * SNAPSHOT_KEEP_SAMPLES + 2; round++) {
        assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
        entry = snapshot_get_watched(&fx->snap, addr(fx, 5, 0), 8, WATCH_CENTRE);
        snapshot_end(&fx->snap);
    }
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    entry = snapshot_get_watched(&fx->snap, addr(fx, 5, 0), 8, WATCH_CENTRE);
    assert_ptr_equal(entry.last, entry.main);
    for (size_t k = 0; k < s->nranges; k++)
        assert_true(s->ranges[k].phase != PHASE_WATCH);
    snapshot_end(&fx->snap);
}

/* FIRST bytes come from the plan only (a read on the spot would be late),
 * and are copied before everything else. */
static void test_first_ranges_are_read_first(void **state)
{
    struct fixture *fx = *state;
    *(uint64_t *)(fx->mem + 3 * fx->page) = 5;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
        assert_non_null(snapshot_get(&fx->snap, addr(fx, 1, 0), 8));
        assert_non_null(snapshot_get_watched(&fx->snap, addr(fx, 6, 0), 8, WATCH_FRAMES).main);
        assert_non_null(snapshot_get_late(&fx->snap, addr(fx, 3, 0), 8));
        const uint64_t *first = snapshot_get_first(&fx->snap, addr(fx, 3, 0), 8);
        if (round == 0) {
            assert_null(first);
        } else {
            assert_non_null(first);
            assert_int_equal(*first, 5);
        }
        snapshot_end(&fx->snap);
    }
    const struct snapshot *s = &fx->snap;
    assert_int_equal(s->ranges[s->iov_range[0]].phase, PHASE_FIRST);
    assert_int_equal(s->ranges[s->iov_range[s->niov - 1]].phase, PHASE_LATE);
}

static void test_bad_requests(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(snapshot_begin(&fx->snap), REMOTE_OK);
    assert_null(snapshot_get(&fx->snap, 0, 8));
    assert_null(snapshot_get(&fx->snap, UINT64_MAX - 4, 8));
    assert_null(snapshot_get(&fx->snap, addr(fx, 0, 0), SNAPSHOT_MAX_REQUEST + 1));
    assert_null(snapshot_get(&fx->snap, 8, 8));     /* page zero is never mapped */
    snapshot_end(&fx->snap);
}

static void test_gone_process(void **state)
{
    (void)state;
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_true(child > 0);
    int status;
    waitpid(child, &status, 0);
    struct remote r;
    remote_init(&r, child);
    uint64_t v;
    assert_int_equal(remote_read(&r, 4096, &v, sizeof(v)), REMOTE_GONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_miss_then_planned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adjacent_pages_one_iovec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_page_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_ranges_leave_and_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_ranges_are_read_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watched_bytes_get_a_second_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quick_second_look_refreshes_both_copies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reading_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anchors_are_copied_in_the_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_centre_values_are_copied_once_at_the_centre, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_first_ranges_are_read_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test(test_gone_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
