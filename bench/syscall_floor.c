/*
 * syscall_floor.c — what one process_vm_readv costs on this machine now:
 * the floor under every sample strobe takes (one call in steady state).
 * Reads from a sleeping child, once with one small region and once with
 * eight regions in one call, and prints microseconds per call.
 *
 * Usage: syscall_floor CALLS
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC 1000000000ULL
#define REGIONS 8
#define REGION_BYTES 512

static char target_memory[REGIONS][REGION_BYTES];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Microseconds per call reading `regions` regions from `pid`. */
static double per_call_us(pid_t pid, int regions, long calls)
{
    static char local[REGIONS][REGION_BYTES];
    struct iovec lv[REGIONS], rv[REGIONS];
    for (int i = 0; i < regions; i++) {
        lv[i] = (struct iovec){ local[i], REGION_BYTES };
        rv[i] = (struct iovec){ target_memory[i], REGION_BYTES };
    }
    uint64_t start = now_ns();
    for (long i = 0; i < calls; i++) {
        if (process_vm_readv(pid, lv, (unsigned long)regions, rv, (unsigned long)regions, 0) < 0) {
            perror("process_vm_readv");
            exit(1);
        }
    }
    return (double)(now_ns() - start) / 1e3 / (double)calls;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: syscall_floor CALLS\n");
        return 2;
    }
    long calls = atol(argv[1]);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    printf("one_region_us %.3f\n", per_call_us(child, 1, calls));
    printf("eight_regions_us %.3f\n", per_call_us(child, REGIONS, calls));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 0;
}
