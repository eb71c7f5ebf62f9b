/*
 * test_process.c — facts read from /proc about a real process (this one):
 * thread names, which the kernel stores as raw bytes (the target sets
 * them) and strobe must turn into valid UTF-8 without control characters;
 * and where its executable's data is mapped, as attaching checks it of a
 * runtime's (a loader part-way through shows other bytes of the file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc/elf.h"
#include "proc/maps.h"
#include "proc/process.h"

#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void name_of_this_thread(const char *set, char *out, size_t outlen)
{
    assert_int_equal(prctl(PR_SET_NAME, set, 0, 0, 0), 0);
    process_thread_name(getpid(), (uint64_t)gettid(), out, outlen);
}

static void test_thread_names(void **state)
{
    (void)state;
    char name[16];
    name_of_this_thread("worker-1", name, sizeof(name));
    assert_string_equal(name, "worker-1");
    /* Whole UTF-8 characters are kept. */
    name_of_this_thread("w\xc3\xb6rk", name, sizeof(name));
    assert_string_equal(name, "w\xc3\xb6rk");
    /* Invalid bytes, a character cut by the kernel's 15-byte limit and
     * control characters become '?'. */
    name_of_this_thread("a\xff\tb", name, sizeof(name));
    assert_string_equal(name, "a??b");
    name_of_this_thread("abcdefghijklmn\xc3\xb6", name, sizeof(name));
    assert_string_equal(name, "abcdefghijklmn?");
    /* Byte sequences shaped like UTF-8 that are not UTF-8 (a surrogate,
     * past U+10FFFF, overlong forms, a lead byte past F4) are '?' each,
     * however they are cut; the characters at the edges of the ranges are
     * kept. */
    name_of_this_thread("s\xed\xa0\x80", name, sizeof(name));
    assert_string_equal(name, "s???");
    name_of_this_thread("b\xf4\x90\x80\x80", name, sizeof(name));
    assert_string_equal(name, "b????");
    name_of_this_thread("o\xe0\x80\xaf\xf0\x8f\xbf\xbf", name, sizeof(name));
    assert_string_equal(name, "o???????");
    name_of_this_thread("\xf5\x80\x80\x80", name, sizeof(name));
    assert_string_equal(name, "????");
    name_of_this_thread("\xed\x9f\xbf\xe0\xa0\x80\xf4\x8f\xbf\xbf", name, sizeof(name));
    assert_string_equal(name, "\xed\x9f\xbf\xe0\xa0\x80\xf4\x8f\xbf\xbf");
    /* Too small a buffer cuts at a character boundary. */
    char small[4];
    name_of_this_thread("\xc3\xb6\xc3\xb6", small, sizeof(small));
    assert_string_equal(small, "\xc3\xb6");
    /* A thread that does not exist has no name. */
    process_thread_name(getpid(), 0x7ffffff0, name, sizeof(name));
    assert_string_equal(name, "");
}

/* Initialised, writable data of this executable, as _PyRuntime is of the
 * file that holds it. */
static volatile uint64_t some_data = 0x5eed;

static void test_data_mapped_from_its_file_offset(void **state)
{
    (void)state;
    struct process_maps maps;
    assert_int_equal(maps_read(getpid(), &maps), 0);
    uint64_t addr = (uint64_t)(uintptr_t)&some_data;
    const struct map_region *r = maps_find(&maps, addr);
    assert_non_null(r);
    assert_true(r->writable);
    const struct map_region *base = maps_file_base(&maps, r->path);
    assert_non_null(base);
    assert_int_equal(base->offset, 0);
    struct elf_image *img = elf_image_open(getpid(), base);
    assert_non_null(img);
    uint64_t bias, offset;
    assert_true(elf_load_bias(img, base, &bias));
    assert_true(elf_file_offset(img, addr - bias, &offset));
    /* The bytes there are the file's, from the offset the headers give. */
    assert_int_equal(r->offset + (addr - r->start), offset);
    /* No PT_LOAD covers the top of the address space. */
    assert_false(elf_file_offset(img, UINT64_MAX - 1, &offset));
    elf_image_close(img);
    /* Nothing is mapped at address 0. */
    assert_null(maps_find(&maps, 0));
    maps_free(&maps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_names),
        cmocka_unit_test(test_data_mapped_from_its_file_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
