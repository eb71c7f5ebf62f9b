/*
 * target.h — finding the CPython runtime inside a process.
 *
 * Attaching means answering, from outside and without running anything in
 * the target: which mapped file holds the interpreter (the python executable
 * or libpython), where its _PyRuntime lives, which CPython version it is and
 * so which layout applies. The order of evidence for the version:
 *   1. the _Py_DebugOffsets cookie at the start of .PyRuntime (3.13+),
 *   2. the Py_Version symbol (3.11+),
 *   3. the file name (libpython3.9.so, python3.10),
 *   4. a version string in the file's .rodata.
 * strobe never executes the target's binary to ask it.
 */
#ifndef STROBE_PYTHON_TARGET_H
#define STROBE_PYTHON_TARGET_H

#include "proc/memory.h"
#include "python/layout.h"

#include <sys/types.h>

#define TARGET_PATH_MAX 4096

enum target_status {
    TARGET_OK,
    TARGET_NO_PROCESS,      /* no such pid */
    TARGET_DENIED,          /* not allowed to read it */
    TARGET_NOT_PYTHON,      /* no CPython runtime found (yet) */
    TARGET_UNSUPPORTED,     /* a CPython strobe cannot profile */
};

struct py_target {
    pid_t pid;
    struct remote remote;
    struct py_layout layout;
    uint64_t runtime_addr;      /* remote &_PyRuntime */
    uint64_t code_type;         /* remote &PyCode_Type, 0 if unknown */
    /* 3.8–3.10: offset of the kernel thread id inside glibc's struct pthread,
     * found by looking for the main thread's id; OFFSET_NONE until found.
     * Provisional while no other thread could confirm it (target.c); when
     * it was last looked for. */
    uint32_t pthread_tid_offset;
    bool pthread_tid_provisional;
    uint64_t pthread_tid_tried_ns;
    char runtime_file[TARGET_PATH_MAX];     /* file holding the runtime */
    /* <= 3.10: Py_GetVersion()'s buffer, filled once the interpreter has
     * started; 0 if the file has no symbol for it. */
    uint64_t version_text_addr;
    /* 3.12: the global _Py_next_func_version (a u32 bumped for every code
     * object created), when the file keeps .symtab; else 0. */
    uint64_t code_generation_addr;
    /* The first interpreter as last read, and when (see threads.c). */
    uint64_t interp_head;
    uint64_t interp_head_read_ns;
};

/*
 * Find the runtime in process `pid`. On failure returns why, with a one-line
 * message in err (without the "strobe: " prefix).
 */
enum target_status py_target_attach(struct py_target *t, pid_t pid, char *err, size_t errlen);

/* "CPython 3.12.1" or "CPython 3.10" */
void py_target_describe(const struct py_target *t, char *out, size_t outlen);

/* If only major.minor are known, try to learn the micro version from the
 * running interpreter; cheap to call when known. */
void py_target_refine_version(struct py_target *t);

/* Try (again) to learn or confirm pthread_tid_offset: cheap to call when
 * known, and looks again at most every TID_OFFSET_RETRY_NS otherwise. */
void py_target_find_tid_offset(struct py_target *t);

#endif
