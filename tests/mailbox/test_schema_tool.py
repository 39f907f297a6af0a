"""tools/mailbox/schema.py against a throwaway PostgreSQL database: drop asks first (or takes --yes), recreate
leaves an empty working schema, other products' schemas and migrations stay."""
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from functions.mailbox.chalicelib import mailboxes
from infra import migrate
from tools.mailbox import schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def throwaway(pg_url):
    """A fresh database on the test server, every product migrated; dropped afterwards."""
    name = f"mailbox_schema_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(pg_url)
    url = urlunsplit(parts._replace(path="/" + name))
    migrate.migrate_postgres(url)
    yield url
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def run(url, *args, answer=None):
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH="layers/common/python")
    return subprocess.run([sys.executable, "-m", "tools.mailbox.schema", *args], cwd=ROOT, env=env, text=True,
                          input=answer, capture_output=True, timeout=120)


def query(url, sql):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def mailbox_count(url):
    return query(url, "SELECT count(*) FROM mailbox.mailboxes")[0][0]


def versions(url):
    return sorted(row[0] for row in query(url, "SELECT version FROM schema_migrations"))


def add_mailbox(url):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        mailboxes.create(cur, f"someone.{uuid.uuid4().hex[:8]}@test.example")


def test_drop_asks_and_anything_but_yes_changes_nothing(throwaway):
    add_mailbox(throwaway)
    for answer in ("no\n", "\n", None):         # None: no terminal (stdin at its end) is a no too
        refused = run(throwaway, "drop", answer=answer or "")
        assert refused.returncode == 1 and "not confirmed" in refused.stderr, refused.stderr
        assert "1 mailboxes and 0 letters" in refused.stdout and "Type yes" in refused.stdout
        assert mailbox_count(throwaway) == 1
    assert "@" not in run(throwaway, "drop", answer="no\n").stdout.split(" in ")[1]     # no credentials shown


def test_recreate_after_yes_gives_an_empty_working_schema_and_leaves_the_others(throwaway):
    add_mailbox(throwaway)
    before = versions(throwaway)
    done = run(throwaway, "recreate", answer="yes\n")
    assert done.returncode == 0, done.stderr
    assert "dropped schema 'mailbox'" in done.stdout and "0301_mailbox_schema.sql" in done.stdout
    assert mailbox_count(throwaway) == 0 and versions(throwaway) == before
    add_mailbox(throwaway)                      # the recreated schema works
    assert mailbox_count(throwaway) == 1
    assert query(throwaway, "SELECT count(*) FROM code_check.users")[0][0] == 0     # another schema is still there


def test_drop_with_yes_forgets_the_migrations_and_create_brings_them_back(throwaway):
    add_mailbox(throwaway)
    dropped = run(throwaway, "drop", "--yes")
    assert dropped.returncode == 0, dropped.stderr
    assert query(throwaway, "SELECT count(*) FROM pg_namespace WHERE nspname = 'mailbox'")[0][0] == 0
    remaining = versions(throwaway)
    assert remaining and not [v for v in remaining if "_mailbox_" in v]
    assert "notifications" in " ".join(remaining)
    again = run(throwaway, "drop", "--yes")
    assert again.returncode == 0 and "nothing to drop" in again.stdout
    created = run(throwaway, "create")
    assert created.returncode == 0, created.stderr
    assert sorted(set(versions(throwaway)) - set(remaining)) == [p.name for p in migrate.files("postgres", "mailbox")]
    assert mailbox_count(throwaway) == 0


def test_create_makes_the_database_and_only_the_mailbox_schema(pg_url):
    parts = urlsplit(pg_url)
    name = f"mailbox_new_{uuid.uuid4().hex[:10]}"
    url = urlunsplit(parts._replace(path="/" + name))
    try:
        created = run(url, "create")
        assert created.returncode == 0, created.stderr
        assert versions(url) == ["0301_mailbox_schema.sql", "0302_mailbox_unread_counters.sql"]
        assert mailbox_count(url) == 0
    finally:
        admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_plain_errors_without_a_url_or_a_server(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATFORM_SECRETS", raising=False)
    assert schema.main(["drop"]) == 2 and "DATABASE_URL" in capsys.readouterr().err
    unreachable = "postgresql://postgres:secret@127.0.0.1:1/nothing"
    assert schema.main(["recreate", "--yes", "--pg-url", unreachable]) == 2
    err = capsys.readouterr().err
    assert "cannot reach PostgreSQL at 127.0.0.1:1/nothing" in err and "secret" not in err
