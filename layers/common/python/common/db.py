"""Database connections, reused across warm invocations. The URLs are secrets: on AWS they come from the
platform's Secrets Manager secret (common.secrets), never from a function's environment."""
import os
import random
import select
import threading
import time
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

from . import secrets
from .log import get_logger
from .settings import SettingError

log = get_logger("db")

_local = threading.local()


def pg_url():
    """The PostgreSQL URL (DATABASE_URL); SettingError naming it when unset: no local default hides it on AWS."""
    return _url("DATABASE_URL")


def mysql_url():
    """The MySQL URL (MYSQL_URL); SettingError naming it when unset."""
    return _url("MYSQL_URL")


def _url(name):
    """The environment variable when set (migrations, tools and tests set it directly), else the platform's
    secret (functions: the template puts the URLs there, where get-function-configuration cannot show them)."""
    value = os.environ.get(name)
    if value:
        return value
    try:
        return secrets.get(name)
    except secrets.SecretMissing as exc:
        raise SettingError(str(exc)) from None


# A dead server or a half-open TCP connection must not hang a function until its timeout.
PG_OPTIONS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
              "keepalives_count": 3}
MYSQL_OPTIONS = {"connect_timeout": 5}
# A connection idle longer than this is pinged before reuse: after a database restart the first request on
# every warm worker would otherwise fail. Busy connections skip the round trip, unless the server has
# written to them while idle (see _hung_up).
PING_AFTER_IDLE = 1.0


def pg_connect(url=None, **kwargs):
    """A new psycopg2 connection (autocommit off) with a connect timeout and TCP keepalives."""
    import psycopg2
    return psycopg2.connect(url or pg_url(), **{**PG_OPTIONS, **kwargs})


def mysql_params(url=None):
    """pymysql.connect keyword arguments parsed from a mysql:// URL. A URL without a host or a user is refused
    (SettingError): a quiet 127.0.0.1 or root would connect a function on AWS to nothing, or to the wrong server."""
    parts = urlparse(url or mysql_url())
    if parts.scheme != "mysql" or not parts.hostname or not parts.username:
        raise SettingError("MYSQL_URL must be mysql://user[:password]@host[:port]/database")
    return {
        "host": parts.hostname,
        "port": parts.port or 3306,
        "user": unquote(parts.username),
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
    params.update(MYSQL_OPTIONS)
    params.update(kwargs)
    return pymysql.connect(**params)


def connection_errors():
    """The driver exceptions that mean "the connection or the server is gone" (not "your SQL is wrong")."""
    errors = []
    try:
        import psycopg2
        errors += [psycopg2.OperationalError, psycopg2.InterfaceError]
    except ImportError:
        pass
    try:
        import pymysql
        errors += [pymysql.err.OperationalError, pymysql.err.InterfaceError]
    except ImportError:
        pass
    return tuple(errors)


# A transaction the server rolled back to break a deadlock, or a lock wait it gave up on: MySQL 1213 and 1205,
# PostgreSQL deadlock_detected and serialization_failure. The server asks for the transaction to run again.
CONFLICT_CODES = frozenset({1213, 1205, "40P01", "40001"})
CONFLICT_ATTEMPTS = 4     # tries in all of a transaction rolled back for a lock conflict
CONFLICT_PAUSE = 0.02     # seconds: the first pause's upper bound, doubling (jittered, so the two do not meet again)


def is_conflict(exc):
    """True if exc is a transaction the server rolled back to break a lock conflict (run it again)."""
    code = getattr(exc, "pgcode", None)
    if code is None and getattr(exc, "args", None):
        code = exc.args[0]
    return isinstance(code, (int, str)) and code in CONFLICT_CODES


class _Slot:
    """One cached connection per thread and database, kept across warm invocations as Lambda does."""

    def __init__(self, name, factory, ping):
        self.name, self.factory, self.ping = name, factory, ping

    def get(self):
        held = getattr(_local, self.name, None)
        if held is not None:
            conn, last_used = held
            recent = time.monotonic() - last_used <= PING_AFTER_IDLE and not _closed(conn) and not _hung_up(conn)
            if recent or self.ping(conn):
                return conn
            self.drop(conn)
        conn = self.factory()
        setattr(_local, self.name, (conn, time.monotonic()))
        return conn

    def used(self, conn):
        setattr(_local, self.name, (conn, time.monotonic()))

    def drop(self, conn):
        """Forget (and close) a connection that failed, so the next transaction opens a new one."""
        held = getattr(_local, self.name, None)
        if held is not None and held[0] is conn:
            setattr(_local, self.name, None)
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - it is already broken; closing is a courtesy
            pass


def _closed(conn):
    closed = getattr(conn, "closed", None)  # psycopg2: 0 while open
    return bool(closed) if closed is not None else not getattr(conn, "open", True)


def _hung_up(conn):
    """True when the server has written to an idle connection: between transactions it only does so to say
    goodbye (a restart, pg_terminate_backend, KILL: an error packet, then end of file). No round trip."""
    try:
        sock = conn if hasattr(conn, "fileno") else getattr(conn, "_sock", None)  # psycopg2 / pymysql
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # a closed descriptor
        return True


def _pg_ping(conn):
    # rollback() on an idle connection never reaches the server; a real statement does.
    if conn.closed:
        return False
    try:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.rollback()
        return True
    except Exception:  # noqa: BLE001 - any failure means: open a new one
        return False


def _mysql_ping(conn):
    try:
        conn.ping(reconnect=False)
        conn.rollback()
        return True
    except Exception:  # noqa: BLE001 - any failure means: open a new one
        return False


_PG = _Slot("pg", pg_connect, _pg_ping)
_MYSQL = _Slot("mysql", mysql_connect, _mysql_ping)


@contextmanager
def _transaction(slot):
    conn = slot.get()
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
        slot.used(conn)
    except connection_errors():
        slot.drop(conn)
        raise
    except BaseException:
        try:
            conn.rollback()
            slot.used(conn)
        except connection_errors():
            slot.drop(conn)
        raise


def pg_transaction():
    """A cursor in a transaction on the cached connection; commit on success, roll back on error.
    A connection that failed is dropped, so the next transaction gets a fresh one."""
    return _transaction(_PG)


def mysql_transaction():
    """A dict cursor in a transaction on the cached MySQL connection; commit on success, roll back on error."""
    return _transaction(_MYSQL)


def in_transaction(transaction, work, attempts=CONFLICT_ATTEMPTS, pause=random.uniform):
    """work(cur) in one transaction, run again (after a short jittered pause, doubling) when the server rolled it
    back to break a lock conflict: parallel requests for one key deadlock now and then in InnoDB (its insert-or-
    update takes gap locks). A rolled-back try changed nothing, so any work may run again for it."""
    for attempt in range(attempts):
        try:
            with transaction() as cur:
                return work(cur)
        except Exception as exc:
            if attempt + 1 == attempts or not is_conflict(exc):
                raise
            log.warning("lock conflict, the transaction runs again", attempt=attempt + 1)
            time.sleep(pause(0, CONFLICT_PAUSE * 2 ** attempt))


def _run(transaction, work, retries):
    for attempt in range(retries + 1):
        try:
            return in_transaction(transaction, work)
        except connection_errors():
            if attempt == retries:
                raise


def pg_run(work, retries=1):
    """work(cur) in a PostgreSQL transaction, run again on a new connection if the connection was lost.
    Only for idempotent work: a lost connection may have lost the commit's answer, not the commit."""
    return _run(pg_transaction, work, retries)


def mysql_run(work, retries=1):
    """work(cur) in a MySQL transaction, retried once on a lost connection (idempotent work only)."""
    return _run(mysql_transaction, work, retries)
