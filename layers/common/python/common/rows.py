"""Rows as dicts, keyed by the SELECT's column names: one mapper for psycopg2 and pymysql cursors instead of a
dict(zip(...)) per query.
Works with tuple cursors and DictCursor alike. Name the columns in the SQL (`AS name`) when the key must differ."""


def columns(cursor):
    return [column[0] for column in cursor.description]


def _as_dict(names, row):
    # common.db's MySQL connections already use DictCursor: such rows are dicts already
    return dict(row) if isinstance(row, dict) else dict(zip(names, row))


def one(cursor):
    """The next row of the cursor's result as a dict, or None."""
    row = cursor.fetchone()
    return None if row is None else _as_dict(columns(cursor), row)


def all(cursor):  # noqa: A001 - rows.all(cur) reads as what it does
    """Every remaining row of the cursor's result as dicts."""
    names = columns(cursor)
    return [_as_dict(names, row) for row in cursor.fetchall()]
