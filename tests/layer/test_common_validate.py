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


def test_every_message_is_in_commons_russian_catalog():
    catalog = i18n.COMMON_LOCALE / "ru" / "LC_MESSAGES" / "messages.po"
    with catalog.open("rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    assert set(validate.MESSAGES) <= set(translated)
    compiled = i18n.translations(i18n.COMMON_LOCALE, "ru")
    assert all(compiled.gettext(msgid) == translated[msgid] for msgid in validate.MESSAGES)
    error = refusal(validate.text, "x" * 3, "login", 2)
    assert error[2] == "login is longer than 2 characters."
