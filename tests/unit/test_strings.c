/*
 * test_strings.c — PEP 393 string decoding to UTF-8: every kind, invalid
 * data, truncation; and reading a str laid out as CPython does from this
 * process's own memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "python/strings.h"

#include <string.h>
#include <unistd.h>

static void test_latin1_and_ascii(void **state)
{
    (void)state;
    char out[64];
    const uint8_t latin1[] = { 'c', 'a', 'f', 0xE9 };
    assert_int_equal(unicode_to_utf8(latin1, 4, 1, false, out, sizeof(out)), 5);
    assert_string_equal(out, "caf\xc3\xa9");
    /* 8-bit data in an object claiming to be ASCII is corrupt: '?' */
    assert_int_equal(unicode_to_utf8(latin1, 4, 1, true, out, sizeof(out)), 4);
    assert_string_equal(out, "caf?");
}

static void test_ucs2_and_ucs4(void **state)
{
    (void)state;
    char out[64];
    const uint16_t ucs2[] = { 0x00dc, 'n', 0x00ef, 0x03bb };   /* Üniλ */
    unicode_to_utf8(ucs2, 4, 2, false, out, sizeof(out));
    assert_string_equal(out, "\xc3\x9cn\xc3\xaf\xce\xbb");
    const uint32_t ucs4[] = { 0x1F600, 'x' };
    unicode_to_utf8(ucs4, 2, 4, false, out, sizeof(out));
    assert_string_equal(out, "\xf0\x9f\x98\x80x");
}

static void test_invalid_code_points(void **state)
{
    (void)state;
    char out[64];
    const uint16_t lone_surrogate[] = { 'a', 0xD800, 'b' };
    unicode_to_utf8(lone_surrogate, 3, 2, false, out, sizeof(out));
    assert_string_equal(out, "a\xef\xbf\xbd" "b");
    const uint32_t too_big[] = { 0x110000, 0xFFFFFFFF };
    unicode_to_utf8(too_big, 2, 4, false, out, sizeof(out));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
    /* Control characters would break line-based outputs. */
    const uint8_t ctrl[] = { 'a', '\n', 'b', 0x7f };
    unicode_to_utf8(ctrl, 4, 1, false, out, sizeof(out));
    assert_string_equal(out, "a?b?");
    /* So would C1 controls (U+009B starts a terminal's escape sequence,
     * U+0085 is a line break) and the line and paragraph separators; the
     * characters next to them are kept. */
    const uint8_t c1[] = { 0x9b, '3', '1', 'm', 0x85, 0x7e, 0xa0 };
    unicode_to_utf8(c1, 7, 1, false, out, sizeof(out));
    assert_string_equal(out, "?31m?~\xc2\xa0");
    const uint16_t separators[] = { 0x2027, 0x2028, 0x2029, 0x202f };
    unicode_to_utf8(separators, 4, 2, false, out, sizeof(out));
    assert_string_equal(out, "\xe2\x80\xa7??\xe2\x80\xaf");
    /* And the bidirectional controls that reorder what follows on screen
     * (U+202E, RLO); their neighbours are kept. */
    const uint16_t bidi[] = { 0x2029, 0x202a, 0x202e, 0x202f, 0x2065, 0x2066, 0x2069, 0x206a };
    unicode_to_utf8(bidi, 8, 2, false, out, sizeof(out));
    assert_string_equal(out, "??" "?\xe2\x80\xaf\xe2\x81\xa5??\xe2\x81\xaa");
}

static void test_truncation_keeps_whole_characters(void **state)
{
    (void)state;
    char out[6];
    const uint32_t wide[] = { 0x1F600, 0x1F600 };   /* 4 bytes each */
    assert_int_equal(unicode_to_utf8(wide, 2, 4, false, out, sizeof(out)), 4);
    assert_int_equal(strlen(out), 4);
    char tiny[1];
    assert_int_equal(unicode_to_utf8(wide, 2, 4, false, tiny, sizeof(tiny)), 0);
    assert_string_equal(tiny, "");
}

/* A compact str laid out like CPython 3.12+ (40-byte ASCII header, 56-byte
 * compact header), read back through process_vm_readv from ourselves. */
struct fake_str {
    int64_t refcnt;
    uint64_t type;
    int64_t length;
    int64_t hash;
    uint32_t state;
    uint32_t pad;
    uint8_t data[64];
};

static const struct py_layout *layout_312(void)
{
    static struct py_layout l;
    l = *layout_legacy_for(12);
    layout_finish(&l);
    return &l;
}

static void test_read_str_from_process(void **state)
{
    (void)state;
    struct remote r;
    remote_init(&r, getpid());
    struct fake_str s;
    memset(&s, 0, sizeof(s));
    s.length = 5;
    s.state = (1u << 2) | (1u << 5) | (1u << 6);    /* kind 1, compact, ascii */
    memcpy(s.data, "hello", 5);
    char out[64];
    assert_true(py_read_str(&r, layout_312(), (uint64_t)(uintptr_t)&s, out, sizeof(out)));
    assert_string_equal(out, "hello");

    s.state = (1u << 2) | (1u << 5);    /* kind 1, compact, not ascii: data after 56 bytes */
    uint8_t *compact_data = (uint8_t *)&s + 56;
    memcpy(compact_data, "f\xfcnf", 4);
    s.length = 4;
    assert_true(py_read_str(&r, layout_312(), (uint64_t)(uintptr_t)&s, out, sizeof(out)));
    assert_string_equal(out, "f\xc3\xbcnf");

    s.state = (3u << 2) | (1u << 5);    /* kind 3 does not exist */
    assert_false(py_read_str(&r, layout_312(), (uint64_t)(uintptr_t)&s, out, sizeof(out)));
    s.state = (1u << 2);                /* not compact: refused */
    assert_false(py_read_str(&r, layout_312(), (uint64_t)(uintptr_t)&s, out, sizeof(out)));
    s.state = (1u << 2) | (1u << 5) | (1u << 6);
    s.length = -1;
    assert_false(py_read_str(&r, layout_312(), (uint64_t)(uintptr_t)&s, out, sizeof(out)));
    assert_false(py_read_str(&r, layout_312(), 0, out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latin1_and_ascii),
        cmocka_unit_test(test_ucs2_and_ucs4),
        cmocka_unit_test(test_invalid_code_points),
        cmocka_unit_test(test_truncation_keeps_whole_characters),
        cmocka_unit_test(test_read_str_from_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
