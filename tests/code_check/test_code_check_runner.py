"""The checker's flake8 run: equal to the flake8 command line on the same bytes and options, one run per batch;
and the matching of violations between versions."""
import os
import re
import subprocess
import sys

import pytest

from code_check_corpus import corpus
from functions.code_check.chalicelib.checks import compare, options, runner

SPECIAL = [
    ("syntax.py", b"def f(:\n    pass\n"),                                   # E999 SyntaxError
    ("indent.py", b"if True:\n    x = 1\n  y = 2\n"),                        # E999 IndentationError
    ("nul.py", b"x = 1\x00\n"),                                              # E999, null byte
    ("never_closed.py", b"x = (\n"),
    ("latin.py", "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1")),
    ("crlf.py", b"import os\r\nx=1\r\n"),
    ("tabs.py", b"if True:\n\tx = 1\n"),
    ("long.py", b"x = '" + b"a" * 120 + b"'\n"),
    ("complex.py", ("def f(a):\n" + "".join(f"    if a == {i}:\n        return {i}\n" for i in range(14))
                    + "    return 0\n").encode()),
    ("escape.py", b"import re\npattern = re.compile('\\d+')\n"),
    ("UPPER.PY", b"import sys\n"),
    ("clean.py", b'"""Nothing to say."""\n\n\ndef f():\n    return 1\n'),
    ("bom.py", b"\xef\xbb\xbfimport json\n"),
    ("no_newline.py", b"x = 1"),
]
CLI_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"


def cli(paths):
    """The flake8 command line on the same files with the project's options: {path: [(code, line, col, text)]}."""
    done = subprocess.run([sys.executable, "-m", "flake8", *options.command_line(), f"--format={CLI_FORMAT}", *paths],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    found = {path: [] for path in paths}
    for line in done.stdout.splitlines():
        path, row, col, code, text = line.split("\t", 4)
        found[path].append((code, int(row), int(col), text))
    return found


def ours(found):
    return {path: [(v.code, v.line, v.col, v.message) for v in violations] for path, violations in found.items()}


def write(tmp_path, files):
    paths = []
    for index, (name, data) in enumerate(files):
        folder = tmp_path / str(index)
        folder.mkdir()
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    return paths


def test_results_equal_the_flake8_command_line_including_syntax_errors(tmp_path):
    files = SPECIAL + corpus(60, seed=3, high=400)
    paths = write(tmp_path, files)
    expected = cli(paths)
    got = ours(runner.run_flake8(paths, jobs=2))
    assert {p: sorted(v) for p, v in got.items()} == {p: sorted(v) for p, v in expected.items()}
    codes = {v[0] for found in expected.values() for v in found}
    # The comparison covered the interesting cases, not only clean files.
    assert {"E999", "E501", "F401", "E225", "C901", "W605", "W191", "W292"} <= codes


def test_unreadable_file_is_an_e902_finding_like_the_command_line(tmp_path):
    paths = write(tmp_path, [("ok.py", b"x = 1\n")]) + [str(tmp_path / "vanished.py")]
    expected = cli(paths)
    got = ours(runner.run_flake8(paths))
    assert got == expected
    assert [v[0] for v in got[paths[1]]] == ["E902"]


def test_check_sources_keeps_user_names_and_source_lines():
    results = runner.check_sources({"a": ("a.py", b"import os\nx=1\n"), "b": ("b.py", b"def f(:\n  pass\n"),
                                    "c": ("c.py", b"x = 1\n")})
    assert [(v.code, v.line, v.source_line) for v in results["a"]] == [("F401", 1, "import os"), ("E225", 2, "x=1")]
    assert [(v.code, v.source_line) for v in results["b"]] == [("E999", "def f(:")]
    assert results["c"] == []


def test_one_flake8_run_per_batch(monkeypatch):
    calls = []
    real = runner.parse_args

    def counting(argv):
        calls.append(argv)
        return real(argv)
    monkeypatch.setattr(runner, "parse_args", counting)
    sources = {index: (name, data) for index, (name, data) in enumerate(corpus(25, seed=5, high=200))}
    results = runner.check_sources(sources)
    assert len(calls) == 1 and set(results) == set(sources)
    assert calls[0][:-1] == options.command_line()


def test_nothing_is_printed_by_the_run(capfd):
    runner.check_sources({"a": ("a.py", b"import os\n")})
    captured = capfd.readouterr()
    assert captured.out == ""


def test_options_are_one_settings_place():
    args = options.command_line()
    assert args[0] == "--isolated" and f"--max-line-length={options.FLAKE8_OPTIONS['max_line_length']}" in args
    assert ("--max-line-length", str(options.FLAKE8_OPTIONS["max_line_length"])) in options.shown()


def v(code, line, text, col=1):
    return {"code": code, "line": line, "col": col, "message": "m", "source_line": text}


def test_violations_match_by_code_and_line_content_not_line_number():
    before = [v("E225", 3, "x=1"), v("F401", 1, "import os"), v("E501", 9, "long")]
    # Two lines were added on top: every line number moved; E501 fixed; a new E225 on a different line.
    after = [v("F401", 1, "import os"), v("E225", 5, "    x=1  "), v("E225", 7, "y=2")]
    marked, fixed = compare.compare(before, after)
    assert [(m["code"], m["line"], m["new"]) for m in marked] == [
        ("F401", 1, False), ("E225", 5, False), ("E225", 7, True)]
    assert [(f["code"], f["line"]) for f in fixed] == [("E501", 9)]


def test_repeated_identical_problems_match_one_to_one():
    before = [v("E225", 1, "x=1")]
    after = [v("E225", 1, "x=1"), v("E225", 2, "x=1")]
    marked, fixed = compare.compare(before, after)
    assert [m["new"] for m in marked] == [False, True] and fixed == []
    marked, fixed = compare.compare(after, before)
    assert [m["new"] for m in marked] == [False] and len(fixed) == 1


def test_first_version_has_only_new_problems_and_groups_by_line():
    marked, fixed = compare.compare(None, [v("E225", 2, "x=1"), v("W291", 2, "x=1", col=4), v("F401", 1, "import os")])
    assert all(m["new"] for m in marked) and fixed == []
    groups = compare.group_by_line(marked)
    assert [(line, source, [x["code"] for x in items]) for line, source, items in groups] == [
        (1, "import os", ["F401"]), (2, "x=1", ["E225", "W291"])]


@pytest.mark.parametrize("name", ["x.py", "UPPER.PY"])
def test_file_names_ending_in_upper_case_py_are_checked(tmp_path, name):
    paths = write(tmp_path, [(name, b"import os\n")])
    assert [v.code for v in runner.run_flake8(paths)[paths[0]]] == ["F401"]


def test_runner_never_reads_project_config(tmp_path, monkeypatch):
    (tmp_path / "setup.cfg").write_text("[flake8]\nignore = F401\n")
    monkeypatch.chdir(tmp_path)
    assert [x.code for x in runner.check_sources({"a": ("a.py", b"import os\n")})["a"]] == ["F401"]
    assert os.getcwd() == str(tmp_path) and re.match(r"^--", options.command_line()[0])
