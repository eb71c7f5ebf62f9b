"""Two leaf functions with a known split of the time, measured in-process.

leaf_seventy and leaf_thirty alternate, with work sized 70:30; the program
measures the wall time spent in each with perf_counter and prints
"split <fraction in leaf_seventy>" at exit for the test to compare against
the profiler's estimate.
Usage: time_split.py [SECONDS]
"""
import sys
import time


def burn(n):
    total = 0
    for i in range(n):
        total += i
    return total


def leaf_seventy():
    return burn(7000)


def leaf_thirty():
    return burn(3000)


def main(seconds):
    spent = {"seventy": 0.0, "thirty": 0.0}
    clock = time.perf_counter
    deadline = clock() + seconds
    while clock() < deadline:
        t0 = clock()
        leaf_seventy()
        t1 = clock()
        leaf_thirty()
        t2 = clock()
        spent["seventy"] += t1 - t0
        spent["thirty"] += t2 - t1
    print("split %.4f" % (spent["seventy"] / (spent["seventy"] + spent["thirty"])), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
