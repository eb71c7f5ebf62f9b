"""A profiler is attached to production processes: whatever the target does
(dies, execs, forks) and whatever happens to strobe (signals, unwritable
output), strobe ends cleanly or carries on, writes what it collected, and
never touches the target beyond reading it."""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import (STROBE, SUPPORTED, captured_samples, newest, parse_collapsed, parse_report_rows,
                      qualified, run_strobe,
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
    # The new interpreter's version is learned whole, micro included, as
    # the first one's was.
    version = ".".join(map(str, python.version))
    assert re.search(rf"^Target: .*CPython {re.escape(version)}\b", r.stdout, re.M), r.stdout


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


def worker_loop_stacks(collapsed):
    return [st for st in parse_collapsed(collapsed)
            if any(f.function == "worker_loop" for f in st.frames)]


def test_attach_after_the_main_thread_ended(python):
    """The process lives on in its other threads: it is read through one of
    them, and on 3.8-3.10 their ids are still found (main's is cleared)."""
    proc = subprocess.Popen([python.executable, workload("main_thread_exits.py"), "2.5"],
                            stdout=subprocess.PIPE, text=True)
    try:
        word, tid = proc.stdout.readline().split()
        assert word == "ready"
        r = run_strobe("attach", proc.pid, "-d", "1", "--collapsed", timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    stacks = worker_loop_stacks(r.stdout)
    assert sum(st.count for st in stacks) > 500, r.stdout
    assert {st.tid for st in stacks} == {int(tid)}, r.stdout


def test_run_goes_on_after_the_main_thread_ended(tmp_path):
    """The profile covers the worker's whole run, not only the main
    thread's life."""
    out = tmp_path / "folded"
    r = run_strobe("run", "--collapsed", "-o", out, newest().executable,
                   workload("main_thread_exits.py"), "1.5", timeout=60)
    assert r.returncode == 0, r.stderr
    _, seconds = captured_samples(r.stderr)
    assert seconds > 1.4, r.stderr
    folded = out.read_text()
    assert sum(st.count for st in worker_loop_stacks(folded)) > 1000, folded


def runtime_in_executable(python):
    """sys.base_prefix if the interpreter's runtime is in its executable
    (no libpython), else None."""
    out = subprocess.run([python.executable, "-c",
                          "import sys; print(any('/libpython' in line for line in "
                          "open('/proc/self/maps')), sys.base_prefix)"],
                         capture_output=True, text=True, check=True).stdout.split()
    return None if out[0] == "True" else out[1]


# /proc/PID/map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE), which
# a user profiling their own processes does not have.
WITHOUT_CAP_SYS_ADMIN = (["setpriv", "--bounding-set=-sys_admin,-checkpoint_restore"]
                         if os.geteuid() == 0 else [])


def test_attach_to_a_replaced_executable_without_cap_sys_admin(python, tmp_path):
    """An upgrade replaces the python binary of a running program: the
    mapped file, deleted, is still opened, through /proc/PID/exe."""
    prefix = runtime_in_executable(python)
    if prefix is None:
        pytest.skip("the runtime is in libpython, not in the executable")
    exe = tmp_path / "python-upgraded"
    shutil.copy(python.executable, exe)
    proc = subprocess.Popen([exe, workload("hot_loop.py"), "30"], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONHOME": prefix})
    try:
        assert proc.stdout.readline().strip() == "ready"
        exe.unlink()
        shutil.copy(python.executable, exe)     # a new file, at the same path
        r = subprocess.run([*WITHOUT_CAP_SYS_ADMIN, STROBE, "attach", str(proc.pid), "-d", "1",
                            "-l", "0"], capture_output=True, text=True, timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    assert any("do_POST" in f for f in functions(r.stdout)), r.stdout


def dynamic_loader_of(python):
    """The dynamic loader (ld.so) the interpreter runs under."""
    out = subprocess.run([python.executable, "-c",
                          "print(next(l.split()[-1] for l in open('/proc/self/maps') "
                          "if '/ld-linux' in l))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_renamed_python_started_through_the_dynamic_loader(python, tmp_path):
    """`ld.so ./service app.py`: the executable is ld.so, and the python
    binary, named otherwise, is only one more mapped file."""
    prefix = runtime_in_executable(python)
    if prefix is None:
        pytest.skip("the runtime is in libpython, not in the executable")
    service = tmp_path / "service"
    shutil.copy(python.executable, service)
    out = tmp_path / "folded"
    r = subprocess.run([STROBE, "run", "--collapsed", "-o", out, dynamic_loader_of(python),
                        service, workload("hot_loop.py"), "0.5"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONHOME": prefix})
    assert r.returncode == 0, r.stderr
    stacks = parse_collapsed(out.read_text())
    assert any(f.function.endswith("do_POST") for st in stacks for f in st.frames), stacks


def test_a_deleted_libpython_that_cannot_be_opened_is_said_so(tmp_path):
    """A deleted libpython has no other way in than map_files: strobe says
    why it finds no runtime, not only that it found none."""
    shared = [p for p in SUPPORTED if runtime_in_executable(p) is None]
    if not shared:
        pytest.skip("no interpreter with its runtime in libpython")
    python = shared[-1]
    libdir = subprocess.run([python.executable, "-c",
                             "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    library = f"libpython3.{python.minor}.so.1.0"
    shutil.copy(os.path.join(libdir, library), tmp_path / library)
    proc = subprocess.Popen([python.executable, workload("hot_loop.py"), "30"],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "LD_LIBRARY_PATH": str(tmp_path)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        (tmp_path / library).unlink()
        r = subprocess.run([*WITHOUT_CAP_SYS_ADMIN, STROBE, "attach", str(proc.pid), "-d", "1"],
                           capture_output=True, text=True, timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 1
    assert f"{tmp_path / library} was deleted or replaced" in r.stderr, r.stderr
    assert "CAP_SYS_ADMIN" in r.stderr, r.stderr


def libpython_of(python):
    """The path of the interpreter's libpython, or None."""
    out = subprocess.run([python.executable, "-c",
                          "import os, sysconfig; v = sysconfig.get_config_var; "
                          "print(os.path.join(v('LIBDIR') or '', v('INSTSONAME') or ''))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out if out.endswith(".so.1.0") and os.path.isfile(out) else None


EMBEDDED_LOOP = """
import time
def in_embedded():
    end = time.perf_counter() + 0.8
    while time.perf_counter() < end:
        pass
in_embedded()
"""


def test_a_runtime_the_loader_is_still_mapping(python, tmp_path):
    """A process caught while ld.so maps libpython in (the whole span from
    the file's start, the data segment not yet over it) shows other bytes of
    the file where _PyRuntime will be. strobe waits for the load to finish:
    it never refuses the runtime as an unknown layout on the strength of
    those bytes."""
    library = libpython_of(python)
    if not library:
        pytest.skip("no libpython for this interpreter")
    program = tmp_path / "half_loaded"
    subprocess.run(["cc", "-o", program, workload("half_loaded.c")], check=True)
    proc = subprocess.Popen([program, library, "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        r = run_strobe("attach", proc.pid, "-l", "0", timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 1, r.stderr
    assert f"process {proc.pid} ({program}) was still loading its CPython runtime " \
        f"({library})" in r.stderr, r.stderr
    # strobe run waits for it as for any program not yet running Python.
    r = run_strobe("run", "-l", "0", program, library, "0.3", timeout=30)
    assert r.returncode == 1, r.stderr
    assert "was still loading its CPython runtime" in r.stderr, r.stderr
    assert "it exited with status 0" in r.stderr, r.stderr


def test_a_program_that_unloads_libpython(python, tmp_path):
    """A plugin host loads libpython, runs Python, unloads it and goes on:
    strobe says so and waits, and the rounds after count no errors."""
    library = libpython_of(python)
    if not library:
        pytest.skip("no libpython for this interpreter")
    program = tmp_path / "unload_runtime"
    subprocess.run(["cc", "-o", program, workload("unload_runtime.c"), "-ldl"], check=True)
    out = tmp_path / "folded"
    r = run_strobe("run", "-r", "2k", "--collapsed", "-o", out, program, library, EMBEDDED_LOOP,
                   "1.5", timeout=60)
    if r.returncode == 2:
        pytest.skip(f"{library} cannot be loaded by a program built here: {r.stderr}")
    assert r.returncode == 0, r.stderr
    assert "unloaded its CPython runtime" in r.stderr, r.stderr
    m = re.search(r"^Error rate: ([\d.]+)%", r.stderr, re.M)
    assert m and float(m.group(1)) < 5, r.stderr
    stacks = parse_collapsed(out.read_text())
    assert any(f.function == "in_embedded" for st in stacks for f in st.frames), stacks


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


def test_unwritable_output_is_a_clear_error_before_profiling():
    proc = start_workload(newest(), "hot_loop.py", "30")
    try:
        started = time.time()
        r = run_strobe("attach", proc.pid, "-d", "5", "-o", "/nonexistent-strobe-dir/out.txt")
        took = time.time() - started
        assert proc.poll() is None  # the target is left alone
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 1
    assert r.stderr == ("strobe: cannot write /nonexistent-strobe-dir/out.txt: no file can be "
                        "created in /nonexistent-strobe-dir (No such file or directory)\n")
    assert took < 4, took   # said at once, not after profiling for --duration


@pytest.mark.parametrize("flags", [["--record", "/nonexistent-strobe-dir/r.bin"],
                                   ["--binary", "-o", "/nonexistent-strobe-dir/"],
                                   ["--flamegraph", "-o", "/nonexistent-strobe-dir/"]],
                         ids=["record", "binary", "directory"])
def test_unwritable_output_launches_nothing(tmp_path, flags):
    marker = tmp_path / "launched"
    r = run_strobe("run", *flags, newest().executable, "-c",
                   f"open({str(marker)!r}, 'w').close()")
    assert r.returncode == 1
    assert r.stderr.startswith("strobe: cannot write /nonexistent-strobe-dir/"), r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert not marker.exists()


def test_recording_and_output_cannot_be_one_file(tmp_path):
    marker = tmp_path / "launched"
    r = subprocess.run([STROBE, "run", "--record", "same.txt", "-o", str(tmp_path / "same.txt"),
                        newest().executable, "-c", f"open({str(marker)!r}, 'w').close()"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr == ("strobe: --record and -o name the same file: give the recording a "
                        "name of its own\n")
    assert not marker.exists()


def test_output_to_dev_stdout_keeps_what_the_shell_appended_to(tmp_path):
    # `strobe run -o /dev/stdout ... >> log`: the report goes where stdout
    # goes, after what was there; the file is neither replaced nor truncated.
    log = tmp_path / "log.txt"
    log.write_text("old line\n")
    with open(log, "a") as out:
        r = subprocess.run([STROBE, "run", "-o", "/dev/stdout", newest().executable, "-c",
                            "print('from the program')"], stdout=out, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = log.read_text()
    assert text.startswith("old line\nfrom the program\n"), text
    captured_samples(text)
    assert "wrote" not in r.stderr


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
    # What was collected is still shown.
    samples, _ = captured_samples(r.stderr)
    assert samples > 100


def test_strobe_only_ever_reads_the_target():
    """No write path into another process exists in the binary: no
    process_vm_writev, no ptrace, no /proc/PID/mem."""
    imports = subprocess.run(["nm", "-D", "--undefined-only", STROBE], capture_output=True,
                             text=True, check=True).stdout
    for forbidden in ("process_vm_writev", "ptrace"):
        assert forbidden not in imports, forbidden
    with open(STROBE, "rb") as f:
        assert b"/mem\0" not in f.read()     # as in "/proc/%d/mem"; strings end in NUL


def test_killed_strobe_leaves_no_temporary_recording(tmp_path):
    # --gecko keeps the samples' times in a temporary recording: a strobe
    # SIGKILLed meanwhile must not leave it behind.
    proc = start_workload(newest(), "hot_loop.py", "30")
    try:
        strobe = subprocess.Popen([STROBE, "attach", str(proc.pid), "--gecko", "-o",
                                   str(tmp_path / "out.json")], env={**os.environ,
                                                                   "TMPDIR": str(tmp_path)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.7)
        strobe.kill()
        strobe.wait()
    finally:
        proc.kill()
        proc.wait()
    assert not [p for p in os.listdir(tmp_path) if p.startswith("strobe-recording-")]


def profile_hostile_names(*args):
    """Profile hostile_names.py for 0.5 s with strobe's `args`; the result."""
    proc = start_workload(newest(), "hostile_names.py", "30")
    try:
        r = run_strobe("attach", proc.pid, "-d", "0.5", *args)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    return r


def test_thread_names_that_are_not_utf8_come_out_as_utf8(tmp_path):
    # The target names its threads: bytes shaped like UTF-8 that are not
    # (a surrogate, a code point past U+10FFFF) must not reach the output.
    out = tmp_path / "profile.json"
    profile_hostile_names("--speedscope", "-o", out)
    profile = json.loads(out.read_bytes().decode("utf-8"))
    names = [p["name"] for p in profile["profiles"]]
    assert any(name.startswith("s??? b???? (tid ") for name in names), names


def test_control_characters_in_thread_names_do_not_reach_the_output(tmp_path):
    # A thread the target named with a terminal's CSI (U+009B), a next-line
    # control (U+0085) and a line separator (U+2028), well-formed UTF-8 the
    # kernel keeps as is: each is '?', as in function names, and JSON lines
    # stay one record per line, even to str.splitlines.
    out = tmp_path / "profile.jsonl"
    profile_hostile_names("--jsonl", "-o", out)
    text = out.read_bytes().decode("utf-8")
    assert not set(text) & {"\x9b", "\x85", "\u2028"}
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == text.count("\n")
    assert "c?31m??." in {rec.get("thread") for rec in records}


def test_control_characters_in_names_do_not_reach_the_output():
    # A file name (any str the target chose) with a terminal's CSI (U+009B),
    # a next-line control (U+0085), a line separator (U+2028) and a
    # right-to-left override (U+202E): each is '?' in the report, which
    # stays one line per row and in order.
    r = profile_hostile_names("-l", "0")
    assert not set(r.stdout) & {"\x9b", "\x85", "\u2028", "\u202e"}, r.stdout
    assert "evil?31m???yp.py:" in r.stdout, r.stdout
    assert r.stdout.splitlines() == r.stdout.split("\n")[:-1]


def attach_to_fake_threads(mode, count):
    """Profile fake_threads.py for 1 s; the result and how long it took."""
    proc = start_workload(newest(), "fake_threads.py", mode, count, "30")
    try:
        started = time.time()
        r = run_strobe("attach", proc.pid, "-d", "1", "-l", "0", "--stats", timeout=120)
        took = time.time() - started
        assert proc.poll() is None  # the target survived its own scribbling
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    return r, took


def peak_memory_mib(stats):
    return float(re.search(r"peak memory\s+([\d.]+) MiB", stats).group(1))


def test_thread_states_leading_into_one_long_chain_of_frames():
    # Each of 64 fake threads leads into the same chain of frames, as long as
    # strobe walks for one stack and with no Python frame in it. A sample
    # walked it once per thread: 7 s and 1.4 GB for `-d 1`. Each walk is an
    # error; the real thread is still sampled.
    r, took = attach_to_fake_threads("chain", 64)
    assert took < 4, took
    assert peak_memory_mib(r.stderr) < 512, r.stderr
    assert "frame chain loops" in r.stdout.splitlines()[2], r.stdout
    assert "busy_main" in functions(r.stdout)


def test_thousands_of_thread_states_leading_into_the_same_frames():
    # 4000 fake threads share one chain of frames: each sample's walks are
    # bounded, and so is what the read plan keeps of them (every frame read
    # on demand was remembered again for each thread: 270 MB).
    r, took = attach_to_fake_threads("chain", 4000)
    assert took < 4, took
    assert peak_memory_mib(r.stderr) < 128, r.stderr
    assert "busy_main" in functions(r.stdout)


def test_thousands_of_thread_states_whose_frames_never_read():
    # 4000 fake threads, each leading into a frame that is its own caller:
    # each got a read of the whole plan for itself in every sample (30 GB
    # read per sample, seconds each). Second looks are few per sample now.
    r, took = attach_to_fake_threads("cycle", 4000)
    read_kib = float(re.search(r"bytes read\s+([\d.]+) KiB per sample", r.stderr).group(1))
    assert read_kib < 2 * 1024 * 1024, r.stderr
    assert took < 4, took
    assert "frame chain loops" in r.stdout.splitlines()[2], r.stdout
    assert "busy_main" in functions(r.stdout)


def test_thread_states_naming_threads_the_target_does_not_have():
    # 16 fake thread states lead into the real thread's frames, under ids
    # rewritten every millisecond with random values no thread has: each
    # was one more thread in the profile, for ever (540k threads and 362 MB
    # in 10 s). They are thread list errors; the real threads are sampled.
    r, took = attach_to_fake_threads("random", 16)
    assert took < 4, took
    threads = int(re.search(r"(\d+) threads seen", r.stdout).group(1))
    assert threads == 2, r.stdout
    assert re.search(r"\d+ thread list changed while being read", r.stdout), r.stdout
    assert {"busy_main", "rewrite_ids"} <= set(functions(r.stdout))


def test_a_target_scribbling_on_its_own_interpreter(tmp_path, python):
    # While a thread waits on a lock, its frames, its code object's names
    # and line table, the thread list and its frame pointer are made to
    # hold garbage (hostile.py), at 100 kHz: strobe neither crashes nor
    # stalls, counts what it cannot read as errors, keeps its output UTF-8,
    # never hangs the waiting function on another caller, and still samples
    # the healthy thread.
    out = tmp_path / "stacks.txt"
    r = run_strobe("run", "-r", "100k", "--collapsed", "-o", out, python.executable,
                   workload("hostile.py"), "all", "1", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ready\ndone "), r.stdout
    assert "Error rate: 0.00%" not in r.stderr, r.stderr
    stacks = parse_collapsed(out.read_bytes().decode("utf-8"))
    assert any(f.function == "healthy_spin" for s in stacks for f in s.frames)
    outer = qualified(python, "Outer.outer")
    lines = victim_lines()
    for s in stacks:
        names = [f.function for f in s.frames]
        for at, f in enumerate(s.frames):
            # Its name or its line may be garbage, not both at once.
            if "im_fn" in f.function or (f.file.endswith("hostile.py") and f.line in lines
                                         and f.function != outer):
                assert at > 0 and names[at - 1] == outer, names


def victim_lines():
    """The lines of hostile.py's Victim.victim_fn, by number."""
    with open(workload("hostile.py")) as f:
        lines = f.read().splitlines()
    first = next(n for n, line in enumerate(lines, 1) if "def victim_fn" in line)
    last = next(n for n, line in enumerate(lines, 1) if n > first and "return 0" in line)
    return range(first, last + 1)
