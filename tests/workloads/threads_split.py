"""Threads splitting their time between two leaf functions in known
proportions, measured in-process.

First the main thread alone (another thread waits on an event, so the GIL
never changes hands), then four threads taking turns on the GIL. Each
alternates leaf_long and leaf_short with work sized k+1 : 1 and measures the
wall time from entering each to leaving it (time spent waiting for the GIL
inside a function counts for that function, as it does for a wall-clock
sampler). At exit it prints "split <native thread id> <fraction in
leaf_long>" per thread, for the test to compare against the profiler.
Usage: threads_split.py [SECONDS]
"""
import sys
import threading
import time

THREADS = 4
UNIT = 2000
SWITCH_INTERVAL = 0.001     # seconds a thread holds the GIL before it is asked to drop it


def burn(n):
    total = 0
    for i in range(n):
        total += i
    return total


def leaf_long(n):
    return burn(n)


def leaf_short(n):
    return burn(n)


def worker(index, deadline, results):
    clock = time.perf_counter
    spent_long = spent_short = 0.0
    while clock() < deadline:
        t0 = clock()
        leaf_long(UNIT * (index + 1))
        t1 = clock()
        leaf_short(UNIT)
        t2 = clock()
        spent_long += t1 - t0
        spent_short += t2 - t1
    results[threading.get_native_id()] = spent_long / (spent_long + spent_short)


def main(seconds):
    results = {}
    waiting = threading.Event()
    waiter = threading.Thread(target=waiting.wait)
    waiter.start()
    worker(1, time.perf_counter() + seconds / 2, results)
    waiting.set()
    waiter.join()
    # A thread made to give up the GIL just after one of worker()'s clock()
    # calls waits there, in worker(), where a sampler sees neither leaf, yet
    # the wait counts for the leaf it is timing; with four threads a wait can
    # last 50 switch intervals. At the default 5 ms, one such wait moved a
    # thread's split by up to 0.2 (about one run in 40): a shorter interval
    # keeps those waits short.
    sys.setswitchinterval(SWITCH_INTERVAL)
    deadline = time.perf_counter() + seconds / 2
    threads = [threading.Thread(target=worker, args=(k, deadline, results))
               for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tid, fraction in sorted(results.items()):
        print("split %d %.4f" % (tid, fraction), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
