"""The API's one page (GET /: what the API is, where its documentation is) and the page for its failures,
in Russian or English (common.i18n), on the platform's one look (common/base.html)."""
from pathlib import Path

from common import i18n

PAGES = i18n.Pages(Path(__file__).resolve().parent / "templates")


def index(base, language):
    """The landing page; base is the stage prefix for links."""
    return PAGES.render("index.html", language, base=base)


def error(base, language, failure):
    """An AppError as a page in the reader's language."""
    return PAGES.render("error.html", language, base=base, error=failure)
