/*
 * timer.h — the sampling schedule.
 *
 * Samples are due at absolute times start + k * interval. strobe sleeps until
 * the next one with clock_nanosleep(TIMER_ABSTIME), so sleep overshoot never
 * accumulates into drift. A sleep cannot end sooner than the kernel's wake-up
 * latency, though (tens of microseconds on some virtual machines). A wait
 * shorter than that is spun instead, but only where a late sleep would cost
 * more than the spin: at rates whose interval is no longer than the latency
 * (tens of kHz and above), where every slept sample would come a slot or
 * more late, and for waits shorter than the CPU time a sleep and its
 * wake-up take. Any other wait is slept: its sample comes up to the latency
 * late but keeps its slot (its weight is the time measured). (Spinning every
 * wait shorter than the latency, a 10 kHz profile of 100 threads took 41-47%
 * of a core on a virtual machine whose sleeps end 42 us late and cost 18 us
 * of CPU: each slow round left a wait just short of the latency; sleeping
 * them, 36%.) Both costs are measured at the start. A start on a busy
 * machine can measure the latency longer than the interval, and strobe
 * would then spin every wait, a core's worth: so after a spell of nothing
 * but spinning (SPIN_PROBE_NS), one wait is slept anyway and the estimate
 * moves halfway to what that sleep shows. When a sample finishes after the
 * following one was already due, the slots that passed are skipped and
 * counted as missed rather than taken in a burst: bursts would over-weight
 * whatever the target runs right after a stall.
 * A missed slot is also told by why: its time came while strobe was still
 * busy (sampling is slower than the rate asked for), or while it waited for
 * its time, and the kernel woke or ran it late (a busy CPU, see below).
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
    uint64_t missed_waiting;    /* ... of which were due while strobe waited
                                   in timer_wait: woken late */
    uint64_t wake_latency_ns;   /* how late a sleep ends, estimated */
    uint64_t wake_cpu_ns;       /* CPU time a sleep and wake-up take */
    uint64_t slept_ns;          /* when a wait was last slept (or it started) */
    uint64_t wait_began_ns; /* the last timer_wait: called at */
    uint64_t woke_ns;       /* ... and returned at */
};

/* What sleeping costs on this machine. */
struct wake_cost {
    uint64_t latency_ns;    /* how late a short sleep ends (median) */
    uint64_t cpu_ns;        /* CPU time of one sleep and wake-up (mean) */
};

/* Measure it with a few short sleeps: the first estimate. */
struct wake_cost timer_measure_wake_cost(void);

void timer_start(struct sample_timer *t, uint64_t interval_ns, uint64_t now_ns,
                 struct wake_cost cost);

/* Would a wait of `wait_ns` be spun rather than slept? (A sleep would end
 * after it, and being late costs more than spinning: see above.) */
bool timer_would_spin(const struct sample_timer *t, uint64_t wait_ns);

/* A probe's sleep ended `late_ns` after it was due: move the estimate
 * halfway to it. */
void timer_note_lateness(struct sample_timer *t, uint64_t late_ns);

/* Wait until the next sample is due, or until `wake_by_ns` if that is
 * sooner (0: no such time; the end of --duration, the next poll), or a
 * signal arrives. Returns the time on return: earlier than due then. */
uint64_t timer_wait(struct sample_timer *t, uint64_t wake_by_ns);

/* A sample due at next_ns was taken, and finished at `now`: schedule the
 * next, skipping slots that have already passed. */
void timer_advance(struct sample_timer *t, uint64_t now_ns);

/* The profile ended at `end_ns`, the last time timer_wait returned (the
 * target exited, time ran out, or a signal came): the slots that came due
 * after the one it woke for, up to then, were missed too. Without this, a
 * sampler kept off the CPU until the end would understate its misses. */
void timer_finish(struct sample_timer *t, uint64_t end_ns);

/* Make sleeps as precise as the kernel allows (timer slack of 1 ns). */
void timer_reduce_slack(void);

/* How long the calling thread has waited on a run queue, runnable but not
 * running, since it started (the kernel's schedstat); 0 if not told. */
uint64_t timer_run_delay_ns(void);

/*
 * How strobe's sampling thread competes with the target for the CPU.
 * Why batch by default: a sleeper that wakes 10,000 times a second is
 * favoured by the scheduler, which would rather preempt the target on the
 * core strobe slept on than move strobe to an idle core (measured: with
 * eight threads taking turns on the GIL, ~1,800 preemptions a second and
 * the program 7% slower at 10 kHz). A batch thread gets the same share of
 * the CPU but its wake-ups never preempt; a sample that has to wait for a
 * core is taken late (its time is measured) or counted as missed.
 */
enum cpu_policy {
    CPU_POLICY_BATCH,   /* full share, wake-ups never preempt (default) */
    CPU_POLICY_NORMAL,  /* an ordinary process: fewest missed samples */
    CPU_POLICY_IDLE,    /* only CPU time nothing else wants */
};

#define CPU_POLICY_NAMES "batch, normal, idle"

bool cpu_policy_parse(const char *name, enum cpu_policy *policy);
const char *cpu_policy_name(enum cpu_policy policy);

/* Apply `policy` to the calling thread only (a launched program keeps the
 * scheduling it was started with). false if the kernel refused. */
bool timer_set_cpu_policy(enum cpu_policy policy);

#endif
