"""Password and API-key hashing (argon2id) and constant-time checks."""
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


def new_api_key():
    """A fresh random API key (shown once to its owner, stored only as a digest)."""
    return secrets.token_urlsafe(32)


def api_key_digest(key):
    """SHA-256 hex of an API key: keys are long random tokens, so a fast digest is enough to look them up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def same(a, b):
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
