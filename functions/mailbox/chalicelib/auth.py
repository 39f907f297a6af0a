"""Who is calling: the mailbox whose API key came in `Authorization: Bearer` or `X-API-Key`."""
from dataclasses import dataclass

from common.passwords import api_key_digest
from common.web import AppError

from . import queries

MAX_KEY_CHARS = 256


@dataclass(frozen=True)
class Mailbox:
    id: int
    address: str


def api_key(headers):
    """The API key from the request headers, or None."""
    authorization = (headers.get("authorization") or "").strip()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = (headers.get("x-api-key") or "").strip()
    return key or None


def authenticate(cur, headers):
    """The calling Mailbox; AppError(401) if the key is missing or unknown."""
    key = api_key(headers)
    if key is None:
        raise _unauthorized("missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`")
    if len(key) <= MAX_KEY_CHARS and key.isascii():
        cur.execute(queries.MAILBOX_BY_KEY_DIGEST, (api_key_digest(key),))
        row = cur.fetchone()
        if row is not None:
            return Mailbox(*row)
    raise _unauthorized("invalid API key")


def _unauthorized(message):
    return AppError(401, message, headers={"WWW-Authenticate": 'Bearer realm="mailbox"'})
