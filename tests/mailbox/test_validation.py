"""Input checking and cursors, without a database."""
import base64
import json
from datetime import datetime, timedelta, timezone

import openapi_spec_validator
import pytest

from common.web import AppError
from functions.mailbox.chalicelib import docs, pagination, validation


def letter(**fields):
    payload = {"to": ["bob@example.com"], "subject": "Hi", "body": "Hello"}
    payload.update(fields)
    return payload


def rejected(call, *args):
    with pytest.raises(AppError) as info:
        call(*args)
    return info.value


def test_letter_is_normalized_and_deduplicated():
    parsed = validation.parse_new_letter(letter(to=["Bob@Example.com", "carol@example.org", "bob@example.COM"]))
    assert parsed.to == ("bob@example.com", "carol@example.org")
    assert (parsed.subject, parsed.body) == ("Hi", "Hello")


@pytest.mark.parametrize("fields, status, words", [
    ({"to": []}, 400, "non-empty"),
    ({"to": "bob@example.com"}, 400, "array"),
    ({"to": ["not an address"]}, 400, "valid email"),
    ({"to": ["a@b"]}, 400, "valid email"),
    ({"to": [42]}, 400, "string"),
    ({"to": [f"u{i}@example.com" for i in range(101)]}, 400, "more than 100"),
    ({"subject": 5}, 400, "subject must be a string"),
    ({"subject": "x" * 999}, 400, "longer than 998"),
    ({"subject": "two\nlines"}, 400, "single line"),
    ({"body": None}, 400, "body must be a string"),
    ({"body": "nul\x00inside"}, 400, "NUL"),
    ({"body": "lone \ud800 surrogate"}, 400, "Unicode"),
    ({"body": "x" * (1024 * 1024 + 1)}, 413, "exceeds"),
    ({"body": "é" * (512 * 1024 + 1)}, 413, "exceeds"),   # 1 MiB is counted in UTF-8 bytes
    ({"cc": ["x@example.com"]}, 400, "unknown fields: cc"),
])
def test_bad_letters_are_rejected(fields, status, words):
    error = rejected(validation.parse_new_letter, letter(**fields))
    assert error.status == status
    assert words in error.message


def test_missing_fields_are_named():
    error = rejected(validation.parse_new_letter, {"to": ["bob@example.com"]})
    assert error.status == 400 and error.message == "missing fields: body, subject"


def test_limits_are_inclusive():
    parsed = validation.parse_new_letter(letter(subject="s" * 998, body="b" * (1024 * 1024)))
    assert len(parsed.subject) == 998 and len(parsed.body) == 1024 * 1024


@pytest.mark.parametrize("raw, status", [
    (b"", 400), (b"{bad", 400), (b"[1, 2]", 400), (b'"text"', 400), (b"\xff\xfe\x00", 400),
    (b"[" * 100000, 400), (b" " * (8 * 1024 * 1024 + 1), 413),
])
def test_bad_json_bodies(raw, status):
    assert rejected(validation.parse_json_object, raw).status == status


def test_json_object_parses():
    assert validation.parse_json_object(json.dumps({"read": True}).encode()) == {"read": True}


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", "9223372036854775808", "１", "12345678901234567890"])
def test_bad_letter_ids(value):
    assert rejected(validation.parse_letter_id, value).status == 400


def test_letter_ids():
    assert validation.parse_letter_id("9223372036854775807") == 2 ** 63 - 1


def test_folders():
    assert validation.parse_folder("inbox") == "inbox"
    assert rejected(validation.parse_folder, "trash").status == 404


@pytest.mark.parametrize("query, status", [
    ({"limit": "0"}, 400), ({"limit": "201"}, 400), ({"limit": "ten"}, 400), ({"limit": ""}, 400),
    ({"unread": "yes"}, 400), ({"cursor": ""}, 400), ({"cursor": "not a cursor"}, 400),
])
def test_bad_page_requests(query, status):
    assert rejected(validation.parse_page_request, query).status == status


def test_page_request_defaults():
    page = validation.parse_page_request(None)
    assert (page.limit, page.after, page.unread_only) == (50, None, False)
    page = validation.parse_page_request({"limit": "200", "unread": "true"})
    assert (page.limit, page.unread_only) == (200, True)


def test_cursor_round_trip_keeps_microseconds():
    moment = datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=timezone.utc)
    cursor = pagination.encode(moment, 987654321)
    assert pagination.decode(cursor) == (moment, 987654321)
    before_epoch = datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=timezone(timedelta(hours=2)))
    assert pagination.decode(pagination.encode(before_epoch, 1))[0] == before_epoch


@pytest.mark.parametrize("cursor", [
    "", "!!!!", "a" * 65, base64.urlsafe_b64encode(b"1.abc.5").decode(),
    base64.urlsafe_b64encode(b"1.5.0").decode(), base64.urlsafe_b64encode(b"2.5.5").decode(),
    base64.urlsafe_b64encode(b"1.999999999999999999.5").decode(),     # beyond year 9999
    base64.urlsafe_b64encode(b"1.5.99999999999999999999").decode(),
    "MS41LjU=x",
])
def test_bad_cursors(cursor):
    error = rejected(pagination.decode, cursor)
    assert error.status == 400 and "cursor" in error.message


def test_spec_and_validation_agree():
    schemas = docs.spec()["components"]["schemas"]
    assert schemas["Address"]["pattern"] == validation.ADDRESS_PATTERN
    assert schemas["Address"]["maxLength"] == validation.MAX_ADDRESS_CHARS
    new_letter = schemas["NewLetter"]["properties"]
    assert new_letter["to"]["maxItems"] == validation.MAX_RECIPIENTS
    assert new_letter["subject"]["maxLength"] == validation.MAX_SUBJECT_CHARS
    assert new_letter["body"]["maxLength"] == validation.MAX_BODY_BYTES
    limit = docs.spec()["paths"]["/folders/{folder}"]["get"]["parameters"][1]["schema"]
    assert (limit["default"], limit["maximum"]) == (validation.DEFAULT_LIMIT, validation.MAX_LIMIT)


def test_openapi_document_is_valid():
    openapi_spec_validator.validate(docs.spec("/prod/"))
