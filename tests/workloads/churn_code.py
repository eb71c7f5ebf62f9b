"""Create, run and drop thousands of functions, so that code objects die and
their addresses are reused by new ones.

Each round compiles a fresh pair, driver_N and f_N, from source and runs
driver_N, which calls f_N, which spins briefly; then both are dropped. A
profiler that serves a dead code object's name for a new one at the same
address shows impossible pairs (driver_N calling f_M, M != N).
Usage: churn_code.py SECONDS   (prints "ready", then "created N")
"""
import sys
import time

TEMPLATE = """
def f_{n}(deadline):
    x = 0
    while clock() < deadline:
        x += 1
    return x

def driver_{n}(deadline):
    return f_{n}(deadline)
"""


def main(seconds):
    clock = time.perf_counter
    end = clock() + seconds
    n = 0
    print("ready", flush=True)
    while clock() < end:
        namespace = {"clock": clock}
        exec(compile(TEMPLATE.format(n=n), f"<churn {n}>", "exec"), namespace)
        namespace[f"driver_{n}"](clock() + 0.0003)
        del namespace
        n += 1
    print(f"created {n}", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
