"""HTML pages, rendered from the jinja2 templates next to this module."""
import os

import jinja2

from . import providers

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=True, trim_blocks=True, lstrip_blocks=True)


def new_account(base, error=None, values=None):
    """The "add a mailbox" form, with an error and the values to keep when it was rejected."""
    values = dict(values or {})
    values.pop("password", None)  # never echoed back
    return _env.get_template("new_account.html").render(
        base=base, error=error, values=values, presets=providers.PRESETS, custom=providers.CUSTOM)


def account(base, account_row, token, ws_url, job, rows, count, latest_id, link=None):
    """The messages page: progress, the table of imported messages, the live connection's settings."""
    page = {"account": account_row["id"], "token": token, "wsUrl": ws_url, "base": base, "job": job,
            "rows": rows, "count": count, "latestId": latest_id,
            "accountStatus": {"status": account_row["status"], "error": account_row["error"]}}
    return _env.get_template("account.html").render(base=base, account=account_row, page=page, link=link)


def not_found(base, message="Not found."):
    """A plain error page."""
    return _env.get_template("error.html").render(base=base, message=message)
