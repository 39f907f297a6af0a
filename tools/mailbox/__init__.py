"""Mailbox command-line tools: admin (mailboxes and API keys), fake (realistic test data), schema (drop and
recreate the mailbox schema)."""
import sys

from common import db
from common.settings import SettingError


def database_url(given):
    """The PostgreSQL URL: given (--pg-url), else DATABASE_URL; None after saying on stderr that neither is set."""
    try:
        return given or db.pg_url()
    except SettingError as exc:
        print(f"error: {exc} (or pass --pg-url)", file=sys.stderr)
        return None
