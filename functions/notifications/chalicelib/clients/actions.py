"""What an operator does with clients (API and admin page alike), each in its own transaction."""
from common import db

from . import store


def list_page(after, limit):
    with db.pg_transaction() as cur:
        return store.list_page(cur, after, limit)


def create(body):
    with db.pg_transaction() as cur:
        return store.create(cur, body)


def get(client_id):
    with db.pg_transaction() as cur:
        return store.get(cur, client_id)


def update(client_id, body):
    with db.pg_transaction() as cur:
        return store.update(cur, client_id, body)


def delete(client_id):
    with db.pg_transaction() as cur:
        store.delete(cur, client_id)
