/*
 * test_version.c — version parsing and formatting, the unsupported-version
 * message, and the checks strobe applies to a 3.13+ debug-offsets table
 * before trusting it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "python/debug_offsets.h"
#include "python/version.h"

#include <string.h>

static void test_parse_and_format(void **state)
{
    (void)state;
    struct py_version v;
    char out[32];
    assert_true(py_version_parse("3.12.1", &v));
    py_version_format(v, out, sizeof(out));
    assert_string_equal(out, "3.12.1");
    assert_true(py_version_parse("3.15.0b4+", &v));
    assert_int_equal(v.level, 0xB);
    assert_int_equal(v.serial, 4);
    py_version_format(v, out, sizeof(out));
    assert_string_equal(out, "3.15.0b4");
    assert_true(py_version_parse("3.9.so.1.0", &v));     /* from libpython3.9.so.1.0 */
    assert_int_equal(v.minor, 9);
    assert_true(v.micro == PY_MICRO_UNKNOWN);
    py_version_format(v, out, sizeof(out));
    assert_string_equal(out, "3.9");
    assert_true(py_version_parse("3.6m", &v));
    assert_int_equal(v.minor, 6);
    assert_false(py_version_parse("3", &v));
    assert_false(py_version_parse("x3.1", &v));
    struct py_version hex = py_version_from_hex(0x030F02F0);
    assert_int_equal(hex.minor, 15);
    assert_int_equal(hex.micro, 2);
    assert_true(py_version_to_hex(hex) == 0x030F02F0);
}

static void test_supported_range(void **state)
{
    (void)state;
    char msg[128];
    struct py_version v = { 3, 7, 16, 0xF, 0 };
    assert_false(py_version_supported(v));
    py_version_unsupported_message(v, msg, sizeof(msg));
    assert_string_equal(msg, "CPython 3.7 is not supported (supported: 3.8\u20133.15)");
    v.minor = 8;
    assert_true(py_version_supported(v));
    v.minor = 15;
    assert_true(py_version_supported(v));
    v.minor = 16;
    assert_false(py_version_supported(v));
    v = (struct py_version){ 2, 7, 18, 0xF, 0 };
    assert_false(py_version_supported(v));
}

static void fill_table(uint64_t *words, size_t n, uint64_t version)
{
    memset(words, 0, n * 8);
    memcpy(words, DEBUG_OFFSETS_COOKIE, DEBUG_OFFSETS_COOKIE_LEN);
    words[1] = version;
}

static void test_debug_offsets_refusals(void **state)
{
    (void)state;
    uint64_t words[128];
    struct py_layout l;
    char err[ERRMSG_MAX];
    fill_table(words, 128, 0x031000F0);     /* 3.16 */
    assert_true(debug_offsets_present(words, sizeof(words)));
    assert_false(debug_offsets_to_layout(words, sizeof(words), &l, err, sizeof(err)));
    assert_non_null(strstr(err, "CPython 3.16 is not supported"));

    fill_table(words, 128, 0x030E0AF0);     /* 3.14.10, free-threaded */
    words[2] = 1;
    assert_false(debug_offsets_to_layout(words, sizeof(words), &l, err, sizeof(err)));
    assert_non_null(strstr(err, "free-threaded"));

    fill_table(words, 128, 0x030E0AF0);     /* all sizes zero: every offset implausible */
    assert_false(debug_offsets_to_layout(words, sizeof(words), &l, err, sizeof(err)));
    assert_non_null(strstr(err, "expected layout"));
    assert_false(debug_offsets_to_layout(words, 64, &l, err, sizeof(err)));     /* truncated */

    char not_cookie[8] = "xdebugpz";
    assert_false(debug_offsets_present(not_cookie, sizeof(not_cookie)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_supported_range),
        cmocka_unit_test(test_debug_offsets_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
