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

bool sink_open(struct sink *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!path || strcmp(path, "-") == 0) {
        s->f = stdout;
        return true;
    }
    size_t len = strlen(path);
    s->path = xstrdup(path);
    s->tmp_path = xmalloc(len + sizeof(TMP_SUFFIX));
    memcpy(s->tmp_path, path, len);
    memcpy(s->tmp_path + len, TMP_SUFFIX, sizeof(TMP_SUFFIX));
    int fd = mkstemp(s->tmp_path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(s->path);
        free(s->tmp_path);
        memset(s, 0, sizeof(*s));
        return false;
    }
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
    if (s->path) {
        if (s->f)
            fclose(s->f);
        unlink(s->tmp_path);
    }
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
    bool ok = fflush(s->f) == 0 && !ferror(s->f) && fsync(fileno(s->f)) == 0;
    int saved = errno;
    ok = (fclose(s->f) == 0) && ok;
    s->f = NULL;
    if (ok && rename(s->tmp_path, s->path) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", s->path, strerror(saved ? saved : EIO));
        unlink(s->tmp_path);
    }
    free(s->path);
    free(s->tmp_path);
    memset(s, 0, sizeof(*s));
    return ok;
}
