"""Operator accounts of the notifications API and admin page.

    python -m functions.notifications.admin create-operator NAME    (asks for the password; sets it again
                                                                     if NAME exists)
Uses DATABASE_URL (default: the local database).
"""
import argparse
import getpass
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent.parent / "layers" / "common" / "python")]

from chalicelib.api import auth  # noqa: E402
from common import db  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m functions.notifications.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-operator", help="create an operator (or set a new password)")
    create.add_argument("username")
    args = parser.parse_args(argv)
    password = getpass.getpass("Password: ")
    if len(password) < 8:
        print("error: use at least 8 characters", file=sys.stderr)
        return 2
    with db.pg_transaction() as cur:
        operator_id = auth.create_operator(cur, args.username, password)
    print(f"operator {args.username} (id {operator_id}) can sign in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
