"""One flake8 run over many sources through flake8's Python API, results as plain values.

flake8's start-up (plugin loading, option parsing) costs more than checking a small file, so a
batch is written to a temporary folder and checked by one run. The run is flake8's own
Application given the same arguments as the command line (options.command_line()), so plugins
such as mccabe see their options exactly as `flake8` would (the legacy get_style_guide(**kwargs)
sets options after plugins read them: --max-complexity would be ignored). Results are collected by
a formatter that keeps flake8's Violation objects (never printed, never scraped): the same
findings, E999 (syntax) and E902 (unreadable) included, as `flake8` on the same bytes.
"""
import io
import os
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


def check_sources(sources, options=FLAKE8_OPTIONS, jobs=1, workdir=None):
    """{key: [Violation...]} for {key: (file name, bytes)}, checked by a single flake8 run.

    Each source is written as <workdir>/<n>/<its base name>, so names never collide and the file
    name flake8 sees is the user's."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix="code-check-") as folder:
        paths = {}
        for index, (key, (name, data)) in enumerate(sources.items()):
            directory = os.path.join(folder, str(index))
            os.mkdir(directory)
            path = os.path.join(directory, name)
            with open(path, "wb") as f:
                f.write(data)
            paths[path] = key
        found = run_flake8(list(paths), options, jobs)
        results = {key: [] for key in sources}
        for path, violations in found.items():
            results[paths[path]] = violations
        return results


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
