"""Objects built in a loop whose __init__ does the work. From 3.13 the
interpreter returns from a class's __init__ through a frame of its own
(_Py_InitCleanup), which no traceback shows: neither may a profile.
Usage: class_init.py SECONDS
"""
import sys
import time


class Widget:
    def __init__(self, seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:  # HOT
            pass


def build(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        Widget(0.002)  # BUILD


if __name__ == "__main__":
    build(float(sys.argv[1]))
