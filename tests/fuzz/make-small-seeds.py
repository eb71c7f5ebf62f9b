#!/usr/bin/env python3
"""Seeds for fuzz_linetable and fuzz_debug_offsets, from real interpreters:
line tables of a function compiled by each CPython found (one per table
format), and the _Py_DebugOffsets tables inside the recorded fuzz_sampler
seeds (3.13+). Run from the repository root after `make fuzz-seeds`."""

import os
import struct
import subprocess
import sys

sys.path.insert(0, "tests")
import pythons  # noqa: E402

CORPUS = "tests/fuzz/corpus"
FORMATS = {8: 0, 9: 0, 10: 1}          # LNOTAB, PEP626; 3.11+ LOCATIONS (2)
PROGRAM = r"""
import sys
def sample(n):
    total = 0
    for i in range(n):
        if i % 3:
            total += i * i
        else:
            total -= 1
    try:
        raise ValueError(total)
    except ValueError:
        pass
    return [x for x in range(n)]
c = sample.__code__
table = c.co_linetable if sys.version_info >= (3, 10) else c.co_lnotab
sys.stdout.buffer.write(c.co_firstlineno.to_bytes(4, "little", signed=True) + table)
"""


def line_tables():
    os.makedirs(f"{CORPUS}/linetable", exist_ok=True)
    done = set()
    for p in pythons.discover():
        if not p.supported() or p.debug or p.minor in done:
            continue
        done.add(p.minor)
        out = subprocess.run([p.executable, "-c", PROGRAM], capture_output=True, check=True).stdout
        fmt = FORMATS.get(p.minor, 2)
        with open(f"{CORPUS}/linetable/3.{p.minor}", "wb") as f:
            f.write(bytes([fmt]) + out)


def debug_offsets():
    os.makedirs(f"{CORPUS}/debug_offsets", exist_ok=True)
    for name in sorted(os.listdir(f"{CORPUS}/sampler")):
        data = open(f"{CORPUS}/sampler/{name}", "rb").read()
        minor, _, runtime = struct.unpack_from("<8xIIQ", data)
        if minor < 13 or not name.endswith("hot_loop"):
            continue
        at, table = 40, b""
        while at + 12 <= len(data):
            addr, length = struct.unpack_from("<QI", data, at)
            at += 12
            if addr == runtime and length > len(table):
                table = data[at:at + length]    # the whole table, not a first peek
            at += length
        with open(f"{CORPUS}/debug_offsets/3.{minor}", "wb") as f:
            f.write(table[8:])                   # the fuzzer supplies the cookie


line_tables()
debug_offsets()
