"""Which problems of a version are new, which remain and which were fixed since the previous version.

Line numbers move when code is added above a problem, so a violation is matched to the previous
version's by its code and the content of its line (whitespace around it ignored); repeated
identical pairs are matched one to one.
"""
from collections import defaultdict


def key(violation):
    return violation["code"], (violation.get("source_line") or "").strip()


def compare(previous, current):
    """(current violations each with "new": bool, previous violations that are gone = fixed).

    previous is None when there is nothing to compare with (a first version): every problem is new."""
    if previous is None:
        return [dict(v, new=True) for v in current], []
    pool = defaultdict(list)
    for violation in previous:
        pool[key(violation)].append(violation)
    marked = []
    for violation in current:
        matches = pool.get(key(violation))
        marked.append(dict(violation, new=not matches))
        if matches:
            matches.pop(0)
    fixed = [v for remaining in pool.values() for v in remaining]
    fixed.sort(key=lambda v: (v["line"], v["col"], v["code"]))
    return marked, fixed


def group_by_line(violations):
    """[(line, source line, [violations])] in line order, for the report page."""
    groups = {}
    for violation in violations:
        line = violation["line"]
        if line not in groups:
            groups[line] = (line, violation.get("source_line") or "", [])
        groups[line][2].append(violation)
    return [groups[line] for line in sorted(groups)]
