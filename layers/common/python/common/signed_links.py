"""Signed, expiring links for e-mails (confirm an address, reset a password): one machinery for every product.

A token carries its purpose, a subject (what it is about, e.g. "42:me@example.com"), its expiry and a
random nonce, signed with HMAC-SHA256 under a key derived from SECRET_KEY (common.secrets): nothing is
stored when a link is made, a forged, altered or other-purpose token is refused, an old one is
"expired". Single use is the product's part: it stores `digest(token)` when the link is used (a table
with that digest as its primary key), so a second use is told apart from a bad link. Put the subject's
current state into it (the e-mail address a confirmation is for) so that a change makes older links void.
"""
import base64
import hashlib
import hmac
import json
import secrets as _random
import time

from . import secrets

INVALID = "invalid"
EXPIRED = "expired"


class LinkError(ValueError):
    """A token that cannot be used; reason is INVALID or EXPIRED (pages say which)."""

    def __init__(self, reason):
        super().__init__(f"the link is {reason}")
        self.reason = reason


def _key(key=None):
    secret = key or secrets.get("SECRET_KEY")
    # Derived, so that a link's signature is never a value the key gives for another use (secretbox).
    return hashlib.sha256(b"common.signed_links\x00" + secret.encode("utf-8")).digest()


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make(purpose, subject, ttl_seconds, key=None, now=None):
    """A URL-safe token for `subject` (text) valid `ttl_seconds` for `purpose` only."""
    expires = int((time.time() if now is None else now) + ttl_seconds)
    body = _b64(json.dumps({"p": purpose, "s": subject, "e": expires, "n": _random.token_urlsafe(12)},
                           separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return body + "." + _b64(hmac.new(_key(key), body.encode("ascii"), hashlib.sha256).digest())


def read(token, purpose, key=None, now=None):
    """The subject of a genuine, unexpired token made for `purpose`; LinkError otherwise."""
    if not isinstance(token, str) or len(token) > 4096 or token.count(".") != 1:
        raise LinkError(INVALID)
    body, signature = token.split(".")
    expected = _b64(hmac.new(_key(key), body.encode("utf-8", "replace"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise LinkError(INVALID)
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        raise LinkError(INVALID) from None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("s"), str):
        raise LinkError(INVALID)
    if not isinstance(data.get("e"), int) or data["e"] <= (time.time() if now is None else now):
        raise LinkError(EXPIRED)
    return data["s"]


def digest(token):
    """What a product stores to make a token single-use (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Unusable(Exception):
    """A link that does nothing: `reason` ("invalid", "expired" or the product's "used") and `message`, its text
    from the subclass's REASONS (one per kind of link, so each says what to do)."""
    REASONS = {}

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason
        self.message = self.REASONS[reason]
