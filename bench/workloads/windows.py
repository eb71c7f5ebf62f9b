"""Shared by the benchmark workloads: their progress, window by window.

Given a window length, a workload prints "window END ITERATIONS" every
WINDOW seconds while it runs: END is time.perf_counter() at the window's end
(CLOCK_MONOTONIC on Linux, the clock bench.py schedules profilers by) and
ITERATIONS the total done so far. bench.py attaches a profiler to one
running workload, pauses it and lets it go in turn, and compares the rates
within that one process: separate runs of the same program differ here by
more than the slowdown being measured.
"""


class Windows:
    def __init__(self, start, window):
        self.window = window
        self.next_end = start + window if window else float("inf")

    def report(self, now, iterations):
        """Called by the workload once now >= next_end."""
        print("window %.6f %d" % (now, iterations), flush=True)
        self.next_end = now + self.window


def window_arg(argv):
    """The optional second argument: seconds per window (0: none)."""
    return float(argv[2]) if len(argv) > 2 else 0.0
