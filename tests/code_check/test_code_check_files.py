"""Uploads: what is accepted, where the bytes go, versions (new / overwritten / unchanged), delete."""
import boto3
import pytest

from functions.code_check.chalicelib.files import names, store
from functions.code_check.chalicelib.queries import CLAIM_VERSIONS


@pytest.mark.parametrize("raw, expected", [
    ("hello.py", "hello.py"), ("HELLO.PY", "HELLO.PY"), ("Mixed.Py", "Mixed.Py"),
    ("../x.py", "x.py"), ("../../etc/x.py", "x.py"), ("/abs/path/y.py", "y.py"), ("C:\\Users\\me\\z.py", "z.py"),
    ("  spaced.py ", "spaced.py"), ("модуль.py", "модуль.py"),
])
def test_names_are_reduced_to_a_base_name(raw, expected):
    assert names.clean_name(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("", "without a name"), ("..", "without a name"), ("dir/", "without a name"),
    ("x.txt", "only Python files"), ("x.py.exe", "only Python files"), (".py", "only Python files"),
    ("x.pyc", "only Python files"), ("bad\x00name.py", "control characters"), ("new\nline.py", "control characters"),
    ("tab\tname.py", "control characters"), ("rtl\u202e.py", "control characters"),
    ("lone\ud800.py", "control characters"),
    ("a" * 300 + ".py", "longer than 255"), ("я" * 200 + ".py", "longer than 255 bytes"),
    ("a" * 252 + ".py", None),
])
def test_bad_names_are_refused_with_the_reason(raw, reason):
    if reason is None:                                  # exactly 255 bytes: the largest name accepted
        assert names.clean_name(raw) == raw
        return
    with pytest.raises(names.Refused) as refused:
        names.clean_name(raw)
    assert reason in str(refused.value) and refused.value.field == "name"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"), (b"x" * (1024 * 1024 + 1), "larger than 1 MB"), (b"\xff\xfe\x00bad", "not text in utf-8"),
    (b"# coding: klingon\nx = 1\n", "unknown encoding"), ("x = 'é'\n".encode("latin-1"), "not text in utf-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
])
def test_bad_content_is_refused_with_the_file_name(data, reason):
    with pytest.raises(names.Refused) as refused:
        names.accept("f.py", data)
    assert reason in str(refused.value) and "f.py" in str(refused.value)


def test_accepted_content():
    assert names.accept("a.py", b"x = 1\n") == ("a.py", 1)
    assert names.accept("a.py", b"x" * (1024 * 1024)) == ("a.py", 1)          # exactly 1 MB
    latin = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    assert names.accept("l.py", latin) == ("l.py", 2)
    assert names.accept("b.py", b"\xef\xbb\xbfx = 1\n")[0] == "b.py"
    assert names.accept("s.py", b"def f(:\n")[0] == "s.py"      # a syntax error is a finding, not a refusal


def _versions(cur, file_id):
    cur.execute("SELECT number, s3_version_id FROM code_check.versions WHERE file_id = %s ORDER BY number", (file_id,))
    return cur.fetchall()


def _status(cur, file_id):
    cur.execute("SELECT status FROM code_check.files WHERE id = %s", (file_id,))
    return cur.fetchone()[0]


def test_new_overwritten_unchanged_and_old_versions_kept_in_versioned_s3(tx, cc_settings, make_user):
    user = make_user()
    with tx() as cur:
        first = store.upload(cur, cc_settings.bucket, user, "a.py", b"x = 1\n")
        assert (first.outcome, first.version) == ("new", 1) and _status(cur, first.file_id) == "new"
    with tx() as cur:
        same = store.upload(cur, cc_settings.bucket, user, "a.py", b"x = 1\n")
        assert (same.outcome, same.version, same.file_id) == ("unchanged", 1, first.file_id)
        assert len(_versions(cur, first.file_id)) == 1
    with tx() as cur:
        second = store.upload(cur, cc_settings.bucket, user, "../a.py", b"x = 2\n")
        assert (second.outcome, second.version, second.file_id) == ("overwritten", 2, first.file_id)
        assert _status(cur, first.file_id) == "overwritten"
        versions = _versions(cur, first.file_id)
    # One S3 key, two S3 versions: the first bytes are still readable.
    s3 = boto3.client("s3")
    listed = s3.list_object_versions(Bucket=cc_settings.bucket, Prefix=store.s3_key(user, first.file_id))["Versions"]
    assert len(listed) == 2 and all(version_id for _, version_id in versions)
    key = store.s3_key(user, first.file_id)
    assert store.read_version(cc_settings.bucket, key, versions[0][1]) == b"x = 1\n"
    assert store.read_version(cc_settings.bucket, key, versions[1][1]) == b"x = 2\n"


def test_refused_file_stores_nothing(tx, cc_settings, make_user):
    user = make_user()
    with pytest.raises(names.Refused):
        with tx() as cur:
            store.upload(cur, cc_settings.bucket, user, "x.txt", b"x = 1\n")
    with tx() as cur:
        cur.execute("SELECT count(*) FROM code_check.files WHERE user_id = %s", (user,))
        assert cur.fetchone()[0] == 0


def test_delete_keeps_history_stops_checks_and_frees_the_name(tx, cc_settings, make_user):
    user = make_user()
    with tx() as cur:
        stored = store.upload(cur, cc_settings.bucket, user, "d.py", b"x = 1\n")
        store.delete(cur, user, stored.file_id)
        assert _status(cur, stored.file_id) == "deleted"
        cur.execute(CLAIM_VERSIONS, (100000,))
        assert stored.file_id not in [row[1] for row in cur.fetchall()]
        found = store.get_file(cur, user, stored.file_id)
        assert found["status"] == "deleted" and len(found["versions"]) == 1
    with tx() as cur, pytest.raises(Exception) as gone:
        store.delete(cur, user, stored.file_id)
    assert getattr(gone.value, "status", None) == 404
    with tx() as cur:
        again = store.upload(cur, cc_settings.bucket, user, "d.py", b"x = 1\n")
        assert again.outcome == "new" and again.file_id != stored.file_id


def test_another_users_file_is_absent(tx, cc_settings, make_user):
    owner, other = make_user(), make_user()
    with tx() as cur:
        stored = store.upload(cur, cc_settings.bucket, owner, "mine.py", b"x = 1\n")
    for action in (lambda cur: store.get_file(cur, other, stored.file_id),
                   lambda cur: store.get_version(cur, other, stored.file_id, 1),
                   lambda cur: store.delete(cur, other, stored.file_id),
                   lambda cur: store.replace(cur, cc_settings.bucket, other, stored.file_id, b"y = 1\n")):
        with pytest.raises(Exception) as refused:
            with tx() as cur:
                action(cur)
        assert getattr(refused.value, "status", None) == 404
    with tx() as cur:
        assert store.list_files(cur, other) == []
        assert _status(cur, stored.file_id) == "new" and len(_versions(cur, stored.file_id)) == 1
