"""The main thread ends (pthread_exit, as an embedding program's can) while
a worker thread goes on spinning in worker_loop: the kernel keeps the ended
main thread as a zombie, without memory of its own, until the worker ends
the process.
Usage: main_thread_exits.py SECONDS   (the worker prints "ready TID", its
kernel thread id, once the main thread has ended)
"""
import ctypes
import os
import sys
import threading
import time


def main_thread_ended():
    """/proc/PID is the main thread: a zombie once it has ended."""
    with open(f"/proc/{os.getpid()}/status") as f:
        return any(line.startswith("State:\tZ") for line in f)


def worker_loop(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def worker(seconds):
    while not main_thread_ended():
        time.sleep(0.01)
    print("ready", threading.get_native_id(), flush=True)
    worker_loop(seconds)
    os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=worker, args=(float(sys.argv[1]),), name="worker").start()
    # ctypes lets go of the GIL for the call, which never returns: the
    # worker runs on.
    ctypes.CDLL(None).pthread_exit(None)
