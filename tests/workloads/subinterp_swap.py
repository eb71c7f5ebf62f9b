"""A subinterpreter running two phases of equal length, entered from a
thread other than the one that created it.

On CPython 3.8-3.11, _xxsubinterpreters.run_string runs code on the
subinterpreter's first thread state, made by the thread that created the
interpreter (here one that has ended since), and switches to it without
passing the GIL: that thread state runs Python while the GIL's last holder
is the caller's. phase_one and phase_two each run for SECONDS; the program
prints "phases <seconds of phase_one> <seconds of phase_two>" at exit.
On 3.11 the subinterpreter also keeps the GIL from the main interpreter's
threads while it runs (they ask its own interpreter to drop it).
Usage: subinterp_swap.py [SECONDS [attach]]   (prints "skip" where there is
no such module; with "attach", "ready" once the creating thread has ended,
then waits a second for a profiler to attach)
"""
import os
import sys
import threading
import time

try:
    import _xxsubinterpreters as subinterpreters
except ImportError:
    try:
        import _interpreters as subinterpreters
    except ImportError:
        subinterpreters = None

SCRIPT = """
import time


def spin(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def phase_one(seconds):
    spin(seconds)


def phase_two(seconds):
    spin(seconds)


phase_one(%(seconds)f)
phase_two(%(seconds)f)
"""


def main(seconds, attach):
    if subinterpreters is None or not hasattr(subinterpreters, "run_string"):
        print("skip", flush=True)
        return
    made = {}
    creator = threading.Thread(target=lambda: made.setdefault("id", subinterpreters.create()))
    creator.start()
    creator.join()
    if attach:
        print("ready", flush=True)
        time.sleep(1)
    runner = threading.Thread(target=subinterpreters.run_string,
                              args=(made["id"], SCRIPT % {"seconds": seconds}))
    runner.start()
    runner.join()
    print("phases %f %f" % (seconds, seconds), flush=True)
    # Ending the interpreter, or the process normally, can hang on 3.11.7
    # (pyenv), with or without a profiler: the subinterpreter's first thread
    # state belongs to a thread that has ended.
    os._exit(0)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5, sys.argv[2:] == ["attach"])
