/*
 * timer.c — see timer.h.
 */
#include "sampler/timer.h"

#include "base/clock.h"

#include <sys/prctl.h>
#include <time.h>

#define TIMER_SLACK_NS 1

void timer_reduce_slack(void)
{
    prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
}

void timer_start(struct sample_timer *t, uint64_t interval_ns, uint64_t now_ns)
{
    t->interval_ns = interval_ns ? interval_ns : 1;
    t->start_ns = now_ns;
    t->next_ns = now_ns;
    t->missed = 0;
}

uint64_t timer_wait(struct sample_timer *t)
{
    uint64_t now = clock_now_ns();
    if (now >= t->next_ns)
        return now;
    struct timespec due = clock_ns_to_timespec(t->next_ns);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    return clock_now_ns();
}

void timer_advance(struct sample_timer *t, uint64_t now_ns)
{
    t->next_ns += t->interval_ns;
    if (now_ns >= t->next_ns + t->interval_ns) {
        /* More than a whole interval late: the slots in between are lost. */
        uint64_t skipped = (now_ns - t->next_ns) / t->interval_ns;
        t->missed += skipped;
        t->next_ns += skipped * t->interval_ns;
    }
}
