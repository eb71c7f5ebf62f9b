"""A program that lives 0.3 s: strobe run must still catch it."""
import time


def spin_briefly(seconds):
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


spin_briefly(0.3)
