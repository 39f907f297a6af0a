"""Apply the versioned SQL migrations under infra/migrations/{postgres,mysql}, once each, in order.

Usage: python -m infra.migrate [--pg-url URL] [--mysql-url URL] [--only postgres|mysql]
Creates the database named in the URL if it does not exist. Exit 2 with a plain message if a
server is unreachable.
"""
import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pymysql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))
from common import db  # noqa: E402

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

HOW_TO_START = {
    "postgres": "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "
                "(or `docker compose -f docker-compose.localstack.yml up -d postgres`)",
    "mysql": "start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd "
             "(or `docker compose -f docker-compose.localstack.yml up -d mysql`)",
}


class Unreachable(Exception):
    """A database server could not be reached."""


def files(engine, product=None):
    """The migration files in order; with product, only that product's (NNNN_<product>_<what>.sql)."""
    return sorted(p for p in (MIGRATIONS / engine).glob("*.sql")
                  if product is None or p.name.split("_", 1)[1].startswith(product + "_"))


def migrate_postgres(url, product=None):
    """Create the database if needed and apply pending PostgreSQL migrations (only product's, if given);
    returns the versions applied."""
    parts = urlparse(url)
    dbname = parts.path.lstrip("/") or "postgres"
    try:
        admin = psycopg2.connect(url.replace(parts.path, "/postgres", 1) if parts.path else url + "/postgres",
                                 connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise Unreachable(f"PostgreSQL at {parts.hostname}:{parts.port or 5432} is unreachable "
                          f"({str(exc).strip().splitlines()[0]}); {HOW_TO_START['postgres']}") from None
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{dbname}"')
    admin.close()
    conn = psycopg2.connect(url)
    applied = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(724001)")  # two migrators at once: one waits
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        cur.execute("SELECT version FROM schema_migrations")
        done = {r[0] for r in cur.fetchall()}
        for path in files("postgres", product):
            if path.name in done:
                continue
            cur.execute(path.read_text())
            cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.name,))
            applied.append(path.name)
    conn.close()
    return applied


def migrate_mysql(url):
    """Create the database if needed and apply pending MySQL migrations; returns the versions applied."""
    params = db.mysql_params(url)
    dbname = params.pop("database") or "broadcast"
    try:
        admin = pymysql.connect(connect_timeout=5, autocommit=True, **params)
    except pymysql.err.OperationalError as exc:
        raise Unreachable(f"MySQL at {params['host']}:{params['port']} is unreachable ({exc.args[-1]}); "
                          f"{HOW_TO_START['mysql']}") from None
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{dbname}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute(f"USE `{dbname}`")
        cur.execute("SELECT GET_LOCK('schema_migrations', 60)")
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) PRIMARY KEY, "
                    "applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)")
        cur.execute("SELECT version FROM schema_migrations")
        done = {r[0] for r in cur.fetchall()}
        applied = []
        for path in files("mysql"):
            if path.name in done:
                continue
            # MySQL DDL commits implicitly, so each file must be safe to re-run (IF NOT EXISTS).
            for statement in _statements(path.read_text()):
                cur.execute(statement)
            cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.name,))
            applied.append(path.name)
        cur.execute("SELECT RELEASE_LOCK('schema_migrations')")
    admin.close()
    return applied


def _statements(sql):
    """Split a migration file into statements on ';' at line ends, dropping comment-only chunks."""
    out = []
    for chunk in sql.split(";\n"):
        code = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("--")).strip()
        if code.rstrip(";"):
            out.append(code.rstrip(";"))
    return out


def _local_url(variable, parameter):
    """The URL in the environment, else the template parameter's default (the local run databases):
    the template is the one place the local URLs are written."""
    if os.environ.get(variable):
        return os.environ[variable]
    from infra import template_parameters
    return template_parameters.default(parameter)


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=_local_url("DATABASE_URL", "DatabaseUrl"))
    parser.add_argument("--mysql-url", default=_local_url("MYSQL_URL", "MysqlUrl"))
    parser.add_argument("--only", choices=["postgres", "mysql"])
    args = parser.parse_args(argv)
    try:
        if args.only in (None, "postgres"):
            print(f"postgres: applied {migrate_postgres(args.pg_url) or 'nothing new'}")
        if args.only in (None, "mysql"):
            print(f"mysql: applied {migrate_mysql(args.mysql_url) or 'nothing new'}")
    except Unreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
