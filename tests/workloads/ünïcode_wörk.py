"""Non-ASCII file, class and method names: they must come out as UTF-8."""
import sys
import time


class Ünïcode:
    def méthode(self, seconds):
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
        return n


Ünïcode().méthode(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
