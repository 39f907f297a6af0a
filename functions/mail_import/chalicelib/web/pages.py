"""HTML pages in the reader's language, rendered from the jinja2 templates next to this module."""
from pathlib import Path

from common import i18n

from ..engine import failures
from . import account_form

HERE = Path(__file__).resolve().parent
_pages = i18n.Pages(HERE / "templates", locale_dir=HERE.parent / "locale")


def new_account(base, language, error=None, values=None):
    """The "add a mailbox" form, with an error (AppError) and the values to keep when it was rejected."""
    values = dict(values or {})
    values.pop("password", None)  # never echoed back
    return _pages.render("new_account.html", language, base=base, values=values, presets=account_form.PRESETS,
                         custom=account_form.CUSTOM, error=_pages.error_text(error, language) if error else None)


def account(base, language, account_row, token, ws_url, job, rows, count, latest_id, link=None):
    """The messages page: progress, the table of imported messages, the live connection's settings."""
    translate = _pages.gettext(language)
    page = {"account": account_row["id"], "token": token, "wsUrl": ws_url, "base": base, "job": job,
            "rows": rows, "count": count, "latestId": latest_id,
            "accountStatus": {k: account_row[k] for k in ("status", "error", "error_message")},
            "failures": {msgid: translate(msgid) for msgid in failures.MESSAGES}}
    return _pages.render("account.html", language, base=base, account=account_row, page=page, link=link)


def error(base, language, failure):
    """The page for a failure (an AppError), in the reader's language."""
    return _pages.render("error.html", language, base=base, message=_pages.error_text(failure, language))
