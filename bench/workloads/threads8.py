"""Benchmark workload: eight threads, all busy in Python (taking turns on the
GIL), each in its own 3-deep stack.
Usage: threads8.py SECONDS [WINDOW]   (prints "ready", then "iterations N seconds T";
WINDOW: see windows.py)
"""
import sys
import threading
import time

from windows import Windows, window_arg

THREADS = 8


def inner(n):
    total = 0
    for i in range(n):
        total += i
    return total


def middle(n):
    return inner(n)


def worker(deadline, counts, index):
    while time.perf_counter() < deadline:
        middle(200)
        counts[index] += 1


def report_windows(deadline, counts, windows):
    """The main thread's part: the workers' progress, window by window."""
    clock = time.perf_counter
    while windows.next_end < deadline:
        time.sleep(max(0.0, windows.next_end - clock()))
        windows.report(clock(), sum(counts))


def main(seconds, window):
    counts = [0] * THREADS
    start = time.perf_counter()
    deadline = start + seconds
    threads = [threading.Thread(target=worker, args=(deadline, counts, i), name=f"busy-{i}")
               for i in range(THREADS)]
    for t in threads:
        t.start()
    print("ready", flush=True)
    report_windows(deadline, counts, Windows(start, window))
    for t in threads:
        t.join()
    print("iterations %d seconds %.6f" % (sum(counts), time.perf_counter() - start), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), window_arg(sys.argv))
