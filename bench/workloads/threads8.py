"""Benchmark workload: eight threads, all busy in Python (taking turns on the
GIL), each in its own 3-deep stack.
Usage: threads8.py SECONDS   (prints "ready", then "iterations N seconds T")
"""
import sys
import threading
import time

THREADS = 8


def inner(n):
    total = 0
    for i in range(n):
        total += i
    return total


def middle(n):
    return inner(n)


def worker(deadline, counts, index):
    n = 0
    while time.perf_counter() < deadline:
        middle(200)
        n += 1
    counts[index] = n


def main(seconds):
    counts = [0] * THREADS
    start = time.perf_counter()
    deadline = start + seconds
    threads = [threading.Thread(target=worker, args=(deadline, counts, i), name=f"busy-{i}")
               for i in range(THREADS)]
    for t in threads:
        t.start()
    print("ready", flush=True)
    for t in threads:
        t.join()
    print("iterations %d seconds %.6f" % (sum(counts), time.perf_counter() - start), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
