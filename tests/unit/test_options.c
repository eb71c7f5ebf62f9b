/*
 * test_options.c — rates, durations, and the attach/run command lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "cli/options.h"

#include <string.h>

static void test_rates(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double hz;
    } good[] = {
        { "10000", 10000 }, { "10k", 10000 }, { "10khz", 10000 }, { "10KHz", 10000 },
        { "1M", 1e6 },      { "1mhz", 1e6 },  { "2.5k", 2500 },   { "500hz", 500 },
        { "1", 1 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        double hz = 0;
        assert_true(parse_rate(good[i].text, &hz));
        assert_true(hz == good[i].hz);
    }
    static const char *const bad[] = { "", "k", "-5", "10x", "0", "1e400", "10 k", "hz",
                                       "100M", "nan", "0.0" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double hz;
        if (parse_rate(bad[i], &hz))
            fail_msg("rate '%s' should be rejected", bad[i]);
    }
}

static void test_durations(void **state)
{
    (void)state;
    uint64_t ns;
    assert_true(parse_duration("10", &ns));
    assert_true(ns == 10 * NS_PER_SEC);
    assert_true(parse_duration("0.5", &ns));
    assert_true(ns == NS_PER_SEC / 2);
    assert_false(parse_duration("0", &ns));
    assert_false(parse_duration("-1", &ns));
    assert_false(parse_duration("5s", &ns));
    assert_false(parse_duration("", &ns));
}

static bool parse(struct options *o, char *err, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    return options_parse(argc, argv, o, err, ERRMSG_MAX);
}

static void test_attach_command_line(void **state)
{
    (void)state;
    struct options o;
    char err[ERRMSG_MAX];
    assert_true(parse(&o, err, 7, "strobe", "attach", "1234", "-r", "10k", "-d", "2"));
    assert_int_equal(o.command, CMD_ATTACH);
    assert_int_equal(o.pid, 1234);
    assert_true(o.interval_ns == 100 * NS_PER_US);
    assert_true(o.duration_ns == 2 * NS_PER_SEC);
    assert_int_equal(o.format, FORMAT_REPORT);
    assert_true(parse(&o, err, 8, "strobe", "attach", "--collapsed", "-o", "x.txt", "--sort",
                      "cumtime", "7"));
    assert_int_equal(o.format, FORMAT_COLLAPSED);
    assert_string_equal(o.output_path, "x.txt");
    assert_int_equal(o.report.sort, SORT_CUMTIME);
    assert_false(parse(&o, err, 2, "strobe", "attach"));
    assert_non_null(strstr(err, "PID"));
    assert_false(parse(&o, err, 3, "strobe", "attach", "12ab"));
    assert_false(parse(&o, err, 5, "strobe", "attach", "1", "--sort", "bogus"));
    assert_non_null(strstr(err, "nsamples"));
    assert_false(parse(&o, err, 4, "strobe", "attach", "1", "--frobnicate"));
    assert_false(parse(&o, err, 4, "strobe", "attach", "1", "-r"));
    assert_true(parse(&o, err, 3, "strobe", "attach", "--help"));
    assert_int_equal(o.command, CMD_HELP);
    assert_int_equal(o.help_topic, CMD_ATTACH);
}

static void test_run_command_line(void **state)
{
    (void)state;
    struct options o;
    char err[ERRMSG_MAX];
    /* Options stop at COMMAND: -r after it belongs to the program. */
    assert_true(parse(&o, err, 8, "strobe", "run", "-l", "5", "python3.12", "app.py", "-r", "x"));
    assert_int_equal(o.command, CMD_RUN);
    assert_int_equal(o.report.limit, 5);
    assert_string_equal(o.program[0], "python3.12");
    assert_string_equal(o.program[3], "x");
    assert_null(o.program[4]);
    options_free(&o);
    /* A script runs under python3. */
    assert_true(parse(&o, err, 5, "strobe", "run", "app.py", "--port", "8000"));
    assert_string_equal(o.program[0], "python3");
    assert_string_equal(o.program[1], "app.py");
    assert_string_equal(o.program[3], "8000");
    options_free(&o);
    /* -m MODULE runs python3 -m MODULE ARGS. */
    assert_true(parse(&o, err, 6, "strobe", "run", "-a", "-m", "http.server", "8000"));
    assert_string_equal(o.program[0], "python3");
    assert_string_equal(o.program[1], "-m");
    assert_string_equal(o.program[2], "http.server");
    assert_string_equal(o.program[3], "8000");
    options_free(&o);
    assert_false(parse(&o, err, 2, "strobe", "run"));
    assert_false(parse(&o, err, 3, "strobe", "frob", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_attach_command_line),
        cmocka_unit_test(test_run_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
