"""common.db: a connection killed on the server is replaced, not reused; idempotent work survives a lost one."""
import select

import psycopg2
import pymysql
import pytest

from common import db


@pytest.fixture(autouse=True)
def fresh_cache(pg_url, mysql_url, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every reuse counts as "after idle": pinged
    for slot in (db._PG, db._MYSQL):
        held = getattr(db._local, slot.name, None)
        if held:
            slot.drop(held[0])
    yield


def pg_backend():
    with db.pg_transaction() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def kill_pg(pid):
    with psycopg2.connect(db.pg_url()) as admin, admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert cur.fetchone()[0] is True
    admin.close()


def test_a_pg_connection_killed_while_idle_is_replaced_without_an_error():
    first = pg_backend()
    kill_pg(first)
    second = pg_backend()  # the old check (rollback() only) handed out the dead connection here
    assert second != first


def test_a_pg_connection_that_fails_mid_transaction_is_dropped():
    first = pg_backend()
    with pytest.raises(psycopg2.OperationalError):
        with db.pg_transaction() as cur:
            kill_pg(first)
            cur.execute("SELECT 1")
    assert getattr(db._local, "pg") is None
    assert pg_backend() != first


def test_pg_run_retries_idempotent_work_once_on_a_lost_connection(monkeypatch):
    calls = []

    def work(cur):
        calls.append(1)
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        if len(calls) == 1:
            kill_pg(pid)
            cur.execute("SELECT 1")  # fails: the connection was terminated
        return pid
    pid = db.pg_run(work)
    assert len(calls) == 2 and pid == pg_backend()


def test_pg_run_does_not_retry_sql_errors():
    calls = []

    def work(cur):
        calls.append(1)
        cur.execute("SELECT * FROM no_such_table_here")
    with pytest.raises(psycopg2.errors.UndefinedTable):
        db.pg_run(work)
    assert calls == [1]


def test_a_mysql_connection_killed_while_idle_is_replaced():
    with db.mysql_transaction() as cur:
        cur.execute("SELECT CONNECTION_ID() AS id")
        first = cur.fetchone()["id"]
    admin = pymysql.connect(**{**db.mysql_params(), "autocommit": True})
    with admin.cursor() as cur:
        cur.execute(f"KILL {int(first)}")
    admin.close()
    with db.mysql_transaction() as cur:
        cur.execute("SELECT CONNECTION_ID() AS id")
        assert cur.fetchone()["id"] != first


def test_connections_have_timeouts_and_keepalives():
    with db.pg_transaction() as cur:
        params = cur.connection.get_dsn_parameters()
    assert params["keepalives"] == "1" and int(params["connect_timeout"]) > 0


def _said_goodbye(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    assert poller.poll(5000), "the server never closed the killed connection"


def test_a_recently_used_connection_the_server_closed_is_replaced_without_a_ping(monkeypatch):
    # A restart within PING_AFTER_IDLE of the last use: no ping is due, but the server's goodbye is waiting
    # on the socket, so the dead connection is not handed out.
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)
    pings = []
    monkeypatch.setattr(db._PG, "ping", lambda conn: pings.append(conn) or db._pg_ping(conn))
    first = pg_backend()
    conn = db._local.pg[0]
    kill_pg(first)
    _said_goodbye(conn.fileno())
    assert pg_backend() != first
    assert pings == [conn]          # the goodbye made it check, and the check failed


def test_a_recently_used_mysql_connection_killed_is_replaced(monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)
    with db.mysql_transaction() as cur:
        cur.execute("SELECT CONNECTION_ID() AS id")
        first = cur.fetchone()["id"]
    conn = db._local.mysql[0]
    admin = pymysql.connect(**{**db.mysql_params(), "autocommit": True})
    with admin.cursor() as cur:
        cur.execute(f"KILL {int(first)}")
    admin.close()
    _said_goodbye(conn._sock.fileno())
    with db.mysql_transaction() as cur:
        cur.execute("SELECT CONNECTION_ID() AS id")
        assert cur.fetchone()["id"] != first


def test_a_recently_used_live_connection_is_reused_without_a_round_trip(monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)
    monkeypatch.setattr(db._PG, "ping", lambda conn: pytest.fail("pinged a busy, healthy connection"))
    assert pg_backend() == pg_backend()
