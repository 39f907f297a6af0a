"""Importing clients from CSV text: a preview first (every row checked with the API's rules, per-row errors,
phones already stored or repeated in the file), then the valid rows stored in one statement.

Columns, by the header row: phone, timezone (required), tag, operator_code (optional; the phone's own code when
empty). Rows with an error are never stored; a phone already in the base is reported, not changed."""
import csv
import io

from common import db
from common.i18n import N_
from common.web import AppError, bad_request

from .. import audit, queries
from . import model

MAX_ROWS = 100_000
SHOWN_ERRORS = 100
REQUIRED = ("phone", "timezone")
COLUMNS = ("phone", "timezone", "tag", "operator_code")
ALREADY_STORED = N_("a client with this phone already exists")
REPEATED = N_("the phone is repeated in the file (row %(row)s)")


def read(text):
    """([(row number, client values)] of the valid rows, [(row number, field, message, params)], rows read)."""
    reader = csv.DictReader(io.StringIO(text or ""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise bad_request(N_("The first row must name the columns: phone, timezone, and optionally tag and "
                             "operator_code."), field="csv")
    reader.fieldnames = header
    valid, errors, first_row = [], [], {}
    count = 0
    for count, row in enumerate(reader, start=2):
        if count - 1 > MAX_ROWS:
            raise AppError(413, N_("At most %(n)s rows at a time."), params={"n": MAX_ROWS}, field="csv")
        body = {name: (row.get(name) or "").strip() for name in COLUMNS if (row.get(name) or "").strip()}
        body.setdefault("phone", "")
        body.setdefault("timezone", "")
        try:
            values = model.parse(body)
        except AppError as error:
            errors.append((count, error.fields.get("field"), error.message, error.params))
            continue
        if values["phone"] in first_row:
            errors.append((count, "phone", REPEATED, {"row": first_row[values["phone"]]}))
            continue
        first_row[values["phone"]] = count
        valid.append((count, values))
    return valid, errors, max(0, count - 1)


def preview(text):
    """What storing would do: counts, the first errors (stored phones among them), nothing stored."""
    valid, errors, rows = read(text)
    with db.pg_transaction() as cur:
        cur.execute(queries.STORED_PHONES, ([values["phone"] for _number, values in valid],))
        stored = {phone for (phone,) in cur.fetchall()}
    errors += [(number, "phone", ALREADY_STORED, {}) for number, values in valid if values["phone"] in stored]
    errors.sort(key=lambda error: error[0])
    new = [values for _number, values in valid if values["phone"] not in stored]
    return {"rows": rows, "new": len(new), "errors": len(errors), "shown": errors[:SHOWN_ERRORS]}


def store(text, operator):
    """Store every valid new row in one statement; returns how many clients were added."""
    valid, _errors, _rows = read(text)
    with db.pg_transaction() as cur:
        cur.execute(queries.IMPORT_CLIENTS, {name: [values[name] for _number, values in valid] for name in
                                             ("phone", "operator_code", "tag", "timezone")})
        added = cur.rowcount
    audit.record("clients imported", operator, {"rows": len(valid), "added": added})
    return added
