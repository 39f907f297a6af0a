"""A version's check log and report: every check, the latest result's violations marked new, the fixed ones."""
from common import rows

from .. import queries
from . import compare


def version_report(cur, file_id, version):
    """{"checks": [...], "result": latest finished check or None, "violations", "fixed", "groups",
    "compared_with": previous version number or None} for a version row (id, number)."""
    cur.execute(queries.VERSION_CHECKS, (version["id"],))
    checks = rows.all(cur)
    result = next((c for c in reversed(checks) if c["outcome"] not in ("error", "failed")), None)
    report = {"checks": checks, "result": result, "violations": [], "fixed": [], "groups": [],
              "compared_with": None, "new_count": 0}
    if result is None:
        return report
    current = violations(cur, result["id"])
    cur.execute(queries.PREVIOUS_CHECK, (file_id, version["number"]))
    previous = rows.one(cur)
    before = violations(cur, previous["id"]) if previous else None
    marked, fixed = compare.compare(before, current)
    report.update(violations=marked, fixed=fixed, groups=compare.group_by_line(marked),
                  compared_with=previous["number"] if previous else None,
                  new_count=sum(1 for v in marked if v["new"]))
    return report


def violations(cur, check_id):
    cur.execute(queries.CHECK_VIOLATIONS, (check_id,))
    return rows.all(cur)
