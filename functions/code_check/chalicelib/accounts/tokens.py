"""API tokens for the partner API: shown once at creation, stored as SHA-256 digests, revocable."""
from common import db, passwords, rows, web
from common.i18n import N_

from .. import queries

PREFIX = "cc_"


def create(cur, user_id, name):
    """(token shown once, row)."""
    name = (name or "").strip()[:100] or "API token"
    token = PREFIX + passwords.new_api_key()
    cur.execute(queries.INSERT_TOKEN, (user_id, name, passwords.api_key_digest(token), token[:7] + "..."))
    row = cur.fetchone()
    return token, {"id": row[0], "name": row[1], "hint": row[2], "created_at": row[3]}


def list_tokens(cur, user_id):
    cur.execute(queries.LIST_TOKENS, (user_id,))
    return rows.all(cur)


def revoke(cur, user_id, token_id):
    cur.execute(queries.REVOKE_TOKEN, (token_id, user_id))
    if cur.fetchone() is None:
        raise web.not_found(N_("No such token"))


def authenticate(cur, headers):
    """{"id", "email"} of the token's owner, or AppError 401 (missing, malformed, unknown or revoked)."""
    value = (headers or {}).get("authorization") or ""
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise web.AppError(401, "Missing API token: send Authorization: Bearer <token>",
                           headers={"WWW-Authenticate": 'Bearer realm="code_check"'})
    cur.execute(queries.TOKEN_USER, (passwords.api_key_digest(token),))
    row = cur.fetchone()
    if row is None:
        raise web.AppError(401, "Invalid or revoked API token",
                           headers={"WWW-Authenticate": 'Bearer realm="code_check", error="invalid_token"'})
    return {"id": row[0], "email": row[1]}


# ---- the same, each in its own transaction (what the routes call) ---------------------------------

def tokens_of(user_id):
    with db.pg_transaction() as cur:
        return list_tokens(cur, user_id)


def issue(user_id, name):
    """(the token, shown once; the user's tokens now)."""
    with db.pg_transaction() as cur:
        token, _ = create(cur, user_id, name)
        return token, list_tokens(cur, user_id)


def revoke_own(user_id, token_id):
    with db.pg_transaction() as cur:
        revoke(cur, user_id, token_id)
