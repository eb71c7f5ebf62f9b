/*
 * sink.c — see sink.h.
 */
#include "output/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP_SUFFIX ".strobe-tmp-XXXXXX"
#define PROBE_NAME "/.strobe-probe-XXXXXX"
#define OUTPUT_FILE_MODE 0644

static bool open_failed(struct sink *s, const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    free(s->path);
    free(s->tmp_path);
    memset(s, 0, sizeof(*s));
    return false;
}

/* An existing output that is not a regular file (a device, a pipe): write
 * to it as it is. */
static bool open_in_place(struct sink *s, const char *path, char *err, size_t errlen)
{
    s->path = xstrdup(path);
    s->f = fopen(path, "w");
    if (!s->f)
        return open_failed(s, path, err, errlen);
    return true;
}

/* Is `st` the file open on `fd`? */
static bool is_open_on(const struct stat *st, int fd)
{
    struct stat open_st;
    return fstat(fd, &open_st) == 0 && open_st.st_dev == st->st_dev &&
           open_st.st_ino == st->st_ino;
}

bool sink_open(struct sink *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!path || strcmp(path, "-") == 0) {
        s->f = stdout;
        return true;
    }
    struct stat st;
    bool exists = stat(path, &st) == 0;
    /* /dev/stdout and the like: strobe's own standard output or error,
     * which may be a file the shell appends to. Write through the open
     * stream; opening the path again would truncate that file, and
     * replacing it would lose what was there. */
    if (exists && is_open_on(&st, STDOUT_FILENO)) {
        s->f = stdout;
        return true;
    }
    if (exists && is_open_on(&st, STDERR_FILENO)) {
        s->f = stderr;
        return true;
    }
    if (exists && !S_ISREG(st.st_mode))
        return open_in_place(s, path, err, errlen);
    /* Through a symbolic link to a file, replace the file, not the link. */
    char *resolved = realpath(path, NULL);
    s->path = resolved ? resolved : xstrdup(path);
    size_t len = strlen(s->path);
    s->tmp_path = xmalloc(len + sizeof(TMP_SUFFIX));
    memcpy(s->tmp_path, s->path, len);
    memcpy(s->tmp_path + len, TMP_SUFFIX, sizeof(TMP_SUFFIX));
    int fd = mkstemp(s->tmp_path);
    if (fd < 0)
        return open_failed(s, path, err, errlen);
    /* mkstemp creates 0600; an output file should be readable like any other. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, OUTPUT_FILE_MODE & ~mask);
    s->f = fdopen(fd, "w");
    if (!s->f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        sink_abort(s);
        return false;
    }
    return true;
}

void sink_abort(struct sink *s)
{
    if (s->path && s->f)
        fclose(s->f);
    if (s->tmp_path)
        unlink(s->tmp_path);
    free(s->path);
    free(s->tmp_path);
    memset(s, 0, sizeof(*s));
}

bool sink_close(struct sink *s, char *err, size_t errlen)
{
    if (!s->path) {
        bool ok = fflush(s->f) == 0 && !ferror(s->f);
        if (!ok)
            snprintf(err, errlen, "cannot write to standard %s: %s",
                     s->f == stderr ? "error" : "output", strerror(errno));
        return ok;
    }
    bool ok = fflush(s->f) == 0 && !ferror(s->f);
    /* Durable before it replaces the old file (a device cannot be synced). */
    if (ok && s->tmp_path)
        ok = fsync(fileno(s->f)) == 0;
    int saved = errno;
    ok = (fclose(s->f) == 0) && ok;
    s->f = NULL;
    if (ok && s->tmp_path && rename(s->tmp_path, s->path) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", s->path, strerror(saved ? saved : EIO));
        if (s->tmp_path)
            unlink(s->tmp_path);
    }
    free(s->path);
    free(s->tmp_path);
    memset(s, 0, sizeof(*s));
    return ok;
}

/* Where `path` leads: the file itself if it exists, else its directory's
 * real path with its name. Newly allocated. */
static char *resolved_path(const char *path)
{
    char *resolved = realpath(path, NULL);
    if (resolved)
        return resolved;
    char *dir_copy = xstrdup(path), *name_copy = xstrdup(path);
    char *dir = realpath(dirname(dir_copy), NULL);
    const char *name = basename(name_copy);
    char *joined;
    if (dir) {
        size_t len = strlen(dir) + strlen(name) + 2;
        joined = xmalloc(len);
        snprintf(joined, len, "%s/%s", dir, name);
    } else {
        joined = xstrdup(path);
    }
    free(dir);
    free(dir_copy);
    free(name_copy);
    return joined;
}

/* Can a file be created in directory `dir`? A probe file is made and
 * removed: nothing else is touched. */
static bool can_create_in(const char *dir)
{
    size_t len = strlen(dir) + sizeof(PROBE_NAME);
    char *probe = xmalloc(len);
    snprintf(probe, len, "%s%s", dir, PROBE_NAME);
    int fd = mkstemp(probe);
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    return fd >= 0;
}

bool sink_check_writable(const char *path, char *err, size_t errlen)
{
    if (!path || strcmp(path, "-") == 0)
        return true;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return true;    /* a device or a pipe: written in place */
    size_t len = strlen(path);
    bool names_directory = len && path[len - 1] == '/';
    if (names_directory || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        if (can_create_in(path))
            return true;
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    char *resolved = resolved_path(path);
    char *dir = xstrdup(resolved);
    const char *parent = dirname(dir);
    bool ok = can_create_in(parent);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: no file can be created in %s (%s)", path, parent,
                 strerror(errno));
    } else if (stat(resolved, &st) == 0) {
        /* A recording is written into the file itself. */
        int fd = open(resolved, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        ok = fd >= 0;
        if (fd >= 0)
            close(fd);
        else
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    free(dir);
    free(resolved);
    return ok;
}

bool sink_same_file(const char *a, const char *b)
{
    char *resolved_a = resolved_path(a), *resolved_b = resolved_path(b);
    bool same = strcmp(resolved_a, resolved_b) == 0;
    free(resolved_a);
    free(resolved_b);
    return same;
}
