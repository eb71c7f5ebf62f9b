"""Names a profiler shows that the target chose itself: a thread named with
bytes that look like UTF-8 but are not (the kernel keeps any bytes), one
named with well-formed control characters (CSI, next line, line separator),
and a function whose file name holds a terminal's CSI, a next-line control,
a line separator and a right-to-left override (a code object's file name
can be any str).
Usage: hostile_names.py SECONDS   (prints "ready" once named and running)
"""
import ctypes
import sys
import threading
import time

PR_SET_NAME = 15
# An encoded surrogate, then a code point past U+10FFFF.
THREAD_NAME = b"s\xed\xa0\x80 b\xf4\x90\x80\x80"
CONTROLS_THREAD_NAME = "c\x9b31m\x85\u2028.".encode()
FILE_NAME = "evil\x9b31m\x85\u2028\u202eyp.py"
SPIN = """
def spin(deadline):
    while monotonic() < deadline:
        pass
"""
namespace = {"monotonic": time.monotonic}
exec(compile(SPIN, FILE_NAME, "exec"), namespace)
spin = namespace["spin"]


def worker(name, named, deadline):
    ctypes.CDLL(None).prctl(PR_SET_NAME, name, 0, 0, 0)
    named.release()
    spin(deadline)


def main(seconds):
    deadline = time.monotonic() + seconds
    named = threading.Semaphore(0)
    threads = [threading.Thread(target=worker, args=(name, named, deadline))
               for name in (THREAD_NAME, CONTROLS_THREAD_NAME)]
    for thread in threads:
        thread.start()
    for thread in threads:
        named.acquire()
    print("ready", flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(float(sys.argv[1]))
