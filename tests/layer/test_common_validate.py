"""common.validate: bounded JSON bodies, clean bounded text, bounded whole numbers; every refusal names its field."""
import json

import pytest
from babel.messages.pofile import read_po

from common import i18n, validate, web


def refusal(call, *args, **kwargs):
    with pytest.raises(web.AppError) as caught:
        call(*args, **kwargs)
    return caught.value.status, caught.value.fields.get("field"), caught.value.text


@pytest.mark.parametrize("raw, status, text", [
    (b"", 400, "must be a JSON object"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (b"{nope", 400, "not valid JSON"),
    (b"\xff\xfe{}", 400, "not valid JSON"),
    (b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}", 400, "nested deeper than 32"),   # beyond the recursion limit
    (b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "nested deeper than 32"),           # parsed, then measured
    (b'{"a": "' + b"x" * 2000 + b'"}', 413, "larger than 1000 bytes"),
])
def test_bodies_that_are_not_a_small_shallow_object_are_refused_naming_the_body(raw, status, text):
    got_status, field, message = refusal(validate.json_object, raw, 1000 if status == 413 else 10 ** 6)
    assert (got_status, field) == (status, "body") and text in message


def test_an_object_within_the_limits_is_returned():
    nested = {"a": [[[{"b": 1}]]]}
    assert validate.json_object(json.dumps(nested).encode(), 1000) == nested
    assert validate.depth(nested) == 5 and validate.depth(3) == 0 and validate.depth([]) == 1


@pytest.mark.parametrize("value, kwargs, text", [
    (5, {}, "must be text"),
    (None, {}, "is required"),
    ("   ", {"strip": True}, "is required"),
    ("a\x00b", {}, "not allowed"),
    ("a\ud800b", {}, "not allowed"),
    ("x" * 11, {}, "longer than 10"),
    ("a\nb", {"single_line": True}, "single line"),
])
def test_text_refusals_name_the_field(value, kwargs, text):
    status, field, message = refusal(validate.text, value, "login", 10, **kwargs)
    assert (status, field) == (400, "login") and message.startswith("login ") and text in message


def test_text_that_is_fine_comes_back():
    assert validate.text(" Привет 👋 ", "name", 10, strip=True) == "Привет 👋"
    assert validate.text(None, "name", 10, required=False) == ""


@pytest.mark.parametrize("value", [-1, 0, 101, "-1", "1e3", "12a", "", " ", True, 3.0, None, "1" * 30, "٣"])
def test_integers_out_of_range_or_not_whole_numbers_are_refused(value):
    status, field, message = refusal(validate.integer, value, "limit", 1, 100)
    assert (status, field) == (400, "limit") and "from 1 to 100" in message


@pytest.mark.parametrize("value, expected", [(1, 1), ("100", 100), (" 7 ", 7), ("+5", 5)])
def test_integers_in_range_are_returned(value, expected):
    assert validate.integer(value, "limit", 1, 100) == expected


@pytest.mark.parametrize("value, text", [
    ("['a', 'b']", "must be a list"), (["a"] * 4, "must be a list"), ([1], "must be text"),
    (["a\x00"], "not allowed"), (["x" * 6], "longer than 5"), (["a\nb"], "single line"), ([" "], "is required"),
])
def test_text_lists_are_lists_of_bounded_texts(value, text):
    status, field, message = refusal(validate.text_list, value, "folders", 3, 5)
    assert (status, field) == (400, "folders") and text in message


def test_text_lists_are_stripped_and_deduplicated():
    assert validate.text_list([" INBOX", "Sent", "INBOX"], "folders", 3, 5) == ["INBOX", "Sent"]


@pytest.mark.parametrize("raw, field", [
    (b'{"tag": "a\\ud800"}', "tag"),                       # a lone surrogate, escaped as JSON allows
    (b'{"tag": "a\\u0000"}', "tag"),
    (b'{"client": {"tags": ["ok", "\\udfff"]}}', "client.tags"),  # deep inside: named by its path
    (b'{"a\\u0000": 1}', "body"),                          # a key
])
def test_json_texts_with_nul_or_lone_surrogates_are_refused_naming_the_field(raw, field):
    status, got, message = refusal(validate.json_object, raw, 1000)
    assert (status, got) == (400, field) and "not allowed" in message
    assert validate.json_object(raw, 1000, clean=False)       # the caller that stores bytes may opt out


def test_encodable_refuses_only_what_utf8_cannot_encode():
    assert validate.encodable("a\x00b", "name") == "a\x00b"
    assert refusal(validate.encodable, "a\ud800", "name")[:2] == (400, "name")


def test_fields_a_request_does_not_have_are_refused_by_name():
    assert validate.known_fields({"username": "a"}, ("username", "password")) == {"username": "a"}
    assert refusal(validate.known_fields, {"username": "a", "pasword": "b"}, ("username", "password"))[:2] == \
        (400, "pasword")


def test_a_json_body_of_sixty_thousand_brackets_is_too_deep_not_a_crash():
    assert refusal(validate.json_object, "[" * 60000, 64 * 1024)[:2] == (400, "body")
    assert refusal(validate.json_object, '{"a":' + "[" * 60000, 10 ** 6)[:2] == (400, "body")


@pytest.mark.parametrize("raw, content_type, status, field", [
    (b"email=a%00b&password=x", None, 400, "email"),
    (b"name=%ED%A0%80", None, 400, "body"),                   # a UTF-8-encoded surrogate is not UTF-8
    (b"name=%FF", None, 400, "body"),
    (b"name=\xff", None, 400, "body"),
    (b"name=x", "application/x-www-form-urlencoded; charset=nope", 400, "body"),
    ("&".join(f"f{i}=1" for i in range(101)).encode(), None, 400, "body"),
    (b"name=" + b"x" * 2000, None, 413, "body"),
])
def test_unreadable_forms_are_refused_naming_the_field(raw, content_type, status, field):
    assert refusal(validate.form_fields, raw, 1000, content_type)[:2] == (status, field)


def test_forms_in_utf8_or_a_named_charset_are_read():
    assert validate.form_fields(b"a=1&b=%D0%AF&a=2&c=", 1000) == {"a": "2", "b": "Я", "c": ""}
    assert validate.form_fields("name=\xff".encode("latin-1"), 1000, "text/plain; charset=latin-1") == {"name": "ÿ"}


@pytest.mark.parametrize("data, charset", [(b"x", "nope"), (b"\xff", "utf-8"), (b"a\x00", None),
                                           (b"\xed\xa0\x80", None)])
def test_decoded_parts_in_an_unknown_charset_or_not_text_are_refused(data, charset):
    assert refusal(validate.decoded, data, "comment", charset)[:2] == (400, "comment")


def test_decoded_text_in_a_named_charset():
    assert validate.decoded("Я".encode("koi8-r"), "comment", "koi8-r") == "Я"
    assert validate.charset_of('multipart/form-data; boundary=x; charset="KOI8-R"') == "koi8-r"
    assert validate.charset_of("text/plain") is None


@pytest.mark.parametrize("value", ["0", "-1", "+1", " 1", "1_0", "1e3", "١", "²", "9" * 20, str(2 ** 63), "", None,
                                   1.5])
def test_identifiers_are_ascii_digits_in_the_bigint_range(value):
    status, field, message = refusal(validate.identifier, value, "file_id")
    assert (status, field) == (400, "file_id") and "from 1 to 9223372036854775807" in message


def test_identifiers_in_range_are_returned():
    assert validate.identifier("42", "id") == 42 and validate.identifier(str(2 ** 63 - 1)) == 2 ** 63 - 1
    assert validate.identifier(7, "id") == 7


def test_query_numbers_default_when_absent_and_are_bounded():
    assert validate.query_integer(None, "limit", 100, 1, 1000) == 100
    assert validate.query_integer({"limit": "5"}, "limit", 100, 1, 1000) == 5
    for bad in ("-1", "0", "1001", "", "²"):
        assert refusal(validate.query_integer, {"limit": bad}, "limit", 100, 1, 1000)[:2] == (400, "limit")


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1969-12-31", "2026-02-30", "2026-1-5", "20260105",
                                   "2026-01-05T00:00", "２０２６-01-05", "", None, 20260105])
def test_dates_outside_the_range_or_not_yyyy_mm_dd_are_refused(value):
    status, field, message = refusal(validate.date, value, "to")
    assert (status, field) == (400, "to") and "2026-01-31" in message


def test_dates_in_range_come_back_as_dates():
    import datetime
    assert validate.date("2026-01-31", "to") == datetime.date(2026, 1, 31)
    assert validate.date("9998-12-31", "to") + datetime.timedelta(days=1) == datetime.date(9999, 1, 1)


def test_every_message_is_in_commons_russian_catalog():
    catalog = i18n.COMMON_LOCALE / "ru" / "LC_MESSAGES" / "messages.po"
    with catalog.open("rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    assert set(validate.MESSAGES) <= set(translated)
    compiled = i18n.translations(i18n.COMMON_LOCALE, "ru")
    assert all(compiled.gettext(msgid) == translated[msgid] for msgid in validate.MESSAGES)
    error = refusal(validate.text, "x" * 3, "login", 2)
    assert error[2] == "login is longer than 2 characters."
