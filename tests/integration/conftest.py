"""End-to-end tests: strobe against real CPython interpreters.

Every test that takes a `python` argument runs once per supported
interpreter found on this machine (pyenv, PATH, $STROBE_TEST_PYTHONS; see
tests/pythons.py). The session fails if none is found, and the versions
covered are printed at the start and the end.
"""

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
WORKLOADS = os.path.join(TESTS, "workloads")
sys.path.insert(0, TESTS)

import pythons  # noqa: E402

STROBE = os.environ.get("STROBE") or os.path.join(ROOT, "build", "strobe")
ALL_PYTHONS = pythons.discover()
SUPPORTED = [p for p in ALL_PYTHONS if p.supported()]
UNSUPPORTED = [p for p in ALL_PYTHONS if not p.supported() and not p.free_threaded]


def covered():
    return ", ".join(p.label for p in SUPPORTED) or "none"


def pytest_report_header(config):
    return [f"strobe binary: {STROBE}", f"CPython versions under test: {covered()}"]


def pytest_sessionstart(session):
    if not SUPPORTED:
        pytest.exit("no CPython 3.8-3.15 interpreter found (pyenv, PATH, STROBE_TEST_PYTHONS)",
                    returncode=1)
    if not os.access(STROBE, os.X_OK):
        pytest.exit(f"strobe binary not found at {STROBE} (run make)", returncode=1)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"CPython versions covered: {covered()}")


def pytest_generate_tests(metafunc):
    if "python" in metafunc.fixturenames:
        metafunc.parametrize("python", SUPPORTED, ids=[p.label for p in SUPPORTED])


def workload(name):
    return os.path.join(WORKLOADS, name)


def newest():
    """The newest interpreter found, for tests that need only one."""
    return SUPPORTED[-1]


def run_strobe(*args, input=None, timeout=120):
    """Run strobe to completion; returns the CompletedProcess (text)."""
    return subprocess.run([STROBE, *map(str, args)], input=input, capture_output=True, text=True,
                          timeout=timeout)


def start_workload(python, script, *args):
    """Start a workload and wait for its "ready" line."""
    proc = subprocess.Popen([python.executable, workload(script), *map(str, args)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"workload {script} did not start: {line!r}"
    return proc


@dataclass
class Frame:
    file: str
    function: str
    line: int


@dataclass
class Stack:
    tid: int
    frames: list
    count: int


def parse_collapsed(text):
    """Strictly parse folded stacks: tid:N;file:func:line;... COUNT"""
    stacks = []
    for raw in text.splitlines():
        body, _, count = raw.rpartition(" ")
        parts = body.split(";")
        m = re.fullmatch(r"tid:(\d+)", parts[0])
        assert m, f"bad thread field in {raw!r}"
        frames = []
        for part in parts[1:]:
            file, function, line = part.rsplit(":", 2)
            frames.append(Frame(file, function, int(line)))
        assert frames, f"empty stack in {raw!r}"
        stacks.append(Stack(int(m.group(1)), frames, int(count)))
    return stacks


ROW = re.compile(r"^\s*(\d+)/(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(.+):(-?\d+)\((.*)\)$")


@dataclass
class Row:
    direct: int
    cumulative: int
    sample_pct: float
    tottime: float
    cumul_pct: float
    cumtime: float
    file: str
    line: int
    function: str


def parse_report_rows(text):
    rows = []
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            g = m.groups()
            rows.append(Row(int(g[0]), int(g[1]), float(g[2]), float(g[3]), float(g[4]),
                            float(g[5]), g[6], int(g[7]), g[8]))
    return rows


def captured_samples(text):
    m = re.search(r"^Captured (\d+) samples? in ([\d.]+) seconds$", text, re.M)
    assert m, f"no capture summary in:\n{text}"
    return int(m.group(1)), float(m.group(2))


def marker_line(script, marker):
    with open(workload(script), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if marker in line:
                return number
    raise AssertionError(f"{marker} not in {script}")


def qualified(python, qualname):
    """The name strobe reports: co_qualname from 3.11, co_name before."""
    return qualname if python.minor >= 11 else qualname.rsplit(".", 1)[-1]


def dead_pid():
    """A PID that is certainly not running: a child that has been reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    time.sleep(0.01)
    return proc.pid
