"""One thread moves its stack up and down as fast as it can (deep recursion,
generators, exceptions) while a second thread holds one still stack.

Every edge a profiler may report is known: <module> -> main -> churn_for
-> climb, climb -> climb | gen_values | raise_and_catch, and the thread's
steady; never gen_values -> climb (generators only yield values here). See
ALLOWED_EDGES in the test. The still thread must appear in every sample.
Usage: churn_stack.py SECONDS   (prints "ready")
"""
import sys
import threading
import time


def gen_values(n):
    for i in range(n):
        yield i


def raise_and_catch(n):
    try:
        raise ValueError(n)
    except ValueError:
        return n


def climb(depth):
    if depth > 0:
        return climb(depth - 1) + 1
    total = sum(gen_values(3))
    return total + raise_and_catch(1)


def steady(stop):
    n = 0
    while not stop.is_set():
        n += 1
    return n


def churn_for(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for depth in (1, 40, 7, 120, 3, 60):
            climb(depth)


def main(seconds):
    stop = threading.Event()
    still = threading.Thread(target=steady, args=(stop,))
    still.start()
    print("ready", flush=True)
    churn_for(seconds)
    stop.set()
    still.join()


if __name__ == "__main__":
    main(float(sys.argv[1]))
