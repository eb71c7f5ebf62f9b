"""Find the CPython interpreters installed on this machine, for the tests.

Sources, in order: pyenv's versions ($PYENV_ROOT or ~/.pyenv), python3.X and
python3.X-dbg / python3.Xd on PATH, and the paths in $STROBE_TEST_PYTHONS
(separated by ':' or whitespace). Interpreters that resolve to the same file
are listed once. Each is asked (by running it) for its version, debug flag
and include directory.

Run as a script, prints one line per interpreter:
    VERSION DEBUG EXECUTABLE INCLUDE_DIR
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

PROBE = (
    "import sys, sysconfig, json;"
    "print(json.dumps({'version': list(sys.version_info[:3]),"
    " 'debug': hasattr(sys, 'gettotalrefcount'),"
    " 'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),"
    " 'include': sysconfig.get_paths().get('include', '')}))"
)
PY2_PROBE = "import sys; print('{\"version\": [%d, %d, %d], \"debug\": false, \"free_threaded\": false, \"include\": \"\"}' % sys.version_info[:3])"


@dataclass(frozen=True)
class Python:
    executable: str
    version: tuple
    debug: bool
    free_threaded: bool
    include: str

    @property
    def minor(self):
        return self.version[1]

    @property
    def label(self):
        v = ".".join(map(str, self.version))
        return v + ("-dbg" if self.debug else "")

    def supported(self):
        return self.version[0] == 3 and 8 <= self.version[1] <= 15 and not self.free_threaded


def _candidates():
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = os.path.join(root, "versions")
    if os.path.isdir(versions):
        for name in sorted(os.listdir(versions)):
            for exe in ("python3", "python"):
                path = os.path.join(versions, name, "bin", exe)
                if os.path.exists(path):
                    yield path
                    break
    # Every match on PATH, not just the first: a pyenv shim directory in
    # front would otherwise hide the system's interpreters.
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not d.rstrip("/").endswith(os.path.join(".pyenv", "shims"))]
    for minor in range(6, 20):
        for suffix in ("", "-dbg", "d"):
            for d in dirs:
                path = os.path.join(d, f"python3.{minor}{suffix}")
                if os.path.isfile(path) and os.access(path, os.X_OK):
                    yield path
    for path in re.split(r"[:\s]+", os.environ.get("STROBE_TEST_PYTHONS", "")):
        if path:
            yield path


def _probe(path):
    for probe in (PROBE, PY2_PROBE):
        try:
            out = subprocess.run([path, "-c", probe], capture_output=True, text=True, timeout=30,
                                 env={k: v for k, v in os.environ.items() if k != "PYENV_VERSION"})
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode == 0:
            info = json.loads(out.stdout.strip().splitlines()[-1])
            return Python(path, tuple(info["version"]), info["debug"], info["free_threaded"],
                          info["include"])
    return None


def discover():
    """All interpreters found, supported or not, sorted by version."""
    seen, found = set(), []
    for path in _candidates():
        real = os.path.realpath(path)
        if real in seen or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        py = _probe(path)
        if py:
            found.append(py)
    return sorted(found, key=lambda p: (p.version, p.debug))


if __name__ == "__main__":
    for py in discover():
        print(py.label, int(py.debug), py.executable, py.include or "-")
