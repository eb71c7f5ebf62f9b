/*
 * process.c — /proc facts and permission diagnostics; see process.h.
 */
#include "proc/process.h"

#include "base/hash.h"
#include "base/utf8.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_SYS_PTRACE_BIT 19
#define PTRACE_SCOPE_FILE "/proc/sys/kernel/yama/ptrace_scope"
/* The auxiliary vector has a few dozen (type, value) pairs. */
#define AUXV_MAX_WORDS 128

bool process_status_field(pid_t pid, const char *key, char *out, size_t outlen)
{
    char path[64];
    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[512];
    size_t klen = strlen(key);
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *v = line + klen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(out, outlen, "%s", v);
            out[strcspn(out, "\n")] = '\0';
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

/* Call visit(ctx, tid) for each thread of process pid (its id here) until
 * it returns false. */
static void for_each_task(pid_t pid, bool (*visit)(void *ctx, pid_t tid), void *ctx)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end == '\0' && tid > 0 && tid <= INT32_MAX && !visit(ctx, (pid_t)tid))
            break;
    }
    closedir(dir);
}

/* Is task `tid` (a process or one of its threads) there with the process's
 * memory, so that reading through it works? An ending thread lets go of
 * the memory (exit_mm) some time before it shows as a zombie, and
 * /proc/TID/status lists VmSize only while the task has it: a main thread
 * caught in between failed every read while its worker thread ran on. */
static bool task_has_memory(pid_t tid)
{
    char size[64];
    return process_status_field(tid, "VmSize", size, sizeof(size));
}

static bool find_live_task(void *ctx, pid_t tid)
{
    pid_t *found = ctx;
    if (task_has_memory(tid))
        *found = tid;
    return !*found;
}

pid_t process_live_task(pid_t pid)
{
    if (task_has_memory(pid))
        return pid;
    /* The main thread may end (pthread_exit) while the others go on: the
     * kernel then keeps it as a zombie, without the memory it shared with
     * them, until the last one ends. */
    pid_t found = 0;
    for_each_task(pid, find_live_task, &found);
    return found;
}

enum process_state process_state(pid_t pid)
{
    return process_live_task(pid) ? PROCESS_RUNNING : PROCESS_EXITED;
}

bool process_exists(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

void process_exe_path(pid_t pid, char *out, size_t outlen)
{
    char link[64];
    pid_t live = process_live_task(pid);
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)(live ? live : pid));
    ssize_t n = readlink(link, out, outlen - 1);
    if (n <= 0) {
        /* Not allowed to resolve exe: fall back to the command name. */
        char comm[64];
        if (process_status_field(pid, "Name", comm, sizeof(comm)))
            snprintf(out, outlen, "%s", comm);
        else
            snprintf(out, outlen, "?");
        return;
    }
    out[n] = '\0';
}

pid_t process_ns_pid(pid_t pid)
{
    char v[256];
    if (!process_status_field(pid, "NSpid", v, sizeof(v)))
        return pid;
    const char *last = strrchr(v, '\t');
    last = last ? last + 1 : v;
    long n = strtol(last, NULL, 10);
    return n > 0 ? (pid_t)n : pid;
}

struct ns_tid_list {
    int32_t *out;
    size_t count, max;
};

static bool add_ns_tid(void *ctx, pid_t tid)
{
    struct ns_tid_list *list = ctx;
    /* /proc/TID/status is the thread's own, NSpid included. */
    list->out[list->count++] = (int32_t)process_ns_pid(tid);
    return list->count < list->max;
}

size_t process_ns_tids(pid_t pid, int32_t *out, size_t max)
{
    struct ns_tid_list list = { out, 0, max };
    if (max)
        for_each_task(pid, add_ns_tid, &list);
    return list.count;
}

uint64_t process_exec_id(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint64_t aux[AUXV_MAX_WORDS];
    ssize_t n = read(fd, aux, sizeof(aux));
    close(fd);
    uint64_t random = 0, entry = 0;
    for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof(uint64_t) && aux[i] != AT_NULL; i += 2) {
        if (aux[i] == AT_RANDOM)
            random = aux[i + 1];
        else if (aux[i] == AT_ENTRY)
            entry = aux[i + 1];
    }
    return random ? hash_u64(random ^ hash_u64(entry)) : 0;
}

long process_uid(pid_t pid)
{
    char v[128];
    if (!process_status_field(pid, "Uid", v, sizeof(v)))
        return -1;
    return strtol(v, NULL, 10);
}

static bool have_cap_sys_ptrace(void)
{
    char v[64];
    if (!process_status_field(0, "CapEff", v, sizeof(v)))
        return false;
    unsigned long long caps = strtoull(v, NULL, 16);
    return (caps >> CAP_SYS_PTRACE_BIT) & 1;
}

static int ptrace_scope(void)
{
    FILE *f = fopen(PTRACE_SCOPE_FILE, "re");
    if (!f)
        return -1;
    char line[32];
    int scope = -1;
    if (fgets(line, sizeof(line), f)) {
        char *end;
        long v = strtol(line, &end, 10);
        if (end != line && v >= 0 && v <= 3)
            scope = (int)v;
    }
    fclose(f);
    return scope;
}

void process_explain_denied(pid_t pid, char *out, size_t outlen)
{
    long target_uid = process_uid(pid);
    uid_t me = geteuid();
    bool cap = have_cap_sys_ptrace();
    int scope = ptrace_scope();

    if (!cap && target_uid >= 0 && (uid_t)target_uid != me) {
        snprintf(out, outlen,
                 "permission denied: process %d belongs to uid %ld and strobe runs as uid %u; "
                 "run strobe as that user or as root (sudo strobe attach %d), "
                 "or give it CAP_SYS_PTRACE",
                 (int)pid, target_uid, (unsigned)me, (int)pid);
    } else if (!cap && scope == 1) {
        snprintf(out, outlen,
                 "permission denied: kernel.yama.ptrace_scope is 1, which only lets a process "
                 "read its own descendants; launch the program with 'strobe run', run strobe as "
                 "root, or allow it with 'sudo sysctl kernel.yama.ptrace_scope=0'");
    } else if (!cap && scope == 2) {
        snprintf(out, outlen,
                 "permission denied: kernel.yama.ptrace_scope is 2 (admin only); run strobe as "
                 "root or give it CAP_SYS_PTRACE");
    } else if (scope == 3) {
        snprintf(out, outlen,
                 "permission denied: kernel.yama.ptrace_scope is 3, which forbids reading other "
                 "processes' memory until reboot; use 'strobe run' or change it at boot");
    } else if (!cap && me == 0) {
        snprintf(out, outlen,
                 "permission denied: strobe runs as root but without CAP_SYS_PTRACE, as in a "
                 "container; start the container with --cap-add=SYS_PTRACE (Docker) or "
                 "securityContext.capabilities.add: [SYS_PTRACE] (Kubernetes)");
    } else if (!cap) {
        snprintf(out, outlen,
                 "permission denied reading process %d: it may have made itself undumpable "
                 "(setuid, prctl PR_SET_DUMPABLE); run strobe as root or with CAP_SYS_PTRACE",
                 (int)pid);
    } else {
        snprintf(out, outlen,
                 "permission denied reading process %d although strobe has CAP_SYS_PTRACE: "
                 "in a container, the target must be visible (docker run --pid=host or the same "
                 "pod) and strobe needs --cap-add=SYS_PTRACE; otherwise a security module "
                 "(AppArmor, SELinux, seccomp) forbids process_vm_readv",
                 (int)pid);
    }
}

/* A search of a process's threads for the one with a namespace id. */
struct ns_tid_search {
    uint64_t ns_tid;
    pid_t found;
};

static bool match_ns_tid(void *ctx, pid_t tid)
{
    struct ns_tid_search *search = ctx;
    if ((uint64_t)process_ns_pid(tid) == search->ns_tid)
        search->found = tid;
    return !search->found;
}

/*
 * The id here of thread `ns_tid` as the target sees it (in its own pid
 * namespace, as a container's processes do, the interpreter and glibc
 * know only those ids): its own id when the namespaces are the same, else
 * the task whose NSpid ends with it; 0 if none.
 */
static pid_t host_tid(pid_t pid, uint64_t ns_tid)
{
    if (process_ns_pid(pid) == pid)
        return (pid_t)ns_tid;
    struct ns_tid_search search = { ns_tid, 0 };
    for_each_task(pid, match_ns_tid, &search);
    return search.found;
}

void process_thread_name(pid_t pid, uint64_t tid, char *out, size_t outlen)
{
    out[0] = '\0';
    pid_t here = tid <= INT32_MAX ? host_tid(pid, tid) : 0;
    if (!here)
        return;
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)here);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    unsigned char raw[64];
    ssize_t n = read(fd, raw, sizeof(raw));
    close(fd);
    /* The kernel cuts names at 15 bytes, maybe inside a character, and
     * keeps any bytes the target chose, controls and line breaks too. */
    size_t len = n > 0 ? (size_t)n : 0;
    while (len && (raw[len - 1] == '\n' || raw[len - 1] == '\0'))
        len--;
    utf8_clean(raw, len, out, outlen);
}

bool process_lacks_thread(pid_t pid, uint64_t tid)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    if (access(path, F_OK) != 0)
        return false;
    pid_t here = tid <= INT32_MAX ? host_tid(pid, tid) : 0;
    if (here) {
        snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)here);
        if (access(path, F_OK) == 0)
            return false;
    }
    /* The process may have ended meanwhile, taking its threads with it. */
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    return access(path, F_OK) == 0;
}
