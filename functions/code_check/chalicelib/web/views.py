"""Values the file pages show, built from rows: status badges, versions with their checks and reports.
Each call reads in its own transaction."""
from common import db, web
from common.i18n import N_

from ..checks import report
from ..files import store
from . import badge


def file_list(user_id):
    with db.pg_transaction() as cur:
        files = store.list_files(cur, user_id)
    for row in files:
        row["state"], _ = badge.status_of(row)
    return files


def file_page(user_id, file_id, number=None):
    """The file, its versions, and the selected version (the latest by default) with its report."""
    with db.pg_transaction() as cur:
        found = store.get_file(cur, user_id, file_id)
        found["state"], _ = badge.status_of(found)
        versions = found["versions"]
        if not versions:
            return found, None, None
        selected = versions[0] if number is None else next((v for v in versions if v["number"] == number), None)
        if selected is None:
            raise web.not_found(N_("No such version"))
        return found, selected, report.version_report(cur, file_id, selected)


def badge_of(badge_key):
    """(state, text) of the file a badge key names."""
    with db.pg_transaction() as cur:
        return badge.status_of(store.file_by_badge(cur, badge_key))
