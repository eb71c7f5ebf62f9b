/*
 * target_files.h — reading a file the target names (a code object's file
 * name, for the heat map's source text) with the target's rights, not
 * strobe's.
 *
 * A file name is whatever string the target chose: strobe, often root or
 * holding CAP_SYS_PTRACE, must not become its confused deputy and copy
 * /etc/shadow or its own /proc/self/environ into a report the target's
 * user may read. So a file is read in a child process that has taken on
 * the target's filesystem identity (uid, gid, groups) and has no capability
 * the target lacks; it is resolved in the target's root (a container's
 * files) and cwd; and a file on procfs, whose contents depend on who reads
 * it, is refused whoever reads it.
 */
#ifndef STROBE_PROC_TARGET_FILES_H
#define STROBE_PROC_TARGET_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* More supplementary groups are dropped: fewer rights, never more. */
#define FILE_IDENTITY_MAX_GROUPS 64

/*
 * Whose rights a target's files are read with. `pid`: the process whose
 * root and cwd resolve file names while it runs (0: none, names resolve
 * here). `known`: uid/gid/groups/capabilities were read off the target;
 * false (a replayed recording) reads as strobe itself.
 */
struct file_identity {
    pid_t pid;
    bool known;
    uid_t uid;          /* the filesystem ids: what access checks use */
    gid_t gid;
    size_t ngroups;
    gid_t groups[FILE_IDENTITY_MAX_GROUPS];
    uint64_t capabilities;  /* effective set, one bit per capability */
};

/* Take the filesystem identity of running process `pid` into `out`
 * (out->pid = pid). false, `out` untouched, if /proc does not tell. */
bool file_identity_of_process(pid_t pid, struct file_identity *out);

enum target_file_status {
    TARGET_FILE_OK,
    TARGET_FILE_UNREADABLE,     /* missing, not a regular file, not allowed,
                                   on procfs, or too slow to read */
    TARGET_FILE_NO_IDENTITY,    /* strobe could not take on the target's
                                   identity (it lacks CAP_SETUID/SETGID) */
};

/* The child reading files as `who`; one serves every file of a report. */
struct target_file_reader;

/* Start a reader (the child is forked here). NULL only if the system
 * refuses a pipe or a process; each read then fails. */
struct target_file_reader *target_file_reader_open(const struct file_identity *who);

/*
 * Read at most `max` bytes of `path` as the reader's identity could (see
 * above) into a new NUL-terminated buffer (*out, length *len; free() it).
 * A name that is empty or starts with '<' ("<string>") is no file.
 */
enum target_file_status target_file_read(struct target_file_reader *r, const char *path,
                                         size_t max, char **out, size_t *len);

/* End the child and free the reader (NULL is fine). */
void target_file_reader_close(struct target_file_reader *r);

#endif
