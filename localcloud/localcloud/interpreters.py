"""The Python a function runs on: the one its Runtime names (python3.X found on PATH), else the nearest.

Lambda runs a function on the interpreter its Runtime names; code that needs a newer Python (or breaks on
one) must fail here as it would there, or at least say loudly that it does not run on the same one.
"""
import logging
import os
import re
import shutil
import subprocess
import sys

log = logging.getLogger("localcloud.runtime")
RUNTIME = re.compile(r"^python3\.(\d+)$")
MINORS = range(6, 30)   # python3.6 .. python3.29: every minor version worth looking for


def _current():
    return sys.version_info.minor


def installed(path=None):
    """{minor: executable} of every python3.X on PATH that runs (this interpreter for its own version: its venv).
    A name on PATH need not run: a pyenv shim of a version that is not selected exits 127 ("command not found")."""
    found = {}
    for minor in MINORS:
        exe = shutil.which(f"python3.{minor}", path=path)
        if exe and _runs(exe):
            found[minor] = exe
    found[_current()] = sys.executable
    return found


_running = {}


def _runs(exe):
    """True when the executable starts a Python (asked once per path)."""
    if exe not in _running:
        try:
            done = subprocess.run([exe, "-c", "pass"], capture_output=True, timeout=30)
            _running[exe] = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _running[exe] = False
        if not _running[exe]:
            log.info("%s is on PATH but does not run: not used", exe)
    return _running[exe]


def choose(runtime, isolated=True, path=None):
    """(executable, warning or None) for a function's Runtime."""
    match = RUNTIME.match(runtime or "")
    if not match:
        if runtime:
            return sys.executable, (f"Runtime {runtime} is not a Python runtime the local cloud knows: "
                                    f"runs on Python 3.{_current()}")
        return sys.executable, None
    wanted = int(match.group(1))
    if wanted == _current():
        return sys.executable, None
    if not isolated:   # the shared venv belongs to this interpreter
        return sys.executable, (f"Runtime {runtime}: runs on this venv's Python 3.{_current()} "
                                f"(shared venv; isolated workers run on python3.{wanted} if installed)")
    found = installed(path if path is not None else os.environ.get("PATH"))
    if wanted in found:
        return found[wanted], None
    nearest = min(found, key=lambda minor: (abs(minor - wanted), minor != _current()))
    return found[nearest], (f"Runtime {runtime}: python3.{wanted} is not installed, runs on the nearest, "
                            f"Python 3.{nearest}")


_chosen = {}


def executable(runtime, isolated=True):
    """The interpreter for a Runtime (cached: a worker is started for every cold start)."""
    key = (runtime, isolated, os.environ.get("PATH"))
    if key not in _chosen:
        _chosen[key] = choose(runtime, isolated)[0]
    return _chosen[key]


def warn_mismatches(functions, isolated=True):
    """One start-up warning per function whose Runtime cannot be matched; returns them."""
    warnings = {}
    for fid, fn in sorted(functions.items()):
        _exe, warning = choose(getattr(fn, "runtime", ""), isolated)
        if warning:
            warnings[fid] = warning
            log.warning("function %s: %s", fid, warning, extra={"function": fid})
    return warnings
