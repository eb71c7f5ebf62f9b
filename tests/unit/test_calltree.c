/*
 * test_calltree.c — the call tree's rounds: the time a round's reads took,
 * known only once they are done, is added to that round's samples (in the
 * tree and in the log a recording drains), and to no other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/common.h"
#include "sampler/calltree.h"

/* Frame symbol ids: any values, the tree only keeps them. */
enum { FRAME_A = 1, FRAME_B = 2 };

static void test_round_time_goes_to_its_samples(void **state)
{
    (void)state;
    struct calltree t;
    calltree_init(&t);
    t.log.enabled = true;
    uint32_t a = calltree_new_child(&t, calltree_root(&t, 100), FRAME_A);
    uint32_t b = calltree_new_child(&t, calltree_root(&t, 200), FRAME_B);

    calltree_add(&t, a, 1, 1000);       /* outside any round */
    calltree_round_begin(&t);
    calltree_add(&t, a, 1, 10);
    calltree_add(&t, b, 1, 20);
    calltree_round_end(&t, 5);
    calltree_add(&t, b, 1, 7);          /* after it */

    assert_int_equal(t.nodes[a].self_ns, 1000 + 10 + 5);
    assert_int_equal(t.nodes[b].self_ns, 20 + 5 + 7);
    assert_int_equal(t.nodes[a].self_samples, 2);
    assert_int_equal(t.log.count, 4);
    const uint64_t logged[] = { 1000, 15, 25, 7 };
    for (size_t i = 0; i < ARRAY_LEN(logged); i++)
        assert_int_equal(t.log.items[i].ns, logged[i]);
    calltree_free(&t);
}

static void test_round_after_the_log_was_drained(void **state)
{
    (void)state;
    struct calltree t;
    calltree_init(&t);
    t.log.enabled = true;
    uint32_t a = calltree_new_child(&t, calltree_root(&t, 100), FRAME_A);
    calltree_add(&t, a, 1, 3);
    t.log.count = 0;                    /* a recording drained it */
    calltree_round_begin(&t);
    calltree_add(&t, a, 1, 4);
    calltree_round_end(&t, 2);
    assert_int_equal(t.log.count, 1);
    assert_int_equal(t.log.items[0].ns, 6);
    assert_int_equal(t.nodes[a].self_ns, 3 + 4 + 2);
    calltree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_time_goes_to_its_samples),
        cmocka_unit_test(test_round_after_the_log_was_drained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
