/*
 * maps.c — /proc/PID/maps parser; see maps.h.
 */
#include "proc/maps.h"

#include "proc/process.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A process with more mappings than this is not something we can reason
 * about at attach time; stop reading rather than grow without bound. */
#define MAPS_MAX_REGIONS 1000000

static bool parse_line(char *line, struct map_region *r)
{
    char perms[5] = { 0 };
    unsigned long long start, end, offset, inode;
    unsigned int dev_major, dev_minor;
    int path_at = 0;
    /* The kernel writes this format; a line that does not match is skipped. */
    if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &offset, &dev_major, // NOLINT(cert-err34-c)
               &dev_minor, &inode, &path_at) < 7)
        return false;
    char *path = line + path_at;
    size_t len = strlen(path);
    while (len && (path[len - 1] == '\n' || path[len - 1] == ' '))
        path[--len] = '\0';
    r->start = start;
    r->end = end;
    r->offset = offset;
    r->inode = inode;
    r->readable = perms[0] == 'r';
    r->writable = perms[1] == 'w';
    r->executable = perms[2] == 'x';
    r->path = xstrdup(path);
    return true;
}

int maps_read(pid_t pid, struct process_maps *out)
{
    char file[64];
    /* A main thread that has ended has an empty map; its threads share the
     * process's. */
    pid_t live = process_live_task(pid);
    snprintf(file, sizeof(file), "/proc/%d/maps", (int)(live ? live : pid));
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(file, "re");
    if (!f)
        return -errno;
    size_t cap = 0;
    char *line = NULL;
    size_t line_cap = 0;
    int err = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (out->count >= MAPS_MAX_REGIONS)
            break;
        struct map_region r;
        if (!parse_line(line, &r))
            continue;
        out->regions = xgrow(out->regions, &cap, out->count + 1, sizeof(*out->regions));
        out->regions[out->count++] = r;
    }
    if (ferror(f))
        err = -EIO;
    free(line);
    fclose(f);
    if (err)
        maps_free(out);
    return err;
}

void maps_free(struct process_maps *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->regions[i].path);
    free(m->regions);
    memset(m, 0, sizeof(*m));
}

const struct map_region *maps_find(const struct process_maps *m, uint64_t addr)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->regions[i].start <= addr && addr < m->regions[i].end)
            return &m->regions[i];
    return NULL;
}

const struct map_region *maps_file_base(const struct process_maps *m, const char *path)
{
    const struct map_region *first = NULL;
    for (size_t i = 0; i < m->count; i++) {
        const struct map_region *r = &m->regions[i];
        if (strcmp(r->path, path) != 0)
            continue;
        if (r->offset == 0)
            return r;
        if (!first)
            first = r;
    }
    return first;
}
