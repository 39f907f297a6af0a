"""Uploading, replacing, deleting and reading a user's files; bytes in S3 (versioned), rows in PostgreSQL.

Every lookup is scoped to the owner: another user's file id behaves exactly like a missing one.
"""
import hashlib
import secrets
from dataclasses import dataclass

from common import aws, db, rows, web
from common.i18n import N_

from .. import queries
from ..checks import report
from . import names


NO_VERSION = N_("No such version")


@dataclass(frozen=True)
class Stored:
    file_id: int
    name: str
    version: int
    outcome: str          # "new", "overwritten" or "unchanged" (identical bytes: no new version)


def s3_key(user_id, file_id):
    return f"users/{user_id}/files/{file_id}.py"


def upload(cur, bucket, user_id, raw_name, data):
    """Store one uploaded file as a new file or a new version of the live file of that name.
    Raises names.Refused for a file that is not accepted."""
    name, lines = names.accept(raw_name, data)
    cur.execute(queries.LIVE_FILE_BY_NAME, (user_id, name))
    row = cur.fetchone()
    if row is None:
        cur.execute(queries.INSERT_FILE, (user_id, name, secrets.token_urlsafe(18)))
        row = cur.fetchone()
        if row is None:  # created meanwhile by a concurrent upload of the same name
            cur.execute(queries.LIVE_FILE_BY_NAME, (user_id, name))
            row = cur.fetchone()
    return _add_version(cur, bucket, user_id, row[0], name, data, lines)


def replace(cur, bucket, user_id, file_id, data):
    """A new version of an existing live file (the API's PUT)."""
    cur.execute(queries.OWN_FILE_FOR_UPDATE, (file_id, user_id))
    row = cur.fetchone()
    if row is None:
        raise web.not_found(N_("No such file"))
    _, name, status = row
    if status == "deleted":
        raise web.AppError(409, N_("The file is deleted; upload it again as a new file"))
    lines = names.check_content(name, data)
    return _add_version(cur, bucket, user_id, file_id, name, data, lines)


def _add_version(cur, bucket, user_id, file_id, name, data, lines):
    digest = hashlib.sha256(data).hexdigest()
    cur.execute(queries.LATEST_VERSION, (file_id,))
    latest = cur.fetchone()
    if latest is not None and latest[2] == digest:
        return Stored(file_id, name, latest[1], "unchanged")
    key = s3_key(user_id, file_id)
    put = aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType="text/x-python")
    number = (latest[1] + 1) if latest else 1
    cur.execute(queries.INSERT_VERSION, (file_id, number, key, put.get("VersionId"), digest, len(data), lines))
    if latest is not None:
        cur.execute(queries.MARK_OVERWRITTEN, (file_id,))
    return Stored(file_id, name, number, "overwritten" if latest else "new")


def delete(cur, user_id, file_id):
    """Mark a file deleted (its history stays); 404 if it is not the user's or already deleted."""
    cur.execute(queries.MARK_DELETED, (file_id, user_id))
    if cur.fetchone() is None:
        raise web.not_found(N_("No such file"))


def read_version(bucket, s3_key_, s3_version_id):
    """The bytes of one stored version."""
    extra = {"VersionId": s3_version_id} if s3_version_id else {}
    return aws.client("s3").get_object(Bucket=bucket, Key=s3_key_, **extra)["Body"].read()


def list_files(cur, user_id):
    cur.execute(queries.LIST_FILES, (user_id,))
    return rows.all(cur)


def get_file(cur, user_id, file_id):
    """The file with its versions (newest first); 404 for anything not the user's."""
    cur.execute(queries.OWN_FILE, (file_id, user_id))
    found = rows.one(cur)
    if found is None:
        raise web.not_found(N_("No such file"))
    cur.execute(queries.FILE_VERSIONS, (file_id,))
    found["versions"] = rows.all(cur)
    return found


def get_version(cur, user_id, file_id, number):
    cur.execute(queries.VERSION_OF_FILE, (file_id, user_id, number))
    found = rows.one(cur)
    if found is None:
        raise web.not_found(NO_VERSION)
    return found


def file_by_badge(cur, badge_key):
    cur.execute(queries.FILE_BY_BADGE, (badge_key,))
    return rows.one(cur)


# ---- the same, each in its own transaction (what the routes call) ---------------------------------

def upload_each(bucket, user_id, items):
    """[(name, Stored or names.Refused)] for [(name, bytes)]: each file in its own transaction, so a refused or
    failing file never stops the others."""
    results = []
    for name, data in items:
        try:
            with db.pg_transaction() as cur:
                results.append((name, upload(cur, bucket, user_id, name, data)))
        except names.Refused as exc:
            results.append((name, exc))
    return results


def replace_own(bucket, user_id, file_id, data):
    with db.pg_transaction() as cur:
        return replace(cur, bucket, user_id, file_id, data)


def delete_own(user_id, file_id):
    with db.pg_transaction() as cur:
        delete(cur, user_id, file_id)


def files_of(user_id):
    with db.pg_transaction() as cur:
        return list_files(cur, user_id)


def file_of(user_id, file_id):
    with db.pg_transaction() as cur:
        return get_file(cur, user_id, file_id)


def version_of(user_id, file_id, number):
    with db.pg_transaction() as cur:
        return get_version(cur, user_id, file_id, number)


def version_with_report(user_id, file_id, number):
    """(version row, its report)."""
    with db.pg_transaction() as cur:
        found = get_version(cur, user_id, file_id, number)
        return found, report.version_report(cur, file_id, found)
