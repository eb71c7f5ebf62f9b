"""Load generator for demo/service.py: a few clients alternating between the
CPU-heavy and the thread-pool endpoint.
Usage: loadgen.py BASE_URL SECONDS
"""
import sys
import threading
import time
import urllib.request

CLIENTS = 3


def client(base, deadline, counts, index):
    n = 0
    while time.monotonic() < deadline:
        path = "/quote?items=60" if n % 3 else "/report"
        with urllib.request.urlopen(base + path, timeout=10) as response:
            response.read()
        n += 1
    counts[index] = n


def main():
    base, seconds = sys.argv[1], float(sys.argv[2])
    deadline = time.monotonic() + seconds
    counts = [0] * CLIENTS
    threads = [threading.Thread(target=client, args=(base, deadline, counts, i))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"loadgen: {sum(counts)} requests in {seconds:g} s", flush=True)


if __name__ == "__main__":
    main()
