"""A CPU-bound program with known qualified names and one hot line.

Stack while hot: <module> -> outer -> outer.<locals>.inner -> Handler.do_POST
(3.11+ report qualified names; 3.8-3.10 only have co_name). The loop header
and body share the line marked HOT, so nearly all samples land on it.
Usage: hot_loop.py [SECONDS]   (prints "ready" once running)
"""
import sys
import time


class Handler:
    def do_POST(self, n):
        total = 0
        for i in range(n): total += i * i  # HOT
        return total


def outer(seconds):
    def inner():
        handler = Handler()
        deadline = time.monotonic() + seconds
        print("ready", flush=True)
        while time.monotonic() < deadline:
            handler.do_POST(20000)
    inner()


if __name__ == "__main__":
    outer(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
