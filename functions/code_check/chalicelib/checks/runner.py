"""One flake8 run over many sources through flake8's Python API, results as plain values.

flake8's start-up (plugin loading, option parsing) costs more than checking a small file, so a
batch is written to a temporary folder and checked by one run. Results are collected by a
formatter that keeps flake8's Violation objects (never printed, never scraped): the same
findings, E999 (syntax) and E902 (unreadable) included, as `flake8` on the same bytes.
"""
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass

from flake8.api import legacy
from flake8.formatting.base import BaseFormatter
from flake8.main.options import JobsArgument

from .options import FLAKE8_OPTIONS


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
    style = legacy.get_style_guide(isolated=True, jobs=JobsArgument(str(jobs)), **options)
    style.init_report(_Collector)
    style.check_files(paths)
    collected = style._application.formatter.found
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
