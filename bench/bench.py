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
    10 kHz beside the cost of merely waking up 10,000 times a second here.

Both profilers launch the workload (`run`), and their CPU and memory are
read from /proc for the profiler process alone, never its child.
Writes the table to stdout and bench/RESULTS.md.

Environment: BENCH_SECONDS (default 3), BENCH_REPEATS (default 3),
BENCH_PYTHONS (labels to include, e.g. "3.12.1 3.15.2"), BENCH_QUICK=1
(one repeat, fewer seconds, no 60 s memory run).
"""

import datetime
import os
import platform
import re
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
FORMATS = ["collapsed", "jsonl", "pstats", "speedscope", "pprof", "flamegraph", "gecko"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = float(os.environ.get("BENCH_SECONDS", "2" if QUICK else "3"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "1" if QUICK else "3"))
MEMORY_SECONDS = 10 if QUICK else 60
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


def iterations_rate(text):
    m = re.search(r"^iterations (\d+) seconds ([\d.]+)$", text, re.M)
    return int(m.group(1)) / float(m.group(2)) if m else None


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
    result["iterations_s"] = iterations_rate(text)
    result["cpu_s"] = watch.cpu
    result["rss_mb"] = watch.rss_kb / 1024
    result["syscalls"] = number(r"system calls\s+([\d.]+) per sample", text)
    return result


def baseline(python, name, seconds):
    out, _, _ = run([python.executable, workload(name), str(seconds)])
    return iterations_rate(out)


def slowdown(cmd_fn, python, name, rate):
    """Median slowdown (iterations/s without and with the profiler, alternated),
    and the profiler's median CPU and missed % in the profiled runs, the
    missed % given with the part of it woken late where the profiler tells."""
    plain, profiled, cpu, missed, late = [], [], [], [], []
    for _ in range(REPEATS):
        plain.append(baseline(python, name, SECONDS))
        r = profile_once(cmd_fn, python, name, rate, SECONDS)
        if r["iterations_s"]:
            profiled.append(r["iterations_s"])
            cpu.append(100 * r["cpu_s"] / max(r["seconds"], 1e-9))
            missed.append(r["missed_pct"])
            if r["missed_late"] is not None:
                late.append(100 * r["missed_late"] / r["due"] if r["due"] else 0.0)
    if not profiled or not all(plain):
        return None, None, None
    median_missed = fmt(statistics.median(missed), ".2f")
    if late:
        median_missed += f" ({statistics.median(late):.1f} woken late)"
    return (100 * (1 - statistics.median(profiled) / statistics.median(plain)),
            statistics.median(cpu), median_missed)


def measure(cmd_fn, python, name):
    line_ns = cacheline_floor()
    best = profile_once(cmd_fn, python, name, "1000khz" if cmd_fn is tachyon_cmd else "1M",
                        SECONDS)
    row = {
        "samples_s": best["samples_s"], "missed_pct": best["missed_pct"],
        "error_pct": best["error_pct"], "rss_mb": best["rss_mb"],
        "us_per_sample": 1e6 * best["cpu_s"] / best["samples"] if best["samples"] else None,
        "syscalls": best["syscalls"], "line_ns": line_ns,
    }
    row["slow10k"], row["cpu10k"], row["missed10k"] = slowdown(
        cmd_fn, python, name, "10khz" if cmd_fn is tachyon_cmd else "10k")
    row["slow100k"], _, _ = slowdown(cmd_fn, python, name, "100khz" if cmd_fn is tachyon_cmd else "100k")
    return row


def wake_floor():
    try:
        out = subprocess.run([WAKE_FLOOR, "10000", str(SECONDS)], capture_output=True, text=True,
                             timeout=60).stdout
    except OSError:
        return None
    return number(r"cpu_percent ([\d.]+)", out)


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
          "slowdown 100 kHz | "
          "CPU at 10 kHz | peak RSS MB | cache line round trip ns |")


def row_line(wl, py, who, r, ratio):
    return (f"| {wl} | {py.label} | {who} | {fmt(r['samples_s'], ',.0f')} | {ratio} | "
            f"{fmt(r['us_per_sample'], '.2f')} | {fmt(r['syscalls'], '.3f')} | "
            f"{fmt(r['missed_pct'], '.2f')} | {fmt(r['error_pct'], '.3f')} | "
            f"{fmt(r['slow10k'], '+.1f')}% | {fmt(r['missed10k'], 's')} | "
            f"{fmt(r['slow100k'], '+.1f')}% | "
            f"{fmt(r['cpu10k'], '.1f')}% | {fmt(r['rss_mb'], '.1f')} | {fmt(r['line_ns'], '.0f')} |")


def main():
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
    floor = wake_floor()
    floor_after = syscall_floor()
    mem_py = chosen[-1]
    rss, samples = memory_run(mem_py)
    with tempfile.TemporaryDirectory() as directory:
        formats = formats_run(mem_py, directory)
    write_results(lines, floor, (floor_before, floor_after), mem_py, rss, samples, formats)


def formats_table(formats):
    samples, rows = formats
    lines = ["| format | seconds (replay + write) | peak RSS MB |", "|---|---|---|"]
    # /proc is polled every 20 ms: a shorter run's peak memory goes unseen.
    lines += [f"| {name} | {fmt(secs, '.2f')} | {fmt(rss if secs >= 0.1 else None, '.1f')} |"
              for name, secs, rss in rows]
    return samples, "\n".join(lines)


def write_results(lines, floor, syscalls, mem_py, rss, samples, formats):
    (one_before, eight_before), (one_after, eight_after) = syscalls
    format_samples, format_lines = formats_table(formats)
    text = f"""# strobe benchmark results

Date: {datetime.date.today().isoformat()}
Machine: {machine()}
Command: `make bench` (bench/bench.py; {SECONDS:g} s per run, medians of {REPEATS} runs for slowdowns)

Both profilers launch the workload (`run`) and are asked for 1 MHz for the
rate columns. CPU and memory are the profiler process's own (from /proc),
never its child's. Tachyon runs only where it can: CPython 3.15, its own
version, with `-a` so that it samples every thread as strobe does.
Slowdown is the workload's own iterations per second against a run without a
profiler (negative: faster, i.e. noise); the CPU and missed % at 10 kHz are
from those same runs, the missed % with the part of it that came due while
strobe waited and the kernel woke it late (its `--stats`). strobe runs with
its defaults: its sampling thread is a batch thread (`--sched batch`, see
the README), whose wake-ups never preempt the workload. Tests assert no
timings; this file is where the numbers live.

{chr(10).join(lines)}

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
apart, the same binary on the same workload samples about half as fast,
sees many more stacks change while being read, and slows a tight loop by
20–30% at 100 kHz: read that column before comparing rows.

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


if __name__ == "__main__":
    main()
