"""common.passwords: argon2id password hashes (users' passwords), API keys and their digests, constant-time checks."""
from common import passwords


def test_a_password_hash_verifies_only_its_password():
    stored = passwords.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert passwords.verify_password(stored, "correct horse battery staple")
    assert not passwords.verify_password(stored, "correct horse battery stapler")
    assert not passwords.verify_password(stored, "")


def test_hashes_are_salted_and_garbage_is_refused_not_raised():
    first, second = passwords.hash_password("same"), passwords.hash_password("same")
    assert first != second and passwords.verify_password(first, "same") and passwords.verify_password(second, "same")
    assert not passwords.verify_password("not a hash", "same")
    assert not passwords.verify_password("", "same")


def test_api_keys_are_random_and_stored_as_digests():
    key, other = passwords.new_api_key(), passwords.new_api_key()
    assert key != other and len(key) >= 40
    digest = passwords.api_key_digest(key)
    assert len(digest) == 64 and key not in digest and digest == passwords.api_key_digest(key)
    altered = digest[:-1] + ("1" if digest[-1] == "0" else "0")
    assert passwords.same(digest, passwords.api_key_digest(key)) and not passwords.same(digest, altered)


# In a process of its own: importing the products' modules here again would leave this process's other tests
# holding modules that are no longer the ones in sys.modules.
IMPORTS_WITHOUT_ARGON2 = """
from common import passwords
def refuse(*_args):
    raise AssertionError("argon2 ran at import")
passwords.hash_password = refuse
import functions.notifications.chalicelib.api.auth
import functions.code_check.chalicelib.accounts.users
"""


def test_the_hash_for_unknown_names_is_real_made_once_and_not_at_import(monkeypatch):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", IMPORTS_WITHOUT_ARGON2], cwd=root, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{root}:{root / 'layers/common/python'}"},
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    calls = []
    real = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda password: calls.append(1) or real(password))
    passwords.dummy_hash.cache_clear()
    made = passwords.dummy_hash()
    assert made.startswith("$argon2id$") and passwords.dummy_hash() is made and calls == [1]
    assert not passwords.verify_password(made, "") and not passwords.verify_password(made, "admin")
