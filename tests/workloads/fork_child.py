"""Fork: the child spins in child_loop and exits; the parent spins in
parent_loop, then waits for it. A profiler attached to the parent sees the
parent only, and goes on through the fork.
Usage: fork_child.py SECONDS   (prints "ready" once running)
"""
import os
import sys
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def child_loop(seconds):
    spin(seconds)


def parent_loop(seconds):
    spin(seconds)


if __name__ == "__main__":
    seconds = float(sys.argv[1])
    print("ready", flush=True)
    pid = os.fork()
    if pid == 0:
        child_loop(seconds)
        os._exit(0)
    parent_loop(seconds)
    os.waitpid(pid, 0)
