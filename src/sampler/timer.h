/*
 * timer.h — the sampling schedule.
 *
 * Samples are due at absolute times start + k * interval. strobe sleeps until
 * the next one with clock_nanosleep(TIMER_ABSTIME), so sleep overshoot never
 * accumulates into drift. A sleep cannot end sooner than the kernel's wake-up
 * latency, though (tens of microseconds on some virtual machines), so waits
 * shorter than that — only at rates of tens of kHz and above — are spun
 * instead; at ordinary rates strobe sleeps and costs almost nothing. When a
 * sample finishes after the following one was already due, the slots that
 * passed are skipped and counted as missed rather than taken in a burst:
 * bursts would over-weight whatever the target runs right after a stall.
 */
#ifndef STROBE_SAMPLER_TIMER_H
#define STROBE_SAMPLER_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct sample_timer {
    uint64_t interval_ns;
    uint64_t start_ns;
    uint64_t next_ns;       /* when the next sample is due */
    uint64_t missed;        /* due slots skipped */
    uint64_t spin_below_ns; /* waits shorter than this are spun, not slept */
};

/* Measure how late this machine wakes a sleeper: the spin threshold. */
uint64_t timer_measure_wake_latency(void);

void timer_start(struct sample_timer *t, uint64_t interval_ns, uint64_t now_ns,
                 uint64_t spin_below_ns);

/* Wait until the next sample is due or a signal arrives. Returns the time on
 * return; it may be earlier than due if interrupted. */
uint64_t timer_wait(struct sample_timer *t);

/* A sample was taken at `now`: schedule the next, skipping slots that have
 * already passed. */
void timer_advance(struct sample_timer *t, uint64_t now_ns);

/* Make sleeps as precise as the kernel allows (timer slack of 1 ns). */
void timer_reduce_slack(void);

#endif
