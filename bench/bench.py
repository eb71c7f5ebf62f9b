#!/usr/bin/env python3
"""strobe's benchmark: strobe beside Tachyon on the same workloads, same run.

For every workload (bench/workloads/) and interpreter found (tests/pythons.py;
release builds only), it measures, for strobe and — on CPython 3.15, the only
version it can profile — for Tachyon (`python3.15 -m profiling.sampling`):

  - samples/s achieved when asked for 1 MHz, with missed % and error %;
  - the profiler's own CPU per sample and its peak resident memory;
  - system calls per sample (strobe's own count, from --stats);
  - the slowdown of the workload (its iterations per second against a run
    without a profiler) at 10 kHz and 100 kHz, and the profiler's CPU at
    10 kHz beside the cost of merely waking up 10,000 times a second here;
  - missed % at 10 kHz and 100 kHz, the latter beside what a sampler that
    costs nothing misses here (bench/gap_floor.c).

Both profilers launch the workload (`run`), and their CPU and memory are
read from /proc for the profiler process alone, never its child.
Writes the table to stdout and bench/RESULTS.md. `bench.py slowdown` (make
bench-slowdown) takes the 100 kHz slowdown apart with controls that only
read (bench/SLOWDOWN.md). `bench.py sched` (make
bench-sched) instead compares strobe's --sched policies: bench/SCHED.md.

Environment: BENCH_SECONDS (default 3), BENCH_PHASES (default 8),
BENCH_PYTHONS (labels to include, e.g. "3.12.1 3.15.2"), BENCH_QUICK=1
(3 phases per slowdown, fewer seconds, no 60 s memory run).
"""

import datetime
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pythons  # noqa: E402

STROBE = os.environ.get("STROBE", os.path.join(ROOT, "build", "strobe"))
WAKE_FLOOR = os.path.join(ROOT, "build", "bench", "wake_floor")
SYSCALL_FLOOR = os.path.join(ROOT, "build", "bench", "syscall_floor")
CACHELINE_FLOOR = os.path.join(ROOT, "build", "bench", "cacheline_floor")
COLD_READER = os.path.join(ROOT, "build", "bench", "cold_reader")
GAP_FLOOR = os.path.join(ROOT, "build", "bench", "gap_floor")
FORMATS = ["collapsed", "jsonl", "pstats", "speedscope", "pprof", "flamegraph", "gecko"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = float(os.environ.get("BENCH_SECONDS", "2" if QUICK else "3"))
MEMORY_SECONDS = 10 if QUICK else 60
# Slowdowns (slowdown()): phases with the profiler per measurement, each
# between two without it; seconds per phase; the workload's window (a report
# of its progress); the time a profiler is given to start before it is first
# paused; what is left out of a phase after the profiler is let go, and at
# every other edge.
PHASES = int(os.environ.get("BENCH_PHASES", "3" if QUICK else "8"))
PHASE_SECONDS = 1.0
WINDOW_SECONDS = 0.05
STARTUP_SECONDS = 2.0
SETTLE_SECONDS = 0.3
EDGE_SECONDS = 0.05
FORMATS_SECONDS = 5 if QUICK else 25
WORKLOADS = [("shallow", "1 thread, 5-deep stack"),
             ("deep", "1 thread, 300-deep stack"),
             ("threads8", "8 busy threads")]
CLK_TCK = os.sysconf("SC_CLK_TCK")


class ProcWatch:
    """Samples /proc for one process until it exits: its own CPU time
    (utime+stime, children excluded) and peak RSS (VmHWM)."""

    def __init__(self, pid):
        self.pid, self.cpu, self.rss_kb = pid, 0.0, 0
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        while True:
            try:
                with open(f"/proc/{self.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{self.pid}/status") as f:
                    status = f.read()
            except OSError:
                return
            if fields[0] == "Z":
                return
            self.cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
            m = re.search(r"VmHWM:\s+(\d+)", status)
            if m:
                self.rss_kb = int(m.group(1))
            time.sleep(0.02)


def run(cmd, timeout=600):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = ProcWatch(proc.pid)
    out, err = proc.communicate(timeout=timeout)
    watch.thread.join(timeout=1)
    return out, err, watch


def workload(name):
    return os.path.join(BENCH, "workloads", name + ".py")


def number(pattern, text, default=None):
    m = re.search(pattern, text, re.M)
    return float(m.group(1).replace(",", "")) if m else default


def accounting(text):
    return {
        "samples_s": number(r"^Sample rate: ([\d.,]+)", text, 0.0),
        "error_pct": number(r"^Error rate: ([\d.]+)", text, 0.0),
        "missed_pct": number(r"^Warning: missed .*\(([\d.]+)%\)", text, 0.0),
        "samples": number(r"^Captured ([\d,]+) samples?", text, 0.0),
        "seconds": number(r"^Captured [\d,]+ samples? in ([\d.]+) seconds", text, 0.0),
        # strobe --stats only: the missed rounds that came due while it
        # waited and the kernel woke it late (the rest: while it sampled).
        "missed_late": number(r"^  missed rounds .*, (\d+) as strobe was woken late", text),
        "due": number(r"^Warning: missed \d+ samples from the expected total of (\d+)", text),
    }


def strobe_cmd(python, name, rate, seconds):
    return [STROBE, "run", "-r", rate, "--collapsed", "-o", "/dev/null", "--stats",
            python.executable, workload(name), str(seconds)]


def tachyon_cmd(python, name, rate, seconds):
    return [python.executable, "-m", "profiling.sampling", "run", "-a", "-r", rate,
            "--no-summary", "-l", "1", workload(name), str(seconds)]


def profile_once(cmd_fn, python, name, rate, seconds):
    out, err, watch = run(cmd_fn(python, name, rate, seconds))
    text = out + err
    result = accounting(text)
    result["cpu_s"] = watch.cpu
    result["rss_mb"] = watch.rss_kb / 1024
    result["syscalls"] = number(r"system calls\s+([\d.]+) per sample", text)
    return result


def strobe_attach_cmd(pid, rate, seconds):
    return [STROBE, "attach", str(pid), "-r", rate, "-d", str(seconds), "--collapsed",
            "-o", "/dev/null"]


def tachyon_attach_cmd(python, pid, rate, seconds):
    return [python.executable, "-m", "profiling.sampling", "attach", "-a", "-r", rate,
            "-d", str(seconds), "--no-summary", "-l", "1", str(pid)]


class WindowReader:
    """Runs a workload with windows (bench/workloads/windows.py) and keeps
    its progress as (CLOCK_MONOTONIC seconds, iterations so far) at the end
    of every window."""

    def __init__(self, python, name, seconds, report_frames=False):
        env = dict(os.environ, BENCH_REPORT_FRAMES="1") if report_frames else None
        self.proc = subprocess.Popen([python.executable, workload(name), str(seconds),
                                      str(WINDOW_SECONDS)],
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.ready = threading.Event()
        self.progress = []
        # What the workload said of where things are (bench/workloads/frames.py):
        # "frames": (outermost, innermost) frame addresses; "tstate",
        # "interp", "entry" (the entry frame): an address each.
        self.where = {}
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("ready"):
                self.ready.set()
            elif line.split()[:1] in (["frames"], ["tstate"], ["interp"], ["entry"]):
                name, *addresses = line.split()
                values = [int(v, 16) for v in addresses]
                self.where[name] = tuple(values) if name == "frames" else values[0]
            elif line.startswith("window "):
                _, end, done = line.split()
                self.progress.append((float(end), int(done)))
        self.ready.set()

    def done_by(self, t):
        """Iterations done by time t, interpolated between the windows' ends
        (a window can be long: the eight-thread workload's reporter waits for
        the GIL); None outside them."""
        for (t0, n0), (t1, n1) in zip(self.progress, self.progress[1:]):
            if t0 <= t <= t1:
                return n0 + (n1 - n0) * (t - t0) / (t1 - t0) if t1 > t0 else n0
        return None

    def rate(self, start, end):
        """Iterations per second between two times."""
        first, last = self.done_by(start), self.done_by(end)
        return (last - first) / (end - start) if first is not None and last is not None else None


def slowdown(attach_fn, python, name, rate, report_frames=False):
    """The workload's slowdown at a rate, measured within one process.

    Runs of one program differ here by more than the slowdowns being
    measured (this virtual machine's CPUs run at one speed for some seconds,
    at nearly half of it for others, with the host's load), so one workload
    runs throughout with one profiler attached, and the profiler is paused
    (SIGSTOP) and let go (SIGCONT) in turn: PHASES phases of PHASE_SECONDS
    with it, each between two without it, each compared with the mean of
    its two neighbours; the median of those is the slowdown. Beside it, the
    noise: the median change from one phase without the profiler to the
    next. The profiler's start-up is left out (it is started, given
    STARTUP_SECONDS, and paused before the first phase), and so is the first
    SETTLE_SECONDS after each SIGCONT: Tachyon catches up on the samples it
    missed while paused, strobe skips them. With report_frames, the
    workload says where its frames and thread state lie
    (bench/workloads/frames.py) and attach_fn gets the WindowReader that
    heard it as a fourth argument. Returns (slowdown %, noise %, the samples
    per second the profiler took while it ran)."""
    total = STARTUP_SECONDS + PHASE_SECONDS * (2 * PHASES + 1)
    reader = WindowReader(python, name, total + 30, report_frames)
    reader.ready.wait(timeout=60)
    args = (reader.proc.pid, rate, int(total) + 30) + ((reader,) if report_frames else ())
    profiler = subprocess.Popen(attach_fn(*args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = []    # drained as it comes, so that the profiler never blocks on it
    drains = [threading.Thread(target=lambda f=f: output.append(f.read()), daemon=True)
              for f in (profiler.stdout, profiler.stderr)]
    for d in drains:
        d.start()
    time.sleep(STARTUP_SECONDS)
    profiler.send_signal(signal.SIGSTOP)
    paused_since, paused = time.monotonic(), 0.0
    plain, profiled = [], []

    def phase(into, skip):
        begin = time.monotonic()
        time.sleep(PHASE_SECONDS)
        into.append((begin + skip, time.monotonic() - EDGE_SECONDS))

    phase(plain, EDGE_SECONDS)
    for _ in range(PHASES):
        profiler.send_signal(signal.SIGCONT)
        paused += time.monotonic() - paused_since
        phase(profiled, SETTLE_SECONDS)
        profiler.send_signal(signal.SIGSTOP)
        paused_since = time.monotonic()
        phase(plain, EDGE_SECONDS)
    # Let it go and stop it as Ctrl-C would: it reports what it sampled.
    profiler.send_signal(signal.SIGCONT)
    paused += time.monotonic() - paused_since
    profiler.send_signal(signal.SIGINT)
    try:
        profiler.wait(timeout=60)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()
    for d in drains:
        d.join(timeout=5)
    acc = accounting("".join(output))
    # Samples per second while it ran: its count over its time less the pauses.
    achieved = (acc["samples"] / (acc["seconds"] - paused)
                if acc["samples"] and acc["seconds"] > paused else None)
    # The last phase needs a window ending after it.
    waited = time.monotonic()
    while (not reader.progress or reader.progress[-1][0] < plain[-1][1]) and \
            time.monotonic() - waited < 5:
        time.sleep(WINDOW_SECONDS)
    reader.proc.kill()
    reader.proc.wait()
    reader.thread.join(timeout=5)
    plain_rates = [reader.rate(b, e) for b, e in plain]
    slow = []
    for i, (b, e) in enumerate(profiled):
        with_it, before, after = reader.rate(b, e), plain_rates[i], plain_rates[i + 1]
        if with_it and before and after:
            slow.append(100 * (1 - with_it / ((before + after) / 2)))
    noise = [100 * abs(1 - b / a) for a, b in zip(plain_rates, plain_rates[1:]) if a and b]
    print(f"  {name} {python.label} at {rate}: without the profiler "
          f"{', '.join(fmt(r, ',.0f') for r in plain_rates)} iterations/s; with it "
          f"{', '.join(f'{v:+.1f}%' for v in slow)}; {fmt(achieved, ',.0f')} samples/s",
          flush=True)
    return (statistics.median(slow) if slow else None,
            statistics.median(noise) if noise else None, achieved)


def rate_arg(cmd_fn, khz):
    """`khz` kHz as the profiler run by cmd_fn spells it."""
    return f"{khz}khz" if cmd_fn is tachyon_cmd else f"{khz}k"


def cost_at(cmd_fn, python, name, khz):
    """The profiler's CPU (% of one core, its start-up included), missed %
    and error % when asked for `khz` kHz, the missed % with the part of it
    woken late where the profiler tells."""
    r = profile_once(cmd_fn, python, name, rate_arg(cmd_fn, khz), SECONDS)
    missed = fmt(r["missed_pct"], ".2f")
    if r["missed_late"] is not None:
        missed += f" ({100 * r['missed_late'] / r['due'] if r['due'] else 0.0:.1f} woken late)"
    return 100 * r["cpu_s"] / max(r["seconds"], 1e-9), missed, r["error_pct"]


def measure(cmd_fn, python, name):
    attach_fn = (strobe_attach_cmd if cmd_fn is strobe_cmd
                 else lambda pid, rate, secs: tachyon_attach_cmd(python, pid, rate, secs))
    line_ns = cacheline_floor()
    best = profile_once(cmd_fn, python, name, rate_arg(cmd_fn, 1000), SECONDS)
    row = {
        "samples_s": best["samples_s"], "missed_pct": best["missed_pct"],
        "error_pct": best["error_pct"], "rss_mb": best["rss_mb"],
        "us_per_sample": 1e6 * best["cpu_s"] / best["samples"] if best["samples"] else None,
        "syscalls": best["syscalls"], "line_ns": line_ns,
    }
    row["cpu10k"], row["missed10k"], row["error10k"] = cost_at(cmd_fn, python, name, 10)
    row["free100k"] = gap_floor(100000)
    _, row["missed100k"], _ = cost_at(cmd_fn, python, name, 100)
    row["slow10k"], row["noise10k"], _ = slowdown(
        attach_fn, python, name, rate_arg(cmd_fn, 10))
    row["slow100k"], row["noise100k"], row["rate100k"] = slowdown(
        attach_fn, python, name, rate_arg(cmd_fn, 100))
    return row


def wake_floor():
    try:
        out = subprocess.run([WAKE_FLOOR, "10000", str(SECONDS)], capture_output=True, text=True,
                             timeout=60).stdout
    except OSError:
        return None
    return number(r"cpu_percent ([\d.]+)", out)


def gap_floor(rate_hz):
    """Missed % of a sampler that costs nothing, spinning to each slot at
    `rate_hz` for SECONDS, now: the slots that pass while the machine takes
    its CPU away."""
    try:
        out = subprocess.run([GAP_FLOOR, str(rate_hz), str(SECONDS)], capture_output=True,
                             text=True, timeout=60).stdout
    except OSError:
        return None
    return number(r"missed_percent ([\d.]+)", out)


def cacheline_floor():
    """ns for one cache line to go from CPU 0 to CPU 1 and back, now."""
    try:
        out = subprocess.run([CACHELINE_FLOOR, "200000"], capture_output=True, text=True,
                             timeout=60).stdout
    except OSError:
        return None
    return number(r"round_trip_ns ([\d.]+)", out)


def syscall_floor():
    """µs per process_vm_readv now: (one region, eight regions)."""
    try:
        out = subprocess.run([SYSCALL_FLOOR, "200000"], capture_output=True, text=True,
                             timeout=120).stdout
    except OSError:
        return None, None
    return number(r"one_region_us ([\d.]+)", out), number(r"eight_regions_us ([\d.]+)", out)


def formats_run(python, directory):
    """A recording of many distinct stacks, then each format made from it by
    `strobe replay`: seconds and peak RSS per format (replay included)."""
    rec = os.path.join(directory, "formats.bin")
    out, err, _ = run([STROBE, "run", "-r", "100k", "--binary", "-o", rec, python.executable,
                       workload("many_stacks"), str(FORMATS_SECONDS)],
                      timeout=FORMATS_SECONDS * 4 + 60)
    acc = accounting(out + err)
    rows = []
    for fmt_name in FORMATS:
        start = time.monotonic()
        _, _, watch = run([STROBE, "replay", rec, f"--{fmt_name}", "-o",
                           os.path.join(directory, f"out.{fmt_name}")])
        rows.append((fmt_name, time.monotonic() - start, watch.rss_kb / 1024))
    return acc["samples"], rows


def memory_run(python):
    """60 s at 100 kHz on a program with 10,000 distinct stacks."""
    out, err, watch = run([STROBE, "run", "-r", "100k", "--collapsed", "-o", "/dev/null",
                           python.executable, workload("many_stacks"), str(MEMORY_SECONDS)],
                          timeout=MEMORY_SECONDS * 4 + 60)
    acc = accounting(out + err)
    return watch.rss_kb / 1024, acc["samples"]


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.+)", f.read())
            model = m.group(1).strip() if m else model
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}"


HEADER = ("| workload | CPython | profiler | samples/s at 1 MHz | vs Tachyon | µs CPU/sample | "
          "syscalls/sample | missed % | error % | slowdown 10 kHz | missed % at 10 kHz | "
          "error % at 10 kHz | "
          "slowdown 100 kHz | samples/s at 100 kHz | missed % at 100 kHz | "
          "a free sampler's missed % at 100 kHz | "
          "CPU at 10 kHz | peak RSS MB | cache line round trip ns |")


def slowdown_cell(slow, noise):
    return f"{fmt(slow, '+.1f')}% (±{fmt(noise, '.1f')})"


def row_line(wl, py, who, r, ratio):
    return (f"| {wl} | {py.label} | {who} | {fmt(r['samples_s'], ',.0f')} | {ratio} | "
            f"{fmt(r['us_per_sample'], '.2f')} | {fmt(r['syscalls'], '.3f')} | "
            f"{fmt(r['missed_pct'], '.2f')} | {fmt(r['error_pct'], '.3f')} | "
            f"{slowdown_cell(r['slow10k'], r['noise10k'])} | {fmt(r['missed10k'], 's')} | "
            f"{fmt(r['error10k'], '.3f')} | "
            f"{slowdown_cell(r['slow100k'], r['noise100k'])} | {fmt(r['rate100k'], ',.0f')} | "
            f"{fmt(r['missed100k'], 's')} | {fmt(r['free100k'], '.2f')} | "
            f"{fmt(r['cpu10k'], '.1f')}% | {fmt(r['rss_mb'], '.1f')} | {fmt(r['line_ns'], '.0f')} |")


def interpreters():
    """One release build per CPython version found (BENCH_PYTHONS narrows it)."""
    wanted = os.environ.get("BENCH_PYTHONS", "").split()
    found = [p for p in pythons.discover() if p.supported() and not p.debug]
    chosen, seen = [], set()
    for p in found:
        if (wanted and p.label not in wanted) or p.version[:2] in seen:
            continue
        seen.add(p.version[:2])
        chosen.append(p)
    if not chosen:
        sys.exit("bench: no CPython 3.8-3.15 found")
    return chosen


def main():
    chosen = interpreters()
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    floor_before = syscall_floor()
    print(f"process_vm_readv now: {fmt(floor_before[0], '.2f')} µs (one region), "
          f"{fmt(floor_before[1], '.2f')} µs (eight regions)")
    print(HEADER)
    for wl, title in WORKLOADS:
        for py in chosen:
            r = measure(strobe_cmd, py, wl)
            tach = measure(tachyon_cmd, py, wl) if py.minor == 15 else None
            ratio = (f"{r['samples_s'] / tach['samples_s']:.1f}x"
                     if tach and tach["samples_s"] else "")
            for line in [row_line(title, py, "strobe", r, ratio)] + \
                        ([row_line(title, py, "Tachyon", tach, "1.0x")] if tach else []):
                print(line, flush=True)
                lines.append(line)
    control = cold_reader_control(chosen[-1])
    floor = wake_floor()
    floor_after = syscall_floor()
    mem_py = chosen[-1]
    rss, samples = memory_run(mem_py)
    with tempfile.TemporaryDirectory() as directory:
        formats = formats_run(mem_py, directory)
    write_results(lines, floor, (floor_before, floor_after), mem_py, rss, samples, formats,
                  control)


def cold_reader_control(python):
    """The slowdown at 100 kHz under bench/cold_reader.c, which reads only
    memory the workload never writes: (CPython label, slowdown %, noise %,
    reads/s)."""
    result = slowdown(lambda pid, rate, secs: [COLD_READER, str(pid), rate], python,
                      "shallow", "100000")
    return (python.label,) + result


def formats_table(formats):
    samples, rows = formats
    lines = ["| format | seconds (replay + write) | peak RSS MB |", "|---|---|---|"]
    # /proc is polled every 20 ms: a shorter run's peak memory goes unseen.
    lines += [f"| {name} | {fmt(secs, '.2f')} | {fmt(rss if secs >= 0.1 else None, '.1f')} |"
              for name, secs, rss in rows]
    return samples, "\n".join(lines)


def write_results(lines, floor, syscalls, mem_py, rss, samples, formats, control):
    (one_before, eight_before), (one_after, eight_after) = syscalls
    control_py, control_slow, control_noise, control_rate = control
    format_samples, format_lines = formats_table(formats)
    text = f"""# strobe benchmark results

Date: {datetime.date.today().isoformat()}
Machine: {machine()}
Command: `make bench` (bench/bench.py; {SECONDS:g} s per run; slowdowns from {PHASES} phases of {PHASE_SECONDS:g} s with the profiler)

Both profilers launch the workload (`run`) and are asked for 1 MHz for the
rate columns. CPU and memory are the profiler process's own (from /proc),
never its child's. Tachyon runs only where it can: CPython 3.15, its own
version, with `-a` so that it samples every thread as strobe does. strobe
runs with its defaults: its sampling thread is a batch thread (`--sched
batch`, see the README), whose wake-ups never preempt the workload. The CPU,
missed % and error % at 10 kHz, and the missed % at 100 kHz, are each from a
{SECONDS:g} s run of their own, the missed % with the part of it that came due
while strobe waited and the kernel woke it late (its `--stats`).

"A free sampler's missed %" (bench/gap_floor.c, run for {SECONDS:g} s just before
the row's 100 kHz run) is what a sampler whose samples cost nothing
missed at 100 kHz, spinning to each slot and skipping the slots that had
passed as strobe does: the slots that went by while this virtual machine
had its CPU taken away (by its kernel, or by the host, which it cannot
see). Its interval, 10 µs, is shorter than a sleep's lateness here, so
strobe spins too. It is the floor, as it stood then, under any sampler's
missed % here; it moves from run to run.

Slowdown is how much fewer iterations per second the workload did with the
profiler than without it (negative: more), measured inside one running
workload: the profiler is attached (`attach`) once, then paused (SIGSTOP)
and let go (SIGCONT) in turn, and each of {PHASES} phases of {PHASE_SECONDS:g} s with it is
compared with the phases without it either side (its first
{SETTLE_SECONDS:g} s left out: Tachyon catches up on the samples it missed while
paused). The table gives the median and, in brackets, the noise: the
median change from one phase without the profiler to the next. Separate
runs with and without a profiler cannot show a few per cent here: this
machine's CPUs run at one speed for some seconds and at little more than
half of it for others. "samples/s at 100 kHz" is what the profiler took
while it ran in those phases (Tachyon's with its catching up). Tests
assert no timings; this file is where the numbers live.

{chr(10).join(lines)}

A control (bench/cold_reader.c): a reader that copies 64 bytes the
workload never writes, one process_vm_readv each time, asked for 100 kHz
({fmt(control_rate, ',.0f')} reads/s), slowed the shallow workload on CPython {control_py} by
{fmt(control_slow, '+.1f')}% (±{fmt(control_noise, '.1f')}). The system call alone costs the target
little; what slows it under a profiler is the profiler copying the memory
it is writing (below).

Waking up 10,000 times a second with nothing to do (bench/wake_floor.c) costs
{fmt(floor, '.1f')}% of a core on this machine: the floor under "CPU at 10 kHz" for
any profiler that sleeps between samples.

The last column is how long one cache line took to go from one CPU to the
other and back (bench/cacheline_floor.c) just before the row's 1 MHz run.
strobe copies the lines the workload is writing (its innermost frame, its
thread state) with every sample, and the workload must then fetch them
back. This virtual machine's host runs its two CPUs sometimes on cores that
share a cache (round trip near 75 ns) and sometimes on cores far apart
(near 370 ns), and switches between the two while the benchmark runs. Far
apart, the same binary on the same workload often samples about half as
fast and costs the workload more at 100 kHz. It is not the only cause: on
one host, with the CPUs close, 3.8-3.11's shallow stacks changed during
most reads and those rows took a third of what they took on another. Read
that column, and compare rows of one run.

One `process_vm_readv` (bench/syscall_floor.c, from a sleeping process)
cost {fmt(one_before, '.2f')} µs for one small region and {fmt(eight_before, '.2f')} µs for eight regions
before the table above, {fmt(one_after, '.2f')} µs and {fmt(eight_after, '.2f')} µs after it: the floor under
every sample. On this virtual machine it varies several-fold from hour to
hour with the host's load, and the rates above move with it.

Memory on a program with 10,000 distinct stacks (bench/workloads/many_stacks.py),
{MEMORY_SECONDS} s at 100 kHz on CPython {mem_py.label}: {fmt(samples, ',.0f')} samples,
peak RSS {fmt(rss, '.1f')} MB.

Every output format made by `strobe replay` from one recording of that
program ({FORMATS_SECONDS} s at 100 kHz, {fmt(format_samples, ',.0f')} samples), on CPython {mem_py.label}:

{format_lines}
"""
    with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
        f.write(text)
    print(f"\nwake-up floor at 10 kHz: {fmt(floor, '.1f')}% of a core")
    print(f"10,000 distinct stacks, {MEMORY_SECONDS} s at 100 kHz: {fmt(samples, ',.0f')} samples, "
          f"peak RSS {fmt(rss, '.1f')} MB")
    print("wrote bench/RESULTS.md")


SCHED_POLICIES = ["batch", "normal", "idle"]
SCHED_WORKLOADS = [("threads8", "8 busy threads"), ("shallow", "1 thread, 5-deep stack")]


def sched_main():
    """`make bench-sched`: strobe's --sched policies side by side at 10 kHz
    on the newest interpreter: slowdown (as in the main table), missed %
    and CPU. Writes bench/SCHED.md."""
    py = interpreters()[-1]
    lines = ["| workload | --sched | slowdown 10 kHz | missed % at 10 kHz | CPU at 10 kHz |",
             "|---|---|---|---|---|"]
    for wl, title in SCHED_WORKLOADS:
        for policy in SCHED_POLICIES:
            slow, noise, _ = slowdown(
                lambda pid, rate, secs, p=policy: strobe_attach_cmd(pid, rate, secs) +
                ["--sched", p], py, wl, "10k")
            cpu, missed, _ = cost_at(
                lambda python, name, rate, secs, p=policy:
                [STROBE, "run", "--sched", p] + strobe_cmd(python, name, rate, secs)[2:], py, wl,
                10)
            line = (f"| {title} | {policy} | {slowdown_cell(slow, noise)} | {missed} | "
                    f"{fmt(cpu, '.1f')}% |")
            print(line, flush=True)
            lines.append(line)
    text = f"""# strobe's scheduling policies (`--sched`) compared

Date: {datetime.date.today().isoformat()}
Machine: {machine()}
Command: `make bench-sched` (bench/bench.py sched; CPython {py.label})

strobe asked for 10 kHz with each policy: the workload's slowdown measured
as in RESULTS.md (one running workload, {PHASES} phases of {PHASE_SECONDS:g} s with strobe, the
noise in brackets), and the missed % (with the part woken late) and
strobe's CPU from a {SECONDS:g} s run of their own. batch is the default.

{chr(10).join(lines)}
"""
    with open(os.path.join(BENCH, "SCHED.md"), "w") as f:
        f.write(text)
    print("wrote bench/SCHED.md")


# What strobe's read plan for the shallow workload on CPython 3.15.2 holds
# (seen with a build that printed its plan), as (offset, bytes) from where
# the workload says each thing is: of its frames, from the outermost to the
# innermost one's owner byte (offset 74), the last field read before its
# locals ("frames" is the innermost frame's offset from the outermost); of
# the thread state, through the base frame 3.15 keeps inside it (at 888);
# of the evaluation loop's entry frame on the C stack; of the interpreter,
# its thread list and code generation counter, read last.
PLAN_RANGES = {(3, 15): {"frames": (0, 75), "tstate": (0, 963), "entry": (0, 75),
                         "interp": (0x1c60, 688)}}
CONTROL_ROUNDS = 3
CONTROL_RATE = "100000"


def plan_range(python, reader, part):
    """The bytes strobe copies of one part of the workload ("frames",
    "tstate", "entry", "interp") as cold_reader's ADDR:LEN; None if
    unknown. The frames are one range, as strobe's plan has them."""
    offset, size = PLAN_RANGES.get(python.version[:2], {}).get(part, (0, 0))
    where = reader.where.get(part)
    if not where or not size:
        return None
    if part == "frames":
        outermost, innermost = where
        return f"{outermost:x}:{innermost - outermost + size}"
    return f"{where + offset:x}:{size}"


def slowdown_parts_main():
    """`make bench-slowdown`: what slows the shallow workload at 100 kHz,
    part by part: bench/cold_reader.c spinning to the same deadlines and
    reading nothing, reading 64 bytes the workload never writes, reading
    only the bytes of its frames, or of its thread state, or of both, that
    strobe copies, or everything strobe reads as its read plan has it, and
    strobe itself; CONTROL_ROUNDS times, in turn. Writes bench/SLOWDOWN.md."""
    py = interpreters()[-1]
    if py.version[:2] not in PLAN_RANGES:
        sys.exit(f"bench: the frame control needs CPython 3.15 (found {py.label})")
    nbytes = {}

    def reading(*parts):
        def command(pid, rate, secs, reader):
            ranges = [plan_range(py, reader, part) for part in parts]
            if None in ranges:
                sys.exit("bench: the workload did not say where its frames are")
            for part, where in zip(parts, ranges):
                nbytes[part] = int(where.split(":")[1])
            return [COLD_READER, str(pid), rate] + ranges
        return command

    readers = [
        ("spins to the same deadlines, reads nothing",
         lambda pid, rate, secs, reader: [COLD_READER, str(pid), rate, "none"]),
        ("reads 64 bytes the workload never writes (its executable's header)",
         lambda pid, rate, secs, reader: [COLD_READER, str(pid), rate]),
        ("reads the bytes of its frames strobe copies, once", reading("frames")),
        ("reads the bytes of its thread state strobe copies, once", reading("tstate")),
        ("reads both, once, in one call", reading("frames", "tstate")),
        ("reads all strobe reads, in its order, in one call",
         reading("frames", "tstate", "entry", "frames", "interp")),
        ("strobe", lambda pid, rate, secs, reader: strobe_attach_cmd(pid, rate, secs)),
    ]
    lines = ["| reader at 100 kHz | round | rounds/s | slowdown | cache line round trip ns before |",
             "|---|---|---|---|---|"]
    for n in range(1, CONTROL_ROUNDS + 1):
        for title, fn in readers:
            trip = cacheline_floor()
            slow, noise, achieved = slowdown(fn, py, "shallow", CONTROL_RATE, report_frames=True)
            line = (f"| {title} | {n} | {fmt(achieved, ',.0f')} | {slowdown_cell(slow, noise)} | "
                    f"{fmt(trip, '.0f')} |")
            print(line, flush=True)
            lines.append(line)
    text = f"""# What slows the workload down at 100 kHz

Date: {datetime.date.today().isoformat()}
Machine: {machine()}
Command: `make bench-slowdown` (bench/bench.py slowdown; CPython {py.label})

The 1-thread, 5-deep workload (bench/workloads/shallow.py) under readers
asked for 100 kHz, its slowdown measured as in RESULTS.md (one running
workload, {PHASES} phases of {PHASE_SECONDS:g} s with the reader, the noise in brackets). All
but the last are bench/cold_reader.c, which spins to absolute deadlines as
strobe does at this rate and makes one `process_vm_readv` per deadline:
of nothing; of 64 bytes the workload never writes; of the
{nbytes.get("frames", "?")} bytes from its outermost frame to the fields strobe reads of its
innermost; of the {nbytes.get("tstate", "?")} bytes of its thread state strobe copies (through
the base frame 3.15 keeps in it); of both (each once, where strobe copies
the frames twice, around the pointer to the innermost one); of everything
strobe's read plan holds, in its order: the frames, the thread state, the
{nbytes.get("entry", "?")} bytes of the evaluation loop's entry frame on the C stack, the frames
again and {nbytes.get("interp", "?")} bytes of the interpreter. The workload says where these
are (bench/workloads/frames.py). The last row is strobe itself. The
readers take turns, {CONTROL_ROUNDS} rounds: this machine's host moves its CPUs
closer together or further apart between runs, and the round trip of a
cache line between them (bench/cacheline_floor.c), measured before each
run, decides what a line the workload must fetch back costs it.

{chr(10).join(lines)}
"""
    with open(os.path.join(BENCH, "SLOWDOWN.md"), "w") as f:
        f.write(text)
    print("wrote bench/SLOWDOWN.md")


if __name__ == "__main__":
    if sys.argv[1:] == ["sched"]:
        sched_main()
    elif sys.argv[1:] == ["slowdown"]:
        slowdown_parts_main()
    else:
        main()
