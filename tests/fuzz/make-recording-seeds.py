#!/usr/bin/env python3
"""Seeds for fuzz_recording: real recordings made by strobe.

For each workload, a short --binary recording becomes two seeds: the file
itself (first byte 0x00: "a whole file") and its records decompressed
(first byte 0x01: "records the harness wraps in a block"), so mutations
reach both the block layer and the record parser. Needs Python 3.14+ for
compression.zstd.
Usage: make-recording-seeds.py STROBE PYTHON
"""
import os
import subprocess
import sys
import tempfile

from compression import zstd

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(os.path.dirname(HERE), "workloads")
OUT = os.path.join(HERE, "corpus", "recording")
HEADER, BLOCK_HEADER = 16, 8


def records(data):
    pos, out = HEADER, b""
    while pos + BLOCK_HEADER <= len(data):
        packed = int.from_bytes(data[pos + 4:pos + 8], "little")
        out += zstd.decompress(data[pos + BLOCK_HEADER:pos + BLOCK_HEADER + packed])
        pos += BLOCK_HEADER + packed
    return out


def main(strobe, python):
    os.makedirs(OUT, exist_ok=True)
    for name, args in (("hot_loop", ["0.3"]), ("thread_pool", ["0.3"]), ("deep", ["0.3", "300"])):
        with tempfile.TemporaryDirectory() as tmp:
            rec = os.path.join(tmp, "r.bin")
            subprocess.run([strobe, "run", "-r", "500", "--binary", "-o", rec, python,
                            os.path.join(WORKLOADS, f"{name}.py"), *args],
                           check=True, capture_output=True)
            with open(rec, "rb") as f:
                data = f.read()
        with open(os.path.join(OUT, f"{name}-file"), "wb") as f:
            f.write(b"\x00" + data)
        with open(os.path.join(OUT, f"{name}-records"), "wb") as f:
            f.write(b"\x01" + records(data))
    print("seeds:", len(os.listdir(OUT)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
