"""What an operator does with clients (API and admin page alike), each in its own transaction and on the
trail (audit.py) once committed. `operator` is the caller the access layer found ({"id", "username"})."""
from common import db

from .. import audit
from . import store


def list_page(after, limit):
    with db.pg_transaction() as cur:
        return store.list_page(cur, after, limit)


def search(filters, after, limit):
    with db.pg_transaction() as cur:
        return store.search(cur, filters, after, limit)


def create(body, operator):
    with db.pg_transaction() as cur:
        client = store.create(cur, body)
    audit.record("client created", operator, audit.changes(audit.CLIENT_FIELDS, None, client), client_id=client["id"])
    return client


def get(client_id):
    with db.pg_transaction() as cur:
        return store.get(cur, client_id)


def update(client_id, body, operator):
    with db.pg_transaction() as cur:
        before = store.get(cur, client_id)
        client = store.update(cur, client_id, body)
    audit.record("client changed", operator, audit.changes(audit.CLIENT_FIELDS, before, client), client_id=client_id)
    return client


def delete(client_id, operator):
    with db.pg_transaction() as cur:
        store.delete(cur, client_id)
    audit.record("client deleted", operator, client_id=client_id)
