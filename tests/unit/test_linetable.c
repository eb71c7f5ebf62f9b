/*
 * test_linetable.c — the three line-table decoders against real tables from
 * every CPython 3.8–3.15 (linetable_vectors.h), plus hand-made edge cases
 * and hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "python/linetable.h"

#include "linetable_vectors.h"

#include <stdio.h>
#include <stdlib.h>

static void test_real_tables_agree_with_cpython(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t v = 0; v < sizeof(linetable_vectors) / sizeof(linetable_vectors[0]); v++) {
        const struct linetable_vector *vec = &linetable_vectors[v];
        struct line_table t;
        line_table_decode(&t, vec->format, vec->table, vec->table_len, vec->firstlineno);
        for (size_t i = 0; i < vec->nchecks; i++) {
            int32_t got = line_table_lookup(&t, vec->checks[i].offset);
            if (got != vec->checks[i].line)
                fail_msg("CPython %s, %s: offset %d -> line %d, CPython says %d", vec->python,
                         vec->function, vec->checks[i].offset, got, vec->checks[i].line);
            checked++;
        }
        line_table_free(&t);
    }
    assert_true(checked > 1000);
}

static void test_lnotab_basic(void **state)
{
    (void)state;
    /* Line 10 at 0; +6 bytes -> line 11; +4 bytes -> line 9 (negative). */
    const uint8_t lnotab[] = { 6, 1, 4, (uint8_t)-2 };
    struct line_table t;
    line_table_decode(&t, LINETABLE_LNOTAB, lnotab, sizeof(lnotab), 10);
    assert_int_equal(line_table_lookup(&t, 0), 10);
    assert_int_equal(line_table_lookup(&t, 5), 10);
    assert_int_equal(line_table_lookup(&t, 6), 11);
    assert_int_equal(line_table_lookup(&t, 9), 11);
    assert_int_equal(line_table_lookup(&t, 10), 9);
    assert_int_equal(line_table_lookup(&t, 1000), 9);   /* the last line runs on */
    assert_int_equal(line_table_lookup(&t, -1), 10);    /* not started: first line */
    line_table_free(&t);
}

static void test_pep626_no_line(void **state)
{
    (void)state;
    /* [0,4) line 6 (+1), [4,6) no line, [6,10) line 8 (+2 from 6). */
    const uint8_t table[] = { 4, 1, 2, 0x80, 4, 2 };
    struct line_table t;
    line_table_decode(&t, LINETABLE_PEP626, table, sizeof(table), 5);
    assert_int_equal(line_table_lookup(&t, 0), 6);
    assert_int_equal(line_table_lookup(&t, 4), 5);      /* no line: function's first */
    assert_int_equal(line_table_lookup(&t, 6), 8);
    assert_int_equal(line_table_lookup(&t, 10), 5);     /* past the end */
    line_table_free(&t);
}

static void test_locations_forms(void **state)
{
    (void)state;
    const uint8_t table[] = {
        0x80 | (10 << 3) | 0, 0, 0,     /* one-line form, +0: 1 unit, line 20 */
        0x80 | (11 << 3) | 1, 0, 0,     /* one-line form, +1: 2 units, line 21 */
        0x80 | (13 << 3) | 0, 0x05,     /* no-columns, signed varint -2: line 19 */
        0x80 | (15 << 3) | 0,           /* no location */
        0x80 | (14 << 3) | 0, 0x48, 0x01, 0, 0, 0, /* long: varint 72 = +36: line 55 */
        0x80 | (0 << 3) | 2, 0,         /* short form: same line, 3 units */
    };
    struct line_table t;
    line_table_decode(&t, LINETABLE_LOCATIONS, table, sizeof(table), 20);
    assert_int_equal(line_table_lookup(&t, 0), 20);
    assert_int_equal(line_table_lookup(&t, 2), 21);
    assert_int_equal(line_table_lookup(&t, 4), 21);
    assert_int_equal(line_table_lookup(&t, 6), 19);
    assert_int_equal(line_table_lookup(&t, 8), 20);     /* no location */
    assert_int_equal(line_table_lookup(&t, 10), 55);
    assert_int_equal(line_table_lookup(&t, 12), 55);
    assert_int_equal(line_table_lookup(&t, 16), 55);
    line_table_free(&t);
}

static void test_empty_and_truncated(void **state)
{
    (void)state;
    struct line_table t;
    line_table_decode(&t, LINETABLE_LOCATIONS, NULL, 0, 7);
    assert_int_equal(line_table_lookup(&t, 0), 7);
    line_table_free(&t);
    /* A varint that runs off the end, an odd-length pair table. */
    const uint8_t cut[] = { 0x80 | (14 << 3), 0x7f, 0x7f };
    line_table_decode(&t, LINETABLE_LOCATIONS, cut, sizeof(cut), 7);
    (void)line_table_lookup(&t, 0);
    line_table_free(&t);
    const uint8_t odd[] = { 4, 1, 9 };
    line_table_decode(&t, LINETABLE_PEP626, odd, sizeof(odd), 7);
    assert_int_equal(line_table_lookup(&t, 0), 8);
    line_table_free(&t);
}

/* Random bytes in every format: no crash, no UB (run under UBSan), lookups
 * stay within what the table could produce. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    uint8_t buf[512];
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(seed % sizeof(buf));
        for (size_t i = 0; i < len; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            buf[i] = (uint8_t)seed;
        }
        enum py_linetable_format f = (enum py_linetable_format)(round % 3);
        struct line_table t;
        line_table_decode(&t, f, buf, len, (int32_t)(seed % 100000) - 50000);
        assert_true(t.count <= len + 1);
        for (uint32_t i = 1; i < t.count; i++)
            assert_true(t.ranges[i - 1].end < t.ranges[i].end);
        for (int64_t off = -2; off < 600; off += 7)
            (void)line_table_lookup(&t, off);
        line_table_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_tables_agree_with_cpython),
        cmocka_unit_test(test_lnotab_basic),
        cmocka_unit_test(test_pep626_no_line),
        cmocka_unit_test(test_locations_forms),
        cmocka_unit_test(test_empty_and_truncated),
        cmocka_unit_test(test_hostile_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
