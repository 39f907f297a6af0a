"""Rows as dicts, keyed by the SELECT's column names: one mapper for psycopg2 and pymysql cursors instead of a
dict(zip(...)) per query. Name the columns in the SQL (`AS name`) when the key must differ."""


def columns(cursor):
    return [column[0] for column in cursor.description]


def one(cursor):
    """The next row of the cursor's result as a dict, or None."""
    row = cursor.fetchone()
    return None if row is None else dict(zip(columns(cursor), row))


def all(cursor):  # noqa: A001 - rows.all(cur) reads as what it does
    """Every remaining row of the cursor's result as dicts."""
    names = columns(cursor)
    return [dict(zip(names, row)) for row in cursor.fetchall()]
