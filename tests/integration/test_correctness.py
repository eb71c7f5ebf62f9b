"""What the sampling engine must never get wrong, whatever its caches and
however fast the target changes: names of reused code objects, stacks read
while they change, and the accounting of time."""

import os
import re

from conftest import (captured_samples, marker_line, parse_collapsed, parse_report_rows,
                      qualified, run_strobe, start_workload, workload)


def test_reused_code_objects_never_show_stale_names(tmp_path, python):
    out = tmp_path / "stacks.txt"
    r = run_strobe("run", "-r", "20k", "--collapsed", "-o", out, "--stats", python.executable,
                   workload("churn_code.py"), "2.5")
    assert r.returncode == 0, r.stderr
    created = int(re.search(r"^created (\d+)$", r.stdout, re.M).group(1))
    assert created > 1000, "the workload must churn thousands of functions"
    pairs = 0
    for stack in parse_collapsed(out.read_text(encoding="utf-8")):
        names = [f.function for f in stack.frames]
        files = [f.file for f in stack.frames]
        for name, file in zip(names, files):
            m = re.fullmatch(r"(?:driver|f)_(\d+)", name)
            if m:
                # A function that existed, in the file it was compiled as.
                assert int(m.group(1)) < created and file == f"<churn {m.group(1)}>", (name, file)
        for parent, child in zip(names, names[1:]):
            if parent.startswith("driver_") and child.startswith("f_"):
                # driver_N only ever calls f_N: anything else is a stale name.
                assert parent[len("driver_"):] == child[len("f_"):], names
                pairs += stack.count
    assert pairs > 1000
    # The address reuse this test is about did happen.
    assert "replaced after their address was reused" in r.stderr


ALLOWED_EDGES = {("<module>", "main"), ("main", "churn_for"), ("churn_for", "climb"),
                 ("climb", "climb"),
                 ("climb", "gen_values"), ("climb", "raise_and_catch")}
# Where each caller stands while its callee runs: a caller reported
# anywhere else (a loop caught between two calls, its callee's frame still
# in memory) is a stack the program never had.
CALL_MARKERS = {("<module>", "main"): "main(float(", ("main", "churn_for"): "churn_for(seconds)\n",
                ("churn_for", "climb"): "climb(depth)\n",
                ("climb", "climb"): "return climb(depth - 1) + 1",
                ("climb", "gen_values"): "sum(gen_values(3))",
                ("climb", "raise_and_catch"): "raise_and_catch(1)"}


def test_changing_stacks_are_never_impossible(python):
    """A thread whose stack moves constantly is read while it moves: each
    stack must be one that could exist, down to the line of every call, and
    the other thread must be in every sample (a torn read costs only its own
    thread)."""
    proc = start_workload(python, "churn_stack.py", "30")
    try:
        r = run_strobe("attach", proc.pid, "-r", "20k", "-d", "2", "--collapsed")
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    script = os.path.basename(workload("churn_stack.py"))
    call_lines = {edge: marker_line("churn_stack.py", text) for edge, text in CALL_MARKERS.items()}
    stacks = parse_collapsed(r.stdout)
    steady = 0
    for stack in stacks:
        frames = [f for f in stack.frames]
        names = [f.function for f in frames]
        if "steady" in names:
            steady += stack.count
        for parent, child in zip(frames, frames[1:]):
            if os.path.basename(parent.file) != script or os.path.basename(child.file) != script:
                continue
            edge = (parent.function.rsplit(".", 1)[-1], child.function.rsplit(".", 1)[-1])
            assert edge in ALLOWED_EDGES, f"impossible edge {edge} in {names}"
            assert parent.line == call_lines[edge], f"{edge[0]} at line {parent.line} calling {edge[1]}"
    samples, _ = captured_samples(r.stderr)
    errors = sum(int(n) for n in re.findall(r"(\d+) [a-z ]+(?:,|\))", r.stderr.split("Error rate:")[1].splitlines()[0]))
    assert steady + errors >= samples, (steady, errors, samples)


def test_time_adds_up_to_the_duration(python):
    """Each sample is weighted by the real time since the previous one, so a
    single thread's root adds up to the profiled time, however many samples
    were missed (here: asked for far more than can be taken). Attached, so
    that the main thread is inside <module> for the whole profile."""
    proc = start_workload(python, "hot_loop.py", "30")
    try:
        r = run_strobe("attach", proc.pid, "-r", "1M", "-d", "1.5", "-l", "0")
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    m = re.search(r"^Captured \d+ samples in ([\d.]+) seconds", r.stdout, re.M)
    duration = float(m.group(1))
    assert "missed" in r.stdout    # the rate asked for was out of reach
    rows = parse_report_rows(r.stdout)
    module = [row for row in rows if row.function == "<module>" and row.file == "hot_loop.py"]
    total = sum(row.cumtime for row in module)
    assert abs(total - duration) <= 0.01 * duration, (total, duration)
    # And the hot line's share of time matches its share of samples.
    top = rows[0]
    assert top.function == qualified(python, "Handler.do_POST")
    assert abs(top.tottime / total * 100 - top.sample_pct) < 2.0
