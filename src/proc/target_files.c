/*
 * target_files.c — see target_files.h.
 *
 * The reader is a child of strobe that takes on the target's identity once,
 * says whether it could (one status byte), then serves requests over two
 * pipes until strobe closes them:
 *
 *   strobe -> child:  max (uint64), path length (uint32), path bytes
 *   child -> strobe:  status (uint8), length (uint64), that many bytes
 *
 * The parent opens the target's root and cwd (O_PATH) before forking: it
 * may look into the target (it could attach), the child, as the target's
 * user, may not always (a process that is not dumpable). Names are then
 * resolved beneath those directories with the child's rights.
 */
#include "proc/target_files.h"

#include "base/common.h"
#include "proc/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* A request's path, at most (Linux's PATH_MAX and some). */
#define REQUEST_PATH_MAX 8192
/* A file that takes this long to read (a hung network mount) ends the
 * reader rather than the report. */
#define RESPONSE_TIMEOUT_MS 5000
/* Capability sets are two 32-bit words in _LINUX_CAPABILITY_VERSION_3. */
#define CAP_WORDS 2

enum child_status {
    CHILD_FILE_OK,
    CHILD_FILE_UNREADABLE,
    CHILD_NO_IDENTITY,
};

struct target_file_reader {
    pid_t child;        /* 0: no child (it could not start, or was ended) */
    bool no_identity;   /* it could not become the target's user */
    int to_child, from_child;
};

/* The numbers of a /proc/PID/status value ("1000\t1000\t1000\t1000"), in
 * `base`: how many were read, at most max. */
static size_t parse_numbers(const char *line, int base, unsigned long long *out, size_t max)
{
    size_t n = 0;
    char *end;
    for (const char *pos = line; n < max; pos = end) {
        errno = 0;
        unsigned long long v = strtoull(pos, &end, base);
        if (end == pos || errno)
            break;
        out[n++] = v;
    }
    return n;
}

/* Uid and Gid give real, effective, saved and filesystem ids: the last is
 * the one access checks use. */
#define STATUS_IDS 4
#define STATUS_FS_ID 3

bool file_identity_of_process(pid_t pid, struct file_identity *out)
{
    char uid_line[128], gid_line[128], groups_line[512], cap_line[64];
    unsigned long long uids[STATUS_IDS], gids[STATUS_IDS], caps;
    unsigned long long groups[FILE_IDENTITY_MAX_GROUPS];
    if (!process_status_field(pid, "Uid", uid_line, sizeof(uid_line)) ||
        !process_status_field(pid, "Gid", gid_line, sizeof(gid_line)) ||
        !process_status_field(pid, "Groups", groups_line, sizeof(groups_line)) ||
        !process_status_field(pid, "CapEff", cap_line, sizeof(cap_line)) ||
        parse_numbers(uid_line, 10, uids, STATUS_IDS) != STATUS_IDS ||
        parse_numbers(gid_line, 10, gids, STATUS_IDS) != STATUS_IDS ||
        parse_numbers(cap_line, 16, &caps, 1) != 1)
        return false;
    struct file_identity id = { .pid = pid, .known = true, .uid = (uid_t)uids[STATUS_FS_ID],
                                .gid = (gid_t)gids[STATUS_FS_ID], .capabilities = caps };
    /* Groups past the cap (or a line cut short) are lost: fewer rights. */
    id.ngroups = parse_numbers(groups_line, 10, groups, FILE_IDENTITY_MAX_GROUPS);
    for (size_t i = 0; i < id.ngroups; i++)
        id.groups[i] = (gid_t)groups[i];
    *out = id;
    return true;
}

/* ---- the child ---- */

static bool same_groups(const struct file_identity *who)
{
    gid_t mine[FILE_IDENTITY_MAX_GROUPS];
    int n = getgroups(FILE_IDENTITY_MAX_GROUPS, mine);
    if (n < 0 || (size_t)n != who->ngroups)
        return false;
    for (size_t i = 0; i < who->ngroups; i++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++)
            found = mine[j] == who->groups[i];
        if (!found)
            return false;
    }
    return true;
}

/* Keep only the capabilities the target has too (none it lacks). */
static bool keep_capabilities(uint64_t allowed)
{
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[CAP_WORDS];
    if (syscall(SYS_capget, &header, data) != 0)
        return false;
    for (int i = 0; i < CAP_WORDS; i++) {
        uint32_t word = (uint32_t)(allowed >> (32 * i));
        data[i].effective &= word;
        data[i].permitted &= word;
        data[i].inheritable = 0;
    }
    return syscall(SYS_capset, &header, data) == 0;
}

/* Become `who` for file access: groups, then gid, then uid (which, leaving
 * root, drops capabilities), then no capability beyond the target's. */
static bool become(const struct file_identity *who)
{
    if (!who->known)
        return true;    /* a replay: read as whoever runs strobe */
    /* Unprivileged strobe can attach only to its own user and group, but
     * cannot drop supplementary groups the target lacks: no boundary, as a
     * process of that user may read strobe's memory as strobe reads its. */
    if (!same_groups(who) && setgroups(who->ngroups, who->groups) != 0 &&
        !(getuid() == who->uid && geteuid() == who->uid))
        return false;
    if (setresgid(who->gid, who->gid, who->gid) != 0 ||
        setresuid(who->uid, who->uid, who->uid) != 0)
        return false;
    return keep_capabilities(who->capabilities);
}

/* Open `path` beneath `dir` (the target's root for an absolute name, its
 * cwd for a relative one; -1: resolve here), as openat2 does where the
 * kernel has it: an absolute symlink inside stays inside the target's root. */
static int open_beneath(int dir, const char *path)
{
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    bool absolute = path[0] == '/';
    const char *name = path;
    if (dir >= 0 && absolute)
        while (*name == '/')
            name++;
    if (!*name)
        return -1;
    int at = dir >= 0 ? dir : AT_FDCWD;
    struct open_how how = { .flags = (uint64_t)flags, .resolve = RESOLVE_NO_MAGICLINKS };
    if (dir >= 0 && absolute)
        how.resolve |= RESOLVE_IN_ROOT;
    int fd = (int)syscall(SYS_openat2, at, name, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        fd = openat(at, name, flags);
    return fd;
}

/* A regular file not on procfs: the target could name a FIFO or a device
 * (which would block or never end), or /proc/self/environ, which would be
 * the reader's own, inherited from strobe. */
static bool is_plain_file(int fd)
{
    struct stat st;
    struct statfs fs;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fstatfs(fd, &fs) == 0 &&
           fs.f_type != PROC_SUPER_MAGIC;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    for (const char *p = buf; len;) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Read exactly len bytes, waiting at most timeout_ms (-1: for ever) for
 * each part. */
static bool read_exactly(int fd, void *buf, size_t len, int timeout_ms)
{
    for (char *p = buf; len;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        int ready = poll(&pfd, 1, timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return false;
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool respond(int out, uint8_t status, const char *data, uint64_t len)
{
    return write_all(out, &status, sizeof(status)) && write_all(out, &len, sizeof(len)) &&
           write_all(out, data, len);
}

/* Serve one request; false once strobe has gone or the pipe broke. `buf`
 * (*cap bytes) grows to the largest max asked for. */
static bool serve_request(int in, int out, int root, int cwd, char **buf, size_t *cap)
{
    uint32_t path_len;
    uint64_t max;
    char path[REQUEST_PATH_MAX + 1];
    if (!read_exactly(in, &max, sizeof(max), -1) ||
        !read_exactly(in, &path_len, sizeof(path_len), -1) || path_len > REQUEST_PATH_MAX ||
        !read_exactly(in, path, path_len, -1))
        return false;
    path[path_len] = '\0';
    if (max > *cap) {
        free(*buf);
        *buf = max < SIZE_MAX ? malloc(max) : NULL;
        *cap = *buf ? max : 0;
    }
    int fd = *buf ? open_beneath(path[0] == '/' ? root : cwd, path) : -1;
    if (fd < 0 || !is_plain_file(fd)) {
        if (fd >= 0)
            close(fd);
        return respond(out, CHILD_FILE_UNREADABLE, NULL, 0);
    }
    uint64_t got = 0;
    for (ssize_t n; got < max && (n = read(fd, *buf + got, max - got)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += (uint64_t)n;
    }
    close(fd);
    return respond(out, CHILD_FILE_OK, *buf, got);
}

/* First says whether it became `who` (one status byte), then serves. */
static void child_main(const struct file_identity *who, int in, int out, int root, int cwd)
{
    /* Ctrl-C meant for strobe ends the reader too: strobe then sees EOF. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    uint8_t status = become(who) ? CHILD_FILE_OK : CHILD_NO_IDENTITY;
    if (!write_all(out, &status, sizeof(status)) || status != CHILD_FILE_OK)
        _exit(1);
    char *buf = NULL;
    size_t cap = 0;
    while (serve_request(in, out, root, cwd, &buf, &cap))
        ;
    _exit(0);
}

/* ---- strobe's side ---- */

/* Open the target's root or cwd for the child to resolve names beneath;
 * -1 if the target is gone (names then resolve here). */
static int open_target_dir(pid_t pid, const char *which)
{
    if (pid <= 0)
        return -1;
    char path[64];
    pid_t live = process_live_task(pid);
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)(live ? live : pid), which);
    return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Read exactly len bytes from the child, each wait at most the timeout. */
static bool receive(struct target_file_reader *r, void *buf, size_t len)
{
    return read_exactly(r->from_child, buf, len, RESPONSE_TIMEOUT_MS);
}

/* The child failed or is too slow: end it; later reads fail at once. */
static void end_child(struct target_file_reader *r)
{
    if (r->to_child >= 0)
        close(r->to_child);
    if (r->from_child >= 0)
        close(r->from_child);
    r->to_child = r->from_child = -1;
    if (r->child > 0) {
        kill(r->child, SIGKILL);
        while (waitpid(r->child, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    r->child = 0;
}

/* Fork the child with its two pipes: its pid, or -1 if the system refused
 * a pipe or a process. */
static pid_t start_child(const struct file_identity *who, int *to_child, int *from_child)
{
    int requests[2], responses[2];
    if (pipe2(requests, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(responses, O_CLOEXEC) != 0) {
        close(requests[0]);
        close(requests[1]);
        return -1;
    }
    int root = open_target_dir(who->pid, "root"), cwd = open_target_dir(who->pid, "cwd");
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        close(requests[1]);
        close(responses[0]);
        child_main(who, requests[0], responses[1], root, cwd);
    }
    close(requests[0]);
    close(responses[1]);
    if (root >= 0)
        close(root);
    if (cwd >= 0)
        close(cwd);
    if (child < 0) {
        close(requests[1]);
        close(responses[0]);
        return -1;
    }
    *to_child = requests[1];
    *from_child = responses[0];
    return child;
}

struct target_file_reader *target_file_reader_open(const struct file_identity *who)
{
    int to_child = -1, from_child = -1;
    pid_t child = start_child(who, &to_child, &from_child);
    /* Allocated after the fork: the child, which never frees, holds nothing. */
    struct target_file_reader *r = xcalloc(1, sizeof(*r));
    *r = (struct target_file_reader){ .child = child > 0 ? child : 0, .to_child = to_child,
                                      .from_child = from_child };
    if (!r->child)
        return r;
    uint8_t status = CHILD_FILE_UNREADABLE;
    if (!receive(r, &status, sizeof(status)) || status != CHILD_FILE_OK) {
        r->no_identity = status == CHILD_NO_IDENTITY;
        end_child(r);
    }
    return r;
}

enum target_file_status target_file_read(struct target_file_reader *r, const char *path,
                                         size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t path_len = strlen(path);
    if (r && r->no_identity)
        return TARGET_FILE_NO_IDENTITY;
    if (!path_len || path[0] == '<' || path_len > REQUEST_PATH_MAX || !r || r->child <= 0)
        return TARGET_FILE_UNREADABLE;
    uint32_t wire_len = (uint32_t)path_len;
    uint64_t wire_max = max;
    /* The child may have died: a write to its pipe must fail, not kill. */
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    bool sent = write_all(r->to_child, &wire_max, sizeof(wire_max)) &&
                write_all(r->to_child, &wire_len, sizeof(wire_len)) &&
                write_all(r->to_child, path, path_len);
    signal(SIGPIPE, old_pipe);
    uint8_t status;
    uint64_t got;
    if (!sent || !receive(r, &status, sizeof(status)) || !receive(r, &got, sizeof(got)) ||
        got > max) {
        end_child(r);
        return TARGET_FILE_UNREADABLE;
    }
    char *buf = xmalloc(got + 1);
    if (!receive(r, buf, got)) {
        free(buf);
        end_child(r);
        return TARGET_FILE_UNREADABLE;
    }
    buf[got] = '\0';
    if (status != CHILD_FILE_OK) {
        free(buf);
        return TARGET_FILE_UNREADABLE;
    }
    *out = buf;
    *len = got;
    return TARGET_FILE_OK;
}

void target_file_reader_close(struct target_file_reader *r)
{
    if (!r)
        return;
    /* Closing its requests ends the child's loop. */
    if (r->to_child >= 0)
        close(r->to_child);
    r->to_child = -1;
    if (r->from_child >= 0)
        close(r->from_child);
    r->from_child = -1;
    if (r->child > 0)
        while (waitpid(r->child, NULL, 0) < 0 && errno == EINTR)
            ;
    free(r);
}
