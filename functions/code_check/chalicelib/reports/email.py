"""The e-mail report of one check: file, version, counts, new problems first, a link to the report page.

An e-mail is in the language its owner registered with (check["language"]: 'ru' or 'en'); accounts registered
before the language was remembered (None) get English and Russian in one message.
"""
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
MAX_LISTED = 50


def compose(check, report, link):
    """(subject, text body, html body)."""
    marked = report["violations"]
    new = [v for v in marked if v["new"]]
    remaining = [v for v in marked if not v["new"]]
    values = dict(check=check, new=new[:MAX_LISTED], remaining=remaining[:MAX_LISTED - min(len(new), MAX_LISTED)],
                  fixed=report["fixed"][:MAX_LISTED], counts={
                      "total": len(marked), "new": len(new), "remaining": len(remaining),
                      "fixed": len(report["fixed"])},
                  more=max(0, len(marked) - MAX_LISTED), link=link, compared_with=report["compared_with"],
                  lang=check.get("language"))
    return subject_of(check, len(marked), len(new)), \
        _env.get_template("email.txt").render(**values), _env.get_template("email.html").render(**values)


def subject_of(check, total, new):
    """The platform's own words first, the user's file name last: an upload's name cannot open the subject
    with a text of its own ("Your-account-is-locked...")."""
    if check.get("language") == "ru":
        where = f"версия {check['number']} файла {check['name']}"
        if check["outcome"] == "failed":
            return f"Отчёт code_check: не удалось проверить: {where}"
        if total:
            return f"Отчёт code_check: проблем {total} (новых {new}): {where}"
        return f"Отчёт code_check: проблем нет: {where}"
    where = f"version {check['number']} of {check['name']}"
    if check["outcome"] == "failed":
        return f"code_check report: could not check {where}"
    if total:
        return f"code_check report: {total} problems ({new} new) in {where}"
    return f"code_check report: no problems in {where}"
