"""Operator accounts of the notifications API and admin page, from the repo root (with the common layer on the
path, see tools/__init__.py).

Usage:
  PYTHONPATH=layers/common/python python -m tools.notifications.admin create-operator NAME [--password-stdin]
Asks for the password (or reads one line from stdin) and stores its argon2 hash; sets it again if NAME exists.
Uses DATABASE_URL (the deployment's database; on AWS the one the stack's DatabaseUrl names).
"""
import argparse
import getpass
import sys

from common import db
from common.settings import SettingError
from functions.notifications.chalicelib.api import auth

MIN_PASSWORD = 8


def main(argv=None):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.notifications.admin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-operator", help="create an operator (or set a new password)")
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if len(password) < MIN_PASSWORD:
        print(f"error: use at least {MIN_PASSWORD} characters", file=sys.stderr)
        return 2
    try:
        with db.pg_transaction() as cur:
            operator_id = auth.create_operator(cur, args.username, password)
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"operator {args.username} (id {operator_id}) can sign in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
