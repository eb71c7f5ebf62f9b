"""Write a small strobe recording by hand, for tests of what replay must
refuse. Needs Python 3.14+ (compression.zstd).
Usage: craft_recording.py OUT SAMPLE_NODE [FUNCTION [THREAD]]
One thread (root node 0, named THREAD, default "main") with one frame
(node 1, function FUNCTION, default "work"); three rounds, the middle
one's sample on SAMPLE_NODE, the others on node 1; with SAMPLE_NODE -1,
three rounds without a sample (the thread never ran Python). Names are
written as the bytes of the argument (os.fsencode: any bytes). Record
layout: see docs/recording.md.
"""
import os
import struct
import sys
from compression import zstd

RECORDING_VERSION = 1


def varint(n):
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        out += bytes([low | (0x80 if n else 0)])
        if not n:
            return out


def text(raw):
    return varint(len(raw)) + raw


def records(sample_node, function=b"work", thread=b"main"):
    recs = varint(1) + varint(1234) + varint(1_000_000) + varint(1_700_000_000 * 10**9)  # META
    recs += varint(2) + text(b"/tmp/x.py") + varint(2) + text(function)  # strings 2, 3
    recs += varint(3) + varint(2) + varint(3) + varint(10 * 2) + varint(1 * 2)  # frame 1
    recs += varint(4) + varint(1234) + text(thread)      # thread root: node 0
    recs += varint(5) + varint(0) + varint(1)           # node 1: frame 1 under it
    for i in range(3):
        recs += varint(6) + varint(1_000_000)           # a round
        if sample_node >= 0:
            recs += varint(7) + varint(sample_node if i == 1 else 1) + varint(1_000_000)
    recs += varint(10) + varint(0)
    stacks = 3 if sample_node >= 0 else 0
    # samples, missed, thread stacks, errors, truncated, start, end, interval,
    # wall-clock start, depth limit, most threads, stop reason, pid
    end = [3, 0, stacks, 0, 0, 0, 3_000_000, 1_000_000, 1_700_000_000 * 10**9, 100, 1, 2, 1234]
    recs += varint(9) + b"".join(varint(x) for x in end) + b"".join(varint(0) for _ in range(5))
    recs += text(b"CPython 3.12.1") + text(b"3.12.1")
    return recs


def main(out, sample_node, *names):
    recs = records(sample_node, *map(os.fsencode, names))
    packed = zstd.compress(recs)
    with open(out, "wb") as f:
        f.write(b"STROBREC" + struct.pack("<II", RECORDING_VERSION, 0))
        f.write(struct.pack("<II", len(recs), len(packed)) + packed)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:5])
