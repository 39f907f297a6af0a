"""Rendering the admin page in the reader's language."""
from pathlib import Path

from common import i18n

PAGES = i18n.Pages(Path(__file__).resolve().parent / "templates",
                   locale_dir=Path(__file__).resolve().parent.parent / "locale")


def render(name, language, **values):
    return PAGES.render(name, language, **values)


def error_text(error, language):
    return PAGES.error_text(error, language)
