/*
 * elf.h — the ELF facts strobe needs from the target's python binary or
 * libpython: section and symbol addresses, and where the file is loaded.
 *
 * Built on libelf (elfutils). Files are opened through /proc/PID/root so that
 * a target in another mount namespace (a container) is read from its own
 * filesystem, and through /proc/PID/map_files when the file was deleted.
 */
#ifndef STROBE_PROC_ELF_H
#define STROBE_PROC_ELF_H

#include "base/common.h"
#include "proc/maps.h"

#include <sys/types.h>

struct elf_image;

/* Open the ELF file behind mapping `region` of process `pid`. NULL if it is
 * not a readable ELF file (errno tells why if it could not be opened). */
struct elf_image *elf_image_open(pid_t pid, const struct map_region *region);
void elf_image_close(struct elf_image *img);

/* What /proc/PID/maps appends to the path of a file deleted since. */
#define ELF_DELETED_SUFFIX " (deleted)"

/* Was the file of `region` deleted (or replaced) since it was mapped? */
bool elf_region_deleted(const struct map_region *region);

/* Section `name`: link-time address and size. false if absent. */
bool elf_find_section(struct elf_image *img, const char *name, uint64_t *addr, uint64_t *size);

/* Symbol `name` from .dynsym, then .symtab: link-time value and size. */
bool elf_find_symbol(struct elf_image *img, const char *name, uint64_t *value, uint64_t *size);

/* Difference between run-time and link-time addresses, given the mapping of
 * the file's start (offset 0) in the target. false if no PT_LOAD matches. */
bool elf_load_bias(struct elf_image *img, const struct map_region *base, uint64_t *bias);

/* The file offset whose bytes a loaded image holds at link-time address
 * `vaddr` (past the segment's file part: where the mapping arithmetic puts
 * it). false if no PT_LOAD covers it. */
bool elf_file_offset(struct elf_image *img, uint64_t vaddr, uint64_t *offset);

/*
 * Call `visit` for each NUL-terminated printable string in section `name`
 * (e.g. ".rodata") until it returns true. Used as a last resort to find the
 * interpreter's version string. Returns whether a visit returned true.
 */
bool elf_scan_strings(struct elf_image *img, const char *name,
                      bool (*visit)(void *ctx, const char *s, size_t len), void *ctx);

#endif
