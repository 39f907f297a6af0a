"""Server-rendered pages in the reader's language: jinja2 templates under chalicelib/templates, autoescaped."""
from pathlib import Path

from common import i18n
from common.i18n import N_

from . import sender

HERE = Path(__file__).resolve().parent
STATUS_LABELS = {"queued": N_("queued"), "sending": N_("sending"), "not_sent": N_("not sent"),
                 "unknown": N_("unknown"),
                 "cancelled": N_("cancelled"), "sent": N_("sent"), "delivered": N_("delivered"), "failed": N_("failed"),
                 "read": N_("read")}
SIGN_IN = N_("Sign in with the broadcast user name and password.")
NO_PASSWORD = N_("The site password is not configured (template parameter BroadcastPassword); nobody can sign in.")
MISCONFIGURED = N_("The site is misconfigured: %(problem)s")
NO_BROADCAST = N_("There is no such broadcast.")
NO_LIST = N_("There is no such contact list.")
NOTHING_TO_RESEND = N_("No number of this broadcast ended not sent or failed: there is nothing to send again.")
LIST_NAME_TAKEN = N_("A contact list with this name exists already.")
LIST_FULL = N_("The list has %(size)s numbers; with these it would have more than the %(limit)s one broadcast takes.")
LOCKED_OUT = N_("Too many failed sign-ins from your address. Wait %(seconds)s s and try again after %(time)s UTC.")
FORGED_FORM = N_("The form did not come from this site or has expired: reload the page and submit it again.")
# The heading of an error page, by status.
TITLES = {400: N_("Bad form"), 401: N_("Sign in required"), 403: N_("Form expired"), 404: N_("Not found"),
          409: N_("Nothing to do"),
          429: N_("Too many attempts"),
          500: N_("Something went wrong"), 503: N_("Temporarily unavailable")}

_pages = i18n.Pages(HERE / "templates", globals={"STATUS_LABELS": STATUS_LABELS, "EXPLANATIONS": sender.EXPLANATIONS},
                    filters={
                        "when": lambda value: value.strftime("%Y-%m-%d %H:%M:%S") if value else "",
                        "clock": lambda value: value.strftime("%H:%M:%S") if value else ""})


def render(name, language, **context):
    """The HTML of templates/<name> in a language."""
    return _pages.render(name, language, **context)


def message(status, language, text, base=""):
    """A page with a heading for the status and a text (an AppError, an i18n.Message or a msgid)."""
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    return _pages.render("message.html", language, base=base, title=title, message=text)
