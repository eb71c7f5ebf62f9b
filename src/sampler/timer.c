/*
 * timer.c — see timer.h.
 */
#include "sampler/timer.h"

#include "base/clock.h"
#include "base/common.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
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
/* While every wait is spun, one is slept anyway this often: a probe of the
 * latency, which may have been measured on a busy machine. */
#define SPIN_PROBE_NS (50 * NS_PER_MS)
/* Three decimal numbers and spaces. */
#define SCHEDSTAT_LINE_MAX 128

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

struct wake_cost timer_measure_wake_cost(void)
{
    uint64_t late[CALIBRATION_SLEEPS];
    uint64_t cpu_before = clock_thread_cpu_ns();
    for (int i = 0; i < CALIBRATION_SLEEPS; i++) {
        uint64_t due = clock_now_ns() + CALIBRATION_SLEEP_NS;
        struct timespec ts = clock_ns_to_timespec(due);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        uint64_t now = clock_now_ns();
        late[i] = now > due ? now - due : 0;
    }
    uint64_t cpu = clock_thread_cpu_ns() - cpu_before;
    qsort(late, CALIBRATION_SLEEPS, sizeof(late[0]), cmp_u64);
    return (struct wake_cost){ .latency_ns = late[CALIBRATION_SLEEPS / 2],
                               .cpu_ns = cpu / CALIBRATION_SLEEPS };
}

static uint64_t latency_bounded(uint64_t latency_ns)
{
    return MIN(MAX(latency_ns, SPIN_MIN_NS), SPIN_MAX_NS);
}

void timer_start(struct sample_timer *t, uint64_t interval_ns, uint64_t now_ns,
                 struct wake_cost cost)
{
    memset(t, 0, sizeof(*t));
    t->interval_ns = interval_ns ? interval_ns : 1;
    t->start_ns = now_ns;
    t->next_ns = now_ns;
    t->wake_latency_ns = latency_bounded(cost.latency_ns);
    t->wake_cpu_ns = cost.cpu_ns;
    t->wait_began_ns = t->woke_ns = t->slept_ns = now_ns;
}

bool timer_would_spin(const struct sample_timer *t, uint64_t wait_ns)
{
    if (wait_ns >= t->wake_latency_ns)
        return false;
    return t->interval_ns <= t->wake_latency_ns || wait_ns < t->wake_cpu_ns;
}

void timer_note_lateness(struct sample_timer *t, uint64_t late_ns)
{
    t->wake_latency_ns = (t->wake_latency_ns + latency_bounded(late_ns)) / 2;
}

static uint64_t wait_until(struct sample_timer *t, uint64_t now, uint64_t due_ns)
{
    if (now >= due_ns)
        return now;
    bool spin = timer_would_spin(t, due_ns - now);
    if (spin && now - t->slept_ns < SPIN_PROBE_NS) {
        /* Sooner than a sleep could end: spin (bounded by the latency). */
        return clock_spin_until_ns(due_ns);
    }
    struct timespec due = clock_ns_to_timespec(due_ns);
    int interrupted = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    now = clock_now_ns();
    t->slept_ns = now;
    if (spin && !interrupted)
        timer_note_lateness(t, now > due_ns ? now - due_ns : 0);
    return now;
}

uint64_t timer_wait(struct sample_timer *t, uint64_t wake_by_ns)
{
    t->wait_began_ns = clock_now_ns();
    uint64_t due = wake_by_ns && wake_by_ns < t->next_ns ? wake_by_ns : t->next_ns;
    t->woke_ns = wait_until(t, t->wait_began_ns, due);
    return t->woke_ns;
}

/*
 * Of the `skipped` slots from t->next_ns on, those that came due while
 * strobe waited for the slot it has just taken (`taken`): after it began to
 * wait and before it woke. (Had it begun waiting only after `taken` was due,
 * it went straight on: those slots passed while it was busy.)
 */
static uint64_t skipped_while_waiting(const struct sample_timer *t, uint64_t taken,
                                      uint64_t skipped)
{
    if (t->wait_began_ns >= taken || t->woke_ns < t->next_ns)
        return 0;
    uint64_t due_by_wake = (t->woke_ns - t->next_ns) / t->interval_ns + 1;
    return MIN(due_by_wake, skipped);
}

/* The `skipped` slots from t->next_ns on are lost: count them, by cause,
 * and schedule the one after them. */
static void skip_slots(struct sample_timer *t, uint64_t taken, uint64_t skipped)
{
    t->missed += skipped;
    t->missed_waiting += skipped_while_waiting(t, taken, skipped);
    t->next_ns += skipped * t->interval_ns;
}

void timer_advance(struct sample_timer *t, uint64_t now_ns)
{
    uint64_t taken = t->next_ns;
    t->next_ns += t->interval_ns;
    /* More than a whole interval late: the slots in between are lost. */
    if (now_ns >= t->next_ns + t->interval_ns)
        skip_slots(t, taken, (now_ns - t->next_ns) / t->interval_ns);
}

void timer_finish(struct sample_timer *t, uint64_t end_ns)
{
    if (end_ns < t->next_ns + t->interval_ns)
        return;
    uint64_t woken_for = t->next_ns;
    t->next_ns += t->interval_ns;
    skip_slots(t, woken_for, (end_ns - t->next_ns) / t->interval_ns + 1);
}

uint64_t timer_run_delay_ns(void)
{
    /* "time on a CPU, time waiting on a run queue, time slices" (ns). */
    char line[SCHEDSTAT_LINE_MAX];
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (!f)
        return 0;
    bool read = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!read)
        return 0;
    char *end = NULL;
    errno = 0;
    (void)strtoull(line, &end, 10);
    if (errno || end == line)
        return 0;
    const char *waiting_at = end;
    unsigned long long waiting = strtoull(waiting_at, &end, 10);
    return errno || end == waiting_at ? 0 : (uint64_t)waiting;
}
