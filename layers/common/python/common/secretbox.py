"""Encryption at rest for stored secrets (e.g. IMAP passwords) with a key from the environment."""
from cryptography.fernet import Fernet, InvalidToken

from . import secrets


class SecretKeyMissing(RuntimeError):
    """No encryption key configured."""


def _fernet(key=None):
    if not key:
        try:
            key = secrets.get("SECRET_KEY")
        except secrets.SecretMissing as exc:
            raise SecretKeyMissing(str(exc)) from None
    return Fernet(key.encode("ascii") if isinstance(key, str) else key)


def valid_key(key):
    """Whether key is usable as SECRET_KEY (a Fernet key: 32 url-safe base64-encoded bytes), for settings checks
    at cold start."""
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


def new_key():
    """A fresh key (text) for SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


def encrypt(plaintext, key=None):
    """Encrypt text; returns a token string safe to store."""
    return _fernet(key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token, key=None):
    """Decrypt a token made by encrypt(); raises ValueError if it was tampered with or the key differs."""
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("cannot decrypt secret with the configured key") from exc
