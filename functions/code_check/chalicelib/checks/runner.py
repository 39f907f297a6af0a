"""One flake8 run over many sources through flake8's Python API, results as plain values.

flake8's start-up (plugin loading, option parsing) costs more than checking a small file, so a
batch is written to a temporary folder and checked by one run. The run is flake8's own
Application given the same arguments as the command line (options.command_line()), so plugins
such as mccabe see their options exactly as `flake8` would (the legacy get_style_guide(**kwargs)
sets options after plugins read them: --max-complexity would be ignored). Results are collected by
a formatter that keeps flake8's Violation objects (never printed, never scraped): the same
findings, E999 (syntax) and E902 (unreadable) included, as `flake8` on the same bytes.

The checker runs flake8 through check_isolated(): in a child interpreter with CPU-time, memory and
wall-clock limits, so that a file which makes flake8 recurse, eat memory, crash or hang fails only
that run (python -m of this module is the child's entry point, see _child_main).
"""
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import tokenize
from dataclasses import dataclass

from contextlib import redirect_stdout

from flake8.formatting.base import BaseFormatter
from flake8.main.application import Application
from flake8.options.parse_args import parse_args

from .options import FLAKE8_OPTIONS, command_line


class CheckerError(RuntimeError):
    """flake8 itself failed (a plugin crashed): the whole batch is a failed check."""


@dataclass(frozen=True)
class Violation:
    code: str
    line: int
    col: int
    message: str
    source_line: str


class _Collector(BaseFormatter):
    """Keeps every reported violation; writes nothing (stdout may be a runtime's channel)."""

    def after_init(self):
        self.found = []

    def start(self):
        pass

    def handle(self, error):
        self.found.append(error)

    def show_statistics(self, statistics):
        pass

    def show_benchmarks(self, benchmarks):
        pass

    def stop(self):
        pass


@dataclass(frozen=True)
class Limits:
    """What one child flake8 run may use: CPU seconds (base + per file), address space, wall-clock seconds."""
    cpu_base: int = 20
    cpu_per_file: float = 2.0
    memory_mb: int = 1024
    wall_factor: float = 1.5
    wall_extra: float = 5.0

    def cpu(self, files):
        return int(self.cpu_base + self.cpu_per_file * files)

    def wall(self, files):
        return self.cpu(files) * self.wall_factor + self.wall_extra


def disk_name(name):
    """The name a source gets on disk: never the user's (it may not even fit a Linux file name), but the
    one name the checkers treat specially is kept (pyflakes skips __all__ checks in __init__.py)."""
    return "__init__.py" if name == "__init__.py" else "source.py"


def _write(folder, sources):
    paths = {}
    for index, (key, (name, data)) in enumerate(sources.items()):
        directory = os.path.join(folder, str(index))
        os.mkdir(directory)
        path = os.path.join(directory, disk_name(name))
        with open(path, "wb") as f:
            f.write(data)
        paths[path] = key
    return paths


def check_sources(sources, options=FLAKE8_OPTIONS, jobs=1, workdir=None):
    """{key: [Violation...]} for {key: (file name, bytes)}, checked by a single flake8 run in this process.

    Each source is written as <workdir>/<n>/<disk_name>, so names never collide and no user's name
    reaches the file system."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix="code-check-") as folder:
        paths = _write(folder, sources)
        found = run_flake8(list(paths), options, jobs)
        results = {key: [] for key in sources}
        for path, violations in found.items():
            results[paths[path]] = violations
        return results


def check_isolated(sources, options=FLAKE8_OPTIONS, jobs=1, limits=Limits(), workdir=None):
    """check_sources() in a child interpreter under `limits`; CheckerError(reason) when the run fails
    (an exception in flake8, a crash, the CPU, memory or time limit): nothing of it touches this process."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix="code-check-") as folder:
        paths = _write(folder, sources)
        job = os.path.join(folder, "job.json")
        answer = os.path.join(folder, "result.json")
        cpu = limits.cpu(len(paths))
        with open(job, "w", encoding="utf-8") as f:
            json.dump({"paths": list(paths), "options": options, "jobs": jobs, "cpu": cpu,
                       "memory": limits.memory_mb * 1024 * 1024, "answer": answer}, f)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p or os.curdir) for p in sys.path)}
        child = subprocess.Popen([sys.executable, "-m", __spec__.name, job], env=env, cwd=folder,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 start_new_session=True)  # its own group: flake8's pool dies with it
        try:
            _, stderr = child.communicate(timeout=limits.wall(len(paths)))
        except subprocess.TimeoutExpired:
            _kill(child)
            raise CheckerError(f"flake8 took longer than {limits.wall(len(paths)):.0f} s") from None
        finally:
            _kill(child)
        if child.returncode == -signal.SIGXCPU:
            raise CheckerError(f"flake8 used more than {cpu} s of CPU time")
        try:
            with open(answer, encoding="utf-8") as f:
                result = json.load(f)
        except (OSError, ValueError):
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            how = f"signal {-child.returncode}" if child.returncode < 0 else f"exit status {child.returncode}"
            raise CheckerError(f"flake8 crashed ({how}) {tail[0]}".strip()[:500]) from None
        if "error" in result:
            raise CheckerError(result["error"][:500])
        found = {key: [] for key in sources}
        for path, violations in result["found"].items():
            found[paths[path]] = [Violation(*v) for v in violations]
        return found


def _kill(child):
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()


def _child_main(job_path):
    """The child's side of check_isolated: limits first, then one flake8 run, the answer as JSON."""
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu"], job["cpu"] + 5))
    resource.setrlimit(resource.RLIMIT_AS, (job["memory"], job["memory"]))
    try:
        found = run_flake8(job["paths"], job["options"], job["jobs"])
        answer = {"found": {path: [[v.code, v.line, v.col, v.message, v.source_line] for v in violations]
                            for path, violations in found.items()}}
    except BaseException as exc:  # noqa: B036 - every failure is the answer (RecursionError, MemoryError...)
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    with open(job_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(answer, f)
    os.replace(job_path + ".tmp", job["answer"])


def run_flake8(paths, options=FLAKE8_OPTIONS, jobs=1):
    """{path: [Violation...]} for files on disk, one flake8 run (parallel over `jobs` processes)."""
    application = Application()
    application.plugins, application.options = parse_args([*command_line(options), f"--jobs={jobs}"])
    application.formatter = _Collector(application.options)
    application.make_guide()
    application.make_file_checker_manager([])
    application.options.filenames = list(paths)
    # flake8 prints a plugin failure; stdout may be the runtime's channel, so it is kept and raised instead.
    with redirect_stdout(io.StringIO()) as printed:
        application.run_checks()
        application.report_errors()
    if application.catastrophic_failure:
        raise CheckerError(printed.getvalue().strip()[:500] or "flake8 failed")
    collected = application.formatter.found
    lines = {}
    out = {path: [] for path in paths}
    for error in collected:
        source_line = error.physical_line
        if source_line is None:
            source_line = _line_of(lines, error.filename, error.line_number)
        out.setdefault(error.filename, []).append(Violation(
            error.code, error.line_number, error.column_number, error.text, source_line.rstrip("\r\n")))
    for violations in out.values():
        violations.sort(key=lambda v: (v.line, v.col, v.code))
    return out


def _line_of(cache, path, number):
    """The source line a violation points at (flake8 gives none for E999/E902), read as flake8 reads it."""
    if path not in cache:
        try:
            with open(path, "rb") as f:
                data = f.read()
            cache[path] = _decode(data).splitlines()
        except OSError:
            cache[path] = []
    text = cache[path]
    return text[number - 1] if 0 < number <= len(text) else ""


def _decode(data):
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data.decode("latin-1")


if __name__ == "__main__":
    _child_main(sys.argv[1])
