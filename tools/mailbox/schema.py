"""Drop and (re)create the mailbox schema: every mailbox, letter and API key goes. Other products' schemas stay.

Usage (from the repo root, the common layer on the path):
  PYTHONPATH=layers/common/python python -m tools.mailbox.schema create   [--pg-url URL]
  PYTHONPATH=layers/common/python python -m tools.mailbox.schema drop     [--yes] [--pg-url URL]
  PYTHONPATH=layers/common/python python -m tools.mailbox.schema recreate [--yes] [--pg-url URL]
`create` applies the mailbox migrations (infra/migrations/postgres/03xx_mailbox_*.sql) not yet applied, creating
the database if needed; `drop` removes the schema and forgets those migrations; `recreate` does both. drop and
recreate ask for confirmation (type "yes") unless --yes is given. DATABASE_URL is the default URL.
Exit status: 0 done, 1 not confirmed, 2 no URL or no database server.
"""
import argparse
import sys
from urllib.parse import urlsplit

import psycopg2

from common import db
from infra import migrate
from tools.mailbox import database_url

PRODUCT = "mailbox"
SCHEMA = "mailbox"
MIGRATION_LOCK = 724001     # infra.migrate's advisory lock: a migrator running meanwhile waits for the drop
COUNTS = f"SELECT (SELECT count(*) FROM {SCHEMA}.mailboxes), (SELECT count(*) FROM {SCHEMA}.letters)"


def where(url):
    """host:port/database of a URL, never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{parts.path.lstrip('/') or 'postgres'}"


def contents(url):
    """(mailboxes, letters) stored, or None when there is no schema (or no database) to drop."""
    try:
        conn = db.pg_connect(url, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,))
            if cur.fetchone() is None:
                return None
            try:
                cur.execute(COUNTS)
            except psycopg2.errors.UndefinedTable:
                return (0, 0)           # a schema without its tables (a migration stopped half-way)
            return cur.fetchone()
    finally:
        conn.close()


def drop(url):
    """Drop the schema and forget its migrations, in one transaction; returns the versions forgotten."""
    names = [path.name for path in migrate.files("postgres", PRODUCT)]
    conn = db.pg_connect(url, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            if not cur.fetchone()[0]:
                return []
            cur.execute("DELETE FROM schema_migrations WHERE version = ANY(%s) RETURNING version", (names,))
            return sorted(row[0] for row in cur.fetchall())
    finally:
        conn.close()


def create(url):
    """Apply the mailbox migrations not yet applied; returns their versions."""
    return migrate.migrate_postgres(url, product=PRODUCT)


def confirmed(url, found, ask=input):
    """True if the operator types "yes" to dropping what was found."""
    what = "an empty schema" if found == (0, 0) else f"{found[0]} mailboxes and {found[1]} letters"
    try:
        answer = ask(f"Drop schema {SCHEMA!r} in {where(url)} with {what}? This cannot be undone. Type yes: ")
    except EOFError:                # no terminal to answer from: the answer is no
        answer = ""
    return answer.strip().lower() == "yes"


def main(argv=None, ask=input):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.mailbox.schema", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["create", "drop", "recreate"])
    parser.add_argument("--yes", action="store_true", help="drop without asking")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    url = database_url(args.pg_url)
    if url is None:
        return 2
    try:
        if args.command in ("drop", "recreate"):
            found = contents(url)
            if found is None:
                print(f"no schema {SCHEMA!r} in {where(url)}: nothing to drop")
            elif not args.yes and not confirmed(url, found, ask):
                print("not confirmed: nothing changed", file=sys.stderr)
                return 1
            else:
                drop(url)
                print(f"dropped schema {SCHEMA!r} in {where(url)}")
        if args.command in ("create", "recreate"):
            applied = create(url)
            print(f"created schema {SCHEMA!r} in {where(url)}: applied {', '.join(applied) or 'nothing new'}")
    except (migrate.Unreachable, psycopg2.OperationalError) as exc:
        print(f"error: cannot reach PostgreSQL at {where(url)}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
