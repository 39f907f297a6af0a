"""Client rows in and out of PostgreSQL."""
import psycopg2.errors

from common.i18n import N_
from common.web import AppError, not_found

from .. import queries
from . import model

COLUMNS = ("id", "phone", "operator_code", "tag", "timezone", "created_at")


def _row(row):
    client = dict(zip(COLUMNS, row))
    client["created_at"] = client["created_at"].isoformat()
    return client


def create(cur, body):
    values = model.parse(body)
    cur.execute(queries.INSERT_CLIENT, (values["phone"], values["operator_code"], values["tag"], values["timezone"]))
    row = cur.fetchone()
    if row is None:
        raise _phone_taken(values["phone"])
    return _row(row)


def get(cur, client_id):
    cur.execute(queries.CLIENT_BY_ID, (client_id,))
    row = cur.fetchone()
    if row is None:
        raise not_found(N_("no such client"))
    return _row(row)


def list_page(cur, after, limit):
    cur.execute(queries.LIST_CLIENTS, (after, limit))
    items = [_row(r) for r in cur.fetchall()]
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
    return _row(cur.fetchone())


def delete(cur, client_id):
    cur.execute(queries.DELETE_CLIENT, (client_id,))
    if cur.rowcount == 0:
        raise not_found(N_("no such client"))


def _phone_taken(phone):
    return AppError(409, N_("a client with phone %(phone)s already exists"), params={"phone": phone}, field="phone")
