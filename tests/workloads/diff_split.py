"""Two leaf functions whose share of the time is set on the command line,
for comparing a profile with a baseline: run once with equal work, once
with `slower_one` doing more, and a differential flame graph must show
slower_one grown and steady_one shrunk.
Usage: diff_split.py SLOWER_WORK STEADY_WORK SECONDS
"""
import sys
import time


def burn(n):
    total = 0
    for i in range(n):
        total += i
    return total


def slower_one(work):
    return burn(work)


def steady_one(work):
    return burn(work)


def main(slower_work, steady_work, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        slower_one(slower_work)
        steady_one(steady_work)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
