"""Cursor rows as dicts keyed by column name."""


def every(cur):
    columns = [c.name for c in cur.description]
    return [dict(zip(columns, row)) for row in cur.fetchall()]


def one(cur):
    row = cur.fetchone()
    return None if row is None else dict(zip([c.name for c in cur.description], row))
