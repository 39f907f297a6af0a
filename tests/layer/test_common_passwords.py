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
