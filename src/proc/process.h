/*
 * process.h — facts about the target process from /proc, and the wording of
 * errors about it.
 *
 * Liveness (so a read failure can be told apart from an exit), its owner and
 * namespace pid, its executable path, and — when the kernel refuses access —
 * an explanation of why and what to do about it.
 */
#ifndef STROBE_PROC_PROCESS_H
#define STROBE_PROC_PROCESS_H

#include "base/common.h"

#include <sys/types.h>

enum process_state {
    PROCESS_RUNNING,    /* a thread of it still has its memory */
    PROCESS_EXITED,     /* gone, ending, or a zombie waiting to be reaped */
};

/* The value of line "Key:" of /proc/PID/status (of strobe itself if pid
 * is 0), spaces before it skipped: false if there is no such line. */
bool process_status_field(pid_t pid, const char *key, char *out, size_t outlen);

/* Running while any of its threads is: its main thread may have ended
 * first (pthread_exit), leaving a zombie in /proc/PID until the others do. */
enum process_state process_state(pid_t pid);

/*
 * A thread of process `pid` that has not ended, to look at the process
 * through (its memory map, its memory, its files): pid itself while the main
 * thread runs, else another; 0 if none. A main thread that is ending or has
 * ended has no memory map (/proc/PID/maps is empty, process_vm_readv(PID)
 * fails with ESRCH), but every other thread of the process shares the one
 * it had.
 */
pid_t process_live_task(pid_t pid);

/* Does a process with this pid exist at all (zombies included)? */
bool process_exists(pid_t pid);

/* Path of the executable (/proc/PID/exe), or "?" if unreadable. */
void process_exe_path(pid_t pid, char *out, size_t outlen);

/* The pid as the target sees itself (last NSpid entry), or pid itself. */
pid_t process_ns_pid(pid_t pid);

/* The kernel ids of process pid's threads as the target sees them (inside
 * its pid namespace): at most `max`, how many stored. */
size_t process_ns_tids(pid_t pid, int32_t *out, size_t max);

/* An identity of the program image the process runs now, which changes when
 * it calls exec: the address of the random bytes the kernel gives each new
 * image (AT_RANDOM in /proc/PID/auxv; it moves with every exec under ASLR),
 * mixed with the image's entry point. 0 if unknown. */
uint64_t process_exec_id(pid_t pid);

/* The OS name of thread `tid` of `pid` (/proc/PID/task/TID/comm; Python
 * 3.14+ sets it from threading.Thread.name), or "" if it cannot be read.
 * `tid` is as the target sees it, inside its pid namespace. */
void process_thread_name(pid_t pid, uint64_t tid, char *out, size_t outlen);

/* Does running process `pid` certainly have no thread `tid` (as the target
 * sees it)? false if it has, or if /proc cannot tell (the process is gone,
 * or was never there, as for a fake target in tests). */
bool process_lacks_thread(pid_t pid, uint64_t tid);

/* Real uid of the process owner, or -1. */
long process_uid(pid_t pid);

/* One line explaining why reading process `pid` is not permitted and what to
 * do (other user, ptrace_scope, missing CAP_SYS_PTRACE, containers). */
void process_explain_denied(pid_t pid, char *out, size_t outlen);

#endif
