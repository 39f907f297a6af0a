"""Password and API-key hashing (argon2id) and constant-time checks."""
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password):
    """An argon2id hash of a user's password."""
    return _hasher.hash(password)


def verify_password(stored_hash, password):
    """True if password matches the argon2 hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash():
    """A real argon2 hash of nobody's password, to verify against when a sign-in names nobody: both answers then
    take argon2's time. Made on first use, once per process, not at import: argon2 at every cold start cost each
    function that signs people in about a tenth of a second of CPU, sign-in or not."""
    return hash_password(secrets.token_urlsafe(16))


def new_api_key():
    """A fresh random API key (shown once to its owner, stored only as a digest)."""
    return secrets.token_urlsafe(32)


def api_key_digest(key):
    """SHA-256 hex of an API key: keys are long random tokens, so a fast digest is enough to look them up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def same(a, b):
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
