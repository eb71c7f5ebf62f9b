"""Benchmark workload: one thread, a 300-deep stack, CPU-bound at the bottom.
The recursion is entered once and stays: the stack is 300 frames deep for
the whole run while the leaf keeps working.
Usage: deep.py SECONDS [WINDOW]   (prints "ready", then "iterations N seconds T";
WINDOW: see windows.py)
"""
import sys
import time

from windows import Windows, window_arg

DEPTH = 300


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def descend(depth, seconds, window):
    if depth > 1:
        return descend(depth - 1, seconds, window)
    clock = time.perf_counter
    iterations = 0
    print("ready", flush=True)
    start = now = clock()
    deadline = start + seconds
    windows = Windows(start, window)
    while now < deadline:
        work(200)
        iterations += 1
        now = clock()
        if now >= windows.next_end:
            windows.report(now, iterations)
    return iterations, clock() - start


def main(seconds, window):
    sys.setrecursionlimit(DEPTH + 100)
    # <module> and main are two frames; descend makes up the rest.
    iterations, elapsed = descend(DEPTH - 3, seconds, window)
    print("iterations %d seconds %.6f" % (iterations, elapsed), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), window_arg(sys.argv))
