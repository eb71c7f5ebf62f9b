"""Stress: strobe at its highest rate on a target whose stacks, threads and
code objects never stop changing (tests/workloads/stress.py), on every
interpreter. It must not crash, must report its error rate, and must never
report a stack the program cannot have: every parent->child edge between
the workload's own functions is one that exists in its source.

STROBE_STRESS_SECONDS sets the time per interpreter (default 4)."""

import os
import re

from conftest import captured_samples, parse_collapsed, run_strobe, workload

SECONDS = float(os.environ.get("STROBE_STRESS_SECONDS", "4"))

# Edges between functions of stress.py and churn_stack.py, which it imports
# (plain names: 3.8-3.10 have no qualified names). Threads start in
# threading.py, which is not checked.
ALLOWED = {
    ("<module>", "main"), ("main", "churn_for"), ("churn_for", "climb"), ("climb", "climb"),
    ("climb", "gen_values"), ("climb", "raise_and_catch"),
    ("short_task", "leaf_task"),
}
CHURN = re.compile(r"<churn (\d+)>")


SCRIPTS = {"stress.py", "churn_stack.py"}


def check_stack(stack):
    frames = stack.frames
    for parent, child in zip(frames, frames[1:]):
        p_file, c_file = os.path.basename(parent.file), os.path.basename(child.file)
        p_name, c_name = parent.function.rsplit(".", 1)[-1], child.function.rsplit(".", 1)[-1]
        if p_file in SCRIPTS and c_file in SCRIPTS:
            assert (p_name, c_name) in ALLOWED, f"impossible edge {p_name} -> {c_name}"
        pm, cm = CHURN.fullmatch(parent.file), CHURN.fullmatch(child.file)
        if pm and cm:
            # driver_N calls f_N, in the file compiled for N, and nothing else.
            assert (p_name, c_name) == (f"driver_{pm.group(1)}", f"f_{cm.group(1)}"), (p_name, c_name)
            assert pm.group(1) == cm.group(1), (parent.file, child.file)
        if cm and not pm:
            # code_churn runs the compiled module, then calls driver_N.
            assert p_name == "code_churn" and c_name in ("<module>", f"driver_{cm.group(1)}"), \
                (p_name, c_name)
        for f in (parent, child):
            m = CHURN.fullmatch(f.file)
            if m:
                assert re.fullmatch(rf"(driver|f)_{m.group(1)}|<module>",
                                    f.function.rsplit(".", 1)[-1]), f


def test_stress_never_crashes_or_reports_an_impossible_stack(tmp_path, python):
    out = tmp_path / "stacks.txt"
    r = run_strobe("run", "-r", "1M", "--collapsed", "-o", out, "--stats", python.executable,
                   workload("stress.py"), str(SECONDS), timeout=SECONDS * 10 + 60)
    assert r.returncode == 0, r.stderr
    m = re.search(r"^threads (\d+) created (\d+)$", r.stdout, re.M)
    assert m and int(m.group(1)) > 10 and int(m.group(2)) > 100, r.stdout
    samples, _ = captured_samples(r.stderr)
    assert samples > 1000
    # The error rate is reported, whatever it is.
    errors = re.search(r"^Error rate: ([\d.]+)%", r.stderr, re.M)
    assert errors, r.stderr
    print(f"{python.label}: {samples} samples, error rate {errors.group(1)}%")
    stacks = parse_collapsed(out.read_text(encoding="utf-8"))
    assert stacks
    for stack in stacks:
        check_stack(stack)
    seen = {f.function.rsplit(".", 1)[-1] for s in stacks for f in s.frames}
    missing = {"climb", "short_task", "code_churn"} - seen
    assert not missing, missing
