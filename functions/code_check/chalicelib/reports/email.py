"""The e-mail report of one check: file, version, counts, new problems first, a link to the report page.

E-mails are in English and Russian in one message: the owner's language is not known to the notifier.
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
                  more=max(0, len(marked) - MAX_LISTED), link=link, compared_with=report["compared_with"])
    if marked:
        subject = f"{check['name']} v{check['number']}: {len(marked)} problems ({len(new)} new)"
    else:
        subject = f"{check['name']} v{check['number']}: no problems"
    return (subject, _env.get_template("email.txt").render(**values),
            _env.get_template("email.html").render(**values))
