"""HTML pages in the reader's language, rendered from the jinja2 templates next to this module."""
from pathlib import Path

from common import i18n
from common.i18n import N_

from ..engine import failures
from . import account_form

HERE = Path(__file__).resolve().parent
LIVE_ROWS = 200   # rows the page keeps in the DOM; older ones come page by page from the API
SYNC_CHOICES = (5, 10, 30, 60, 180, 1440)
# What to do when a provider stops accepting the password (shown with the "login stopped working" notice).
AUTH_ADVICE = {
    "gmail.com": N_("Gmail: turn on 2-step verification, create an app password (Google Account → Security → "
                    "App passwords) and enter it below instead of your usual password."),
    "yandex.ru": N_("Yandex: allow access by mail clients (Mail settings → Email clients → IMAP), create an app "
                    "password for mail (Yandex ID → Security → App passwords) and enter it below."),
    "mail.ru": N_("Mail.ru: create a password for external applications (Settings → Security → Passwords for "
                  "external applications), allow IMAP, and enter that password below."),
    "custom": N_("Check with your mail provider that IMAP is enabled for the mailbox and whether it needs an app "
                 "password, then enter the current password below."),
}
CONFIRM_DELETE = N_("Tick the box to confirm that the mailbox and everything imported from it is deleted.")
# A listed mailbox's state: its import's while one runs or was cancelled, else the account's.
STATES = {"new": N_("not imported yet"), "importing": N_("importing"), "queued": N_("importing"),
          "running": N_("importing"), "ok": N_("up to date"), "error": N_("import failed"),
          "auth_failed": N_("password no longer accepted"), "cancelled": N_("import cancelled")}
_pages = i18n.Pages(HERE / "templates", locale_dir=HERE.parent / "locale")


def _listed(mailbox, translate):
    """A row of "my mailboxes" with its state and size in the reader's words."""
    state = mailbox["job_state"] if mailbox["job_state"] in ("queued", "running", "cancelled") else mailbox["status"]
    size, unit = mailbox["bytes"], "B"
    for bigger in ("KB", "MB"):
        if size >= 1024:
            size, unit = size / 1024, bigger
    number = f"{size:.1f}" if unit != "B" else str(size)
    return dict(mailbox, state=translate(STATES.get(state, STATES["new"])), size=f"{number} {translate(unit)}")


def new_account(base, language, error=None, values=None, mine=()):
    """The "add a mailbox" form, with an error (AppError) and the values to keep when it was rejected, under the
    mailboxes this browser added (accounts.mine)."""
    values = dict(values or {})
    values.pop("password", None)  # never echoed back
    fields = getattr(error, "fields", {})
    advice = None
    if error is not None and error.message in failures.AUTH_FAILURES:
        advice = AUTH_ADVICE.get(fields.get("provider"), AUTH_ADVICE["custom"])
    return _pages.render("new_account.html", language, base=base, values=values, presets=account_form.PRESETS,
                         custom=account_form.CUSTOM, error=_pages.error_text(error, language) if error else None,
                         advice=advice, help_url=fields.get("help"),
                         mine=[_listed(m, _pages.gettext(language)) for m in mine])


def account(base, language, account_row, token, ws_url, job, rows, count, latest_id, link=None):
    """The messages page: progress, the table of imported messages, the live connection's settings."""
    translate = _pages.gettext(language)
    page = {"account": account_row["id"], "token": token, "wsUrl": ws_url, "base": base, "job": job,
            "rows": rows, "count": count, "latestId": latest_id,
            "accountStatus": {k: account_row[k] for k in ("status", "error", "error_message")},
            "syncMinutes": account_row.get("sync_minutes"), "liveRows": LIVE_ROWS,
            "authFailures": sorted(failures.AUTH_FAILURES),
            "failures": {msgid: translate(msgid) for msgid in failures.MESSAGES}}
    return _pages.render("account.html", language, base=base, account=account_row, page=page, link=link,
                         advice=AUTH_ADVICE.get(account_row["provider"], AUTH_ADVICE["custom"]),
                         sync_choices=SYNC_CHOICES)


def deleted(base, language, summary):
    """What the deletion of a mailbox removes (engine/deletion.request's summary)."""
    return _pages.render("deleted.html", language, base=base, summary=summary)


def error(base, language, failure):
    """The page for a failure (an AppError), in the reader's language."""
    return _pages.render("error.html", language, base=base, message=_pages.error_text(failure, language))


def message(base, language, account_row, message_row, blocked, images):
    """One message: headers, attachments, and the body (the HTML part in a sandboxed frame, else the text)."""
    return _pages.render("message.html", language, base=base, account=account_row, message=message_row,
                         blocked=blocked, images=images)
