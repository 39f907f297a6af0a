"""Checks a product's gettext catalog against its sources (used by the tests; Babel is a dev dependency)."""
import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}


def source_messages(chalicelib):
    """Every msgid the product's templates and Python code mark for translation."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(chalicelib), method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def problems(chalicelib, language="ru"):
    """What is wrong with a product's catalog: untranslated, fuzzy or stale messages, a .mo out of date."""
    chalicelib = Path(chalicelib)
    po_path = chalicelib / "locale" / language / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    if not po_path.exists():
        return [f"{po_path} is missing"]
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=language)
    # Plural entries are keyed by their singular msgid (what extraction reports) and need every form.
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalog
                  if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, (tuple, list)) else m.string)}
    found = []
    for msgid in sorted(source_messages(chalicelib)):
        if msgid not in translated:
            found.append(f"not translated to {language}: {msgid!r}")
    if not mo_path.exists():
        return found + [f"{mo_path} is missing (pybabel compile)"]
    with mo_path.open("rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog
    for key, text in translated.items():
        forms = {key: text} if isinstance(text, str) else {(key, n): form for n, form in enumerate(text)}
        if any(compiled.get(k) != v for k, v in forms.items()):
            found.append(f"{mo_path.name} is stale for {key!r}: run pybabel compile")
    return found
