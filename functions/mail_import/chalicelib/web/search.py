"""Full-text search over an account's imported messages (subject, sender, recipients, text).

The query is read as a web search (words, "phrases", -excluded, or) in Russian and English at once; the
matches come back ranked, with the matched words marked as segments ({"text", "match"}) the page
escapes itself, so no HTML is built from a letter's content here.
"""
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Optional

from psycopg2.errors import QueryCanceled

from common import rows, validate, web
from common.db import pg_transaction

from .. import queries
from ..mime import message_rows

MAX_QUERY = 500
MAX_RESULTS = 100
TIMEOUT_MS = 10_000        # a search statement still running then makes a 503, not a stuck worker
CANDIDATES = 1000          # matches ranked, the newest first (a mail search is mostly about recent mail)
WINDOW = 20_000            # newest messages tested one by one before the GIN index is asked ...
ATTACHMENTS_WINDOW = 10_000  # ... with attachments: a tenth of the mail, so each one a table page of its own
SLICE_MARGIN = 2           # the index's time slice is this many times what the window's match rate needs
MAX_OFFSET = CANDIDATES
START, STOP = "\x02", "\x03"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Search:
    text: str
    since: Optional[datetime] = None      # inclusive
    until: Optional[datetime] = None      # exclusive
    attachments: bool = False
    limit: int = 20
    offset: int = 0


def _day(value, field):
    return datetime.combine(validate.date(value, field), time(), tzinfo=timezone.utc)


def parse(params):
    """A Search from query parameters q, from, to (dates, to inclusive), attachments=1, limit, offset."""
    text = validate.text(params.get("q"), "q", MAX_QUERY, strip=True)
    since = _day(params["from"], "from") if params.get("from") else None
    until = _day(params["to"], "to") + timedelta(days=1) if params.get("to") else None
    flag = (params.get("attachments") or "").lower()
    if flag not in ("", "0", "1", "true", "false", "yes", "no", "on"):
        raise web.bad_request("attachments must be 1 or 0.", field="attachments")
    return Search(text, since, until, flag in ("1", "true", "yes", "on"),
                  validate.query_integer(params, "limit", 20, 1, MAX_RESULTS),
                  validate.query_integer(params, "offset", 0, 0, MAX_OFFSET))


def segments(marked):
    """'a \\x02b\\x03 c' -> [{"text": "a ", "match": False}, {"text": "b", "match": True}, ...]."""
    out, match = [], False
    for piece in re.split(f"([{START}{STOP}])", marked or ""):
        if piece == START:
            match = True
        elif piece == STOP:
            match = False
        elif piece:
            out.append({"text": piece, "match": match})
    return out


def candidates(cur, params, on_step=None):
    """[(message_id, rank)] of the newest CANDIDATES matches within the filters, newest first.

    A word in a few percent of the mail or more is found by testing the newest messages one by one: the
    first WINDOW hold enough matches. For a rarer one (or words each common but rarely together, where the
    planner's estimate is far off) that walk would go through the whole mailbox, and the GIN index answers
    instead for the messages older than the window; its cost is reading every match it finds from the table,
    so it is asked first for a time slice that the window's match rate says should hold the rest (the
    planner ANDs that with the date index), and only then for anything older. on_step(name) is told each
    step taken (the bench reports which answered).
    """
    on_step = on_step or (lambda name: None)
    on_step("walk")
    window = ATTACHMENTS_WINDOW if params["attachments"] else WINDOW
    cur.execute(queries.SEARCH_RECENT, dict(params, window=window))
    found = cur.fetchall()
    if len(found) >= CANDIDATES:
        return found
    cur.execute(queries.SEARCH_WINDOW_EDGE, dict(params, window=window))
    edge = cur.fetchone()
    if edge is None:                                   # the window held every message within the filters
        return found
    last_id, last_date, newest = edge
    needed = CANDIDATES - len(found)
    lower = None
    if found and last_date and newest:
        span = (newest - last_date).total_seconds() * needed / len(found) * SLICE_MARGIN
        if span < (last_date - max(params["since"] or _EPOCH, _EPOCH)).total_seconds():
            lower = last_date - timedelta(seconds=span)  # else the slice reaches back to the oldest mail anyway
    on_step("index slice" if lower else "index")
    cur.execute(queries.SEARCH_OLDER, dict(params, before_date=last_date, before_id=last_id, lower=lower,
                                           candidates=needed))
    found += cur.fetchall()
    if len(found) < CANDIDATES and lower is not None:
        on_step("index rest")
        cur.execute(queries.SEARCH_OLDER, dict(params, before_date=lower, before_id=0, lower=None,
                                               candidates=CANDIDATES - len(found)))
        found += cur.fetchall()
    return found


def run(account_id, search, on_step=None):
    """The page rows of the matches, best first, each with "rank" and "highlight" {"subject", "text"}."""
    params = {"q": search.text, "account": account_id, "since": search.since, "until": search.until,
              "attachments": search.attachments, "candidates": CANDIDATES}
    try:
        with pg_transaction() as cur:
            cur.execute(queries.SEARCH_TIMEOUT, (f"{TIMEOUT_MS}ms",))
            ranked = sorted(candidates(cur, params, on_step), key=lambda hit: (-hit[1], -hit[0]))
            page = ranked[search.offset:search.offset + search.limit]
            rank = dict(page)
            cur.execute(queries.SEARCH_PAGE, dict(params, ids=[message_id for message_id, _ in page],
                                                  snippet=message_rows.SNIPPET))
            found = rows.all(cur)
    except QueryCanceled:
        raise web.unavailable("The search took too long; add a word or a date range.") from None
    return [dict(message_rows.page_row(row), rank=round(float(rank[row["id"]]), 6),
                 highlight={"subject": segments(row["subject_marked"]), "text": segments(row["text_marked"])})
            for row in found]
