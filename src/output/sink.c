/*
 * sink.c — see sink.h.
 */
#include "output/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP_SUFFIX ".strobe-tmp-XXXXXX"
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

bool sink_open(struct sink *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!path || strcmp(path, "-") == 0) {
        s->f = stdout;
        return true;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
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
        bool ok = fflush(stdout) == 0 && !ferror(stdout);
        if (!ok)
            snprintf(err, errlen, "cannot write to standard output: %s", strerror(errno));
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
