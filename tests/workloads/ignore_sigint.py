"""Ignore SIGINT and keep running: strobe run, told to stop, writes its
output and then waits for the program, which does not stop; a second
Ctrl-C must make strobe exit at once.
Usage: ignore_sigint.py SECONDS   (prints "ready")
"""
import signal
import sys
import time


def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("ready", flush=True)
    busy(float(sys.argv[1]))
