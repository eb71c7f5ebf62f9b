/*
 * profile.c — see profile.h.
 */
#include "sampler/profile.h"

#include "base/clock.h"

#include <string.h>

#define TRUNCATED_MARK "<truncated>"

const char *sample_error_key(enum sample_error e)
{
    static const char *const keys[SAMPLE_ERROR_COUNT] = {
        [SAMPLE_ERROR_UNREADABLE] = "unreadable", [SAMPLE_ERROR_TORN] = "torn",
        [SAMPLE_ERROR_CYCLE] = "cycle", [SAMPLE_ERROR_NOT_CODE] = "not_code",
        [SAMPLE_ERROR_THREAD_LIST] = "thread_list",
    };
    return e < SAMPLE_ERROR_COUNT ? keys[e] : "unknown";
}

const char *sample_error_name(enum sample_error e)
{
    switch (e) {
    case SAMPLE_ERROR_UNREADABLE: return "memory unreadable";
    case SAMPLE_ERROR_TORN: return "stack changed while being read";
    case SAMPLE_ERROR_CYCLE: return "frame chain loops";
    case SAMPLE_ERROR_NOT_CODE: return "frame without a valid code object";
    case SAMPLE_ERROR_THREAD_LIST: return "thread list changed while being read";
    case SAMPLE_ERROR_COUNT: break;
    }
    return "unknown";
}

void profile_init(struct profile *p)
{
    memset(p, 0, sizeof(*p));
    symbols_init(&p->symbols);
    calltree_init(&p->tree);
    uint32_t empty = strtab_intern(&p->symbols.strings, "", 0);
    uint32_t mark = strtab_intern(&p->symbols.strings, TRUNCATED_MARK, strlen(TRUNCATED_MARK));
    p->truncated_frame = symbols_frame(&p->symbols, empty, mark, 0, 0);
}

void profile_free(struct profile *p)
{
    symbols_free(&p->symbols);
    calltree_free(&p->tree);
}

double profile_duration_s(const struct profile *p)
{
    if (p->stats.end_ns <= p->stats.start_ns)
        return 0;
    return (double)(p->stats.end_ns - p->stats.start_ns) / (double)NS_PER_SEC;
}

double profile_error_pct(const struct profile *p)
{
    uint64_t attempts = p->stats.thread_samples + p->stats.thread_errors;
    return attempts ? 100.0 * (double)p->stats.thread_errors / (double)attempts : 0.0;
}

uint64_t profile_missed_woken_late(const struct profile_stats *st)
{
    return MIN(st->missed_waiting, st->missed);
}
