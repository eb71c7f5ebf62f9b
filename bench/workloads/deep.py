"""Benchmark workload: one thread, a 300-deep stack, CPU-bound at the bottom.
The recursion is entered once and stays: the stack is 300 frames deep for
the whole run while the leaf keeps working.
Usage: deep.py SECONDS   (prints "ready", then "iterations N seconds T")
"""
import sys
import time

DEPTH = 300


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def descend(depth, seconds):
    if depth > 1:
        return descend(depth - 1, seconds)
    clock = time.perf_counter
    iterations = 0
    print("ready", flush=True)
    start = clock()
    deadline = start + seconds
    while clock() < deadline:
        work(200)
        iterations += 1
    return iterations, clock() - start


def main(seconds):
    sys.setrecursionlimit(DEPTH + 100)
    # <module> and main are two frames; descend makes up the rest.
    iterations, elapsed = descend(DEPTH - 3, seconds)
    print("iterations %d seconds %.6f" % (iterations, elapsed), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
