"""Everything that makes a stack hard to read, at once, for a bounded time.

- main thread: recursion up and down, generators, exceptions (churn_for);
- a spawner thread: threads that start, run a little and end (short_task);
- a code-churn thread: functions compiled, run and freed (driver_N -> f_N),
  so code objects die and their addresses are reused.
Every parent->child edge between functions of this file and churn_stack.py
that a profiler may report is listed in the test (tests/integration/test_stress.py); any other is
an impossible stack.
Usage: stress.py SECONDS   (prints "ready", then "threads N created M")
"""
import sys
import threading
import time

# The recursion/generator/exception churn and the function template are the
# ones the correctness tests use on their own.
from churn_code import TEMPLATE
from churn_stack import churn_for


def leaf_task(n):
    total = 0
    for i in range(n):
        total += i
    return total


def short_task():
    return leaf_task(50000)


def spawner(stop, counts):
    while not stop.is_set():
        t = threading.Thread(target=short_task)
        t.start()
        t.join()
        counts["threads"] += 1


def code_churn(stop, counts):
    clock = time.perf_counter
    while not stop.is_set():
        n = counts["created"]
        namespace = {"clock": clock}
        exec(compile(TEMPLATE.format(n=n), f"<churn {n}>", "exec"), namespace)
        namespace[f"driver_{n}"](clock() + 0.0002)
        del namespace
        counts["created"] = n + 1


def main(seconds):
    stop = threading.Event()
    counts = {"threads": 0, "created": 0}
    helpers = [threading.Thread(target=spawner, args=(stop, counts)),
               threading.Thread(target=code_churn, args=(stop, counts))]
    for h in helpers:
        h.start()
    print("ready", flush=True)
    churn_for(seconds)
    stop.set()
    for h in helpers:
        h.join()
    print(f"threads {counts['threads']} created {counts['created']}", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
