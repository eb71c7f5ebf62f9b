/*
 * A program caught as the dynamic loader is part-way through loading
 * libpython: the library's whole span is mapped read-only from the file's
 * start, as ld.so maps it first, before it maps each segment (the writable
 * data, where _PyRuntime lives, among them) at its own file offset. Until
 * then the runtime's address shows other bytes of the file. It stays so.
 * Usage: half_loaded LIBPYTHON SECONDS   (prints "ready" once mapped)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The span ld.so maps covers the segments' memory, a little more than the
 * file: data placed a page or two past its file offset, and .bss. */
#define SPAN_BEYOND_FILE (4 * 1024 * 1024)

int main(int argc, char **argv)
{
    if (argc != 3)
        return EXIT_FAILURE;
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return EXIT_FAILURE;
    }
    void *span = mmap(NULL, (size_t)st.st_size + SPAN_BEYOND_FILE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (span == MAP_FAILED) {
        perror("mmap");
        return EXIT_FAILURE;
    }
    printf("ready\n");
    fflush(stdout);
    double seconds = atof(argv[2]);
    struct timespec rest = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    nanosleep(&rest, NULL);
    return EXIT_SUCCESS;
}
