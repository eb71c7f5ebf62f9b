/*
 * test_report.c — the report's arithmetic: direct and cumulative counts
 * (recursion counted once per stack), percentages, time estimates from
 * sample weights, rates, error and missed accounting; and the collapsed
 * output of the same profile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "output/collapsed.h"
#include "output/heatmap.h"
#include "output/pstats.h"
#include "output/report.h"
#include "sampler/flat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    struct profile p;
    uint32_t a, b, c;   /* frame ids */
};

static uint32_t frame(struct profile *p, const char *file, const char *name, int line)
{
    uint32_t f = strtab_intern(&p->symbols.strings, file, strlen(file));
    uint32_t n = strtab_intern(&p->symbols.strings, name, strlen(name));
    return symbols_frame(&p->symbols, f, n, line, line);
}

/* Thread 11: A->B x3 (3 ms), A->B->B x1 (1 ms, recursion), A x2 (2 ms).
 * Thread 22: C x4 (4 ms). 10 thread stacks in 10 samples over 1 s. */
static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    profile_init(&fx->p);
    struct profile *p = &fx->p;
    fx->a = frame(p, "/app/main.py", "main", 10);
    fx->b = frame(p, "/app/lib/work.py", "Worker.step", 20);
    fx->c = frame(p, "/app/io.py", "read", 30);
    struct calltree *t = &p->tree;
    uint32_t r1 = calltree_root(t, 11), r2 = calltree_root(t, 22);
    uint32_t a = calltree_child(t, r1, fx->a);
    uint32_t ab = calltree_child(t, a, fx->b);
    uint32_t abb = calltree_child(t, ab, fx->b);
    calltree_add(t, ab, 3, 3 * NS_PER_MS);
    calltree_add(t, abb, 1, 1 * NS_PER_MS);
    calltree_add(t, a, 2, 2 * NS_PER_MS);
    calltree_add(t, calltree_child(t, r2, fx->c), 4, 4 * NS_PER_MS);
    p->pid = 4242;
    snprintf(p->target, sizeof(p->target), "CPython 3.12.1");
    p->stats.samples = 10;
    p->stats.thread_samples = 10;
    p->stats.thread_errors = 2;
    p->stats.errors[SAMPLE_ERROR_TORN] = 2;
    p->stats.missed = 5;
    p->stats.start_ns = 5 * NS_PER_SEC;
    p->stats.end_ns = 6 * NS_PER_SEC;
    p->stats.max_threads = 2;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    profile_free(&fx->p);
    free(fx);
    return 0;
}

static const struct flat_row *row_for(const struct flat_profile *f, uint32_t frame_id)
{
    for (size_t i = 0; i < f->count; i++)
        if (f->rows[i].frame == frame_id)
            return &f->rows[i];
    return NULL;
}

static void test_flat_counts(void **state)
{
    struct fixture *fx = *state;
    struct flat_profile f;
    flat_profile_compute(&fx->p, &f);
    assert_int_equal(f.total_samples, 10);
    assert_true(f.total_ns == 10 * NS_PER_MS);
    const struct flat_row *a = row_for(&f, fx->a), *b = row_for(&f, fx->b), *c = row_for(&f, fx->c);
    assert_non_null(a);
    assert_int_equal(a->direct, 2);
    assert_int_equal(a->cumulative, 6);
    assert_true(a->cumulative_ns == 6 * NS_PER_MS);
    /* B recurses in one stack: counted once there. */
    assert_int_equal(b->direct, 4);
    assert_int_equal(b->cumulative, 4);
    assert_int_equal(c->direct, 4);
    assert_true(c->direct_ns == 4 * NS_PER_MS);
    flat_profile_free(&f);
}

static char *render(const struct profile *p, const struct report_options *o, bool collapsed)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (collapsed) {
        collapsed_write(f, p);
    } else {
        report_write_capture_summary(f, p);
        report_write(f, p, o);
    }
    fclose(f);
    return text;
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected to find:\n%s\nin:\n%s", needle, text);
}

static void test_report_text(void **state)
{
    struct fixture *fx = *state;
    struct report_options o = { SORT_NSAMPLES, 15, true };
    char *text = render(&fx->p, &o, false);
    assert_contains(text, "Captured 10 samples in 1.00 seconds\n");
    assert_contains(text, "Sample rate: 10.00 samples/sec\n");
    /* 2 failed of 12 thread reads */
    assert_contains(text, "Error rate: 16.67% (2 stack changed while being read)\n");
    assert_contains(text, "Warning: missed 5 samples from the expected total of 15 (33.33%): "
                          "sampling could not keep up with the requested rate\n");
    assert_contains(text, "Target: PID 4242, CPython 3.12.1, 2 threads seen");
    assert_contains(text, "tottime (s)");
    /* Rows: direct/cumulative, sample%, tottime, cumul%, cumtime, base name. */
    assert_contains(text, "            2/6      20.0         0.002      60.0         0.006  main.py:10(main)\n");
    assert_contains(text, "            4/4      40.0         0.004      40.0         0.004  work.py:20(Worker.step)\n");
    assert_contains(text, "            4/4      40.0         0.004      40.0         0.004  io.py:30(read)\n");
    assert_contains(text, "Legend:");
    assert_contains(text, "Summary of Interesting Functions:");
    assert_contains(text, "4 indirect calls, 60.0% total stack presence: main.py:(main)");
    assert_contains(text, "3.0x call magnification, 4 indirect calls from 2 direct: main.py:(main)");
    /* Default order: most direct samples first, ties by name. */
    assert_true(strstr(text, "io.py:30") < strstr(text, "work.py:20"));
    assert_true(strstr(text, "work.py:20") < strstr(text, "main.py:10"));
    free(text);
}

/* Missed rounds are told by why: strobe busy, or woken late; one reason
 * alone is said plainly, two with their counts. */
static void test_report_missed_causes(void **state)
{
    struct fixture *fx = *state;
    struct report_options o = { SORT_NSAMPLES, 15, true };
    fx->p.stats.missed_waiting = 5;
    char *text = render(&fx->p, &o, false);
    assert_contains(text, "(33.33%): the kernel woke strobe late (see --sched)\n");
    free(text);
    fx->p.stats.missed_waiting = 2;
    text = render(&fx->p, &o, false);
    assert_contains(text, "(33.33%): 3 as sampling could not keep up with the requested rate, "
                          "2 as the kernel woke strobe late (see --sched)\n");
    free(text);
}

static void test_report_sort_limit_summary(void **state)
{
    struct fixture *fx = *state;
    struct report_options o = { SORT_CUMTIME, 1, false };
    char *text = render(&fx->p, &o, false);
    assert_contains(text, "main.py:10(main)");
    assert_null(strstr(text, "io.py:30(read)"));
    assert_contains(text, "(1 of 3 rows shown");
    assert_null(strstr(text, "Summary of Interesting Functions"));
    free(text);
}

static void test_collapsed(void **state)
{
    struct fixture *fx = *state;
    char *text = render(&fx->p, NULL, true);
    assert_string_equal(text,
                        "tid:22;/app/io.py:read:30 4\n"
                        "tid:11;/app/main.py:main:10;/app/lib/work.py:Worker.step:20 3\n"
                        "tid:11;/app/main.py:main:10 2\n"
                        "tid:11;/app/main.py:main:10;/app/lib/work.py:Worker.step:20;"
                        "/app/lib/work.py:Worker.step:20 1\n");
    free(text);
}

/* cProfile-style edges: recursion counts an edge once per stack. */
static void test_call_edges(void **state)
{
    struct fixture *fx = *state;
    struct flat_edges e;
    flat_edges_compute(&fx->p, &e);
    assert_int_equal(e.count, 2);   /* main->step, step->step */
    const struct flat_edge *ab = &e.edges[0], *bb = &e.edges[1];
    if (ab->caller != fx->a)
        ab = &e.edges[1], bb = &e.edges[0];
    assert_int_equal(ab->caller, fx->a);
    assert_int_equal(ab->callee, fx->b);
    assert_int_equal(ab->cumulative, 4);
    assert_int_equal(ab->direct, 3);
    assert_int_equal(ab->cumulative_ns, 4 * NS_PER_MS);
    assert_int_equal(bb->caller, fx->b);
    assert_int_equal(bb->callee, fx->b);
    assert_int_equal(bb->cumulative, 1);
    assert_int_equal(bb->direct, 1);
    flat_edges_free(&e);
}

static void test_leaves_by_thread(void **state)
{
    struct fixture *fx = *state;
    const struct calltree *t = &fx->p.tree;
    struct calltree_leaves l;
    calltree_leaves_collect(t, &l);
    assert_int_equal(l.count, 4);
    assert_int_equal(l.max_depth, 3);
    assert_int_equal(l.start[0], 0);
    assert_int_equal(l.start[1], 3);
    assert_int_equal(l.start[2], 4);
    for (size_t i = 0; i < l.count; i++)
        assert_int_equal(t->nodes[l.nodes[i]].thread, i < 3 ? 0 : 1);
    uint32_t path[4];
    size_t deepest = 0;
    for (size_t i = 0; i < 3; i++)
        if (t->nodes[l.nodes[i]].depth == 3)
            deepest = i;
    assert_int_equal(calltree_path(t, l.nodes[deepest], path), 3);
    assert_int_equal(path[0], fx->b);   /* leaf first */
    assert_int_equal(path[1], fx->b);
    assert_int_equal(path[2], fx->a);
    calltree_leaves_free(&l);
}

/* The stats file, read back by Python's own marshal: values as written,
 * including a count beyond 32 bits (marshal's long form) and a non-ASCII
 * name. */
static void test_pstats_read_by_python(void **state)
{
    struct fixture *fx = *state;
    struct profile *p = &fx->p;
    uint32_t u = frame(p, "/app/\xc3\xbc" "ber.py", "gr\xc3\xb6\xc3\x9f" "e", 7);
    uint32_t root = calltree_root(&p->tree, 33);
    calltree_add(&p->tree, calltree_child(&p->tree, root, u), 3000000000ULL, 1500 * NS_PER_MS);
    char path[] = "/tmp/strobe-test-pstats-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    pstats_write(f, p);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "python3 -c \"import marshal,sys; d=marshal.load(open(sys.argv[1],'rb'));"
             " print(d[('/app/\\u00fcber.py',7,'gr\\u00f6\\u00dfe')][:4]);"
             " print(d[('/app/lib/work.py',20,'Worker.step')][4])\" %s",
             path);
    FILE *py = popen(cmd, "r");
    assert_non_null(py);
    char out[512] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, py);
    out[n] = '\0';
    assert_int_equal(pclose(py), 0);
    unlink(path);
    assert_string_equal(out, "(3000000000, 3000000000, 1.5, 1.5)\n"
                             "{('/app/main.py', 10, 'main'): (4, 3, 0.003, 0.004),"
                             " ('/app/lib/work.py', 20, 'Worker.step'): (1, 1, 0.001, 0.001)}\n");
}

static void test_empty_profile(void **state)
{
    (void)state;
    struct profile p;
    profile_init(&p);
    struct report_options o = { SORT_NSAMPLES, 15, true };
    char *text = render(&p, &o, false);
    assert_contains(text, "Captured 0 samples in 0.00 seconds\n");
    assert_contains(text, "No samples were collected.\n");
    free(text);
    profile_free(&p);
}

/* The data-self counts of a heat map, summed over every line it shows. */
static unsigned long long heatmap_self_total(const struct profile *p)
{
    char *html = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&html, &size);
    assert_non_null(f);
    heatmap_write(f, p);
    fclose(f);
    unsigned long long total = 0;
    for (const char *at = html; (at = strstr(at, "data-self=\"")) != NULL;) {
        at += strlen("data-self=\"");
        total += strtoull(at, NULL, 10);
    }
    free(html);
    return total;
}

/* Each sample shows on one line of the heat map, the source file's last
 * line included (it was once shown twice: as itself, and again as past the
 * end of the file). */
static void test_heatmap_counts_each_line_once(void **state)
{
    (void)state;
    char path[] = "/tmp/strobe-heatmap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char SOURCE[] = "def f():\n    pass\nf()\n";
    assert_int_equal(write(fd, SOURCE, strlen(SOURCE)), (ssize_t)strlen(SOURCE));
    close(fd);
    struct profile p;
    profile_init(&p);
    uint32_t root = calltree_root(&p.tree, 1);
    uint32_t last = calltree_child(&p.tree, root, frame(&p, path, "<module>", 3));
    calltree_add(&p.tree, last, 2, 2 * NS_PER_MS);
    calltree_add(&p.tree, calltree_child(&p.tree, last, frame(&p, path, "f", 2)), 3,
                 3 * NS_PER_MS);
    calltree_add(&p.tree, calltree_child(&p.tree, root, frame(&p, path, "<module>", 9)), 4,
                 4 * NS_PER_MS);
    p.stats.samples = p.stats.thread_samples = 9;
    assert_int_equal(heatmap_self_total(&p), 9);
    profile_free(&p);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flat_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_missed_causes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_sort_limit_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collapsed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaves_by_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstats_read_by_python, setup, teardown),
        cmocka_unit_test(test_empty_profile),
        cmocka_unit_test(test_heatmap_counts_each_line_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
