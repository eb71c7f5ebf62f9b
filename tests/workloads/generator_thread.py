"""A thread started on a generator's __next__: the generator's frame is the
thread's outermost, resumed from C with no Python frame below it, while the
main thread spins too. Both must be seen, whole.
Usage: generator_thread.py SECONDS
"""
import _thread
import sys
import time


def produce(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    yield 1


def wait(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


if __name__ == "__main__":
    seconds = float(sys.argv[1])
    _thread.start_new_thread(produce(seconds).__next__, ())
    wait(seconds + 0.2)
