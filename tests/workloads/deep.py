"""Recurse DEPTH frames deep (default 1000), then stay busy at the bottom.
Usage: deep.py [SECONDS] [DEPTH]
"""
import sys
import time


def recurse(depth, seconds):
    if depth > 1:
        return recurse(depth - 1, seconds)
    deadline = time.monotonic() + seconds
    print("ready", flush=True)
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    sys.setrecursionlimit(depth + 500)
    recurse(depth, seconds)
