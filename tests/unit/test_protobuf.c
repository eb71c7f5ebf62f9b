/*
 * test_protobuf.c — the protocol buffers wire encoding pprof output is built
 * from: varints across byte boundaries, zero fields left out, nested and
 * packed fields with their length prefixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "output/protobuf.h"

static void assert_bytes(const struct pb_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void test_varints(void **state)
{
    (void)state;
    struct pb_buf b = { 0 };
    pb_uint(&b, 1, 300);            /* the protobuf documentation's example */
    static const uint8_t v300[] = { 0x08, 0xac, 0x02 };
    assert_bytes(&b, v300, sizeof(v300));
    pb_reset(&b);
    pb_uint(&b, 2, 0);              /* proto3: zero is the default, left out */
    assert_int_equal(b.len, 0);
    pb_uint(&b, 16, UINT64_MAX);    /* a two-byte key, a ten-byte value */
    static const uint8_t vmax[] = { 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x01 };
    assert_bytes(&b, vmax, sizeof(vmax));
    pb_free(&b);
}

static void test_length_delimited(void **state)
{
    (void)state;
    struct pb_buf outer = { 0 }, inner = { 0 }, scratch = { 0 };
    pb_bytes(&outer, 6, "", 0);     /* pprof's string_table[0] = "" */
    pb_bytes(&outer, 6, "wall", 4);
    pb_uint(&inner, 1, 150);
    pb_message(&outer, 3, &inner);
    static const uint64_t ids[] = { 1, 2, 300 };
    pb_packed(&outer, 1, ids, 3, &scratch);
    static const uint8_t want[] = { 0x32, 0x00, 0x32, 0x04, 'w', 'a', 'l', 'l',
                                    0x1a, 0x03, 0x08, 0x96, 0x01,
                                    0x0a, 0x04, 0x01, 0x02, 0xac, 0x02 };
    assert_bytes(&outer, want, sizeof(want));
    pb_free(&outer);
    pb_free(&inner);
    pb_free(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_length_delimited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
