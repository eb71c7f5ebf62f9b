/*
 * test_sink.c — output files: written whole or not at all, through symbolic
 * links, and never replacing something that is not a regular file (writing
 * to /dev/null must leave /dev/null a device).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "output/sink.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dir {
    char path[PATH_MAX];
};

static int setup(void **state)
{
    static struct dir d;
    snprintf(d.path, sizeof(d.path), "/tmp/strobe-test-sink-XXXXXX");
    assert_non_null(mkdtemp(d.path));
    *state = &d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
    return system(cmd) == 0 ? 0 : -1;
}

static void read_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
    fclose(f);
}

static void write_all(const char *path, const char *text)
{
    char err[256];
    struct sink s;
    assert_true(sink_open(&s, path, err, sizeof(err)));
    fputs(text, s.f);
    assert_true(sink_close(&s, err, sizeof(err)));
}

static void test_file_appears_only_when_complete(void **state)
{
    struct dir *d = *state;
    char path[PATH_MAX + 8], buf[64], err[256];
    snprintf(path, sizeof(path), "%s/out", d->path);
    write_all(path, "old");
    struct sink s;
    assert_true(sink_open(&s, path, err, sizeof(err)));
    fputs("new", s.f);
    fflush(s.f);
    read_file(path, buf, sizeof(buf));
    assert_string_equal(buf, "old");    /* not yet */
    sink_abort(&s);
    read_file(path, buf, sizeof(buf));
    assert_string_equal(buf, "old");    /* abandoned: untouched, no leftovers */
    write_all(path, "new");
    read_file(path, buf, sizeof(buf));
    assert_string_equal(buf, "new");
}

static void test_device_is_written_not_replaced(void **state)
{
    (void)state;
    write_all("/dev/null", "into the void");
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_full_device_is_an_error(void **state)
{
    (void)state;
    char err[256];
    struct sink s;
    assert_true(sink_open(&s, "/dev/full", err, sizeof(err)));
    for (int i = 0; i < 100000; i++)
        fputs("profile line\n", s.f);
    assert_false(sink_close(&s, err, sizeof(err)));
    assert_non_null(strstr(err, "/dev/full"));
    struct stat st;
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_symlink_is_followed(void **state)
{
    struct dir *d = *state;
    char target[PATH_MAX + 8], link[PATH_MAX + 8], buf[64];
    snprintf(target, sizeof(target), "%s/real", d->path);
    snprintf(link, sizeof(link), "%s/link", d->path);
    write_all(target, "old");
    assert_int_equal(symlink(target, link), 0);
    write_all(link, "new");
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    read_file(target, buf, sizeof(buf));
    assert_string_equal(buf, "new");
}

static void test_unwritable_directory_is_an_error(void **state)
{
    (void)state;
    char err[256];
    struct sink s;
    assert_false(sink_open(&s, "/nonexistent-strobe-dir/out", err, sizeof(err)));
    assert_non_null(strstr(err, "cannot write /nonexistent-strobe-dir/out"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_appears_only_when_complete, setup, teardown),
        cmocka_unit_test(test_device_is_written_not_replaced),
        cmocka_unit_test(test_full_device_is_an_error),
        cmocka_unit_test_setup_teardown(test_symlink_is_followed, setup, teardown),
        cmocka_unit_test(test_unwritable_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
