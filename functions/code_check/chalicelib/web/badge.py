"""A file's current status as an SVG badge (like a CI badge)."""
from xml.sax.saxutils import escape

from common.i18n import N_

COLORS = {"ok": "#2e7d32", "problems": "#c62828", "pending": "#9e9e9e", "deleted": "#616161", "error": "#ef6c00"}


def status_of(file_row):
    """(state, text) of a file's current version."""
    if file_row is None:
        return "pending", "not found"
    if file_row["status"] == "deleted":
        return "deleted", "deleted"
    if file_row.get("check_id") is None:
        return "pending", "not checked yet"
    if file_row["outcome"] == "error":
        return "error", "checker error"
    if file_row["outcome"] == "failed":
        return "error", "could not be checked"
    if file_row["outcome"] == "ok":
        return "ok", "passing"
    count = file_row["problem_count"]
    return "problems", f"{count} problem{'s' if count != 1 else ''}"


def svg(state, text, label="flake8"):
    left, right = 7 * len(label) + 10, 7 * len(text) + 10
    width = left + right
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
            f'aria-label="{escape(label)}: {escape(text)}"><title>{escape(label)}: {escape(text)}</title>'
            f'<rect width="{left}" height="20" fill="#555"/>'
            f'<rect x="{left}" width="{right}" height="20" fill="{COLORS[state]}"/>'
            f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
            f'<text x="{left / 2}" y="14">{escape(label)}</text>'
            f'<text x="{left + right / 2}" y="14">{escape(text)}</text></g></svg>')


# The file statuses shown as badges (translated where they are shown).
STATUS_LABELS = (N_("new"), N_("overwritten"), N_("deleted"))
