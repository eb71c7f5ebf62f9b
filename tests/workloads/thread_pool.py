"""Four ThreadPoolExecutor workers busy in distinctly named functions while
the main thread waits: the case a main-thread-only sampler misses.
Usage: thread_pool.py [SECONDS]
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def spin(seconds):
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


def worker_alpha(seconds):
    return spin(seconds)


def worker_bravo(seconds):
    return spin(seconds)


def worker_charlie(seconds):
    return spin(seconds)


def worker_delta(seconds):
    return spin(seconds)


def main(seconds):
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(f, seconds)
                   for f in (worker_alpha, worker_bravo, worker_charlie, worker_delta)]
        print("ready", flush=True)
        for f in futures:
            f.result()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5)
