/*
 * timer.c — see timer.h.
 */
#include "sampler/timer.h"

#include "base/clock.h"
#include "base/common.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define TIMER_SLACK_NS 1
/* Wake-up latency probe: this many short sleeps, the median overshoot. */
#define CALIBRATION_SLEEPS 15
#define CALIBRATION_SLEEP_NS (20 * NS_PER_US)
/* Whatever the probe says, spin at most this long (and at least this). */
#define SPIN_MAX_NS (200 * NS_PER_US)
#define SPIN_MIN_NS (2 * NS_PER_US)

void timer_reduce_slack(void)
{
    prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static const struct {
    const char *name;
    int linux_policy;
} CPU_POLICIES[] = {
    [CPU_POLICY_BATCH] = { "batch", SCHED_BATCH },
    [CPU_POLICY_NORMAL] = { "normal", SCHED_OTHER },
    [CPU_POLICY_IDLE] = { "idle", SCHED_IDLE },
};

bool cpu_policy_parse(const char *name, enum cpu_policy *policy)
{
    for (size_t i = 0; i < ARRAY_LEN(CPU_POLICIES); i++) {
        if (strcmp(name, CPU_POLICIES[i].name) == 0) {
            *policy = (enum cpu_policy)i;
            return true;
        }
    }
    return false;
}

const char *cpu_policy_name(enum cpu_policy policy)
{
    return (size_t)policy < ARRAY_LEN(CPU_POLICIES) ? CPU_POLICIES[policy].name : "?";
}

bool timer_set_cpu_policy(enum cpu_policy policy)
{
    if ((size_t)policy >= ARRAY_LEN(CPU_POLICIES))
        return false;
    /* On Linux a policy belongs to a thread: this is strobe's sampling
     * thread only, whatever POSIX says of sched_setscheduler. */
    struct sched_param param = { .sched_priority = 0 };
    return sched_setscheduler(0, CPU_POLICIES[policy].linux_policy, &param) == 0;
}

uint64_t timer_measure_wake_latency(void)
{
    uint64_t late[CALIBRATION_SLEEPS];
    for (int i = 0; i < CALIBRATION_SLEEPS; i++) {
        uint64_t due = clock_now_ns() + CALIBRATION_SLEEP_NS;
        struct timespec ts = clock_ns_to_timespec(due);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        uint64_t now = clock_now_ns();
        late[i] = now > due ? now - due : 0;
    }
    qsort(late, CALIBRATION_SLEEPS, sizeof(late[0]), cmp_u64);
    uint64_t median = late[CALIBRATION_SLEEPS / 2];
    return MIN(MAX(median, SPIN_MIN_NS), SPIN_MAX_NS);
}

void timer_start(struct sample_timer *t, uint64_t interval_ns, uint64_t now_ns,
                 uint64_t spin_below_ns)
{
    t->interval_ns = interval_ns ? interval_ns : 1;
    t->start_ns = now_ns;
    t->next_ns = now_ns;
    t->missed = 0;
    t->spin_below_ns = spin_below_ns;
}

uint64_t timer_wait(struct sample_timer *t)
{
    uint64_t now = clock_now_ns();
    if (now >= t->next_ns)
        return now;
    if (t->next_ns - now < t->spin_below_ns) {
        /* Sooner than a sleep could end: spin (bounded by spin_below_ns). */
        while (now < t->next_ns)
            now = clock_now_ns();
        return now;
    }
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
