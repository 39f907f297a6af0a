"""Rendering pages: the product's templates in the reader's language, with the signed-in user and links."""
from pathlib import Path

from common import i18n, web

from ..checks import options

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGES = i18n.Pages(TEMPLATES, globals={"flake8_options": options.shown()})


def render(request, template, status=200, headers=None, **values):
    language = i18n.request_language(request)
    body = PAGES.render(template, language, base=web.base_path(request), **values)
    return web.html_response(body, status=status, headers={**web.NO_STORE, **(headers or {})})


def error_page(request):
    """The render function for web.map_errors: the error's message in the reader's language."""
    def render_error(error):
        language = i18n.request_language(request)
        return PAGES.render("error.html", language, base=web.base_path(request), status=error.status,
                            message=PAGES.error_text(error, language), user=None)
    return render_error


def error_response(request, error):
    """An AppError as its page (for failures met before a route runs)."""
    return web.html_response(error_page(request)(error), status=error.status, headers=error.headers)


def translate(request, message, params=None):
    text = PAGES.gettext(i18n.request_language(request))(message)
    return text % params if params else text
