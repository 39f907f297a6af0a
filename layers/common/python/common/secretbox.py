"""Encryption at rest for stored secrets (e.g. IMAP passwords) with a key from the environment."""
import os

from cryptography.fernet import Fernet, InvalidToken


class SecretKeyMissing(RuntimeError):
    """No encryption key configured."""


def _fernet(key=None):
    key = key or os.environ.get("SECRET_KEY")
    if not key:
        raise SecretKeyMissing("SECRET_KEY is not set")
    return Fernet(key.encode("ascii") if isinstance(key, str) else key)


def encrypt(plaintext, key=None):
    """Encrypt text; returns a token string safe to store."""
    return _fernet(key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token, key=None):
    """Decrypt a token made by encrypt(); raises ValueError if it was tampered with or the key differs."""
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("cannot decrypt secret with the configured key") from exc
