/*
 * test_target_files.c — reading files a target names, with its rights:
 * the identity /proc gives for a real process (this one), and what the
 * reading child returns for regular files, procfs files, FIFOs and names
 * that are no file. (Reading as another user is tested end to end, as
 * root, in tests/integration/test_formats.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc/target_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_identity_of_this_process(void **state)
{
    (void)state;
    struct file_identity id;
    assert_true(file_identity_of_process(getpid(), &id));
    assert_true(id.known);
    assert_int_equal(id.pid, getpid());
    assert_int_equal(id.uid, geteuid());
    assert_int_equal(id.gid, getegid());
    gid_t groups[FILE_IDENTITY_MAX_GROUPS];
    int n = getgroups(FILE_IDENTITY_MAX_GROUPS, groups);
    if (n >= 0)
        assert_int_equal(id.ngroups, (size_t)n);
    /* A pid no process has (pid_max is at most 2^22). */
    struct file_identity untouched = { .pid = 7 };
    assert_false(file_identity_of_process(1 << 23, &untouched));
    assert_int_equal(untouched.pid, 7);
}

/* A temporary directory with a file `name` holding `text`; its path. */
static char *temp_file(char *dir, const char *name, const char *text)
{
    assert_non_null(mkdtemp(dir));
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_reads_regular_files_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/strobe-target-files-XXXXXX";
    char *path = temp_file(dir, "source.py", "def f():\n    pass\n");
    struct file_identity me;
    assert_true(file_identity_of_process(getpid(), &me));
    struct target_file_reader *r = target_file_reader_open(&me);
    char *text;
    size_t len;
    assert_int_equal(target_file_read(r, path, 1 << 20, &text, &len), TARGET_FILE_OK);
    assert_int_equal(len, 18);
    assert_string_equal(text, "def f():\n    pass\n");
    free(text);
    /* At most `max` bytes. */
    assert_int_equal(target_file_read(r, path, 3, &text, &len), TARGET_FILE_OK);
    assert_string_equal(text, "def");
    free(text);
    /* procfs depends on who reads it; a FIFO would block; names in
     * angle brackets and missing files are no file. */
    const char *refused[] = { "/proc/self/environ", "/proc/self/status", "<string>", "",
                              "/nonexistent/strobe.py", dir };
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        assert_int_equal(target_file_read(r, refused[i], 1 << 20, &text, &len),
                         TARGET_FILE_UNREADABLE);
        assert_null(text);
    }
    char fifo[sizeof(dir) + 8];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(target_file_read(r, fifo, 1 << 20, &text, &len), TARGET_FILE_UNREADABLE);
    /* The reader still serves after refusals. */
    assert_int_equal(target_file_read(r, path, 1 << 20, &text, &len), TARGET_FILE_OK);
    free(text);
    target_file_reader_close(r);
    unlink(fifo);
    unlink(path);
    rmdir(dir);
    free(path);
}

static void test_relative_names_resolve_in_the_targets_cwd(void **state)
{
    (void)state;
    char dir[] = "/tmp/strobe-target-cwd-XXXXXX";
    char *path = temp_file(dir, "main.py", "print('hi')\n");
    char here[4096];
    assert_non_null(getcwd(here, sizeof(here)));
    /* This process is the target: its cwd is where "main.py" is. */
    assert_int_equal(chdir(dir), 0);
    struct file_identity me;
    assert_true(file_identity_of_process(getpid(), &me));
    struct target_file_reader *r = target_file_reader_open(&me);
    assert_int_equal(chdir(here), 0);
    char *text;
    size_t len;
    assert_int_equal(target_file_read(r, "main.py", 100, &text, &len), TARGET_FILE_OK);
    assert_string_equal(text, "print('hi')\n");
    free(text);
    target_file_reader_close(r);
    unlink(path);
    rmdir(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_of_this_process),
        cmocka_unit_test(test_reads_regular_files_only),
        cmocka_unit_test(test_relative_names_resolve_in_the_targets_cwd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
