"""common.i18n: Russian by default, English when preferred, every product's catalog complete and compiled."""
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from common import i18n, web

from i18n_catalogs import problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("header, expected", [
    (None, "ru"), ("", "ru"), ("en", "en"), ("en-GB,en;q=0.9", "en"), ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
    ("de-DE,de;q=0.9,en;q=0.5", "en"), ("de,fr", "ru"), ("en;q=0.2,ru;q=0.8", "ru"), ("ru;q=0,en", "en"),
    ("*", "ru"), ("EN-us", "en"), ("en;q=abc,ru;q=0.1", "ru"),
])
def test_negotiate(header, expected):
    assert i18n.negotiate(header) == expected


def make_product(tmp_path, translations):
    lib = tmp_path / "chalicelib"
    (lib / "templates").mkdir(parents=True)
    (lib / "templates" / "page.html").write_text(
        "<h1>{% trans %}Your files{% endtrans %}</h1><p>{{ _('Upload') }}</p><i>{{ message }}</i>")
    (lib / "errors.py").write_text("from common.i18n import N_\nTOO_BIG = N_('File is too large')\n")
    catalog = Catalog(locale="ru")
    for msgid, text in translations.items():
        catalog.add(msgid, text)
    out = lib / "locale" / "ru" / "LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "messages.po").open("wb") as f:
        write_po(f, catalog)
    with (out / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    return lib


FULL = {"Your files": "Ваши файлы", "Upload": "Загрузить", "File is too large": "Файл слишком большой"}


def test_pages_render_russian_by_default_and_english_on_request(tmp_path):
    lib = make_product(tmp_path, FULL)
    pages = i18n.Pages(lib / "templates")
    assert pages.render("page.html", "ru", message="<b>") == \
        "<h1>Ваши файлы</h1><p>Загрузить</p><i>&lt;b&gt;</i>"
    assert pages.render("page.html", "en", message="x") == "<h1>Your files</h1><p>Upload</p><i>x</i>"
    error = web.AppError(413, "File is too large")
    assert pages.error_text(error, "ru") == "Файл слишком большой"
    assert pages.error_text(error, "en") == "File is too large"


def test_the_catalog_check_finds_missing_and_stale_translations(tmp_path):
    lib = make_product(tmp_path, {"Your files": "Ваши файлы"})
    found = problems(lib)
    assert "not translated to ru: 'Upload'" in found
    assert "not translated to ru: 'File is too large'" in found
    assert problems(make_product(tmp_path / "full", FULL)) == []
    po = lib / "locale" / "ru" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text().replace('msgstr "Ваши файлы"', 'msgstr "Мои файлы"'))
    assert any("stale" in p for p in problems(lib))


def test_every_product_with_pages_has_a_complete_compiled_russian_catalog():
    checked = set()
    for chalicelib in sorted(ROOT.glob("functions/*/chalicelib")):
        if any(chalicelib.glob("**/templates")) or (chalicelib / "locale").is_dir():
            assert problems(chalicelib) == [], chalicelib.parent.name    # a missing catalog is a problem too
            checked.add(chalicelib.parent.name)
    assert {"mail_import", "broadcast"} <= checked


def test_commons_own_messages_have_a_compiled_catalog_every_product_falls_back_to(tmp_path):
    catalog = i18n.COMMON_LOCALE / "ru" / "LC_MESSAGES" / "messages.po"
    with catalog.open("rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    assert set(web.MESSAGES) <= set(translated)
    compiled = i18n.translations(i18n.COMMON_LOCALE, "ru")
    assert all(compiled.gettext(msgid) == translated[msgid] for msgid in web.MESSAGES)
    pages = i18n.Pages(make_product(tmp_path, FULL) / "templates")
    lost = web.unavailable(web.DATABASE_UNAVAILABLE)
    assert pages.error_text(lost, "ru") == translated[web.DATABASE_UNAVAILABLE]     # not in the product's catalog
    assert pages.error_text(lost, "en") == web.DATABASE_UNAVAILABLE
    assert pages.error_text(web.AppError(413, "File is too large"), "ru") == "Файл слишком большой"


def test_messages_built_in_python_are_translated_when_shown(tmp_path):
    lib = make_product(tmp_path, dict(FULL, **{"%(count)s files are too large": "Слишком больших файлов: %(count)s"}))
    (lib / "templates" / "list.html").write_text(
        "<ul>{% for e in errors %}<li>{{ e|translated }}</li>{% endfor %}</ul>")
    pages = i18n.Pages(lib / "templates")
    errors = [i18n.Message("%(count)s files are too large", count=3), i18n.Message("Upload"), "File is too large"]
    assert str(errors[0]) == "3 files are too large" and str(errors[1]) == "Upload"
    assert pages.render("list.html", "ru", errors=errors) == \
        "<ul><li>Слишком больших файлов: 3</li><li>Загрузить</li><li>Файл слишком большой</li></ul>"
    assert pages.render("list.html", "en", errors=errors) == \
        "<ul><li>3 files are too large</li><li>Upload</li><li>File is too large</li></ul>"
    assert pages.text(web.not_found(), "ru") == "Не найдено"
