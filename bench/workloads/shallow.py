"""Benchmark workload: one thread, a 5-deep CPU-bound stack.
Prints "ready", runs SECONDS, then prints "iterations N seconds T" so the
benchmark can compare the work done with and without a profiler attached.
Usage: shallow.py SECONDS [WINDOW]   (WINDOW: see windows.py)
"""
import os
import sys
import time

import frames
from windows import Windows, window_arg


def level5(n):
    total = 0
    for i in range(n):
        total += i
    return total


def level4(n):
    return level5(n)


def level3(n):
    return level4(n)


def level2(n):
    return level3(n)


def main(seconds, window):
    clock = time.perf_counter
    iterations = 0
    if os.environ.get("BENCH_REPORT_FRAMES"):
        frames.start(level5.__code__)
        level2(1)
        frames.done()
    print("ready", flush=True)
    start = now = clock()
    deadline = start + seconds
    windows = Windows(start, window)
    while now < deadline:
        level2(200)
        iterations += 1
        now = clock()
        if now >= windows.next_end:
            windows.report(now, iterations)
    print("iterations %d seconds %.6f" % (iterations, clock() - start), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), window_arg(sys.argv))
