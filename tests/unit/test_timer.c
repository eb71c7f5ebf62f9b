/*
 * test_timer.c — the sampling schedule: slots skipped when a round finishes
 * late, and whether each came due while strobe was busy or while it waited
 * for its time and woke late; when a wait is spun rather than slept, and
 * how the wake-up latency that helps decide it is followed. Times are made
 * up (ns); nothing here sleeps except the one real wait at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "sampler/timer.h"

#define INTERVAL 100
#define START 1000
static const struct wake_cost NO_WAKE_COST = { 0, 0 };

/* One round of the sampling loop: strobe begins to wait at `wait_began`,
 * is running again at `woke`, and finishes the round at `done`. */
static void round_at(struct sample_timer *t, uint64_t wait_began, uint64_t woke, uint64_t done)
{
    t->wait_began_ns = wait_began;
    t->woke_ns = woke;
    timer_advance(t, done);
}

static void test_on_time_misses_nothing(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, INTERVAL, START, NO_WAKE_COST);
    round_at(&t, 990, 1000, 1020);     /* slot 1000 */
    round_at(&t, 1030, 1150, 1180);    /* slot 1100, 50 late: taken, not missed */
    assert_int_equal(t.missed, 0);
    assert_int_equal(t.next_ns, 1200);
}

static void test_woken_late(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, INTERVAL, START, NO_WAKE_COST);
    round_at(&t, 990, 1000, 1020);
    /* Waiting for 1100, woken at 1420: 1200 and 1300 are lost (1400 is
     * still taken, late), and both came due while it waited. */
    round_at(&t, 1050, 1420, 1440);
    assert_int_equal(t.missed, 2);
    assert_int_equal(t.missed_waiting, 2);
    assert_int_equal(t.next_ns, 1400);
}

static void test_busy(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, INTERVAL, START, NO_WAKE_COST);
    /* A round that runs until 1350: 1100 and 1200 come due meanwhile and
     * are lost; 1300 is taken at once, late. */
    round_at(&t, 990, 1000, 1350);
    assert_int_equal(t.missed, 2);
    round_at(&t, 1360, 1360, 1380);    /* 1300: went straight on, no wait */
    assert_int_equal(t.missed, 2);
    assert_int_equal(t.missed_waiting, 0);
    assert_int_equal(t.next_ns, 1400);
    /* Late already when it began to wait (the round before ran long): what
     * passes then was due while it was busy. */
    round_at(&t, 1480, 1480, 1530);     /* 1400 */
    round_at(&t, 1720, 1720, 1730);     /* 1500; 1600 lost, 1700 taken late */
    assert_int_equal(t.missed, 3);
    assert_int_equal(t.missed_waiting, 0);
    assert_int_equal(t.next_ns, 1700);
}

static void test_woken_late_then_busy(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, INTERVAL, START, NO_WAKE_COST);
    round_at(&t, 990, 1000, 1020);
    /* Waiting for 1100 from 1090, woken at 1350 (1200 and 1300 due while
     * waiting), done at 1680 (1400 and 1500 due while busy; 1600 taken). */
    round_at(&t, 1090, 1350, 1680);
    assert_int_equal(t.missed, 4);
    assert_int_equal(t.missed_waiting, 2);
    assert_int_equal(t.next_ns, 1600);
}

/* Kept off the CPU until the end: the slots due meanwhile are missed. */
static void test_finish_counts_the_last_wait(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, INTERVAL, START, NO_WAKE_COST);
    round_at(&t, 990, 1000, 1020);
    /* Waiting for 1100 from 1030, woken at 1560 to find the target gone:
     * 1200 to 1500 came due while it waited. */
    t.wait_began_ns = 1030;
    t.woke_ns = 1560;
    timer_finish(&t, 1560);
    assert_int_equal(t.missed, 4);
    assert_int_equal(t.missed_waiting, 4);
    /* Ended on time (woken for 1600 at 1630): nothing more. */
    t.next_ns = 1600;
    t.wait_began_ns = 1580;
    t.woke_ns = 1630;
    timer_finish(&t, 1630);
    assert_int_equal(t.missed, 4);
}

/* Spun: a wait a sleep would overshoot (60 us late here) and that is
 * shorter than the CPU a wake-up takes (18 us). */
static void test_spins_waits_a_sleep_would_overshoot(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, 100 * NS_PER_US, START,
                (struct wake_cost){ .latency_ns = 60 * NS_PER_US, .cpu_ns = 18 * NS_PER_US });
    assert_true(timer_would_spin(&t, 5 * NS_PER_US));
    assert_false(timer_would_spin(&t, 90 * NS_PER_US));
}

/* At 10 kHz a wait longer than a wake-up's CPU is slept even though the
 * sleep ends late: the sample keeps its slot, and spinning would burn
 * more (a slow round, 100 threads, left 38 us waits every other slot). At
 * 50 kHz a sleep 40 us late would be a slot late or more: spun. */
static void test_sleeps_where_lateness_costs_no_slot(void **state)
{
    (void)state;
    struct wake_cost cost = { .latency_ns = 40 * NS_PER_US, .cpu_ns = 18 * NS_PER_US };
    struct sample_timer t;
    timer_start(&t, 100 * NS_PER_US, START, cost);
    assert_false(timer_would_spin(&t, 38 * NS_PER_US));
    assert_true(timer_would_spin(&t, 10 * NS_PER_US));
    timer_start(&t, 20 * NS_PER_US, START, cost);
    assert_true(timer_would_spin(&t, 19 * NS_PER_US));
    assert_false(timer_would_spin(&t, 40 * NS_PER_US));
}

/* A start on a busy machine measured 200 us: at 10 kHz nearly every wait
 * would be spun, a core's worth. Probes that end 60 us late bring the
 * estimate down within a few; a stall of milliseconds in one moves it for
 * a few probes only. */
static void test_latency_followed(void **state)
{
    (void)state;
    struct sample_timer t;
    timer_start(&t, 100 * NS_PER_US, START,
                (struct wake_cost){ .latency_ns = 200 * NS_PER_US, .cpu_ns = 18 * NS_PER_US });
    assert_true(timer_would_spin(&t, 80 * NS_PER_US));
    int sleeps = 0;
    while (timer_would_spin(&t, 80 * NS_PER_US) && sleeps < 1000) {
        timer_note_lateness(&t, 60 * NS_PER_US);
        sleeps++;
    }
    assert_true(sleeps > 1 && sleeps < 8);
    for (int i = 0; i < 200; i++)
        timer_note_lateness(&t, i % 10 ? 60 * NS_PER_US : 4 * NS_PER_MS);
    assert_true(t.wake_latency_ns >= 50 * NS_PER_US && t.wake_latency_ns <= 70 * NS_PER_US);
    assert_false(timer_would_spin(&t, 80 * NS_PER_US));
}

/* The one real wait: it returns once the slot is due, and says when it
 * began to wait and when it woke. */
static void test_wait_returns_when_due(void **state)
{
    (void)state;
    struct sample_timer t;
    uint64_t interval = 20 * NS_PER_MS;
    timer_start(&t, interval, clock_now_ns(), NO_WAKE_COST);
    uint64_t now = timer_wait(&t, 0);   /* the first slot: due at once */
    timer_advance(&t, now);
    now = timer_wait(&t, 0);
    assert_true(now >= t.next_ns);
    assert_true(t.wait_began_ns < t.next_ns);
    assert_true(t.woke_ns == now);
}

/* A stop before the next slot (--duration) ends the wait there. */
static void test_wait_ends_at_a_stop_before_the_slot(void **state)
{
    (void)state;
    struct sample_timer t;
    uint64_t interval = 10 * NS_PER_SEC;
    timer_start(&t, interval, clock_now_ns(), NO_WAKE_COST);
    uint64_t now = timer_wait(&t, 0);
    timer_advance(&t, now);
    uint64_t stop = now + 20 * NS_PER_MS;
    now = timer_wait(&t, stop);
    assert_true(now >= stop);
    assert_true(now < t.next_ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_on_time_misses_nothing),
        cmocka_unit_test(test_woken_late),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_woken_late_then_busy),
        cmocka_unit_test(test_finish_counts_the_last_wait),
        cmocka_unit_test(test_spins_waits_a_sleep_would_overshoot),
        cmocka_unit_test(test_sleeps_where_lateness_costs_no_slot),
        cmocka_unit_test(test_latency_followed),
        cmocka_unit_test(test_wait_returns_when_due),
        cmocka_unit_test(test_wait_ends_at_a_stop_before_the_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
