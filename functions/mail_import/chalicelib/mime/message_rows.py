"""Shapes of a message: the record a worker builds, the tuples the database takes, the row a page shows."""
import json

MESSAGE_ID_MAX = 900       # btree index entries must stay well under 2,700 bytes
SNIPPET = 300              # characters of text a page row shows


def clean(value):
    """Text PostgreSQL accepts: no NUL characters, no lone surrogates from undecodable header bytes."""
    if not value:
        return value or ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii():   # known without a pass over the text: ASCII holds no surrogate
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def normalize_message_id(value):
    """The Message-ID as stored and compared (None when missing)."""
    value = clean(value or "").strip()
    return value[:MESSAGE_ID_MAX] or None


def record(uid, parsed, received_at, size, attachment_keys):
    """What a worker hands to the database writer for one message (plain values, cheap to pickle)."""
    return {
        "uid": uid,
        "message_id": normalize_message_id(parsed.message_id),
        "subject": clean(parsed.subject),
        "sent_at": parsed.sent_at,
        "received_at": received_at,
        "sender": clean(parsed.sender),
        "recipients": {"to": [clean(a) for a in parsed.to], "cc": [clean(a) for a in parsed.cc]},
        "text": clean(parsed.text),
        "html": clean(parsed.html) if parsed.html else None,
        "size": size,
        "attachments": [
            {"position": n, "filename": clean(a.filename) or None, "content_type": clean(a.content_type),
             "content_id": clean(a.content_id) or None, "inline": bool(a.inline), "size": len(a.content),
             "storage_key": key}
            for n, (a, key) in enumerate(zip(parsed.attachments, attachment_keys))],
    }


def message_values(account_id, folder, uidvalidity, rec):
    """The INSERT_MESSAGES tuple of a record."""
    return (account_id, folder, uidvalidity, rec["uid"], rec["message_id"], rec["subject"], rec["sent_at"],
            rec["received_at"], rec["sender"], json.dumps(rec["recipients"], ensure_ascii=False), rec["text"],
            rec["size"], rec.get("html"), len(rec["attachments"]))


def attachment_values(message_pk, rec):
    """The INSERT_ATTACHMENTS tuples of a record once its message has an id."""
    return [(message_pk, a["position"], a["filename"], a["content_type"], a["content_id"], a["inline"], a["size"],
             a["storage_key"]) for a in rec["attachments"]]


def _iso(value):
    return value.isoformat() if value is not None else None


def page_row(row):
    """A message as pages and WebSocket events show it, from a MESSAGES_BEFORE/AFTER row dict."""
    recipients = row["recipients"] or {}
    return {
        "id": row["id"], "folder": row["folder"], "uidvalidity": row["uidvalidity"], "uid": row["uid"],
        "message_id": row["message_id"], "subject": row["subject"], "sent_at": _iso(row["sent_at"]),
        "received_at": _iso(row["received_at"]), "sender": row["sender"],
        "to": recipients.get("to", []), "cc": recipients.get("cc", []),
        "text": row["text"][:SNIPPET], "size": row["size"], "gone_at": _iso(row.get("gone_at")),
        "has_html": bool(row.get("has_html")),
        "attachments": [{"id": a["id"], "filename": a["filename"], "content_type": a["content_type"],
                         "size": a["size"]} for a in row["attachments"] or []],
    }


def record_row(message_pk, folder, uidvalidity, rec, attachment_ids):
    """The page row of a just-inserted record, without reading it back from the database."""
    attachments = [dict(a, id=attachment_ids.get(a["position"])) for a in rec["attachments"]]
    return page_row(dict(rec, id=message_pk, folder=folder, uidvalidity=uidvalidity,
                         has_html=rec.get("html") is not None, attachments=attachments))
