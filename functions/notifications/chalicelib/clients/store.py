"""Client rows in and out of PostgreSQL."""
import psycopg2.errors

from common import rows
from common.i18n import N_
from common.web import AppError, not_found

from .. import queries
from . import model

CLIENT_DELETED = "the client was deleted"


def _row(client):
    if client is not None:
        client["created_at"] = client["created_at"].isoformat()
    return client


def create(cur, body):
    values = model.parse(body)
    cur.execute(queries.INSERT_CLIENT, (values["phone"], values["operator_code"], values["tag"], values["timezone"]))
    client = _row(rows.one(cur))
    if client is None:
        raise _phone_taken(values["phone"])
    return client


def get(cur, client_id):
    cur.execute(queries.CLIENT_BY_ID, (client_id,))
    client = _row(rows.one(cur))
    if client is None:
        raise not_found(N_("no such client"))
    return client


def list_page(cur, after, limit):
    cur.execute(queries.LIST_CLIENTS, (after, limit))
    items = [_row(r) for r in rows.all(cur)]
    return {"items": items, "next_after": items[-1]["id"] if len(items) == limit else None}


def search(cur, filters, after, limit):
    """Clients matching every given filter (phone prefix, operator code, tag, time zone), a page by id."""
    cur.execute(queries.SEARCH_CLIENTS, dict(filters, after=after, limit=limit))
    items = [_row(r) for r in rows.all(cur)]
    return {"items": items, "next_after": items[-1]["id"] if len(items) == limit else None}


def update(cur, client_id, body):
    current = get(cur, client_id)
    values = model.parse(body, current)
    if values["phone"] != current["phone"]:
        cur.execute(queries.CLIENT_ID_BY_PHONE, (values["phone"],))
        if cur.fetchone() is not None:
            raise _phone_taken(values["phone"])
    try:
        cur.execute(queries.UPDATE_CLIENT, (values["phone"], values["operator_code"], values["tag"],
                                            values["timezone"], client_id))
    except psycopg2.errors.UniqueViolation:
        raise _phone_taken(values["phone"]) from None
    return _row(rows.one(cur))


def delete(cur, client_id):
    """Marks the client deleted: its messages stay in the statistics; those it was still to get expire."""
    cur.execute(queries.DELETE_CLIENT, (client_id,))
    if cur.rowcount == 0:
        raise not_found(N_("no such client"))
    cur.execute(queries.EXPIRE_CLIENT_MESSAGES, (CLIENT_DELETED, client_id))


def _phone_taken(phone):
    return AppError(409, N_("a client with phone %(phone)s already exists"), params={"phone": phone}, field="phone")
