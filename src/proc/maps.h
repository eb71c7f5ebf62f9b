/*
 * maps.h — the target's memory map, from /proc/PID/maps.
 *
 * Used at attach time to find which ELF files (the python executable,
 * libpython) are mapped where, so that symbol and section addresses in those
 * files can be turned into addresses in the target.
 */
#ifndef STROBE_PROC_MAPS_H
#define STROBE_PROC_MAPS_H

#include "base/common.h"

#include <sys/types.h>

struct map_region {
    uint64_t start, end;
    uint64_t offset;        /* file offset of `start` */
    uint64_t inode;
    bool readable, writable, executable;
    char *path;             /* "" for anonymous mappings; may end in " (deleted)" */
};

struct process_maps {
    struct map_region *regions;
    size_t count;
};

/* Read /proc/PID/maps (through a thread still running if the main thread
 * has ended). Returns 0, or -errno (ENOENT: no such process, EACCES: not
 * allowed to look at it). */
int maps_read(pid_t pid, struct process_maps *out);
void maps_free(struct process_maps *m);

/* The region holding address `addr`, or NULL if none does. */
const struct map_region *maps_find(const struct process_maps *m, uint64_t addr);

/* The region with file offset 0 of the file mapped at `path`, or NULL. */
const struct map_region *maps_file_base(const struct process_maps *m, const char *path);

#endif
