"""Full-text search over an account's imported messages (subject, sender, recipients, text).

The query is read as a web search (words, "phrases", -excluded, or) in Russian and English at once; the
matches come back ranked, with the matched words marked as segments ({"text", "match"}) the page
escapes itself, so no HTML is built from a letter's content here.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from psycopg2.errors import QueryCanceled

from common import web
from common.db import pg_transaction

from .. import queries
from ..mime import message_rows

MAX_QUERY = 500
MAX_RESULTS = 100
FIRST_PLAN_MS = 250        # the planner's plan gets this long ...
INDEX_PLAN_MS = 20_000     # ... then the GIN index plan answers (bounded: a 503 rather than a stuck worker)
CANDIDATES = 1000          # matches ranked, the newest first (a mail search is mostly about recent mail)
MAX_OFFSET = CANDIDATES
START, STOP = "\x02", "\x03"
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@dataclass(frozen=True)
class Search:
    text: str
    since: Optional[datetime] = None      # inclusive
    until: Optional[datetime] = None      # exclusive
    attachments: bool = False
    limit: int = 20
    offset: int = 0


def _day(value, field):
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
    except ValueError:
        raise web.bad_request(f"{field} must be a date like 2026-01-31.", field=field) from None


def _number(value, field, low, high):
    if not re.fullmatch(r"\d{1,6}", value or ""):
        raise web.bad_request(f"{field} must be a whole number from {low} to {high}.", field=field)
    number = int(value)
    if not low <= number <= high:
        raise web.bad_request(f"{field} must be a whole number from {low} to {high}.", field=field)
    return number


def parse(params):
    """A Search from query parameters q, from, to (dates, to inclusive), attachments=1, limit, offset."""
    text = (params.get("q") or "").strip()
    if not text:
        raise web.bad_request("q must not be empty.", field="q")
    if len(text) > MAX_QUERY or "\x00" in text:
        raise web.bad_request(f"q must be at most {MAX_QUERY} characters.", field="q")
    since = _day(params["from"], "from") if params.get("from") else None
    until = _day(params["to"], "to") + timedelta(days=1) if params.get("to") else None
    flag = (params.get("attachments") or "").lower()
    if flag not in ("", "0", "1", "true", "false", "yes", "no", "on"):
        raise web.bad_request("attachments must be 1 or 0.", field="attachments")
    return Search(text, since, until, flag in ("1", "true", "yes", "on"),
                  _number(params.get("limit", "20"), "limit", 1, MAX_RESULTS),
                  _number(params.get("offset", "0"), "offset", 0, MAX_OFFSET))


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


def run(account_id, search):
    """The page rows of the matches, best first, each with "rank" and "highlight" {"subject", "text"}."""
    config = "russian" if _CYRILLIC.search(search.text) else "english"
    params = {"q": search.text, "account": account_id, "since": search.since, "until": search.until,
              "attachments": search.attachments, "limit": search.limit, "offset": search.offset,
              "config": config, "snippet": message_rows.SNIPPET, "candidates": CANDIDATES}
    with pg_transaction() as cur:
        # The planner estimates each word well, but several words as if they were independent: for words
        # common alone and rare together it walks the whole mailbox newest first. Such a walk is cut short
        # and the GIN index answers instead. One word keeps the planner's plan (its estimate is right, and
        # the index would be the slow choice for a common word on a busy server).
        cur.execute(queries.SAVEPOINT)
        cur.execute(queries.SEARCH_TIMEOUT, (f"{FIRST_PLAN_MS if len(search.text.split()) > 1 else INDEX_PLAN_MS}ms",))
        try:
            cur.execute(queries.SEARCH_MESSAGES, params)
        except QueryCanceled:
            cur.execute(queries.ROLLBACK_TO_SAVEPOINT)
            cur.execute(queries.SEARCH_TIMEOUT, (f"{INDEX_PLAN_MS}ms",))
            cur.execute(queries.SEARCH_MESSAGES_BY_INDEX, params)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return [dict(message_rows.page_row(row), rank=round(float(row["rank"]), 6),
                 highlight={"subject": segments(row["subject_marked"]), "text": segments(row["text_marked"])})
            for row in rows]
