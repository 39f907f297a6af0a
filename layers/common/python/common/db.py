"""Database connections read from environment URLs, reused across warm invocations."""
import threading
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

from .settings import Reader

_local = threading.local()


def pg_url():
    """The PostgreSQL URL (DATABASE_URL); SettingError naming it when unset: no local default hides it on AWS."""
    return Reader().text("DATABASE_URL")


def mysql_url():
    """The MySQL URL (MYSQL_URL); SettingError naming it when unset."""
    return Reader().text("MYSQL_URL")


def pg_connect(url=None, **kwargs):
    """A new psycopg2 connection (autocommit off)."""
    import psycopg2
    return psycopg2.connect(url or pg_url(), **kwargs)


def mysql_params(url=None):
    """pymysql.connect keyword arguments parsed from a mysql:// URL."""
    parts = urlparse(url or mysql_url())
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": (parts.path or "/").lstrip("/") or None,
        "charset": "utf8mb4",
    }


def mysql_connect(url=None, **kwargs):
    """A new pymysql connection (autocommit off, dict rows unless told otherwise)."""
    import pymysql
    import pymysql.cursors
    params = mysql_params(url)
    params.setdefault("cursorclass", pymysql.cursors.DictCursor)
    params.update(kwargs)
    return pymysql.connect(**params)


def _cached(name, factory, alive):
    # One connection per thread, kept across warm invocations as Lambda does.
    conn = getattr(_local, name, None)
    if conn is not None and alive(conn):
        return conn
    conn = factory()
    setattr(_local, name, conn)
    return conn


def _pg_alive(conn):
    if conn.closed:
        return False
    try:
        conn.rollback()
        return True
    except Exception:
        return False


def _mysql_alive(conn):
    try:
        conn.ping(reconnect=False)
        conn.rollback()
        return True
    except Exception:
        return False


@contextmanager
def _transaction(conn):
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def pg_transaction():
    """A cursor in a transaction on the cached connection; commit on success, roll back on error."""
    return _transaction(_cached("pg", pg_connect, _pg_alive))


def mysql_transaction():
    """A dict cursor in a transaction on the cached MySQL connection; commit on success, roll back on error."""
    return _transaction(_cached("mysql", mysql_connect, _mysql_alive))
