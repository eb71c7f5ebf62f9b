"""Benchmark workload: 10,000 distinct stacks, visited round and round.

100 outer functions each call each of 100 inner ones (generated with exec so
each has its own code object and name): <module> -> main -> outer_A ->
inner_B is a different stack for every (A, B). Used to check that strobe's
memory is bounded by distinct stacks, not by samples.
Usage: many_stacks.py SECONDS
"""
import sys
import time

N = 100
namespace = {}
for i in range(N):
    exec(f"def inner_{i}():\n"
         f"    total = 0\n"
         f"    for k in range(300):\n"
         f"        total += k\n"
         f"    return total\n", namespace)
    exec(f"def outer_{i}(callee):\n"
         f"    return callee()\n", namespace)
INNER = [namespace[f"inner_{i}"] for i in range(N)]
OUTER = [namespace[f"outer_{i}"] for i in range(N)]


def main(seconds):
    deadline = time.perf_counter() + seconds
    rounds = 0
    print("ready", flush=True)
    while time.perf_counter() < deadline:
        for outer in OUTER:
            for inner in INNER:
                outer(inner)
        rounds += 1
    print("rounds %d" % rounds, flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
