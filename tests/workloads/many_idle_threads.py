"""Hundreds of threads parked on an Event while the main thread sleeps in
short naps: a server's idle pool. Prints "ready" once every thread runs.
Usage: many_idle_threads.py THREADS SECONDS
"""
import sys
import threading
import time


def park(event):
    event.wait()


def main(count, seconds):
    event = threading.Event()
    threads = [threading.Thread(target=park, args=(event,)) for _ in range(count)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    event.set()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
