"""The catalog check understands plural messages (ngettext): complete, missing and stale ones."""
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from i18n_catalogs import problems

PLURAL = ("%(num)s problem", "%(num)s problems")
RU = ("%(num)s проблема", "%(num)s проблемы", "%(num)s проблем")


def product(tmp_path, forms, compiled_forms=None):
    lib = tmp_path / "chalicelib"
    (lib / "templates").mkdir(parents=True)
    (lib / "templates" / "page.html").write_text('{{ ngettext("%(num)s problem", "%(num)s problems", n) }}')
    out = lib / "locale" / "ru" / "LC_MESSAGES"
    out.mkdir(parents=True)
    for name, text in (("messages.po", forms), ("messages.mo", compiled_forms or forms)):
        catalog = Catalog(locale="ru")
        catalog.add(PLURAL, text)
        with (out / name).open("wb") as f:
            (write_po if name.endswith(".po") else write_mo)(f, catalog)
    return lib


def test_complete_plural_translation_passes(tmp_path):
    assert problems(product(tmp_path, RU)) == []


def test_missing_plural_form_is_reported(tmp_path):
    assert problems(product(tmp_path, ("%(num)s проблема", "", ""))) == [
        "not translated to ru: '%(num)s problem'"]


def test_stale_compiled_plural_is_reported(tmp_path):
    stale = problems(product(tmp_path, RU, compiled_forms=("a", "b", "c")))
    assert stale == ["messages.mo is stale for '%(num)s problem': run pybabel compile"]
