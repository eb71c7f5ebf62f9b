/*
 * target.c — locating and identifying the CPython runtime; see target.h.
 */
#include "python/target.h"

#include "base/clock.h"
#include "base/cycle.h"
#include "proc/elf.h"
#include "proc/maps.h"
#include "proc/process.h"
#include "python/debug_offsets.h"
#include "python/threads.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* struct pthread is about 2 KiB in glibc; the tid lies well inside. */
#define PTHREAD_SCAN_BYTES 2048
#define PTHREAD_TID_ALIGN 4
/* Other threads whose struct pthread confirm the tid's offset, at most. */
#define TID_CHECK_THREADS 8
/* Threads of the target listed for that check, at most. */
#define TID_CHECK_MAX_TASKS 4096
/* How often an offset not yet found or confirmed is looked for again. */
#define TID_OFFSET_RETRY_NS (100 * NS_PER_MS)
/* The one version whose code-creation counter is a global variable. */
#define GLOBAL_CODE_GENERATION_MINOR 12
/* Bytes of Py_GetVersion()'s buffer to read: "3.10.13 (main, ..." */
#define VERSION_TEXT_MAX 24

enum candidate_result {
    CANDIDATE_NOT_RUNTIME,  /* no _PyRuntime in this file */
    CANDIDATE_FOUND,
    CANDIDATE_FAILED,       /* a runtime, but unusable: message in err */
};

struct attach_ctx {
    struct py_target *t;
    const struct process_maps *maps;
    char *err;
    size_t errlen;
    enum target_status fail_status;
    /* A version read from a file name, for "3.7 is not supported" when the
     * file has no _PyRuntime we recognise at all. */
    bool have_name_version;
    struct py_version name_version;
    /* A deleted file strobe was not allowed to open, to say so if no
     * runtime is found elsewhere ("" if none). */
    char unopened[TARGET_PATH_MAX];
    /* A file holding a runtime the loader has not finished mapping in
     * (runtime_in_place), for the same ("" if none). */
    char loading[TARGET_PATH_MAX];
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "python3.12", "libpython3.9.so.1.0", "python3.6m" -> version */
static bool version_from_file_name(const char *path, struct py_version *out)
{
    const char *name = base_name(path);
    const char *p = strstr(name, "python");
    if (!p)
        return false;
    p += strlen("python");
    return py_version_parse(p, out);
}

static bool is_candidate_file(const char *path, const char *exe)
{
    const char *name = base_name(path);
    if (path[0] != '/')
        return false;
    return strcmp(path, exe) == 0 || strncmp(name, "python", 6) == 0 ||
           strncmp(name, "libpython", 9) == 0;
}

/*
 * Where the runtime is looked for: first in the files named for it (the
 * executable, python*, libpython*), then in any other file the process runs
 * code from: a python binary of another name started through the dynamic
 * loader (the executable is then ld.so), or a runtime linked statically into
 * a library of another name. Only when the first finds none, as opening
 * every library costs.
 */
enum candidate_pass {
    PASS_NAMED,
    PASS_OTHER_CODE,
};

/* The base region (file offset 0, or the first) of the file that region i
 * is the first executable region of in this pass, or NULL. */
static const struct map_region *pass_candidate(const struct process_maps *maps, size_t i,
                                               enum candidate_pass pass, const char *exe)
{
    const struct map_region *r = &maps->regions[i];
    if (pass == PASS_NAMED)
        return is_candidate_file(r->path, exe) && maps_file_base(maps, r->path) == r ? r : NULL;
    if (!r->executable || r->path[0] != '/' || is_candidate_file(r->path, exe))
        return NULL;
    for (size_t j = 0; j < i; j++)
        if (maps->regions[j].executable && strcmp(maps->regions[j].path, r->path) == 0)
            return NULL;
    return maps_file_base(maps, r->path);
}

/* "3.9.18", "3.10.0rc2+" and nothing else. */
static bool is_version_string(const char *s, size_t len)
{
    size_t i = 0, dots = 0;
    if (len < 5 || s[0] != '3' || s[1] != '.')
        return false;
    for (i = 1; i < len && (isdigit((unsigned char)s[i]) || s[i] == '.'); i++)
        dots += s[i] == '.';
    if (dots != 2 || !isdigit((unsigned char)s[i - 1]))
        return false;
    for (; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '+')
            return false;
    return true;
}

struct rodata_scan {
    struct py_version found;
    bool ok;
};

static bool visit_rodata_string(void *ctx, const char *s, size_t len)
{
    struct rodata_scan *scan = ctx;
    char buf[64];
    if (len >= sizeof(buf) || !is_version_string(s, len))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    scan->ok = py_version_parse(buf, &scan->found);
    return scan->ok;
}

static enum candidate_result fail(struct attach_ctx *ctx, enum target_status st, const char *msg)
{
    snprintf(ctx->err, ctx->errlen, "%s", msg);
    ctx->fail_status = st;
    return CANDIDATE_FAILED;
}

static enum candidate_result remote_failure(struct attach_ctx *ctx, enum remote_status st)
{
    char msg[ERRMSG_MAX];
    if (st == REMOTE_DENIED) {
        process_explain_denied(ctx->t->pid, msg, sizeof(msg));
        return fail(ctx, TARGET_DENIED, msg);
    }
    if (st == REMOTE_GONE) {
        snprintf(msg, sizeof(msg), "process %d exited", (int)ctx->t->pid);
        return fail(ctx, TARGET_NO_PROCESS, msg);
    }
    snprintf(msg, sizeof(msg), "cannot read the Python runtime of process %d (%s)",
             (int)ctx->t->pid, remote_status_name(st));
    return fail(ctx, TARGET_NOT_PYTHON, msg);
}

/* 3.13+: the layout comes from the table at the start of _PyRuntime. */
static enum candidate_result layout_from_debug_offsets(struct attach_ctx *ctx, uint64_t runtime)
{
    struct py_target *t = ctx->t;
    uint8_t table[DEBUG_OFFSETS_MAX_BYTES];
    enum remote_status st = remote_read(&t->remote, runtime, table, 3 * sizeof(uint64_t));
    if (st != REMOTE_OK)
        return remote_failure(ctx, st);
    struct py_version v = py_version_from_hex(debug_offsets_version(table));
    size_t size = debug_offsets_size(v);
    char msg[ERRMSG_MAX];
    if (!py_version_supported(v) || size == 0) {
        py_version_unsupported_message(v, msg, sizeof(msg));
        return fail(ctx, TARGET_UNSUPPORTED, msg);
    }
    st = remote_read(&t->remote, runtime, table, size);
    if (st != REMOTE_OK)
        return remote_failure(ctx, st);
    if (!debug_offsets_to_layout(table, size, &t->layout, msg, sizeof(msg)))
        return fail(ctx, TARGET_UNSUPPORTED, msg);
    return CANDIDATE_FOUND;
}

/* Adopt `found` if nothing is known yet or it refines what is. */
static bool refine_version(struct py_version *v, bool known, const struct py_version *found)
{
    if (known && (found->major != v->major || found->minor != v->minor))
        return known;
    *v = *found;
    return true;
}

/* Parse the start of Py_GetVersion()'s text, "3.10.13 (main, ...". */
static bool parse_version_text(char *text, struct py_version *found)
{
    text[VERSION_TEXT_MAX] = '\0';
    size_t len = strcspn(text, " ");
    text[len] = '\0';
    return is_version_string(text, len) && py_version_parse(text, found);
}

/*
 * The full version ("3.9.18") from the interpreter's own strings: the buffer
 * Py_GetVersion() fills at start-up (a local static, so only in files that
 * keep .symtab; remembered so py_target_refine_version can read it once the
 * interpreter has started), else a version literal in .rodata. Completes (or
 * supplies) what the file name said.
 */
static bool version_from_strings(struct py_target *t, struct elf_image *img, uint64_t bias,
                                 struct py_version *v, bool known)
{
    static const char *const buffer_symbols[] = { "version.0", "version" };
    char text[VERSION_TEXT_MAX + 1];
    for (size_t i = 0; i < ARRAY_LEN(buffer_symbols); i++) {
        uint64_t sym, size;
        struct py_version found;
        if (!elf_find_symbol(img, buffer_symbols[i], &sym, &size) || size < VERSION_TEXT_MAX)
            continue;
        t->version_text_addr = sym + bias;
        if (remote_read(&t->remote, sym + bias, text, VERSION_TEXT_MAX) == REMOTE_OK &&
            parse_version_text(text, &found))
            return refine_version(v, known, &found);
        break;
    }
    struct rodata_scan scan = { .ok = false };
    elf_scan_strings(img, ".rodata", visit_rodata_string, &scan);
    return scan.ok ? refine_version(v, known, &scan.found) : known;
}

void py_target_refine_version(struct py_target *t)
{
    char text[VERSION_TEXT_MAX + 1];
    struct py_version found;
    if (t->layout.version.micro != PY_MICRO_UNKNOWN || !t->version_text_addr)
        return;
    if (remote_read(&t->remote, t->version_text_addr, text, VERSION_TEXT_MAX) == REMOTE_OK &&
        parse_version_text(text, &found))
        refine_version(&t->layout.version, true, &found);
}

/* 3.8–3.12: the version from wherever we can find it, the layout from the
 * built-in tables. */
static enum candidate_result layout_from_tables(struct attach_ctx *ctx, struct elf_image *img,
                                                const char *path, uint64_t bias)
{
    struct py_target *t = ctx->t;
    struct py_version v;
    bool known = false;
    uint64_t sym, size;
    if (elf_find_symbol(img, "Py_Version", &sym, &size)) {
        uint64_t hex = 0;
        enum remote_status st = remote_read(&t->remote, sym + bias, &hex, sizeof(uint32_t));
        if (st == REMOTE_GONE || st == REMOTE_DENIED)
            return remote_failure(ctx, st);
        if (st == REMOTE_OK && hex) {
            v = py_version_from_hex(hex);
            known = true;
        }
    }
    if (!known)
        known = version_from_file_name(path, &v);
    if (!known || v.micro == PY_MICRO_UNKNOWN)
        known = version_from_strings(t, img, bias, &v, known);
    char msg[ERRMSG_MAX];
    if (!known) {
        snprintf(msg, sizeof(msg), "found a Python runtime in %s but could not tell its version",
                 path);
        return fail(ctx, TARGET_UNSUPPORTED, msg);
    }
    const struct py_layout *table = py_version_supported(v) ? layout_legacy_for(v.minor) : NULL;
    if (!table) {
        if (py_version_supported(v))
            snprintf(msg, sizeof(msg),
                     "CPython %u.%u in %s lacks the self-description (_Py_DebugOffsets) that "
                     "release builds of this version have", v.major, v.minor, path);
        else
            py_version_unsupported_message(v, msg, sizeof(msg));
        return fail(ctx, TARGET_UNSUPPORTED, msg);
    }
    t->layout = *table;
    t->layout.version = v;
    layout_finish(&t->layout);
    if (v.minor == GLOBAL_CODE_GENERATION_MINOR &&
        elf_find_symbol(img, "_Py_next_func_version", &sym, &size) && size == sizeof(uint32_t))
        t->code_generation_addr = sym + bias;
    return CANDIDATE_FOUND;
}

/* The newest thread state, which the check reads, can be freed between
 * reading the pointer to it and reading it (a program starting and ending
 * threads all the time): a layout is only judged wrong after this many
 * looks, this far apart, all fail. */
#define VALIDATE_LOOKS 8
#define VALIDATE_LOOK_GAP_NS NS_PER_MS

/* One look at live data: does a thread of the first interpreter point back
 * at it? REMOTE_OK with *agrees set, or why it could not be read. */
static enum remote_status layout_agrees(struct py_target *t, bool *agrees)
{
    const struct py_layout *l = &t->layout;
    uint64_t interp = 0, tstate = 0, back = 0;
    enum remote_status st =
        remote_read_u64(&t->remote, t->runtime_addr + l->runtime.interpreters_head, &interp);
    if (st == REMOTE_OK && interp)
        st = remote_read_u64(&t->remote, interp + l->interp.threads_head, &tstate);
    if (st == REMOTE_OK && interp && tstate)
        st = remote_read_u64(&t->remote, tstate + l->tstate.interp, &back);
    /* Quietly agrees while the interpreter is not up. */
    *agrees = st == REMOTE_OK && (!interp || !tstate || back == interp);
    return st;
}

/* Check the layout against live data (layout_agrees), a few times over. */
static enum candidate_result validate_layout(struct attach_ctx *ctx)
{
    struct py_target *t = ctx->t;
    for (int look = 0; look < VALIDATE_LOOKS; look++) {
        if (look)
            clock_sleep_ns(VALIDATE_LOOK_GAP_NS);
        bool agrees;
        enum remote_status st = layout_agrees(t, &agrees);
        if (st == REMOTE_GONE || st == REMOTE_DENIED)
            return remote_failure(ctx, st);
        if (agrees)
            return CANDIDATE_FOUND;
    }
    const struct py_layout *l = &t->layout;
    char vs[32], msg[ERRMSG_MAX];
    py_version_format(l->version, vs, sizeof(vs));
    snprintf(msg, sizeof(msg),
             "the CPython %s runtime in %s does not have the expected memory layout "
             "(an unusual build?)", vs, t->runtime_file);
    return fail(ctx, TARGET_UNSUPPORTED, msg);
}

/*
 * Is the runtime (link-time address link_addr, run-time t->runtime_addr)
 * mapped as a finished load leaves it: writable, and, where the file backs
 * it, from the file offset the ELF headers give? The dynamic loader first
 * maps a library's whole span read-only from the file's start, then maps
 * each segment over it at its own offset; a process caught in between (a
 * program just launched, or just exec'd, and descheduled there) shows other
 * bytes of the file at the runtime's address. Judged on those, a good
 * layout would be refused as wrong.
 */
static bool runtime_in_place(const struct attach_ctx *ctx, const struct map_region *base,
                             struct elf_image *img, uint64_t link_addr)
{
    const struct map_region *r = maps_find(ctx->maps, ctx->t->runtime_addr);
    if (!r || !r->writable)
        return false;
    if (r->inode != base->inode || strcmp(r->path, base->path) != 0)
        return r->path[0] == '\0';  /* .bss beyond the file's last page */
    uint64_t offset;
    return elf_file_offset(img, link_addr, &offset) &&
           r->offset + (ctx->t->runtime_addr - r->start) == offset;
}

/* `named`: a file named for the runtime, whose name may give its version
 * ("python3.7") for a refusal if it has no runtime we recognise. */
static enum candidate_result try_candidate(struct attach_ctx *ctx, const struct map_region *base,
                                           bool named)
{
    struct py_target *t = ctx->t;
    struct py_version name_version;
    if (named && !ctx->have_name_version && version_from_file_name(base->path, &name_version)) {
        ctx->name_version = name_version;
        ctx->have_name_version = true;
    }
    struct elf_image *img = elf_image_open(t->pid, base);
    if (!img) {
        if (elf_region_deleted(base) && (errno == EPERM || errno == EACCES))
            snprintf(ctx->unopened, sizeof(ctx->unopened), "%.*s",
                     (int)(strlen(base->path) - strlen(ELF_DELETED_SUFFIX)), base->path);
        return CANDIDATE_NOT_RUNTIME;
    }
    enum candidate_result result = CANDIDATE_NOT_RUNTIME;
    uint64_t bias, addr, size;
    bool has_runtime = elf_find_section(img, ".PyRuntime", &addr, &size) ||
                       elf_find_symbol(img, "_PyRuntime", &addr, &size);
    if (has_runtime && elf_load_bias(img, base, &bias)) {
        t->runtime_addr = addr + bias;
        snprintf(t->runtime_file, sizeof(t->runtime_file), "%s", base->path);
        if (!runtime_in_place(ctx, base, img, addr)) {
            snprintf(ctx->loading, sizeof(ctx->loading), "%s", base->path);
            elf_image_close(img);
            return CANDIDATE_NOT_RUNTIME;
        }
        uint64_t code_type, code_type_size;
        t->code_type = elf_find_symbol(img, "PyCode_Type", &code_type, &code_type_size)
                           ? code_type + bias : 0;
        char cookie[DEBUG_OFFSETS_COOKIE_LEN];
        enum remote_status st = remote_read(&t->remote, t->runtime_addr, cookie, sizeof(cookie));
        if (st != REMOTE_OK)
            result = remote_failure(ctx, st);
        else if (debug_offsets_present(cookie, sizeof(cookie)))
            result = layout_from_debug_offsets(ctx, t->runtime_addr);
        else
            result = layout_from_tables(ctx, img, base->path, bias);
        if (result == CANDIDATE_FOUND)
            result = validate_layout(ctx);
    }
    elf_image_close(img);
    return result;
}

enum target_status py_target_attach(struct py_target *t, pid_t pid, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    t->pthread_tid_offset = OFFSET_NONE;
    remote_init(&t->remote, pid);
    if (!process_exists(pid)) {
        snprintf(err, errlen, "no process with PID %d", (int)pid);
        return TARGET_NO_PROCESS;
    }
    if (process_state(pid) == PROCESS_EXITED) {
        snprintf(err, errlen, "process %d has exited (its parent has not yet reaped it)",
                 (int)pid);
        return TARGET_NO_PROCESS;
    }
    struct process_maps maps;
    int rc = maps_read(pid, &maps);
    if (rc == -ENOENT || rc == -ESRCH) {
        snprintf(err, errlen, "no process with PID %d", (int)pid);
        return TARGET_NO_PROCESS;
    }
    if (rc == -EACCES || rc == -EPERM) {
        process_explain_denied(pid, err, errlen);
        return TARGET_DENIED;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the memory map of process %d: %s", (int)pid,
                 strerror(-rc));
        return TARGET_NOT_PYTHON;
    }
    char exe[TARGET_PATH_MAX];
    process_exe_path(pid, exe, sizeof(exe));

    struct attach_ctx ctx = { .t = t, .maps = &maps, .err = err, .errlen = errlen,
                              .fail_status = TARGET_NOT_PYTHON };
    enum target_status status = TARGET_NOT_PYTHON;
    bool failed = false;
    for (enum candidate_pass pass = PASS_NAMED; pass <= PASS_OTHER_CODE && !failed; pass++) {
        for (size_t i = 0; i < maps.count && status != TARGET_OK; i++) {
            const struct map_region *base = pass_candidate(&maps, i, pass, exe);
            if (!base)
                continue;
            enum candidate_result res = try_candidate(&ctx, base, pass == PASS_NAMED);
            if (res == CANDIDATE_FOUND)
                status = TARGET_OK;
            else if (res == CANDIDATE_FAILED)
                failed = true;
            if (failed &&
                (ctx.fail_status == TARGET_DENIED || ctx.fail_status == TARGET_NO_PROCESS))
                break;
        }
        if (status == TARGET_OK)
            break;
    }
    maps_free(&maps);
    if (status == TARGET_OK) {
        py_target_find_tid_offset(t);
        return TARGET_OK;
    }
    if (failed)
        return ctx.fail_status;
    if (ctx.have_name_version && !py_version_supported(ctx.name_version)) {
        py_version_unsupported_message(ctx.name_version, err, errlen);
        return TARGET_UNSUPPORTED;
    }
    if (ctx.unopened[0]) {
        snprintf(err, errlen,
                 "no CPython runtime found in process %d (%s): %s was deleted or replaced "
                 "since it was loaded, and opening it through /proc/%d/map_files needs "
                 "CAP_SYS_ADMIN; run strobe as root", (int)pid, exe, ctx.unopened, (int)pid);
        return TARGET_NOT_PYTHON;
    }
    if (ctx.loading[0]) {
        snprintf(err, errlen,
                 "process %d (%s) was still loading its CPython runtime (%s) when strobe "
                 "looked", (int)pid, exe, ctx.loading);
        return TARGET_NOT_PYTHON;
    }
    snprintf(err, errlen, "no CPython runtime found in process %d (%s)", (int)pid, exe);
    return TARGET_NOT_PYTHON;
}

void py_target_describe(const struct py_target *t, char *out, size_t outlen)
{
    char vs[32];
    py_version_format(t->layout.version, vs, sizeof(vs));
    snprintf(out, outlen, "CPython %s", vs);
}

/*
 * The struct pthread of up to `max` threads other than the main one
 * (thread_id, 3.8-3.10), from the main interpreter's list of thread
 * states, read straight from the target (a rare, cold path).
 */
static size_t other_pthreads(struct py_target *t, uint64_t main_thread, uint64_t *out,
                             size_t max)
{
    const struct py_layout *l = &t->layout;
    uint64_t interp = 0, tstate = 0;
    if (remote_read_u64(&t->remote, t->runtime_addr + l->runtime.interpreters_head, &interp) !=
            REMOTE_OK || !interp ||
        remote_read_u64(&t->remote, interp + l->interp.threads_head, &tstate) != REMOTE_OK)
        return 0;
    struct cycle_check cycle;
    cycle_check_init(&cycle);
    size_t n = 0;
    for (size_t steps = 0; tstate && steps < PY_MAX_THREADS && n < max; steps++) {
        uint64_t pthread = 0;
        if (cycle_check_step(&cycle, tstate) ||
            remote_read_u64(&t->remote, tstate + l->tstate.thread_id, &pthread) != REMOTE_OK)
            break;
        if (pthread && pthread != main_thread)
            out[n++] = pthread;
        if (remote_read_u64(&t->remote, tstate + l->tstate.next, &tstate) != REMOTE_OK)
            break;
    }
    return n;
}

static bool tid_listed(const int32_t *tids, size_t ntids, int32_t tid)
{
    for (size_t i = 0; i < ntids; i++)
        if (tids[i] == tid)
            return true;
    return false;
}

/*
 * Does `offset` hold every other thread's kernel id? Each must be a thread
 * of the process, not the main thread's id; 0 (a thread that has ended)
 * says nothing, and at least one must say yes.
 */
static bool tid_offset_fits(uint32_t offset, int32_t main_tid, uint8_t (*others)[PTHREAD_SCAN_BYTES],
                            size_t nothers, const int32_t *tids, size_t ntids)
{
    size_t confirmed = 0;
    for (size_t i = 0; i < nothers; i++) {
        int32_t v;
        memcpy(&v, others[i] + offset, sizeof(v));
        if (v == 0)
            continue;
        if (v == main_tid || !tid_listed(tids, ntids, v))
            return false;
        confirmed++;
    }
    return confirmed > 0;
}

/*
 * The main thread's kernel id is the process id (as the target sees it,
 * inside its pid namespace), so the tid field is where the main thread's
 * struct pthread holds that value. Other fields can hold it too when it is
 * small: as PID 1 of a container, glibc's multiple_threads flag (1 once a
 * second thread starts) comes first. So while the target has other
 * threads, the offset must also hold each one's own id; with none yet, the
 * first match is taken provisionally and checked again later. A main
 * thread that has ended holds 0 there; the other threads still say where.
 */
void py_target_find_tid_offset(struct py_target *t)
{
    const struct py_layout *l = &t->layout;
    if (l->tstate.native_thread_id != OFFSET_NONE || l->runtime.main_thread == OFFSET_NONE)
        return;
    if (t->pthread_tid_offset != OFFSET_NONE && !t->pthread_tid_provisional)
        return;
    uint64_t now = clock_now_ns();
    if (t->pthread_tid_tried_ns && now - t->pthread_tid_tried_ns < TID_OFFSET_RETRY_NS)
        return;
    /* Until the runtime names its main thread (a program just launched),
     * every call looks again: it costs one small read. */
    uint64_t main_thread = 0;
    if (remote_read_u64(&t->remote, t->runtime_addr + l->runtime.main_thread, &main_thread) !=
            REMOTE_OK || !main_thread)
        return;
    t->pthread_tid_tried_ns = now;
    uint8_t main_buf[PTHREAD_SCAN_BYTES];
    if (remote_read(&t->remote, main_thread, main_buf, sizeof(main_buf)) != REMOTE_OK)
        return;
    uint64_t pthreads[TID_CHECK_THREADS];
    size_t nothers = 0;
    uint8_t (*others)[PTHREAD_SCAN_BYTES] = xmalloc(TID_CHECK_THREADS * sizeof(*others));
    size_t listed = other_pthreads(t, main_thread, pthreads, TID_CHECK_THREADS);
    for (size_t i = 0; i < listed; i++)
        if (remote_read(&t->remote, pthreads[i], others[nothers], PTHREAD_SCAN_BYTES) == REMOTE_OK)
            nothers++;
    int32_t tids[TID_CHECK_MAX_TASKS];
    size_t ntids = nothers ? process_ns_tids(t->pid, tids, TID_CHECK_MAX_TASKS) : 0;
    int32_t want = (int32_t)process_ns_pid(t->pid);
    /* A main thread that has ended (pthread_exit, the others going on) has
     * its id cleared by the kernel: then only the others can tell. */
    bool main_ended = process_live_task(t->pid) != t->pid;
    int32_t main_holds = main_ended ? 0 : want;
    if (main_ended && !nothers) {
        free(others);
        return;
    }
    for (uint32_t off = 0; off + sizeof(int32_t) <= sizeof(main_buf); off += PTHREAD_TID_ALIGN) {
        int32_t v;
        memcpy(&v, main_buf + off, sizeof(v));
        if (v != main_holds ||
            (nothers && !tid_offset_fits(off, want, others, nothers, tids, ntids)))
            continue;
        t->pthread_tid_offset = off;
        t->pthread_tid_provisional = nothers == 0;
        break;
    }
    free(others);
}
