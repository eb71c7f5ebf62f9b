"""A profiler is attached to production processes: whatever the target does
(dies, execs, forks) and whatever happens to strobe (signals, unwritable
output), strobe ends cleanly or carries on, writes what it collected, and
never touches the target beyond reading it."""

import os
import signal
import subprocess
import time

from conftest import (STROBE, captured_samples, newest, parse_report_rows, run_strobe,
                      start_workload, workload)


def functions(report):
    return {row.function for row in parse_report_rows(report)}


def test_target_killed_mid_sampling():
    proc = start_workload(newest(), "hot_loop.py", "30")
    strobe = subprocess.Popen([STROBE, "attach", str(proc.pid), "-r", "100k", "-l", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    out, err = strobe.communicate(timeout=30)
    assert strobe.returncode == 0, err
    assert f"process {proc.pid} exited" in err
    samples, _ = captured_samples(out)
    assert samples > 1000
    assert any("do_POST" in f for f in functions(out))


def test_follows_exec_into_python(python):
    proc = start_workload(python, "exec_self.py", "python", "1.0")
    r = run_strobe("attach", proc.pid, "-l", "0", timeout=60)
    proc.wait()
    assert r.returncode == 0, r.stderr
    assert f"process {proc.pid} exec'd" in r.stderr
    seen = functions(r.stdout)
    assert "before_exec" in seen and "after_exec" in seen, seen


def test_exec_into_another_program_keeps_the_profile():
    proc = start_workload(newest(), "exec_self.py", "other", "1.0")
    r = run_strobe("attach", proc.pid, "-l", "0", timeout=60)
    proc.wait()
    assert r.returncode == 0, r.stderr
    assert "exec'd /usr/bin/sleep" in r.stderr or "exec'd /bin/sleep" in r.stderr, r.stderr
    assert "before_exec" in functions(r.stdout)


def test_target_forks():
    proc = start_workload(newest(), "fork_child.py", "1.5")
    r = run_strobe("attach", proc.pid, "-l", "0", timeout=60)
    proc.wait()
    assert r.returncode == 0, r.stderr
    seen = functions(r.stdout)
    assert "parent_loop" in seen and "child_loop" not in seen, seen


def test_killed_strobe_leaves_the_old_output_untouched(tmp_path):
    out = tmp_path / "profile.txt"
    out.write_text("previous profile\n")
    proc = start_workload(newest(), "hot_loop.py", "30")
    try:
        strobe = subprocess.Popen([STROBE, "attach", str(proc.pid), "-o", str(out)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        strobe.kill()
        strobe.wait()
        assert proc.poll() is None, "the target must keep running"
    finally:
        proc.kill()
        proc.wait()
    assert out.read_text() == "previous profile\n"
    assert os.listdir(tmp_path) == ["profile.txt"]


def test_second_sigint_exits_at_once():
    strobe = subprocess.Popen([STROBE, "run", newest().executable, workload("ignore_sigint.py"), "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert strobe.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        strobe.send_signal(signal.SIGINT)
        # The report is written; strobe then waits for the program, which
        # ignores SIGINT and runs on...
        deadline = time.time() + 10
        out = ""
        while "Captured" not in out and time.time() < deadline:
            out += strobe.stdout.readline()
        assert "Captured" in out
        time.sleep(0.5)
        assert strobe.poll() is None
        # ...until a second Ctrl-C.
        started = time.time()
        strobe.send_signal(signal.SIGINT)
        strobe.wait(timeout=5)
        assert time.time() - started < 2
        assert strobe.returncode == 130
    finally:
        strobe.kill()
        strobe.wait()
        subprocess.run(["pkill", "-f", "ignore_sigint.py"])


def test_unwritable_output_is_a_clear_error():
    proc = start_workload(newest(), "hot_loop.py", "30")
    try:
        r = run_strobe("attach", proc.pid, "-d", "0.5", "-o", "/nonexistent-strobe-dir/out.txt")
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 1
    assert "strobe: cannot write /nonexistent-strobe-dir/out.txt: No such file or directory" in r.stderr
    # What was collected is still shown.
    samples, _ = captured_samples(r.stderr)
    assert samples > 100


def test_full_disk_is_a_clear_error():
    proc = start_workload(newest(), "hot_loop.py", "30")
    try:
        r = run_strobe("attach", proc.pid, "-d", "0.5", "-l", "0", "-o", "/dev/full")
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 1
    assert "cannot write /dev/full: No space left on device" in r.stderr
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


def test_strobe_only_ever_reads_the_target():
    """No write path into another process exists in the binary: no
    process_vm_writev, no ptrace, no /proc/PID/mem."""
    imports = subprocess.run(["nm", "-D", "--undefined-only", STROBE], capture_output=True,
                             text=True, check=True).stdout
    for forbidden in ("process_vm_writev", "ptrace"):
        assert forbidden not in imports, forbidden
    with open(STROBE, "rb") as f:
        assert b"/mem\0" not in f.read()     # as in "/proc/%d/mem"; strings end in NUL
