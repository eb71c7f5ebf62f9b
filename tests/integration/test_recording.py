"""The binary recording and `strobe replay`.

A recording streamed beside an output (--record) must replay into exactly
the bytes of that output, for every format; a recording cut short by a
killed strobe must replay up to where it stops; a damaged file must be a
clear error; stacks of any depth must survive.
"""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import STROBE, newest, parse_collapsed, run_strobe, workload

FORMATS = ["report", "collapsed", "jsonl", "pstats", "speedscope", "pprof", "flamegraph", "heatmap"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """format -> (direct output, recording of the same run)."""
    out = tmp_path_factory.mktemp("recorded")
    made = {}
    for fmt in FORMATS:
        direct, rec = out / f"direct.{fmt}", out / f"{fmt}.bin"
        flag = [] if fmt == "report" else [f"--{fmt}"]
        r = run_strobe("run", "-r", "5k", *flag, "-o", direct, "--record", rec,
                       newest().executable, workload("thread_pool.py"), "0.6")
        assert r.returncode == 0, r.stderr
        assert f"strobe: wrote {rec}" in r.stderr
        made[fmt] = (direct, rec)
    return made


@pytest.mark.parametrize("fmt", FORMATS)
def test_replay_gives_the_same_output(recorded, fmt, tmp_path):
    direct, rec = recorded[fmt]
    replayed = tmp_path / f"replayed.{fmt}"
    flag = [] if fmt == "report" else [f"--{fmt}"]
    r = run_strobe("replay", rec, *flag, "-o", replayed)
    assert r.returncode == 0, r.stderr
    assert "stops early" not in r.stderr
    assert replayed.read_bytes() == direct.read_bytes()


def test_binary_alone_and_its_default_name(tmp_path):
    r = run_strobe("run", "-r", "2k", "--binary", "-o", tmp_path, newest().executable,
                   workload("deep.py"), "0.5", "1000")
    assert r.returncode == 0, r.stderr
    (name,) = os.listdir(tmp_path)
    assert re.fullmatch(r"binary_\d+\.bin", name)
    assert "Captured" in r.stderr
    # Deep stacks survive whole (Tachyon's binary format cuts at 256 frames).
    r = run_strobe("replay", tmp_path / name, "--collapsed")
    assert r.returncode == 0, r.stderr
    deepest = max(len(s.frames) for s in parse_collapsed(r.stdout))
    assert deepest > 1000


def test_killed_strobe_leaves_a_replayable_recording(tmp_path):
    rec = tmp_path / "cut.bin"
    strobe = subprocess.Popen([STROBE, "run", "-r", "5k", "--binary", "-o", rec,
                               newest().executable, workload("hot_loop.py"), "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert strobe.stdout.readline().strip() == "ready"
        time.sleep(2.5)     # blocks are written at least every second
        strobe.send_signal(signal.SIGKILL)
        strobe.wait(timeout=10)
    finally:
        strobe.kill()
        strobe.wait()
        subprocess.run(["pkill", "-f", workload("hot_loop.py")])
    r = run_strobe("replay", rec, "--collapsed")
    assert r.returncode == 0, r.stderr
    assert "stops early" in r.stderr
    total = sum(s.count for s in parse_collapsed(r.stdout))
    assert total > 1000
    assert any(s.frames[-1].function.endswith("do_POST") for s in parse_collapsed(r.stdout))


def test_damaged_recordings_are_clear_errors(recorded, tmp_path):
    _, rec = recorded["collapsed"]
    data = rec.read_bytes()
    cases = {
        "not_a_recording": b"hello, world\n" * 4,
        "empty": b"",
        "future_version": data[:8] + b"\x09\x00\x00\x00" + data[12:],
        "flipped": data[:40] + bytes(b ^ 0xFF for b in data[40:80]) + data[80:],
        "lying_size": data[:16] + b"\xff\xff\xff\x7f" + data[20:],
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        r = run_strobe("replay", path, "--collapsed")
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith("strobe: ") and re.search(
            r"not a strobe recording|not supported|damaged", line), (name, line)
        assert "Traceback" not in r.stderr and r.stdout == ""
    r = run_strobe("replay", tmp_path / "missing.bin")
    assert r.returncode == 1 and "cannot read" in r.stderr


def test_record_options_are_checked():
    r = run_strobe("run", "--binary", "--record", "x.bin", "true")
    assert r.returncode == 2 and "--record" in r.stderr
    r = run_strobe("replay")
    assert r.returncode == 2 and "needs a recording" in r.stderr
    r = run_strobe("replay", "x.bin", "--binary")
    assert r.returncode == 2


@pytest.mark.skipif(newest().minor < 14, reason="crafting a recording needs Python 3.14+")
def test_a_sample_on_a_thread_root_is_damage(tmp_path):
    # Every recorded stack has a frame; a sample on the thread's root node
    # would reach outputs that never gave that node a stack.
    craft = os.path.join(os.path.dirname(__file__), "craft_recording.py")
    for node, ok in ((1, True), (0, False)):
        rec = tmp_path / f"node{node}.bin"
        subprocess.run([newest().executable, craft, rec, str(node)], check=True)
        r = run_strobe("replay", rec, "--collapsed")
        if ok:
            assert r.returncode == 0 and r.stdout == "tid:1234;/tmp/x.py:work:10 3\n", r
        else:
            assert r.returncode == 1 and r.stderr.strip().endswith(
                "strobe: the recording is damaged (block 1)"), r.stderr


@pytest.mark.skipif(newest().minor < 14, reason="crafting a recording needs Python 3.14+")
def test_names_that_are_not_text_are_damage(tmp_path):
    # strobe records every name it reads from a target as text: valid UTF-8
    # without control characters (python/strings.c). A recording with other
    # bytes is damaged; replayed, a line break, a terminal escape or a byte
    # Python cannot decode would break the report, the folded stacks and
    # pstats.
    craft = os.path.join(os.path.dirname(__file__), "craft_recording.py")
    for k, function in enumerate(("w\nork", "w\x1b[31mork", "w\x85ork", "w\u2028ork",
                                  "w\udcffork")):
        rec = tmp_path / f"name{k}.bin"
        subprocess.run([newest().executable, craft, rec, "1", function], check=True)
        for fmt in ("--collapsed", "--pstats"):
            r = run_strobe("replay", rec, fmt, "-o", tmp_path / "out")
            assert r.returncode == 1 and r.stderr.strip().endswith(
                "strobe: the recording is damaged (block 1)"), (function, r.stderr)
    # A thread's name is cleaned as the kernel's is when sampling.
    rec = tmp_path / "thread.bin"
    subprocess.run([newest().executable, craft, rec, "1", "wörk", "t\x1b\u2028\udcff"],
                   check=True)
    r = run_strobe("replay", rec, "--jsonl")
    assert r.returncode == 0, r.stderr
    stacks = [json.loads(line) for line in r.stdout.splitlines() if '"stack"' in line]
    assert [(s["thread"], s["frames"][0]["function"]) for s in stacks] == [("t???", "wörk")]
