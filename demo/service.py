"""A small shop backend to profile with strobe.

Two endpoints with different shapes of work:
  GET /quote?items=N   CPU-heavy: prices a basket in pure Python
  GET /report          fans out to a thread pool: several named jobs in
                       parallel (the work a main-thread-only profiler misses)

With --load SECONDS it starts its own load generator (demo/loadgen.py) as a
separate process against itself, and exits when the load is done, so
`strobe run python3 demo/service.py --load 5` profiles a busy service.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

REPORT_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="report")


def price_item(sku):
    # A deliberately naive pricing rule: the hot spot of /quote.
    price = 0
    for step in range(400):
        price = (price * 31 + sku * step) % 1000003
    return price / 100


def quote(items):
    return sum(price_item(sku) for sku in range(items))


def load_orders():
    return [(i, (i * 7919) % 997) for i in range(20000)]


def aggregate_totals():
    totals = {}
    for i in range(30000):
        totals[i % 97] = totals.get(i % 97, 0) + i
    return len(totals)


def render_chart():
    rows = ["#" * (i % 60) for i in range(3000)]
    return sum(len(r) for r in rows)


def compress_archive():
    data = bytes(range(256)) * 200
    return sum(data[i] ^ data[-i - 1] for i in range(len(data)))


def build_report():
    jobs = [REPORT_POOL.submit(job) for job in
            (load_orders, aggregate_totals, render_chart, compress_archive)]
    return [job.result() is not None for job in jobs]


class ShopHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/quote":
            items = int(parse_qs(url.query).get("items", ["50"])[0])
            body = {"total": quote(items)}
        elif url.path == "/report":
            body = {"jobs": build_report()}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--load", type=float, metavar="SECONDS",
                        help="run the load generator for SECONDS, then exit")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), ShopHandler)
    port = server.server_address[1]
    print(f"shop: listening on http://127.0.0.1:{port}", flush=True)
    if args.load is None:
        server.serve_forever()
        return
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loadgen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loadgen.py")
    subprocess.run([sys.executable, loadgen, f"http://127.0.0.1:{port}", str(args.load)],
                   check=True)
    server.shutdown()
    REPORT_POOL.shutdown()


if __name__ == "__main__":
    main()
