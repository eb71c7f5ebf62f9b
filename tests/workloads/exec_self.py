"""Run a while, then exec a program: this same script again under the same
Python ("python"), or /bin/sleep ("other"). A profiler attached before the
exec must follow into the new Python, or stop cleanly at the other program.
Usage: exec_self.py python|other SECONDS   (prints "ready" once running)
"""
import os
import sys
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def before_exec(seconds):
    return spin(seconds)


def after_exec(seconds):
    return spin(seconds)


if __name__ == "__main__":
    mode, seconds = sys.argv[1], float(sys.argv[2])
    if mode == "after":
        after_exec(seconds)
        sys.exit(0)
    print("ready", flush=True)
    before_exec(seconds)
    sys.stdout.flush()
    if mode == "python":
        os.execv(sys.executable, [sys.executable, __file__, "after", str(seconds)])
    os.execv("/bin/sleep", ["sleep", str(seconds)])
