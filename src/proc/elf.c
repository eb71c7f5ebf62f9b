/*
 * elf.c — libelf-based lookups; see elf.h.
 */
#include "proc/elf.h"

#include "proc/process.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The longest string elf_scan_strings reports; version strings are short. */
#define ELF_SCAN_MAX_STRING 128

struct elf_image {
    int fd;
    Elf *elf;
};

bool elf_region_deleted(const struct map_region *region)
{
    size_t len = strlen(region->path);
    size_t suffix = strlen(ELF_DELETED_SUFFIX);
    return len > suffix && strcmp(region->path + len - suffix, ELF_DELETED_SUFFIX) == 0;
}

/*
 * A file deleted (or replaced, as an upgrade replaces a python binary)
 * since it was mapped: through /proc/PID/map_files, which takes
 * CAP_SYS_ADMIN, else, if it is the executable, through /proc/PID/exe,
 * which anyone who may read the process may open. -1 with errno set (that
 * of map_files) if neither.
 */
static int open_deleted_file(pid_t pid, const struct map_region *region)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
             (unsigned long long)region->start, (unsigned long long)region->end);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int map_files_errno = errno;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == region->inode)
        return fd;
    if (fd >= 0)
        close(fd);
    errno = map_files_errno;
    return -1;
}

static int open_target_file(pid_t pid, const struct map_region *region)
{
    char path[4096 + 64];
    /* A main thread that has ended has no files or root of its own left;
     * its threads share the process's. */
    pid_t live = process_live_task(pid);
    if (live)
        pid = live;
    if (elf_region_deleted(region))
        return open_deleted_file(pid, region);
    if (region->path[0] != '/')
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, region->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open(region->path, O_RDONLY | O_CLOEXEC);
    return fd;
}

struct elf_image *elf_image_open(pid_t pid, const struct map_region *region)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    int fd = open_target_file(pid, region);
    if (fd < 0)
        return NULL;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        if (elf)
            elf_end(elf);
        close(fd);
        errno = ENOEXEC;
        return NULL;
    }
    struct elf_image *img = xmalloc(sizeof(*img));
    img->fd = fd;
    img->elf = elf;
    return img;
}

void elf_image_close(struct elf_image *img)
{
    if (!img)
        return;
    elf_end(img->elf);
    close(img->fd);
    free(img);
}

static Elf_Scn *find_section(struct elf_image *img, const char *name, GElf_Shdr *shdr)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(img->elf, &shstrndx) != 0)
        return NULL;
    for (Elf_Scn *scn = elf_nextscn(img->elf, NULL); scn; scn = elf_nextscn(img->elf, scn)) {
        if (!gelf_getshdr(scn, shdr))
            continue;
        const char *n = elf_strptr(img->elf, shstrndx, shdr->sh_name);
        if (n && strcmp(n, name) == 0)
            return scn;
    }
    return NULL;
}

bool elf_find_section(struct elf_image *img, const char *name, uint64_t *addr, uint64_t *size)
{
    GElf_Shdr shdr;
    if (!find_section(img, name, &shdr))
        return false;
    *addr = shdr.sh_addr;
    *size = shdr.sh_size;
    return true;
}

static bool find_in_symtab(struct elf_image *img, Elf64_Word type, const char *name,
                           uint64_t *value, uint64_t *size)
{
    for (Elf_Scn *scn = elf_nextscn(img->elf, NULL); scn; scn = elf_nextscn(img->elf, scn)) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != type || shdr.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data)
            continue;
        size_t n = shdr.sh_size / shdr.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
                continue;
            const char *s = elf_strptr(img->elf, shdr.sh_link, sym.st_name);
            if (s && strcmp(s, name) == 0) {
                *value = sym.st_value;
                *size = sym.st_size;
                return true;
            }
        }
    }
    return false;
}

bool elf_find_symbol(struct elf_image *img, const char *name, uint64_t *value, uint64_t *size)
{
    return find_in_symtab(img, SHT_DYNSYM, name, value, size) ||
           find_in_symtab(img, SHT_SYMTAB, name, value, size);
}

/* The loadable segments' program headers, one per call from *index on
 * (start at 0): false after the last. */
static bool next_load_segment(struct elf_image *img, size_t *index, GElf_Phdr *ph)
{
    size_t nph;
    if (elf_getphdrnum(img->elf, &nph) != 0)
        return false;
    while (*index < nph)
        if (gelf_getphdr(img->elf, (int)(*index)++, ph) && ph->p_type == PT_LOAD)
            return true;
    return false;
}

bool elf_load_bias(struct elf_image *img, const struct map_region *base, uint64_t *bias)
{
    GElf_Phdr ph;
    for (size_t i = 0; next_load_segment(img, &i, &ph);) {
        uint64_t align = ph.p_align > 1 ? ph.p_align : 1;
        uint64_t seg_off = ph.p_offset & ~(align - 1);
        if (base->offset < seg_off || base->offset >= ph.p_offset + ph.p_filesz)
            continue;
        /* File offset base->offset is loaded at link-time address v. */
        uint64_t v = (ph.p_vaddr & ~(align - 1)) + (base->offset - seg_off);
        *bias = base->start - v;
        return true;
    }
    return false;
}

bool elf_file_offset(struct elf_image *img, uint64_t vaddr, uint64_t *offset)
{
    GElf_Phdr ph;
    for (size_t i = 0; next_load_segment(img, &i, &ph);) {
        if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_memsz) {
            *offset = ph.p_offset + (vaddr - ph.p_vaddr);
            return true;
        }
    }
    return false;
}

bool elf_scan_strings(struct elf_image *img, const char *name,
                      bool (*visit)(void *ctx, const char *s, size_t len), void *ctx)
{
    GElf_Shdr shdr;
    Elf_Scn *scn = find_section(img, name, &shdr);
    if (!scn || shdr.sh_type == SHT_NOBITS)
        return false;
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || !data->d_buf)
        return false;
    const char *p = data->d_buf;
    size_t n = data->d_size, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\0')
            continue;
        size_t len = i - start;
        if (len > 0 && len <= ELF_SCAN_MAX_STRING && visit(ctx, p + start, len))
            return true;
        start = i + 1;
    }
    return false;
}
