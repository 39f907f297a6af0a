"""The partner API's JSON: parsing bodies and path values (4xx naming the problem), shaping answers."""
import base64
import binascii
import hashlib
import json

from common import validate, web

from ..files import names
from ..web import badge

MAX_FILES = names.MAX_FILES
MAX_ID = 2 ** 62
MAX_BODY = 10 * 1024 * 1024     # API Gateway's own limit; each file's content is bounded on its own


def parse_id(value, field):
    return validate.identifier(value, field, maximum=MAX_ID)


def _object(raw):
    return validate.json_object(raw, MAX_BODY, clean=False)     # the fields used are checked one by one


def _content(value, field):
    if not isinstance(value, str):
        raise web.bad_request(f"{field} must be the file's bytes in base64", field=field)
    if len(value) > (names.MAX_BYTES * 4) // 3 + 8:
        raise web.AppError(413, f"{field} is larger than 1 MB", field=field)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise web.bad_request(f"{field} is not valid base64", field=field) from None


def parse_upload(raw):
    """[(name, bytes)] of {"files": [{"name", "content"}]}."""
    body = _object(raw)
    files = body.get("files")
    if not isinstance(files, list) or not files:
        raise web.bad_request("files must be a non-empty list of {name, content}", field="files")
    if len(files) > MAX_FILES:
        raise web.bad_request(f"at most {MAX_FILES} files per request", field="files")
    out = []
    for index, item in enumerate(files):
        if not isinstance(item, dict):
            raise web.bad_request(f"files[{index}] must be an object {{name, content}}", field=f"files[{index}]")
        if not isinstance(item.get("name"), str):
            raise web.bad_request(f"files[{index}].name must be a string", field=f"files[{index}].name")
        # A name with control characters (NUL too) is that file's own refusal; one UTF-8 cannot encode is the body's.
        validate.encodable(item["name"], f"files[{index}].name")
        out.append((item["name"], _content(item.get("content"), f"files[{index}].content")))
    return out


def parse_replace(raw):
    return _content(_object(raw).get("content"), "content")


def file_json(row, base_url):
    state, text = badge.status_of(row)
    current = None
    if row.get("version_id") is not None:
        current = {"version": row["number"], "size": row["size"], "lines": row["line_count"],
                   "uploaded_at": row["uploaded_at"], "checked": row["checked_at"] is not None,
                   "check": None if row.get("check_id") is None else {
                       "outcome": row["outcome"], "problems": row["problem_count"], "finished_at": row["finished_at"],
                       "email_sent": row["email_state"] == "sent", "email_sent_at": row["email_sent_at"]}}
    return {"id": row["id"], "name": row["name"], "status": row["status"], "state": state, "summary": text,
            "created_at": row["created_at"], "updated_at": row["updated_at"], "deleted_at": row["deleted_at"],
            "badge_url": f"{base_url}/badges/{row['badge_key']}.svg", "current": current}


def version_json(version, report):
    def check_json(check):
        return {"id": check["id"], "started_at": check["started_at"], "finished_at": check["finished_at"],
                "outcome": check["outcome"], "problems": check["problem_count"], "error": check["error"],
                "options": check["options"], "email_sent": check["email_state"] == "sent",
                "email_sent_at": check["email_sent_at"],
                "email_skipped": check["email_error"] if check["email_state"] == "skipped" else None}

    def violation_json(v, **extra):
        return {"code": v["code"], "line": v["line"], "column": v["col"], "message": v["message"],
                "source_line": v["source_line"], **extra}
    return {"version": version["number"], "size": version["size"], "lines": version["line_count"],
            "sha256": version["sha256"], "uploaded_at": version["uploaded_at"],
            "checked": version["checked_at"] is not None, "checks": [check_json(c) for c in report["checks"]],
            "compared_with": report["compared_with"],
            "violations": [violation_json(v, new=v["new"]) for v in report["violations"]],
            "fixed": [violation_json(v) for v in report["fixed"]]}


def etag_of(body):
    """A strong ETag of a JSON answer."""
    text = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


def not_modified(headers, etag):
    given = (headers or {}).get("if-none-match") or ""
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return etag in tags or "*" in tags
