"""`localcloud run` keeps its generated secrets in .localcloud/parameters.json: readable by its owner only,
from the moment the file exists (not written with the umask's mode and narrowed afterwards)."""
import json
import os
import stat
import sys
import threading
from pathlib import Path

import pytest

import localcloud.__main__ as local_main

_watch = {"dir": None, "wide": [], "installed": False}
_inside = threading.local()


def _audit(event, args):
    """On every audited operation while a test watches a folder, note any file in it (or named by the operation)
    that its group or others may read. Creating, chmod-ing, renaming and removing a file are all audited, so a
    file created wide and narrowed later is seen wide at least once."""
    folder = _watch["dir"]
    if folder is None or getattr(_inside, "busy", False):
        return
    _inside.busy = True
    try:
        candidates = [folder / name for name in os.listdir(folder)]
        candidates += [Path(a) for a in args if isinstance(a, (str, Path)) and str(a).startswith(str(folder))]
        for path in candidates:
            try:
                mode = os.stat(path).st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) and mode & 0o077:
                _watch["wide"].append((event, path.name, oct(mode & 0o777)))
    finally:
        _inside.busy = False


@pytest.fixture
def watched_state(tmp_path, monkeypatch):
    # Installed by the first test that watches, not when the module is collected: a hook cannot be removed, and
    # once there, Python calls it on every audited operation of the process (every open, import, socket,
    # sys._getframe of a log call) for the rest of the run. Installed at collection, in every xdist worker,
    # it cost about 7 CPU-s per suite run; afterwards it returns at once unless a test watches.
    if not _watch["installed"]:
        sys.addaudithook(_audit)
        _watch["installed"] = True
    state = tmp_path / "state"
    state.mkdir()
    old_umask = os.umask(0)     # the most permissive umask: only the code's own modes protect the file
    _watch.update(dir=state, wide=[])
    try:
        yield state
    finally:
        _watch["dir"] = None
        os.umask(old_umask)


DECLARED = {"SecretKey": {"NoEcho": True, "Default": ""}, "SitePassword": {"NoEcho": True, "Default": ""},
            "Stage": {"Default": "prod"}}


def test_generated_secrets_file_is_never_readable_by_others(watched_state):
    params = local_main.generated_secrets(DECLARED, watched_state)
    assert set(params) == {"SecretKey", "SitePassword"}
    path = watched_state / "parameters.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == params
    assert local_main.generated_secrets(DECLARED, watched_state) == params   # read back, rewritten: kept, private
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _watch["wide"] == []
    assert os.listdir(watched_state) == ["parameters.json"]     # no temporary file left behind


def test_a_file_left_readable_by_an_older_version_is_replaced_by_a_private_one(watched_state):
    path = watched_state / "parameters.json"
    _watch["dir"] = None
    path.write_text(json.dumps({"SitePassword": "kept"}))
    os.chmod(path, 0o644)
    _watch["dir"] = watched_state
    params = local_main.generated_secrets(DECLARED, watched_state)
    assert params["SitePassword"] == "kept"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_watch_sees_a_file_written_first_and_narrowed_after(watched_state):
    # The watch itself: the old way (write, then chmod) is caught even though it ends 0600.
    path = watched_state / "parameters.json"
    path.write_text("{}")
    path.chmod(0o600)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _watch["wide"] and _watch["wide"][0][1] == "parameters.json"
