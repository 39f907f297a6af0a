"""Pages in the reader's language: Russian by default, English when the browser prefers it.

Each product keeps its catalog beside its templates (gettext, managed with Babel):

    chalicelib/templates/*.html          {% trans %}...{% endtrans %}, {{ _("...") }}
    chalicelib/*.py                      N_("...") where a page's message is defined (AppError texts)
    chalicelib/locale/ru/LC_MESSAGES/messages.po / .mo

The messages of common itself (common.web's errors) are in common/locale, the fallback of every product's
catalog, so no product repeats them.

Message ids are English; the Russian catalog translates them; English needs no catalog. The .mo files
are compiled with `pybabel compile` and committed (Lambda runs no build step); a test checks every
message of every product is translated and every .mo matches its .po.
"""
import functools
import gettext
from pathlib import Path

import jinja2

LANGUAGES = ("ru", "en")
DEFAULT = "ru"
DOMAIN = "messages"
COMMON_LOCALE = Path(__file__).resolve().parent / "locale"


def N_(message):
    """Marks a message for the catalog where it is defined and translated later (an AppError's text)."""
    return message


class Message:
    """Text for a page built in Python (a form error, a reason): an English msgid marked with N_ and the
    values of its %(name)s placeholders, translated when the page is rendered (the `translated` filter).
    Shaped like AppError (.message, .params), so either can be shown the same way."""

    def __init__(self, msgid, **params):
        self.message, self.params = msgid, params

    def __str__(self):
        return self.message % self.params if self.params else self.message

    def __repr__(self):
        return f"Message({str(self)!r})"


def negotiate(accept_language, available=LANGUAGES, default=DEFAULT):
    """The best of `available` for an Accept-Language header ("en-GB,en;q=0.9,ru;q=0.5"), else default."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.lower()))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return default
        language = tag.split("-")[0]
        if language in available:
            return language
    return default


def request_language(request, available=LANGUAGES, default=DEFAULT):
    """The language for a Chalice request (its Accept-Language header)."""
    headers = getattr(request, "headers", None) or {}
    return negotiate(headers.get("accept-language"), available, default)


@functools.lru_cache(maxsize=None)
def translations(locale_dir, language):
    """The compiled catalog of a product for a language (NullTranslations for the source language), falling
    back to common's own catalog."""
    found = gettext.translation(DOMAIN, localedir=str(locale_dir), languages=[language], fallback=True)
    if Path(locale_dir).resolve() != COMMON_LOCALE:
        found.add_fallback(translations(COMMON_LOCALE, language))
    return found


COMMON_PAGES = Path(__file__).resolve().parent / "pages"


class Pages:
    """A product's templates rendered per language: one jinja2 Environment per language, built once."""

    def __init__(self, templates_dir, locale_dir=None, globals=None, filters=None):
        self.templates_dir = Path(templates_dir)
        self.locale_dir = Path(locale_dir) if locale_dir else self.templates_dir.parent / "locale"
        self.globals = dict(globals or {})
        self.filters = dict(filters or {})
        self._environments = {}

    def environment(self, language):
        if language not in self._environments:
            env = jinja2.Environment(loader=jinja2.ChoiceLoader([
                jinja2.FileSystemLoader(str(self.templates_dir)),
                # "common/base.html" and "common/style.css": the one look every product extends
                jinja2.PrefixLoader({"common": jinja2.FileSystemLoader(str(COMMON_PAGES))})]),
                                     autoescape=jinja2.select_autoescape(["html", "xml"]),
                                     extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
            env.install_gettext_translations(translations(self.locale_dir, language), newstyle=True)
            env.globals.update(self.globals, lang=language)
            env.filters.update(self.filters, translated=functools.partial(self.text, language=language))
            self._environments[language] = env
        return self._environments[language]

    def render(self, template, language=DEFAULT, **values):
        """Render a template in a language."""
        return self.environment(language).get_template(template).render(**values)

    def gettext(self, language):
        """The translate function for messages built in Python (errors, flashes): _(msgid) % params."""
        return translations(self.locale_dir, language).gettext

    def error_text(self, error, language):
        """An AppError's (or a Message's) text in the reader's language, its values filled in."""
        text = self.gettext(language)(error.message)
        return text % error.params if error.params else text

    def text(self, item, language=DEFAULT):
        """A Message, an AppError or a plain msgid (marked with N_ where it is defined) in the reader's language;
        in templates: {{ item|translated }}."""
        if isinstance(item, str):
            return self.gettext(language)(item)
        return self.error_text(item, language)
