"""Mailbox administration from the repo root (with the common layer on the path, see tools/__init__.py).

Usage:
  python -m tools.mailbox.admin create-mailbox ADDRESS [--pg-url URL]
  python -m tools.mailbox.admin rotate-key ADDRESS [--pg-url URL]
Prints the mailbox's new API key once; only its digest is stored. DATABASE_URL is the default URL.
"""
import argparse
import sys

import psycopg2

from common import db
from common.web import AppError
from functions.mailbox.chalicelib import mailboxes
from tools.mailbox import database_url


def main(argv=None):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.mailbox.admin", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["create-mailbox", "rotate-key"])
    parser.add_argument("address")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    url = database_url(args.pg_url)
    if url is None:
        return 2
    action = mailboxes.create if args.command == "create-mailbox" else _rotate
    try:
        conn = db.pg_connect(url, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        print(f"error: cannot connect to PostgreSQL: {str(exc).strip()}", file=sys.stderr)
        return 2
    try:
        with conn, conn.cursor() as cur:
            address, key = action(cur, args.address)
    except AppError as exc:
        print(f"error: {exc.message}: {args.address}", file=sys.stderr)
        return 1
    except mailboxes.MailboxExists:
        print(f"error: a mailbox {args.address.lower()} already exists (rotate-key issues a new key)",
              file=sys.stderr)
        return 1
    except mailboxes.NoSuchMailbox:
        print(f"error: no mailbox {args.address.lower()} (create-mailbox makes one)", file=sys.stderr)
        return 1
    except psycopg2.errors.UndefinedTable:
        print("error: the mailbox schema is missing; run: python -m infra.migrate --only postgres", file=sys.stderr)
        return 2
    finally:
        conn.close()
    print(f"mailbox: {address}")
    print(f"api key: {key}")
    print("(shown once: only its digest is stored)")
    return 0


def _rotate(cur, address):
    return address.lower(), mailboxes.rotate_key(cur, address)


if __name__ == "__main__":
    sys.exit(main())
